/**
 * The `EcsDrainHook` construct: its props and its wiring (the controller's functions and role,
 * the event queue, the rules, a lifecycle hook per group). The other concerns live beside it:
 * drain-monitoring.ts (metrics, alarms, dashboard), nag-acknowledgements.ts (cdk-nag),
 * synthesis-warnings.ts (other drains of the same groups), cdk-drain-hook-removal.ts (aws-cdk's
 * own drain hook) and helpers.ts (validation, the group key of hook logical IDs, formatting).
 * Only this module's exports are public (index.ts).
 */
import {
  ArnFormat, Aspects, Duration, Lazy, Names, Stack, Token,
  aws_autoscaling as autoscaling,
  aws_cloudwatch as cloudwatch,
  aws_ecs as ecs,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_event_sources as eventSources,
  aws_logs as logs,
  aws_sns as sns,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { CdkDrainHookRemoval } from './cdk-drain-hook-removal';
import { DRAIN_EVENT, ENV, EVENT, EVENT_MAX_AGE_SECONDS, METRIC } from './constants';
import { DrainControllerFunction } from './drain-controller-function';
import { drainEventRule, DrainEventType, NOTIFIED_EVENT_TYPES, notificationTarget, OnDrainEventOptions } from './drain-events';
import { DrainMetrics, createDrainAlarms, createDrainDashboard } from './drain-monitoring';
import {
  LIFECYCLE_HOOK_NAME_MAX_LENGTH, describeGroup, groupKey, heartbeatTimeoutFor, sameResolvedName, truncate,
  validateDrainTimeout, validateLifecycleHookName, validateWithinDrain,
} from './helpers';
import { acknowledgeNagFindingsAtSynthesis } from './nag-acknowledgements';
import { warnAboutOtherDrains } from './synthesis-warnings';

/** Properties of an `EcsDrainHook`. */
export interface EcsDrainHookProps {
  /**
   * The ECS cluster the groups' instances are registered in. Imported clusters work
   * (`Cluster.fromClusterAttributes`).
   */
  readonly cluster: ecs.ICluster;

  /**
   * The Auto Scaling groups whose terminating instances are drained. More can be added with
   * `addAutoScalingGroup()`; at least one is needed by synthesis time.
   *
   * @default - none yet
   */
  readonly autoScalingGroups?: autoscaling.IAutoScalingGroup[];

  /**
   * How long a drain may take. After this the container instance is force-deregistered (see
   * `forceDeregisterOnTimeout`) and the instance is released to terminate. At least 1 minute,
   * at most 47 hours 55 minutes (the lifecycle action's global timeout of 48 hours, less
   * 5 minutes to finish). The hooks' heartbeat timeout is derived from it.
   *
   * @default Duration.hours(1)
   */
  readonly drainTimeout?: Duration;

  /**
   * Whether to deregister the container instance with `force` when the drain timeout passes.
   * ECS then starts replacements of the instance's service tasks elsewhere at once. Force is used
   * only at the deadline: a deregistration ECS refuses before it (it still counts a task) means
   * "not drained yet". When false, the controller only releases the instance; ECS deregisters a
   * terminated instance itself, but not one whose agent was disconnected (DeregisterContainerInstance
   * reference), which then stays registered until someone deregisters it.
   *
   * @default true
   */
  readonly forceDeregisterOnTimeout?: boolean;

  /**
   * Whether to set an instance's container instance to DRAINING as soon as EC2 warns that the
   * Spot instance will be interrupted (two minutes ahead), before its termination lifecycle
   * action starts.
   *
   * @default true
   */
  readonly drainOnSpotInterruption?: boolean;

  /**
   * Whether to create alarms on failed controller invocations, messages in the dead-letter
   * queue and forced drains (see `alarms`; add your actions to them).
   *
   * @default false
   */
  readonly createAlarms?: boolean;

  /**
   * Whether to create a CloudWatch dashboard of drains, their duration, errors and the
   * controller's invocations.
   *
   * @default false
   */
  readonly createDashboard?: boolean;

  /**
   * How long the controller's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Whether to remove aws-cdk's own drain hook (`DrainECSHook`, which `Cluster.addCapacity()` and
   * `Cluster.addAsgCapacityProvider()` add to their groups) from the groups this construct
   * drains, so that each keeps one drain hook: this one. The removal happens at synthesis,
   * whatever order the capacity and this construct were added in, and is noted in the synthesis
   * output. When false, aws-cdk's hook stays and a warning says so.
   *
   * @default true
   */
  readonly removeCdkDrainHook?: boolean;

  /**
   * The name of the termination lifecycle hook added to every group: letters, digits, `-`, `_`
   * and `/`, at most 255 characters (PutLifecycleHook). Pin it before renaming or moving this
   * construct: the default is derived from the construct's path, and a new name makes
   * CloudFormation replace every hook, which completes the lifecycle actions waiting in the old
   * ones with CONTINUE (DeleteLifecycleHook): the instances draining at that moment terminate.
   *
   * @default - a name derived from the construct's path, unique in the account
   */
  readonly lifecycleHookName?: string;

  /**
   * How long before a drain's deadline the controller stops what still runs on the instance
   * (StopTask, with a reason naming the drain: each task gets SIGTERM and its stop timeout, and
   * ECS records why it stopped). Service tasks DRAINING has not moved by then are stopped too; their
   * services place replacements elsewhere. An instance whose tasks all stop in time is deregistered
   * without force before the deadline; at the deadline the drain is forced as without this setting.
   * Less than `drainTimeout`.
   *
   * @default - never: what runs at the deadline is left to the forced deregistration and ends with the instance
   */
  readonly stopTasksBeforeDeadline?: Duration;

  /**
   * How long a drain waits before the reconcile pass reads why it still waits, and how long
   * between two such reads of one drain. Each read costs about three ECS reads (its tasks, their
   * services); a drain of services behind load balancers with ECS's defaults (a 300 s
   * deregistration delay, a 30 s stop timeout) ends before the default. The reasons go to the
   * logs, to an `ECS Drain Waiting` event when they change, and to the `DrainsBlocked` metric.
   * At least 1 minute (the reconcile pass's period) and less than `drainTimeout`.
   *
   * @default - 10 minutes (never, with a `drainTimeout` shorter than that)
   */
  readonly diagnoseDrainsAfter?: Duration;

  /**
   * The event bus the controller publishes its drain events to (`DrainEventType`: started,
   * completed, forced, parked, without record). Catch them with `onDrainEvent()`. Delivery is at
   * least once: every event of one drain carries the same `detail.drainId`.
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * A topic told of the drains an operator must act on: forced at the deadline (a task did not
   * stop in time), or without the record that bounds them (the container instance holds the 10
   * custom attributes ECS allows), one readable message each. The construct adds a rule on the
   * event bus with the topic as its target, and CDK adds a topic policy that lets EventBridge
   * publish; an imported topic (or one encrypted with a KMS key) must allow that itself
   * (EventBridge user guide, "Amazon SNS permissions").
   *
   * @default - no notification (the events and the `DrainsForced` alarm of `createAlarms` still tell)
   */
  readonly notificationTopic?: sns.ITopic;
}

/** Defaults of `EcsDrainHookProps`, used by the code and quoted by the docs. */
const DEFAULT_DRAIN_TIMEOUT = Duration.hours(1);
const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;
const DEFAULT_DIAGNOSE_DRAINS_AFTER = Duration.minutes(10);

const RECONCILE_INTERVAL = Duration.minutes(1);
/** A batch of events is handled in seconds (plus a few seconds' waits for a refused deregistration). */
const EVENT_FUNCTION_TIMEOUT = Duration.minutes(1);
/** Events per invocation, how long the event source waits to fill a batch, and how many batches run at once. */
const EVENT_BATCH_SIZE = 100;
const EVENT_BATCHING_WINDOW = Duration.seconds(1);
const EVENT_CONCURRENCY = 5;
const EVENT_RETENTION = Duration.seconds(EVENT_MAX_AGE_SECONDS);

/**
 * Drains ECS container instances before their Auto Scaling group terminates them.
 *
 * Adds a termination lifecycle hook to each group and, for the cluster, one drain controller
 * function for events and one for the one-minute reconcile pass. For
 * each terminating instance, the controller sets the container instance to
 * DRAINING, waits until every task on it has stopped, deregisters it and completes the
 * lifecycle action. Events wake it up; a one-minute schedule repairs anything an event missed.
 */
export class EcsDrainHook extends Construct {
  /** The drain controller function that handles the events (lifecycle actions, ECS changes, Spot warnings). */
  public readonly function: lambda.IFunction;

  /**
   * The function that runs the one-minute reconcile pass: the same code, with a timeout of one
   * minute, so that a pass is over before the next one starts.
   */
  public readonly reconcileFunction: lambda.IFunction;

  /**
   * Events the controller could not handle: EventBridge deliveries that failed, and queue
   * messages received three times without success.
   */
  public readonly deadLetterQueue: sqs.IQueue;

  /** The queue the EventBridge rules deliver to, and the event function reads in batches. */
  public readonly eventQueue: sqs.IQueue;

  /** The name of the termination lifecycle hook added to every group. */
  public readonly lifecycleHookName: string;

  /** The alarms created with `createAlarms` (empty otherwise); add your actions to them. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  /** The dashboard created with `createDashboard`. */
  public readonly dashboard?: cloudwatch.Dashboard;

  /** The drain timeout. */
  public readonly drainTimeout: Duration;

  /** The heartbeat timeout of the lifecycle hooks, derived from `drainTimeout`. */
  public readonly heartbeatTimeout: Duration;

  /** The event bus of the drain events, when it is not the account's default bus. */
  public readonly eventBus?: events.IEventBus;

  private readonly cluster: ecs.ICluster;
  /** The controller's metrics of this cluster, behind the `metric…()` methods (drain-monitoring.ts). */
  private readonly metrics: DrainMetrics;
  private readonly groups: autoscaling.IAutoScalingGroup[] = [];
  private readonly removeCdkDrainHook: boolean;

  constructor(scope: Construct, id: string, props: EcsDrainHookProps) {
    super(scope, id);
    this.cluster = props.cluster;
    this.eventBus = props.eventBus;
    this.metrics = new DrainMetrics(this, this.cluster.clusterName);
    this.removeCdkDrainHook = props.removeCdkDrainHook ?? true;
    this.drainTimeout = props.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT;
    validateDrainTimeout(this.drainTimeout);
    this.heartbeatTimeout = heartbeatTimeoutFor(this.drainTimeout);
    this.lifecycleHookName = props.lifecycleHookName ?? Names.uniqueResourceName(this, { maxLength: LIFECYCLE_HOOK_NAME_MAX_LENGTH, separator: '-' });
    validateLifecycleHookName(this.lifecycleHookName);
    if (props.stopTasksBeforeDeadline) validateWithinDrain('stopTasksBeforeDeadline', props.stopTasksBeforeDeadline, this.drainTimeout);
    if (props.diagnoseDrainsAfter) validateWithinDrain('diagnoseDrainsAfter', props.diagnoseDrainsAfter, this.drainTimeout);
    // A drain timeout below the default: diagnosed only if it is still waiting at its deadline, i.e. never.
    const diagnoseDrainsAfter = props.diagnoseDrainsAfter ?? (Token.isUnresolved(this.drainTimeout.toSeconds())
      || this.drainTimeout.toSeconds() >= DEFAULT_DIAGNOSE_DRAINS_AFTER.toSeconds() ? DEFAULT_DIAGNOSE_DRAINS_AFTER : this.drainTimeout);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const groupNames = Lazy.list({ produce: () => this.groups.map(g => g.autoScalingGroupName) });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? DEFAULT_LOG_RETENTION });
    // An own role instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
    const role = new iam.Role(this, 'ControllerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Drain controller of ${this.node.path}`,
    });
    logGroup.grantWrite(role);
    const common: lambda.FunctionOptions = {
      role,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      logGroup,
      environment: {
        [ENV.CLUSTER_NAME]: this.cluster.clusterName,
        [ENV.AUTO_SCALING_GROUP_NAMES]: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.groups.map(g => g.autoScalingGroupName)) }),
        [ENV.LIFECYCLE_HOOK_NAME]: this.lifecycleHookName,
        [ENV.DRAIN_TIMEOUT_SECONDS]: this.drainTimeout.toSeconds().toString(),
        [ENV.HEARTBEAT_TIMEOUT_SECONDS]: this.heartbeatTimeout.toSeconds().toString(),
        [ENV.FORCE_DEREGISTER_ON_TIMEOUT]: String(props.forceDeregisterOnTimeout ?? true),
        [ENV.DRAIN_ON_SPOT_INTERRUPTION]: String(props.drainOnSpotInterruption ?? true),
        [ENV.METRICS_NAMESPACE]: METRIC.DEFAULT_NAMESPACE,
        ...props.eventBus ? { [ENV.EVENT_BUS_NAME]: props.eventBus.eventBusArn } : {},
        ...props.stopTasksBeforeDeadline ? { [ENV.STOP_TASKS_BEFORE_DEADLINE_SECONDS]: props.stopTasksBeforeDeadline.toSeconds().toString() } : {},
        [ENV.DIAGNOSE_DRAINS_AFTER_SECONDS]: diagnoseDrainsAfter.toSeconds().toString(),
      },
    };
    const controller = new DrainControllerFunction(this, 'Controller', {
      ...common,
      description: truncate(`Drains ECS container instances before Auto Scaling terminates them (${this.node.path})`, 256),
      timeout: EVENT_FUNCTION_TIMEOUT,
    });
    // Every event goes through one queue: the function takes them in batches, so that one
    // invocation reads for many instances at once, and a few batches at a time, so that a burst of
    // events (every task of a mass scale-in stopping) cannot use up ECS's read bucket the
    // reconcile pass needs. A message whose instance failed is delivered again after the
    // visibility timeout; after three receives it waits in the dead-letter queue.
    this.eventQueue = new sqs.Queue(this, 'EventQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // At least the function's timeout (Lambda refuses less); six times, as the Lambda developer
      // guide recommends for SQS event sources, leaves room for retries of throttled invocations.
      visibilityTimeout: Duration.seconds(6 * EVENT_FUNCTION_TIMEOUT.toSeconds()),
      // An event older than this is news the reconcile pass has acted on already.
      retentionPeriod: EVENT_RETENTION,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 3 },
    });
    controller.addEventSource(new eventSources.SqsEventSource(this.eventQueue, {
      batchSize: EVENT_BATCH_SIZE,
      maxBatchingWindow: EVENT_BATCHING_WINDOW,
      maxConcurrency: EVENT_CONCURRENCY,
      reportBatchItemFailures: true,
    }));
    const reconciler = new DrainControllerFunction(this, 'Reconciler', {
      ...common,
      description: truncate(`Reconciles the drains of ECS container instances every minute (${this.node.path})`, 256),
      // A pass reads the time left before every batch and aborts calls still in flight 5 s
      // before its timeout, so it never times out, and with a timeout of one schedule period it
      // is over before the next pass starts. No reserved concurrency: an account whose Lambda
      // quota is below 100 cannot reserve any (Lambda keeps 100 unreserved), and the stack would
      // not deploy there. Two passes still meet when the schedule's event comes twice or late
      // (EventBridge delivers at least once); every step of a pass is safe to repeat (README,
      // "Design").
      timeout: RECONCILE_INTERVAL,
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
    });
    this.function = controller;
    this.reconcileFunction = reconciler;

    this.grantControllerPermissions(controller);
    if (props.stopTasksBeforeDeadline) {
      controller.addToRolePolicy(new iam.PolicyStatement({
        sid: 'StopTasksOfTheCluster',
        // StopTask takes the task as its resource and supports the ecs:cluster condition key
        // (Service Authorization Reference, Amazon ECS): this cluster's tasks only.
        actions: ['ecs:StopTask'],
        resources: [this.clusterScopedArn('task')],
        conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
      }));
    }
    this.addTriggers(reconciler, groupNames, props.drainOnSpotInterruption ?? true);

    for (const group of props.autoScalingGroups ?? []) this.addAutoScalingGroup(group);
    if (props.notificationTopic) {
      this.onDrainEvent('DrainNotifications', {
        description: `Tells ${props.notificationTopic.node.path} of the drains of ${this.node.path} an operator must act on`,
        eventTypes: [...NOTIFIED_EVENT_TYPES],
        target: notificationTarget(props.notificationTopic),
      });
      // A drain waiting for a cause that will not resolve itself: only those Waiting events.
      this.onDrainEvent('BlockedDrainNotifications', {
        description: `Tells ${props.notificationTopic.node.path} of the drains of ${this.node.path} blocked by a cause an operator must remove`,
        eventTypes: [DrainEventType.WAITING],
        eventPattern: { detail: { blocked: [true] } },
        target: notificationTarget(props.notificationTopic, 'waiting'),
      });
    }
    const monitored = { metrics: this.metrics, controller, reconciler, deadLetterQueue: this.deadLetterQueue, drainTimeout: this.drainTimeout };
    if (props.createAlarms) this.alarms.push(...createDrainAlarms(this, monitored));
    if (props.createDashboard) this.dashboard = createDrainDashboard(this, monitored);

    // cdk-nag findings that are by design, acknowledged at synthesis (when every group is known).
    acknowledgeNagFindingsAtSynthesis(this);
    this.node.addValidation({
      validate: () => {
        warnAboutOtherDrains(this, this.groups);
        return this.groups.length === 0
          ? [`EcsDrainHook ${this.node.path} has no Auto Scaling group: pass autoScalingGroups or call addAutoScalingGroup()`]
          : this.groupsAlsoDrainedElsewhere();
      },
    });
  }

  /** Adds a termination lifecycle hook to `group` and puts its instances under the controller. */
  public addAutoScalingGroup(group: autoscaling.IAutoScalingGroup): void {
    const duplicate = this.groups.find(g => g === group || sameResolvedName(g, group));
    if (duplicate) {
      throw new Error(`Auto Scaling group ${describeGroup(group)} is already managed by EcsDrainHook ${this.node.path}`);
    }
    this.groups.push(group);
    if (this.removeCdkDrainHook) Aspects.of(group).add(new CdkDrainHookRemoval(group, this));
    const key = groupKey(group);
    const hook = new autoscaling.CfnLifecycleHook(this, `LifecycleHook-${key.readable}-${key.hash}`, {
      autoScalingGroupName: group.autoScalingGroupName,
      lifecycleHookName: this.lifecycleHookName,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      // If the controller cannot act at all, the instance still terminates after the timeout.
      defaultResult: autoscaling.DefaultResult.CONTINUE,
      heartbeatTimeout: this.heartbeatTimeout.toSeconds(),
    });
    // CloudFormation replaces a resource whose logical ID moves (and deleting a hook releases the
    // drains waiting in it), so the hook's logical ID comes from the group it drains, never from
    // its position in the list nor from this construct's path: adding, removing, reordering groups
    // or moving this construct leaves every other group's hook as it is.
    hook.overrideLogicalId(`EcsDrainHook${key.readable.slice(0, 64)}${key.hash}`);
  }

  /**
   * A rule matching the drain events of this cluster on the drain events' bus (`eventBus`), all of
   * them or those of `options.eventTypes`. Each event's `detail` names the cluster, the group, the
   * EC2 instance, its container instances, when the drain started, its deadline, the tasks left
   * and why; `detail.drainId` is the same for every event of one drain (delivery is at least once).
   *
   * @example
   * import { aws_events_targets as targets, aws_sns as sns } from 'aws-cdk-lib';
   * import { DrainEventType, EcsDrainHook } from 'cdk-ecs-drain-hook';
   *
   * declare const drain: EcsDrainHook;
   * declare const topic: sns.ITopic;
   * drain.onDrainEvent('Forced', { eventTypes: [DrainEventType.FORCED], target: new targets.SnsTopic(topic) });
   */
  public onDrainEvent(id: string, options: OnDrainEventOptions = {}): events.Rule {
    return drainEventRule(this, id, this.cluster.clusterName, this.eventBus, options);
  }

  /**
   * Drains the controller started (one per terminating or interrupted instance).
   *
   * @param props options such as period, statistic and label. `dimensionsMap` is refused: the
   * metric's only dimension, the cluster's name, is set for you.
   */
  public metricDrainsStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.drainsStarted(props);
  }

  /**
   * Drains that ended with every task stopped before the deadline.
   *
   * @param props options such as period, statistic and label. `dimensionsMap` is refused: the
   * metric's only dimension, the cluster's name, is set for you.
   */
  public metricDrainsCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.drainsCompleted(props);
  }

  /**
   * Drains that reached the drain timeout and were forced.
   *
   * @param props options such as period, statistic and label. `dimensionsMap` is refused: the
   * metric's only dimension, the cluster's name, is set for you.
   */
  public metricDrainsForced(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.drainsForced(props);
  }

  /**
   * Seconds from the start of a drain to the release of its instance.
   *
   * @param props options such as period, statistic and label. `dimensionsMap` is refused: the
   * metric's only dimension, the cluster's name, is set for you.
   */
  public metricDrainDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.drainDuration(props);
  }

  /**
   * Drains whose record ECS refused (the container instance already holds the 10 custom attributes
   * ECS allows): released when empty, but without a deadline the controller can enforce.
   *
   * @param props options such as period, statistic and label. `dimensionsMap` is refused: the
   * metric's only dimension, the cluster's name, is set for you.
   */
  public metricDrainsWithoutRecord(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.drainsWithoutRecord(props);
  }

  /**
   * Drains waiting for a cause that will not resolve itself (a standalone task, a service's
   * replacement ECS cannot place, a disconnected agent), as each reconcile pass counts them; the
   * drains are diagnosed once they have waited `diagnoseDrainsAfter`.
   *
   * @param props options such as period, statistic and label. `dimensionsMap` is refused: the
   * metric's only dimension, the cluster's name, is set for you.
   */
  public metricDrainsBlocked(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.drainsBlocked(props);
  }

  /**
   * AWS calls or events the controller could not handle.
   *
   * @param props options such as period, statistic and label. `dimensionsMap` is refused: the
   * metric's only dimension, the cluster's name, is set for you.
   */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.errors(props);
  }

  /** arn:…:ecs:…:RESOURCE/CLUSTER/*: every container instance or task of this cluster. */
  private clusterScopedArn(resource: 'container-instance' | 'task' | 'service'): string {
    return Stack.of(this).formatArn({
      service: 'ecs',
      resource,
      resourceName: `${this.cluster.clusterName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  private grantControllerPermissions(controller: lambda.Function): void {
    const clusterScoped = (resource: 'container-instance' | 'task') => this.clusterScopedArn(resource);
    controller.addToRolePolicy(new iam.PolicyStatement({
      sid: 'DrainContainerInstancesOfTheCluster',
      actions: [
        'ecs:DescribeContainerInstances',
        'ecs:UpdateContainerInstancesState',
        'ecs:PutAttributes',
        // Removes the parked marker of a registration back from the warm pool.
        'ecs:DeleteAttributes',
      ],
      resources: [clusterScoped('container-instance')],
    }));
    controller.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ListTasksOfTheCluster',
      // A listing of the whole cluster (a pass over many instances) names no container instance,
      // so IAM authorizes it on resource '*' (cdklabs/construct-hub#1207): '*' is unavoidable,
      // and the ecs:cluster condition key, which ListTasks supports with or without a container
      // instance (Service Authorization Reference, ECS), keeps it to this cluster. The per-instance
      // listing is covered by the same grant, as in aws-cdk's InstanceDrainHook.
      actions: ['ecs:ListTasks'],
      resources: ['*'],
      conditions: { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } },
    }));
    controller.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadTasksOfTheCluster',
      actions: ['ecs:DescribeTasks'],
      resources: [clusterScoped('task')],
    }));
    controller.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadServicesOfTheCluster',
      // Why a drain waits: the services of its tasks (their events, their scheduling strategy).
      // DescribeServices takes the service as its resource (Service Authorization Reference, ECS).
      actions: ['ecs:DescribeServices'],
      resources: [this.clusterScopedArn('service')],
    }));
    controller.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ListAndDeregisterInTheCluster',
      // Both actions take the cluster as their resource (Service Authorization Reference, ECS).
      actions: ['ecs:ListContainerInstances', 'ecs:DeregisterContainerInstance'],
      resources: [this.cluster.clusterArn],
    }));
    controller.addToRolePolicy(new iam.PolicyStatement({
      sid: 'CompleteLifecycleActionsOfManagedGroups',
      actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      resources: Lazy.list({ produce: () => this.groups.map(g => g.autoScalingGroupArn) }),
    }));
    controller.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadAutoScalingState',
      // Describe* of Auto Scaling support no resource-level permissions, so '*' is the only
      // resource they accept (Service Authorization Reference, Amazon EC2 Auto Scaling).
      actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeWarmPool'],
      resources: ['*'],
    }));
    controller.addToRolePolicy(new iam.PolicyStatement({
      sid: 'PublishDrainEvents',
      // The bus's ARN is PutEvents' resource, and events:source one of its condition keys
      // (Service Authorization Reference, Amazon EventBridge): the role publishes the drain events
      // and nothing else.
      actions: ['events:PutEvents'],
      resources: [this.eventBus?.eventBusArn ?? Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
      conditions: { StringEquals: { 'events:source': DRAIN_EVENT.SOURCE } },
    }));
  }

  private addTriggers(reconciler: lambda.IFunction, groupNames: string[], drainOnSpot: boolean): void {
    const target = new targets.SqsQueue(this.eventQueue, {
      deadLetterQueue: this.deadLetterQueue,
      maxEventAge: EVENT_RETENTION,
      retryAttempts: 8,
    });
    new events.Rule(this, 'LifecycleActionRule', {
      description: `Starts a drain when a managed group's instance waits in ${this.lifecycleHookName}`,
      eventPattern: {
        source: [EVENT.AUTOSCALING_SOURCE],
        detailType: [EVENT.LIFECYCLE_ACTION],
        detail: {
          AutoScalingGroupName: groupNames,
          LifecycleHookName: [this.lifecycleHookName],
        },
      },
      targets: [target],
    });
    new events.Rule(this, 'ContainerInstanceDrainingRule', {
      description: 'Checks a draining container instance of the cluster when ECS reports a change of it',
      eventPattern: {
        source: [EVENT.ECS_SOURCE],
        detailType: [EVENT.CONTAINER_INSTANCE_STATE_CHANGE],
        detail: { clusterArn: [this.cluster.clusterArn], status: ['DRAINING'] },
      },
      targets: [target],
    });
    new events.Rule(this, 'TaskStoppedRule', {
      description: 'Checks the container instance of a task of the cluster that stopped: the last one ends a drain',
      // ECS sends no container instance event when a task already told to stop reaches STOPPED
      // (ECS developer guide, container instance state change events); a task state change event
      // reports it (task state change events). EventBridge cannot match on the instance's status,
      // so every EC2 task of the cluster that stops is one queue message; a batch of them costs
      // one read of their container instances (README, "Operating it").
      eventPattern: {
        source: [EVENT.ECS_SOURCE],
        detailType: [EVENT.TASK_STATE_CHANGE],
        detail: { clusterArn: [this.cluster.clusterArn], lastStatus: ['STOPPED'], containerInstanceArn: [{ exists: true }] },
      },
      targets: [target],
    });
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconciles every terminating instance of the managed groups: repairs lost events, enforces deadlines',
      schedule: events.Schedule.rate(RECONCILE_INTERVAL),
      // A missed pass is repeated by the next one a minute later: no retries, no dead letters.
      targets: [new targets.LambdaFunction(reconciler, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
    if (drainOnSpot) {
      new events.Rule(this, 'SpotInterruptionRule', {
        description: 'Sets DRAINING as soon as a Spot instance of a managed group is warned of interruption',
        eventPattern: { source: [EVENT.EC2_SOURCE], detailType: [EVENT.SPOT_INTERRUPTION] },
        targets: [target],
      });
    }
  }

  /**
   * Two drain hooks on one group would each drain and complete its instances' lifecycle actions:
   * one per group, across the whole app.
   */
  private groupsAlsoDrainedElsewhere(): string[] {
    const others = this.node.root.node.findAll()
      .filter((c: IConstruct): c is EcsDrainHook => c instanceof EcsDrainHook && c !== this);
    return others.flatMap(other => this.groups
      .filter(group => other.groups.some(g => g === group || sameResolvedName(g, group)))
      .map(group => {
        const [first, second] = [this.node.path, other.node.path].sort();
        return `Auto Scaling group ${describeGroup(group)} is drained by two EcsDrainHooks, ${first} and ${second}: `
          + 'a group takes one EcsDrainHook. Add it to one of them only.';
      }));
  }
}

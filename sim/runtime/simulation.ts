/**
 * One simulated AWS account in this process: the clock, virtual time, the emulator, the deployed
 * assembly, Lambda, EventBridge and the driver, wired together and torn down together.
 * `simulate`, the e2e tests and later `bench`/`chaos` commands all start from here.
 */
import { SimClock } from '../clock';
import { AwsEmulator, AwsEmulatorOptions, ContainerInstanceEventMode, PutEventsOptions, UnkindOptions } from '../emulator';
import { CloudModel, deployToEmulator, EventSourceMappingSpec, loadAssembly, QueueSpec } from './assembly';
import { ActivityProbe, Driver, RunResult } from './driver';
import { EventBridge, EventBridgeFaults, QueueDelivery, QueueDeliveryResult, TargetDeliveryResult, TopicDelivery } from './eventbridge';
import { principalOf, RoleSpec } from './iam-roles';
import { SIM_ACCOUNT, SIM_REGION } from './intrinsics';
import { FunctionStats, LambdaFaults, LambdaRuntime } from './lambda';
import { OutboundHttp } from './outbound-http';
import { Sns, SnsError, SnsMessage } from './sns';
import { QueueStats, Sqs, SqsError } from './sqs';
import {
  checkEventSourceMapping, EventSourceMappingRefusal, MappingCheckContext, MappingStats, ResourceDeploymentError, roleContext, rolePrincipal,
  SqsEventSources,
} from './sqs-event-source';
import { queueDependencyOrder, StackUpdateResult, updateStacks } from './stack-update';
import { installVirtualTime } from './virtual-time';
import { ENV } from '../../src/constants';
import type { BucketSpec } from '../emulator/throttling';

export interface SimulationOptions {
  /** A synthesized cloud assembly directory (cdk.out). */
  readonly assemblyDirectory: string;
  readonly seed?: number;
  /** @default true */
  readonly throttling?: boolean | BucketSpec;
  readonly emulatorFaults?: { errorRate?: number; latencyMs?: [number, number] };
  readonly eventFaults?: EventBridgeFaults;
  /**
   * The emulator's PutEvents (AwsEmulatorOptions.putEvents): injected whole-call InternalException
   * and per-entry InternalFailure rates (off by default), and what an entry naming a bus that does
   * not exist gets (`accept`, as AWS, by default).
   */
  readonly putEvents?: PutEventsOptions;
  readonly lambdaFaults?: LambdaFaults;
  /**
   * Lambda's concurrent executions quota for the simulated account and Region ("Lambda quotas").
   * @default 1000
   */
  readonly lambdaAccountConcurrencyLimit?: number;
  /** Where the functions' console output goes; none: kept in memory only. */
  readonly logDirectory?: string;
  /**
   * Which changes emit "ECS Container Instance State Change" (AwsEmulatorOptions.containerInstanceEvents):
   * only what the ECS developer guide documents, or (`every-change`, to compare) every change of a
   * registration, including a stopping task reaching STOPPED, which ECS does not document.
   * @default 'documented'
   */
  readonly containerInstanceEvents?: ContainerInstanceEventMode;
  /**
   * Amazon SQS and the Lambda event source mappings of SQS queues (runtime/sqs.ts,
   * runtime/sqs-event-source.ts): the options for what AWS documents but does not quantify.
   */
  readonly sqs?: SqsSimulationOptions;
  /**
   * The emulator's unkind options (AwsEmulatorOptions, emulator/unkind.ts): stale reads, a lifecycle
   * action not yet visible, resources released at desired STOPPED, the narrow deregistration
   * refusal, draining replacement by deployment configuration, longer STOPPED task visibility,
   * background churn. Each off by default. Late event redeliveries are `eventFaults.redeliveries`,
   * Lambda's duplicates `lambdaFaults.duplicateRate`.
   */
  readonly unkind?: UnkindOptions;
  /** Builds the emulator (a test may wrap or subclass it); default: `new AwsEmulator(options)`. */
  readonly createEmulator?: (options: AwsEmulatorOptions) => AwsEmulator;
}

export interface SqsSimulationOptions {
  /** Probability that a DeleteMessage leaves a copy that is received again (at-least-once delivery). @default 0 */
  readonly duplicateRate?: number;
  /** Probability that a receive takes a message other than the one visible longest (best-effort ordering). @default 0 */
  readonly outOfOrderRate?: number;
  /** In-flight messages per queue past which a receive returns none. @default 120000 */
  readonly inFlightLimit?: number;
  /** Which waiting poller of a mapping gets newly visible messages. @default 'random' */
  readonly receiveDistribution?: 'random' | 'fill-first';
}

/** The sender EventBridge's messages carry (`SenderId`); AWS's own value is not documented. */
const EVENTBRIDGE_SENDER_ID = 'events.amazonaws.com';

export class Simulation {
  /** Starts everything and deploys the assembly. Only one simulation may run per process. */
  static async start(options: SimulationOptions): Promise<Simulation> {
    const simulation = new Simulation(options);
    await simulation.init();
    return simulation;
  }

  readonly clock = new SimClock();
  readonly emulator: AwsEmulator;
  readonly eventBridge: EventBridge;
  readonly driver: Driver;
  /** The account's SQS queues (standard queues only). */
  readonly sqs: Sqs;
  /** The account's SNS topics (standard topics): what EventBridge published to each. */
  readonly sns: Sns;
  lambda!: LambdaRuntime;
  /** The emulator's loopback endpoint (ECS, Auto Scaling, EventBridge), for clients outside any invocation. */
  endpoint!: string;
  /** The Lambda event source mappings of SQS queues and their pollers. */
  eventSources!: SqsEventSources;
  private readonly http = new OutboundHttp();
  private readonly teardown: Array<() => void> = [];
  private readonly seed: number;
  private deployed: CloudModel;
  /** The execution roles deployed now, by ARN: IAM evaluates a request against the role's policies as they are then. */
  private roles = new Map<string, RoleSpec>();

  private constructor(private readonly options: SimulationOptions) {
    this.seed = options.seed ?? 1;
    this.deployed = loadAssembly(options.assemblyDirectory);
    this.roles = rolesOf(this.deployed);
    this.teardown.push(installVirtualTime(this.clock, {
      onTimerError: error => this.lambda.onTimerError(error),
      onTimerSet: () => this.lambda?.onTimerSet(),
    }));
    this.teardown.push(this.http.install());
    const create = options.createEmulator ?? ((o: AwsEmulatorOptions) => new AwsEmulator(o));
    this.sqs = new Sqs({
      clock: this.clock,
      seed: this.seed,
      duplicateRate: options.sqs?.duplicateRate,
      outOfOrderRate: options.sqs?.outOfOrderRate,
      inFlightLimit: options.sqs?.inFlightLimit,
    });
    this.sns = new Sns({ now: () => this.clock.now(), seed: this.seed });
    this.eventBridge = new EventBridge({
      clock: this.clock,
      seed: this.seed,
      faults: options.eventFaults,
      deliverToQueue: delivery => this.deliverToQueue(delivery),
      deliverToTopic: delivery => this.deliverToTopic(delivery),
      invokeFunction: (name, payload) => {
        // A target whose function a stack update deleted: nothing to deliver to.
        if (!this.lambda.hasFunction(name)) return false;
        this.lambda.invokeAsync(name, payload);
        return true;
      },
    });
    this.emulator = create({
      clock: this.clock,
      region: SIM_REGION,
      accountId: SIM_ACCOUNT,
      seed: this.seed,
      throttling: options.throttling ?? true,
      faults: { errorRate: options.emulatorFaults?.errorRate ?? 0, latencyMs: options.emulatorFaults?.latencyMs ?? [0, 0] },
      onEvent: event => this.eventBridge.putEvent(event),
      onPutEvent: (event, bus) => this.eventBridge.putEvent(event, bus),
      ...(options.putEvents ? { putEvents: options.putEvents } : {}),
      containerInstanceEvents: options.containerInstanceEvents ?? 'documented',
      ...options.unkind,
    });
    const emulator = this.emulator;
    const emulatorProbe: ActivityProbe = {
      get busy() { return emulator.busyRequests; },
      get activity() { return emulator.activity; },
    };
    this.driver = new Driver(this.clock, [emulatorProbe]);
  }

  /** What is deployed now: the assembly the simulation started with, as `update` changed it since. */
  get model(): CloudModel {
    return this.deployed;
  }

  /**
   * `cdk deploy` again, with the assembly synthesized in `assemblyDirectory`: a CloudFormation stack
   * update of every stack it holds, applied now in virtual time (runtime/stack-update.ts: the
   * change set per stack by logical ID, creates before the cleanup's deletions, a failure rolls the
   * stack back leaving nothing changed). Throws, changing nothing, for an update the emulator does
   * not model (StackUpdateNotModelled) or one CloudFormation refuses before it starts.
   */
  update(assemblyDirectory: string): StackUpdateResult {
    const next = loadAssembly(assemblyDirectory);
    const { result, model } = updateStacks(this.deployed, next, {
      world: this.emulator,
      lambda: this.lambda,
      eventBridge: this.eventBridge,
      sqs: this.sqs,
      sns: this.sns,
      eventSources: this.eventSources,
    });
    this.deployed = model;
    this.roles = rolesOf(model);
    return result;
  }

  /** Statistics of every queue, by queue name (deleted queues included). */
  get queues(): Record<string, QueueStats> {
    return Object.fromEntries(Object.entries(this.sqs.allStats()).map(([arn, stats]) => [arn.slice(arn.lastIndexOf(':') + 1), stats]));
  }

  /** The statistics of a queue, by name or ARN. */
  queueStats(nameOrArn: string): QueueStats {
    return this.sqs.stats(nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:sqs:${SIM_REGION}:${SIM_ACCOUNT}:${nameOrArn}`);
  }

  /** What EventBridge published to a topic, by name or ARN (a deleted topic's too), in order. */
  topicMessages(nameOrArn: string): readonly SnsMessage[] {
    return this.sns.messages(nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:sns:${SIM_REGION}:${SIM_ACCOUNT}:${nameOrArn}`);
  }

  /** The statistics of an event source mapping, by its logical ID (in any stack) or UUID. */
  mappingStats(logicalIdOrUuid: string): MappingStats {
    const spec = this.model.eventSourceMappings.find(m => m.logicalId === logicalIdOrUuid || m.uuid === logicalIdOrUuid);
    return this.eventSources.stats(spec?.uuid ?? logicalIdOrUuid);
  }

  /**
   * The functions of the assembly that are drain controllers (they carry the cluster variable):
   * the event function and the reconcile function.
   */
  drainFunctionNames(): string[] {
    return this.model.functions.filter(f => f.environment[ENV.CLUSTER_NAME] !== undefined).map(f => f.name);
  }

  /** The drain controller function that event-pattern rules target (lifecycle actions, ECS changes, Spot). */
  eventFunctionName(): string | undefined {
    const drain = new Set(this.drainFunctionNames());
    // A queue target stands for the functions its event source mappings invoke.
    const viaQueue = (queueArn: string) => this.model.eventSourceMappings.filter(m => m.eventSourceArn === queueArn).map(m => m.functionName);
    return this.model.rules.filter(r => r.eventPattern !== undefined)
      .flatMap(r => r.targets.flatMap(t => (t.functionName ? [t.functionName] : t.queueArn ? viaQueue(t.queueArn) : [])))
      .find(name => drain.has(name));
  }

  /** Lambda statistics summed over the drain controller functions (peak concurrency: the larger peak). */
  drainFunctionStats(): FunctionStats {
    const all = this.drainFunctionNames().map(name => this.lambda.stats(name));
    const sum = (key: keyof FunctionStats) => all.reduce((total, stats) => total + stats[key], 0);
    return {
      invocations: sum('invocations'),
      errors: sum('errors'),
      timeouts: sum('timeouts'),
      crashes: sum('crashes'),
      busyMs: sum('busyMs'),
      environments: sum('environments'),
      throttles: sum('throttles'),
      peakConcurrency: Math.max(0, ...all.map(stats => stats.peakConcurrency)),
    };
  }

  /** The function's environment variable (the first function that sets it). */
  functionEnv(name: string): string | undefined {
    return this.model.functions.find(f => f.environment[name] !== undefined)?.environment[name];
  }

  runUntil(done: () => boolean, maxSimMs: number): Promise<RunResult> {
    return this.driver.runUntil(done, { maxSimMs });
  }

  runFor(ms: number): Promise<RunResult> {
    return this.driver.runFor(ms);
  }

  /** Stops schedules, writes logs, closes the emulator, restores real time and http. */
  stop(): void {
    this.eventBridge.stop();
    this.eventSources?.stopAll();
    this.lambda?.close();
    this.emulator.close();
    for (const undo of this.teardown.splice(0).reverse()) undo();
  }

  /**
   * The first deployment's queues (dead-letter queues before the queues that name them), queue
   * policies and event source mappings, each refused as CreateQueue, SetQueueAttributes and
   * CreateEventSourceMapping refuse it: a ResourceDeploymentError, as CloudFormation reports it.
   */
  private deploySqs(model: CloudModel): void {
    const queueType = 'AWS::SQS::Queue';
    const arns = new Set(model.queues.map(q => q.arn));
    const seen = new Map<string, QueueSpec>();
    for (const queue of model.queues) {
      const first = seen.get(queue.arn);
      if (first) {
        throw new ResourceDeploymentError(queue.stackName, queue.logicalId, queueType, 'AlreadyExists',
          `Queue ${queue.name} already exists (created as ${first.logicalId})`);
      }
      seen.set(queue.arn, queue);
      try {
        this.sqs.checkQueue(queue, arns);
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        throw new ResourceDeploymentError(queue.stackName, queue.logicalId, queueType, 'InvalidRequest', `${error.message} (Service: Sqs, Status Code: 400)`);
      }
    }
    for (const queue of queueDependencyOrder(model.queues)) this.sqs.createQueue(queue);
    for (const policy of model.queuePolicies) {
      const parsed = this.sqs.checkPolicy(`${policy.stackName}/${policy.logicalId}`, policy.document);
      for (const url of policy.queueUrls) {
        const arn = this.sqs.arnOfUrl(url);
        if (!arn) {
          throw new ResourceDeploymentError(policy.stackName, policy.logicalId, 'AWS::SQS::QueuePolicy', 'NotFound',
            `The specified queue does not exist: ${url} (Service: Sqs, Status Code: 400)`);
        }
        this.sqs.setPolicy(arn, parsed);
      }
    }
    const made: EventSourceMappingSpec[] = [];
    for (const mapping of model.eventSourceMappings) {
      try {
        checkEventSourceMapping(mapping, this.mappingCheckContext(model, mapping, made));
      } catch (error) {
        if (!(error instanceof EventSourceMappingRefusal)) throw error;
        throw new ResourceDeploymentError(mapping.stackName, mapping.logicalId, 'AWS::Lambda::EventSourceMapping', error.handlerErrorCode, error.handlerMessage);
      }
      made.push(mapping);
      this.eventSources.add(mapping);
    }
  }

  /**
   * What a mapping's check sees: the function and the queue as `model` has them (else the queue as
   * the SQS runtime has it), the role's policies in `model`, the queue's policy as set now.
   */
  mappingCheckContext(model: CloudModel, mapping: EventSourceMappingSpec, otherMappings: readonly EventSourceMappingSpec[]): MappingCheckContext {
    const fn = model.functions.find(f => f.name === mapping.functionName);
    const queue = model.queues.find(q => q.arn === mapping.eventSourceArn) ?? this.sqs.spec(mapping.eventSourceArn);
    return {
      fn,
      queue,
      otherMappings,
      roleMayCall: (action: string) => fn !== undefined
        && this.sqs.authorize(mapping.eventSourceArn, rolePrincipal(fn), `sqs:${action}`, roleContext(fn), fn.role.policies) === 'allow',
    };
  }

  /** EventBridge sends to a queue as `events.amazonaws.com`: the queue's policy decides. */
  private deliverToQueue(delivery: QueueDelivery): QueueDeliveryResult {
    if (!this.sqs.hasQueue(delivery.queueArn)) {
      return { ok: false, errorCode: 'NO_RESOURCE', errorMessage: `The specified queue does not exist: ${delivery.queueArn}`, retriable: false };
    }
    const decision = this.sqs.authorize(delivery.queueArn, { kind: 'service', service: 'events.amazonaws.com' }, 'sqs:SendMessage',
      { 'aws:SourceArn': delivery.ruleArn, 'aws:SourceAccount': SIM_ACCOUNT });
    if (decision !== 'allow') return notAuthorized('sqs:SendMessage', delivery.queueArn);
    const attributes = Object.fromEntries(Object.entries(delivery.messageAttributes ?? {})
      .map(([name, value]) => [name, { DataType: 'String' as const, StringValue: value }]));
    this.sqs.sendMessage(delivery.queueArn, delivery.body, { senderId: EVENTBRIDGE_SENDER_ID, messageAttributes: attributes });
    return { ok: true };
  }

  /** EventBridge publishes to a topic as `events.amazonaws.com`: the topic's policy decides. */
  private deliverToTopic(delivery: TopicDelivery): TargetDeliveryResult {
    if (!this.sns.hasTopic(delivery.topicArn)) {
      return { ok: false, errorCode: 'NO_RESOURCE', errorMessage: `Topic does not exist: ${delivery.topicArn}`, retriable: false };
    }
    const decision = this.sns.authorize(delivery.topicArn, { kind: 'service', service: 'events.amazonaws.com' }, 'sns:Publish',
      { 'aws:SourceArn': delivery.ruleArn, 'aws:SourceAccount': SIM_ACCOUNT });
    if (decision !== 'allow') return notAuthorized('sns:Publish', delivery.topicArn);
    this.sns.publish(delivery.topicArn, delivery.message, { publisher: 'events.amazonaws.com', sourceArn: delivery.ruleArn });
    return { ok: true };
  }

  /** The first deployment's topics and topic policies, refused as CreateTopic and SetTopicAttributes refuse them. */
  private deploySns(model: CloudModel): void {
    for (const topic of model.topics) {
      try {
        this.sns.createTopic(topic);
      } catch (error) {
        if (!(error instanceof SnsError)) throw error;
        throw new ResourceDeploymentError(topic.stackName, topic.logicalId, 'AWS::SNS::Topic', 'AlreadyExists', error.message);
      }
    }
    for (const policy of model.topicPolicies) {
      const parsed = this.sns.checkPolicy(`${policy.stackName}/${policy.logicalId}`, policy.document);
      for (const arn of policy.topicArns) {
        if (!this.sns.hasTopic(arn)) {
          throw new ResourceDeploymentError(policy.stackName, policy.logicalId, 'AWS::SNS::TopicPolicy', 'NotFound', `Topic does not exist: ${arn}`);
        }
        this.sns.setPolicy(arn, parsed);
      }
    }
  }

  private async init(): Promise<void> {
    try {
      const { endpoint } = await this.emulator.listen();
      this.endpoint = endpoint;
      this.lambda = new LambdaRuntime({
        clock: this.clock,
        endpoint,
        http: this.http,
        seed: this.seed,
        faults: this.options.lambdaFaults,
        logDirectory: this.options.logDirectory,
        accountConcurrencyLimit: this.options.lambdaAccountConcurrencyLimit,
      });
      this.emulator.onRequest = this.lambda.onRequest;
      // IAM on every request an invocation sends: it acts as its function's execution role.
      const lambda = this.lambda;
      // The role is the one the invocation started with; its policies are the role's now (a stack
      // update may have changed them; IAM evaluates each request as the policies then are). A role
      // deleted since has none left.
      this.emulator.identify = invocationId => {
        const fn = lambda.functionOf(invocationId);
        if (!fn) return undefined;
        return principalOf(this.roles.get(fn.role.arn) ?? { ...fn.role, policies: [] }, fn.name, SIM_ACCOUNT);
      };
      this.driver.addProbe(this.lambda);
      deployToEmulator(this.model, this.emulator);
      for (const fn of this.model.functions) this.lambda.addFunction(fn);
      this.eventSources = new SqsEventSources({
        clock: this.clock,
        sqs: this.sqs,
        lambda: this.lambda,
        seed: this.seed,
        functionSpec: name => this.model.functions.find(f => f.name === name),
        rolePolicies: fn => this.roles.get(fn.role.arn)?.policies ?? [],
        receiveDistribution: this.options.sqs?.receiveDistribution,
      });
      this.deploySqs(this.model);
      this.deploySns(this.model);
      for (const rule of this.model.rules) this.eventBridge.addRule(rule);
    } catch (error) {
      this.stop();
      throw error;
    }
  }
}

function rolesOf(model: CloudModel): Map<string, RoleSpec> {
  return new Map(model.functions.map(fn => [fn.role.arn, fn.role]));
}

/** A delivery the target's resource policy refused to EventBridge: not retried (EventBridge user guide, "How EventBridge retries delivering events"). */
function notAuthorized(action: string, resourceArn: string): { ok: false; errorCode: string; retriable: false; errorMessage: string } {
  return { ok: false, errorCode: 'NO_PERMISSIONS', retriable: false, errorMessage: `events.amazonaws.com is not authorized to perform: ${action} on resource: ${resourceArn}` };
}

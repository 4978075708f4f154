/**
 * Thin adapters over the ECS and Auto Scaling APIs: batching, paging, the answers that mean
 * "already done", and per-item fallbacks so that one instance's refusal never fails a batch
 * shared with others. No decisions here (see decide/).
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  paginateDescribeAutoScalingGroups,
  paginateDescribeAutoScalingInstances,
  paginateDescribeWarmPool,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  ContainerInstance,
  DeleteAttributesCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  paginateListContainerInstances,
  paginateListTasks,
  PutAttributesCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DrainEventEntry } from './drain-events';
import { markerOf } from './drain-record';
import { abortError, isClientError, isClusterNotFound, isGoneRegistration, isItemSpecific, isNoActiveLifecycleAction } from './errors';
import { ContainerInstanceView, GroupInstance, registrationsByInstance, resourcesReleased, ServiceView, TaskView } from './model';
import { ATTRIBUTE } from '../src/constants';

/** API limits per call (ECS and Auto Scaling API references). */
export const LIMITS = {
  describeContainerInstances: 100,
  describeTasks: 100,
  updateContainerInstancesState: 10,
  putAttributes: 10,
  describeAutoScalingInstances: 50,
  describeAutoScalingGroups: 100,
  /** DescribeWarmPool: "The maximum value is 50" (API reference). */
  describeWarmPool: 50,
  /** EC2 instance ids per `ec2InstanceId in [...]` cluster query, keeping the filter short. */
  instanceIdsPerFilter: 20,
  /** Above this many instances, and before any cluster-wide task listing tells its cost, one replaces per-instance listings. */
  perInstanceTaskListings: 20,
  /** Calls the controller has in flight at once. */
  concurrency: 8,
  /** PutEvents: "1 to 10 entries" per call (EventBridge API reference, PutEvents). */
  putEvents: 10,
  /** DescribeServices: "You may specify up to 10 services to describe" (ECS API reference). */
  describeServices: 10,
};

/**
 * The words of the service event message ECS sends when it cannot place a task ("service NAME was
 * unable to place a task because no container instance met all of its requirements": ECS developer
 * guide, "Amazon ECS service event messages").
 */
export const UNABLE_TO_PLACE = 'was unable to place a task';

export interface DrainingFailure {
  readonly arn?: string;
  readonly reason?: string;
  readonly detail?: string;
}

/** What a batched write could not do, per item. */
export type ItemErrors = Map<string, unknown>;

/** The stopping tasks of some container instances, from one read shared by whoever needs it. */
export type StoppingTasks = Map<string, TaskView[]>;

export type DeregisterAnswer = 'deregistered' | 'gone' | 'refused';

/** An event EventBridge did not take: its whole call failed, or it refused the entry (FailedEntryCount, Entries[].ErrorCode). */
export interface NotPublished {
  readonly entry: DrainEventEntry;
  readonly errorCode: string;
  readonly errorMessage?: string;
}

export class ClusterApi {
  constructor(
    private readonly ecs: ECSClient,
    private readonly autoScaling: AutoScalingClient,
    private readonly cluster: string,
    /** Aborts every call in flight when a bounded pass runs out of time. */
    private readonly signal?: AbortSignal,
    /** Where the drain events go; without it, nothing is published. */
    private readonly events?: EventBridgeClient,
  ) {}

  /** The same API whose calls are aborted by `signal`. */
  bounded(signal: AbortSignal): ClusterApi {
    return new ClusterApi(this.ecs, this.autoScaling, this.cluster, signal, this.events);
  }

  /** The same API, publishing its drain events with `events`. */
  publishingWith(events: EventBridgeClient): ClusterApi {
    return new ClusterApi(this.ecs, this.autoScaling, this.cluster, this.signal, events);
  }

  /**
   * Publishes drain events, at most 10 a call (PutEvents), and returns what EventBridge did not
   * take; never throws. A call that fails leaves each of its entries unpublished; a successful
   * call may still refuse single entries (its answer's Entries carry an ErrorCode, in the order
   * of the request: PutEvents reference).
   */
  async putEvents(entries: readonly DrainEventEntry[]): Promise<NotPublished[]> {
    const events = this.events;
    if (events === undefined || entries.length === 0) return [];
    const notPublished: NotPublished[] = [];
    await forEachLimited(chunk(entries, LIMITS.putEvents), async batch => {
      try {
        const command = new PutEventsCommand({ Entries: batch.map(entry => ({ ...entry, Resources: [...entry.Resources] })) });
        const answer = await events.send(command, this.options());
        (answer.Entries ?? []).forEach((result, i) => {
          if (result.ErrorCode !== undefined && batch[i] !== undefined) {
            notPublished.push({ entry: batch[i], errorCode: result.ErrorCode, errorMessage: result.ErrorMessage });
          }
        });
      } catch (error) {
        const errorCode = (error as { name?: string }).name ?? 'Error';
        for (const entry of batch) notPublished.push({ entry, errorCode, errorMessage: (error as Error).message });
      }
    });
    return notPublished;
  }

  /**
   * Waits `ms` between calls; a bounded pass's abort ends the wait at once with an AbortError, as
   * it ends a call in flight (a wait must not carry a pass past its timeout either).
   */
  pause(ms: number): Promise<void> {
    const signal = this.signal;
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Every instance of the named groups with its lifecycle state, all pages, warm pools included:
   * DescribeAutoScalingGroups lists no instance in a `Warmed:*` state (one going back to the warm
   * pool waits in `Warmed:Pending:Wait`), only DescribeWarmPool does (PutWarmPool reference: "You
   * can view the instances in the warm pool using the DescribeWarmPool API call"). It is asked only
   * for groups that report a WarmPoolConfiguration.
   */
  async instancesOfGroups(groupNames: readonly string[]): Promise<GroupInstance[]> {
    const result: GroupInstance[] = [];
    const withWarmPool: string[] = [];
    for (const names of chunk(groupNames, LIMITS.describeAutoScalingGroups)) {
      const pages = paginateDescribeAutoScalingGroups(
        paging(this.autoScaling, LIMITS.describeAutoScalingGroups), { AutoScalingGroupNames: names }, this.options());
      for await (const page of pages) {
        for (const group of page.AutoScalingGroups ?? []) {
          result.push(...instancesOf(group.AutoScalingGroupName!, group.Instances));
          if (group.WarmPoolConfiguration) withWarmPool.push(group.AutoScalingGroupName!);
        }
      }
    }
    for (const groupName of withWarmPool) {
      const pages = paginateDescribeWarmPool(paging(this.autoScaling, LIMITS.describeWarmPool), { AutoScalingGroupName: groupName }, this.options());
      for await (const page of pages) result.push(...instancesOf(groupName, page.Instances));
    }
    return result;
  }

  /** The group and lifecycle state of each instance Auto Scaling knows; others are absent. All pages. */
  async autoScalingInstances(instanceIds: readonly string[]): Promise<Map<string, GroupInstance>> {
    const result = new Map<string, GroupInstance>();
    await forEachLimited(chunk(instanceIds, LIMITS.describeAutoScalingInstances), async ids => {
      const pages = paginateDescribeAutoScalingInstances(
        paging(this.autoScaling, LIMITS.describeAutoScalingInstances), { InstanceIds: ids }, this.options());
      for await (const page of pages) {
        for (const i of page.AutoScalingInstances ?? []) {
          result.set(i.InstanceId!, { instanceId: i.InstanceId!, groupName: i.AutoScalingGroupName!, lifecycleState: i.LifecycleState! });
        }
      }
    });
    return result;
  }

  /**
   * Every registration that is not INACTIVE of each EC2 instance, found with the cluster query
   * language and read in full. Paged: clusters of more than 100 instances have more than one
   * page (aws-samples/ecs-cid-sample#7).
   */
  async registrationsOf(instanceIds: readonly string[]): Promise<Map<string, ContainerInstanceView[]>> {
    return registrationsByInstance(instanceIds, await this.describeContainerInstances(await this.registrationArnsOf(instanceIds)));
  }

  /** The ARNs of every registration of each EC2 instance that is not INACTIVE (or that has `status`). */
  async registrationArnsOf(instanceIds: readonly string[], status?: 'ACTIVE'): Promise<string[]> {
    const arns: string[] = [];
    await forEachLimited(chunk(instanceIds, LIMITS.instanceIdsPerFilter), async ids => {
      arns.push(...await this.listContainerInstances({ filter: `ec2InstanceId in [${ids.join(', ')}]`, ...status ? { status } : {} }));
    });
    return arns;
  }

  /** Every DRAINING container instance of the cluster, read in full (a reconcile pass starts here). */
  async drainingContainerInstances(): Promise<ContainerInstanceView[]> {
    return this.describeContainerInstances(await this.listContainerInstances({ status: 'DRAINING' }));
  }

  /**
   * The ACTIVE container instances that carry the controller's attribute, read in full: a parked
   * marker left behind when a registration was set ACTIVE again and its removal failed or the
   * invocation ended first. One listing by the cluster query `attribute:NAME exists` (ECS
   * developer guide, cluster query language); normally empty.
   */
  async markedActiveContainerInstances(): Promise<ContainerInstanceView[]> {
    return this.describeContainerInstances(await this.listContainerInstances({ status: 'ACTIVE', filter: `attribute:${ATTRIBUTE.DRAIN} exists` }));
  }

  /**
   * A deleted cluster has no container instances: its instances are then released like ones that
   * never registered, instead of waiting out the hook (errors.ts, isClusterNotFound; sim/chaos.ts,
   * scenario cluster-deleted).
   */
  private async listContainerInstances(query: { filter?: string; status?: 'DRAINING' | 'ACTIVE' }): Promise<string[]> {
    const arns: string[] = [];
    try {
      for await (const page of paginateListContainerInstances(paging(this.ecs, 100), { cluster: this.cluster, ...query }, this.options())) {
        arns.push(...page.containerInstanceArns ?? []);
      }
    } catch (error) {
      if (isClusterNotFound(error)) return [];
      throw error;
    }
    return arns;
  }

  async describeContainerInstances(arns: readonly string[]): Promise<ContainerInstanceView[]> {
    const result: ContainerInstanceView[] = [];
    await forEachLimited(chunk(arns, LIMITS.describeContainerInstances), async batch => {
      const answer = await this.ecs.send(new DescribeContainerInstancesCommand({ cluster: this.cluster, containerInstances: batch }), this.options());
      result.push(...(answer.containerInstances ?? []).map(containerInstanceViewOf));
    });
    return result;
  }

  /**
   * Sets a status (DRAINING to drain, ACTIVE to take a parked registration back). Returns the
   * container instances as ECS answers (a fresh read), the per-instance failures ECS reports in a
   * successful answer, and the errors of calls that failed: a batch call that fails is retried one
   * ARN at a time, so that one bad registration does not hold back the others.
   */
  async setStatus(arns: readonly string[], status: 'DRAINING' | 'ACTIVE'): Promise<{
    containerInstances: ContainerInstanceView[]; failures: DrainingFailure[]; errors: ItemErrors;
  }> {
    const containerInstances: ContainerInstanceView[] = [];
    const failures: DrainingFailure[] = [];
    const errors: ItemErrors = new Map();
    await eachWithFallback(arns, LIMITS.updateContainerInstancesState, async batch => {
      const answer = await this.ecs.send(new UpdateContainerInstancesStateCommand({
        cluster: this.cluster, containerInstances: batch, status,
      }), this.options());
      containerInstances.push(...(answer.containerInstances ?? []).map(containerInstanceViewOf));
      failures.push(...(answer.failures ?? []).map(f => ({ arn: f.arn, reason: f.reason, detail: f.detail })));
    }, errors);
    return { containerInstances, failures, errors };
  }

  /**
   * Writes the controller's attribute on container instances. A batch refused as a whole (one
   * target already holds ECS's 10 custom attributes: AttributeLimitExceededException, PutAttributes
   * reference) is retried per container instance; returns what could not be written.
   */
  async putDrainAttributes(values: readonly { containerInstanceArn: string; value: string }[]): Promise<ItemErrors> {
    const errors: ItemErrors = new Map();
    const byArn = new Map(values.map(v => [v.containerInstanceArn, v.value]));
    await eachWithFallback([...byArn.keys()], LIMITS.putAttributes, async batch => {
      await this.ecs.send(new PutAttributesCommand({
        cluster: this.cluster,
        attributes: batch.map(arn => ({ name: ATTRIBUTE.DRAIN, value: byArn.get(arn), targetType: 'container-instance', targetId: arn })),
      }), this.options());
    }, errors);
    return errors;
  }

  /** Removes the controller's attribute (a parked registration back in service). */
  async deleteDrainAttributes(arns: readonly string[]): Promise<ItemErrors> {
    const errors: ItemErrors = new Map();
    await eachWithFallback(arns, LIMITS.putAttributes, async batch => {
      await this.ecs.send(new DeleteAttributesCommand({
        cluster: this.cluster,
        attributes: batch.map(arn => ({ name: ATTRIBUTE.DRAIN, targetType: 'container-instance', targetId: arn })),
      }), this.options());
    }, errors);
    return errors;
  }

  /**
   * The tasks of each container instance that are not STOPPED yet, one listing per instance.
   * Called when the counts are zero, so every task left has desiredStatus STOPPED; those still
   * DEACTIVATING, STOPPING or DEPROVISIONING hold the drain (aws/aws-cdk#13506). For many
   * instances at once see `clusterStoppingTasks`.
   */
  async tasksNotStopped(containerInstanceArns: readonly string[], knownStopped?: Set<string>): Promise<StoppingTasks> {
    const taskArns: string[] = [];
    await forEachLimited(containerInstanceArns, async containerInstance => {
      taskArns.push(...(await this.listTasks({ containerInstance })).arns);
    });
    return this.stoppingTasksOf(taskArns, containerInstanceArns, knownStopped);
  }

  /**
   * The stopping tasks of every container instance of the cluster, from one listing of the
   * cluster's tasks whose desired status is STOPPED (100 a page): for a large scale-in, far fewer
   * calls than a listing per instance. IAM authorizes this listing against `*` (the construct
   * scopes it with the `ecs:cluster` condition).
   */
  async clusterStoppingTasks(knownStopped?: Set<string>): Promise<{ stopping: StoppingTasks; pages: number }> {
    const { arns, pages } = await this.listTasks({});
    return { stopping: await this.stoppingTasksOf(arns, undefined, knownStopped), pages };
  }

  /**
   * Describes the tasks, and groups those not STOPPED by container instance. `knownStopped`
   * (task ARNs seen STOPPED before: a STOPPED task never changes again) are not described again,
   * and the newly STOPPED ones are added to it.
   */
  private async stoppingTasksOf(taskArns: readonly string[], wanted?: readonly string[], knownStopped?: Set<string>): Promise<StoppingTasks> {
    const result: StoppingTasks = new Map((wanted ?? []).map(arn => [arn, []]));
    const keep = wanted === undefined ? undefined : new Set(wanted);
    const toDescribe = [...new Set(taskArns)].filter(arn => !knownStopped?.has(arn));
    await forEachLimited(chunk(toDescribe, LIMITS.describeTasks), async batch => {
      const answer = await this.ecs.send(new DescribeTasksCommand({ cluster: this.cluster, tasks: batch }), this.options());
      for (const task of answer.tasks ?? []) {
        const owner = task.containerInstanceArn;
        if (task.lastStatus === 'STOPPED' && task.taskArn) knownStopped?.add(task.taskArn);
        if (task.lastStatus === 'STOPPED' || !owner || (keep && !keep.has(owner))) continue;
        if (!result.has(owner)) result.set(owner, []);
        result.get(owner)!.push({
          taskArn: task.taskArn!, lastStatus: task.lastStatus ?? 'UNKNOWN', desiredStatus: task.desiredStatus ?? 'UNKNOWN', ...task.group ? { group: task.group } : {},
        });
      }
    });
    return result;
  }

  /** Tasks whose desired status is STOPPED (of one container instance, or of the cluster), all pages. */
  private async listTasks(query: { containerInstance?: string }): Promise<{ arns: string[]; pages: number }> {
    const arns: string[] = [];
    let pages = 0;
    // No page size: ECS's default of 100 tasks a page.
    for await (const page of paginateListTasks(paging(this.ecs), { cluster: this.cluster, ...query, desiredStatus: 'STOPPED' }, this.options())) {
      pages++;
      arns.push(...page.taskArns ?? []);
    }
    return { arns, pages };
  }

  /**
   * The tasks of a container instance still meant to run (desired status RUNNING: running, or
   * pending), all pages.
   */
  async tasksMeantToRun(containerInstanceArn: string): Promise<string[]> {
    const arns: string[] = [];
    const query = { cluster: this.cluster, containerInstance: containerInstanceArn, desiredStatus: 'RUNNING' as const };
    for await (const page of paginateListTasks(paging(this.ecs), query, this.options())) arns.push(...page.taskArns ?? []);
    return arns;
  }

  /**
   * Every task not STOPPED of the container instances, those still meant to run and those told to
   * stop (two listings each, all pages: ListTasks lists one desired status at a time), described.
   * Tasks seen STOPPED before (`knownStopped`) are not described again.
   */
  async tasksLeftOn(containerInstanceArns: readonly string[], knownStopped?: Set<string>): Promise<StoppingTasks> {
    const taskArns: string[] = [];
    const listings = containerInstanceArns.flatMap(arn => [{ arn, running: true }, { arn, running: false }]);
    await forEachLimited(listings, async ({ arn, running }) => {
      taskArns.push(...running ? await this.tasksMeantToRun(arn) : (await this.listTasks({ containerInstance: arn })).arns);
    });
    return this.stoppingTasksOf(taskArns, containerInstanceArns, knownStopped);
  }

  /**
   * The named services of the cluster (DescribeServices, at most 10 a call), with the newest of
   * their events that reports a task ECS could not place ("unable to place a task": ECS developer
   * guide, "Amazon ECS service event messages"). A service ECS does not know is left out.
   */
  async services(names: readonly string[]): Promise<Map<string, ServiceView>> {
    const result = new Map<string, ServiceView>();
    await forEachLimited(chunk([...new Set(names)], LIMITS.describeServices), async batch => {
      const answer = await this.ecs.send(new DescribeServicesCommand({ cluster: this.cluster, services: batch }), this.options());
      for (const service of answer.services ?? []) {
        if (!service.serviceName) continue;
        // DescribeServices lists a service's events newest first.
        const failure = (service.events ?? []).find(e => e.message?.includes(UNABLE_TO_PLACE) && e.createdAt !== undefined);
        result.set(service.serviceName, {
          name: service.serviceName,
          schedulingStrategy: service.schedulingStrategy,
          desiredCount: service.desiredCount,
          runningCount: service.runningCount,
          ...failure ? { placementFailure: { at: failure.createdAt!.getTime(), message: failure.message! } } : {},
        });
      }
    });
    return result;
  }

  /**
   * Stops a task: ECS sends SIGTERM, waits the task's stop timeout, then SIGKILL, and keeps
   * `reason` as the task's stoppedReason (StopTask reference). A task that has stopped already
   * is answered as stopped.
   */
  async stopTask(taskArn: string, reason: string): Promise<void> {
    await this.ecs.send(new StopTaskCommand({ cluster: this.cluster, task: taskArn, reason: reason.slice(0, 255) }), this.options());
  }

  /**
   * Deregisters a container instance. Without `force`, ECS refuses while it still counts a task
   * on the instance (DeregisterContainerInstance reference): that is 'refused', not drained yet,
   * and never a reason to force. A registration that is gone already counts as deregistered
   * (another invocation may have raced this one).
   */
  async deregister(containerInstanceArn: string, force: boolean): Promise<DeregisterAnswer> {
    try {
      await this.ecs.send(new DeregisterContainerInstanceCommand({
        cluster: this.cluster, containerInstance: containerInstanceArn, force,
      }), this.options());
      return 'deregistered';
    } catch (error) {
      if (!isClientError(error)) throw error;
      // Without force, any refusal means "not now": one that is gone already is found INACTIVE (or
      // not listed) by the next look, so no describe is spent on telling the two apart here.
      if (!force) return 'refused';
      if (await this.isGone(containerInstanceArn)) return 'gone';
      throw error;
    }
  }

  /** Completes the lifecycle action with CONTINUE by instance id (no token needed). */
  async completeLifecycleAction(groupName: string, hookName: string, instanceId: string): Promise<'completed' | 'no-active-action'> {
    try {
      await this.autoScaling.send(new CompleteLifecycleActionCommand({
        AutoScalingGroupName: groupName, LifecycleHookName: hookName, InstanceId: instanceId, LifecycleActionResult: 'CONTINUE',
      }), this.options());
      return 'completed';
    } catch (error) {
      if (isNoActiveLifecycleAction(error)) return 'no-active-action';
      throw error;
    }
  }

  async recordHeartbeat(groupName: string, hookName: string, instanceId: string): Promise<'recorded' | 'no-active-action'> {
    try {
      await this.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: groupName, LifecycleHookName: hookName, InstanceId: instanceId,
      }), this.options());
      return 'recorded';
    } catch (error) {
      if (isNoActiveLifecycleAction(error)) return 'no-active-action';
      throw error;
    }
  }

  private async isGone(containerInstanceArn: string): Promise<boolean> {
    const [instance] = await this.describeContainerInstances([containerInstanceArn]);
    return isGoneRegistration(instance);
  }

  private options(): { abortSignal?: AbortSignal } {
    return this.signal ? { abortSignal: this.signal } : {};
  }
}

/**
 * How a paginator of the SDK reads `client`: `pageSize` records a page, and every page sent as a
 * command of its own. The paginators write each page's token into the one input object they are
 * given, which the commands of all pages would otherwise share: a command looked at after its call
 * (by a middleware, or a test's record of the calls) would show the last page's token, not its own.
 * The abort signal is not part of this: it goes with the paginator's further arguments, which the
 * SDK passes to `client.send` for every page.
 */
function paging<C>(client: C, pageSize?: number) {
  return { client, pageSize, withCommand: ownInput };
}

function ownInput<T extends { readonly input: object }>(command: T): T {
  const Command = command.constructor as new (input: object) => T;
  return new Command({ ...command.input });
}

/** A registration as DescribeContainerInstances (or UpdateContainerInstancesState) reports it, reduced to what the decisions look at. */
export function containerInstanceViewOf(ci: ContainerInstance): ContainerInstanceView {
  return {
    containerInstanceArn: ci.containerInstanceArn!,
    ec2InstanceId: ci.ec2InstanceId,
    status: ci.status ?? 'UNKNOWN',
    runningTasksCount: ci.runningTasksCount ?? 0,
    pendingTasksCount: ci.pendingTasksCount ?? 0,
    ...markerOf(ci.attributes?.find(a => a.name === ATTRIBUTE.DRAIN)?.value),
    resourcesReleased: resourcesReleased(ci.registeredResources, ci.remainingResources),
    ...ci.agentConnected === undefined ? {} : { agentConnected: ci.agentConnected },
  };
}

function instancesOf(groupName: string, instances: readonly { InstanceId?: string; LifecycleState?: string }[] | undefined): GroupInstance[] {
  return (instances ?? [])
    .filter(i => i.InstanceId && i.LifecycleState)
    .map(i => ({ instanceId: i.InstanceId!, groupName, lifecycleState: i.LifecycleState! }));
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/**
 * Runs `write` over batches of `items`; a batch whose call fails is written again one item at a
 * time, and what still fails is recorded in `errors` by item. Throttling and access errors are
 * not retried per item (they would fail the same way, multiplied).
 */
async function eachWithFallback(
  items: readonly string[], batchSize: number, write: (batch: string[]) => Promise<void>, errors: ItemErrors,
): Promise<void> {
  await forEachLimited(chunk(items, batchSize), async batch => {
    try {
      await write(batch);
    } catch (error) {
      if (batch.length === 1 || !isItemSpecific(error)) {
        for (const item of batch) errors.set(item, error);
        return;
      }
      await forEachLimited(batch.map(item => [item]), async single => {
        try {
          await write(single);
        } catch (itemError) {
          errors.set(single[0], itemError);
        }
      });
    }
  });
}

/** Runs `fn` over `items` with at most LIMITS.concurrency calls in flight; rethrows the first error after all settle. */
export async function forEachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LIMITS.concurrency, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}

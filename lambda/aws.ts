/**
 * Thin adapters over the ECS and Auto Scaling APIs: batching, paging and the answers that
 * mean "already done". No decisions here (see decide.ts).
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  ContainerInstance,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { ContainerInstanceView, resourcesReleased, TaskView } from './decide';
import { parseDrainRecord } from './drain-record';
import { ATTRIBUTE } from '../src/constants';

/** API limits per call (ECS and Auto Scaling API references). */
export const LIMITS = {
  describeContainerInstances: 100,
  describeTasks: 100,
  updateContainerInstancesState: 10,
  putAttributes: 10,
  describeAutoScalingInstances: 50,
  describeAutoScalingGroups: 100,
  /** EC2 instance ids per `ec2InstanceId in [...]` cluster query, keeping the filter short. */
  instanceIdsPerFilter: 20,
  /** Above this many instances, one cluster-wide task listing replaces per-instance listings. */
  perInstanceTaskListings: 20,
  /** Calls the controller has in flight at once. */
  concurrency: 8,
};

/** An instance of a managed group as Auto Scaling reports it. */
export interface GroupInstance {
  readonly instanceId: string;
  readonly groupName: string;
  readonly lifecycleState: string;
}

/** A container instance with the EC2 instance it runs on. */
export interface RegisteredInstance extends ContainerInstanceView {
  readonly ec2InstanceId?: string;
}

export interface DrainingFailure {
  readonly arn?: string;
  readonly reason?: string;
  readonly detail?: string;
}

export class ClusterApi {
  constructor(
    private readonly ecs: ECSClient,
    private readonly autoScaling: AutoScalingClient,
    private readonly cluster: string,
  ) {}

  /** Every instance of the named groups with its lifecycle state, all pages. */
  async instancesOfGroups(groupNames: readonly string[]): Promise<GroupInstance[]> {
    const result: GroupInstance[] = [];
    for (const names of chunk(groupNames, LIMITS.describeAutoScalingGroups)) {
      let nextToken: string | undefined;
      do {
        const page = await this.autoScaling.send(new DescribeAutoScalingGroupsCommand({
          AutoScalingGroupNames: names, MaxRecords: LIMITS.describeAutoScalingGroups, NextToken: nextToken,
        }));
        for (const group of page.AutoScalingGroups ?? []) {
          for (const instance of group.Instances ?? []) {
            if (instance.InstanceId && instance.LifecycleState) {
              result.push({ instanceId: instance.InstanceId, groupName: group.AutoScalingGroupName!, lifecycleState: instance.LifecycleState });
            }
          }
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return result;
  }

  /** The group and lifecycle state of each instance Auto Scaling knows; others are absent. */
  async autoScalingInstances(instanceIds: readonly string[]): Promise<Map<string, GroupInstance>> {
    const result = new Map<string, GroupInstance>();
    await forEachLimited(chunk(instanceIds, LIMITS.describeAutoScalingInstances), async ids => {
      const answer = await this.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids, MaxRecords: ids.length }));
      for (const i of answer.AutoScalingInstances ?? []) {
        result.set(i.InstanceId!, { instanceId: i.InstanceId!, groupName: i.AutoScalingGroupName!, lifecycleState: i.LifecycleState! });
      }
    });
    return result;
  }

  /**
   * Every registration that is not INACTIVE of each EC2 instance, found with the cluster query
   * language and read in full. Paged: clusters of more than 100 instances have more than one
   * page (aws-samples/ecs-cid-sample#7).
   */
  async registrationsOf(instanceIds: readonly string[]): Promise<Map<string, RegisteredInstance[]>> {
    return groupByInstance(instanceIds, await this.describeContainerInstances(await this.registrationArnsOf(instanceIds)));
  }

  /** The ARNs of every registration that is not INACTIVE of each EC2 instance. */
  async registrationArnsOf(instanceIds: readonly string[]): Promise<string[]> {
    const arns: string[] = [];
    await forEachLimited(chunk(instanceIds, LIMITS.instanceIdsPerFilter), async ids => {
      arns.push(...await this.listContainerInstances({ filter: `ec2InstanceId in [${ids.join(', ')}]` }));
    });
    return arns;
  }

  /** Every DRAINING container instance of the cluster, read in full (a reconcile pass starts here). */
  async drainingContainerInstances(): Promise<RegisteredInstance[]> {
    return this.describeContainerInstances(await this.listContainerInstances({ status: 'DRAINING' }));
  }

  /**
   * A deleted cluster has no container instances: its instances are then released like ones that
   * never registered, instead of waiting out the hook on ClusterNotFoundException (sim/chaos.ts,
   * scenario cluster-deleted).
   */
  private async listContainerInstances(query: { filter?: string; status?: 'DRAINING' }): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await this.ecs.send(new ListContainerInstancesCommand({ cluster: this.cluster, ...query, maxResults: 100, nextToken }));
      } catch (error) {
        if ((error as { name?: string })?.name === 'ClusterNotFoundException') return [];
        throw error;
      }
      arns.push(...page.containerInstanceArns ?? []);
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  async describeContainerInstances(arns: readonly string[]): Promise<RegisteredInstance[]> {
    const result: RegisteredInstance[] = [];
    await forEachLimited(chunk(arns, LIMITS.describeContainerInstances), async batch => {
      const answer = await this.ecs.send(new DescribeContainerInstancesCommand({ cluster: this.cluster, containerInstances: batch }));
      result.push(...(answer.containerInstances ?? []).map(toView));
    });
    return result;
  }

  /**
   * Sets DRAINING. Returns the container instances as ECS answers (already DRAINING: no
   * describe needed) and the per-instance failures ECS reports in a successful answer.
   */
  async setDraining(arns: readonly string[]): Promise<{ containerInstances: RegisteredInstance[]; failures: DrainingFailure[] }> {
    const containerInstances: RegisteredInstance[] = [];
    const failures: DrainingFailure[] = [];
    await forEachLimited(chunk(arns, LIMITS.updateContainerInstancesState), async batch => {
      const answer = await this.ecs.send(new UpdateContainerInstancesStateCommand({
        cluster: this.cluster, containerInstances: batch, status: 'DRAINING',
      }));
      containerInstances.push(...(answer.containerInstances ?? []).map(toView));
      failures.push(...(answer.failures ?? []).map(f => ({ arn: f.arn, reason: f.reason, detail: f.detail })));
    });
    return { containerInstances, failures };
  }

  /** Writes custom attributes on container instances (the controller's drain records). */
  async putAttributes(attributes: readonly { containerInstanceArn: string; name: string; value: string }[]): Promise<void> {
    await forEachLimited(chunk(attributes, LIMITS.putAttributes), async batch => {
      await this.ecs.send(new PutAttributesCommand({
        cluster: this.cluster,
        attributes: batch.map(a => ({ name: a.name, value: a.value, targetType: 'container-instance', targetId: a.containerInstanceArn })),
      }));
    });
  }

  /**
   * The tasks of each container instance that are not STOPPED yet. Called when the counts are
   * zero, so every task left has desiredStatus STOPPED; those still DEACTIVATING, STOPPING or
   * DEPROVISIONING hold the drain (aws/aws-cdk#13506).
   */
  async tasksNotStopped(containerInstanceArns: readonly string[]): Promise<Map<string, TaskView[]>> {
    const taskArns: string[] = [];
    const wanted = new Set(containerInstanceArns);
    if (containerInstanceArns.length > LIMITS.perInstanceTaskListings) {
      // Many instances at once (a large scale-in): one listing of the whole cluster's stopping
      // tasks, 100 a page, costs far fewer calls than one listing per instance.
      taskArns.push(...await this.listTasks({}));
    } else {
      await forEachLimited(containerInstanceArns, async containerInstance => {
        taskArns.push(...await this.listTasks({ containerInstance }));
      });
    }
    const result = new Map<string, TaskView[]>(containerInstanceArns.map(arn => [arn, []]));
    await forEachLimited(chunk([...new Set(taskArns)], LIMITS.describeTasks), async batch => {
      const answer = await this.ecs.send(new DescribeTasksCommand({ cluster: this.cluster, tasks: batch }));
      for (const task of answer.tasks ?? []) {
        if (task.lastStatus === 'STOPPED' || !task.containerInstanceArn || !wanted.has(task.containerInstanceArn)) continue;
        result.get(task.containerInstanceArn)!.push({
          taskArn: task.taskArn!, lastStatus: task.lastStatus ?? 'UNKNOWN', desiredStatus: task.desiredStatus ?? 'UNKNOWN',
        });
      }
    });
    return result;
  }

  /** Tasks whose desired status is STOPPED (of one container instance, or of the cluster), all pages. */
  private async listTasks(query: { containerInstance?: string }): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ecs.send(new ListTasksCommand({ cluster: this.cluster, ...query, desiredStatus: 'STOPPED', nextToken }));
      arns.push(...page.taskArns ?? []);
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  /**
   * Deregisters a container instance; without `force` first unless told otherwise, with it as
   * the fallback. An instance that is already gone counts as deregistered (another invocation
   * may have raced this one). Returns whether force was needed.
   */
  async deregister(containerInstanceArn: string, force: boolean): Promise<{ forced: boolean }> {
    const attempt = async (withForce: boolean) => this.ecs.send(new DeregisterContainerInstanceCommand({
      cluster: this.cluster, containerInstance: containerInstanceArn, force: withForce,
    }));
    try {
      await attempt(force);
      return { forced: force };
    } catch (error) {
      if (await this.isGone(containerInstanceArn)) return { forced: false };
      if (force) throw error;
    }
    try {
      await attempt(true);
      return { forced: true };
    } catch (error) {
      if (await this.isGone(containerInstanceArn)) return { forced: false };
      throw error;
    }
  }

  /** Completes the lifecycle action with CONTINUE by instance id (no token needed). */
  async completeLifecycleAction(groupName: string, hookName: string, instanceId: string): Promise<'completed' | 'no-active-action'> {
    try {
      await this.autoScaling.send(new CompleteLifecycleActionCommand({
        AutoScalingGroupName: groupName, LifecycleHookName: hookName, InstanceId: instanceId, LifecycleActionResult: 'CONTINUE',
      }));
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
      }));
      return 'recorded';
    } catch (error) {
      if (isNoActiveLifecycleAction(error)) return 'no-active-action';
      throw error;
    }
  }

  private async isGone(containerInstanceArn: string): Promise<boolean> {
    const answer = await this.ecs.send(new DescribeContainerInstancesCommand({ cluster: this.cluster, containerInstances: [containerInstanceArn] }));
    const instance = answer.containerInstances?.[0];
    return instance === undefined || instance.status === 'INACTIVE';
  }
}

/**
 * Auto Scaling answers ValidationError "No active Lifecycle Action found with instance ID …"
 * when the action was already completed or has expired, and "AutoScalingGroup name not found"
 * once the group was deleted (with its instances and their actions): for the controller, that
 * is done.
 */
export function isNoActiveLifecycleAction(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; message?: string };
  return (e?.name === 'ValidationError' || e?.Code === 'ValidationError')
    && /no active lifecycle action|autoscalinggroup name not found/i.test(e.message ?? '');
}

export function toView(ci: ContainerInstance): RegisteredInstance {
  const attribute = (name: string) => ci.attributes?.find(a => a.name === name)?.value;
  const record = parseDrainRecord(attribute(ATTRIBUTE.DRAIN));
  const heartbeat = Number(attribute(ATTRIBUTE.HEARTBEAT));
  return {
    containerInstanceArn: ci.containerInstanceArn!,
    ec2InstanceId: ci.ec2InstanceId,
    status: ci.status ?? 'UNKNOWN',
    runningTasksCount: ci.runningTasksCount ?? 0,
    pendingTasksCount: ci.pendingTasksCount ?? 0,
    drainStartedAt: record?.startedAt,
    deadline: record?.deadline,
    recordedRegistrations: record?.registrations,
    lastHeartbeatAt: Number.isFinite(heartbeat) && heartbeat > 0 ? heartbeat * 1000 : undefined,
    resourcesReleased: resourcesReleased(ci.registeredResources, ci.remainingResources),
  };
}

function groupByInstance(instanceIds: readonly string[], registrations: readonly RegisteredInstance[]): Map<string, RegisteredInstance[]> {
  const result = new Map<string, RegisteredInstance[]>(instanceIds.map(id => [id, []]));
  for (const ci of registrations) {
    if (ci.status === 'INACTIVE' || !ci.ec2InstanceId) continue;
    result.get(ci.ec2InstanceId)?.push(ci);
  }
  return result;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
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

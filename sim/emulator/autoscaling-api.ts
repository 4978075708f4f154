/**
 * Auto Scaling operations over the Query protocol, shapes from the Amazon EC2 Auto Scaling API
 * reference (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/). Handlers return the
 * content of `<ActionResult>` (undefined: no Result element) or throw ApiError.
 */
import { SimClock } from '../clock';
import { AutoScalingWorld } from './autoscaling-world';
import { ApiError, autoScalingErrors } from './errors';
import { AutoScalingGroup, Ec2Instance, isWarmed, LifecycleState, WarmPool } from './model';
import { decodePageToken, encodePageToken } from './paging';
import { memberList, QueryParams, XmlValue } from './query-protocol';
import { SeededRandom } from './random';
import { StaleReads } from './stale-reads';
import { AutoScalingStaleReadOperation, UnkindStats } from './unkind';

/** An instance with the lifecycle state the answer shows (now, or as of a stale read's instant). */
interface Seen {
  readonly instance: Ec2Instance;
  readonly state: LifecycleState;
}

/** The unkind options the Auto Scaling API applies (emulator/unkind.ts). */
export interface AutoScalingApiOptions {
  /** See UnkindOptions.lifecycleActionVisibilityLagMs; 0: off. */
  readonly lifecycleActionVisibilityLagMs: number;
  readonly stats: UnkindStats;
  /** Option staleReads: which instant each read answers for; undefined: always now. */
  readonly staleReads?: StaleReads;
}

type Result = { [key: string]: XmlValue } | undefined;

export class AutoScalingApi {
  private readonly handlers: Record<string, (params: QueryParams) => Result> = {
    DescribeAutoScalingGroups: p => this.describeAutoScalingGroups(p),
    DescribeAutoScalingInstances: p => this.describeAutoScalingInstances(p),
    DescribeWarmPool: p => this.describeWarmPool(p),
    CompleteLifecycleAction: p => this.completeLifecycleAction(p),
    RecordLifecycleActionHeartbeat: p => this.recordLifecycleActionHeartbeat(p),
    DeleteLifecycleHook: p => this.deleteLifecycleHook(p),
    SetDesiredCapacity: p => this.setDesiredCapacity(p),
    TerminateInstanceInAutoScalingGroup: p => this.terminateInstanceInAutoScalingGroup(p),
  };

  constructor(
    private readonly world: AutoScalingWorld,
    private readonly clock: SimClock,
    private readonly random: SeededRandom,
    private readonly options: AutoScalingApiOptions,
  ) {}

  supports(action: string): boolean {
    return action in this.handlers;
  }

  /** Every action served (each needs an IAM rule, sim/emulator/iam/operations.ts). */
  get operations(): string[] {
    return Object.keys(this.handlers);
  }

  handle(action: string, params: QueryParams): Result {
    const handler = this.handlers[action];
    if (!handler) throw autoScalingErrors.validation(`Action ${action} is not supported by the emulator.`);
    return handler(params);
  }

  /** Unknown names are left out silently, as AWS does; MaxRecords ≤ 100, default 50. */
  private describeAutoScalingGroups(params: QueryParams): Result {
    const names = memberList(params, 'AutoScalingGroupNames');
    const groups = names.length > 0
      ? names.flatMap(name => this.world.allGroups().filter(g => g.name === name))
      : this.world.allGroups();
    const page = this.page(groups, params, 100);
    const at = this.readTime('DescribeAutoScalingGroups');
    return { AutoScalingGroups: page.items.map(g => this.groupXml(g, at)), NextToken: page.nextToken };
  }

  /**
   * Up to 50 instance IDs; MaxRecords "The default value is 50 and the maximum value is 50"
   * (API reference, DescribeAutoScalingInstances). Warm pool instances are included: the
   * LifecycleState of AutoScalingInstanceDetails, unlike the Instance type shared by
   * DescribeAutoScalingGroups and DescribeWarmPool, lists the Warmed:* states among its valid
   * values (Warmed:Pending:Wait included).
   */
  private describeAutoScalingInstances(params: QueryParams): Result {
    const ids = memberList(params, 'InstanceIds');
    if (ids.length > 50) throw autoScalingErrors.validation('The number of instance ids that may be passed in is limited to 50');
    const at = this.readTime('DescribeAutoScalingInstances');
    const instances: Seen[] = ids.length > 0
      ? ids.map(id => this.world.instanceAsOf(id, at)).filter((i): i is Seen => i !== undefined)
      : this.world.allGroups().flatMap(g => this.world.membersAsOf(g, at));
    const page = this.page(instances, params, 50);
    return {
      AutoScalingInstances: page.items.map(({ instance: i, state }) => ({
        InstanceId: i.id,
        InstanceType: i.launch.instanceType ?? 'm5.large',
        AutoScalingGroupName: i.groupName,
        AvailabilityZone: i.availabilityZone,
        LifecycleState: state,
        // DescribeAutoScalingInstances spells health in capitals, DescribeAutoScalingGroups does not.
        HealthStatus: 'HEALTHY',
        ProtectedFromScaleIn: false,
      })),
      NextToken: page.nextToken,
    };
  }

  /**
   * API reference, DescribeWarmPool: "Instances: The instances that are currently in the warm
   * pool", every Warmed:* state (Warmed:Pending:Wait of an instance returning on scale-in
   * included); MaxRecords "The maximum value is 50" (no default documented: 50 here), NextToken,
   * InvalidNextToken. A group without a warm pool answers without WarmPoolConfiguration (kops reads
   * it that way: upup/pkg/fi/cloudup/awstasks/warmpool.go); an unknown group is a ValidationError.
   */
  private describeWarmPool(params: QueryParams): Result {
    const group = this.world.group(this.required(params, 'AutoScalingGroupName'));
    const at = this.readTime('DescribeWarmPool');
    const members = group.warmPool ? this.world.membersAsOf(group, at).filter(m => isWarmed(m.state)) : [];
    const page = this.page(members, params, 50);
    return {
      WarmPoolConfiguration: group.warmPool ? warmPoolXml(group.warmPool) : undefined,
      Instances: page.items.map(m => instanceXml(m)),
      NextToken: page.nextToken,
    };
  }

  private completeLifecycleAction(params: QueryParams): Result {
    const result = params.get('LifecycleActionResult');
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw autoScalingErrors.validation('LifecycleActionResult must be CONTINUE or ABANDON.');
    }
    const { instance, action } = this.findAction(params);
    this.world.complete(instance, action.hook.name, result, 'api');
    return {};
  }

  private recordLifecycleActionHeartbeat(params: QueryParams): Result {
    const { instance, action } = this.findAction(params);
    this.world.recordHeartbeat(instance, action);
    return {};
  }

  /**
   * API reference, DeleteLifecycleHook: outstanding actions are completed first (AutoScalingWorld).
   * The reference lists no error for a hook that does not exist; the emulator answers a
   * ValidationError there, as for an unknown group.
   */
  private deleteLifecycleHook(params: QueryParams): Result {
    const groupName = this.required(params, 'AutoScalingGroupName');
    const hookName = this.required(params, 'LifecycleHookName');
    if (!this.world.deleteLifecycleHook(groupName, hookName)) {
      throw autoScalingErrors.validation(`No lifecycle hook found with name ${hookName} for the Auto Scaling group ${groupName}.`);
    }
    return {};
  }

  private setDesiredCapacity(params: QueryParams): Result {
    const name = this.required(params, 'AutoScalingGroupName');
    const desired = Number(this.required(params, 'DesiredCapacity'));
    if (!Number.isInteger(desired) || desired < 0) throw autoScalingErrors.validation('DesiredCapacity must be a non-negative integer.');
    this.world.setDesiredCapacity(name, desired);
    return undefined;
  }

  private terminateInstanceInAutoScalingGroup(params: QueryParams): Result {
    const instanceId = this.required(params, 'InstanceId');
    const decrement = this.required(params, 'ShouldDecrementDesiredCapacity') === 'true';
    const instance = this.world.terminateInstanceInAutoScalingGroup(instanceId, decrement);
    const start = new Date(this.clock.now()).toISOString();
    return {
      Activity: {
        ActivityId: this.random.uuid(),
        AutoScalingGroupName: instance.groupName,
        Description: `Terminating EC2 instance: ${instance.id}`,
        Cause: `At ${start} instance ${instance.id} was taken out of service in response to a user request${decrement ? ', shrinking the capacity' : ''}.`,
        StartTime: start,
        StatusCode: 'InProgress',
        Progress: 0,
        Details: '{}',
      },
    };
  }

  /**
   * The action CompleteLifecycleAction / RecordLifecycleActionHeartbeat address. With
   * `lifecycleActionVisibilityLagMs`, an action younger than that is not found yet: the same
   * ValidationError as for no action at all, although DescribeAutoScalingInstances already reports
   * the Wait state (not documented; PrairieLearn/PrairieLearn#15586, "Retry Auto Scaling lifecycle
   * completion", shows exactly that, and the same action completed on a later retry).
   */
  private findAction(params: QueryParams) {
    const instanceId = params.get('InstanceId');
    const token = params.get('LifecycleActionToken');
    const found = this.world.findAction(
      this.required(params, 'AutoScalingGroupName'),
      this.required(params, 'LifecycleHookName'),
      instanceId,
      token,
    );
    const lag = this.options.lifecycleActionVisibilityLagMs;
    if (lag > 0 && this.clock.now() - found.action.startedAt < lag) {
      this.options.stats.lifecycleActionNotYetVisible++;
      throw autoScalingErrors.validation(instanceId !== undefined
        ? `No active Lifecycle Action found with instance ID ${instanceId}`
        : `No active Lifecycle Action found with token ${token}`);
    }
    return found;
  }

  /**
   * API reference, AutoScalingGroup data type. `Instances` are "The EC2 instances associated with
   * the Auto Scaling group"; the warm pool's are not among them: PutWarmPool's reference says "You
   * can view the instances in the warm pool using the DescribeWarmPool API call", the group reports
   * them only as WarmPoolSize, and tools that list a group's instances read both (kops,
   * upup/pkg/fi/cloudup/awsup/aws_cloud.go). An instance returning to the pool (Warmed:Pending:Wait)
   * is already the pool's.
   */
  private groupXml(group: AutoScalingGroup, at: number | undefined): XmlValue {
    const members = this.world.membersAsOf(group, at);
    const inGroup = members.filter(m => !isWarmed(m.state));
    const zones = [...new Set(inGroup.map(m => m.instance.availabilityZone))].sort();
    return {
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      MinSize: group.minSize,
      MaxSize: group.maxSize,
      DesiredCapacity: this.world.desiredCapacityAsOf(group, at),
      DefaultCooldown: 300,
      AvailabilityZones: zones.length > 0 ? zones : ['us-east-1a'],
      LoadBalancerNames: [],
      TargetGroupARNs: [],
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: 0,
      Instances: inGroup.map(m => instanceXml(m)),
      CreatedTime: new Date(group.createdAt).toISOString(),
      SuspendedProcesses: [],
      EnabledMetrics: [],
      Tags: [],
      TerminationPolicies: ['Default'],
      NewInstancesProtectedFromScaleIn: false,
      WarmPoolConfiguration: group.warmPool ? warmPoolXml(group.warmPool) : undefined,
      WarmPoolSize: group.warmPool ? members.length - inGroup.length : undefined,
    };
  }

  /** The instant a read answers for (option staleReads); undefined: now. */
  private readTime(operation: AutoScalingStaleReadOperation): number | undefined {
    return this.options.staleReads?.readTime('autoscaling', operation);
  }

  /** MaxRecords default 50; an invalid NextToken is InvalidNextToken (API reference, each Describe action's errors). */
  private page<T>(items: T[], params: QueryParams, maxRecords: number): { items: T[]; nextToken?: string } {
    const size = params.has('MaxRecords') ? Number(params.get('MaxRecords')) : 50;
    if (!Number.isInteger(size) || size < 1 || size > maxRecords) throw autoScalingErrors.validation(`MaxRecords must be between 1 and ${maxRecords}.`);
    const token = params.get('NextToken');
    const offset = token === undefined ? 0 : decodePageToken(token, () => new ApiError('InvalidNextToken', 'The NextToken value is invalid.'));
    const end = offset + size;
    return { items: items.slice(offset, end), nextToken: end < items.length ? encodePageToken(end, this.clock.now()) : undefined };
  }

  private required(params: QueryParams, name: string): string {
    const value = params.get(name);
    if (value === undefined || value === '') {
      throw autoScalingErrors.validation(`1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
    }
    return value;
  }
}

/** API reference, Instance data type (DescribeAutoScalingGroups and DescribeWarmPool). */
function instanceXml({ instance: i, state }: Seen): XmlValue {
  return {
    InstanceId: i.id,
    InstanceType: i.launch.instanceType ?? 'm5.large',
    AvailabilityZone: i.availabilityZone,
    LifecycleState: state,
    HealthStatus: 'Healthy',
    ProtectedFromScaleIn: false,
  };
}

/** API reference, WarmPoolConfiguration data type. */
function warmPoolXml(pool: WarmPool): XmlValue {
  return {
    MaxGroupPreparedCapacity: pool.maxGroupPreparedCapacity,
    MinSize: pool.minSize,
    PoolState: pool.poolState,
    InstanceReusePolicy: { ReuseOnScaleIn: pool.reuseOnScaleIn },
  };
}

/**
 * Per-operation-group token buckets, refilled in virtual time.
 *
 * ECS numbers: "Request throttling for the Amazon ECS API"
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html):
 * each action group has a bucket (burst) and a refill rate (sustained, per second), shared by
 * every caller in the account and Region.
 *
 * Auto Scaling does not publish its limits. The values below are deliberately conservative
 * (smaller than the ECS read bucket) so a controller that is fine here is fine in AWS.
 *
 * EventBridge: "Amazon EventBridge quotas", "PutEvents throttle limit in transactions per
 * second": 10,000 per second in us-east-1 (the simulation's Region; fewer in most others), for the
 * whole account, whatever the bus. The page gives a rate, not a burst: the bucket holds one second
 * of it (the emulator's choice).
 */
export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

interface GroupSpec extends BucketSpec {
  readonly operations: readonly string[];
}

export const ECS_THROTTLING_GROUPS: Record<string, GroupSpec> = {
  'cluster-resource-read': {
    capacity: 100,
    refillPerSecond: 20,
    operations: ['DescribeContainerInstances', 'DescribeTasks', 'ListAttributes', 'ListContainerInstances', 'ListTasks'],
  },
  // "Service read" actions of the same page: bucket 100, refill 20 per second. The stored copy of the
  // page consulted when this was added did not show its table: to be checked against the page (the
  // refill of 20 per second for DescribeServices agrees with the figure a public ECS service-discovery client quotes from that page).
  'service-read': {
    capacity: 100,
    refillPerSecond: 20,
    operations: ['DescribeServices', 'ListServices'],
  },
  'cluster-resource-modify': {
    capacity: 100,
    refillPerSecond: 40,
    operations: ['DeleteAttributes', 'DeregisterContainerInstance', 'PutAttributes', 'RunTask', 'StartTask',
      'StopTask', 'UpdateContainerAgent', 'UpdateContainerInstancesState'],
  },
  'agent-modify': {
    capacity: 200,
    refillPerSecond: 120,
    operations: ['RegisterContainerInstance', 'SubmitAttachmentStateChanges', 'SubmitContainerStateChange', 'SubmitTaskStateChange'],
  },
};

/** Not published by AWS: conservative choices (see the module comment). */
export const AUTOSCALING_THROTTLING_GROUPS: Record<string, GroupSpec> = {
  describe: { capacity: 40, refillPerSecond: 10, operations: ['DescribeAutoScalingGroups', 'DescribeAutoScalingInstances', 'DescribeWarmPool'] },
  lifecycle: { capacity: 40, refillPerSecond: 10, operations: ['CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat'] },
  capacity: { capacity: 20, refillPerSecond: 2, operations: ['SetDesiredCapacity', 'TerminateInstanceInAutoScalingGroup'] },
};

export const EVENTBRIDGE_THROTTLING_GROUPS: Record<string, GroupSpec> = {
  'put-events': { capacity: 10_000, refillPerSecond: 10_000, operations: ['PutEvents'] },
};

const GROUPS: Record<ThrottledService, Record<string, GroupSpec>> = {
  ecs: ECS_THROTTLING_GROUPS,
  autoscaling: AUTOSCALING_THROTTLING_GROUPS,
  events: EVENTBRIDGE_THROTTLING_GROUPS,
};

export type ThrottledService = 'ecs' | 'autoscaling' | 'events';

/** Operations not listed in any group share this bucket. */
const FALLBACK: BucketSpec = { capacity: 50, refillPerSecond: 20 };

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(private readonly spec: BucketSpec, nowMs: number) {
    this.tokens = spec.capacity;
    this.refilledAt = nowMs;
  }

  /** Takes one token if there is one. */
  tryTake(nowMs: number): boolean {
    const elapsedSeconds = Math.max(0, nowMs - this.refilledAt) / 1000;
    this.tokens = Math.min(this.spec.capacity, this.tokens + elapsedSeconds * this.spec.refillPerSecond);
    this.refilledAt = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class Throttler {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly byOperation = new Map<string, TokenBucket>();

  /**
   * `throttling`: true for the documented buckets, false for none, or one bucket spec that
   * replaces every group's (a throttling storm).
   */
  constructor(private readonly now: () => number, private readonly throttling: boolean | BucketSpec) {}

  /** True when the call may proceed; false when it is throttled. */
  admit(service: ThrottledService, operation: string): boolean {
    if (this.throttling === false) return true;
    return this.bucketOf(service, operation).tryTake(this.now());
  }

  /** The bucket of an operation's group, found once per operation (every request asks). */
  private bucketOf(service: ThrottledService, operation: string): TokenBucket {
    const operationKey = `${service}:${operation}`;
    const known = this.byOperation.get(operationKey);
    if (known) return known;
    const groups = GROUPS[service];
    const entry = Object.entries(groups).find(([, g]) => g.operations.includes(operation));
    const key = `${service}:${entry ? entry[0] : 'other'}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const spec = typeof this.throttling === 'object' ? this.throttling : entry ? entry[1] : FALLBACK;
      bucket = new TokenBucket(spec, this.now());
      this.buckets.set(key, bucket);
    }
    this.byOperation.set(operationKey, bucket);
    return bucket;
  }
}

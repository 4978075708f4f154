/**
 * What scenarios assert on: a timeline per EC2 instance, call statistics, and mutating calls
 * made on container instances an operator drained (which the controller must leave alone).
 */
import { emptyUnkindStats, UnkindStats } from './unkind';

/**
 * Who ended a lifecycle wait: CompleteLifecycleAction (`api`), the hook's timeout (`timeout`), or
 * DeleteLifecycleHook, which completes the outstanding actions of the hook it deletes
 * (`hook-deleted`; a CloudFormation stack update that removes or replaces the hook does that).
 */
export type CompletedBy = 'api' | 'timeout' | 'hook-deleted';

/** The launch lifecycle hooks' wait (Pending:Wait) of an instance launched into a group that has some. */
export interface LaunchWait {
  startedAt: number;
  completedAt?: number;
  completedBy?: CompletedBy;
  /** CONTINUE: the instance went InService; ABANDON: it was terminated. */
  result?: 'CONTINUE' | 'ABANDON';
}

export interface InstanceTimeline {
  launchedAt: number;
  /** When EC2 warned that the (Spot) instance will be interrupted. */
  spotWarnedAt?: number;
  /** Set when the group had launch lifecycle hooks at the launch. */
  launchWait?: LaunchWait;
  terminatingAt?: number;
  drainingAt?: number;
  lastTaskStoppedAt?: number;
  deregisteredAt?: number;
  /** The first deregistration orphaned tasks (force=true with tasks still alive). */
  forced?: boolean;
  /**
   * The first deregistration used force while ECS still counted a task (a plain call would have
   * been refused), whether or not that orphaned anything (a task counted during the deregistration lag).
   */
  forceOverrodeRefusal?: boolean;
  lifecycleCompletedAt?: number;
  completedBy?: CompletedBy;
  terminatedAt?: number;
  /** Tasks (ARNs) whose processes were still alive when EC2 terminated the instance. */
  tasksAliveAtTermination: string[];
  /**
   * Each stay in the group's warm pool, in order: launched into it, or returned to it by a
   * scale-in with ReuseOnScaleIn (Auto Scaling user guide, warm pools). Empty without a warm pool.
   */
  warmPoolVisits: WarmPoolVisit[];
  /**
   * Each replacement of its root volume by an instance refresh with Strategy ReplaceRootVolume
   * (Auto Scaling user guide, "Replace root volumes during instance refresh"), in order. The
   * top-level termination fields are not about these: the instance is not terminated.
   */
  rootVolumeReplacements: RootVolumeReplacement[];
}

export interface RootVolumeReplacement {
  /** The instance refresh chose it (ReplacingRootVolume). */
  startedAt: number;
  /** Its termination lifecycle actions (ReplacingRootVolume:Wait) ended; unset without a termination hook. */
  lifecycleCompletedAt?: number;
  completedBy?: CompletedBy;
  /** The old root volume was detached and the instance rebooted: every process on it died. */
  swappedAt?: number;
  /** Tasks (ARNs) whose processes were alive at the swap: a premature swap. */
  tasksAliveAtSwap: string[];
  /**
   * Registrations (ARNs) of the instance that were not INACTIVE at the swap. Their agent's
   * checkpoint was on the old root volume: none of them gets an agent again, each stays as it was
   * (ACTIVE or DRAINING, its tasks as last reported) until someone deregisters it.
   */
  registrationsLeftBehind: string[];
  /** The host is up on the new root volume (RootVolumeReplaced). */
  bootedAt?: number;
  /**
   * What the ECS agent did when the host came up without its checkpoint: `registered` a new
   * container instance, `refused` (the registration failed, e.g. the cluster is gone) or `none`
   * (not an ECS instance).
   */
  agentOnBoot?: 'registered' | 'refused' | 'none';
  /** The container instance (ARN) the agent registered after the swap. */
  newRegistration?: string;
  /** InService again. */
  inServiceAt?: number;
}

export interface WarmPoolVisit {
  /** Launched into the pool, or chosen by a scale-in to return to it (Warmed:Pending). */
  enteredAt: number;
  /** How it came: a launch into the pool or a return from the group. */
  origin: 'EC2' | 'AutoScalingGroup';
  /** Its termination lifecycle actions (Warmed:Pending:Wait) ended: by CompleteLifecycleAction, timeout or the hook's deletion. */
  lifecycleCompletedAt?: number;
  completedBy?: CompletedBy;
  /** EC2 stopped or hibernated the host (PoolState Stopped or Hibernated); unset for Running. */
  stoppedAt?: number;
  /** Tasks (ARNs) whose processes were alive when the host stopped: a premature stop. */
  tasksAliveAtStop: string[];
  /** A scale-out took it out of the pool (Pending; the host starts). */
  leftAt?: number;
  /** InService again. */
  inServiceAt?: number;
  /**
   * What the ECS agent did when the host started: `reconnected` to its checkpointed registration,
   * `refused` (that registration was deregistered: the agent exits, the instance serves no ECS
   * tasks), `registered` for the first time, or `none` (not an ECS instance).
   */
  agentOnStart?: 'reconnected' | 'refused' | 'registered' | 'none';
}

export interface EmulatorStats {
  /** Calls per `service:Operation`, throttled and failed ones included. */
  calls: Record<string, number>;
  throttled: Record<string, number>;
  injectedErrors: Record<string, number>;
  totalCalls: number;
  totalThrottled: number;
  totalInjectedErrors: number;
  /** Calls IAM refused, per `service:Operation`. */
  denied: Record<string, number>;
  totalDenied: number;
  /** The first refused calls (at most DENIED_SAMPLES), for diagnosis. */
  deniedRequests: DeniedRequest[];
  /** What the unkind options (emulator/unkind.ts) did; all 0 with them off. */
  unkind: UnkindStats;
  /** EventBridge PutEvents, entry by entry (emulator/events-api.ts); whole calls count in `calls` etc. as `events:PutEvents`. */
  putEvents: PutEventsStats;
}

export interface PutEventsStats {
  /** Entries of calls that got past throttling, injected errors and the request's validation. */
  entries: number;
  /** Entries answered with an EventId (those put on a bus that does not exist included). */
  accepted: number;
  /** Entries answered with an ErrorCode, by code (IAM refusals also count in `denied`). */
  failed: Record<string, number>;
  /** Accepted entries whose bus does not exist: EventBridge answered an EventId and nothing got them. */
  droppedUnknownBus: number;
}

export interface DeniedRequest {
  readonly at: number;
  readonly action: string;
  readonly resource: string;
  readonly principal: string;
  readonly invocationId?: string;
  readonly message: string;
}

/** How many refused calls `stats.deniedRequests` keeps. */
export const DENIED_SAMPLES = 20;

/**
 * Lifecycle states in which a termination hook's action is pending: the drain there is the
 * controller's. ReplacingRootVolume:Wait runs the termination hooks too (Auto Scaling user guide,
 * "Replace root volumes during instance refresh").
 */
export const HOOK_WAIT_STATES: readonly string[] = ['Terminating:Wait', 'Warmed:Pending:Wait', 'Warmed:Terminating:Wait', 'ReplacingRootVolume:Wait'];

export interface UntouchedViolation {
  at: number;
  operation: string;
  containerInstanceArn: string;
  ec2InstanceId: string;
  invocationId?: string;
}

/**
 * A write an invocation made on a registration that starts or keeps a drain (DRAINING, or an
 * attribute value), with the lifecycle state of its EC2 instance at that moment: what a scenario
 * checks against "never write on a stale premise".
 */
export interface RegistrationWrite {
  at: number;
  operation: 'UpdateContainerInstancesState' | 'PutAttributes';
  containerInstanceArn: string;
  ec2InstanceId: string;
  /** The instance's lifecycle state then (undefined once terminated). */
  lifecycleState?: string;
  /** The status asked (UpdateContainerInstancesState) or the attribute written (PutAttributes). */
  status?: string;
  attribute?: { name: string; value?: string };
  invocationId?: string;
  /**
   * When Auto Scaling last answered this invocation that the instance waits in a hook (dispatch
   * time of a DescribeAutoScalingInstances, DescribeAutoScalingGroups or DescribeWarmPool whose
   * answer showed a wait state), if it ever did: a write after such a read acted on a premise
   * that was true (or that AWS's own answer said was) when read.
   */
  waitSeenAt?: number;
}

export class Observer {
  readonly timelines = new Map<string, InstanceTimeline>();
  readonly stats: EmulatorStats = {
    calls: {},
    throttled: {},
    injectedErrors: {},
    totalCalls: 0,
    totalThrottled: 0,
    totalInjectedErrors: 0,
    denied: {},
    totalDenied: 0,
    deniedRequests: [],
    unkind: emptyUnkindStats(),
    putEvents: { entries: 0, accepted: 0, failed: {}, droppedUnknownBus: 0 },
  };
  readonly untouchedViolations: UntouchedViolation[] = [];
  readonly registrationWrites: RegistrationWrite[] = [];
  /** Per instance: per invocation, when Auto Scaling last told it that the instance waits in a hook. */
  private readonly waitsSeen = new Map<string, Map<string, number>>();

  timeline(instanceId: string, launchedAt = 0): InstanceTimeline {
    let timeline = this.timelines.get(instanceId);
    if (!timeline) {
      timeline = { launchedAt, tasksAliveAtTermination: [], warmPoolVisits: [], rootVolumeReplacements: [] };
      this.timelines.set(instanceId, timeline);
    }
    return timeline;
  }

  /** Notes the lifecycle states an Auto Scaling read answered an invocation (see RegistrationWrite.waitSeenAt). */
  noteLifecycleStates(invocationId: string, at: number, states: readonly { instanceId: string; lifecycleState: string }[]): void {
    for (const { instanceId, lifecycleState } of states) {
      if (!HOOK_WAIT_STATES.includes(lifecycleState)) continue;
      let seen = this.waitsSeen.get(instanceId);
      if (!seen) this.waitsSeen.set(instanceId, seen = new Map());
      seen.set(invocationId, at);
    }
  }

  waitSeenBy(instanceId: string, invocationId: string): number | undefined {
    return this.waitsSeen.get(instanceId)?.get(invocationId);
  }

  countCall(key: string): void {
    this.stats.calls[key] = (this.stats.calls[key] ?? 0) + 1;
    this.stats.totalCalls++;
  }

  countThrottled(key: string): void {
    this.stats.throttled[key] = (this.stats.throttled[key] ?? 0) + 1;
    this.stats.totalThrottled++;
  }

  countDenied(key: string, request: DeniedRequest): void {
    this.stats.denied[key] = (this.stats.denied[key] ?? 0) + 1;
    this.stats.totalDenied++;
    if (this.stats.deniedRequests.length < DENIED_SAMPLES) this.stats.deniedRequests.push(request);
  }

  countInjectedError(key: string): void {
    this.stats.injectedErrors[key] = (this.stats.injectedErrors[key] ?? 0) + 1;
    this.stats.totalInjectedErrors++;
  }
}

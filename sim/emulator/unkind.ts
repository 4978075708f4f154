/**
 * Options that make the emulator as unkind as AWS is allowed to be. AWS promises little about
 * timing and consistency; by default the emulator answers reads with the state of the instant,
 * lets a lifecycle action be completed the moment it starts, and so on. Each option below turns
 * one such latitude on. Every one of them is off by default; each doc comment says whether AWS
 * documents the behaviour (the documented ones are meant to be turned on by default once the drain
 * controller copes with them) and names its source. See sim/README.md, "Unkind AWS".
 */

/** The read operations whose answers may be stale (see StaleReadOptions). */
export const ECS_STALE_READ_OPERATIONS = ['DescribeContainerInstances', 'ListContainerInstances', 'ListTasks', 'DescribeTasks'] as const;
export const AUTO_SCALING_STALE_READ_OPERATIONS = ['DescribeAutoScalingInstances', 'DescribeAutoScalingGroups', 'DescribeWarmPool'] as const;
export type EcsStaleReadOperation = typeof ECS_STALE_READ_OPERATIONS[number];
export type AutoScalingStaleReadOperation = typeof AUTO_SCALING_STALE_READ_OPERATIONS[number];
export type StaleReadOperation = EcsStaleReadOperation | AutoScalingStaleReadOperation;

/**
 * The longest staleness, in virtual ms, of each read operation's answers: each call answers the
 * state as it was `s` ms ago, `s` drawn (seeded) uniformly from 0 to the operation's window. An
 * operation not named (or 0) answers the state of the instant, as the emulator does by default.
 *
 * - ECS: documented. "The Amazon ECS API follows an eventual consistency model ... the result of an
 *   API command you run that affects your Amazon ECS resources might not be immediately visible to
 *   all subsequent commands you run" (ECS API reference, RunTask). How long is not documented.
 * - Auto Scaling: not documented. The Auto Scaling API reference promises nothing either way; a
 *   public report shows a propagation race between its read and its write APIs
 *   (PrairieLearn/PrairieLearn#15586, "Retry Auto Scaling lifecycle completion").
 *
 * What a stale answer shows (sim/emulator/stale-reads.ts): a container instance's status,
 * statusReason, agent connection, version, agent version and update status, attributes, remaining
 * resources and task counts; a task's lastStatus, desiredStatus, version and times; an instance's
 * lifecycle state; a group's desired capacity and its members (an instance terminated within the
 * window still listed, one launched or registered after the answer's instant not yet). Writes always
 * act on the state of the instant.
 */
export type StaleReadOptions = Partial<Record<StaleReadOperation, number>>;

/** When a stopping task's CPU and memory are given back to its container instance's remainingResources. */
export type ResourceRelease =
  /** When the task reaches STOPPED (the emulator's default). */
  | 'stopped'
  /**
   * As soon as its desired status is STOPPED, while it may still be DEACTIVATING or STOPPING for
   * minutes: not documented as the intended behaviour, but reported of ECS by its users
   * (aws/containers-roadmap#575 and aws/amazon-ecs-agent#2267, "Resources taken up by a 'stopping'
   * task are advertised as free").
   */
  | 'desired-stopped';

/** Which tasks make DeregisterContainerInstance without `force` refuse. */
export type DeregistrationRefusal =
  /**
   * Any task ECS shows as not STOPPED (and, for `deregistrationLagMs`, one that just reached STOPPED):
   * the emulator's default. The ECS API reference does not state it; an ECS maintainer wrote that the
   * API "won't let you succeed" unless the tasks were stopped or force is used (aws/amazon-ecs-agent#125),
   * and moto refuses while tasks are on the instance ("Found running tasks on the instance.").
   */
  | 'tasks-not-stopped'
  /**
   * Only tasks whose desired status is RUNNING (what runningTasksCount counts), and for
   * `deregistrationLagMs` one whose desired status just became STOPPED. The ECS API reference
   * (DeregisterContainerInstance, `force`) speaks only of "tasks running on the container instance"
   * when it describes force; it states no refusal in so many words. Tasks still stopping when such
   * a plain deregistration succeeds are orphaned, as with force.
   */
  | 'tasks-desired-running';

/** How the service scheduler replaces the replica tasks of a container instance set to DRAINING. */
export type DrainingReplacement =
  /**
   * Every replica task there is told to stop at once and replacements start wherever they fit:
   * the emulator's default (as if minimumHealthyPercent were 0 and maximumPercent unbounded).
   */
  | 'immediate'
  /**
   * Documented (ECS API reference, UpdateContainerInstancesState; ECS developer guide, "Draining
   * Amazon ECS container instances"): PENDING tasks stop at once; RUNNING ones are stopped and
   * replaced within the service's minimumHealthyPercent and maximumPercent. With a minimum of 100 %
   * a task is stopped only once a replacement is RUNNING elsewhere; with a maximum of 200 % as many
   * replacements as draining tasks may run at once; replacements start only where they can be
   * placed (otherwise the old task keeps running and `stats.unkind.drainReplacementsUnplaceable`
   * counts it, where ECS would send a service event).
   */
  | 'deployment-configuration';

/**
 * A batch workload and Fargate tasks in the background of each cluster (or of `clusters`), so that
 * cluster-wide listings (ListTasks desiredStatus=STOPPED above all) pay what they pay in a busy
 * account. Arrivals are a seeded Poisson process. Not an AWS behaviour: a workload.
 */
export interface BackgroundChurnOptions {
  /** The clusters it runs in (by name); default every cluster created. */
  readonly clusters?: readonly string[];
  /** Standalone (RunTask) tasks started per hour, each on a random ACTIVE container instance with room. */
  readonly standaloneTasksPerHour?: number;
  /** How long each runs before its essential container exits, in s. @default [60, 900] */
  readonly standaloneRunSeconds?: readonly [number, number];
  /**
   * Fargate tasks started per hour: tasks without a container instance, `launchType` FARGATE,
   * listed by ListTasks of the cluster (ECS API reference, ListTasks and Task).
   */
  readonly fargateTasksPerHour?: number;
  /** @default [60, 900] */
  readonly fargateRunSeconds?: readonly [number, number];
  /** Fargate tasks already STOPPED when the cluster is created (stopped over the hour before). @default 0 */
  readonly fargateStoppedBacklog?: number;
}

/**
 * A busy cluster, for the bench's `busy-cluster` mode and the chaos rows: a batch job a minute on
 * the instances, and Fargate tasks coming and going (1,500 stopped over the hour before, 600 more
 * an hour), so that the cluster's listing of STOPPED tasks (listed for at least an hour, ECS API
 * reference, ListTasks) runs to some 20 pages of 100.
 */
export const BUSY_CLUSTER: BackgroundChurnOptions = {
  standaloneTasksPerHour: 60, standaloneRunSeconds: [60, 600], fargateTasksPerHour: 600, fargateStoppedBacklog: 1500,
};

export interface UnkindOptions {
  /** See StaleReadOptions. Default: none (every read answers the state of the instant). */
  readonly staleReads?: StaleReadOptions;
  /**
   * For this long after a lifecycle action starts, CompleteLifecycleAction and
   * RecordLifecycleActionHeartbeat answer `ValidationError: No active Lifecycle Action found with
   * instance ID …` (or `… with token …`) although DescribeAutoScalingInstances already shows the
   * Wait state. Not documented; shown by a public report (PrairieLearn/PrairieLearn#15586, "Retry
   * Auto Scaling lifecycle completion": Terminating:Wait reported, the completion refused, the same
   * action completed later on a retry). How long is not known. Default 0 (off).
   */
  readonly lifecycleActionVisibilityLagMs?: number;
  /** See ResourceRelease. Default `stopped`. */
  readonly releaseResourcesAt?: ResourceRelease;
  /** See DeregistrationRefusal. Default `tasks-not-stopped`. */
  readonly deregistrationRefusal?: DeregistrationRefusal;
  /** See DrainingReplacement. Default `immediate`. */
  readonly drainingReplacement?: DrainingReplacement;
  /**
   * STOPPED tasks stay listed (ListTasks) for at least an hour: "Currently, stopped tasks appear in
   * the returned results for at least one hour" (ECS API reference, ListTasks). Documented as a
   * lower bound only. Each task stays listed an hour plus a seeded draw from 0 to this many ms.
   * Default 0 (exactly an hour, the emulator's default).
   */
  readonly stoppedTaskVisibilityExtraMs?: number;
  /** See BackgroundChurnOptions. Default: none. */
  readonly backgroundChurn?: BackgroundChurnOptions;
}

/** What the unkind options did, in `emulator.stats.unkind`. */
export interface UnkindStats {
  /** Reads answered with an earlier state (staleness > 0), per `service:Operation`. */
  staleReads: Record<string, number>;
  totalStaleReads: number;
  /** CompleteLifecycleAction / RecordLifecycleActionHeartbeat refused within lifecycleActionVisibilityLagMs. */
  lifecycleActionNotYetVisible: number;
  /** Plain DeregisterContainerInstance calls that orphaned tasks still stopping (`tasks-desired-running`). */
  plainDeregistrationsOrphaning: number;
  /** Instants a service wanted a replacement for a draining task and found no room (`deployment-configuration`). */
  drainReplacementsUnplaceable: number;
  /** Background churn: standalone tasks started, Fargate tasks started, standalone tasks that found no room. */
  churnStandaloneTasks: number;
  churnFargateTasks: number;
  churnUnplaceable: number;
}

export function emptyUnkindStats(): UnkindStats {
  return {
    staleReads: {},
    totalStaleReads: 0,
    lifecycleActionNotYetVisible: 0,
    plainDeregistrationsOrphaning: 0,
    drainReplacementsUnplaceable: 0,
    churnStandaloneTasks: 0,
    churnFargateTasks: 0,
    churnUnplaceable: 0,
  };
}

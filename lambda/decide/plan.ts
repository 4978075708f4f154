/**
 * The plan for one instance: what a drain needs next, as a pure function of what ECS and Auto
 * Scaling report (planTermination, planSpotInterruption), and the facts it rests on (wait states,
 * deadlines, heartbeats, markers).
 */
import { COMPLETION_MARGIN_SECONDS, EVENT_MAX_AGE_SECONDS } from '../../src/constants';
import type { ControllerConfig } from '../config';
import type { DrainRecordValue } from '../drain-record';
import type { ContainerInstanceView, GroupInstance, InstanceView } from '../model';

export type { ContainerInstanceView, InstanceView, TaskView } from '../model';

/**
 * Lifecycle states in which an instance waits for this termination hook, and where it goes
 * next (Auto Scaling user guide, "Amazon EC2 Auto Scaling instance lifecycle" and "Use lifecycle
 * hooks with a warm pool"):
 * - `Terminating:Wait`: scale-in, health replacement, Spot: the instance is terminated next;
 * - `Warmed:Terminating:Wait`: an instance of the warm pool is terminated;
 * - `Warmed:Pending:Wait`: scale-in of a group whose warm pool has `ReuseOnScaleIn`: the instance
 *   is stopped (or hibernated) and kept in the warm pool. Launch hooks use this state too, for new
 *   instances entering the pool; those never registered with ECS, because the ECS guide requires
 *   `ECS_WARM_POOLS_CHECK` for warm pools, and the agent then waits for `InService` before it
 *   registers (amazon-ecs-agent, agent/app/agent.go, waitUntilInstanceInService). Completing
 *   this hook's action for them is answered "no active lifecycle action", which is harmless.
 * - `ReplacingRootVolume:Wait`: an instance refresh with `ReplaceRootVolume` runs the termination
 *   hooks before it swaps the root volume and reboots the instance (user guide, "Replace root
 *   volumes during instance refresh"). Every task dies with the reboot, and the ECS agent, whose
 *   checkpoint lives on the root volume (its data directory), registers a new container instance
 *   afterwards: the old registration would never see its agent again, so it is deregistered as for
 *   a termination.
 */
export const WAIT_STATES: Readonly<Record<string, Destination>> = {
  'Terminating:Wait': 'terminate',
  'Warmed:Terminating:Wait': 'terminate',
  'Warmed:Pending:Wait': 'warm-pool',
  'ReplacingRootVolume:Wait': 'new-root-volume',
};
export const TERMINATING_WAIT = 'Terminating:Wait';
export const REPLACING_ROOT_VOLUME_WAIT = 'ReplacingRootVolume:Wait';
/** Where a waiting instance goes once its lifecycle action is completed. */
export type Destination = 'terminate' | 'warm-pool' | 'new-root-volume';

/** Whether the registration outlives the wait: only an instance going back to the warm pool keeps it. */
export function keepsRegistration(destination: Destination): boolean {
  return destination === 'warm-pool';
}

/**
 * States in which an instance is back in service (or on its way) after the warm pool (user guide,
 * warm pool lifecycle): a registration parked by the controller is set ACTIVE again.
 */
const IN_SERVICE_STATES = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService']);

/** Statuses of a registration that can run tasks (ECS API reference, ContainerInstance.status). */
const DRAINABLE = new Set(['ACTIVE', 'DRAINING']);

/** Whether a registration can run tasks (ACTIVE or DRAINING). */
export function isDrainable(ci: Pick<ContainerInstanceView, 'status'>): boolean {
  return DRAINABLE.has(ci.status);
}
export type Outcome =
  /** The instance is not the controller's to touch. */
  | 'left-alone'
  /** Tasks are still stopping; a later event or reconcile pass will look again. */
  | 'draining'
  /** Every task stopped: deregistered (or parked) and released. */
  | 'drained'
  /** The deadline passed: released with tasks possibly still on it. */
  | 'forced'
  /** The instance never joined the cluster (or already left it): released at once. */
  | 'not-registered'
  /** Back in service from the warm pool: its parked registration is ACTIVE again. */
  | 'reactivated';

export interface InstancePlan {
  readonly outcome: Outcome;
  /** Why, in words an operator can act on. */
  readonly reason: string;
  /** Container instances to set to DRAINING. */
  readonly setDraining: readonly string[];
  /** The drain record to write on these container instances (new ones, or an updated hook clock). */
  readonly record?: { readonly value: DrainRecordValue; readonly on: readonly string[] };
  /** Reads needed before the instance can be judged further: its tasks, its registrations. */
  readonly needs: { readonly tasksOf: readonly string[]; readonly registrations: boolean };
  /** Send a lifecycle heartbeat: the hook could time out before the drain's deadline and margin. */
  readonly heartbeat: boolean;
  /** Container instances whose tasks still meant to run are stopped (StopTask): the drain's stop time passed (stopTasksBeforeDeadline). */
  readonly stopTasks: readonly string[];
  /** Container instances to deregister, and whether with `force`. */
  readonly deregister: readonly { readonly containerInstanceArn: string; readonly force: boolean }[];
  /** Container instances to keep registered for the warm pool, marked parked instead of drained. */
  readonly park: readonly string[];
  /** Container instances to set ACTIVE again, and whose parked marker to remove. */
  readonly reactivate: readonly string[];
  /** Complete the lifecycle action with CONTINUE. */
  readonly completeLifecycleAction: boolean;
  /** When the drain started, for the duration metric (epoch ms). */
  readonly drainStartedAt?: number;
  /** When the drain is forced (epoch ms), when there is a drain. */
  readonly deadline?: number;
}

/** A plan that asks for nothing: every plan starts from it. */
export const NOTHING: Omit<InstancePlan, 'outcome' | 'reason'> = {
  setDraining: [],
  needs: { tasksOf: [], registrations: false },
  heartbeat: false,
  stopTasks: [],
  deregister: [],
  park: [],
  reactivate: [],
  completeLifecycleAction: false,
};

/**
 * Decides what to do with one instance whose termination lifecycle action may be waiting. Call
 * it again once the reads in `needs` are done (tasks filled in, registrations complete).
 */
export function planTermination(view: InstanceView, now: number, config: ControllerConfig): InstancePlan {
  if (view.groupName === undefined) {
    return { ...NOTHING, outcome: 'left-alone', reason: 'the instance is in no managed Auto Scaling group' };
  }
  const destination = view.lifecycleState === undefined ? undefined : WAIT_STATES[view.lifecycleState];
  if (destination === undefined) {
    if (view.lifecycleState !== undefined && IN_SERVICE_STATES.has(view.lifecycleState)) {
      const parked = view.containerInstances.filter(ci => ci.parkedAt !== undefined);
      if (parked.length > 0) {
        return {
          ...NOTHING,
          outcome: 'reactivated',
          reason: `back from the warm pool (${view.lifecycleState}): its registration is ACTIVE again`,
          reactivate: parked.map(ci => ci.containerInstanceArn),
        };
      }
    }
    return { ...NOTHING, outcome: 'left-alone', reason: `the instance is ${view.lifecycleState ?? 'not in its group'}, not waiting in this hook` };
  }

  const registrations = view.containerInstances.filter(ci => ci.status !== 'INACTIVE');
  const changedSince = view.eventTime === undefined ? undefined
    : registrations.find(ci => Math.max(ci.parkedAt ?? -Infinity, ci.reactivatedAt ?? -Infinity) > view.eventTime!);
  if (changedSince) {
    return {
      ...NOTHING,
      outcome: 'left-alone',
      reason: `a late copy of a lifecycle action event: its registration was ${changedSince.parkedAt !== undefined ? 'parked' : 'set ACTIVE again'} after it`,
    };
  }
  if (registrations.length === 0) {
    // A lookup by instance id that finds nothing is the whole truth; a partial read is not.
    if (!view.registrationsComplete) return { ...NOTHING, outcome: 'draining', reason: 'its registrations are being looked up', needs: { tasksOf: [], registrations: true } };
    return { ...NOTHING, outcome: 'not-registered', reason: 'no container instance of the cluster runs on it', completeLifecycleAction: true };
  }
  const drainable = registrations.filter(ci => DRAINABLE.has(ci.status));

  // One drain per EC2 instance: every registration shares the earliest recorded deadline, and
  // the latest known start of the hook's clock.
  const records = registrations.map(ci => ci.record).filter((r): r is DrainRecordValue => r !== undefined);
  const recorded = records.length > 0;
  const deadline = recorded ? Math.min(...records.map(r => r.deadline)) : newDeadline(view.hookClockFrom, now, config);
  const startedAt = recorded ? Math.min(...records.map(r => r.startedAt)) : now;
  // Each known start of the hook's clock is at or before its latest restart, so the latest of them is too.
  const clocks = [...records.map(r => r.hookClockFrom), view.hookClockFrom].filter((t): t is number => t !== undefined);
  const hookClockFrom = clocks.length > 0 ? Math.max(...clocks) : undefined;
  // The causes last published go to a registration that joins the drain, so that it is not announced waiting again.
  const waits = records.find(r => r.waits !== undefined)?.waits;
  const value: DrainRecordValue = {
    deadline, startedAt, ...hookClockFrom === undefined ? {} : { hookClockFrom }, ...waits === undefined ? {} : { waits },
  };
  const unrecorded = drainable.filter(ci => ci.record === undefined).map(ci => ci.containerInstanceArn);
  const common = {
    ...NOTHING,
    setDraining: drainable.filter(ci => ci.status === 'ACTIVE').map(ci => ci.containerInstanceArn),
    record: unrecorded.length > 0 ? { value, on: unrecorded } : undefined,
    drainStartedAt: startedAt,
    deadline,
  };

  if (now >= deadline) {
    // `force` only here, at the deadline: it orphans what is still running, and ECS restarts the
    // service tasks elsewhere (DeregisterContainerInstance reference).
    if (!view.registrationsComplete) return { ...common, outcome: 'draining', reason: 'the deadline passed; its registrations are being looked up', needs: { tasksOf: [], registrations: true } };
    const force = config.forceDeregisterOnTimeout;
    return {
      ...common,
      outcome: 'forced',
      reason: `the drain deadline ${new Date(deadline).toISOString()} passed`,
      deregister: force ? drainable.map(ci => ({ containerInstanceArn: ci.containerInstanceArn, force: true })) : [],
      park: !force && keepsRegistration(destination) ? drainable.map(ci => ci.containerInstanceArn) : [],
      completeLifecycleAction: true,
    };
  }

  // Nothing runs or waits to run, and no task still holds CPU or memory (a stopping task
  // releases them only when it is STOPPED): only then are the tasks worth reading. A REGISTERING
  // registration may still get tasks and holds the instance; DEREGISTERING and
  // REGISTRATION_FAILED ones run nothing and never will (ECS places nothing there): ECS finishes
  // them, and they hold nothing back.
  const holding = registrations.filter(ci => ci.status === 'REGISTERING' || (DRAINABLE.has(ci.status) && !mayBeDrained(ci)));
  const unread = drainable.filter(ci => ci.tasksNotStopped === undefined).map(ci => ci.containerInstanceArn);
  const stopping = drainable.filter(ci => (ci.tasksNotStopped?.length ?? 0) > 0);
  const heartbeat = heartbeatDue(hookClockFrom, deadline, now, config);
  if (holding.length === 0 && unread.length === 0 && stopping.length === 0) {
    if (!view.registrationsComplete) return { ...common, outcome: 'draining', reason: 'empty; its registrations are being looked up', needs: { tasksOf: [], registrations: true } };
    return {
      ...common,
      outcome: 'drained',
      reason: keepsRegistration(destination)
        ? 'no task is left that is not STOPPED; the registration is kept for the warm pool'
        : 'no task is left that is not STOPPED',
      deregister: keepsRegistration(destination) ? [] : drainable.map(ci => ({ containerInstanceArn: ci.containerInstanceArn, force: false })),
      park: keepsRegistration(destination) ? drainable.map(ci => ci.containerInstanceArn) : [],
      completeLifecycleAction: true,
    };
  }
  return {
    ...common,
    outcome: 'draining',
    reason: describeWait(registrations),
    needs: { tasksOf: holding.length === 0 ? unread : [], registrations: false },
    heartbeat,
    stopTasks: recorded && stopTimePassed(deadline, now, config)
      ? drainable.filter(ci => ci.status === 'DRAINING' && ci.runningTasksCount + ci.pendingTasksCount > 0).map(ci => ci.containerInstanceArn)
      : [],
  };
}

/**
 * Whether a drain's stop time has come: `stopTasksBeforeDeadlineSeconds` before its deadline, what
 * still runs is stopped (StopTask: SIGTERM, the task's stop timeout, then SIGKILL; ECS
 * developer guide, "Amazon ECS task lifecycle"), so that it can end cleanly and ECS records why,
 * instead of dying with the instance after a forced deregistration. Only for a recorded drain:
 * one without a record has no deadline the controller enforces.
 */
function stopTimePassed(deadline: number, now: number, config: ControllerConfig): boolean {
  const before = config.stopTasksBeforeDeadlineSeconds;
  return before !== undefined && now >= deadline - before * 1000;
}

/**
 * The deadline of a drain recorded now: the drain timeout from now, but never later than the
 * lifecycle action's global timeout less the completion margin. That timeout is the smaller of
 * 48 hours and 100 times the heartbeat timeout, counted from the action's start whatever the
 * heartbeats (Auto Scaling user guide, "Amazon EC2 Auto Scaling lifecycle hooks"); Auto Scaling
 * then ends the action with the hook's default result, and a deadline after that would never be
 * enforced (no forced deregistration, no DrainsForced). The action's start is bounded below by
 * what the caller knows (`hookClockFrom`: the lifecycle event's time less a slack, the last pass
 * that saw the instance in service) and by one heartbeat timeout ago: an action nobody has sent a
 * heartbeat for (the controller sends them only for recorded drains) ends at its heartbeat
 * timeout, so one still waiting started less than that ago.
 */
function newDeadline(hookClockFrom: number | undefined, now: number, config: ControllerConfig): number {
  const heartbeatMs = config.heartbeatTimeoutSeconds * 1000;
  const actionStartedAfter = Math.max(hookClockFrom ?? -Infinity, now - heartbeatMs);
  const globalTimeoutMs = Math.min(MAX_GLOBAL_TIMEOUT_MS, 100 * heartbeatMs);
  return Math.min(now + config.drainTimeoutSeconds * 1000, actionStartedAfter + globalTimeoutMs - COMPLETION_MARGIN_SECONDS * 1000);
}

/**
 * How long a reactivation marker is kept: longer than a copy of a lifecycle action event can
 * arrive late. EventBridge gives up a delivery to the event queue after EVENT_MAX_AGE_SECONDS
 * (the rules' target retry policy), and the queue drops a message that much after it was sent
 * (its retention): a copy reaches the controller at most twice that after the event.
 */
export const REACTIVATION_MARKER_KEPT_MS = 2 * EVENT_MAX_AGE_SECONDS * 1000;

/** Reactivation markers the reconcile pass removes: older than any late copy of an event they guard against. */
export function staleMarkers(registrations: readonly ContainerInstanceView[], now: number): string[] {
  return registrations
    .filter(ci => ci.status === 'ACTIVE' && ci.reactivatedAt !== undefined && now - ci.reactivatedAt > REACTIVATION_MARKER_KEPT_MS)
    .map(ci => ci.containerInstanceArn);
}

/**
 * Auto Scaling can answer "No active Lifecycle Action found" for an action that is pending: a
 * public report shows the refusal right after DescribeAutoScalingInstances said Terminating:Wait,
 * and the same call accepted moments later (PrairieLearn/PrairieLearn#15586). A refused completion
 * or heartbeat counts as "already over" only when a read of the instance agrees: while Auto
 * Scaling still reports it in a wait state of this hook, the call is asked again.
 */
export function stillWaits(state: { groupName?: string; lifecycleState?: string }): boolean {
  return state.groupName !== undefined && state.lifecycleState !== undefined && WAIT_STATES[state.lifecycleState] !== undefined;
}

/** A lifecycle action's global timeout is at most 48 hours (Auto Scaling user guide, lifecycle hooks). */
const MAX_GLOBAL_TIMEOUT_MS = 48 * 60 * 60 * 1000;

/**
 * Decides what to do when EC2 warns that a Spot instance will be interrupted: drain at once
 * (the instance has two minutes), before its termination lifecycle action starts. The warning
 * comes before the action, so its time is a safe start of the hook's clock.
 */
export function planSpotInterruption(view: InstanceView, now: number, config: ControllerConfig): InstancePlan {
  if (!config.drainOnSpotInterruption) {
    return { ...NOTHING, outcome: 'left-alone', reason: 'draining on Spot interruption is turned off' };
  }
  if (view.groupName === undefined) {
    return { ...NOTHING, outcome: 'left-alone', reason: 'the instance is in no managed Auto Scaling group' };
  }
  if (!view.registrationsComplete) {
    return { ...NOTHING, outcome: 'draining', reason: 'EC2 will interrupt the Spot instance in two minutes', needs: { tasksOf: [], registrations: true } };
  }
  const drainable = view.containerInstances.filter(ci => DRAINABLE.has(ci.status));
  const deadline = now + config.drainTimeoutSeconds * 1000;
  const unrecorded = drainable.filter(ci => ci.record === undefined).map(ci => ci.containerInstanceArn);
  return {
    ...NOTHING,
    outcome: 'draining',
    reason: 'EC2 will interrupt the Spot instance in two minutes',
    setDraining: drainable.filter(ci => ci.status === 'ACTIVE').map(ci => ci.containerInstanceArn),
    record: unrecorded.length > 0 ? { value: { deadline, startedAt: now, hookClockFrom: now }, on: unrecorded } : undefined,
    drainStartedAt: now,
    deadline,
  };
}

/**
 * Whether a container instance is worth a closer look: nothing runs or waits to run, and no
 * task still holds resources. Events only say "look now"; the drain is judged on fresh reads.
 */
export function mayBeDrained(ci: { runningTasksCount?: number; pendingTasksCount?: number; resourcesReleased?: boolean }): boolean {
  return (ci.runningTasksCount ?? 0) === 0 && (ci.pendingTasksCount ?? 0) === 0 && ci.resourcesReleased !== false;
}

/**
 * The hook's heartbeat timeout restarts at the action's start and at every heartbeat (Auto
 * Scaling API reference, RecordLifecycleActionHeartbeat). It must never run out before the
 * deadline plus the completion margin, whatever the delay between the action's start and the
 * drain record: a heartbeat is due once half the timeout has passed since the clock's last
 * known start, while the hook would otherwise expire before deadline + margin, and at once
 * when that start is not known. The controller sends it only for a drain that is recorded
 * (before, or by this very invocation): the record keeps the heartbeat's time, and a drain whose
 * record cannot be written gets none, so the hook's own timeout still bounds it.
 */
function heartbeatDue(hookClockFrom: number | undefined, deadline: number, now: number, config: ControllerConfig): boolean {
  if (hookClockFrom === undefined) return true;
  const timeoutMs = config.heartbeatTimeoutSeconds * 1000;
  const expiresTooEarly = hookClockFrom + timeoutMs < deadline + COMPLETION_MARGIN_SECONDS * 1000;
  return expiresTooEarly && now - hookClockFrom >= timeoutMs / 2;
}

function describeWait(registrations: readonly ContainerInstanceView[]): string {
  const parts = registrations.map(ci => {
    if (!DRAINABLE.has(ci.status)) return `a ${ci.status} registration`;
    const stopping = ci.tasksNotStopped?.length;
    if (stopping !== undefined && ci.runningTasksCount === 0 && ci.pendingTasksCount === 0) return `${stopping} task(s) not yet STOPPED`;
    if (ci.runningTasksCount === 0 && ci.pendingTasksCount === 0 && ci.resourcesReleased === false) return 'tasks still stopping';
    return `${ci.runningTasksCount} running and ${ci.pendingTasksCount} pending task(s)`;
  });
  return `waiting: ${parts.join('; ')}`;
}

/** Plans one instance (planTermination, or planSpotInterruption for a Spot warning). */
export type Planner = (view: InstanceView, now: number, config: ControllerConfig) => InstancePlan;

/** Auto Scaling's view of an instance: its group only if it is a managed one. */
export function managedState(state: GroupInstance | undefined, config: ControllerConfig): Pick<InstanceView, 'groupName' | 'lifecycleState'> {
  const managed = state !== undefined && config.autoScalingGroupNames.has(state.groupName);
  return { groupName: managed ? state.groupName : undefined, lifecycleState: state?.lifecycleState };
}

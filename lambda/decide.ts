/**
 * The controller's decisions, as pure functions of what ECS and Auto Scaling report.
 * No AWS calls here: `controller.ts` reads the state, asks these functions, and carries out
 * the plan.
 */
import type { ControllerConfig } from './config';
import type { DrainRecordValue } from './drain-record';

/** Auto Scaling lifecycle state of an instance whose termination hook waits (Auto Scaling user guide). */
export const TERMINATING_WAIT = 'Terminating:Wait';

/** A task of a container instance as DescribeTasks reports it. */
export interface TaskView {
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
}

/** A registration of an EC2 instance in the cluster. */
export interface ContainerInstanceView {
  readonly containerInstanceArn: string;
  /** ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED or INACTIVE. */
  readonly status: string;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  /** When the drain started (epoch ms), from the attribute the controller recorded, if any. */
  readonly drainStartedAt?: number;
  /** When the drain is forced (epoch ms), from the attribute the controller recorded, if any. */
  readonly deadline?: number;
  /** How many registrations of the EC2 instance the recorded drain covers, if recorded. */
  readonly recordedRegistrations?: number;
  /** When the controller last sent a lifecycle heartbeat (epoch ms), if it ever did. */
  readonly lastHeartbeatAt?: number;
  /**
   * Whether every CPU and memory unit is free again (remaining equals registered). A task holds
   * its resources until it is STOPPED, so false means a task is still stopping; undefined when
   * the resources are not known.
   */
  readonly resourcesReleased?: boolean;
  /** The instance's tasks whose lastStatus is not STOPPED; undefined while not read. */
  readonly tasksNotStopped?: readonly TaskView[];
}

/** An EC2 instance as Auto Scaling and ECS report it. */
export interface InstanceView {
  readonly instanceId: string;
  /** The managed group the instance belongs to; undefined when it is in none of them. */
  readonly groupName?: string;
  readonly lifecycleState?: string;
  /** Every registration of the instance in the cluster that is not INACTIVE. */
  readonly containerInstances: readonly ContainerInstanceView[];
}

/** A drain record (see drain-record.ts) to write on one container instance. */
export interface DrainRecord extends DrainRecordValue {
  readonly containerInstanceArn: string;
}

export type Outcome =
  /** The instance is not the controller's to touch. */
  | 'left-alone'
  /** Tasks are still stopping; a later event or reconcile pass will look again. */
  | 'draining'
  /** Every task stopped: deregistered and released. */
  | 'drained'
  /** The deadline passed: released with tasks possibly still on it. */
  | 'forced'
  /** The instance never joined the cluster (or already left it): released at once. */
  | 'not-registered';

export interface InstancePlan {
  readonly outcome: Outcome;
  /** Why, in words an operator can act on. */
  readonly reason: string;
  /** Container instances to set to DRAINING. */
  readonly setDraining: readonly string[];
  /** Drain records to write, for container instances that have none yet. */
  readonly recordDrain: readonly DrainRecord[];
  /** Container instances whose tasks must be read before the controller can tell if they are drained. */
  readonly readTasksOf: readonly string[];
  /** Send a lifecycle heartbeat: the hook would time out before the drain deadline. */
  readonly heartbeat: boolean;
  /** Container instances to deregister, and whether with `force`. */
  readonly deregister: readonly { containerInstanceArn: string; force: boolean }[];
  /** Complete the lifecycle action with CONTINUE. */
  readonly completeLifecycleAction: boolean;
  /** When the drain started, for the duration metric (epoch ms). */
  readonly drainStartedAt?: number;
}

const NOTHING: Omit<InstancePlan, 'outcome' | 'reason'> = {
  setDraining: [],
  recordDrain: [],
  readTasksOf: [],
  heartbeat: false,
  deregister: [],
  completeLifecycleAction: false,
};

/**
 * Decides what to do with one instance whose termination lifecycle action may be waiting.
 * Call it again with `tasksNotStopped` filled for each container instance in `readTasksOf`.
 */
export function planTermination(view: InstanceView, now: number, config: ControllerConfig): InstancePlan {
  if (view.groupName === undefined) {
    return { ...NOTHING, outcome: 'left-alone', reason: 'the instance is in no managed Auto Scaling group' };
  }
  if (view.lifecycleState !== TERMINATING_WAIT) {
    return { ...NOTHING, outcome: 'left-alone', reason: `the instance is ${view.lifecycleState ?? 'not in its group'}, not ${TERMINATING_WAIT}` };
  }
  const registrations = view.containerInstances.filter(ci => ci.status !== 'INACTIVE');
  if (registrations.length === 0) {
    return { ...NOTHING, outcome: 'not-registered', reason: 'no container instance of the cluster runs on it', completeLifecycleAction: true };
  }

  // One drain per EC2 instance: every registration shares the earliest recorded deadline.
  const recorded = registrations.filter(ci => ci.deadline !== undefined);
  const deadline = recorded.length > 0 ? Math.min(...recorded.map(ci => ci.deadline!)) : now + config.drainTimeoutSeconds * 1000;
  const startedAt = recorded.length > 0
    ? Math.min(...recorded.map(ci => ci.drainStartedAt ?? ci.deadline! - config.drainTimeoutSeconds * 1000))
    : now;
  const recordDrain = registrations
    .filter(ci => ci.deadline === undefined)
    .map(ci => ({ containerInstanceArn: ci.containerInstanceArn, startedAt, deadline, registrations: registrations.length }));
  const setDraining = registrations.filter(ci => ci.status === 'ACTIVE').map(ci => ci.containerInstanceArn);
  const common = { ...NOTHING, setDraining, recordDrain, drainStartedAt: startedAt };

  if (now >= deadline) {
    return {
      ...common,
      outcome: 'forced',
      reason: `the drain deadline ${new Date(deadline).toISOString()} passed`,
      deregister: config.forceDeregisterOnTimeout
        ? registrations.map(ci => ({ containerInstanceArn: ci.containerInstanceArn, force: true }))
        : [],
      completeLifecycleAction: true,
    };
  }

  // Nothing runs or waits to run, and no task still holds CPU or memory (a stopping task
  // releases them only when it is STOPPED): only then are the tasks worth reading.
  const empty = registrations.filter(ci => mayBeDrained(ci));
  const unread = empty.filter(ci => ci.tasksNotStopped === undefined).map(ci => ci.containerInstanceArn);
  const drained = empty.filter(ci => ci.tasksNotStopped !== undefined && ci.tasksNotStopped.length === 0);
  if (drained.length === registrations.length) {
    return {
      ...common,
      outcome: 'drained',
      reason: 'no task is left that is not STOPPED',
      deregister: registrations.map(ci => ({ containerInstanceArn: ci.containerInstanceArn, force: false })),
      completeLifecycleAction: true,
    };
  }

  return {
    ...common,
    outcome: 'draining',
    reason: describeWait(registrations),
    // Only worth reading once every registration is empty by its counts.
    readTasksOf: empty.length === registrations.length ? unread : [],
    heartbeat: heartbeatDue(registrations, startedAt, deadline, now, config),
  };
}

/**
 * Decides what to do when EC2 warns that a Spot instance will be interrupted: drain at once
 * (the instance has two minutes), before its termination lifecycle action starts.
 */
export function planSpotInterruption(view: InstanceView, now: number, config: ControllerConfig): InstancePlan {
  if (!config.drainOnSpotInterruption) {
    return { ...NOTHING, outcome: 'left-alone', reason: 'draining on Spot interruption is turned off' };
  }
  if (view.groupName === undefined) {
    return { ...NOTHING, outcome: 'left-alone', reason: 'the instance is in no managed Auto Scaling group' };
  }
  const registrations = view.containerInstances.filter(ci => ci.status !== 'INACTIVE');
  const deadline = now + config.drainTimeoutSeconds * 1000;
  return {
    ...NOTHING,
    outcome: 'draining',
    reason: 'EC2 will interrupt the Spot instance in two minutes',
    setDraining: registrations.filter(ci => ci.status === 'ACTIVE').map(ci => ci.containerInstanceArn),
    recordDrain: registrations
      .filter(ci => ci.deadline === undefined)
      .map(ci => ({ containerInstanceArn: ci.containerInstanceArn, startedAt: now, deadline, registrations: registrations.length })),
    drainStartedAt: now,
  };
}

/**
 * Whether a container instance reported by an ECS event is worth a closer look: nothing runs or
 * waits to run, and no task still holds resources. Events only say "look now"; the drain is
 * judged on fresh reads.
 */
export function mayBeDrained(ci: { runningTasksCount?: number; pendingTasksCount?: number; resourcesReleased?: boolean }): boolean {
  return (ci.runningTasksCount ?? 0) === 0 && (ci.pendingTasksCount ?? 0) === 0 && ci.resourcesReleased !== false;
}

/** A resource of a container instance as ECS reports it (API and events alike). */
export interface ResourceAmount {
  readonly name?: string;
  readonly integerValue?: number;
}

/**
 * Remaining CPU and memory equal to registered: no task holds any (ECS API reference,
 * ContainerInstance.remainingResources). Undefined when either list is missing.
 */
export function resourcesReleased(registered?: readonly ResourceAmount[], remaining?: readonly ResourceAmount[]): boolean | undefined {
  if (!Array.isArray(registered) || !Array.isArray(remaining)) return undefined;
  const value = (list: readonly ResourceAmount[], name: string) => list.find(r => r?.name === name)?.integerValue;
  return ['CPU', 'MEMORY'].every(name => value(registered, name) === value(remaining, name));
}

/**
 * Whether the drain record of this registration says it is the only one of its EC2 instance,
 * so that no other registration needs to be looked up before the instance is released.
 */
export function recordedAsOnlyRegistration(ci: Pick<ContainerInstanceView, 'deadline' | 'recordedRegistrations'>): boolean {
  return ci.deadline !== undefined && ci.recordedRegistrations === 1;
}

/**
 * A heartbeat is due once half the hook's heartbeat timeout has passed since the last one
 * (or since the drain started), when the hook would otherwise time out before the deadline.
 */
function heartbeatDue(
  registrations: readonly ContainerInstanceView[], startedAt: number, deadline: number, now: number, config: ControllerConfig,
): boolean {
  const heartbeatMs = config.heartbeatTimeoutSeconds * 1000;
  const beats = registrations.map(ci => ci.lastHeartbeatAt).filter((t): t is number => t !== undefined);
  const lastBeat = beats.length > 0 ? Math.max(...beats) : startedAt;
  const hookExpiresBeforeDeadline = lastBeat + heartbeatMs < deadline;
  return hookExpiresBeforeDeadline && now - lastBeat >= heartbeatMs / 2;
}

function describeWait(registrations: readonly ContainerInstanceView[]): string {
  const parts = registrations.map(ci => {
    const stopping = ci.tasksNotStopped?.length;
    return stopping !== undefined && ci.runningTasksCount === 0 && ci.pendingTasksCount === 0
      ? `${stopping} task(s) not yet STOPPED`
      : `${ci.runningTasksCount} running and ${ci.pendingTasksCount} pending task(s)`;
  });
  return `waiting: ${parts.join('; ')}`;
}

/**
 * Which events are worth acting on, and how. Events only wake the controller: an event carries
 * ids and hints, never a decision, and may be late, duplicated or out of order. These functions
 * say which of them are worth the reads that follow; what is done rests on those reads.
 */
import type { ControllerConfig } from '../config';
import { keepsRegistration, mayBeDrained, stillWaits, WAIT_STATES } from './plan';

/**
 * Whether an event's cluster is the configured one. Events name it by ARN; the configuration has
 * its name (or, for a caller that passes one, the ARN itself).
 */
export function ofCluster(clusterArn: string, clusterName: string): boolean {
  return clusterArn === clusterName || clusterArn.endsWith(`:cluster/${clusterName}`);
}

/** Whether a lifecycle action event is of a managed group and this hook: any other is not ours to complete. */
export function ofThisHook(action: { readonly groupName: string; readonly hookName: string }, config: ControllerConfig): boolean {
  return config.autoScalingGroupNames.has(action.groupName) && action.hookName === config.lifecycleHookName;
}

/**
 * Auto Scaling emits the lifecycle action event when the action starts; its `time` can be a little
 * after that start. This much earlier is taken as the start of the hook's clock (the completion
 * margin of 5 minutes leaves room for it).
 */
export const EVENT_TIME_SLACK_MS = 60_000;

/**
 * The start of the hook's clock that a lifecycle action event shows: its time less the slack, and
 * never later than now less the slack (an event time ahead of this clock is not believed).
 * Undefined when the event has no time.
 */
export function hookClockFromEvent(eventTime: number | undefined, now: number): number | undefined {
  return eventTime === undefined ? undefined : Math.min(eventTime, now) - EVENT_TIME_SLACK_MS;
}

/** A container instance as an ECS event (or a describe after one) shows it. */
export interface RegistrationFacts {
  readonly status: string;
  readonly parkedAt?: number;
  readonly runningTasksCount?: number;
  readonly pendingTasksCount?: number;
  readonly resourcesReleased?: boolean;
}

/**
 * What a container instance event is worth:
 * - 'look': a DRAINING registration empty by its counts, or one the controller parked (its
 *   instance may be back in service): its instance is read;
 * - 'not-draining': the rule matches DRAINING only, so anything else came another way;
 * - 'still-has-tasks': tasks still run, or still hold CPU or memory while they stop; the task
 *   state change event of the last one's stop will come (and if it is lost, the reconcile pass
 *   looks within a minute).
 */
export function containerInstanceEventVerdict(ci: RegistrationFacts): 'look' | 'not-draining' | 'still-has-tasks' {
  if (ci.status !== 'DRAINING') return 'not-draining';
  if (ci.parkedAt === undefined && !mayBeDrained(ci)) return 'still-has-tasks';
  return 'look';
}

/**
 * Whether a registration that an event pointed at (as the event showed it, or as described
 * afterwards) may end a drain: it runs on a known EC2 instance and is worth a look by
 * containerInstanceEventVerdict. Only such a registration costs a read of Auto Scaling.
 */
export function mayEndDrain(ci: RegistrationFacts & { readonly ec2InstanceId?: string }): boolean {
  return Boolean(ci.ec2InstanceId) && containerInstanceEventVerdict(ci) === 'look';
}

/**
 * Whether an instance whose registration may end a drain is the controller's to touch: it is in a
 * managed group and waits in this hook, or a registration of it is parked (its instance may be
 * back from the warm pool). An operator's drain, or an instance back in service, is left alone.
 */
export function endIsOurs(state: { readonly groupName?: string; readonly lifecycleState?: string }, anyParked: boolean): boolean {
  return state.groupName !== undefined && (stillWaits(state) || anyParked);
}

/**
 * Whether a registration known from an event batch may stand in for a describe. One read afresh
 * may. One only an event showed may when the instance is to be terminated and the event carries
 * the drain record: a stale count is caught by the task read and by ECS refusing the
 * deregistration. An event without the record may be older than it (ECS sends one when the
 * registration becomes DRAINING, before the controller writes the record, and a copy can come
 * late): taken as it is, it would write the record again, with a later deadline. Parking for the
 * warm pool, or reactivating, has no such refusal, and the task read sees only tasks ECS is
 * stopping: a late event would hide a task that runs, so it is described again.
 */
export function registrationUsable(lifecycleState: string | undefined, registration: { readonly record?: unknown }, fresh: boolean): boolean {
  const destination = lifecycleState === undefined ? undefined : WAIT_STATES[lifecycleState];
  return fresh || (registration.record !== undefined && destination !== undefined && !keepsRegistration(destination));
}

/**
 * The drain events the controller publishes on EventBridge: one per transition of a drain
 * (decide/, transitions.ts), built here from the instance's view and plan. Delivery is at least
 * once (EventBridge user guide, "Amazon EventBridge events"; a call retried after a lost answer
 * publishes again): `drainId` is the same for every event of one drain, so consumers can drop
 * copies. A publish that fails never fails or delays a drain: events go out at the end of a run,
 * and what EventBridge did not take is counted (DrainEventsNotPublished) and logged.
 */
import type { ControllerConfig } from './config';
import { blocked, causesOf, InstancePlan, Transition, WaitCause, WaitReason, waitSummary } from './decide';
import type { InstanceView } from './model';
import { DRAIN_EVENT } from '../src/constants';

/** The detail type of each transition. */
export const DETAIL_TYPE: Readonly<Record<Transition, string>> = {
  'started': DRAIN_EVENT.STARTED,
  'waiting': DRAIN_EVENT.WAITING,
  'without-record': DRAIN_EVENT.WITHOUT_RECORD,
  'completed': DRAIN_EVENT.COMPLETED,
  'forced': DRAIN_EVENT.FORCED,
  'parked': DRAIN_EVENT.PARKED,
};

/** The `detail` of a drain event. */
export interface DrainEventDetail {
  /** The same for every event of one drain: the EC2 instance and when its drain started (epoch seconds). */
  readonly drainId: string;
  readonly cluster: string;
  readonly autoScalingGroupName?: string;
  readonly ec2InstanceId: string;
  readonly lifecycleState?: string;
  readonly containerInstanceArns: readonly string[];
  /** ISO 8601. */
  readonly startedAt?: string;
  /** When the drain is forced, ISO 8601. */
  readonly deadline?: string;
  /** What ECS still counts on the instance's registrations, and the tasks not yet STOPPED by last status and by group, when read. */
  readonly tasksLeft: {
    readonly running: number;
    readonly pending: number;
    readonly notStoppedByStatus?: Readonly<Record<string, number>>;
    readonly notStoppedByGroup?: Readonly<Record<string, number>>;
  };
  /** Why, in words an operator can act on (the plan's reason; for a Waiting event, every cause). */
  readonly reason: string;
  /** Waiting events: what the drain waits for, most urgent first (decide/, diagnose.ts). */
  readonly waitReasons?: readonly WaitReason[];
  /** Waiting events: whether a cause will not resolve itself (an operator must act, or the deadline forces). */
  readonly blocked?: boolean;
  /** The causes the drain was last announced waiting for, when it was diagnosed (on every later event, the terminal one included). */
  readonly waitedFor?: readonly WaitCause[];
}

/** One entry of a PutEvents call. */
export interface DrainEventEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly Resources: string[];
  readonly Time: Date;
  readonly EventBusName?: string;
}

/** The event of `transition` for the instance as `view` and `plan` show it at `now` (and, for a Waiting event, the diagnosis). */
export function drainEvent(
  transition: Transition, view: InstanceView, plan: InstancePlan, config: ControllerConfig, now: number, waitReasons?: readonly WaitReason[],
): DrainEventEntry {
  const registrations = view.containerInstances.filter(ci => ci.status !== 'INACTIVE');
  const notStopped = registrations.every(ci => ci.tasksNotStopped !== undefined) ? registrations.flatMap(ci => ci.tasksNotStopped!) : undefined;
  // To the second, as the drain record keeps them: every event of one drain shows the same times.
  const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;
  const startedAt = seconds(plan.drainStartedAt ?? now);
  const waits = registrations.find(ci => ci.record?.waits !== undefined)?.record?.waits;
  const detail: DrainEventDetail = {
    drainId: `${view.instanceId}:${Math.floor(startedAt / 1000)}`,
    cluster: config.clusterName,
    autoScalingGroupName: view.groupName,
    ec2InstanceId: view.instanceId,
    lifecycleState: view.lifecycleState,
    containerInstanceArns: registrations.map(ci => ci.containerInstanceArn),
    startedAt: new Date(startedAt).toISOString(),
    deadline: plan.deadline === undefined ? undefined : new Date(seconds(plan.deadline)).toISOString(),
    tasksLeft: {
      running: sum(registrations.map(ci => ci.runningTasksCount)),
      pending: sum(registrations.map(ci => ci.pendingTasksCount)),
      ...notStopped === undefined ? {} : {
        notStoppedByStatus: countBy(notStopped.map(t => t.lastStatus)),
        notStoppedByGroup: countBy(notStopped.map(t => t.group ?? 'unknown')),
      },
    },
    reason: waitReasons === undefined ? plan.reason : waitSummary(waitReasons),
    ...waitReasons === undefined ? {} : { waitReasons, blocked: blocked(waitReasons) },
    ...waits === undefined ? {} : { waitedFor: causesOf(waits) },
  };
  return {
    Source: DRAIN_EVENT.SOURCE,
    DetailType: DETAIL_TYPE[transition],
    Detail: JSON.stringify(detail),
    Resources: [...detail.containerInstanceArns],
    Time: new Date(now),
    ...config.eventBusName === undefined ? {} : { EventBusName: config.eventBusName },
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function countBy(keys: readonly string[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const key of keys) result[key] = (result[key] ?? 0) + 1;
  return result;
}

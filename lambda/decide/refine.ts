/**
 * What a run of the drainer still asks of a plan. planTermination judges the view alone; within
 * one run the drainer also knows what it tried already, and ECS or Auto Scaling refused what they
 * refused: asked again in the same run, they would refuse again, and the next event or pass tries
 * anyway. These functions say what is left of a plan, and which step a plan goes to.
 */
import { InstancePlan, mayBeDrained } from './plan';
import type { ContainerInstanceView, InstanceView } from '../model';

/** What one run of the drainer tried already for an instance. */
export interface Tried {
  /** Registrations it asked ECS to set DRAINING. */
  readonly draining: ReadonlySet<string>;
  /** Registrations it wrote the drain record on. */
  readonly record: ReadonlySet<string>;
  /** Whether it sent (or tried to send) a lifecycle heartbeat. */
  readonly heartbeat: boolean;
  /** Registrations whose running tasks it stopped (or tried to). */
  readonly stopped: ReadonlySet<string>;
}

/** What a run has tried before it starts. */
export const NOTHING_TRIED: Tried = { draining: new Set(), record: new Set(), heartbeat: false, stopped: new Set() };

/** What was tried, with more tried since: a new value, the earlier one left as it was. */
export function alsoTried(
  tried: Tried,
  more: {
    readonly draining?: readonly string[]; readonly record?: readonly string[]; readonly heartbeat?: boolean; readonly stopped?: readonly string[];
  },
): Tried {
  return {
    draining: more.draining === undefined ? tried.draining : new Set([...tried.draining, ...more.draining]),
    record: more.record === undefined ? tried.record : new Set([...tried.record, ...more.record]),
    heartbeat: tried.heartbeat || more.heartbeat === true,
    stopped: more.stopped === undefined ? tried.stopped : new Set([...tried.stopped, ...more.stopped]),
  };
}

/**
 * The plan less what this run tried already: DRAINING and records are not asked again for the
 * same registrations, and one heartbeat is enough per run. A heartbeat is sent only for a drain
 * that is recorded (see heartbeatAllowed).
 */
export function refinePlan(plan: InstancePlan, view: InstanceView, tried: Tried): InstancePlan {
  const record = plan.record && { ...plan.record, on: plan.record.on.filter(arn => !tried.record.has(arn)) };
  return {
    ...plan,
    setDraining: plan.setDraining.filter(arn => !tried.draining.has(arn)),
    record: record && record.on.length > 0 ? record : undefined,
    heartbeat: plan.heartbeat && !tried.heartbeat && heartbeatAllowed(view),
    stopTasks: plan.stopTasks.filter(arn => !tried.stopped.has(arn)),
  };
}

/**
 * Every drainable registration of the instance carries a record: only then may a heartbeat go.
 * The record keeps the heartbeat's time, and a drain whose record cannot be written must stay
 * bounded by the hook's own timeout rather than be kept alive without a deadline the controller
 * enforces.
 */
export function heartbeatAllowed(view: InstanceView): boolean {
  const drainable = view.containerInstances.filter(ci => ci.status === 'ACTIVE' || ci.status === 'DRAINING');
  return drainable.length > 0 && drainable.every(ci => ci.record !== undefined);
}

/**
 * Whether the heartbeat step takes the plan: only an instance that keeps waiting needs its hook
 * kept alive, and not while its registrations are still being looked up (the plan then rests on
 * a partial read).
 */
export function sendsHeartbeat(plan: InstancePlan): boolean {
  return plan.heartbeat && plan.outcome === 'draining' && !plan.needs.registrations;
}

/**
 * Whether the step that stops tasks takes the plan: a drain that keeps waiting past its stop time,
 * judged on a complete read of its registrations.
 */
export function stopsTasks(plan: InstancePlan): boolean {
  return plan.stopTasks.length > 0 && plan.outcome === 'draining' && !plan.needs.registrations;
}

/**
 * Whether the plan deregisters or parks a registration: what needs Auto Scaling's fresh word
 * first, because a state taken from an event may be a late copy's.
 */
export function releases(plan: InstancePlan): boolean {
  return plan.deregister.length > 0 || plan.park.length > 0;
}

/** Whether the release step takes the plan: it releases, reactivates or completes the action. */
export function goesToRelease(plan: InstancePlan): boolean {
  return releases(plan) || plan.reactivate.length > 0 || plan.completeLifecycleAction;
}

/** Whether the plan still asks for something the rounds of a run do (reads, DRAINING, records). */
export function needsAnotherRound(plan: InstancePlan): boolean {
  return plan.needs.registrations || plan.needs.tasksOf.length > 0 || plan.setDraining.length > 0 || plan.record !== undefined;
}

/**
 * Since when a run has seen the counts of every registration of an instance at zero, and for
 * which registrations (ARNs, sorted): see ErrorPolicy.readSettleMs (drainer.ts). A task told to
 * stop is never told to run again and a DRAINING registration gets no new task, so counts that
 * stay at zero keep what the first such read showed.
 */
export interface Emptiness {
  readonly since: number;
  readonly of: string;
}

/**
 * The emptiness after a read of the registrations at `now` (the time taken after the answer: at
 * or after what it shows): none while a count is non-zero, kept while the same registrations stay
 * empty, started again for a new set of registrations.
 */
export function emptinessAfter(
  previous: Emptiness | undefined, registrations: readonly ContainerInstanceView[], now: number,
): Emptiness | undefined {
  if (!registrations.every(mayBeDrained)) return undefined;
  const of = registrations.map(ci => ci.containerInstanceArn).sort().join(' ');
  return previous !== undefined && previous.of === of ? previous : { since: now, of };
}

/** Whether the tasks of an instance empty since `emptiness` may be listed at `now`: the settle has passed. */
export function settled(emptiness: Emptiness | undefined, settleMs: number, now: number): boolean {
  return emptiness !== undefined && emptiness.since + settleMs <= now;
}

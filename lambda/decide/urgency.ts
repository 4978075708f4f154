/**
 * How urgent the reconcile pass finds an instance's work. A pass is bounded: it may run out of
 * time before it reaches every instance, and what it leaves comes first in the next pass by the
 * same order. The order puts first what costs most when late (a deadline already passed, a hook
 * about to time out), then drains that may be over, then drains to start.
 */
import { InstancePlan, mayBeDrained } from './plan';
import type { InstanceView } from '../model';

/** Urgency classes, most urgent first. */
export enum Urgency { Overdue, Heartbeat, Empty, Start }

/** Where an instance's work goes in a pass: its class, and within it, lower goes first. */
export interface Rank {
  readonly urgency: Urgency;
  readonly order: number;
}

/**
 * The rank of an instance's work, or undefined when it needs nothing this pass (left alone, or a
 * recorded drain whose known registrations still run tasks, with no deadline or heartbeat due).
 * - A reactivation goes with the heartbeats: an instance back in service runs tasks on its
 *   registration only once it is ACTIVE again.
 * - A recorded drain past its deadline, or past its stop time with tasks to stop, goes first, the oldest deadline first.
 * - A heartbeat due goes next, the oldest known start of the hook's clock first: that hook times
 *   out soonest.
 * - A drain empty by its counts, the oldest drain first.
 * - A drain to start (nothing known, or DRAINING or a record to write) has no age to go by: a
 *   rotating order (`rotation`, which changes every minute) keeps any instance from always being
 *   last.
 */
export function urgencyOf(view: InstanceView, plan: InstancePlan, now: number, rotation: number): Rank | undefined {
  if (plan.outcome === 'reactivated') return { urgency: Urgency.Heartbeat, order: 0 };
  if (plan.outcome === 'left-alone') return undefined;
  const known = view.containerInstances;
  if (plan.deadline !== undefined && known.some(ci => ci.record) && (plan.deadline <= now || plan.stopTasks.length > 0)) {
    return { urgency: Urgency.Overdue, order: plan.deadline };
  }
  if (plan.heartbeat && known.some(ci => ci.record)) {
    return { urgency: Urgency.Heartbeat, order: Math.max(0, ...known.map(ci => ci.record?.hookClockFrom ?? 0)) };
  }
  if (known.length > 0 && known.every(ci => mayBeDrained(ci))) {
    return { urgency: Urgency.Empty, order: plan.drainStartedAt ?? now };
  }
  if (known.length === 0 || plan.record !== undefined || plan.setDraining.length > 0) {
    return { urgency: Urgency.Start, order: hash(`${view.instanceId}/${rotation}`) };
  }
  return undefined;
}

/** A small, stable string hash (polynomial, modulo a prime): the same rotation gives the same order in every pass. */
function hash(text: string): number {
  let h = 7;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 2_147_483_647;
  return h;
}

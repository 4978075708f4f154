/**
 * The warm pool round trip of the `warm-pool-reuse` scenario (Auto Scaling user guide, "Warm pools
 * for Amazon EC2 Auto Scaling" and "Use lifecycle hooks with a warm pool"; ECS developer guide,
 * warm pools need ECS_WARM_POOLS_CHECK, so a stopped instance keeps its registration and its agent
 * re-registers with it when the instance starts again):
 *
 * 1. the scale-in returns every scaled-in instance to the pool (Warmed:Pending:Wait): drained, its
 *    registration kept, then stopped;
 * 2. a scale-out takes all but one back: each comes back InService, its registration is ACTIVE
 *    again (the controller reactivates it), its drain marker is gone, and tasks run on it again;
 * 3. those go back to the pool by a second scale-in (a fresh drain: nothing stale from the first
 *    one may start it late or early), and the one left in the pool is terminated from there
 *    (Warmed:Terminating:Wait): drained, deregistered and released.
 *
 * Every return to the pool is a lifecycle action the totals count (completed, stopped with no
 * task alive); the checks here cover what the totals cannot see.
 */
import { AFTERMATH_MS, ChaosContext, runLimitMs } from './context';
import { RunState } from './observe';
import type { ChaosOutcome } from './scenarios';
import { ATTRIBUTE } from '../../src/constants';
import { WarmPoolVisit } from '../emulator';

interface RoundTrip {
  /** Instances the scale-out took back; the one left in the pool. */
  back: string[];
  stayed?: string;
  /** Why an instance taken back did not reach service with an ACTIVE, running, unmarked registration (checked once phase 2 ends). */
  notReactivated: string[];
}

const roundTrips = new RunState<RoundTrip>(() => ({ back: [], notReactivated: [] }));

/** What a scenario adds to the round trip at its moments. */
export interface RoundTripHooks {
  /** Once every scaled-in instance is stopped in the pool, its lifecycle action over, before the scale-out. */
  readonly onInPool?: (context: ChaosContext, inPool: readonly string[]) => void;
  /**
   * How long the instances taken back stay in service after `onBack` before the second scale-in;
   * at its end each must still be ACTIVE, unmarked and running tasks. Default 0.
   */
  readonly stayInServiceMs?: number;
  /** Once every instance taken back is in service again with tasks, before they return to the pool. */
  readonly onBack?: (context: ChaosContext, back: readonly string[]) => void;
  /** Right after the second scale-in sent them back to the pool. */
  readonly onSecondScaleIn?: (context: ChaosContext, back: readonly string[]) => void;
}

export async function warmPoolRoundTrip(context: ChaosContext, scaledIn: readonly string[], hooks: RoundTripHooks = {}): Promise<ChaosOutcome> {
  const { sim, groupName } = context;
  const emulator = sim.emulator;
  const trip = roundTrips.of(context);
  const limit = runLimitMs(context);
  const inPool = (id: string) => visits(context, id).length > 0 && lastVisit(context, id).stoppedAt !== undefined
    && emulator.lifecycleState(id) === 'Warmed:Stopped';

  let result = await sim.runUntil(() => scaledIn.every(inPool), limit);
  if (result.reason !== 'done') return result.reason;
  hooks.onInPool?.(context, scaledIn);

  emulator.scaleOut(groupName, scaledIn.length - 1);
  trip.back = scaledIn.filter(id => lastVisit(context, id).leftAt !== undefined);
  trip.stayed = scaledIn.find(id => !trip.back.includes(id));
  result = await sim.runUntil(() => trip.back.every(id => reactivationProblem(context, id) === undefined), limit);
  trip.notReactivated = trip.back.map(id => reactivationProblem(context, id)).filter((p): p is string => p !== undefined);
  if (result.reason !== 'done') return result.reason;
  hooks.onBack?.(context, trip.back);
  if (hooks.stayInServiceMs) {
    await sim.runFor(hooks.stayInServiceMs);
    for (const id of trip.back) {
      const problem = reactivationProblem(context, id);
      if (problem !== undefined) trip.notReactivated.push(`${problem} (${hooks.stayInServiceMs / 60_000} min back in service)`);
    }
  }

  emulator.scaleIn(groupName, trip.back.length);
  hooks.onSecondScaleIn?.(context, trip.back);
  if (trip.stayed !== undefined) emulator.terminateWarmedInstance(trip.stayed);
  const stayed = trip.stayed;
  result = await sim.runUntil(() => trip.back.every(inPool) && (stayed === undefined || emulator.timeline(stayed).terminatedAt !== undefined), limit);
  if (result.reason !== 'done') return result.reason;
  await sim.runFor(AFTERMATH_MS);
  return 'done';
}

/** What the totals cannot see: registrations kept through the stop, set ACTIVE again, the pool's termination deregistered. */
export function verifyWarmPool(context: ChaosContext, scaledIn: readonly string[]): string[] {
  const { emulator } = context.sim;
  const trip = roundTrips.of(context);
  const problems = [...trip.notReactivated];
  context.notes.push(`taken back from the pool: ${trip.back.join(', ')}; terminated from the pool: ${trip.stayed ?? 'none'}`);
  if (trip.back.length !== scaledIn.length - 1) problems.push(`the scale-out took ${trip.back.length} of ${scaledIn.length} instances back from the pool`);
  for (const id of trip.back) {
    const [first, second] = visits(context, id);
    if (first?.agentOnStart !== 'reconnected') problems.push(`${id}: its agent ${first?.agentOnStart ?? 'never started'} on the way out of the pool, not reconnected to its registration`);
    if (second === undefined) problems.push(`${id}: never went back to the pool a second time`);
  }
  if (trip.stayed !== undefined) {
    const t = emulator.timeline(trip.stayed);
    const left = emulator.containerInstanceArns(trip.stayed).map(arn => emulator.registration(arn)!).filter(r => r.status !== 'INACTIVE');
    if (t.terminatedAt === undefined) problems.push(`${trip.stayed}: terminated from the pool, but never gone`);
    if (left.length > 0) problems.push(`${trip.stayed}: terminated from the pool with its registration still ${left.map(r => r.status).join(', ')}`);
  }
  return problems;
}

/** Undefined once the instance is InService with every registration ACTIVE, running tasks and carrying no drain attribute. */
function reactivationProblem(context: ChaosContext, id: string): string | undefined {
  const { emulator } = context.sim;
  if (lastVisit(context, id).inServiceAt === undefined) return `${id}: not InService again`;
  const registrations = emulator.containerInstanceArns(id).map(arn => emulator.registration(arn)!).filter(r => r.status !== 'INACTIVE');
  if (registrations.length === 0) return `${id}: InService with no registration left`;
  for (const r of registrations) {
    if (r.status !== 'ACTIVE') return `${id}: its registration is ${r.status} after its return`;
    if (r.attributes.has(ATTRIBUTE.DRAIN)) return `${id}: its registration still carries ${ATTRIBUTE.DRAIN}=${r.attributes.get(ATTRIBUTE.DRAIN)}`;
    if (r.runningTasksCount === 0) return `${id}: no task placed on it again`;
  }
  return undefined;
}

function visits(context: ChaosContext, id: string): WarmPoolVisit[] {
  return context.sim.emulator.timeline(id).warmPoolVisits.filter(v => v.origin === 'AutoScalingGroup');
}

function lastVisit(context: ChaosContext, id: string): WarmPoolVisit {
  const all = context.sim.emulator.timeline(id).warmPoolVisits;
  return all[all.length - 1];
}

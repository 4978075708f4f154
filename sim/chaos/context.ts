/**
 * What a chaos scenario sees while it runs, and what it declares about its own faults: which
 * instances it took out of the controller's reach by construction, which tasks someone else
 * orphaned, and which error names its faults produce.
 */
import { LaunchOptions } from '../emulator';
import { SeededRandom } from '../emulator/random';
import { Simulation } from '../runtime/simulation';

export interface ChaosContext {
  readonly sim: Simulation;
  readonly seed: number;
  /** The scenario's own random stream (independent of the emulator's and the bus's). */
  readonly random: SeededRandom;
  readonly instances: number;
  readonly clusterName: string;
  /** The first managed group. */
  readonly groupName: string;
  /** Every managed group of the drain hook, in the template's order. */
  readonly groupNames: readonly string[];
  readonly hookName: string;
  readonly functionName: string;
  readonly drainTimeoutMs: number;
  /**
   * How long after its action started a drain may be forced at the earliest: the drain timeout,
   * or, when that reaches the lifecycle action's global timeout less the completion margin, that
   * less the controller's uncertainty about when the action started (see guaranteedDrainMs).
   */
  readonly guaranteedDrainMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Every instance launched, in launch order. */
  readonly instanceIds: string[];
  /** The group each instance was launched into. */
  readonly groupOf: Map<string, string>;
  /**
   * Lifecycle actions the controller cannot complete by construction (instance → why): the group
   * was deleted, someone else completed the action, the hook expires before any drain can end.
   */
  readonly excluded: Map<string, string>;
  /** Tasks orphaned by someone else's forced deregistration: not the controller's to wait for. */
  readonly orphanedByOthers: Set<string>;
  /** Instances whose container instance someone else force-deregistered (their `forced` is not the controller's). */
  readonly deregisteredByOthers: Set<string>;
  /** Junk events injected (by identity): each must yield one structured log line and change nothing. */
  readonly junk: Set<unknown>;
  /** Free-form facts the scenario wants in the report (e.g. the largest overlap of invocations). */
  readonly notes: string[];
}

const MINUTE = 60_000;
/** Watch this long after the last termination, for late events acting on what is left. */
export const AFTERMATH_MS = 5 * MINUTE;

/** A lifecycle action ends at the latest 48 hours after its start, or 100 heartbeat timeouts (Auto Scaling user guide, lifecycle hooks). */
const MAX_GLOBAL_TIMEOUT_MS = 48 * 60 * MINUTE;
/** The controller keeps this after a deadline to force and complete (src/constants.ts). */
const COMPLETION_MARGIN_MS = 5 * MINUTE;
/**
 * The controller knows an action's start only as a moment at or before it: the lifecycle event's
 * time less a minute, or the last reconcile pass that saw the instance in service, at most a
 * minute (and a pass) earlier (lambda/decide/plan.ts, newDeadline).
 */
const ACTION_START_UNCERTAINTY_MS = 2 * MINUTE;

/** See ChaosContext.guaranteedDrainMs. */
export function guaranteedDrainMs(drainTimeoutMs: number, heartbeatTimeoutMs: number): number {
  const cap = Math.min(MAX_GLOBAL_TIMEOUT_MS, 100 * heartbeatTimeoutMs) - COMPLETION_MARGIN_MS;
  return drainTimeoutMs < cap ? drainTimeoutMs : cap - ACTION_START_UNCERTAINTY_MS;
}

/** Long enough for any drain: the deadline, a hook timeout, and half an hour. */
export function runLimitMs(context: ChaosContext): number {
  return context.drainTimeoutMs + context.heartbeatTimeoutMs + 30 * MINUTE;
}

/** A small deterministic helper: a uniformly drawn delay in virtual ms. */
export function between(context: ChaosContext, minMs: number, maxMs: number): number {
  return Math.round(context.random.between(minMs, maxMs));
}

/** Launches an instance into `groupName` and tracks it like the scale-in's own instances. */
export function launchInto(context: ChaosContext, groupName: string, options: LaunchOptions): string {
  const id = context.sim.emulator.launchInstance(groupName, options);
  context.instanceIds.push(id);
  context.groupOf.set(id, groupName);
  return id;
}

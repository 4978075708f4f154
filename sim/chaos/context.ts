/**
 * What a chaos scenario sees while it runs, and what it declares about its own faults: which
 * instances it took out of the controller's reach by construction, which tasks someone else
 * orphaned, and which error names its faults produce.
 */
import { SeededRandom } from '../emulator/random';
import { Simulation } from '../runtime/simulation';

export interface ChaosContext {
  readonly sim: Simulation;
  readonly seed: number;
  /** The scenario's own random stream (independent of the emulator's and the bus's). */
  readonly random: SeededRandom;
  readonly instances: number;
  readonly clusterName: string;
  readonly groupName: string;
  readonly hookName: string;
  readonly functionName: string;
  readonly drainTimeoutMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Every instance launched, in launch order. */
  readonly instanceIds: string[];
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

/** A small deterministic helper: a uniformly drawn delay in virtual ms. */
export function between(context: ChaosContext, minMs: number, maxMs: number): number {
  return Math.round(context.random.between(minMs, maxMs));
}

/**
 * Which drain event a step of a run announces (drain-events.ts publishes them). A drain is
 * announced once at its start and once at its end; the controller remembers nothing between
 * invocations, so each moment is told by what ECS or Auto Scaling answered the write that made it.
 */
import type { InstancePlan } from './plan';

/** The transitions of a drain that are published. */
export type Transition = 'started' | 'waiting' | 'without-record' | 'completed' | 'forced' | 'parked';

/**
 * The start of a drain, from its record write: started when this write made the instance's first
 * record (no registration had one before). A drain whose record could not be written is announced
 * as such only by the run that set its registrations DRAINING: the runs after it try the write
 * again, and would announce it every time.
 */
export function startTransition(write: {
  readonly recordedBefore: boolean; readonly failed: boolean; readonly setDrainingInThisRun: boolean;
}): Transition | undefined {
  if (write.failed) return write.setDrainingInThisRun ? 'without-record' : undefined;
  return write.recordedBefore ? undefined : 'started';
}

/**
 * The end of a drain, once Auto Scaling accepted this run's completion of the lifecycle action:
 * it accepts one completion per action, so one run announces it. A completion refused because the
 * action was over already (another run completed it, or its timeout did) announces nothing.
 */
export function terminalTransition(plan: InstancePlan, completion: 'completed' | 'no-active-action' | 'refused-while-waiting'): Transition | undefined {
  if (completion !== 'completed') return undefined;
  if (plan.outcome === 'forced') return 'forced';
  if (plan.outcome === 'drained') return plan.park.length > 0 ? 'parked' : 'completed';
  return undefined;
}

/**
 * A diagnosis of a waiting drain (diagnose.ts) is announced when its causes differ from those its
 * record kept, once the record holds the new ones: a pass that could not write them announces
 * nothing, and the next diagnosis tries again.
 */
export function waitingTransition(diagnosis: {
  readonly recordedWaits?: number; readonly waits: number; readonly written: boolean;
}): Transition | undefined {
  return diagnosis.written && diagnosis.waits !== diagnosis.recordedWaits ? 'waiting' : undefined;
}

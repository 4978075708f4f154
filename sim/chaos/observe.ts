/**
 * What the production-condition scenarios (production-scenarios.ts) watch and change while they
 * run: the events the world emits, the controller's own log lines, per-run scenario state.
 */
import { ChaosContext } from './context';
import { EmittedEvent } from '../emulator';

/** Runs `listener` on every event the world emits, before the bus gets it (unless `listener` returns 'drop'). */
export function onWorldEvent(context: ChaosContext, listener: (event: EmittedEvent) => 'drop' | void): void {
  const { emulator } = context.sim;
  const inner = emulator.onEvent;
  emulator.onEvent = event => {
    if (listener(event) === 'drop') return;
    inner?.(event);
  };
}

/** Every JSON object the drain controller functions logged (log lines and EMF metric records), in order. */
export function controllerRecords(context: ChaosContext): Record<string, unknown>[] {
  const functions = new Set(context.sim.drainFunctionNames());
  const records: Record<string, unknown>[] = [];
  for (const invocation of context.sim.lambda.invocations.filter(r => functions.has(r.functionName))) {
    for (const line of invocation.logs) {
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) records.push(value as Record<string, unknown>);
      } catch {
        // Not a JSON line (the runtime's own error line): nothing the controller reported.
      }
    }
  }
  return records;
}

/**
 * Per-run state of a scenario: scenario definitions are shared by every run, so what one run
 * remembers lives beside its context, never in the definition.
 */
export class RunState<T> {
  private readonly states = new WeakMap<ChaosContext, T>();
  constructor(private readonly initial: () => T) {}

  of(context: ChaosContext): T {
    let state = this.states.get(context);
    if (state === undefined) {
      state = this.initial();
      this.states.set(context, state);
    }
    return state;
  }
}

interface ResourceAmount { readonly name: string; readonly integerValue: number }

/** Whether a container instance change event shows a DRAINING registration with every task STOPPED. */
export function showsEmptyDrain(event: EmittedEvent): boolean {
  if (event.source !== 'aws.ecs' || event['detail-type'] !== 'ECS Container Instance State Change') return false;
  const detail = event.detail as {
    status?: string;
    runningTasksCount?: number;
    pendingTasksCount?: number;
    registeredResources?: ResourceAmount[];
    remainingResources?: ResourceAmount[];
  };
  if (detail.status !== 'DRAINING' || detail.runningTasksCount !== 0 || detail.pendingTasksCount !== 0) return false;
  // A task holds its CPU and memory until it is STOPPED (ECS API reference, ContainerInstance.remainingResources).
  const amount = (list: typeof detail.registeredResources, name: string) => list?.find(r => r.name === name)?.integerValue;
  return ['CPU', 'MEMORY'].every(name => amount(detail.registeredResources, name) === amount(detail.remainingResources, name));
}

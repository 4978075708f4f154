/**
 * Stale ECS events (scenarios `stale-versions` and `warm-pool-stale-events`).
 */
import { between, ChaosContext } from './context';
import { BusEvent } from '../runtime/eventbridge';

const MINUTE = 60_000;
const SECOND = 1000;

/**
 * Old ECS events delivered late: each container-instance event is, with probability 0.5, put on
 * the bus again 1-15 minutes later. And once a container instance is DRAINING, a forged copy of
 * that event claiming it is empty, with a smaller `version`, arrives 5 s later: a controller that
 * trusted event contents would release the instance with its tasks still running.
 */
export function replayStaleEcsEvents(context: ChaosContext): void {
  const { sim } = context;
  const forged = new Set<string>();
  const inner = sim.emulator.onEvent;
  sim.emulator.onEvent = event => {
    inner?.(event);
    // Container instance events only, as above: the emulator's task state change events (which no
    // rule of the drain hook matches) would take draws from the run's random stream.
    if (event.source !== 'aws.ecs' || event['detail-type'] !== 'ECS Container Instance State Change') return;
    const detail = event.detail as Record<string, unknown>;
    const copy = JSON.parse(JSON.stringify(event)) as BusEvent;
    if (context.random.chance(0.5)) sim.clock.after(between(context, MINUTE, 15 * MINUTE), () => sim.eventBridge.putEvent(copy));
    const arn = String(detail.containerInstanceArn);
    if (detail.status === 'DRAINING' && !forged.has(arn) && Number(detail.runningTasksCount) > 0) {
      forged.add(arn);
      const stale = JSON.parse(JSON.stringify(event)) as { detail: Record<string, unknown> };
      stale.detail.runningTasksCount = 0;
      stale.detail.pendingTasksCount = 0;
      stale.detail.remainingResources = stale.detail.registeredResources;
      stale.detail.version = Math.max(0, Number(detail.version) - 1);
      sim.clock.after(5 * SECOND, () => sim.eventBridge.putEvent(stale as unknown as BusEvent));
    }
  };
}

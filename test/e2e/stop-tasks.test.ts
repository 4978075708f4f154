/**
 * stopTasksBeforeDeadline on the deployed example: a standalone job that never ends on its own
 * (DRAINING never stops a standalone task: ECS developer guide, container instance draining) is
 * stopped at the drain's stop time, exits within its stop timeout, and the instance is
 * deregistered without force before the deadline. Without the setting the same job holds the
 * drain to its deadline, where it is forced.
 */
import { Duration } from 'aws-cdk-lib';
import { synthesizeExample, withSimulation } from './support';
import { ENV } from '../../src/constants';

const MINUTE = 60_000;

async function drainAJobThatNeverEnds(assembly: string) {
  return withSimulation(assembly, { seed: 5, emulatorFaults: { latencyMs: [20, 80] } }, async sim => {
    const emulator = sim.emulator;
    const cluster = sim.functionEnv(ENV.CLUSTER_NAME)!;
    const group = JSON.parse(sim.functionEnv(ENV.AUTO_SCALING_GROUP_NAMES)!)[0];
    const id = emulator.launchInstance(group, { cluster });
    await sim.runFor(2 * MINUTE);
    emulator.runStandaloneTask(cluster, emulator.containerInstanceArns(id)[0], { stopTimeoutSeconds: 30 });
    await sim.runFor(MINUTE);
    emulator.scaleIn(group, 1);
    await sim.runUntil(() => emulator.timeline(id).terminatedAt !== undefined, 40 * MINUTE);
    return { timeline: emulator.timeline(id), stopTasks: emulator.stats.calls['ecs:StopTask'] ?? 0, denied: emulator.stats.totalDenied };
  });
}

test('the job is stopped at the stop time and the instance deregistered without force before the deadline', async () => {
  const { timeline, stopTasks, denied } = await drainAJobThatNeverEnds(synthesizeExample({
    drainHook: { drainTimeout: Duration.minutes(20), stopTasksBeforeDeadline: Duration.minutes(5) },
  }));
  expect(denied).toBe(0);
  expect(stopTasks).toBeGreaterThanOrEqual(1);
  expect(timeline.forced).toBeFalsy();
  expect(timeline.tasksAliveAtTermination).toEqual([]);
  // Released after the stop time (15 minutes in) and well before the 20-minute deadline.
  const released = timeline.lifecycleCompletedAt! - timeline.terminatingAt!;
  expect(released).toBeGreaterThanOrEqual(15 * MINUTE);
  expect(released).toBeLessThan(18 * MINUTE);
  expect(timeline.completedBy).toBe('api');
}, 120_000);

test('without it, the job holds the drain to its deadline, where it is forced', async () => {
  const { timeline, stopTasks } = await drainAJobThatNeverEnds(synthesizeExample({ drainHook: { drainTimeout: Duration.minutes(20) } }));
  expect(stopTasks).toBe(0);
  expect(timeline.forced).toBe(true);
  expect(timeline.lifecycleCompletedAt! - timeline.terminatingAt!).toBeGreaterThanOrEqual(20 * MINUTE);
}, 120_000);

/**
 * An instance refresh with Strategy ReplaceRootVolume keeps the instance and swaps its root volume
 * after the termination hooks' actions in ReplacingRootVolume:Wait (Auto Scaling user guide,
 * "Replace root volumes during instance refresh"); the instance reboots, and the ECS agent, whose
 * checkpoint was on the old volume, registers anew. The drain hook must drain the instance before
 * the swap, deregister the old registration (no agent will ever come back to it) and release the
 * action: no task dies with the swap, no registration stays DRAINING for good.
 */
import { synthesizeExample, withSimulation } from './support';
import { ENV } from '../../src/constants';

const MINUTE = 60_000;
let assembly: string;

beforeAll(() => {
  assembly = synthesizeExample();
}, 60_000);

test('each instance of a root-volume refresh is drained, deregistered and released before its swap, and comes back with a new registration', async () => {
  await withSimulation(assembly, { seed: 11, emulatorFaults: { latencyMs: [20, 80] } }, async sim => {
    const emulator = sim.emulator;
    const cluster = sim.functionEnv(ENV.CLUSTER_NAME)!;
    const group = JSON.parse(sim.functionEnv(ENV.AUTO_SCALING_GROUP_NAMES)!)[0];
    const ids = [0, 1, 2].map(() => emulator.launchInstance(group, { cluster }));
    emulator.createService(cluster, { name: 'web', desiredCount: 8, deregistrationDelaySeconds: 300, stopTimeoutSeconds: 30, startSeconds: 20 });
    emulator.createService(cluster, { name: 'log-router', desiredCount: 0, daemon: true, stopTimeoutSeconds: 10, startSeconds: 5 });
    emulator.runStandaloneTask(cluster, emulator.containerInstanceArns(ids[0])[0], { runSeconds: 15 * 60, stopTimeoutSeconds: 30 });
    await sim.runFor(3 * MINUTE);

    // One instance at a time, as a refresh of a small group with a high minimum healthy percentage does.
    for (const id of ids.slice(0, 2)) {
      const before = emulator.containerInstanceArns(id);
      // Registered once before the swap: the check of its registrations below is on that one.
      expect(before).toHaveLength(1);
      emulator.replaceRootVolume(id);
      const done = () => emulator.timeline(id).rootVolumeReplacements[0]?.inServiceAt !== undefined;
      await sim.runUntil(done, 3 * 60 * MINUTE);

      const replacement = emulator.timeline(id).rootVolumeReplacements[0];
      expect(replacement.completedBy).toBe('api');
      expect(replacement.tasksAliveAtSwap).toEqual([]);
      expect(replacement.registrationsLeftBehind).toEqual([]);
      for (const arn of before) expect(emulator.registration(arn)?.status).toBe('INACTIVE');
      const now = emulator.containerInstanceArns(id).filter(arn => !before.includes(arn));
      expect(now).toHaveLength(1);
      expect(emulator.registration(now[0])).toMatchObject({ status: 'ACTIVE', agentConnected: true });
      // Its drain was not forced: released once empty, well before the one-hour deadline.
      expect(emulator.timeline(id).forced).toBeFalsy();
      expect(replacement.lifecycleCompletedAt! - replacement.startedAt).toBeLessThan(30 * MINUTE);
    }
  });
});

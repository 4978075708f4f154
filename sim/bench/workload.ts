/**
 * The bench workload, the same for every strategy: N instances, each running
 * four replica tasks of a service behind a load balancer (300 s deregistration delay, so a
 * stopping task stays DEACTIVATING for five minutes, then a 30 s stop timeout) and one daemon
 * task; one instance in ten also runs a standalone (RunTask) task that ends ten minutes after
 * the scale-in. Then all N terminate at once (SetDesiredCapacity to the group's minimum).
 */
import { Simulation } from '../runtime/simulation';

const MINUTE = 60_000;
export const WEB_TASKS_PER_INSTANCE = 4;
export const DEREGISTRATION_DELAY_SECONDS = 300;
export const STOP_TIMEOUT_SECONDS = 30;
/** One instance in this many runs a standalone task. */
export const STANDALONE_EVERY = 10;
/** The standalone task ends this long after the scale-in. */
export const STANDALONE_AFTER_SCALE_IN_MS = 10 * MINUTE;
/** From launch to the scale-in: every task RUNNING and the controller's schedule warmed up. */
export const SETUP_MS = 3 * MINUTE;

export interface WorkloadOptions {
  readonly clusterName: string;
  readonly groupName: string;
  readonly instances: number;
  /** The scale-in is abandoned (outcome `limit`) after this much simulated time. */
  readonly maxSimMs: number;
  /** Called at the scale-in instant, before it happens (the bench snapshots counters here). */
  readonly beforeScaleIn?: () => void;
}

export interface WorkloadRun {
  readonly instanceIds: string[];
  readonly scaleInAt: number;
  readonly outcome: 'done' | 'limit' | 'idle';
}

export async function runWorkload(sim: Simulation, options: WorkloadOptions): Promise<WorkloadRun> {
  const { clusterName, groupName } = options;
  const emulator = sim.emulator;
  const instanceIds: string[] = [];
  for (let i = 0; i < options.instances; i++) instanceIds.push(emulator.launchInstance(groupName, { cluster: clusterName }));
  // Services after the instances, so that placement spreads the replicas over all of them.
  emulator.createService(clusterName, {
    name: 'web',
    desiredCount: WEB_TASKS_PER_INSTANCE * options.instances,
    deregistrationDelaySeconds: DEREGISTRATION_DELAY_SECONDS,
    stopTimeoutSeconds: STOP_TIMEOUT_SECONDS,
    startSeconds: 20,
  });
  emulator.createService(clusterName, { name: 'log-router', desiredCount: 0, daemon: true, stopTimeoutSeconds: 10, startSeconds: 5 });
  for (let i = 0; i < instanceIds.length; i += STANDALONE_EVERY) {
    emulator.runStandaloneTask(clusterName, emulator.containerInstanceArns(instanceIds[i])[0], {
      runSeconds: (SETUP_MS + STANDALONE_AFTER_SCALE_IN_MS) / 1000,
      stopTimeoutSeconds: STOP_TIMEOUT_SECONDS,
    });
  }

  await sim.runFor(SETUP_MS);
  options.beforeScaleIn?.();
  const scaleInAt = sim.clock.now();
  emulator.scaleIn(groupName, instanceIds.length);
  // Asked after every step of virtual time: O(1) amortized, as a termination is never undone.
  let terminated = 0;
  const allTerminated = () => {
    while (terminated < instanceIds.length && emulator.timeline(instanceIds[terminated]).terminatedAt !== undefined) terminated++;
    return terminated === instanceIds.length;
  };
  const result = await sim.runUntil(allTerminated, options.maxSimMs);
  return { instanceIds, scaleInAt, outcome: result.reason };
}

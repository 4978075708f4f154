/**
 * Named scale-in scenarios on the deployed example: which instances launch, what runs on them,
 * what happens to them, and when the scenario is over. Shared by `simulate`, the e2e tests and
 * later `bench`/`chaos`.
 */
import { deriveSeed } from './seeds';
import { Simulation } from './simulation';
import { ENV } from '../../src/constants';
import { SeededRandom } from '../emulator/random';

export const SCENARIOS = ['plain', 'mixed', 'spot', 'never-registered', 'manual-draining', 'long-drain'] as const;
export type ScenarioName = typeof SCENARIOS[number];

export interface ScenarioOptions {
  readonly scenario: ScenarioName;
  readonly instances: number;
  readonly seed?: number;
  /** Called every `progressEveryMs` of simulated time while the drain runs. */
  readonly onProgress?: (progress: Progress) => void;
  /** @default 5 minutes */
  readonly progressEveryMs?: number;
}

export interface Progress {
  readonly elapsedMs: number;
  readonly draining: number;
  readonly drained: number;
  readonly completed: number;
}

/** What a scenario set up and what the report reads. */
export interface ScenarioRun {
  readonly clusterName: string;
  readonly groupName: string;
  /** Every instance launched, in launch order. */
  readonly instanceIds: string[];
  /** The instances the scenario expects to terminate (scaled in or interrupted). */
  readonly terminating: string[];
  /** Instances an operator drained by hand: the controller must leave them alone. */
  readonly operatorDrained: string[];
  /** Instances launched without ever registering with the cluster. */
  readonly neverRegistered: string[];
  /** Instances given a standalone task that never ends (their drain must be forced). */
  readonly foreverTasks: string[];
  /** Virtual time the scale-in (or interruption) happened. */
  readonly scaleInAt: number;
  readonly drainTimeoutMs: number;
  readonly heartbeatTimeoutMs: number;
  /** `done`: every terminating instance terminated; `limit`: the time limit hit first. */
  readonly outcome: 'done' | 'limit' | 'idle';
}

const MINUTE = 60_000;
/** Replica tasks per instance at start, plus one daemon task on every instance. */
const WEB_TASKS_PER_INSTANCE = 4;
/** The example's target group deregistration delay (test/integ.drain-hook.ts). */
const DEREGISTRATION_DELAY_SECONDS = 300;

export async function runScenario(sim: Simulation, options: ScenarioOptions): Promise<ScenarioRun> {
  const random = new SeededRandom(deriveSeed(options.seed ?? 1, 4));
  const emulator = sim.emulator;
  const clusterName = sim.functionEnv(ENV.CLUSTER_NAME) ?? sim.model.clusters[0]?.name;
  const groupName = groupNamesOf(sim.functionEnv(ENV.AUTO_SCALING_GROUP_NAMES))[0] ?? sim.model.autoScalingGroups[0]?.name;
  if (!clusterName || !groupName) throw new Error('the assembly has no drain controller cluster/group to simulate');
  const drainTimeoutMs = Number(sim.functionEnv(ENV.DRAIN_TIMEOUT_SECONDS) ?? 3600) * 1000;
  const heartbeatTimeoutMs = Number(sim.functionEnv(ENV.HEARTBEAT_TIMEOUT_SECONDS) ?? 3600) * 1000;
  const n = options.instances;

  // ---- launch -------------------------------------------------------------------------------
  const neverRegisteredCount = options.scenario === 'never-registered' ? n : options.scenario === 'mixed' ? 1 : 0;
  const instanceIds: string[] = [];
  const neverRegistered: string[] = [];
  for (let i = 0; i < n; i++) {
    const registers = i >= neverRegisteredCount;
    const id = emulator.launchInstance(groupName, {
      cluster: registers ? clusterName : undefined,
      spot: options.scenario === 'spot',
    });
    instanceIds.push(id);
    if (!registers) neverRegistered.push(id);
  }
  const registered = instanceIds.filter(id => !neverRegistered.includes(id));
  // The newest instances: Auto Scaling's default termination policy picks the oldest first, so a
  // scale-in of the others never selects an operator's instance.
  const operatorDrained = options.scenario === 'manual-draining' ? registered.slice(-Math.max(1, Math.floor(n / 10))) : [];

  // Services go in after the instances so that placement spreads them over all of them.
  if (registered.length > 0) {
    emulator.createService(clusterName, {
      name: 'web',
      desiredCount: WEB_TASKS_PER_INSTANCE * registered.length,
      deregistrationDelaySeconds: DEREGISTRATION_DELAY_SECONDS,
      stopTimeoutSeconds: 30,
      startSeconds: 20,
    });
    emulator.createService(clusterName, { name: 'log-router', desiredCount: 0, daemon: true, stopTimeoutSeconds: 10, startSeconds: 5 });
  }
  const foreverTasks: string[] = [];
  for (const id of registered) {
    const arn = emulator.containerInstanceArns(id)[0];
    if (options.scenario === 'mixed' && random.chance(0.2)) {
      // Batch jobs started with RunTask: DRAINING does not stop them; they end on their own.
      emulator.runStandaloneTask(clusterName, arn, { runSeconds: random.int(8 * 60, 25 * 60), stopTimeoutSeconds: 30 });
    }
    if (options.scenario === 'long-drain') {
      // Longer than the hook's heartbeat timeout when the drain timeout allows it: only heartbeats keep the action alive.
      const runMs = Math.min(heartbeatTimeoutMs + 15 * MINUTE, drainTimeoutMs - 10 * MINUTE);
      emulator.runStandaloneTask(clusterName, arn, { runSeconds: Math.round(runMs / 1000), stopTimeoutSeconds: 30 });
    }
  }
  if (options.scenario === 'mixed' && registered.length > 0) {
    // One job that never ends: only the drain deadline releases its instance.
    const id = registered[registered.length - 1];
    emulator.runStandaloneTask(clusterName, emulator.containerInstanceArns(id)[0], { stopTimeoutSeconds: 30 });
    foreverTasks.push(id);
  }

  // Let every task reach RUNNING, then the operator's maintenance drains begin.
  await sim.runFor(2 * MINUTE);
  for (const id of operatorDrained) emulator.setContainerInstanceDraining(emulator.containerInstanceArns(id)[0]);
  await sim.runFor(MINUTE);

  // ---- scale in -----------------------------------------------------------------------------
  const scaleInAt = sim.clock.now();
  const terminating = instanceIds.filter(id => !operatorDrained.includes(id));
  if (options.scenario === 'spot') {
    for (const id of terminating) emulator.spotInterruption(id);
  } else {
    emulator.scaleIn(groupName, terminating.length);
  }

  const progressEveryMs = options.progressEveryMs ?? 5 * MINUTE;
  let nextProgress = scaleInAt + progressEveryMs;
  const report = () => {
    while (options.onProgress && sim.clock.now() >= nextProgress) {
      options.onProgress(progressOf(sim, terminating, nextProgress - scaleInAt));
      nextProgress += progressEveryMs;
    }
  };
  const allTerminated = () => {
    report();
    return terminating.every(id => emulator.timeline(id).terminatedAt !== undefined);
  };
  const result = await sim.runUntil(allTerminated, drainTimeoutMs + heartbeatTimeoutMs + 30 * MINUTE);
  return {
    clusterName,
    groupName,
    instanceIds,
    terminating,
    operatorDrained,
    neverRegistered,
    foreverTasks,
    scaleInAt,
    drainTimeoutMs,
    heartbeatTimeoutMs,
    outcome: result.reason,
  };
}

function progressOf(sim: Simulation, instanceIds: string[], elapsedMs: number): Progress {
  let draining = 0;
  let drained = 0;
  let completed = 0;
  for (const id of instanceIds) {
    const t = sim.emulator.timeline(id);
    if (t.lifecycleCompletedAt !== undefined || t.terminatedAt !== undefined) completed++;
    // lastTaskStoppedAt moves with every task that stops; deregistration is what marks "drained".
    else if (t.deregisteredAt !== undefined) drained++;
    else if (t.drainingAt !== undefined || t.terminatingAt !== undefined) draining++;
  }
  return { elapsedMs, draining, drained, completed };
}

/** The managed group names: a JSON array (what the construct writes) or a comma-separated list. */
function groupNamesOf(value: string | undefined): string[] {
  if (!value) return [];
  if (value.trim().startsWith('[')) return (JSON.parse(value) as unknown[]).map(String);
  return value.split(',').map(s => s.trim()).filter(Boolean);
}

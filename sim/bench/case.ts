/**
 * One bench case: a strategy (our controller or the aws-cdk baseline), a size, an event mode.
 * Starts a simulation, runs the workload, and measures what the bench reports. Runs in its own
 * process (see bench.ts), so that one case's heap never slows the next.
 */
import { writeBaselineAssembly, BASELINE_CLUSTER, BASELINE_DRAIN_TIME_SECONDS, BASELINE_GROUP } from './baseline-assembly';
import { reactionFloor, ReactionFloor } from './reaction-floor';
import { WARM_UP } from './warm-up';
import { runWorkload } from './workload';
import { ENV } from '../../src/constants';
import { BUSY_CLUSTER, DEFAULT_DEREGISTRATION_LAG_MS } from '../emulator';
import { AUTOSCALING_THROTTLING_GROUPS, ECS_THROTTLING_GROUPS } from '../emulator/throttling';
import { InvocationRecord } from '../runtime/lambda';
import { emptyAtOf, percentile, summarize } from '../runtime/report';
import { Simulation } from '../runtime/simulation';

export type Strategy = 'ours' | 'baseline';
/**
 * `events`: ECS events flowing; `ecs-events-lost`: every ECS event lost (the schedule alone);
 * `busy-cluster`: every ECS event lost, in a busy cluster (emulator BUSY_CLUSTER: batch jobs on
 * the instances, Fargate tasks coming and going): the pass does the work, and its cluster-wide
 * listing of STOPPED tasks pages through the Fargate tasks too.
 */
export type EventMode = 'events' | 'ecs-events-lost' | 'busy-cluster';


export interface CaseSpec {
  readonly strategy: Strategy;
  readonly instances: number;
  readonly events: EventMode;
  readonly seed: number;
  /** Our controller's cloud assembly (cdk.out). */
  readonly assembly: string;
  /** Response latency drawn per API call, virtual ms. */
  readonly latencyMs: [number, number];
}

export interface CaseResult {
  readonly spec: CaseSpec;
  readonly outcome: 'done' | 'limit' | 'idle';
  readonly instances: number;
  /** Every ECS + Auto Scaling request after the scale-in, throttled and failed ones included. */
  readonly apiCalls: number;
  readonly throttled: number;
  readonly callsByOperation: Record<string, number>;
  readonly throttledByOperation: Record<string, number>;
  /** Lifecycle actions not completed by the drainer (hook timed out) or drains forced. */
  readonly failedDrains: number;
  readonly lifecycleTimeouts: number;
  readonly forced: number;
  readonly premature: number;
  /** Instances terminated with a task not yet STOPPED (premature or at the deadline). */
  readonly releasedWithTasks: number;
  readonly reactionP50Seconds: number;
  readonly reactionP99Seconds: number;
  readonly reactionSamples: number;
  /**
   * Where the reaction goes, per instance drained cleanly: last task STOPPED → deregistered, and
   * deregistered → lifecycle action completed (p50 and p99 of each; 0 without a deregistration).
   */
  readonly toDeregistrationP50Seconds: number;
  readonly toDeregistrationP99Seconds: number;
  readonly deregistrationToCompletionP50Seconds: number;
  readonly deregistrationToCompletionP99Seconds: number;
  /** What no controller could beat on this case's drain-end times (reaction-floor.ts); p99. */
  readonly reactionFloor: ReactionFloor;
  readonly busySeconds: number;
  readonly invocations: number;
  readonly invocationErrors: number;
  readonly invocationTimeouts: number;
  readonly failureRecords: number;
  /** Calls IAM refused under the strategy's role (each a failure: AWS would refuse it too). */
  readonly denied: number;
  /** Most instances whose last task stopped within one 60 s window (the peak completion demand). */
  readonly peakEmptiedPerMinute: number;
  /** Scale-in to the last instance terminated, simulated seconds. */
  readonly scaleInSeconds: number;
  readonly realSeconds: number;
  readonly simulatedSeconds: number;
  /** Peak resident set size of the case's process (its worker), MiB. */
  readonly peakRssMb: number;
  /**
   * What the functions logged after the scale-in, counted per `<function role> <level>: <message>`
   * (structured JSON lines; the role is `events` or `reconcile` for ours, `baseline` otherwise).
   */
  readonly logCounts: Record<string, number>;
  /** The scheduled reconcile passes after the scale-in (ours; none for the baseline). */
  readonly passes: PassFigures;
  /** Lambda, every function of the case, whole run: execution environments started, deliveries throttled, peak concurrency. */
  readonly lambda: { readonly environments: number; readonly throttles: number; readonly peakConcurrency: number };
  /** The simulation's own work, whole run: steps of virtual time and event-loop turns waiting for quiescence. */
  readonly driver: { readonly advances: number; readonly turns: number };
}

export interface PassFigures {
  readonly count: number;
  readonly p50Seconds: number;
  readonly maxSeconds: number;
  /** Passes that logged running out of time. */
  readonly outOfTime: number;
  /** Instances those passes left to the next one, summed. */
  readonly deferred: number;
}

const HOUR = 3_600_000;

export async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const realStart = process.hrtime.bigint();
  const assemblyDirectory = spec.strategy === 'ours' ? spec.assembly : writeBaselineAssembly();
  const sim = await Simulation.start({
    assemblyDirectory,
    seed: spec.seed,
    throttling: true,
    emulatorFaults: { errorRate: 0, latencyMs: spec.latencyMs },
    eventFaults: spec.events === 'events' ? undefined : { lossRate: 1, lossOnlyEcs: true },
    unkind: spec.events === 'busy-cluster' ? { backgroundChurn: BUSY_CLUSTER } : undefined,
  });
  try {
    const fn = sim.model.functions[0];
    if (!fn) throw new Error(`${assemblyDirectory}: no function to run`);
    const clusterName = spec.strategy === 'ours' ? sim.functionEnv(ENV.CLUSTER_NAME)! : BASELINE_CLUSTER;
    const groupName = spec.strategy === 'ours' ? groupNamesOf(sim.functionEnv(ENV.AUTO_SCALING_GROUP_NAMES))[0] : BASELINE_GROUP;
    const drainTimeoutMs = spec.strategy === 'ours'
      ? Number(sim.functionEnv(ENV.DRAIN_TIMEOUT_SECONDS) ?? 3600) * 1000
      : BASELINE_DRAIN_TIME_SECONDS * 1000;

    if (spec.strategy === 'baseline') {
      // The first SDK request of the process reads the shared config files (real fs I/O, which
      // the driver cannot see). Ours meets it during the setup (its schedule fires every minute);
      // the baseline's first invocation would meet it at the scale-in, where a lone instance has
      // no other timer and time could jump ahead. One warm-up invocation during the setup.
      sim.lambda.invokeAsync(fn.name, { [WARM_UP]: true });
    }
    let callsBefore: Record<string, number> = {};
    let throttledBefore: Record<string, number> = {};
    let busyBefore = 0;
    let invocationsBefore = 0;
    const run = await runWorkload(sim, {
      clusterName,
      groupName,
      instances: spec.instances,
      maxSimMs: 3 * HOUR,
      beforeScaleIn: () => {
        callsBefore = { ...sim.emulator.stats.calls };
        throttledBefore = { ...sim.emulator.stats.throttled };
        busyBefore = busyMsOf(sim);
        invocationsBefore = sim.lambda.invocations.length;
      },
    });
    const callsByOperation = diff(sim.emulator.stats.calls, callsBefore);
    const throttledByOperation = diff(sim.emulator.stats.throttled, throttledBefore);
    const summary = summarize(sim, {
      clusterName,
      groupName,
      instanceIds: run.instanceIds,
      terminating: run.instanceIds,
      operatorDrained: [],
      neverRegistered: [],
      foreverTasks: [],
      scaleInAt: run.scaleInAt,
      drainTimeoutMs,
      heartbeatTimeoutMs: 0,
      outcome: run.outcome,
    });
    const reactions = summary.rows.flatMap(r => (r.reactionMs !== undefined ? [r.reactionMs] : [])).sort((a, b) => a - b);
    // Busy time of invocations still running at the end counts up to now.
    const stillRunning = sim.lambda.invocations.filter(i => i.endedAt === undefined)
      .reduce((total, i) => total + (sim.clock.now() - i.startedAt), 0);
    const after = sim.lambda.invocations.slice(invocationsBefore);
    const lastTerminated = Math.max(...summary.rows.map(r => r.timeline.terminatedAt ?? sim.clock.now()));
    const emptied = summary.rows
      .flatMap(r => (r.timeline.lastTaskStoppedAt !== undefined ? [r.timeline.lastTaskStoppedAt] : []))
      .sort((a, b) => a - b);
    const cleanRows = summary.rows.filter(r => r.reactionMs !== undefined && r.timeline.deregisteredAt !== undefined);
    const toDeregistration = sortedMs(cleanRows.map(r => r.timeline.deregisteredAt! - emptyAtOf(r.timeline)!));
    const deregistrationToCompletion = sortedMs(cleanRows.map(r => r.timeline.lifecycleCompletedAt! - r.timeline.deregisteredAt!));
    const floor = reactionFloor({
      drainEndsMs: summary.rows.flatMap(r => {
        const emptyAt = emptyAtOf(r.timeline);
        return emptyAt === undefined ? [] : [emptyAt];
      }),
      deregistrationLagMs: DEFAULT_DEREGISTRATION_LAG_MS,
      minLatencyMs: spec.latencyMs[0],
      read: ECS_THROTTLING_GROUPS['cluster-resource-read'],
      modify: ECS_THROTTLING_GROUPS['cluster-resource-modify'],
      lifecycle: AUTOSCALING_THROTTLING_GROUPS.lifecycle,
      drainsPerRead: 100,
      percentile: 0.99,
    });
    let peakEmptiedPerMinute = 0;
    for (let i = 0, j = 0; j < emptied.length; j++) {
      while (emptied[j] - emptied[i] >= 60_000) i++;
      peakEmptiedPerMinute = Math.max(peakEmptiedPerMinute, j - i + 1);
    }
    return {
      spec,
      outcome: run.outcome,
      peakEmptiedPerMinute,
      instances: summary.instances,
      apiCalls: sum(callsByOperation),
      throttled: sum(throttledByOperation),
      callsByOperation,
      throttledByOperation,
      failedDrains: summary.rows.filter(r => r.timeline.completedBy !== 'api' || r.timeline.forced).length,
      lifecycleTimeouts: summary.lostActions,
      forced: summary.forced,
      premature: summary.premature,
      releasedWithTasks: summary.rows.filter(r => r.timeline.tasksAliveAtTermination.length > 0).length,
      reactionP50Seconds: percentile(reactions, 0.5) / 1000,
      reactionP99Seconds: percentile(reactions, 0.99) / 1000,
      reactionSamples: reactions.length,
      toDeregistrationP50Seconds: percentile(toDeregistration, 0.5) / 1000,
      toDeregistrationP99Seconds: percentile(toDeregistration, 0.99) / 1000,
      deregistrationToCompletionP50Seconds: percentile(deregistrationToCompletion, 0.5) / 1000,
      deregistrationToCompletionP99Seconds: percentile(deregistrationToCompletion, 0.99) / 1000,
      reactionFloor: floor,
      busySeconds: (busyMsOf(sim) - busyBefore + stillRunning) / 1000,
      invocations: after.length,
      invocationErrors: after.filter(i => i.outcome === 'error' || i.outcome === 'crash').length,
      invocationTimeouts: after.filter(i => i.outcome === 'timeout').length,
      failureRecords: sim.lambda.failures.length,
      denied: sim.emulator.stats.totalDenied,
      scaleInSeconds: (lastTerminated - run.scaleInAt) / 1000,
      realSeconds: Number(process.hrtime.bigint() - realStart) / 1e9,
      simulatedSeconds: (sim.clock.now() - run.scaleInAt) / 1000,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      logCounts: logCountsOf(sim, after),
      passes: passFiguresOf(sim, after),
      lambda: lambdaFiguresOf(sim),
      driver: { ...sim.driver.counters },
    };
  } finally {
    sim.stop();
  }
}

function lambdaFiguresOf(sim: Simulation): CaseResult['lambda'] {
  const all = sim.model.functions.map(f => sim.lambda.stats(f.name));
  return {
    environments: all.reduce((total, f) => total + f.environments, 0),
    throttles: all.reduce((total, f) => total + f.throttles, 0),
    peakConcurrency: Math.max(0, ...all.map(f => f.peakConcurrency)),
  };
}

/** The function a scheduled rule targets: ours runs the reconcile pass there. */
function reconcileFunctionOf(sim: Simulation): string | undefined {
  return sim.model.rules.find(r => r.scheduleExpression !== undefined)?.targets.find(t => t.functionName)?.functionName;
}

interface LogLine { level?: string; message?: string; deferred?: number }

function parsedLogs(record: InvocationRecord): LogLine[] {
  return record.logs.flatMap(line => {
    try {
      const parsed = JSON.parse(line) as LogLine;
      return typeof parsed === 'object' && parsed !== null && typeof parsed.message === 'string' ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

function logCountsOf(sim: Simulation, invocations: InvocationRecord[]): Record<string, number> {
  const reconcile = reconcileFunctionOf(sim);
  const drain = new Set(sim.drainFunctionNames());
  const counts: Record<string, number> = {};
  for (const record of invocations) {
    const role = record.functionName === reconcile ? 'reconcile' : drain.has(record.functionName) ? 'events' : 'baseline';
    for (const line of parsedLogs(record)) {
      const key = `${role} ${line.level ?? '?'}: ${line.message}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

function passFiguresOf(sim: Simulation, invocations: InvocationRecord[]): PassFigures {
  const reconcile = reconcileFunctionOf(sim);
  const passes = invocations.filter(i => i.functionName === reconcile && i.endedAt !== undefined);
  const durations = sortedMs(passes.map(i => i.endedAt! - i.startedAt));
  let outOfTime = 0;
  let deferred = 0;
  for (const pass of passes) {
    const short = parsedLogs(pass).filter(l => l.message!.startsWith('reconcile pass ran out of time'));
    if (short.length > 0) outOfTime++;
    for (const line of short) deferred += typeof line.deferred === 'number' ? line.deferred : 0;
  }
  return {
    count: passes.length,
    p50Seconds: percentile(durations, 0.5) / 1000,
    maxSeconds: (durations[durations.length - 1] ?? 0) / 1000,
    outOfTime,
    deferred,
  };
}

function sortedMs(values: number[]): number[] {
  return values.sort((a, b) => a - b);
}

function diff(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(now)) {
    const d = value - (before[key] ?? 0);
    if (d > 0) out[key] = d;
  }
  return out;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function groupNamesOf(value: string | undefined): string[] {
  if (!value) return [];
  if (value.trim().startsWith('[')) return (JSON.parse(value) as unknown[]).map(String);
  return value.split(',').map(s => s.trim()).filter(Boolean);
}

/** Busy time of every function of the assembly (ours: the event and the reconcile function). */
function busyMsOf(sim: Simulation): number {
  return sim.model.functions.reduce((total, f) => total + sim.lambda.stats(f.name).busyMs, 0);
}

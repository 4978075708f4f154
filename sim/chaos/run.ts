/**
 * Runs one chaos scenario for one seed on the deployed example and measures what must hold:
 *
 * - actions: lifecycle actions started (instances that entered Terminating:Wait or
 *   Warmed:Terminating:Wait, and each return to a warm pool through Warmed:Pending:Wait), minus those the
 *   scenario took out of the controller's reach by construction (`excluded`: group deleted,
 *   action completed by someone else, hook expiring before any drain can end);
 * - completed: of those, actions completed with CompleteLifecycleAction (not by the hook's
 *   timeout); only the controller calls the API for them, so these are the controller's;
 * - premature: of those, instances terminated (or stopped in a warm pool) before their drain
 *   deadline (lifecycle action start + drain timeout) with a task still not STOPPED (tasks
 *   orphaned by someone else's forced deregistration do not count: ECS no longer tracks them);
 *   plus the controller's deregistrations forced before that deadline while ECS still counted a
 *   task (a plain one would have been refused: `force` only belongs to the deadline);
 * - violations: mutating calls on the operator-drained container instance (emulator rule);
 * - unhandled: invocations that failed (error or timeout) where the handler logged no
 *   structured JSON error line, or logged an error whose name is not one the scenario's faults
 *   produce; timeouts count unless the scenario slows answers down; crashes are injected by
 *   definition. A junk event whose invocation did not succeed with exactly one JSON log line and
 *   no mutating call also counts;
 * - failedChecks: the scenario's own checks (`verify`) of what these counts cannot see.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AFTERMATH_MS, ChaosContext, guaranteedDrainMs, launchInto, runLimitMs } from './context';
import { isMutating } from './junk-events';
import { ChaosOutcome, ChaosScenario } from './scenarios';
import { synthesizeVariant } from './variant-app';
import { ATTRIBUTE, ENV } from '../../src/constants';
import { AwsEmulator, CompletedBy, HOOK_WAIT_STATES, InstanceTimeline, RegistrationWrite, UnkindOptions } from '../emulator';
import { SeededRandom } from '../emulator/random';
import { EventBridgeFaults } from '../runtime/eventbridge';
import { percentile } from '../runtime/report';
import { deriveSeed } from '../runtime/seeds';
import { Simulation } from '../runtime/simulation';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const WEB_TASKS_PER_INSTANCE = 4;

export interface ChaosRunOptions {
  readonly scenario: ChaosScenario;
  readonly seed: number;
  readonly instances: number;
  /** The synthesized example (cdk.out). */
  readonly assemblyDirectory: string;
  /** The example synthesized with a 3 h drain timeout; built on first use when absent. */
  readonly longDrainAssemblyDirectory?: () => string;
  /**
   * API latency [min, max] (virtual ms) of every row whose `emulatorFaults` set no `latencyMs`
   * (`chaos --latency MIN-MAX`). Default none: the rows answer as they always did.
   */
  readonly defaultLatencyMs?: [number, number];
  /** Unkind options of every row, under the row's own `unkind`. Default none. */
  readonly defaultUnkind?: UnkindOptions;
  /** Late redeliveries of every row whose `eventFaults` set none (EventBridgeFaults.redeliveries). Default none. */
  readonly defaultRedeliveries?: EventBridgeFaults['redeliveries'];
}

export interface ChaosRunResult {
  readonly scenario: string;
  readonly seed: number;
  readonly actions: number;
  readonly excluded: number;
  readonly completed: number;
  readonly premature: number;
  readonly violations: number;
  /** Drain writes on registrations whose instance did not wait in a hook then (see report.ts DEFINITIONS). */
  readonly writesOutsideWait: number;
  readonly unhandled: number;
  /** Calls IAM refused (sim/emulator/iam): the controller's role lacks a permission it uses. */
  readonly denied: number;
  /** The scenario's own checks that failed (see ChaosScenario.verify). */
  readonly failedChecks: number;
  readonly forced: number;
  /** Ms from the instance being empty (or drained from the start) to completion, per clean drain. */
  readonly reactionsMs: number[];
  readonly invocations: number;
  readonly injectedFailures: number;
  readonly maxConcurrentInvocations: number;
  readonly junkInvocations: number;
  readonly outcome: ChaosOutcome;
  /** Why each unhandled error, premature release or missed completion counted. */
  readonly problems: string[];
  readonly notes: string[];
  readonly realMs: number;
}

export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const { scenario, seed } = options;
  const realStart = process.hrtime.bigint();
  const assemblyDirectory = assemblyOf(scenario, options);
  const lag = scenario.deregistrationLagMs;
  let sim: Simulation | undefined;
  try {
    sim = await Simulation.start({
      assemblyDirectory,
      seed,
      throttling: scenario.buckets ?? true,
      emulatorFaults: rowEmulatorFaults(scenario, options),
      unkind: rowUnkindOptions(scenario, options),
      eventFaults: scenario.eventFaults?.redeliveries !== undefined || options.defaultRedeliveries === undefined
        ? scenario.eventFaults : { ...scenario.eventFaults, redeliveries: options.defaultRedeliveries },
      lambdaFaults: scenario.lambdaFaults,
      lambdaAccountConcurrencyLimit: scenario.lambdaAccountConcurrencyLimit,
      ...lag === undefined ? {} : { createEmulator: o => new AwsEmulator({ ...o, deregistrationLagMs: lag }) },
    });
    const calls = attributeCalls(sim);
    const context = contextOf(sim, options);
    const run = await drive(context, scenario);
    const result = measure(context, scenario, run.scaledIn, calls, run.outcome);
    return { ...result, realMs: Number(process.hrtime.bigint() - realStart) / 1e6 };
  } finally {
    sim?.stop();
  }
}

/** The row's 5xx rate and latency: its own, or for latency the run's default when it sets none. */
export function rowEmulatorFaults(scenario: ChaosScenario, options: Pick<ChaosRunOptions, 'defaultLatencyMs'>): ChaosScenario['emulatorFaults'] {
  if (scenario.emulatorFaults?.latencyMs !== undefined || options.defaultLatencyMs === undefined) return scenario.emulatorFaults;
  return { ...scenario.emulatorFaults, latencyMs: options.defaultLatencyMs };
}

/** The row's unkind options: the run's defaults, the row's own over them. */
export function rowUnkindOptions(scenario: ChaosScenario, options: Pick<ChaosRunOptions, 'defaultUnkind'>): UnkindOptions {
  return { ...options.defaultUnkind, ...scenario.unkind };
}

function assemblyOf(scenario: ChaosScenario, options: ChaosRunOptions): string {
  switch (scenario.assembly) {
    case undefined:
    case 'default':
      return options.assemblyDirectory;
    case 'long-drain':
      return (options.longDrainAssemblyDirectory ?? synthesizeLongDrainExample)();
    default:
      return synthesizeVariant(scenario.assembly);
  }
}

function contextOf(sim: Simulation, options: ChaosRunOptions): ChaosContext {
  const drainTimeoutMs = Number(sim.functionEnv(ENV.DRAIN_TIMEOUT_SECONDS)) * SECOND;
  const heartbeatTimeoutMs = Number(sim.functionEnv(ENV.HEARTBEAT_TIMEOUT_SECONDS)) * SECOND;
  const clusterName = sim.functionEnv(ENV.CLUSTER_NAME);
  const groupNames = JSON.parse(sim.functionEnv(ENV.AUTO_SCALING_GROUP_NAMES) ?? '[]') as string[];
  const groupName = groupNames[0];
  const hookName = sim.functionEnv(ENV.LIFECYCLE_HOOK_NAME);
  const functionName = sim.eventFunctionName();
  if (!clusterName || !groupName || !hookName || !functionName) throw new Error('the assembly has no drain controller to put under chaos');
  return {
    sim,
    seed: options.seed,
    random: new SeededRandom(deriveSeed(options.seed, 11)),
    instances: options.instances,
    clusterName,
    groupName,
    groupNames,
    hookName,
    functionName,
    drainTimeoutMs,
    heartbeatTimeoutMs,
    guaranteedDrainMs: guaranteedDrainMs(drainTimeoutMs, heartbeatTimeoutMs),
    instanceIds: [],
    groupOf: new Map(),
    excluded: new Map(),
    orphanedByOthers: new Set(),
    deregisteredByOthers: new Set(),
    junk: new Set(),
    notes: [],
  };
}

/**
 * The scale-in every scenario shares, with the scenario's hooks at their moments. Instances are
 * spread over the managed groups in turn, and each group is scaled in by its own share.
 */
async function drive(context: ChaosContext, scenario: ChaosScenario): Promise<{ scaledIn: string[]; outcome: ChaosOutcome }> {
  const { sim, clusterName, groupNames } = context;
  const emulator = sim.emulator;
  const startedAt = sim.clock.now();
  const n = context.instances;
  const neverRegistered = Math.min(n, scenario.neverRegistered?.(n) ?? 0);
  for (let i = 0; i < n; i++) {
    const options = scenario.launchOptions?.(i, context) ?? {};
    launchInto(context, groupNames[i % groupNames.length], { ...options, cluster: i < neverRegistered ? undefined : clusterName });
  }
  const registered = context.instanceIds.slice(neverRegistered);
  // The newest registered instance is an operator's maintenance drain: never scaled in (Auto
  // Scaling's default policy picks the oldest), never to be touched by the controller.
  const operatorDrained = registered.length >= 2 ? registered[registered.length - 1] : undefined;
  if (registered.length > 0) {
    emulator.createService(clusterName, {
      name: 'web',
      desiredCount: WEB_TASKS_PER_INSTANCE * registered.length,
      deregistrationDelaySeconds: 300,
      stopTimeoutSeconds: 30,
      startSeconds: 20,
    });
    emulator.createService(clusterName, { name: 'log-router', desiredCount: 0, daemon: true, stopTimeoutSeconds: 10, startSeconds: 5 });
  }
  for (const id of registered) {
    const arn = emulator.containerInstanceArns(id)[0];
    if (scenario.standaloneTasks === 'long') {
      const runSeconds = Math.round((context.heartbeatTimeoutMs + 15 * MINUTE) / SECOND);
      emulator.runStandaloneTask(clusterName, arn, { runSeconds, stopTimeoutSeconds: 30 });
    } else if (context.random.chance(0.3)) {
      emulator.runStandaloneTask(clusterName, arn, { runSeconds: context.random.int(6 * 60, 20 * 60), stopTimeoutSeconds: 30 });
    }
  }
  await sim.runFor(2 * MINUTE);
  if (operatorDrained) emulator.setContainerInstanceDraining(emulator.containerInstanceArns(operatorDrained)[0]);
  await sim.runFor(MINUTE);
  await scenario.beforeScaleIn?.(context);
  await sim.runFor(MINUTE);
  if (scenario.scaleInBeforeTickMs !== undefined) {
    // Schedules tick every minute from deployment (EventBridge here starts them at `startedAt`).
    const sinceStart = sim.clock.now() - startedAt;
    const toTick = MINUTE - (sinceStart % MINUTE);
    await sim.runFor((toTick - scenario.scaleInBeforeTickMs + MINUTE) % MINUTE || MINUTE);
  }

  // Auto Scaling's default termination policy picks each group's oldest instances: the
  // operator's instance, the newest of all, stays.
  const terminating = context.instanceIds.filter(id => id !== operatorDrained);
  if (scenario.disruption === 'root-volume-refresh') {
    scenario.afterScaleIn?.(context, terminating);
    return { scaledIn: terminating, outcome: await refreshRootVolumes(context, terminating) };
  }
  for (const group of groupNames) {
    const count = terminating.filter(id => context.groupOf.get(id) === group).length;
    if (count > 0) emulator.scaleIn(group, count);
  }
  scenario.afterScaleIn?.(context, terminating);
  if (scenario.finish) return { scaledIn: terminating, outcome: await scenario.finish(context, terminating) };
  const allTerminated = () => terminating.every(id => emulator.timeline(id).terminatedAt !== undefined);
  const result = await sim.runUntil(allTerminated, runLimitMs(context));
  if (result.reason === 'done') await sim.runFor(AFTERMATH_MS);
  return { scaledIn: terminating, outcome: result.reason };
}

/**
 * An instance refresh with `Strategy: ReplaceRootVolume` and the default MinHealthyPercentage of
 * 90 %, which for a small group replaces one instance at a time, waiting until it is back in
 * service (Auto Scaling user guide, instance refresh, "Replace root volumes during instance
 * refresh").
 */
async function refreshRootVolumes(context: ChaosContext, instanceIds: readonly string[]): Promise<ChaosOutcome> {
  const { sim } = context;
  const deadline = sim.clock.now() + runLimitMs(context) * Math.max(1, instanceIds.length);
  for (const id of instanceIds) {
    sim.emulator.replaceRootVolume(id);
    const back = () => sim.emulator.timeline(id).rootVolumeReplacements.at(-1)?.inServiceAt !== undefined;
    const result = await sim.runUntil(back, deadline - sim.clock.now());
    if (result.reason !== 'done') return result.reason;
  }
  await sim.runFor(AFTERMATH_MS);
  return 'done';
}

interface CallRecord { readonly invocationId?: string; readonly service: string; readonly operation: string }

/** Records every request the emulator receives (and still lets the Lambda runtime decide). */
function attributeCalls(sim: Simulation): CallRecord[] {
  const calls: CallRecord[] = [];
  const inner = sim.emulator.onRequest;
  sim.emulator.onRequest = info => {
    calls.push({ invocationId: info.invocationId, service: info.service, operation: info.operation });
    return inner ? inner(info) : 'continue';
  };
  return calls;
}

function measure(
  context: ChaosContext, scenario: ChaosScenario, scaledIn: readonly string[], calls: readonly CallRecord[], outcome: ChaosOutcome,
): Omit<ChaosRunResult, 'realMs'> {
  const { sim } = context;
  const problems: string[] = [];
  const timelines = sim.emulator.timelines();
  const started = [...timelines.entries()].filter(([, t]) => t.terminatingAt !== undefined).map(([id]) => id);
  const eligible = started.filter(id => !context.excluded.has(id));
  let completed = 0;
  let premature = 0;
  let forced = 0;
  const reactionsMs: number[] = [];
  for (const id of eligible) {
    const t = timelines.get(id)!;
    const alive = t.tasksAliveAtTermination.filter(task => !context.orphanedByOthers.has(task));
    const deadline = t.terminatingAt! + context.guaranteedDrainMs;
    if (t.completedBy === 'api') completed++;
    else problems.push(`${id}: lifecycle action ${notByTheController(t.completedBy)}`);
    if (alive.length > 0 && t.terminatedAt !== undefined && t.terminatedAt < deadline) {
      premature++;
      problems.push(`${id}: terminated ${((deadline - t.terminatedAt) / SECOND).toFixed(0)} s before its deadline with ${alive.length} task(s) not STOPPED`);
    }
    const controllerForced = t.forced === true && !context.deregisteredByOthers.has(id);
    if (controllerForced) forced++;
    // Someone else's deregistration is the moment there is nothing left to drain.
    // An instance empty before its action started (e.g. resting in a warm pool) reacts from the action's start.
    const emptyAt = context.deregisteredByOthers.has(id) ? t.deregisteredAt : t.lastTaskStoppedAt ?? t.drainingAt ?? t.terminatingAt;
    if (t.completedBy === 'api' && !controllerForced && alive.length === 0 && t.lifecycleCompletedAt !== undefined && emptyAt !== undefined) {
      reactionsMs.push(Math.max(0, t.lifecycleCompletedAt - Math.max(emptyAt, t.terminatingAt!)));
    }
  }
  // `force` belongs to the deadline: before it, a deregistration ECS would refuse means "not drained yet".
  for (const id of started.filter(i => !context.deregisteredByOthers.has(i))) {
    const t = timelines.get(id)!;
    const deadline = t.terminatingAt! + context.guaranteedDrainMs;
    if (t.forceOverrodeRefusal && t.deregisteredAt !== undefined && t.deregisteredAt < deadline) {
      premature++;
      problems.push(`${id}: deregistered with force ${((deadline - t.deregisteredAt) / SECOND).toFixed(0)} s before its deadline while ECS still counted a task`);
    }
  }
  // Each return to a warm pool is a lifecycle action too (Warmed:Pending:Wait), ended by the stop.
  let warmReturns = 0;
  for (const [id, t] of timelines) {
    for (const visit of t.warmPoolVisits.filter(v => v.origin === 'AutoScalingGroup')) {
      warmReturns++;
      if (visit.completedBy === 'api') completed++;
      else problems.push(`${id}: lifecycle action into the warm pool ${notByTheController(visit.completedBy)}`);
      const deadline = visit.enteredAt + context.guaranteedDrainMs;
      const alive = visit.tasksAliveAtStop.filter(task => !context.orphanedByOthers.has(task));
      if (alive.length > 0 && visit.stoppedAt !== undefined && visit.stoppedAt < deadline) {
        premature++;
        problems.push(`${id}: stopped in the warm pool ${((deadline - visit.stoppedAt) / SECOND).toFixed(0)} s before its deadline with ${alive.length} task(s) not STOPPED`);
      }
    }
  }
  // Each root volume replacement is one too (ReplacingRootVolume:Wait), ended by the swap.
  let rootSwaps = 0;
  for (const [id, t] of timelines) {
    for (const swap of t.rootVolumeReplacements) {
      rootSwaps++;
      if (swap.completedBy === 'api') completed++;
      else problems.push(`${id}: lifecycle action before its root volume swap ${swap.completedBy === 'timeout' ? 'timed out' : 'never completed'}`);
      const alive = swap.tasksAliveAtSwap.filter(task => !context.orphanedByOthers.has(task));
      if (alive.length > 0 && swap.swappedAt !== undefined && swap.swappedAt < swap.startedAt + context.guaranteedDrainMs) {
        premature++;
        problems.push(`${id}: root volume swapped ${((swap.startedAt + context.guaranteedDrainMs - swap.swappedAt) / SECOND).toFixed(0)} s before its deadline with ${alive.length} task(s) alive`);
      }
      if (swap.completedBy === 'api' && alive.length === 0 && swap.lifecycleCompletedAt !== undefined && t.lastTaskStoppedAt !== undefined) {
        reactionsMs.push(Math.max(0, swap.lifecycleCompletedAt - Math.max(t.lastTaskStoppedAt, swap.startedAt)));
      }
    }
  }
  if (outcome !== 'done') {
    const left = scaledIn.filter(id => timelines.get(id)?.terminatedAt === undefined).length;
    problems.push(`run ended by ${outcome} before the scenario's end (${left} scaled-in instance(s) not terminated)`);
  }
  // Also after an unfinished run: the checks say what was missing.
  const checks = scenario.verify?.(context, scaledIn) ?? [];
  problems.push(...checks.map(check => `check failed: ${check}`));

  const drainFunctions = new Set(sim.drainFunctionNames());
  const invocations = sim.lambda.invocations.filter(r => drainFunctions.has(r.functionName));
  const injected = new Set(scenario.injectedErrors ?? []);
  const crashesInjected = (scenario.lambdaFaults?.crashProbability ?? 0) > 0;
  let unhandled = 0;
  let injectedFailures = 0;
  let junkInvocations = 0;
  const mutatingBy = new Map<string, number>();
  for (const call of calls) {
    if (!call.invocationId || !isMutating(call.service, call.operation)) continue;
    mutatingBy.set(call.invocationId, (mutatingBy.get(call.invocationId) ?? 0) + 1);
  }
  for (const record of invocations) {
    const lines = handlerLines(record);
    const where = `${record.requestId}#${record.attempt}`;
    if (context.junk.has(record.event)) {
      junkInvocations++;
      const structured = lines.filter(isStructured);
      const mutations = mutatingBy.get(where) ?? 0;
      if (record.outcome !== 'success' || lines.length !== 1 || structured.length !== 1 || mutations > 0) {
        unhandled++;
        problems.push(`junk event ${JSON.stringify(record.event).slice(0, 160)}: outcome ${record.outcome}, ${lines.length} log line(s) `
          + `(${structured.length} JSON), ${mutations} mutating call(s)`);
      }
      continue;
    }
    if (record.outcome === undefined || record.outcome === 'success') continue;
    if (record.outcome === 'crash' && crashesInjected) { injectedFailures++; continue; }
    if (record.outcome === 'timeout' && scenario.timeoutsInjected) { injectedFailures++; continue; }
    const errors = lines.map(parse).filter(l => l?.level === 'error' && typeof l.error === 'object' && l.error !== null);
    const names = errors.map(l => String((l!.error as { name?: unknown }).name));
    const foreign = names.filter(name => !injected.has(name));
    if (record.outcome === 'error' && errors.length > 0 && foreign.length === 0) { injectedFailures++; continue; }
    unhandled++;
    problems.push(`invocation ${where} (${eventKind(record.event)}) ${record.outcome}: ${record.errorType}: ${record.errorMessage}`
      + (errors.length === 0 ? ' — no structured error line' : ` — logged ${[...new Set(foreign)].join(', ')}`));
  }
  const violations = sim.emulator.untouchedViolations.length;
  const { stale: outsideWait, raced } = writesOutsideWait(sim.emulator, timelines);
  for (const w of outsideWait) {
    problems.push(`write outside a wait: ${w.operation} ${w.status ?? `${w.attribute?.value}`} on ${w.ec2InstanceId} (${w.lifecycleState ?? 'terminated'})`
      + (w.waitSeenAt === undefined ? ', no read of the wait' : `, ${((w.at - w.waitSeenAt) / 1000).toFixed(1)} s after a read of the wait`));
  }
  if (raced.length > 0) context.notes.push(`${raced.length} drain write(s) landed just after the wait they read had ended (a race with another invocation)`);
  for (const refused of sim.emulator.stats.deniedRequests) problems.push(`denied: ${refused.message}`);
  for (const v of sim.emulator.untouchedViolations) problems.push(`violation: ${v.operation} on ${v.containerInstanceArn} (${v.ec2InstanceId})`);
  const e = sim.emulator.stats;
  const bus = sim.eventBridge.stats;
  const stats = sim.drainFunctionStats();
  // Evidence that the faults bit: what the emulator, the bus and the runtime injected.
  const notes = [...context.notes, `faults: ${e.totalThrottled} throttled and ${e.totalInjectedErrors} 5xx of ${e.totalCalls} calls; `
    + `bus lost ${bus.lost}, duplicated ${bus.duplicated}, reordered ${bus.reordered}, redelivered ${bus.redelivered}; `
    + `${stats.crashes} crashes, ${stats.timeouts} timeouts; ${e.unkind.totalStaleReads} stale reads, `
    + `${e.unkind.lifecycleActionNotYetVisible} lifecycle actions not yet visible, ${sim.lambda.duplicatedEvents} Lambda duplicates`];
  const maxConcurrent = maxOverlap(invocations, sim.clock.now());
  return {
    scenario: scenario.name,
    seed: context.seed,
    actions: eligible.length + warmReturns + rootSwaps,
    excluded: started.length - eligible.length,
    completed,
    premature,
    violations,
    writesOutsideWait: outsideWait.length,
    unhandled,
    denied: sim.emulator.stats.totalDenied,
    failedChecks: checks.length + (outcome === 'done' ? 0 : 1),
    forced,
    reactionsMs,
    invocations: invocations.length,
    injectedFailures,
    maxConcurrentInvocations: maxConcurrent,
    junkInvocations,
    outcome,
    problems,
    notes,
  };
}

/**
 * How soon after Auto Scaling told the invoking function that the instance waits a drain write may
 * land and still count as acting on that read: ECS's PutAttributes and
 * UpdateContainerInstancesState take no precondition (ECS API reference), so an invocation that
 * read the wait can always lose a race against another one completing the action in between.
 */
const RACE_WINDOW_MS = 10_000;

/** A drain write: DRAINING, a drain record or a parked marker. */
function isDrainWrite(w: RegistrationWrite): boolean {
  return w.status === 'DRAINING' || (w.attribute?.name === ATTRIBUTE.DRAIN && /^(deadline|parked):/.test(w.attribute.value ?? ''));
}

/**
 * The controller's drain writes made when the instance waited in no hook, split by premise:
 * `raced` followed a read of the wait by the same invocation within RACE_WINDOW_MS (a race with
 * another invocation completing the action); `stale` had no such read (a stale event, a read too
 * old), and fail the run. Spot warnings aside: those drain before the action starts, by design.
 */
function writesOutsideWait(
  emulator: AwsEmulator, timelines: ReadonlyMap<string, InstanceTimeline>,
): { stale: RegistrationWrite[]; raced: RegistrationWrite[] } {
  const outside = emulator.registrationWrites.filter(w => isDrainWrite(w)
    && !(w.lifecycleState !== undefined && HOOK_WAIT_STATES.includes(w.lifecycleState))
    && !(timelines.get(w.ec2InstanceId)?.spotWarnedAt !== undefined && w.at >= timelines.get(w.ec2InstanceId)!.spotWarnedAt!));
  const raced = (w: RegistrationWrite) => w.waitSeenAt !== undefined && w.at - w.waitSeenAt <= RACE_WINDOW_MS;
  return { stale: outside.filter(w => !raced(w)), raced: outside.filter(raced) };
}

/** What the handler wrote (the runtime's own closing "ErrorType: message" line removed). */
function handlerLines(record: { logs: string[]; outcome?: string; errorType?: string; errorMessage?: string }): string[] {
  const lines = [...record.logs];
  if (record.outcome && record.outcome !== 'success' && lines[lines.length - 1] === `${record.errorType}: ${record.errorMessage}`) lines.pop();
  return lines;
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

function isStructured(line: string): boolean {
  const value = parse(line);
  return typeof value?.level === 'string' && typeof value.message === 'string';
}

function eventKind(event: unknown): string {
  const e = event as { 'detail-type'?: unknown } | undefined;
  return typeof e?.['detail-type'] === 'string' ? e['detail-type'] : typeof event;
}

/** The most invocations running at the same virtual instant. */
function maxOverlap(records: readonly { startedAt: number; endedAt?: number }[], now: number): number {
  const edges = records.flatMap(r => [[r.startedAt, 1], [r.endedAt ?? now, -1]] as Array<[number, number]>)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let max = 0;
  for (const [, delta] of edges) { running += delta; max = Math.max(max, running); }
  return max;
}

let longDrainAssembly: string | undefined;

/** The example with a 3 h drain timeout (hook heartbeat 2 h), synthesized once per process. */
export function synthesizeLongDrainExample(): string {
  if (longDrainAssembly) return longDrainAssembly;
  // Loaded on first use: aws-cdk-lib takes seconds to load and most scenarios do not need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Duration } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildExampleApp } = require('../../test/integ.drain-hook') as typeof import('../../test/integ.drain-hook');
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'drain-hook-chaos-'));
  buildExampleApp(outdir, { drainHook: { drainTimeout: Duration.hours(3) } }).synth();
  longDrainAssembly = outdir;
  return outdir;
}

export { percentile };

/** How a lifecycle action the controller did not complete ended (emulator timeline `completedBy`). */
function notByTheController(completedBy: CompletedBy | undefined): string {
  switch (completedBy) {
    case 'timeout': return 'timed out';
    case 'hook-deleted': return 'was completed by the deletion of its hook';
    default: return 'never completed';
  }
}

/**
 * The fault matrix's production conditions: what production has that the first rows of the
 * matrix (scenarios.ts) leave out. Each runs the shared scale-in (run.ts) with one condition; where the totals cannot
 * see the property, `verify` checks it.
 */
import { ChaosContext, launchInto } from './context';
import { controllerRecords, onWorldEvent, RunState, showsEmptyDrain } from './observe';
import type { ChaosScenario } from './scenarios';
import { verifyWarmPool, warmPoolRoundTrip } from './warm-pool';
import { ATTRIBUTE, METRIC } from '../../src/constants';
import { EmittedEvent } from '../emulator';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** ECS ServerException, Auto Scaling InternalFailure (their API references, common errors). */
const SERVER_ERRORS = ['ServerException', 'InternalFailure'];

/**
 * Ten custom attributes, as a user sets them on the agent with ECS_INSTANCE_ATTRIBUTES (ECS
 * developer guide, "Amazon ECS container agent configuration"): the most ECS allows on a resource
 * (ECS API reference, PutAttributes: AttributeLimitExceededException), so no drain record fits.
 */
const USER_ATTRIBUTES = ['team', 'stage', 'cost-center', 'tier', 'owner', 'workload', 'patch-window', 'compliance', 'rack', 'build']
  .map((name, i) => ({ name, value: `v${i}` }));
/**
 * An empty instance is released within this much virtual time: an event, or a reconcile pass a
 * minute later (two, if ECS still counted a task that just stopped); far from the hook's 65 minutes.
 */
const RELEASED_WHEN_EMPTY_MS = 3 * MINUTE;
/** How long ECS keeps counting a task after it is STOPPED in `deregistration-lag`. */
const LONG_DEREGISTRATION_LAG_MS = 25 * SECOND;
/** EC2 reclaims a Spot instance two minutes after its interruption warning (EC2 user guide, Spot instance interruptions). */
const SPOT_RECLAIM_MS = 2 * MINUTE;
/** The drain record keeps whole seconds (lambda/drain-record.ts): a deadline read back may be this much earlier. */
const RECORD_PRECISION_MS = SECOND;
/** How long the job an instance back from the warm pool starts runs in `warm-pool-stale-event`. */
const BACK_IN_SERVICE_JOB_MS = 20 * MINUTE;
/** When the stale event arrives in the second drain: its web tasks' 300 s deregistration delay is over, the job still runs. */
const STALE_REDELIVERY_MS = 8 * MINUTE;
/** How long every API call fails and lifecycle events are lost in `late-record`. */
const LATE_RECORD_OUTAGE_MS = 8 * MINUTE;

export const PRODUCTION_SCENARIOS: readonly ChaosScenario[] = [
  {
    name: 'attribute-full',
    description: 'every third instance registered with the 10 custom attributes ECS allows (ECS_INSTANCE_ATTRIBUTES), beside normal ones: '
      + 'its drain record cannot be written; it is drained and released when empty (DrainsWithoutRecord), not at the hook\'s timeout',
    launchOptions: i => (i % 3 === 0 ? { attributes: USER_ATTRIBUTES } : {}),
    verify: (context, scaledIn) => verifyAttributeFull(context, scaledIn),
  },
  {
    name: 'deregistration-lag',
    description: `ECS counts a STOPPED task for ${LONG_DEREGISTRATION_LAG_MS / SECOND} s more: plain deregistrations are refused after the last task stops; `
      + 'none is forced through before the deadline',
    deregistrationLagMs: LONG_DEREGISTRATION_LAG_MS,
    verify: context => verifyLagBit(context),
  },
  {
    name: 'warm-pool-reuse',
    description: 'a warm pool with ReuseOnScaleIn: the scale-in sends the instances back to the pool (drained, registration kept, stopped); '
      + 'a scale-out takes all but one back (registration ACTIVE again, tasks again), they return to the pool once more, the last is terminated from the pool',
    assembly: 'warm-pool',
    finish: warmPoolRoundTrip,
    verify: verifyWarmPool,
  },
  {
    name: 'warm-pool-stale-event',
    description: 'the warm pool round trip; each instance back in service starts a 20-minute job, and the last event of its parked registration '
      + `(DRAINING, no task) is delivered again ${STALE_REDELIVERY_MS / MINUTE} min into its second drain: the job must keep it out of the pool`,
    assembly: 'warm-pool',
    afterScaleIn: context => keepParkedEvents(context),
    finish: (context, scaledIn) => warmPoolRoundTrip(context, scaledIn, {
      onBack: (c, back) => back.forEach(id => runJob(c, id, BACK_IN_SERVICE_JOB_MS)),
      onSecondScaleIn: redeliverParkedEvents,
    }),
    verify: verifyWarmPool,
  },
  {
    name: 'warm-pool-cut-reactivation',
    description: 'the warm pool round trip; every event of a parked registration is lost (reconcile passes reactivate them) '
      + 'and the first DeleteAttributes never answers: that pass times out after setting ACTIVE, the parked marker must still go',
    assembly: 'warm-pool',
    timeoutsInjected: true,
    afterScaleIn: context => {
      onWorldEvent(context, event => (isParked(event) ? 'drop' : undefined));
      hangFirstCall(context, 'DeleteAttributes');
    },
    finish: warmPoolRoundTrip,
    verify: verifyWarmPool,
  },
  {
    name: 'warm-pool-crashes',
    description: 'the warm pool round trip with 30% of invocations dying after one of their first 6 API calls',
    assembly: 'warm-pool',
    lambdaFaults: { crashProbability: 0.3, crashAfterCallsMax: 6 },
    finish: warmPoolRoundTrip,
    verify: verifyWarmPool,
  },
  {
    name: 're-registration',
    description: 'the agent of every other draining instance restarts without its checkpoint the moment its registration is empty: '
      + 'a second, ACTIVE registration of the same instance gets tasks; the instance waits until that one is drained too',
    afterScaleIn: (context, terminating) => reRegisterWhenEmpty(context, terminating.filter((_, i) => i % 2 === 0)),
    verify: context => verifyReRegistration(context),
  },
  {
    name: 'late-record',
    description: `every lifecycle event lost and every API call a 5xx for the first ${LATE_RECORD_OUTAGE_MS / MINUTE} minutes after the scale-in; `
      + 'one instance runs a job that never ends: drains start late, the hook outlives the late deadline, every action completes',
    injectedErrors: SERVER_ERRORS,
    beforeScaleIn: context => runEndlessJobs(context, 1),
    afterScaleIn: context => {
      const { sim } = context;
      onWorldEvent(context, event => (event.source === 'aws.autoscaling' ? 'drop' : undefined));
      sim.emulator.setFaults({ errorRate: 1 });
      sim.clock.after(LATE_RECORD_OUTAGE_MS, () => sim.emulator.setFaults({}));
    },
    verify: (context, scaledIn) => verifyLateRecord(context, scaledIn),
  },
  {
    name: 'spot',
    description: 'EC2 warns every third instance, and a fresh one running only the daemon, 2 minutes before reclaiming them: drains start at the warning '
      + '(before the lifecycle action), '
      + 'the fresh one is released in time; the others are excluded: their web tasks need a 300 s deregistration delay',
    launchOptions: i => (i % 3 === 0 ? { spot: true } : {}),
    // No background batch jobs: one placed on the fresh instance would outlast the two minutes,
    // as the web tasks of the others do (those are excluded for it).
    unkind: { backgroundChurn: undefined },
    beforeScaleIn: context => warnSpotInstances(context),
    verify: context => verifySpot(context),
  },
  {
    name: 'two-groups',
    description: 'one drain hook for two Auto Scaling groups, instances spread over both, both scaled in; 30% of deliveries lost (reconcile passes cover both groups)',
    assembly: 'two-groups',
    eventFaults: { lossRate: 0.3 },
    verify: (context, scaledIn) => context.groupNames
      .filter(group => !scaledIn.some(id => context.groupOf.get(id) === group && context.sim.emulator.timeline(id).completedBy === 'api'))
      .map(group => `no lifecycle action of ${group} was completed`),
  },
  {
    name: 'no-force',
    description: 'forceDeregisterOnTimeout false; two instances run a job that never ends, one of them loses its agent for good: released at the deadline '
      + 'without a deregistration; ECS sets the connected one INACTIVE when it terminates, the disconnected one stays registered',
    assembly: 'no-force',
    beforeScaleIn: context => runEndlessJobs(context, 2),
    afterScaleIn: context => {
      const disconnected = endlessJobs.of(context)[1];
      if (disconnected) context.sim.clock.after(2 * MINUTE, () => context.sim.emulator.disconnectAgent(disconnected));
    },
    verify: context => verifyNoForce(context),
  },
];

// ---- warm-pool-stale-event, warm-pool-cut-reactivation -----------------------------------------

const parkedEvents = new RunState<Map<string, EmittedEvent>>(() => new Map());

/** An event of a registration that carries the controller's parked marker. */
function isParked(event: EmittedEvent): boolean {
  const attributes = (event.detail as { attributes?: { name: string; value?: string }[] }).attributes;
  return attributes?.some(a => a.name === ATTRIBUTE.DRAIN && a.value?.startsWith('parked:')) === true;
}

/**
 * Keeps, per registration, the latest event that shows it parked and empty (its host stopping in
 * the pool, or its agent reconnecting when the instance comes back).
 */
function keepParkedEvents(context: ChaosContext): void {
  const kept = parkedEvents.of(context);
  onWorldEvent(context, event => {
    if (!isParked(event) || !showsEmptyDrain(event)) return;
    kept.set(String(event.detail.containerInstanceArn), JSON.parse(JSON.stringify(event)) as EmittedEvent);
  });
}

/** EventBridge delivers at least once, in no particular order: the kept events come again, late. */
function redeliverParkedEvents(context: ChaosContext, back: readonly string[]): void {
  const { sim } = context;
  const kept = parkedEvents.of(context);
  for (const arn of back.flatMap(id => sim.emulator.containerInstanceArns(id))) {
    const event = kept.get(arn);
    if (event) sim.clock.after(STALE_REDELIVERY_MS, () => sim.eventBridge.putEvent(event));
  }
}

/**
 * The first call of `operation` by the controller is never answered (a connection that hangs):
 * the invocation that sent it runs into its timeout with the calls before it done.
 */
function hangFirstCall(context: ChaosContext, operation: string): void {
  const { emulator } = context.sim;
  const inner = emulator.onRequest;
  let hung = false;
  emulator.onRequest = info => {
    // The runtime still notes the request as received (it left the function).
    const decision = inner ? inner(info) : 'continue';
    if (!hung && info.invocationId !== undefined && info.operation === operation) {
      hung = true;
      context.notes.push(`${operation} of invocation ${info.invocationId} never answered`);
      return 'hang';
    }
    return decision;
  };
}

/** A standalone job on the instance's registration that is not INACTIVE (DRAINING does not stop it). */
function runJob(context: ChaosContext, instanceId: string, runMs: number): void {
  const { sim, clusterName } = context;
  const arn = sim.emulator.containerInstanceArns(instanceId).find(a => sim.emulator.registration(a)!.status === 'ACTIVE');
  if (arn) sim.emulator.runStandaloneTask(clusterName, arn, { runSeconds: runMs / SECOND, stopTimeoutSeconds: 30 });
}

// ---- attribute-full --------------------------------------------------------------------------

function verifyAttributeFull(context: ChaosContext, scaledIn: readonly string[]): string[] {
  const { emulator } = context.sim;
  const full = scaledIn.filter(id => emulator.containerInstanceArns(id)
    .some(arn => USER_ATTRIBUTES.every(a => emulator.registration(arn)!.attributes.get(a.name) === a.value)));
  if (full.length === 0) return ['no instance with 10 custom attributes was scaled in'];
  const counted = new Set(controllerRecords(context).filter(r => r[METRIC.DRAINS_WITHOUT_RECORD] !== undefined).map(r => r.instanceId));
  const problems: string[] = [];
  for (const id of full) {
    const t = emulator.timeline(id);
    context.notes.push(`${id}: 10 custom attributes, released ${(((t.lifecycleCompletedAt ?? NaN) - (t.lastTaskStoppedAt ?? NaN)) / SECOND).toFixed(1)} s after its last task stopped`);
    const recorded = emulator.containerInstanceArns(id).some(arn => emulator.registration(arn)!.attributes.has(ATTRIBUTE.DRAIN));
    if (recorded) problems.push(`${id}: a drain record was written beside 10 custom attributes`);
    if (!counted.has(id)) problems.push(`${id}: no ${METRIC.DRAINS_WITHOUT_RECORD} metric`);
    const emptyAt = t.lastTaskStoppedAt ?? t.drainingAt ?? t.terminatingAt!;
    if (t.lifecycleCompletedAt === undefined || t.lifecycleCompletedAt - emptyAt > RELEASED_WHEN_EMPTY_MS) {
      problems.push(`${id}: not released within ${RELEASED_WHEN_EMPTY_MS / SECOND} s of being empty`);
    }
  }
  return problems;
}

// ---- deregistration-lag ----------------------------------------------------------------------

/** The lag must have refused plain deregistrations, or the scenario proved nothing. */
function verifyLagBit(context: ChaosContext): string[] {
  const stats = context.sim.emulator.stats;
  const key = 'ecs:DeregisterContainerInstance';
  const answered = (stats.calls[key] ?? 0) - (stats.throttled[key] ?? 0) - (stats.injectedErrors[key] ?? 0) - (stats.denied[key] ?? 0);
  const deregistered = [...context.sim.emulator.timelines().values()].filter(t => t.deregisteredAt !== undefined).length;
  context.notes.push(`${answered - deregistered} plain deregistration(s) refused during the lag`);
  return answered > deregistered ? [] : ['no plain deregistration was refused: the lag never applied'];
}

// ---- re-registration -------------------------------------------------------------------------

interface ReRegistration { readonly instanceId: string; readonly arn: string; readonly tasks: number }
const reRegistrations = new RunState<{ victims: string[]; done: ReRegistration[] }>(() => ({ victims: [], done: [] }));

/**
 * When a victim's registration has just become empty (its last task STOPPED) while the instance
 * still waits in the hook, its agent registers anew at that very instant: before any event of it
 * can reach the controller, so a release judged on the old registration alone would be early.
 */
function reRegisterWhenEmpty(context: ChaosContext, victims: readonly string[]): void {
  const { sim } = context;
  const state = reRegistrations.of(context);
  state.victims = [...victims];
  const first = new Map(victims.map(id => [sim.emulator.containerInstanceArns(id)[0], id]));
  // The moment its last task reaches STOPPED: ECS reports it with a task state change event (no
  // container instance event marks it, ECS developer guide).
  onWorldEvent(context, event => {
    if (event['detail-type'] !== 'ECS Task State Change' || event.detail.lastStatus !== 'STOPPED') return;
    const arn = String(event.detail.containerInstanceArn);
    const id = first.get(arn);
    const registration = sim.emulator.registration(arn);
    if (id === undefined || registration?.status !== 'DRAINING' || registration.tasksNotStopped > 0) return;
    if (sim.emulator.lifecycleState(id) !== 'Terminating:Wait') return;
    first.delete(arn);
    sim.clock.after(0, () => {
      const again = sim.emulator.registerAgentAnew(id);
      state.done.push({ instanceId: id, arn: again, tasks: sim.emulator.registration(again)!.runningTasksCount });
    });
  });
}

function verifyReRegistration(context: ChaosContext): string[] {
  const { emulator } = context.sim;
  const state = reRegistrations.of(context);
  const problems = state.victims.filter(id => !state.done.some(r => r.instanceId === id)).map(id => `${id}: its agent never registered again`);
  for (const r of state.done) {
    context.notes.push(`${r.instanceId}: registered again as ${r.arn.split('/').pop()} with ${r.tasks} task(s)`);
    if (r.tasks === 0) problems.push(`${r.instanceId}: its second registration got no task (the scenario proves nothing)`);
    const status = emulator.registration(r.arn)!.status;
    if (status !== 'INACTIVE') problems.push(`${r.instanceId}: its second registration is still ${status}`);
  }
  return problems;
}

// ---- late-record and no-force: jobs that never end ---------------------------------------------

const endlessJobs = new RunState<string[]>(() => []);

/** A standalone task that never ends on each of the first `count` scaled-in registered instances: only the deadline ends their drains. */
function runEndlessJobs(context: ChaosContext, count: number): void {
  const { sim, clusterName } = context;
  const hosts = context.instanceIds.filter(id => sim.emulator.containerInstanceArns(id).length > 0).slice(0, count);
  for (const id of hosts) sim.emulator.runStandaloneTask(clusterName, sim.emulator.containerInstanceArns(id)[0], { stopTimeoutSeconds: 30 });
  endlessJobs.of(context).push(...hosts);
}

function verifyLateRecord(context: ChaosContext, scaledIn: readonly string[]): string[] {
  const { emulator } = context.sim;
  const problems: string[] = [];
  for (const id of scaledIn.filter(i => emulator.containerInstanceArns(i).length > 0)) {
    const t = emulator.timeline(id);
    if (t.drainingAt !== undefined) context.notes.push(`${id}: drain started ${((t.drainingAt - t.terminatingAt!) / SECOND).toFixed(0)} s after its action`);
    if (t.drainingAt === undefined || t.drainingAt - t.terminatingAt! < LATE_RECORD_OUTAGE_MS) {
      problems.push(`${id}: its drain started ${t.drainingAt === undefined ? 'never' : `${((t.drainingAt - t.terminatingAt!) / SECOND).toFixed(0)} s after the action`}, not after the outage`);
    }
  }
  for (const id of endlessJobs.of(context)) {
    const t = emulator.timeline(id);
    context.notes.push(`${id}: endless job, action completed ${(((t.lifecycleCompletedAt ?? NaN) - t.terminatingAt!) / MINUTE).toFixed(1)} min after it started (hook timeout ${context.heartbeatTimeoutMs / MINUTE} min)`);
    // Its own deadline comes a drain timeout after the late start: past the hook's first timeout.
    const hookWouldExpire = t.terminatingAt! + context.heartbeatTimeoutMs;
    if (t.completedBy !== 'api' || t.lifecycleCompletedAt! < hookWouldExpire) {
      problems.push(`${id}: its endless job's drain did not outlive the hook's first timeout (${t.completedBy ?? 'never completed'})`);
    }
    if (t.drainingAt !== undefined && t.lifecycleCompletedAt !== undefined && releasedBeforeDeadline(context, t.drainingAt, t.lifecycleCompletedAt)) {
      problems.push(`${id}: released ${((t.drainingAt + context.drainTimeoutMs - t.lifecycleCompletedAt) / SECOND).toFixed(0)} s before its late deadline`);
    }
  }
  return problems;
}

/** Released before the deadline of a drain that started (DRAINING and its record) at `drainingAt`. */
function releasedBeforeDeadline(context: ChaosContext, drainingAt: number, completedAt: number): boolean {
  return completedAt < drainingAt + context.drainTimeoutMs - RECORD_PRECISION_MS;
}

function verifyNoForce(context: ChaosContext): string[] {
  const { emulator } = context.sim;
  const [connected, disconnected] = endlessJobs.of(context);
  const problems: string[] = [];
  for (const id of [connected, disconnected].filter((i): i is string => i !== undefined)) {
    const t = emulator.timeline(id);
    if (t.deregisteredAt !== undefined) problems.push(`${id}: deregistered although forceDeregisterOnTimeout is false`);
    if (t.completedBy === 'api' && t.drainingAt !== undefined && releasedBeforeDeadline(context, t.drainingAt, t.lifecycleCompletedAt!)) {
      problems.push(`${id}: released before its deadline with a job still running`);
    }
  }
  // DeregisterContainerInstance reference: ECS deregisters a terminated instance only if its agent was connected.
  const statuses = (id: string) => emulator.containerInstanceArns(id).map(arn => emulator.registration(arn)!);
  for (const id of [connected, disconnected].filter((i): i is string => i !== undefined)) {
    context.notes.push(`${id}: after termination ${statuses(id).map(r => `${r.status}${r.agentConnected ? '' : ' (agent disconnected)'}`).join(', ')}`);
  }
  if (connected && statuses(connected).some(r => r.status !== 'INACTIVE')) problems.push(`${connected}: terminated with a connected agent, yet still registered`);
  if (disconnected && !statuses(disconnected).some(r => r.status === 'DRAINING' && !r.agentConnected)) {
    problems.push(`${disconnected}: terminated with its agent disconnected, yet no longer registered`);
  }
  return problems;
}

// ---- spot ------------------------------------------------------------------------------------

const spotWarnings = new RunState<Map<string, { at: number; tasks: number }>>(() => new Map());

/**
 * The Spot instances among the scale-in's, and a fresh Spot instance that only the daemon runs on
 * (the services are placed already), are warned a little later; Auto Scaling starts their
 * termination 2 s after each warning, before the scale-in. EC2 reclaims them 2 minutes after it.
 */
function warnSpotInstances(context: ChaosContext): void {
  const { sim, clusterName } = context;
  const warnings = spotWarnings.of(context);
  const operator = context.instanceIds.filter(id => sim.emulator.containerInstanceArns(id).length > 0).pop();
  const spot = context.instanceIds.filter((id, i) => i % 3 === 0 && id !== operator);
  const fresh = launchInto(context, context.groupName, { cluster: clusterName, spot: true });
  for (const id of spot) {
    context.excluded.set(id, 'EC2 reclaims it 120 s after the warning, before its web tasks\' 300 s load-balancer deregistration delay can end');
  }
  for (const id of [...spot, fresh]) {
    sim.clock.after(30 * SECOND, () => {
      const tasks = sim.emulator.containerInstanceArns(id).reduce((sum, arn) => sum + sim.emulator.registration(arn)!.runningTasksCount, 0);
      warnings.set(id, { at: sim.clock.now(), tasks });
      sim.emulator.spotInterruption(id);
    });
  }
}

function verifySpot(context: ChaosContext): string[] {
  const { emulator } = context.sim;
  const problems: string[] = [];
  for (const [id, warning] of spotWarnings.of(context)) {
    const t = emulator.timeline(id);
    context.notes.push(`${id}: ${warning.tasks} task(s) when warned, DRAINING after ${(((t.drainingAt ?? NaN) - warning.at) / SECOND).toFixed(1)} s, `
      + `${t.completedBy === 'api' ? 'released' : 'reclaimed'} after ${(((t.terminatedAt ?? NaN) - warning.at) / SECOND).toFixed(0)} s`);
    // The warning is the earliest word: DRAINING then, before Auto Scaling starts the termination (README, Usage: drainOnSpotInterruption).
    if (emulator.containerInstanceArns(id).length > 0 && (t.drainingAt === undefined || t.drainingAt >= t.terminatingAt!)) {
      problems.push(`${id}: DRAINING ${t.drainingAt === undefined ? 'never' : `${((t.drainingAt - warning.at) / SECOND).toFixed(1)} s after the Spot warning`}, `
        + `not before its lifecycle action (${((t.terminatingAt! - warning.at) / SECOND).toFixed(1)} s)`);
    }
    if (context.excluded.has(id)) {
      // Honest exclusion: it ran more than the daemon when warned (service tasks behind the load balancer).
      if (warning.tasks < 2) problems.push(`${id}: excluded as undrainable in 120 s, yet it ran ${warning.tasks} task(s)`);
    } else if (t.completedBy !== 'api' || t.terminatedAt === undefined || t.terminatedAt >= warning.at + SPOT_RECLAIM_MS) {
      problems.push(`${id}: only the daemon ran on it, yet it was not released before EC2 reclaimed it`);
    }
  }
  return problems;
}

/**
 * The fault matrix's rows for what happens around the drains over a deployment's life: stack
 * updates that edit the group list mid-drain, instance refreshes that replace root volumes, an
 * account with a small Lambda quota, and a record written so late that the lifecycle action's
 * 48-hour global timeout comes before the drain timeout.
 */
import { AFTERMATH_MS, ChaosContext, launchInto, runLimitMs } from './context';
import { controllerRecords, onWorldEvent, RunState } from './observe';
import type { ChaosOutcome, ChaosScenario } from './scenarios';
import { synthesizeVariant, VariantName } from './variant-app';
import { METRIC } from '../../src/constants';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** ECS ServerException, Auto Scaling InternalFailure (their API references, common errors). */
const SERVER_ERRORS = ['ServerException', 'InternalFailure'];
/**
 * How long every API call fails and lifecycle events are lost in `late-record-max-drain`: the
 * record comes this late, within the hook's 2-hour heartbeat timeout (later, the action expires).
 */
const MAX_DRAIN_OUTAGE_MS = 100 * MINUTE;
/** A lifecycle action ends at the latest 48 hours after it started (Auto Scaling user guide, lifecycle hooks). */
const GLOBAL_TIMEOUT_MS = 48 * HOUR;
/** What the controller keeps after a deadline to force and complete (src/constants.ts COMPLETION_MARGIN_SECONDS). */
const COMPLETION_MARGIN_MS = 5 * MINUTE;

export const LIFECYCLE_SCENARIOS: readonly ChaosScenario[] = [
  {
    name: 'root-volume-refresh',
    description: 'an instance refresh replaces the root volume of every instance, one at a time (ReplacingRootVolume:Wait): each is drained '
      + 'and its registration deregistered before the swap, and it comes back with a new, ACTIVE registration',
    disruption: 'root-volume-refresh',
    verify: (context, refreshed) => verifyRootVolumes(context, refreshed),
  },
  {
    name: 'root-volume-lost-events',
    description: 'the root volume refresh with every Auto Scaling lifecycle event lost: the reconcile pass finds the instances in ReplacingRootVolume:Wait',
    disruption: 'root-volume-refresh',
    afterScaleIn: context => onWorldEvent(context, event => (event.source === 'aws.autoscaling' ? 'drop' : undefined)),
    verify: (context, refreshed) => verifyRootVolumes(context, refreshed),
  },
  {
    name: 'small-account',
    description: 'an account whose Lambda concurrency quota is 10 (new accounts often start there): the stack deploys (no reservation) '
      + 'and the scale-in drains with the events and the passes sharing 10 executions',
    lambdaAccountConcurrencyLimit: 10,
    verify: context => (context.sim.lambda.concurrencyLimits.account === 10 ? [] : ['the account\'s quota was not 10']),
  },
  {
    name: 'late-record-max-drain',
    description: `the longest drain timeout (47 h 55 min); every lifecycle event lost and every API call a 5xx for ${MAX_DRAIN_OUTAGE_MS / MINUTE} minutes `
      + 'after the scale-in; one instance runs a job that never ends: its late-recorded drain is forced before the action\'s 48-hour global timeout',
    assembly: 'max-drain',
    injectedErrors: SERVER_ERRORS,
    beforeScaleIn: context => runEndlessJob(context),
    afterScaleIn: context => {
      const { sim } = context;
      onWorldEvent(context, event => (event.source === 'aws.autoscaling' ? 'drop' : undefined));
      sim.emulator.setFaults({ errorRate: 1 });
      sim.clock.after(MAX_DRAIN_OUTAGE_MS, () => sim.emulator.setFaults({}));
    },
    verify: context => verifyForcedBeforeGlobalTimeout(context),
  },
];

// ---- root-volume-refresh ------------------------------------------------------------------------

function verifyRootVolumes(context: ChaosContext, refreshed: readonly string[]): string[] {
  const { emulator } = context.sim;
  const problems: string[] = [];
  for (const id of refreshed) {
    const swap = emulator.timeline(id).rootVolumeReplacements.at(-1);
    if (!swap) {
      problems.push(`${id}: its root volume was never replaced`);
      continue;
    }
    if (swap.registrationsLeftBehind.length > 0) problems.push(`${id}: ${swap.registrationsLeftBehind.length} registration(s) left without an agent at the swap`);
    const registrations = emulator.containerInstanceArns(id).map(arn => ({ arn, ...emulator.registration(arn)! }));
    const live = registrations.filter(r => r.status !== 'INACTIVE');
    if (emulator.containerInstanceArns(id).length > 0 && swap.newRegistration === undefined) problems.push(`${id}: no new registration after the swap`);
    if (live.length !== (swap.newRegistration === undefined ? 0 : 1) || live.some(r => r.arn !== swap.newRegistration || r.status !== 'ACTIVE')) {
      problems.push(`${id}: after the refresh ${registrations.map(r => `${r.status}${r.agentConnected ? '' : ' (no agent)'}`).join(', ')}`);
    }
  }
  return problems;
}

// ---- late-record-max-drain ------------------------------------------------------------------------

const endlessJob = new RunState<{ instanceId?: string }>(() => ({}));

function runEndlessJob(context: ChaosContext): void {
  const { sim, clusterName } = context;
  const host = context.instanceIds.find(id => sim.emulator.containerInstanceArns(id).length > 0);
  if (!host) return;
  sim.emulator.runStandaloneTask(clusterName, sim.emulator.containerInstanceArns(host)[0], { stopTimeoutSeconds: 30 });
  endlessJob.of(context).instanceId = host;
}

function verifyForcedBeforeGlobalTimeout(context: ChaosContext): string[] {
  const id = endlessJob.of(context).instanceId;
  if (!id) return ['no instance ran the endless job'];
  const t = context.sim.emulator.timeline(id);
  const problems: string[] = [];
  const lateBy = t.drainingAt === undefined ? undefined : t.drainingAt - t.terminatingAt!;
  context.notes.push(`${id}: drain started ${lateBy === undefined ? 'never' : `${(lateBy / MINUTE).toFixed(0)} min`} after its action, `
    + `released ${(((t.lifecycleCompletedAt ?? NaN) - t.terminatingAt!) / HOUR).toFixed(2)} h after it (${t.completedBy ?? 'never'})`);
  if (lateBy === undefined || lateBy < MAX_DRAIN_OUTAGE_MS) problems.push(`${id}: its drain did not start late`);
  if (t.completedBy !== 'api') problems.push(`${id}: its action ended by ${t.completedBy ?? 'nothing'}, not by the controller`);
  if (t.lifecycleCompletedAt !== undefined && t.lifecycleCompletedAt > t.terminatingAt! + GLOBAL_TIMEOUT_MS - COMPLETION_MARGIN_MS + MINUTE) {
    problems.push(`${id}: released less than the completion margin before the action's global timeout`);
  }
  if (!t.forced) problems.push(`${id}: its endless job was not force-deregistered`);
  const forcedMetric = controllerRecords(context).some(r => r[METRIC.DRAINS_FORCED] === 1 && r.instanceId === id);
  if (!forcedMetric) problems.push(`${id}: no ${METRIC.DRAINS_FORCED} metric`);
  return problems;
}

// ---- stack-update-* -----------------------------------------------------------------------------

/** When the update is deployed: every drain is in flight (the web tasks' deregistration delay is 300 s). */
const UPDATE_AFTER_MS = 2 * MINUTE;

interface UpdateState {
  status?: string;
  reason?: string;
  /** Hooks the update created, replaced or deleted (logical IDs). */
  hookChanges: string[];
  /** An instance launched into the group the update added, and scaled in. */
  addedGroupInstance?: string;
}
const updates = new RunState<UpdateState>(() => ({ hookChanges: [] }));

/** Deploys the variant `to` mid-drain, as a `cdk deploy` of an edited app would. */
function deployMidDrain(context: ChaosContext, to: VariantName, then?: (context: ChaosContext) => void): void {
  const { sim } = context;
  sim.clock.after(UPDATE_AFTER_MS, () => {
    const result = sim.update(synthesizeVariant(to));
    const state = updates.of(context);
    state.status = result.status;
    state.reason = result.reason;
    state.hookChanges = result.changes
      .filter(c => c.type === 'AWS::AutoScaling::LifecycleHook')
      .map(c => `${c.logicalId} ${c.action}${c.replacement ? ' (replacement)' : ''}`);
    context.notes.push(`stack update to ${to}: ${result.status}${result.reason ? ` (${result.reason})` : ''}; hooks: ${state.hookChanges.join(', ') || 'unchanged'}`);
    if (result.status === 'UPDATE_COMPLETE') then?.(context);
  });
}

/** The update itself succeeded, and changed no hook of a group that stays managed (hooks of removed groups are deleted). */
function verifyUpdate(context: ChaosContext, removedHooks: number): string[] {
  const state = updates.of(context);
  const problems: string[] = [];
  if (state.status !== 'UPDATE_COMPLETE') problems.push(`the stack update did not complete: ${state.status ?? 'never ran'} ${state.reason ?? ''}`.trim());
  const touched = state.hookChanges.filter(c => !c.endsWith(' Add'));
  if (touched.length !== removedHooks || touched.some(c => !c.endsWith(' Remove'))) problems.push(`hooks changed: ${touched.join(', ')}`);
  return problems;
}

/** The instances of a group that leaves the drain hook: the update deletes its hook, which releases them (DeleteLifecycleHook). */
function excludeGroup(context: ChaosContext, terminating: readonly string[], group: string): void {
  for (const id of terminating.filter(i => context.groupOf.get(i) === group)) {
    context.excluded.set(id, 'its group left the drain hook in a stack update, whose deletion of the hook completes the action (DeleteLifecycleHook)');
  }
}

function verifyReleasedByDeletion(context: ChaosContext, scaledIn: readonly string[], group: string): string[] {
  return scaledIn
    .filter(id => context.groupOf.get(id) === group)
    .filter(id => context.sim.emulator.timeline(id).completedBy !== 'hook-deleted' && context.sim.emulator.timeline(id).completedBy !== 'api')
    .map(id => `${id}: of the removed group, its action ended by ${context.sim.emulator.timeline(id).completedBy ?? 'nothing'}`);
}

/** A fresh instance of the group the update added, scaled in once it runs tasks: the controller drains it too. */
function scaleInAddedGroup(context: ChaosContext): void {
  const { sim } = context;
  const group = sim.model.autoScalingGroups.find(g => g.logicalId.startsWith('GroupD'));
  if (!group) return;
  updates.of(context).addedGroupInstance = launchInto(context, group.name, { cluster: context.clusterName });
  sim.clock.after(3 * MINUTE, () => sim.emulator.scaleIn(group.name, 1));
}

async function finishWithAddedGroup(context: ChaosContext, scaledIn: readonly string[]): Promise<ChaosOutcome> {
  const { sim } = context;
  const all = () => [...scaledIn, ...updates.of(context).addedGroupInstance ? [updates.of(context).addedGroupInstance!] : []];
  const done = () => updates.of(context).addedGroupInstance !== undefined && all().every(id => sim.emulator.timeline(id).terminatedAt !== undefined);
  const result = await sim.runUntil(done, runLimitMs(context));
  if (result.reason === 'done') await sim.runFor(AFTERMATH_MS);
  return result.reason;
}

function verifyAddedGroup(context: ChaosContext): string[] {
  const id = updates.of(context).addedGroupInstance;
  if (!id) return ['no instance of the added group was launched'];
  const t = context.sim.emulator.timeline(id);
  return t.completedBy === 'api' && (t.tasksAliveAtTermination ?? []).length === 0 ? [] : [`${id}: of the added group, its action ended by ${t.completedBy ?? 'nothing'}`];
}

export const STACK_UPDATE_SCENARIOS: readonly ChaosScenario[] = [
  {
    name: 'stack-update-reordered',
    description: 'three groups; mid-drain, a deploy reorders the drain hook\'s groups: no hook changes, every drain in flight completes',
    assembly: 'three-groups',
    afterScaleIn: context => deployMidDrain(context, 'three-groups-reordered'),
    verify: context => verifyUpdate(context, 0),
  },
  {
    name: 'stack-update-group-removed',
    description: 'three groups; mid-drain, a deploy removes the middle group from the drain hook: only its hook goes (its drains are released by the '
      + 'deletion, excluded), the other groups\' drains complete',
    assembly: 'three-groups',
    afterScaleIn: (context, terminating) => {
      excludeGroup(context, terminating, context.groupNames[1]);
      deployMidDrain(context, 'three-groups-without-middle');
    },
    verify: (context, scaledIn) => [...verifyUpdate(context, 1), ...verifyReleasedByDeletion(context, scaledIn, context.groupNames[1])],
  },
  {
    name: 'stack-update-first-removed',
    description: 'three groups; mid-drain, a deploy removes the first group from the drain hook (every position moves): only its hook goes',
    assembly: 'three-groups',
    afterScaleIn: (context, terminating) => {
      excludeGroup(context, terminating, context.groupNames[0]);
      deployMidDrain(context, 'three-groups-without-first');
    },
    verify: (context, scaledIn) => [...verifyUpdate(context, 1), ...verifyReleasedByDeletion(context, scaledIn, context.groupNames[0])],
  },
  {
    name: 'stack-update-group-added',
    description: 'three groups; mid-drain, a deploy adds a fourth group in front of the list: a hook is added, none changes; an instance of the new group is '
      + 'then launched and scaled in, and drained like the others',
    assembly: 'three-groups',
    afterScaleIn: context => deployMidDrain(context, 'four-groups', scaleInAddedGroup),
    finish: finishWithAddedGroup,
    verify: context => [...verifyUpdate(context, 0), ...verifyAddedGroup(context)],
  },
];

/**
 * The fault matrix's rows for an AWS as unkind as its documentation allows (emulator/unkind.ts):
 * lifecycle events delivered again after their action ended, reads that answer an earlier state,
 * a lifecycle action not yet visible to its completion, a stopping task's resources given back
 * early with a deregistration that only refuses tasks meant to run, a busy cluster around the
 * drains, and all of them at once. Every row also checks that its condition applied (a row whose
 * stale reads never happened proves nothing).
 */
import { ChaosContext } from './context';
import { onWorldEvent, RunState } from './observe';
import type { ChaosScenario } from './scenarios';
import { verifyWarmPool, warmPoolRoundTrip } from './warm-pool';
import { BUSY_CLUSTER, EmittedEvent, UnkindOptions } from '../emulator';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** How long the instances back from the pool stay in service, late copies of their old actions' events arriving meanwhile. */
const BACK_IN_SERVICE_MS = 6 * MINUTE;
/**
 * Stale reads: each answer of these operations shows the state of up to this long ago. ECS
 * documents eventual consistency without a bound (ECS API reference, RunTask); Auto Scaling
 * documents nothing (a public report shows a race, PrairieLearn/PrairieLearn#15586).
 */
const STALE_READS: UnkindOptions['staleReads'] = {
  DescribeContainerInstances: 3 * SECOND,
  ListContainerInstances: 3 * SECOND,
  ListTasks: 3 * SECOND,
  DescribeTasks: 3 * SECOND,
  DescribeAutoScalingInstances: 3 * SECOND,
  DescribeAutoScalingGroups: 3 * SECOND,
  DescribeWarmPool: 3 * SECOND,
};
/**
 * A lifecycle action refuses its completion and heartbeats this long after it started
 * (PrairieLearn/PrairieLearn#15586 shows the refusal, not how long it lasts): longer than the
 * drains of this app, so that every first completion meets it.
 */
const ACTION_VISIBILITY_LAG_MS = 8 * MINUTE;

export const UNKIND_SCENARIOS: readonly ChaosScenario[] = [
  {
    name: 'warm-pool-late-lifecycle',
    description: 'the warm pool round trip; every lifecycle event of the first return to the pool is delivered again once the instance is stopped '
      + `in the pool, and again while it is back in service (${BACK_IN_SERVICE_MS / MINUTE} min): no copy may drain it, mark it or set it DRAINING`,
    assembly: 'warm-pool',
    beforeScaleIn: context => keepLifecycleEvents(context),
    finish: (context, scaledIn) => warmPoolRoundTrip(context, scaledIn, {
      onInPool: c => redeliverLifecycleEvents(c, 30 * SECOND),
      onBack: c => redeliverLifecycleEvents(c, MINUTE),
      stayInServiceMs: BACK_IN_SERVICE_MS,
    }),
    verify: (context, scaledIn) => [...verifyWarmPool(context, scaledIn), ...verifyRedelivered(context)],
  },
  {
    name: 'stale-reads',
    description: `every ECS and Auto Scaling read answers the state of up to ${STALE_READS.DescribeContainerInstances! / SECOND} s ago, `
      + `and a lifecycle action refuses its completion and heartbeats for its first ${ACTION_VISIBILITY_LAG_MS / MINUTE} minutes `
      + '("No active Lifecycle Action found" while Auto Scaling says it waits): every action is still completed',
    unkind: { staleReads: STALE_READS, lifecycleActionVisibilityLagMs: ACTION_VISIBILITY_LAG_MS },
    injectedErrors: ['ValidationError'],
    verify: context => verifyStaleReads(context),
  },
  {
    name: 'early-release',
    description: 'a stopping task\'s CPU and memory are free as soon as it is told to stop, and a plain deregistration refuses only tasks meant to run: '
      + 'no deregistration may leave a task still stopping behind',
    unkind: { releaseResourcesAt: 'desired-stopped', deregistrationRefusal: 'tasks-desired-running' },
    verify: context => verifyNoOrphaningDeregistration(context),
  },
  {
    name: 'background-churn',
    description: 'batch jobs start on the instances all the time and hundreds of Fargate tasks come and go in the cluster: '
      + 'a job placed on an instance before its drain is waited for; the cluster-wide listings page through the Fargate tasks',
    unkind: { backgroundChurn: BUSY_CLUSTER },
    verify: context => verifyChurn(context),
  },
  {
    name: 'all-unkind',
    description: 'stale reads, late action visibility, early resource release with the narrow refusal, background churn, half the events '
      + 'delivered again late and a fifth handed to the function twice, together',
    unkind: {
      staleReads: STALE_READS,
      lifecycleActionVisibilityLagMs: ACTION_VISIBILITY_LAG_MS,
      releaseResourcesAt: 'desired-stopped',
      deregistrationRefusal: 'tasks-desired-running',
      backgroundChurn: BUSY_CLUSTER,
    },
    eventFaults: {
      redeliveries: Object.fromEntries(['aws.autoscaling', 'aws.ecs'].map(source => [source, {
        rate: 0.5, delaysMs: [[10 * SECOND, 3 * MINUTE], [20 * MINUTE, 30 * MINUTE]] as [number, number][],
      }])),
    },
    lambdaFaults: { duplicateRate: 0.2 },
    injectedErrors: ['ValidationError'],
    verify: context => [...verifyStaleReads(context), ...verifyNoOrphaningDeregistration(context), ...verifyChurn(context)],
  },
];

// ---- warm-pool-late-lifecycle -------------------------------------------------------------------

interface LateCopies { kept: EmittedEvent[]; keeping: boolean; redelivered: number }
const lateCopies = new RunState<LateCopies>(() => ({ kept: [], keeping: true, redelivered: 0 }));

/** Keeps a copy (same id) of every lifecycle action event of the first scale-in. */
function keepLifecycleEvents(context: ChaosContext): void {
  const state = lateCopies.of(context);
  onWorldEvent(context, event => {
    if (state.keeping && event.source === 'aws.autoscaling' && event['detail-type'] === 'EC2 Instance-terminate Lifecycle Action') {
      state.kept.push(JSON.parse(JSON.stringify(event)) as EmittedEvent);
    }
  });
}

/**
 * Puts every kept event on the bus again `afterMs` from now (EventBridge delivers at least once,
 * late). Keeping stops here: the round trip's second scale-in has actions of its own.
 */
function redeliverLifecycleEvents(context: ChaosContext, afterMs: number): void {
  const state = lateCopies.of(context);
  state.keeping = false;
  for (const event of state.kept) {
    context.sim.clock.after(afterMs, () => {
      state.redelivered++;
      context.sim.eventBridge.putEvent(event);
    });
  }
}

function verifyRedelivered(context: ChaosContext): string[] {
  const state = lateCopies.of(context);
  context.notes.push(`${state.kept.length} lifecycle events kept, ${state.redelivered} late copies delivered`);
  return state.redelivered >= 2 * state.kept.length && state.kept.length > 0 ? [] : [`only ${state.redelivered} late copies of ${state.kept.length} kept events were delivered`];
}

// ---- stale-reads, early-release, background-churn -----------------------------------------------

function verifyStaleReads(context: ChaosContext): string[] {
  const unkind = context.sim.emulator.stats.unkind;
  context.notes.push(`${unkind.totalStaleReads} stale reads, ${unkind.lifecycleActionNotYetVisible} completions or heartbeats refused as not yet visible`);
  const problems: string[] = [];
  if (unkind.totalStaleReads === 0) problems.push('no read was stale');
  if (unkind.lifecycleActionNotYetVisible === 0) problems.push('no completion or heartbeat came within the visibility lag');
  return problems;
}

function verifyNoOrphaningDeregistration(context: ChaosContext): string[] {
  const orphaning = context.sim.emulator.stats.unkind.plainDeregistrationsOrphaning;
  return orphaning === 0 ? [] : [`${orphaning} plain deregistration(s) left tasks still stopping behind`];
}

function verifyChurn(context: ChaosContext): string[] {
  const unkind = context.sim.emulator.stats.unkind;
  context.notes.push(`background churn: ${unkind.churnStandaloneTasks} standalone and ${unkind.churnFargateTasks} Fargate tasks`);
  return unkind.churnStandaloneTasks > 0 && unkind.churnFargateTasks > 0 ? [] : ['the background churn started no task'];
}

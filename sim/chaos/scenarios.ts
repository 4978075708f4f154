/**
 * The fault matrix: reusable chaos scenarios for the emulator. Each one is the same scale-in
 * (see run.ts: services behind a load balancer, a daemon, one operator-drained instance that
 * must stay untouched) with one kind of fault turned on. A scenario says which error names its
 * faults produce, so that an error the controller raises for any other reason is reported as
 * unhandled, and which lifecycle actions it takes out of the controller's reach by construction.
 */
import { between, ChaosContext } from './context';
import { injectJunkEvents } from './junk-events';
import { LIFECYCLE_SCENARIOS, STACK_UPDATE_SCENARIOS } from './lifecycle-scenarios';
import { PRODUCTION_SCENARIOS } from './production-scenarios';
import { replayStaleEcsEvents } from './stale-events';
import { UNKIND_SCENARIOS } from './unkind-scenarios';
import { VariantName } from './variant-app';
import { LaunchOptions, UnkindOptions } from '../emulator';
import { EventBridgeFaults } from '../runtime/eventbridge';
import { LambdaFaults } from '../runtime/lambda';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

export interface ChaosScenario {
  readonly name: string;
  readonly description: string;
  /**
   * `long-drain`: the example synthesized with a 3 h drain timeout (the hook needs heartbeats);
   * the others: the chaos matrix's own app (variant-app.ts).
   */
  readonly assembly?: 'default' | 'long-drain' | VariantName;
  /**
   * 5xx rate and API latency of the row. A row that sets no `latencyMs` takes the run's
   * `defaultLatencyMs` (ChaosRunOptions, `chaos --latency`), none by default.
   */
  readonly emulatorFaults?: { errorRate?: number; latencyMs?: [number, number] };
  /**
   * The emulator's unkind options for the row (emulator/unkind.ts: stale reads, a lifecycle action
   * not yet visible, ...), over the run's `defaultUnkind`. Late event redeliveries are
   * `eventFaults.redeliveries`, Lambda's duplicates `lambdaFaults.duplicateRate`.
   */
  readonly unkind?: UnkindOptions;
  /** How long ECS still counts a task that just stopped (emulator option; default 5 s). */
  readonly deregistrationLagMs?: number;
  /** Lambda's concurrent executions quota of the account (default 1,000, Lambda quotas). */
  readonly lambdaAccountConcurrencyLimit?: number;
  /**
   * What takes the instances out of service: a scale-in (the default), or an instance refresh
   * that replaces their root volumes one at a time (`Strategy: ReplaceRootVolume`), after which
   * they come back with a new registration.
   */
  readonly disruption?: 'scale-in' | 'root-volume-refresh';
  /** What the n-th instance is launched with besides its cluster (e.g. custom attributes, Spot). */
  readonly launchOptions?: (index: number, context: ChaosContext) => Omit<LaunchOptions, 'cluster'>;
  readonly eventFaults?: EventBridgeFaults;
  readonly lambdaFaults?: LambdaFaults;
  /** Token buckets replacing every documented one (throttling storm). */
  readonly buckets?: { capacity: number; refillPerSecond: number };
  /** Error names (`err.name` as the SDK surfaces it) the scenario's faults cause. */
  readonly injectedErrors?: readonly string[];
  /** Invocation timeouts are a consequence of the fault (slow or hanging answers). */
  readonly timeoutsInjected?: boolean;
  /** Instances launched without registering with the cluster. */
  readonly neverRegistered?: (n: number) => number;
  /** Standalone tasks: `long` runs past the hook's heartbeat timeout on every instance. */
  readonly standaloneTasks?: 'long';
  /** Scale in this long before a schedule tick (so the tick lands among the lifecycle invocations). */
  readonly scaleInBeforeTickMs?: number;
  /** Before the scale-in, once every task runs. */
  readonly beforeScaleIn?: (context: ChaosContext) => void | Promise<void>;
  /** Right after the scale-in; schedule faults on the clock from here. */
  readonly afterScaleIn?: (context: ChaosContext, terminating: readonly string[]) => void;
  /**
   * Runs the rest of the scenario after the scale-in, instead of waiting until every scaled-in
   * instance is terminated (e.g. a warm pool, where they come back); says how it ended.
   */
  readonly finish?: (context: ChaosContext, scaledIn: readonly string[]) => Promise<ChaosOutcome>;
  /**
   * Checks of what the totals cannot see (a Spot drain's start, a registration set ACTIVE again):
   * one line per failed check, counted as `failed_checks`.
   */
  readonly verify?: (context: ChaosContext, scaledIn: readonly string[]) => string[];
}

/** How a run ended: its own done condition met, the time limit, or nothing left to happen. */
export type ChaosOutcome = 'done' | 'limit' | 'idle';

const THROTTLED = ['ThrottlingException', 'Throttling'];
const SERVER_ERRORS = ['ServerException', 'InternalFailure'];

export const CHAOS_SCENARIOS: readonly ChaosScenario[] = [
  {
    name: 'baseline',
    description: 'no fault: the control row',
  },
  {
    name: 'throttling-storm',
    description: 'every token bucket shrunk to 2 tokens refilled at 1 per 4 seconds',
    buckets: { capacity: 2, refillPerSecond: 0.25 },
    injectedErrors: THROTTLED,
  },
  {
    name: 'server-errors',
    description: '25% of API calls answered with a 5xx',
    emulatorFaults: { errorRate: 0.25 },
    injectedErrors: SERVER_ERRORS,
  },
  {
    name: 'slow-answers',
    description: 'every API answer takes 0.5 to 8 s',
    emulatorFaults: { latencyMs: [500, 8000] },
    timeoutsInjected: true,
  },
  {
    name: 'crash-mid-drain',
    description: '30% of invocations die after one of their first 6 API calls',
    lambdaFaults: { crashProbability: 0.3, crashAfterCallsMax: 6 },
  },
  {
    name: 'lost-events',
    description: 'half of all deliveries (lifecycle, ECS, schedule) never arrive',
    eventFaults: { lossRate: 0.5 },
  },
  {
    name: 'duplicate-events',
    description: 'half of all deliveries arrive twice',
    eventFaults: { duplicateRate: 0.5 },
  },
  {
    name: 'reordered-events',
    description: 'half of all deliveries held back by up to 2 minutes',
    eventFaults: { reorderRate: 0.5, reorderMaxDelayMs: 2 * MINUTE },
  },
  {
    name: 'stale-versions',
    description: 'ECS events replayed 1-15 min late, plus a forged stale "empty" DRAINING event (older version) right after each drain starts',
    afterScaleIn: context => replayStaleEcsEvents(context),
  },
  {
    name: 'agent-disconnect',
    description: 'half the draining instances lose their agent for 5-20 min; one never reconnects (forced at the deadline)',
    afterScaleIn: (context, terminating) => {
      const victims = terminating.filter((_, i) => i % 2 === 0);
      victims.forEach((id, i) => {
        context.sim.clock.after(between(context, 20 * SECOND, 2 * MINUTE), () => context.sim.emulator.disconnectAgent(id));
        if (i === 0) return;
        context.sim.clock.after(between(context, 7 * MINUTE, 22 * MINUTE), () => context.sim.emulator.reconnectAgent(id));
      });
    },
  },
  {
    name: 'never-registered',
    description: 'instances whose agent never registered with the cluster',
    neverRegistered: n => Math.max(1, Math.floor(n / 2)),
  },
  {
    name: 'inactive-mid-drain',
    description: 'someone else force-deregisters half the draining container instances (INACTIVE mid-drain)',
    afterScaleIn: (context, terminating) => {
      for (const id of terminating.filter((_, i) => i % 2 === 1)) {
        context.sim.clock.after(between(context, 30 * SECOND, 4 * MINUTE), () => {
          for (const arn of context.sim.emulator.containerInstanceArns(id)) {
            for (const task of context.sim.emulator.deregisterContainerInstance(arn, true)) context.orphanedByOthers.add(task);
            context.deregisteredByOthers.add(id);
          }
        });
      }
    },
  },
  {
    name: 'completed-by-other',
    description: 'someone else completes half the lifecycle actions mid-drain (excluded from actions)',
    afterScaleIn: (context, terminating) => {
      for (const id of terminating.filter((_, i) => i % 2 === 0)) {
        context.excluded.set(id, 'lifecycle action completed by someone else');
        context.sim.clock.after(between(context, 30 * SECOND, 4 * MINUTE), () => {
          context.sim.emulator.completeLifecycleAction(id, context.hookName);
        });
      }
    },
  },
  {
    name: 'action-expired',
    description: 'the hook is redefined with a 60 s heartbeat timeout, shorter than any drain (every action expires; excluded)',
    beforeScaleIn: context => {
      context.sim.emulator.putLifecycleHook({
        groupName: context.groupName,
        hookName: context.hookName,
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeoutSeconds: 60,
        defaultResult: 'CONTINUE',
      });
    },
    afterScaleIn: (context, terminating) => {
      // Every instance runs service tasks behind a 300 s deregistration delay: no drain can end in 60 s.
      for (const id of terminating) context.excluded.set(id, 'the hook expires (60 s) before any drain can end (300 s deregistration delay)');
    },
  },
  {
    name: 'heartbeat',
    description: '3 h drain timeout (hook heartbeat 2 h); a job runs 2 h 15 min on each instance; 30% of deliveries lost',
    assembly: 'long-drain',
    standaloneTasks: 'long',
    eventFaults: { lossRate: 0.3 },
  },
  {
    name: 'group-deleted',
    description: 'the Auto Scaling group is force-deleted mid-drain (every action excluded)',
    afterScaleIn: (context, terminating) => {
      for (const id of terminating) context.excluded.set(id, 'the group was deleted with its instances');
      context.sim.clock.after(between(context, MINUTE, 3 * MINUTE), () => context.sim.emulator.deleteAutoScalingGroup(context.groupName));
    },
  },
  {
    name: 'cluster-deleted',
    description: 'the ECS cluster is deleted mid-drain: nothing is left to drain, the actions should still be completed',
    injectedErrors: ['ClusterNotFoundException'],
    afterScaleIn: context => {
      context.sim.clock.after(between(context, MINUTE, 3 * MINUTE), () => context.sim.emulator.deleteCluster(context.clusterName));
    },
  },
  {
    name: 'concurrent',
    description: 'each lifecycle event also invoked 3 more times at once, the scale-in 0.3 s before a schedule tick, answers 0.2-1.5 s',
    emulatorFaults: { latencyMs: [200, 1500] },
    scaleInBeforeTickMs: 300,
    afterScaleIn: context => triplicateLifecycleEvents(context),
  },
  {
    name: 'junk-events',
    description: 'malformed and foreign events on the bus and straight to the function, before and during the drain',
    beforeScaleIn: context => injectJunkEvents(context),
    afterScaleIn: context => {
      context.sim.clock.after(90 * SECOND, () => injectJunkEvents(context));
    },
  },
  ...PRODUCTION_SCENARIOS,
  ...STACK_UPDATE_SCENARIOS,
  ...LIFECYCLE_SCENARIOS,
  ...UNKIND_SCENARIOS,
];

export function scenarioNamed(name: string): ChaosScenario {
  const scenario = CHAOS_SCENARIOS.find(s => s.name === name);
  if (!scenario) throw new Error(`no chaos scenario ${name}; one of ${CHAOS_SCENARIOS.map(s => s.name).join(', ')}`);
  return scenario;
}

/** Each lifecycle action event also goes to the function twice more, straight away (same instant). */
function triplicateLifecycleEvents(context: ChaosContext): void {
  const { sim } = context;
  const inner = sim.emulator.onEvent;
  sim.emulator.onEvent = event => {
    inner?.(event);
    if (event.source !== 'aws.autoscaling') return;
    sim.clock.after(0, () => {
      for (let i = 0; i < 3; i++) sim.lambda.invokeAsync(context.functionName, event);
    });
  };
}

/**
 * `chaos`: the fault matrix. Every scenario of sim/chaos/scenarios.ts (throttling storms, 5xx,
 * slow answers, crashes mid-drain, lost/duplicated/reordered/stale events, agent disconnects,
 * unregistered and deregistered instances, completed and expired actions, deleted group and
 * cluster, concurrent invocations, junk events) and of sim/chaos/production-scenarios.ts (an
 * attribute-full instance, deregistration lag, warm pool reuse, re-registration mid-drain, a late
 * record, Spot, two groups, forceDeregisterOnTimeout false) runs the same scale-in of the
 * synthesized example (or of the matrix's own app, sim/chaos/variant-app.ts) over several seeds,
 * through the real bundled controller and the emulator, in virtual time.
 *
 *   ts-node --transpile-only --project test/tsconfig.json sim/chaos.ts \
 *     [--seeds N] [--scenario NAME[,NAME...]] [--instances N] [--assembly cdk.out] [--latency MIN-MAX] [--unkind all|none] [--verbose]
 *
 * `--latency MIN-MAX`: API answers take MIN to MAX virtual ms in every row that sets no latency of
 * its own (default 20-80, as in the bench; 0-0 turns it off). Every row that sets no redeliveries of
 * its own gets late copies of a tenth of its lifecycle and ECS events (DEFAULT_REDELIVERIES), and every
 * row runs with the emulator's unkind options under its own (DEFAULT_UNKIND; `--unkind none` turns them off).
 *
 * Ends with `CHAOS scenarios=… runs=… lifecycle_actions=… completed=… premature=… untouched_violations=… writes_outside_wait=…
 * unhandled_errors=… denied=… failed_checks=…`;
 * exits 1 when completed differs from lifecycle_actions or any other count is not 0.
 */
import { parseArgs } from 'util';
import { chaosLine, DEFINITIONS, passed, rowsOf, scenarioTable, totalsOf } from './chaos/report';
import { ChaosRunResult, runChaos } from './chaos/run';
import { CHAOS_SCENARIOS, scenarioNamed } from './chaos/scenarios';
import { commandArgs, log, positiveInt, runCommand } from './cli';
import { BUSY_CLUSTER, UnkindOptions } from './emulator';

/** API latency of every row that sets none (virtual ms), as the bench has it: `--latency 0-0` turns it off. */
const DEFAULT_LATENCY = '20-80';
/**
 * Late copies of a tenth of the lifecycle and ECS events of every row that sets no redeliveries of
 * its own: one 1 to 3 minutes after the event (Lambda's and EventBridge's retries), one 20 to 30
 * minutes after it (the action over, the instance possibly back in service). Both services deliver
 * at least once (EventBridge user guide; ECS developer guide, "Handling Amazon ECS events"); how
 * late is documented nowhere.
 */
const DEFAULT_REDELIVERIES = Object.fromEntries(['aws.autoscaling', 'aws.ecs'].map(source => [source, {
  rate: 0.1, delaysMs: [[60_000, 180_000], [1_200_000, 1_800_000]] as [number, number][],
}]));

/**
 * The emulator's unkind options (emulator/unkind.ts) every row runs with unless it sets its own
 * (`--unkind none` turns them off): ECS reads up to 2 s stale and Auto Scaling's up to 1 s, a
 * lifecycle action refusing its completion for its first 3 s, a stopping task's resources freed
 * when it is told to stop, a plain deregistration that refuses only tasks meant to run, STOPPED
 * tasks listed for up to half an hour past the documented hour, and a busy cluster around the
 * drains. Each is allowed by the documentation or shown by a public report (their sources are in
 * unkind.ts); none is the emulator's own default. Draining within each service's deployment
 * configuration (documented) is not among them: the matrix's scale-in leaves no room for the
 * replacements of the drained services, so with it every drain waits for its deadline (as it
 * would in AWS); it needs a workload with spare capacity of its own.
 */
const DEFAULT_UNKIND: UnkindOptions = {
  staleReads: {
    DescribeContainerInstances: 2000,
    ListContainerInstances: 2000,
    ListTasks: 2000,
    DescribeTasks: 2000,
    DescribeAutoScalingInstances: 1000,
    DescribeAutoScalingGroups: 1000,
    DescribeWarmPool: 1000,
  },
  lifecycleActionVisibilityLagMs: 3000,
  releaseResourcesAt: 'desired-stopped',
  deregistrationRefusal: 'tasks-desired-running',
  stoppedTaskVisibilityExtraMs: 30 * 60_000,
  backgroundChurn: BUSY_CLUSTER,
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: commandArgs(),
    options: {
      seeds: { type: 'string', default: '3' },
      scenario: { type: 'string' },
      instances: { type: 'string', default: '6' },
      assembly: { type: 'string', default: 'cdk.out' },
      latency: { type: 'string' },
      unkind: { type: 'string', default: 'all' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const defaultLatencyMs = latencyRange(values.latency ?? DEFAULT_LATENCY);
  if (values.unkind !== 'all' && values.unkind !== 'none') throw new Error(`--unkind must be all or none, not ${values.unkind}`);
  const defaultUnkind = values.unkind === 'all' ? DEFAULT_UNKIND : undefined;
  const seeds = positiveInt('--seeds', values.seeds!);
  const instances = positiveInt('--instances', values.instances!);
  const scenarios = values.scenario ? values.scenario.split(',').map(s => scenarioNamed(s.trim())) : CHAOS_SCENARIOS;
  const realStart = process.hrtime.bigint();
  log(`chaos: ${scenarios.length} scenario(s) x ${seeds} seed(s), ${instances} instances each, assembly ${values.assembly}`);
  const results: ChaosRunResult[] = [];
  for (const scenario of scenarios) {
    for (let seed = 1; seed <= seeds; seed++) {
      const result = await runChaos({
        scenario, seed, instances, assemblyDirectory: values.assembly!, defaultLatencyMs, defaultRedeliveries: DEFAULT_REDELIVERIES, defaultUnkind,
      });
      results.push(result);
      const bad = !passed(result);
      log(`  ${scenario.name.padEnd(20)} seed=${seed}  actions=${result.actions} excluded=${result.excluded} completed=${result.completed} `
        + `premature=${result.premature} violations=${result.violations} outside_wait=${result.writesOutsideWait} unhandled=${result.unhandled} denied=${result.denied} `
        + `failed_checks=${result.failedChecks} forced=${result.forced} `
        + `invocations=${result.invocations} injected_failures=${result.injectedFailures} (${(result.realMs / 1000).toFixed(1)} s)${bad ? '  <-- FAIL' : ''}`);
      if (bad || values.verbose) for (const problem of result.problems.slice(0, 12)) log(`      ${problem}`);
      if (values.verbose) for (const note of result.notes) log(`      ${note}`);
    }
  }
  log('');
  for (const s of scenarios) log(`${s.name.padEnd(20)} ${s.description}`);
  log('');
  log(scenarioTable(rowsOf(results)));
  log('');
  for (const line of DEFINITIONS) log(line);
  log(`real time ${(Number(process.hrtime.bigint() - realStart) / 1e9).toFixed(1)} s`);
  const totals = totalsOf(results);
  log(chaosLine(totals));
  return passed(totals) ? 0 : 1;
}

/** `MIN-MAX` in virtual ms, 0 <= MIN <= MAX. */
function latencyRange(value: string): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(value.trim());
  if (!match || Number(match[1]) > Number(match[2])) throw new Error(`--latency must be MIN-MAX (virtual ms, MIN <= MAX), not ${value}`);
  return [Number(match[1]), Number(match[2])];
}

runCommand('chaos', main);

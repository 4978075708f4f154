/**
 * `simulate`: deploys the synthesized example (cdk.out/) into the local AWS emulator, launches
 * instances with a realistic task mix, scales the group in, and reports how the drain controller
 * (the real bundled handler, run as Lambda runs it) drained them. All time is simulated.
 *
 *   ts-node --transpile-only --project test/tsconfig.json sim/simulate.ts \
 *     [--instances N] [--seed S] [--scenario NAME] [--assembly cdk.out] [--out sim-out]
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { commandArgs, log, positiveInt, runCommand } from './cli';
import { instanceTable, offset, summarize, summaryLine } from './runtime/report';
import { runScenario, ScenarioName, SCENARIOS } from './runtime/scenario';
import { Simulation } from './runtime/simulation';
import { timelineSvg } from './runtime/timeline-svg';

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: commandArgs(),
    options: {
      instances: { type: 'string', default: '20' },
      seed: { type: 'string', default: '1' },
      scenario: { type: 'string', default: 'mixed' },
      assembly: { type: 'string', default: 'cdk.out' },
      out: { type: 'string', default: 'sim-out' },
    },
  });
  const scenario = values.scenario as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const instances = positiveInt('--instances', values.instances!);
  const seed = positiveInt('--seed', values.seed!);
  const outDir = path.resolve(values.out!);
  fs.mkdirSync(outDir, { recursive: true });
  // Real time, captured before the simulation replaces Date.
  const realStart = process.hrtime.bigint();

  const sim = await Simulation.start({
    assemblyDirectory: values.assembly!, seed, logDirectory: path.join(outDir, 'logs'),
  });
  try {
    log(`simulate: scenario=${scenario} instances=${instances} seed=${seed} assembly=${path.resolve(values.assembly!)}`);
    log(`deployed: ${sim.model.functions.length} function(s), ${sim.model.rules.length} rule(s), `
      + `${sim.model.autoScalingGroups.length} group(s), ${sim.model.lifecycleHooks.length} lifecycle hook(s)`);
    log('time is simulated: a virtual clock moves only when the system is idle; every duration is scaled alike.');
    const run = await runScenario(sim, {
      scenario,
      instances,
      seed,
      onProgress: p => log(`${offset(p.elapsedMs, 0).padStart(8)}  draining=${p.draining} drained=${p.drained} completed=${p.completed}`),
    });
    const summary = summarize(sim, run);
    log('');
    log(instanceTable(summary, run.scaleInAt));
    log('');
    const stats = sim.drainFunctionNames().length > 0 ? sim.drainFunctionStats() : undefined;
    if (stats) {
      log(`lambda: ${stats.invocations} invocations, ${stats.errors} errors, ${stats.timeouts} timeouts, `
        + `${stats.crashes} crashes, ${(stats.busyMs / 1000).toFixed(1)} s busy (simulated); ${sim.lambda.failures.length} events to the on-failure destination`);
      log(`lambda concurrency: limit ${sim.lambda.concurrencyLimits.account}, peak ${stats.peakConcurrency}, `
        + `${stats.throttles} throttles, ${stats.environments} execution environments started`);
    }
    const e = sim.emulator.stats;
    const bus = sim.eventBridge.stats;
    log(`aws: ${e.totalCalls} API calls, ${e.totalThrottled} throttled, ${e.totalInjectedErrors} injected errors; `
      + `eventbridge: ${bus.received} events, ${bus.scheduled} schedule ticks, ${bus.delivered} deliveries`);
    if (sim.emulator.untouchedViolations.length > 0) log(`VIOLATION: ${sim.emulator.untouchedViolations.length} mutating calls on operator-drained instances`);
    for (const refused of e.deniedRequests.slice(0, 5)) log(`DENIED: ${refused.message}`);
    const simulatedMs = sim.clock.now() - run.scaleInAt;
    const realSeconds = Number(process.hrtime.bigint() - realStart) / 1e9;
    log(`simulated ${offset(simulatedMs, 0).slice(1)} after the scale-in in ${realSeconds.toFixed(1)} s of real time (outcome: ${run.outcome})`);
    fs.writeFileSync(path.join(outDir, 'timeline.svg'),
      timelineSvg(summary, run.scaleInAt, `ecs-drain-hook: scenario ${scenario}, ${instances} instances, seed ${seed}`));
    log(`wrote ${path.join(outDir, 'timeline.svg')} and ${path.join(outDir, 'logs')}/`);
    log(summaryLine(summary));
    // A call IAM refuses would be refused in AWS too: a failure like an unfinished run.
    return run.outcome === 'done' && summary.denied === 0 ? 0 : 1;
  } finally {
    sim.stop();
  }
}

runCommand('simulate', main);

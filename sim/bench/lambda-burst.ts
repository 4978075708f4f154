/**
 * What the Lambda runtime itself costs at scale: N asynchronous events at once (as a scale-in of a
 * whole cluster sends them) to a trivial function that waits a while in virtual time, run until
 * every event has run. Prints real time, peak RSS, execution environments started, throttles and
 * the peak concurrency observed. No emulator traffic: only the runtime, the queue and the driver.
 * With `--preload FILE` (e.g. the drain controller's bundle) each execution environment loads
 * that module first, as a cold start of that function would, and then runs the trivial handler;
 * the function gets the environment of the first function in `--env-from` (an assembly).
 *
 *   ts-node --transpile-only --project test/tsconfig.json sim/bench/lambda-burst.ts \
 *     [--events 5000] [--handler-seconds 30] [--seed 1] [--limit 1000] [--preload FILE --env-from cdk.out]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { log, positiveInt, runCommand } from '../cli';
import { loadAssembly } from '../runtime/assembly';
import { Simulation } from '../runtime/simulation';

const FUNCTION_NAME = 'Burst-Fn';

const HANDLER = `
exports.handler = async event => {
  await new Promise(resolve => setTimeout(resolve, event.sleepMs));
  return 'ok';
};`;

/** A one-function cloud assembly (what `cdk synth` would write for it). */
function burstAssembly(preload: string | undefined, environment: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-lambda-burst-'));
  fs.mkdirSync(path.join(dir, 'asset.burst'));
  // The preloaded bundle's own module body runs first, then the trivial handler replaces its export.
  const code = preload ? `${fs.readFileSync(preload, 'utf8')}\n;module.exports = exports;\n${HANDLER}` : HANDLER;
  fs.writeFileSync(path.join(dir, 'asset.burst', 'index.js'), code);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '55.0.0',
    artifacts: { Burst: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Burst.template.json' } } },
  }));
  fs.writeFileSync(path.join(dir, 'Burst.template.json'), JSON.stringify({
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Metadata: { 'aws:asset:path': 'asset.burst' },
        Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Timeout: 900, Environment: { Variables: environment } },
      },
    },
  }));
  return dir;
}

/** The most invocations that overlapped in virtual time (an end frees its slot before a start at the same instant). */
function peakOverlap(intervals: Array<{ startedAt: number; endedAt?: number }>): number {
  const edges: Array<[number, number]> = [];
  for (const i of intervals) {
    edges.push([i.startedAt, 1]);
    if (i.endedAt !== undefined) edges.push([i.endedAt, -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, step] of edges) peak = Math.max(peak, now += step);
  return peak;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'events': { type: 'string', default: '5000' },
      'handler-seconds': { type: 'string', default: '30' },
      'seed': { type: 'string', default: '1' },
      'limit': { type: 'string', default: '1000' },
      'preload': { type: 'string' },
      'env-from': { type: 'string', default: 'cdk.out' },
    },
  });
  const events = positiveInt('--events', values.events!);
  const sleepMs = positiveInt('--handler-seconds', values['handler-seconds']!) * 1000;
  const seed = positiveInt('--seed', values.seed!);
  const limit = positiveInt('--limit', values.limit!);
  const realStart = process.hrtime.bigint();
  const environment = values.preload ? loadAssembly(values['env-from']!).functions[0]?.environment ?? {} : {};
  const sim = await Simulation.start({
    assemblyDirectory: burstAssembly(values.preload, environment), seed, lambdaAccountConcurrencyLimit: limit,
  });
  try {
    for (let i = 0; i < events; i++) sim.lambda.invokeAsync(FUNCTION_NAME, { sleepMs });
    const run = await sim.runUntil(
      // O(1) per step: every event accepted has started and nothing runs.
      () => sim.lambda.queuedEvents === 0 && sim.lambda.running === 0,
      7 * 3_600_000,
    );
    const realSeconds = Number(process.hrtime.bigint() - realStart) / 1e9;
    const stats = sim.lambda.stats(FUNCTION_NAME);
    const succeeded = sim.lambda.invocations.filter(r => r.outcome === 'success').length;
    log(`lambda-burst: events=${events} preload=${values.preload ? path.basename(path.dirname(values.preload)) : '-'} handler_s=${sleepMs / 1000} limit=${limit} outcome=${run.reason} succeeded=${succeeded} `
      + `failure_records=${sim.lambda.failures.length} environments=${stats.environments} `
      + `peak_concurrency=${peakOverlap(sim.lambda.invocations)} throttles=${stats.throttles} `
      + `simulated_s=${(run.simulatedMs / 1000).toFixed(1)} advances=${run.advances} `
      + `real_s=${realSeconds.toFixed(1)} peak_rss_mb=${(process.resourceUsage().maxRSS / 1024).toFixed(0)}`);
    return run.reason === 'done' && succeeded === events ? 0 : 1;
  } finally {
    sim.stop();
  }
}

runCommand('lambda-burst', main);

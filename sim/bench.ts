/**
 * `bench`: our drain controller against the algorithm of aws-cdk's
 * `InstanceDrainHook`, on the same emulator, workload and throttling, in one run, up to a whole
 * cluster at ECS's quota (5,000 container instances; the baseline stops at --baseline-max).
 * Writes BENCHMARKS.md and prints the tables; the last line is the `BENCH ...` summary
 * (sim/bench/figures.ts, benchLine). Exits 1 when a drain of ours failed, was premature or
 * reached its hook's timeout, or when IAM refused a call.
 *
 *   ts-node --transpile-only --project test/tsconfig.json sim/bench.ts \
 *     [--sizes 1,10,100,1000,5000] [--seed 1] [--modes events,ecs-events-lost[,busy-cluster]] [--assembly cdk.out]
 *     [--out BENCHMARKS.md] [--jobs 2] [--latency 20,80] [--init-runs 9] [--baseline-max 1000]
 *
 * Every case runs in its own worker process (sim/bench/worker.ts), up to --jobs at a time.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { CaseResult, CaseSpec, EventMode } from './bench/case';
import {
  benchLine, ColdInit, DEFAULT_MODES, failuresOf, fmt, hasFailures, MODES, perInstance, RunShape, STRATEGIES, tablesOnly,
} from './bench/figures';
import { report } from './bench/report';
import { commandArgs, log, positiveInt, runCommand } from './cli';
import { loadAssembly } from './runtime/assembly';

const REPO = path.resolve(__dirname, '..');
const BUNDLE = path.join(REPO, 'assets/lambda/drain-controller.lambda/index.js');
/**
 * The baseline's largest size by default: at 1,000 instances it already fails most drains (its
 * throttled invocations give up), and at 5,000 its thousands of 15-minute invocations would cost
 * most of the run's real time to say the same (BENCHMARKS.md, Reading the results).
 */
const BASELINE_MAX_INSTANCES = 1000;

interface Options extends RunShape {
  assembly: string;
  out: string;
  initRuns: number;
}

async function main(): Promise<number> {
  const options = parseOptions();
  const realStart = process.hrtime.bigint();
  log(`bench: sizes=${options.sizes.join(',')} modes=${options.modes.join(',')} seed=${options.seed} jobs=${options.jobs} `
    + `latency=${options.latencyMs.join('-')}ms assembly=${options.assembly}`);
  log('time is simulated: a virtual clock moves only when the system is idle; every duration is scaled alike.');
  const withoutBaseline = options.sizes.filter(n => n > options.baselineMaxInstances);
  if (withoutBaseline.length > 0) {
    log(`the baseline stops at ${options.baselineMaxInstances} instances (--baseline-max): ours alone at ${withoutBaseline.join(', ')}.`);
  }

  const specs: CaseSpec[] = [];
  for (const instances of options.sizes) {
    for (const events of options.modes) {
      for (const strategy of STRATEGIES) {
        if (strategy === 'baseline' && instances > options.baselineMaxInstances) continue;
        specs.push({ strategy, instances, events, seed: options.seed, assembly: options.assembly, latencyMs: options.latencyMs });
      }
    }
  }
  // Largest first: the pool finishes about when the biggest case does.
  const queue = [...specs].sort((a, b) => b.instances - a.instances);
  const results: CaseResult[] = [];
  await pool(queue, options.jobs, async spec => {
    const result = await runWorker(spec);
    results.push(result);
    log(`  ${label(spec).padEnd(38)} ${result.outcome.padEnd(5)} calls/inst=${fmt(perInstance(result, 'apiCalls'))} `
      + `throttled=${result.throttled} p99=${fmt(result.reactionP99Seconds)}s busy/inst=${fmt(perInstance(result, 'busySeconds'))}s `
      + `premature=${result.premature} failed=${result.failedDrains}`
      + (spec.strategy === 'ours' ? ` floor=${fmt(result.reactionFloor.seconds, 1)}s (${result.reactionFloor.binding})` : '')
      + ` (${result.realSeconds.toFixed(1)} s real, ${result.peakRssMb.toFixed(0)} MiB peak RSS)`);
  });

  const bundleBytes = fs.statSync(BUNDLE).size;
  const coldInit = measureColdInit(options);
  const realSeconds = Number(process.hrtime.bigint() - realStart) / 1e9;
  fs.writeFileSync(options.out, report({ shape: options, results, bundleBytes, coldInit, realSeconds }));
  log('');
  log(tablesOnly(options, results));
  log(`handler: bundle ${bundleBytes} bytes; cold init median ${coldInit.medianMs.toFixed(1)} ms `
    + `(min ${coldInit.minMs.toFixed(1)}, max ${coldInit.maxMs.toFixed(1)}, ${coldInit.runs.length} runs)`);
  log(`wrote ${options.out} in ${realSeconds.toFixed(0)} s of real time`);
  const failures = failuresOf(results);
  if (failures.unfinished > 0) log(`${failures.unfinished} case(s) of ours did not finish.`);
  log(benchLine(options, results));
  return hasFailures(failures) ? 1 : 0;
}

// ---- running ----------------------------------------------------------------------------------

function runWorker(spec: CaseSpec): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      // A 1,000-instance case starts about as many execution environments (one bundle copy each).
      '--max-old-space-size=8192', '-r', 'ts-node/register/transpile-only', path.join(__dirname, 'bench', 'worker.ts'), JSON.stringify(spec),
    ], {
      cwd: REPO,
      env: { ...process.env, TS_NODE_PROJECT: path.join(REPO, 'test/tsconfig.json'), TS_NODE_TRANSPILE_ONLY: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', chunk => { stdout += chunk; });
    child.stderr.on('data', chunk => { stderr += chunk; });
    child.on('close', code => {
      const line = stdout.split('\n').find(l => l.startsWith('CASE_RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('CASE_RESULT '.length)));
      else reject(new Error(`${label(spec)}: worker exited with ${code}\n${stderr.slice(-4000)}`));
    });
  });
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const runners = Array.from({ length: Math.max(1, size) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  });
  await Promise.all(runners);
}

/**
 * Cold initialisation of the handler: `require` of the bundle in a fresh `node` process, with the
 * function's environment from the template, from a copy of the bundle outside the repository
 * (as Lambda's /var/task has no node_modules around it). Process start-up is not included.
 */
function measureColdInit(options: Options): ColdInit {
  const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-init-'));
  fs.copyFileSync(BUNDLE, path.join(taskRoot, 'index.js'));
  const fn = loadAssembly(options.assembly).functions[0];
  const env = {
    PATH: process.env.PATH ?? '',
    ...(fn?.environment ?? {}),
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'ASIASIMULATEDKEY0000',
    AWS_SECRET_ACCESS_KEY: 'simulated',
    AWS_SESSION_TOKEN: 'simulated',
    AWS_LAMBDA_FUNCTION_NAME: fn?.name ?? 'drain-controller',
    AWS_ENDPOINT_URL_ECS: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_AUTO_SCALING: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://127.0.0.1:9',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const script = 'const t=process.hrtime.bigint();require(process.argv[1]);'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const runs: number[] = [];
  try {
    for (let i = 0; i < options.initRuns; i++) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { execFileSync } = require('child_process') as typeof import('child_process');
      const out = execFileSync(process.execPath, ['-e', script, path.join(taskRoot, 'index.js')], { env, cwd: taskRoot, encoding: 'utf8' });
      runs.push(Number(out));
    }
  } finally {
    fs.rmSync(taskRoot, { recursive: true, force: true });
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], maxMs: sorted[sorted.length - 1], runs };
}

// ---- helpers ----------------------------------------------------------------------------------

function label(spec: CaseSpec): string {
  return `${spec.strategy} n=${spec.instances} ${spec.events}`;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    args: commandArgs(),
    options: {
      'sizes': { type: 'string', default: '1,10,100,1000,5000' },
      'seed': { type: 'string', default: '1' },
      'modes': { type: 'string', default: DEFAULT_MODES.join(',') },
      'assembly': { type: 'string', default: 'cdk.out' },
      'out': { type: 'string', default: 'BENCHMARKS.md' },
      'jobs': { type: 'string', default: String(Math.max(1, Math.min(2, os.cpus().length))) },
      'latency': { type: 'string', default: '20,80' },
      'init-runs': { type: 'string', default: '9' },
      'baseline-max': { type: 'string', default: String(BASELINE_MAX_INSTANCES) },
    },
  });
  const sizes = values.sizes!.split(',').map(s => positiveInt('--sizes', s.trim()));
  const modes = values.modes!.split(',').map(s => s.trim()) as EventMode[];
  for (const m of modes) if (!MODES.includes(m)) throw new Error(`--modes: each must be one of ${MODES.join(', ')}; got ${m}`);
  const latency = values.latency!.split(',').map(Number);
  if (latency.length !== 2 || latency.some(x => !Number.isFinite(x) || x < 0) || latency[0] > latency[1]) throw new Error('--latency must be MIN,MAX in ms');
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    seed: positiveInt('--seed', values.seed!),
    modes,
    assembly: path.resolve(values.assembly!),
    out: path.resolve(values.out!),
    jobs: positiveInt('--jobs', values.jobs!),
    latencyMs: [latency[0], latency[1]],
    initRuns: positiveInt('--init-runs', values['init-runs']!),
    baselineMaxInstances: positiveInt('--baseline-max', values['baseline-max']!),
  };
}

runCommand('bench', main);

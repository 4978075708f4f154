/**
 * BENCHMARKS.md: what is compared, the workload, the tables, the targets, data-driven notes on
 * what the figures do and do not say, the throttling and latency model, the handler's cost, the
 * machine and how to reproduce.
 */
import * as os from 'os';
import { BASELINE_DRAIN_TIME_SECONDS } from './baseline-assembly';
import { CaseResult } from './case';
import {
  benchLine, ColdInit, detailTable, find, floorTable, fmt, largestBaselineSize, largestSize, logTable, markdownTable, modeTable, modeTitle,
  operationsTable, passesTable, RunShape,
} from './figures';
import { baselineTargets, quotaTargets, targetRows } from './targets';
import {
  DEREGISTRATION_DELAY_SECONDS, SETUP_MS, STANDALONE_AFTER_SCALE_IN_MS, STANDALONE_EVERY, STOP_TIMEOUT_SECONDS, WEB_TASKS_PER_INSTANCE,
} from './workload';
import { DEFAULT_DEREGISTRATION_LAG_MS } from '../emulator';
import { AUTOSCALING_THROTTLING_GROUPS, ECS_THROTTLING_GROUPS } from '../emulator/throttling';

export interface BenchRun {
  readonly shape: RunShape;
  readonly results: CaseResult[];
  readonly bundleBytes: number;
  readonly coldInit: ColdInit;
  readonly realSeconds: number;
}

export function report(run: BenchRun): string {
  const { shape, results, bundleBytes, coldInit, realSeconds } = run;
  const cpus = os.cpus();
  const n = largestSize(shape);
  const baselineTop = largestBaselineSize(shape, results);
  const bucketRows = [
    ...Object.entries(ECS_THROTTLING_GROUPS).map(([g, s]) => [`ECS ${g}`, String(s.capacity), String(s.refillPerSecond), s.operations.join(', '), 'ECS API reference, "Request throttling for the Amazon ECS API"']),
    ...Object.entries(AUTOSCALING_THROTTLING_GROUPS).map(([g, s]) => [`Auto Scaling ${g}`, String(s.capacity), String(s.refillPerSecond), s.operations.join(', '), 'not published by AWS: our own conservative choice']),
  ];
  const skipped = shape.sizes.filter(size => size > shape.baselineMaxInstances);
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npx projen bench\` (\`sim/bench.ts\`) on ${new Date().toISOString().slice(0, 10)}; do not edit by hand.`,
    `Sizes ${shape.sizes.join(', ')}; seed ${shape.seed}; both strategies and event modes in one run, each case in its own process`,
    `(${shape.jobs} at a time); the whole run took ${realSeconds.toFixed(0)} s of real time.`
      + (skipped.length > 0 ? ` The baseline runs up to ${shape.baselineMaxInstances} instances only (not at ${skipped.join(', ')}; see Reading the results).` : ''),
    '',
    '**Everything below is simulated time** (`sim/clock.ts`): the clock moves only when every process-side',
    'step has settled, so a 20-minute drain of 5,000 instances runs in minutes of real time, and every',
    'duration (deregistration delay, stop timeout, schedules, SDK back-off, Lambda timeouts, API latency) is',
    'scaled alike. The figures are counts and simulated durations; none depends on how fast this machine is',
    '(except the real seconds and memory per case, which say what the run costs here).',
    '',
    '## What is compared',
    '',
    '- **ours**: the construct\'s drain controller, the real bundle from the synthesized example app (`cdk.out`),',
    '  triggered by its EventBridge rules (lifecycle action, ECS container-instance and task state changes, through the',
    '  encrypted event queue) and by a one-minute schedule that runs the reconcile function.',
    '- **baseline**: the algorithm of aws-cdk\'s `InstanceDrainHook` (`sim/bench/baseline-drain-hook.ts`, written from',
    '  `aws-ecs/lib/drain-hook/lambda-source/index.py` and `instance-drain-hook.ts`): one invocation per lifecycle',
    '  action finds the container instance (`ListContainerInstances` with `ec2InstanceId==`), lists its tasks once,',
    '  sets DRAINING, polls `DescribeContainerInstances` + `DescribeTasks` every 10 s until no listed task is',
    '  un-STOPPED (falling back to `runningTasksCount + pendingTasksCount`), then `CompleteLifecycleAction`',
    '  CONTINUE. No heartbeat, no deregistration. Its own lifecycle hook: heartbeat timeout = drain time,',
    `  default result CONTINUE. Drain time ${BASELINE_DRAIN_TIME_SECONDS} s (aws-cdk's maximum; the default, 300 s, would`,
    `  let the hook time out while tasks are still in their ${DEREGISTRATION_DELAY_SECONDS} s deregistration delay), so the function timeout`,
    '  is the 15-minute Lambda limit. SDK clients make up to 5 attempts (boto3\'s default legacy retry mode); a',
    '  call that still fails fails the invocation, and Lambda\'s asynchronous retries (1 and 2 min later) start',
    '  it over. aws-cdk delivers the notification through SNS; here an EventBridge rule on the same lifecycle',
    '  action does (both asynchronous, sub-second; same fields).',
    '',
    '## Workload',
    '',
    `N instances in one Auto Scaling group and ECS cluster; each runs ${WEB_TASKS_PER_INSTANCE} replica tasks of a service behind a load`,
    `balancer (deregistration delay ${DEREGISTRATION_DELAY_SECONDS} s: a stopping task stays DEACTIVATING that long, then STOPPING up to its`,
    `${STOP_TIMEOUT_SECONDS} s stop timeout) and one daemon task (stopped after the replicas); one instance in ${STANDALONE_EVERY} also runs a standalone`,
    `(RunTask) task that ends ${STANDALONE_AFTER_SCALE_IN_MS / 60_000} minutes after the scale-in. ${SETUP_MS / 60_000} minutes after launch, all N terminate at once`,
    '(SetDesiredCapacity to the minimum). Every instance\'s tasks end on their own, so a perfect drainer releases',
    'every instance right after its last task stops and forces none. 5,000 is ECS\'s default quota of container',
    'instances per cluster (ECS service quotas). The Lambda account allows 1,000 concurrent executions (the default',
    'quota): at 5,000 instances the lifecycle events meet that limit and Lambda throttles and retries them (sim/README.md).',
    '',
    'Two event modes per size: **ECS events flowing**, and **every ECS event lost** (EventBridge loses every',
    '`aws.ecs` event; lifecycle-action events and the schedule still arrive).',
    '',
    '## Results',
    '',
    '- *API calls / drained instance*: every ECS and Auto Scaling request the drainer sent after the scale-in,',
    '  **throttled (and retried) calls included**, divided by the instances terminated.',
    '- *failed drains*: lifecycle actions that timed out instead of being completed, or drains that were forced.',
    '- *reaction*: last task STOPPED → lifecycle action completed, per instance drained cleanly (nearest-rank percentiles).',
    '- *reaction floor p99*: the least p99 reaction any drainer that deregisters could reach on the same drain-end',
    '  times under the same token buckets (see "The reaction floor"); ours only, as the baseline does not deregister.',
    '- *Lambda busy s / instance*: virtual invocation duration (start → end, what Lambda bills), summed over every',
    '  invocation after the scale-in, divided by the instances.',
    '- *scale-in done*: from the scale-in to the last instance terminated.',
    '- *premature releases*: instances terminated with a task not yet STOPPED before their drain deadline.',
    '- *ours / baseline*: the ratio (below 1: ours is lower); `-` when the baseline figure is 0.',
    '- *peak RSS*: the peak resident memory of the case\'s own worker process (emulator, runtime, every execution',
    '  environment of the bundle), as the kernel reports it (`process.resourceUsage().maxRSS`).',
    '',
    ...shape.modes.flatMap(m => [`### ${modeTitle(m)}`, '', modeTable(shape, results, m), '', 'Invocations, outcomes and cost of the run:', '',
      detailTable(shape, results, m), '']),
    '### Ours against the reaction floor',
    '',
    'Per case: the measured p99 reaction, the floor (the largest of the per-bucket floors, and which bucket binds), and',
    'where the measured reaction goes: from the last task\'s stop to the deregistration, and from the deregistration to',
    'the lifecycle action\'s completion (p50 / p99 of each, instances drained cleanly).',
    '',
    floorTable(shape, results),
    '',
    '### Ours: reconcile passes and what the controller logged',
    '',
    'The scheduled passes after the scale-in (the reconcile function): how many, how long, how',
    'many logged that they ran out of time and how many instances they left to the next pass.',
    '',
    passesTable(shape, results),
    '',
    `The most frequent log lines of ours at ${n} instances (structured JSON lines; \`events\` is the event function,`,
    '`reconcile` the pass), counted after the scale-in:',
    '',
    logTable(shape, results, n),
    '',
    ...[n, ...(baselineTop !== undefined && baselineTop !== n ? [baselineTop] : [])].flatMap(size => [
      `### Calls per operation at ${size} instances`,
      '',
      'Counted by the emulator (`emulator.stats`), after the scale-in: calls (of which throttled) and per drained instance.',
      '',
      operationsTable(results, size),
      '',
    ]),
    '## Targets',
    '',
    `### A whole cluster at the quota (at n=${n} unless said)`,
    '',
    markdownTable(['target', 'goal', 'measured', 'result'], targetRows(quotaTargets(shape, results))),
    '',
    `### Against the baseline (at the largest size the baseline ran${baselineTop !== undefined ? `: ${baselineTop}` : ''})`,
    '',
    markdownTable(['target', 'goal', 'measured', 'result'], targetRows(baselineTargets(shape, results, bundleBytes, coldInit))),
    '',
    '## Reading the results',
    '',
    ...notes(shape, results),
    '',
    '## The reaction floor',
    '',
    '`sim/bench/reaction-floor.ts`, tested in `test/bench/reaction-floor.test.ts`. Per drain, once its instance is empty',
    '(its last task STOPPED at r), a drainer needs at least: reads that prove it empty, at or after r; one',
    `DeregisterContainerInstance, after the reads' answer and not before r + ${DEFAULT_DEREGISTRATION_LAG_MS / 1000} s (the emulator's deregistration lag: ECS still`,
    'counts a task that just stopped); one CompleteLifecycleAction, after the deregistration\'s answer. A call that',
    `follows another's answer comes at least ${shape.latencyMs[0]} ms later (the least API latency). Reads are counted as one call of the`,
    'ECS read bucket per 100 drains (DescribeContainerInstances and DescribeTasks take 100 ARNs; a real proof needs',
    'more: the counts and every task\'s lastStatus), so the count can only be too low. The floor of the p99 is computed',
    'for each bucket alone (the other two infinitely fast; the read bucket relaxed to one token per drain at 100 times',
    'the size and rate): the least R such that 99 % of the drains (nearest rank) can have a reaction ≤ R, which a',
    'schedule finds that takes the drains in the order they became empty, each at its bucket\'s earliest token, and',
    'leaves out those that would be late (a controller may sacrifice the slowest 1 %). Each relaxation admits every',
    'real schedule, so the largest of the three is a true lower bound. The buckets start full and the calls made',
    'before a drain ends (DRAINING, the drain record) are not counted: both only lower the floor. The floor uses the',
    'case\'s own drain-end times, which the drainer shapes too (when it sets DRAINING).',
    '',
    '## Throttling',
    '',
    'Token buckets per operation group, per account and Region, refilled continuously in virtual time',
    '(`sim/emulator/throttling.ts`). A call finding its bucket empty gets `ThrottlingException` and is counted.',
    '',
    markdownTable(['bucket', 'capacity (burst)', 'refill / s', 'operations', 'source'], bucketRows),
    '',
    'Other operations share a bucket of 50, refilling 20/s.',
    '',
    '## API latency model',
    '',
    `Every API response is delayed by a latency drawn uniformly from ${shape.latencyMs[0]}–${shape.latencyMs[1]} ms of virtual time per call`,
    '(the emulator\'s `latencyMs` fault option, from its seeded fault stream), so a handler\'s busy time includes',
    'realistic round trips. EventBridge delivers in 50–500 ms, Lambda\'s async queue starts an invocation 10–100 ms',
    'after delivery (sim/runtime). The handler\'s own CPU time is not counted: it is real time, which does not move',
    'the virtual clock.',
    '',
    '## Handler cost',
    '',
    `- Bundle \`assets/lambda/drain-controller.lambda/index.js\`: ${bundleBytes.toLocaleString('en-US')} bytes (minified, AWS SDK v3 clients included).`,
    '- Cold initialisation (`require` of the bundle in a fresh `node` process with the function\'s environment set,',
    `  from a copy outside the repository; process start-up excluded): median ${fmt(coldInit.medianMs, 1)} ms, min ${fmt(coldInit.minMs, 1)} ms,`,
    `  max ${fmt(coldInit.maxMs, 1)} ms over ${coldInit.runs.length} runs (${coldInit.runs.map(r => r.toFixed(1)).join(', ')}). Measured on this machine's`,
    `  Node ${process.version}; the function runs on nodejs24.x in AWS.`,
    '',
    '## Machine',
    '',
    `- CPU: ${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version} on ${os.platform()} ${os.release()} (${os.arch()})`,
    '',
    '## Reproduce',
    '',
    '```sh',
    'npx projen bench                      # synthesizes the example, then all sizes (1, 10, 100, 1000, 5000)',
    'npx projen bench -- --sizes 5000      # the quota alone: ours, both event modes',
    'npx projen bench -- --sizes 1,10      # a quick run',
    'npx projen bench -- --seed 2 --jobs 1 # another seed, one case at a time',
    '# without projen: npx projen synth:example && npx ts-node --transpile-only --project test/tsconfig.json sim/bench.ts',
    '```',
    '',
    `Options: \`--sizes\`, \`--seed\`, \`--modes events,ecs-events-lost\`, \`--latency ${shape.latencyMs.join(',')}\`, \`--jobs\`, \`--init-runs\`,`,
    `\`--baseline-max ${shape.baselineMaxInstances}\`, \`--assembly cdk.out\`, \`--out BENCHMARKS.md\`. The same seed gives the same simulated figures, up to the SDK's retry jitter.`,
    '',
    'The last line printed, `BENCH …`: `failed`, `premature` and `late_actions` (lifecycle actions that reached their',
    'hook\'s timeout) count ours at every size and mode of the run, `denied` every case of both strategies; the command',
    'exits non-zero when one of them is not 0 (or a case of ours did not finish). `p99_reaction_s`, `reaction_floor_s`,',
    '`api_calls_per_instance` and `busy_s_per_instance` are ours at the largest size, events flowing; `n100_api_ratio`',
    'and `n100_busy_ratio` ours / baseline at n=100, events flowing (`n/a` when n=100 was not run).',
    '',
    '```',
    benchLine(shape, results),
    '```',
    '',
  ];
  return lines.join('\n');
}

/** Data-driven remarks: what the figures at each size do and do not say. */
function notes(shape: RunShape, results: CaseResult[]): string[] {
  const out: string[] = [];
  for (const n of shape.sizes) {
    for (const mode of shape.modes) {
      const base = find(results, 'baseline', n, mode);
      if (!base || base.failedDrains === 0) continue;
      out.push(`- **The baseline gave up at ${n} instances (${mode})**: ${base.failedDrains} of ${base.instances} drains failed. `
        + `${base.throttled} of its ${base.apiCalls} calls were throttled; ${base.invocationErrors} invocations failed after the SDK's `
        + `5 attempts, Lambda retried them twice, and ${base.failureRecords} events ended at the on-failure destination. Those instances `
        + 'were never set DRAINING (or never polled again) and Auto Scaling terminated them when the hook timed out (default result '
        + `CONTINUE), ${base.releasedWithTasks} with tasks still running: at the drain deadline, so not counted as premature, but every `
        + 'one a failed drain. Its calls and busy seconds per instance at this size are those of a drainer that stopped early: '
        + 'ratios against them flatter the baseline.');
    }
  }
  const skipped = shape.sizes.filter(size => size > shape.baselineMaxInstances);
  if (skipped.length > 0) {
    const top = largestBaselineSize(shape, results);
    const failedAtTop = top === undefined ? [] : shape.modes.map(m => find(results, 'baseline', top, m)).filter((r): r is CaseResult => r !== undefined);
    out.push(`- **The baseline stops at ${shape.baselineMaxInstances} instances** (\`--baseline-max\`): not run at ${skipped.join(', ')}. `
      + (failedAtTop.length > 0
        ? `At ${top} it already failed ${failedAtTop.map(r => `${r.failedDrains} of ${r.instances} drains (${r.spec.events})`).join(' and ')}; `
        : '')
      + 'one invocation per instance polling every 10 s for up to 15 minutes, at five times the size and against the same '
      + 'per-account buckets, would fail more of them and say nothing new, while its thousands of concurrent 15-minute '
      + 'invocations would cost most of the run\'s real time. The comparison with the baseline is made where it completes '
      + 'every drain (n=100).');
  }
  const n = largestSize(shape);
  for (const mode of shape.modes) {
    const ours = find(results, 'ours', n, mode);
    if (!ours) continue;
    const perInst = (op: string) => (ours.callsByOperation[op] ?? 0) / ours.instances;
    const repeated = ['autoscaling:CompleteLifecycleAction', 'ecs:DeregisterContainerInstance', 'ecs:UpdateContainerInstancesState', 'ecs:PutAttributes']
      .filter(op => perInst(op) > 1.05).map(op => `${op.split(':')[1]} ${fmt(perInst(op), 2)}`);
    if (repeated.length > 0) {
      out.push(`- **Ours at ${n} instances (${mode}) repeats per-instance writes**: ${repeated.join(', ')} calls per instance where one `
        + 'would do: several invocations (the lifecycle action, ECS events, the reconcile pass, Lambda retries) reach the same '
        + 'finished drain and each completes or deregisters it again (the second answer is treated as success). See the per-operation table.');
    }
  }
  for (const size of shape.sizes) {
    for (const mode of shape.modes) {
      const ours = find(results, 'ours', size, mode);
      if (!ours || size < 1000) continue;
      out.push(floorNote(ours));
    }
  }
  out.push('- **Execution environments.** The simulated Lambda runtime gives each invocation running at the same time its own '
    + 'execution environment (its own copy of the bundle: SDK clients, connection pool, retry state), reused once idle, as '
    + 'AWS does, up to the account\'s 1,000 concurrent executions. Ours reaches its event function through the event queue, '
    + 'in batches of up to 100 messages and at most 5 batches at once, so a scale-in starts few '
    + 'environments (see the invocations table); the baseline is invoked once per lifecycle action, and a 1,000-instance scale-in starts about as many. '
    + 'Ours retries an event-driven call twice, then leaves the instance to the reconcile pass (which batches its calls, '
    + 'retries ECS calls with back-off and paces its Auto Scaling calls), so a burst of events does not turn into a storm '
    + 'of retries; the '
    + 'baseline retries each call up to 5 times per invocation.');
  const rss = shape.sizes.flatMap(size => shape.modes.map(m => find(results, 'ours', size, m))).filter((r): r is CaseResult => r !== undefined);
  if (rss.length > 0) {
    const top = rss.reduce((a, b) => (b.peakRssMb > a.peakRssMb ? b : a));
    out.push(`- **Memory.** The largest case of ours peaked at ${top.peakRssMb.toFixed(0)} MiB (n=${top.spec.instances}, ${top.spec.events}): `
      + 'most of it is the execution environments\' copies of the bundle (one module instance each, ~1,000 at the top sizes), '
      + 'so memory grows with the concurrency reached, not with the cluster size.');
  }
  out.push('- **Ordering noise.** Figures come from a seeded simulation, but the SDK\'s retry jitter uses `Math.random`, so '
    + 'throttled runs differ slightly from run to run (a few percent at 1,000 instances and more).');
  return out;
}

/** At the large sizes: the measured p99 against the floor, which bucket binds, and where the reaction goes. */
function floorNote(ours: CaseResult): string {
  const f = ours.reactionFloor;
  const mode = ours.spec.events;
  const completes = (ours.callsByOperation['autoscaling:CompleteLifecycleAction'] ?? 0) / ours.instances;
  const completesThrottled = ours.throttledByOperation['autoscaling:CompleteLifecycleAction'] ?? 0;
  const deregisters = (ours.callsByOperation['ecs:DeregisterContainerInstance'] ?? 0) / ours.instances;
  const lifecycle = AUTOSCALING_THROTTLING_GROUPS.lifecycle;
  const modify = ECS_THROTTLING_GROUPS['cluster-resource-modify'];
  const ratioToFloor = ours.reactionP99Seconds / f.seconds;
  return `- **Reaction at ${ours.spec.instances} instances (${mode})**: p99 ${fmt(ours.reactionP99Seconds, 1)} s against a floor of `
    + `${fmt(f.seconds, 1)} s (${fmt(ratioToFloor, 2)} ×), bound by the ${f.binding} bucket. Up to ${ours.peakEmptiedPerMinute} `
    + `instances became empty within one minute (the ${DEREGISTRATION_DELAY_SECONDS} s deregistration delay ends for most of them together), `
    + `while Auto Scaling's lifecycle bucket (our assumption) completes ${lifecycle.refillPerSecond}/s after a burst of ${lifecycle.capacity} `
    + `and ECS's modify bucket deregisters ${modify.refillPerSecond}/s: that queue is the floor. Ours took p99 `
    + `${fmt(ours.toDeregistrationP99Seconds, 1)} s from the last task's stop to the deregistration and ${fmt(ours.deregistrationToCompletionP99Seconds, 1)} s `
    + `from there to the completion (p50 ${fmt(ours.toDeregistrationP50Seconds, 1)} s and ${fmt(ours.deregistrationToCompletionP50Seconds, 1)} s), `
    + `with ${fmt(completes, 2)} CompleteLifecycleAction (${completesThrottled} throttled) and ${fmt(deregisters, 2)} DeregisterContainerInstance `
    + 'calls per instance: every call beyond one per drain spends a token of a bucket the floor already counts as full.';
}

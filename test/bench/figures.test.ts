/**
 * The bench's summary (sim/bench/figures.ts) on made-up case results: the BENCH line's fields,
 * what counts as a failure (the command's exit code), and the baseline's absence above its size.
 */
import { CaseResult, CaseSpec } from '../../sim/bench/case';
import { benchLine, failuresOf, hasFailures, modeTable, RunShape } from '../../sim/bench/figures';

const SHAPE: RunShape = { sizes: [100, 5000], modes: ['events', 'ecs-events-lost'], seed: 1, jobs: 2, latencyMs: [20, 80], baselineMaxInstances: 1000 };

function result(spec: Partial<CaseSpec>, figures: Partial<CaseResult> = {}): CaseResult {
  const fullSpec: CaseSpec = { strategy: 'ours', instances: 100, events: 'events', seed: 1, assembly: 'cdk.out', latencyMs: [20, 80], ...spec };
  return {
    spec: fullSpec,
    outcome: 'done',
    instances: fullSpec.instances,
    apiCalls: 10 * fullSpec.instances,
    throttled: 0,
    callsByOperation: {},
    throttledByOperation: {},
    failedDrains: 0,
    lifecycleTimeouts: 0,
    forced: 0,
    premature: 0,
    releasedWithTasks: 0,
    reactionP50Seconds: 5.5,
    reactionP99Seconds: 6,
    reactionSamples: fullSpec.instances,
    toDeregistrationP50Seconds: 5.4,
    toDeregistrationP99Seconds: 5.9,
    deregistrationToCompletionP50Seconds: 0.1,
    deregistrationToCompletionP99Seconds: 0.1,
    reactionFloor: { seconds: 5.02, binding: 'lag', byBucket: { read: 5.02, modify: 5.02, lifecycle: 5.02 }, drains: fullSpec.instances },
    busySeconds: fullSpec.instances,
    invocations: fullSpec.instances,
    invocationErrors: 0,
    invocationTimeouts: 0,
    failureRecords: 0,
    denied: 0,
    peakEmptiedPerMinute: 0,
    scaleInSeconds: 600,
    realSeconds: 1,
    simulatedSeconds: 600,
    peakRssMb: 100,
    logCounts: {},
    passes: { count: 10, p50Seconds: 2, maxSeconds: 3, outOfTime: 0, deferred: 0 },
    lambda: { environments: 10, throttles: 0, peakConcurrency: 10 },
    driver: { advances: 1000, turns: 5000 },
    ...figures,
  };
}

const BASE_100 = result({ strategy: 'baseline' }, { apiCalls: 8000, busySeconds: 40_000 });
const OURS_5000 = result({ instances: 5000 }, {
  apiCalls: 40_000,
  busySeconds: 8_000,
  reactionP99Seconds: 600,
  reactionFloor: { seconds: 480, binding: 'lifecycle', byBucket: { read: 5.02, modify: 130, lifecycle: 480 }, drains: 5000 },
});

describe('bench figures', () => {
  test('the BENCH line: ours at the largest size (events), the n=100 ratios against the baseline', () => {
    const line = benchLine(SHAPE, [result({}), BASE_100, OURS_5000, result({ instances: 5000, events: 'ecs-events-lost' })]);
    expect(line).toBe('BENCH n=5000 failed=0 premature=0 denied=0 late_actions=0 p99_reaction_s=600.0 reaction_floor_s=480.0 '
      + 'api_calls_per_instance=8.00 busy_s_per_instance=1.60 n100_api_ratio=0.125 n100_busy_ratio=0.0025');
  });

  test('n=100 not run: the ratios are n/a', () => {
    expect(benchLine({ ...SHAPE, sizes: [5000] }, [OURS_5000])).toMatch(/ n100_api_ratio=n\/a n100_busy_ratio=n\/a$/);
  });

  test('failures: ours at every size and mode, IAM refusals of either strategy; none means exit 0', () => {
    const clean = [result({}), BASE_100, OURS_5000];
    expect(hasFailures(failuresOf(clean))).toBe(false);
    const failing = [
      result({}, { failedDrains: 2, lifecycleTimeouts: 1 }),
      result({ strategy: 'baseline' }, { failedDrains: 50, denied: 3 }),
      result({ instances: 5000, events: 'ecs-events-lost' }, { premature: 1 }),
    ];
    const f = failuresOf(failing);
    expect(f).toEqual({ failed: 2, premature: 1, denied: 3, lateActions: 1, unfinished: 0 });
    expect(hasFailures(f)).toBe(true);
    expect(benchLine(SHAPE, failing)).toMatch(/^BENCH n=5000 failed=2 premature=1 denied=3 late_actions=1 /);
    // The baseline's own failed drains are its result, not a failure of the run.
    expect(hasFailures(failuresOf([result({ strategy: 'baseline' }, { failedDrains: 900 })]))).toBe(false);
    expect(hasFailures(failuresOf([result({}, { outcome: 'limit' })]))).toBe(true);
  });

  test('above --baseline-max the table says the baseline was not run', () => {
    const table = modeTable(SHAPE, [result({}), BASE_100, OURS_5000], 'events');
    expect(table).toContain('| 100 | ours / baseline | 0.125 |');
    expect(table).toContain('| 5000 | baseline not run above 1000 |');
    expect(table).toContain('| 5000 | ours | 8.00 |');
  });
});

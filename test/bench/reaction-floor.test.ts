/**
 * The reaction floor (sim/bench/reaction-floor.ts) on cases small enough to check by hand, and
 * its one non-obvious claim (leaving out the drains that would be late, in end order, meets the
 * most deadlines) against every subset of small random cases.
 */
import { FloorTokenBucket, onTimeCount, reactionFloor, ReactionFloorInput, Stage } from '../../sim/bench/reaction-floor';
import { AUTOSCALING_THROTTLING_GROUPS, ECS_THROTTLING_GROUPS } from '../../sim/emulator/throttling';

/** A bucket that never delays anything in these cases. */
const UNLIMITED = { capacity: 1e9, refillPerSecond: 1e9 };

function input(overrides: Partial<ReactionFloorInput>): ReactionFloorInput {
  return {
    drainEndsMs: [0],
    deregistrationLagMs: 0,
    minLatencyMs: 0,
    read: UNLIMITED,
    modify: UNLIMITED,
    lifecycle: UNLIMITED,
    drainsPerRead: 100,
    percentile: 1,
    ...overrides,
  };
}

describe('reaction floor', () => {
  test('one drain under the bench buckets: the deregistration lag plus one latency, no bucket binding', () => {
    const floor = reactionFloor({
      drainEndsMs: [1_000_000],
      deregistrationLagMs: 5_000,
      minLatencyMs: 20,
      read: ECS_THROTTLING_GROUPS['cluster-resource-read'],
      modify: ECS_THROTTLING_GROUPS['cluster-resource-modify'],
      lifecycle: AUTOSCALING_THROTTLING_GROUPS.lifecycle,
      drainsPerRead: 100,
      percentile: 0.99,
    });
    expect(floor.seconds).toBeCloseTo(5.02, 6);
    expect(floor.binding).toBe('lag');
    expect(floor.drains).toBe(1);
  });

  test('lifecycle bucket of one token, one a second: three drains ending together complete at 0, 1 and 2 s', () => {
    const lifecycle = { capacity: 1, refillPerSecond: 1 };
    const all = reactionFloor(input({ drainEndsMs: [0, 0, 0], lifecycle, percentile: 1 }));
    expect(all.seconds).toBeCloseTo(2, 5);
    expect(all.binding).toBe('lifecycle');
    // p = 2/3: two of three must be in time (nearest rank), the second completion is at 1 s.
    expect(reactionFloor(input({ drainEndsMs: [0, 0, 0], lifecycle, percentile: 2 / 3 })).seconds).toBeCloseTo(1, 5);
  });

  test('a burst of two tokens then one a second: reactions 0, 0, 1, 2 s', () => {
    const lifecycle = { capacity: 2, refillPerSecond: 1 };
    expect(reactionFloor(input({ drainEndsMs: [0, 0, 0, 0], lifecycle, percentile: 1 })).seconds).toBeCloseTo(2, 5);
    expect(reactionFloor(input({ drainEndsMs: [0, 0, 0, 0], lifecycle, percentile: 0.75 })).seconds).toBeCloseTo(1, 5);
    expect(reactionFloor(input({ drainEndsMs: [0, 0, 0, 0], lifecycle, percentile: 0.5 })).seconds).toBeCloseTo(0, 5);
  });

  test('a percentile lets the slowest drain be sacrificed: ends 0, 0 and 0.9 s, two of three within 0.1 s', () => {
    // In end order, none left out, the reactions would be 0, 1 and 1.1 s (the second-best 1 s);
    // leaving the second drain for last serves the first at 0 s and the third at 1 s (0.1 s).
    const floor = reactionFloor(input({ drainEndsMs: [900, 0, 0], lifecycle: { capacity: 1, refillPerSecond: 1 }, percentile: 2 / 3 }));
    expect(floor.seconds).toBeCloseTo(0.1, 5);
  });

  test('the modify bucket after the deregistration lag: two drains ending together deregister at 5 and 6 s', () => {
    const floor = reactionFloor(input({ drainEndsMs: [0, 0], deregistrationLagMs: 5_000, modify: { capacity: 1, refillPerSecond: 1 } }));
    expect(floor.seconds).toBeCloseTo(6, 5);
    expect(floor.binding).toBe('modify');
    expect(floor.byBucket.lifecycle).toBeCloseTo(5, 5);
  });

  test('the latency chains the calls: the completion follows the deregistration answer by one latency', () => {
    // Deregistrations at 5 s and 6 s (modify bucket), completions one latency (50 ms) later.
    const floor = reactionFloor(input({
      drainEndsMs: [0, 0], deregistrationLagMs: 5_000, minLatencyMs: 50, modify: { capacity: 1, refillPerSecond: 1 },
    }));
    expect(floor.seconds).toBeCloseTo(6.05, 5);
  });

  test('reads count one call per 100 drains, relaxed into a bucket 100 times as large: 250 drains, one read token a second', () => {
    // Relaxed: 100 drains at 0 s, then 100 a second: the 250th at 1.5 s. (Three real reads at 0, 1
    // and 2 s would make it 2 s: the relaxation stays below.)
    const floor = reactionFloor(input({ drainEndsMs: Array(250).fill(0), read: { capacity: 1, refillPerSecond: 1 } }));
    expect(floor.seconds).toBeCloseTo(1.5, 5);
    expect(floor.binding).toBe('read');
  });

  test('no drains: 0', () => {
    expect(reactionFloor(input({ drainEndsMs: [] })).seconds).toBe(0);
  });

  test('the token bucket refills continuously up to its capacity', () => {
    const bucket = new FloorTokenBucket({ capacity: 2, refillPerSecond: 4 }, 0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.earliest(0)).toBeCloseTo(250, 6);
    bucket.take(250);
    // Long idle: back to the capacity of 2, not more.
    expect(bucket.earliest(10_000)).toBe(10_000);
    bucket.take(10_000);
    bucket.take(10_000);
    expect(bucket.earliest(10_000)).toBeCloseTo(10_250, 6);
  });

  test('in end order, leaving out late drains meets as many deadlines as the best subset (exhaustive, small cases)', () => {
    const random = lcg(20261128);
    for (let trial = 0; trial < 400; trial++) {
      const n = 1 + Math.floor(random() * 7);
      const ends = Array.from({ length: n }, () => Math.floor(random() * 4) * 500).sort((a, b) => a - b);
      const stage: Stage = {
        bucket: { capacity: 1 + Math.floor(random() * 3), refillPerSecond: [0.5, 1, 2][Math.floor(random() * 3)] },
        earliestAfterEndMs: Math.floor(random() * 3) * 100,
        afterCallMs: Math.floor(random() * 2) * 50,
        leastReactionMs: 0,
      };
      const reaction = Math.floor(random() * 3000);
      expect(onTimeCount(ends, stage, reaction)).toBe(bestSubsetCount(ends, stage, reaction));
    }
  });
});

/** The largest subset of drains that all meet the deadline when served in end order, each at its earliest token. */
function bestSubsetCount(ends: number[], stage: Stage, reactionMs: number): number {
  let best = 0;
  for (const chosen of subsets(ends)) {
    if (chosen.length <= best) continue;
    const bucket = new FloorTokenBucket(stage.bucket, ends[0] + stage.earliestAfterEndMs);
    const allInTime = chosen.every(end => {
      const at = bucket.earliest(end + stage.earliestAfterEndMs);
      bucket.take(at);
      return at + stage.afterCallMs - end <= reactionMs;
    });
    if (allInTime) best = chosen.length;
  }
  return best;
}

/** Every subset, each in the order of `items`. */
function subsets<T>(items: T[]): T[][] {
  if (items.length === 0) return [[]];
  const rest = subsets(items.slice(1));
  return [...rest, ...rest.map(s => [items[0], ...s])];
}

/** A small deterministic generator (Park and Miller's minimal standard), so a failure repeats. */
function lcg(seed: number): () => number {
  let state = seed % 2147483647;
  return () => {
    state = (state * 16807) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

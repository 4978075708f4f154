/**
 * The reaction floor: under the emulator's token buckets (sim/emulator/throttling.ts),
 * no drain controller can complete N drains faster than the calls it cannot avoid allow. Per
 * drain, after its instance became empty (its last task STOPPED, at `r`):
 * - reads that prove it empty, at or after `r`: counted as one call of the ECS read bucket per
 *   `drainsPerRead` drains (100: DescribeContainerInstances and DescribeTasks take 100 ARNs), the
 *   best batching there is; a real proof needs more (the counts and every task's lastStatus), so
 *   counting fewer keeps the floor below what any controller can reach;
 * - one DeregisterContainerInstance (ECS modify bucket), after the read's answer and not before
 *   `r + deregistrationLagMs` (ECS still counts a task that just stopped, sim/README.md);
 * - one CompleteLifecycleAction (Auto Scaling lifecycle bucket), after the deregistration's answer.
 * A call that follows another's answer comes at least `minLatencyMs` later (the least response
 * latency of the bench's latency model). The reaction is completion minus `r`, as the bench
 * measures it (sim/runtime/report.ts).
 *
 * The floor of the percentile reaction is computed per bucket on a relaxation of the problem,
 * which is what makes it a lower bound:
 * - Each bucket alone, the other two infinitely fast: a drain's call to that bucket may go at
 *   its earliest (`r` plus the fixed waits before it) and its reaction is at least the call's
 *   time plus the fixed waits after it. Any real schedule is also a schedule of each relaxed
 *   problem, so its percentile is at least each relaxed optimum, hence at least their maximum.
 * - Reads: a token that proves 100 drains is relaxed into 100 tokens of a bucket 100 times as
 *   large and as fast, one per drain (every real read schedule fits into it).
 * - Percentile, not maximum: a controller may sacrifice the slowest 1 % to serve the rest sooner,
 *   so the relaxed optimum is the least R such that at least ceil(p × N) drains can have a
 *   reaction ≤ R (the nearest-rank percentile the bench reports). For unit calls with release
 *   times and deadlines in the same order (every drain has the same R), taking the drains in
 *   the order they became empty, each at its bucket's earliest token, and leaving out a drain
 *   that would miss its deadline, meets the most deadlines; test/bench/reaction-floor.test.ts
 *   checks that against every subset on small cases. R is found by bisection.
 * The buckets start full at the first drain's end (the most favourable assumption), and the calls
 * every drain makes before its instance is empty (setting it DRAINING, recording the drain) are
 * not counted: both only lower the floor.
 */
import { BucketSpec } from '../emulator/throttling';

export type FloorBucket = 'read' | 'modify' | 'lifecycle';

export interface ReactionFloorInput {
  /** When each drain's instance became empty (its last task STOPPED), ms. */
  readonly drainEndsMs: readonly number[];
  /** How long after a task's stop DeregisterContainerInstance without force is still refused, ms. */
  readonly deregistrationLagMs: number;
  /** The least response latency of one API call, ms. */
  readonly minLatencyMs: number;
  /** ECS cluster-resource-read bucket. */
  readonly read: BucketSpec;
  /** ECS cluster-resource-modify bucket. */
  readonly modify: BucketSpec;
  /** Auto Scaling lifecycle bucket. */
  readonly lifecycle: BucketSpec;
  /** Drains one read can prove empty at best. */
  readonly drainsPerRead: number;
  /** The percentile of the reaction, e.g. 0.99. */
  readonly percentile: number;
}

export interface ReactionFloor {
  /** The floor of the percentile reaction, seconds: the largest of the per-bucket floors. */
  readonly seconds: number;
  /** The bucket whose floor it is; `lag` when no bucket delays any drain (the floor is the deregistration lag plus one latency). */
  readonly binding: FloorBucket | 'lag';
  /** Each bucket's floor, seconds. */
  readonly byBucket: Readonly<Record<FloorBucket, number>>;
  /** Drains counted (N). */
  readonly drains: number;
}

/** One relaxed bucket: where a drain's call may go at the earliest, and what follows it. */
export interface Stage {
  readonly bucket: BucketSpec;
  /** The call goes no earlier than the drain's end plus this, ms. */
  readonly earliestAfterEndMs: number;
  /** The reaction is at least the call's time plus this, minus the drain's end, ms. */
  readonly afterCallMs: number;
  /** No reaction is below this, whatever the bucket does, ms. */
  readonly leastReactionMs: number;
}

export function reactionFloor(input: ReactionFloorInput): ReactionFloor {
  const ends = [...input.drainEndsMs].sort((a, b) => a - b);
  const lag = input.deregistrationLagMs;
  const latency = input.minLatencyMs;
  // Chain per drain: read ≥ r; deregister ≥ max(read + L, r + lag); complete ≥ deregister + L.
  const stages: Record<FloorBucket, Stage> = {
    read: {
      bucket: { capacity: input.read.capacity * input.drainsPerRead, refillPerSecond: input.read.refillPerSecond * input.drainsPerRead },
      earliestAfterEndMs: 0,
      // complete ≥ read + 2L; the lag's bound (lag + L) applies anyway.
      afterCallMs: 2 * latency,
      leastReactionMs: lag + latency,
    },
    modify: { bucket: input.modify, earliestAfterEndMs: lag, afterCallMs: latency, leastReactionMs: lag + latency },
    lifecycle: { bucket: input.lifecycle, earliestAfterEndMs: lag + latency, afterCallMs: 0, leastReactionMs: lag + latency },
  };
  const byBucket = {} as Record<FloorBucket, number>;
  for (const name of Object.keys(stages) as FloorBucket[]) {
    byBucket[name] = percentileFloorMs(ends, stages[name], input.percentile) / 1000;
  }
  const slowest = (Object.keys(byBucket) as FloorBucket[]).reduce((a, b) => (byBucket[b] > byBucket[a] ? b : a));
  const seconds = byBucket[slowest];
  const binding = seconds * 1000 <= lag + latency ? 'lag' : slowest;
  return { seconds, binding, byBucket, drains: ends.length };
}

/** Bisection stops this close (ms) to the least feasible R, below it: the floor never overstates. */
const PRECISION_MS = 0.001;

/**
 * The least R (ms) such that at least ceil(p × N) of the drains ending at `sortedEnds` can each
 * have a reaction ≤ R through this one bucket, or at most PRECISION_MS below it. 0 for no drains.
 */
export function percentileFloorMs(sortedEnds: readonly number[], stage: Stage, percentile: number): number {
  if (sortedEnds.length === 0) return 0;
  const needed = Math.min(sortedEnds.length, Math.max(1, Math.ceil(percentile * sortedEnds.length)));
  let low = stage.leastReactionMs;
  if (onTimeCount(sortedEnds, stage, low) >= needed) return low;
  // Every drain in turn, none left out: the largest reaction then is enough for all of them.
  let high = Math.max(low, fifoMaxReactionMs(sortedEnds, stage));
  while (high - low > PRECISION_MS) {
    const middle = (low + high) / 2;
    if (onTimeCount(sortedEnds, stage, middle) >= needed) high = middle;
    else low = middle;
  }
  // `low` is not feasible: the least feasible R lies in (low, high].
  return low;
}

/** How many drains can have a reaction ≤ `reactionMs`: in end order, each at its earliest token, left out if late. */
export function onTimeCount(sortedEnds: readonly number[], stage: Stage, reactionMs: number): number {
  if (reactionMs < stage.leastReactionMs) return 0;
  const bucket = new FloorTokenBucket(stage.bucket, sortedEnds[0] + stage.earliestAfterEndMs);
  let count = 0;
  for (const end of sortedEnds) {
    const at = bucket.earliest(end + stage.earliestAfterEndMs);
    if (at + stage.afterCallMs - end <= reactionMs) {
      bucket.take(at);
      count++;
    }
  }
  return count;
}

function fifoMaxReactionMs(sortedEnds: readonly number[], stage: Stage): number {
  const bucket = new FloorTokenBucket(stage.bucket, sortedEnds[0] + stage.earliestAfterEndMs);
  let worst = 0;
  for (const end of sortedEnds) {
    const at = bucket.earliest(end + stage.earliestAfterEndMs);
    bucket.take(at);
    worst = Math.max(worst, at + stage.afterCallMs - end);
  }
  return worst;
}

/** A token bucket as the emulator's (continuous refill, capped at the capacity), asked in time order. */
export class FloorTokenBucket {
  private tokens: number;

  constructor(private readonly spec: BucketSpec, private at: number) {
    this.tokens = spec.capacity;
  }

  /** The first moment at or after `notBefore` (and after the last token taken) with a token. */
  earliest(notBefore: number): number {
    const t = Math.max(notBefore, this.at);
    const available = this.tokensAt(t);
    // A hair of tolerance: refill arithmetic in floating point lands just below 1.
    if (available >= 1 - 1e-9) return t;
    return t + ((1 - available) / this.spec.refillPerSecond) * 1000;
  }

  /** Takes one token at `t` (not before the last one taken; a token must be there). */
  take(t: number): void {
    this.tokens = Math.max(0, this.tokensAt(t) - 1);
    this.at = t;
  }

  private tokensAt(t: number): number {
    return Math.min(this.spec.capacity, this.tokens + ((t - this.at) / 1000) * this.spec.refillPerSecond);
  }
}

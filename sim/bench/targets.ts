/**
 * The bench's targets with met or missed: a whole cluster at ECS's quota, and against the
 * baseline at the largest size the baseline runs.
 */
import { CaseResult } from './case';
import {
  COMPARISON_SIZE, ColdInit, comparisonRatio, failuresOf, find, fmt, largestBaselineSize, largestSize, perInstance, RunShape,
} from './figures';

export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly measured: string;
  /** undefined: shown for comparison, no target set. */
  readonly met: boolean | undefined;
  readonly note: string;
}

/** The bound on the real time of `bench --sizes 5000`. */
export const QUOTA_RUN_REAL_SECONDS = 20 * 60;
/** At the quota, the p99 reaction may exceed the floor by this factor at most. */
export const FLOOR_FACTOR = 1.25;

export function quotaTargets(shape: RunShape, results: CaseResult[]): Target[] {
  const out: Target[] = [];
  const n = largestSize(shape);
  const f = failuresOf(results);
  const zero = (name: string, measured: number, scope: string): Target => ({
    name: `${name} (${scope})`, goal: '0', measured: String(measured), met: measured === 0, note: measured === 0 ? '' : `${measured} too many`,
  });
  out.push(zero('failed drains', f.failed, 'ours, every size and mode'));
  out.push(zero('premature releases', f.premature, 'ours, every size and mode'));
  out.push(zero('IAM refusals', f.denied, 'every case, both strategies'));
  out.push(zero('lifecycle actions that reached the hook timeout', f.lateActions, 'ours, every size and mode'));
  for (const mode of shape.modes) {
    const ours = find(results, 'ours', n, mode);
    if (!ours) continue;
    const limit = FLOOR_FACTOR * ours.reactionFloor.seconds;
    const met = ours.reactionP99Seconds <= limit;
    out.push({
      name: `p99 reaction against the floor (n=${n}, ${mode === 'events' ? 'events flowing' : 'every ECS event lost'})`,
      goal: mode === 'events' ? `≤ ${FLOOR_FACTOR} × floor` : `(no target; ≤ ${FLOOR_FACTOR} × floor for comparison)`,
      measured: `${fmt(ours.reactionP99Seconds, 1)} s vs floor ${fmt(ours.reactionFloor.seconds, 1)} s (${fmt(ours.reactionP99Seconds / ours.reactionFloor.seconds, 2)} ×; limit ${fmt(limit, 1)} s)`,
      met: mode === 'events' ? met : undefined,
      note: met ? '' : `over by ${fmt(ours.reactionP99Seconds - limit, 1)} s; p99 from the last task's stop to the deregistration `
        + `${fmt(ours.toDeregistrationP99Seconds, 1)} s, from there to the completion ${fmt(ours.deregistrationToCompletionP99Seconds, 1)} s `
        + `(floor bound by the ${ours.reactionFloor.binding} bucket; see "Ours against the reaction floor")`,
    });
  }
  const at100 = (mode: 'events' | 'ecs-events-lost', limit: number) => {
    const ours = find(results, 'ours', COMPARISON_SIZE, mode);
    if (!ours) return;
    const met = ours.reactionP99Seconds <= limit;
    out.push({
      name: `p99 reaction (n=${COMPARISON_SIZE}, ${mode === 'events' ? 'events flowing' : 'every ECS event lost'})`,
      goal: `≤ ${limit} s`,
      measured: `${fmt(ours.reactionP99Seconds, 1)} s (floor ${fmt(ours.reactionFloor.seconds, 1)} s)`,
      met,
      note: met ? '' : ours.reactionFloor.seconds > limit
        ? `below the floor: no controller that deregisters can reach it (the floor, ${fmt(ours.reactionFloor.seconds, 2)} s, is the `
          + 'deregistration lag plus one API latency at this size)'
        : `over by ${fmt(ours.reactionP99Seconds - limit, 1)} s`,
    });
  };
  at100('events', 2);
  at100('ecs-events-lost', 70);
  const ratioTarget = (key: 'apiCalls' | 'busySeconds', goal: number, what: string) => {
    const r = comparisonRatio(results, key);
    if (r === undefined) return;
    const ours = find(results, 'ours', COMPARISON_SIZE, 'events')!;
    const base = find(results, 'baseline', COMPARISON_SIZE, 'events')!;
    const unit = key === 'busySeconds' ? ' s' : '';
    out.push({
      name: `${what} per drained instance (n=${COMPARISON_SIZE}, events flowing)`,
      goal: `≤ 1/${Math.round(1 / goal)} of the baseline`,
      measured: `${fmt(perInstance(ours, key), 2)}${unit} vs ${fmt(perInstance(base, key), 2)}${unit} (ratio ${fmt(r, key === 'busySeconds' ? 4 : 3)})`,
      met: r <= goal,
      note: r <= goal ? '' : `missed by ${fmt(r / goal, 2)}×`,
    });
  };
  ratioTarget('apiCalls', 0.1, 'API calls');
  ratioTarget('busySeconds', 0.05, 'Lambda busy seconds');
  const quota = shape.modes.map(m => find(results, 'ours', n, m)).filter((r): r is CaseResult => r !== undefined);
  if (n >= 5000 && quota.length > 0) {
    const slowest = Math.max(...quota.map(r => r.realSeconds));
    out.push({
      name: `real time of the n=${n} cases (what \`--sizes ${n}\` runs, ${shape.jobs} at a time)`,
      goal: `< ${QUOTA_RUN_REAL_SECONDS / 60} min`,
      measured: `${quota.map(r => `${r.realSeconds.toFixed(0)} s`).join(' and ')} (peak RSS ${quota.map(r => `${r.peakRssMb.toFixed(0)}`).join(' and ')} MiB)`,
      met: slowest < QUOTA_RUN_REAL_SECONDS,
      note: slowest < QUOTA_RUN_REAL_SECONDS ? '' : `over by ${(slowest - QUOTA_RUN_REAL_SECONDS).toFixed(0)} s`,
    });
  }
  return out;
}

export function baselineTargets(shape: RunShape, results: CaseResult[], bundleBytes: number, coldInit: ColdInit): Target[] {
  const out: Target[] = [];
  const n = largestBaselineSize(shape, results);
  const ours = n === undefined ? undefined : find(results, 'ours', n, 'events');
  const base = n === undefined ? undefined : find(results, 'baseline', n, 'events');
  const lost = n === undefined ? undefined : find(results, 'ours', n, 'ecs-events-lost');
  if (ours && base) {
    const callsRatio = perInstance(ours, 'apiCalls') / perInstance(base, 'apiCalls');
    out.push({
      name: `API calls per drained instance (n=${n}, events)`,
      goal: '≤ 1/10 of baseline',
      measured: `${fmt(perInstance(ours, 'apiCalls'), 2)} vs ${fmt(perInstance(base, 'apiCalls'), 2)} (ratio ${fmt(callsRatio, 3)})`,
      met: callsRatio <= 0.1,
      note: callsRatio <= 0.1 ? '' : `missed by ${fmt(callsRatio / 0.1, 2)}×${workingBaselineNote(shape, results, 'apiCalls')}`,
    });
    const busyRatio = perInstance(ours, 'busySeconds') / perInstance(base, 'busySeconds');
    out.push({
      name: `Lambda busy s per instance (n=${n}, events)`,
      goal: '≤ 1/20 of baseline',
      measured: `${fmt(perInstance(ours, 'busySeconds'), 2)} s vs ${fmt(perInstance(base, 'busySeconds'), 2)} s (ratio ${fmt(busyRatio, 4)})`,
      met: busyRatio <= 0.05,
      note: busyRatio <= 0.05 ? '' : `missed by ${fmt(busyRatio / 0.05, 2)}×${workingBaselineNote(shape, results, 'busySeconds')}; `
        + 'throttled calls wait out their back-off inside the invocation (see Reading the results)',
    });
  }
  if (ours) {
    out.push({
      name: `p99 reaction, events flowing (n=${n})`,
      goal: '≤ 5 s (at the top sizes the floor target replaces it)',
      measured: `${fmt(ours.reactionP99Seconds, 1)} s (floor ${fmt(ours.reactionFloor.seconds, 1)} s)`,
      met: ours.reactionP99Seconds <= 5,
      note: ours.reactionP99Seconds <= 5 ? '' : `missed by ${fmt(ours.reactionP99Seconds - 5, 1)} s (p50 ${fmt(ours.reactionP50Seconds, 1)} s; `
        + `${ours.throttled} throttled calls; throughput bound, see the floor)`,
    });
  }
  if (lost) {
    out.push({
      name: `p99 reaction, every ECS event lost (n=${n})`,
      goal: '≤ 70 s',
      measured: `${fmt(lost.reactionP99Seconds, 1)} s (floor ${fmt(lost.reactionFloor.seconds, 1)} s)`,
      met: lost.reactionP99Seconds <= 70,
      note: lost.reactionP99Seconds <= 70 ? '' : `missed by ${fmt(lost.reactionP99Seconds - 70, 1)} s (p50 ${fmt(lost.reactionP50Seconds, 1)} s; `
        + `${lost.throttled} throttled calls)`,
    });
  }
  out.push({
    name: 'handler bundle size',
    goal: '≤ 1 MB (1,000,000 bytes)',
    measured: `${bundleBytes.toLocaleString('en-US')} bytes`,
    met: bundleBytes <= 1_000_000,
    note: '',
  });
  out.push({
    name: 'handler cold init (median)',
    goal: '≤ 200 ms',
    measured: `${fmt(coldInit.medianMs, 1)} ms`,
    met: coldInit.medianMs <= 200,
    note: coldInit.medianMs <= 200 ? '' : `missed by ${fmt(coldInit.medianMs - 200, 1)} ms`,
  });
  return out;
}

export function targetRows(targets: Target[]): string[][] {
  return targets.map(t => [t.name, t.goal, t.measured, t.met === undefined ? '-' : t.met ? 'met' : `MISSED${t.note ? `: ${t.note}` : ''}`]);
}

/** Where the baseline still completed every drain, the same ratio (events flowing). */
function workingBaselineNote(shape: RunShape, results: CaseResult[], key: 'apiCalls' | 'busySeconds'): string {
  const sizes = shape.sizes.filter(n => {
    const base = find(results, 'baseline', n, 'events');
    return base !== undefined && base.failedDrains === 0 && find(results, 'ours', n, 'events') !== undefined;
  });
  const top = largestBaselineSize(shape, results);
  const largest = top === undefined ? undefined : find(results, 'baseline', top, 'events');
  if (sizes.length === 0 || !largest || largest.failedDrains === 0) return '';
  const n = Math.max(...sizes);
  const r = perInstance(find(results, 'ours', n, 'events')!, key) / perInstance(find(results, 'baseline', n, 'events')!, key);
  return `; the baseline gave up on ${largest.failedDrains} drains at this size; at n=${n}, where it completed all, the ratio is ${fmt(r, 3)}`;
}

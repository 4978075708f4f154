/**
 * What the bench's results say, shared by its console output and BENCHMARKS.md: lookups, the
 * per-size tables, the targets with met/missed, and the `BENCH` line.
 */
import { CaseResult, EventMode, Strategy } from './case';

/** Every event mode a run may ask for (`--modes`). */
export const MODES: EventMode[] = ['events', 'ecs-events-lost', 'busy-cluster'];
/** The modes of a run that names none (BENCHMARKS.md): `busy-cluster` is asked for by name. */
export const DEFAULT_MODES: EventMode[] = ['events', 'ecs-events-lost'];
export const STRATEGIES: Strategy[] = ['ours', 'baseline'];
/** The size at which the quota targets compare ours with the baseline (the baseline completes every drain there). */
export const COMPARISON_SIZE = 100;

/** What the report needs of the run's options. */
export interface RunShape {
  readonly sizes: number[];
  readonly modes: EventMode[];
  readonly seed: number;
  readonly jobs: number;
  readonly latencyMs: [number, number];
  /** The baseline runs up to this many instances. */
  readonly baselineMaxInstances: number;
}

export interface ColdInit { medianMs: number; minMs: number; maxMs: number; runs: number[] }

type PerInstance = 'apiCalls' | 'busySeconds' | 'throttled';

export function perInstance(r: CaseResult, key: PerInstance): number {
  return r.instances > 0 ? r[key] / r.instances : 0;
}

export function find(results: CaseResult[], strategy: Strategy, instances: number, events: EventMode): CaseResult | undefined {
  return results.find(r => r.spec.strategy === strategy && r.spec.instances === instances && r.spec.events === events);
}

export function largestSize(shape: RunShape): number {
  return Math.max(...shape.sizes);
}

/** The largest size the baseline ran at (undefined: none). */
export function largestBaselineSize(shape: RunShape, results: CaseResult[]): number | undefined {
  const sizes = shape.sizes.filter(n => results.some(r => r.spec.strategy === 'baseline' && r.spec.instances === n));
  return sizes.length > 0 ? Math.max(...sizes) : undefined;
}

// ---- per-size tables ----------------------------------------------------------------------------

interface Column {
  readonly title: string;
  /** undefined: not defined for this case ('-'). */
  readonly value: (r: CaseResult) => number | undefined;
  readonly digits: number;
}

const COLUMNS: Column[] = [
  { title: 'API calls / drained instance', value: r => perInstance(r, 'apiCalls'), digits: 2 },
  { title: 'throttled calls', value: r => r.throttled, digits: 0 },
  { title: 'failed drains', value: r => r.failedDrains, digits: 0 },
  { title: 'reaction p50 (s)', value: r => r.reactionP50Seconds, digits: 1 },
  { title: 'reaction p99 (s)', value: r => r.reactionP99Seconds, digits: 1 },
  // The floor is that of a drainer that deregisters (reaction-floor.ts): the baseline does not.
  { title: 'reaction floor p99 (s)', value: r => (r.spec.strategy === 'ours' ? r.reactionFloor.seconds : undefined), digits: 1 },
  { title: 'Lambda busy s / instance', value: r => perInstance(r, 'busySeconds'), digits: 2 },
  { title: 'scale-in done (s)', value: r => r.scaleInSeconds, digits: 0 },
  { title: 'premature releases', value: r => r.premature, digits: 0 },
];

export function modeTable(shape: RunShape, results: CaseResult[], mode: EventMode): string {
  const header = ['instances', 'strategy', ...COLUMNS.map(c => c.title)];
  const rows: string[][] = [];
  const cell = (c: Column, r: CaseResult) => {
    const value = c.value(r);
    return value === undefined ? '-' : fmt(value, c.digits);
  };
  for (const n of shape.sizes) {
    const ours = find(results, 'ours', n, mode);
    const base = find(results, 'baseline', n, mode);
    if (ours) rows.push([String(n), `ours${ours.outcome === 'done' ? '' : ` (${ours.outcome})`}`, ...COLUMNS.map(c => cell(c, ours))]);
    if (base) rows.push([String(n), `baseline${base.outcome === 'done' ? '' : ` (${base.outcome})`}`, ...COLUMNS.map(c => cell(c, base))]);
    if (ours && base) {
      rows.push([String(n), 'ours / baseline', ...COLUMNS.map(c => {
        const a = c.value(ours);
        const b = c.value(base);
        return a === undefined || b === undefined ? '-' : ratio(a, b);
      })]);
    }
    if (ours && !base && n > shape.baselineMaxInstances) rows.push([String(n), `baseline not run above ${shape.baselineMaxInstances}`, ...COLUMNS.map(() => '-')]);
  }
  return markdownTable(header, rows);
}

export function detailTable(shape: RunShape, results: CaseResult[], mode: EventMode): string {
  const header = ['instances', 'strategy', 'invocations', 'errors', 'timeouts', 'to on-failure', 'Lambda throttles', 'environments',
    'hook timed out', 'forced', 'released with tasks', 'reaction samples', 'real s', 'peak RSS (MiB)'];
  const rows: string[][] = [];
  for (const n of shape.sizes) {
    for (const s of STRATEGIES) {
      const r = find(results, s, n, mode);
      if (!r) continue;
      rows.push([String(n), s, String(r.invocations), String(r.invocationErrors), String(r.invocationTimeouts), String(r.failureRecords),
        String(r.lambda.throttles), String(r.lambda.environments), String(r.lifecycleTimeouts), String(r.forced), String(r.releasedWithTasks),
        String(r.reactionSamples), r.realSeconds.toFixed(1), r.peakRssMb.toFixed(0)]);
    }
  }
  return markdownTable(header, rows);
}

/** Ours against the reaction floor, per size and mode: where the reaction goes. */
export function floorTable(shape: RunShape, results: CaseResult[]): string {
  const header = ['instances', 'ECS events', 'reaction p99 (s)', 'floor p99 (s)', 'p99 / floor', 'binding bucket',
    'floor by bucket: read / modify / lifecycle (s)', 'to deregistration p50 / p99 (s)', 'deregistration → completion p50 / p99 (s)'];
  const rows: string[][] = [];
  for (const n of shape.sizes) {
    for (const mode of shape.modes) {
      const r = find(results, 'ours', n, mode);
      if (!r) continue;
      const f = r.reactionFloor;
      rows.push([String(n), mode === 'events' ? 'flowing' : 'all lost', fmt(r.reactionP99Seconds, 1), fmt(f.seconds, 1),
        fmt(r.reactionP99Seconds / f.seconds, 2), f.binding,
        `${fmt(f.byBucket.read, 1)} / ${fmt(f.byBucket.modify, 1)} / ${fmt(f.byBucket.lifecycle, 1)}`,
        `${fmt(r.toDeregistrationP50Seconds, 1)} / ${fmt(r.toDeregistrationP99Seconds, 1)}`,
        `${fmt(r.deregistrationToCompletionP50Seconds, 1)} / ${fmt(r.deregistrationToCompletionP99Seconds, 1)}`]);
    }
  }
  return markdownTable(header, rows);
}

/** Ours: the scheduled reconcile passes after the scale-in, per size and mode. */
export function passesTable(shape: RunShape, results: CaseResult[]): string {
  const header = ['instances', 'ECS events', 'passes', 'duration p50 (s)', 'duration max (s)', 'ran out of time', 'instances deferred (sum)'];
  const rows: string[][] = [];
  for (const n of shape.sizes) {
    for (const mode of shape.modes) {
      const r = find(results, 'ours', n, mode);
      if (!r) continue;
      const p = r.passes;
      rows.push([String(n), mode === 'events' ? 'flowing' : 'all lost', String(p.count), fmt(p.p50Seconds, 1), fmt(p.maxSeconds, 1),
        String(p.outOfTime), String(p.deferred)]);
    }
  }
  return markdownTable(header, rows);
}

/** Ours at one size: the most frequent log lines (function, level, message), per event mode. */
export function logTable(shape: RunShape, results: CaseResult[], n: number, top = 15): string {
  const cases = shape.modes.map(m => find(results, 'ours', n, m)).filter((r): r is CaseResult => r !== undefined);
  const totals = new Map<string, number>();
  for (const r of cases) for (const [key, count] of Object.entries(r.logCounts)) totals.set(key, (totals.get(key) ?? 0) + count);
  const keys = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, top).map(([key]) => key);
  const header = ['function level: message', ...cases.map(r => r.spec.events)];
  return markdownTable(header, keys.map(key => [key.replace(/\|/g, '\\|'), ...cases.map(r => String(r.logCounts[key] ?? 0))]));
}

export function operationsTable(results: CaseResult[], n: number): string {
  const cases = MODES.flatMap(m => STRATEGIES.map(s => find(results, s, n, m))).filter((r): r is CaseResult => r !== undefined);
  const operations = [...new Set(cases.flatMap(r => Object.keys(r.callsByOperation)))].sort();
  const header = ['operation', ...cases.map(r => `${r.spec.strategy}, ${r.spec.events}: calls (throttled)`)];
  const rows = operations.map(op => [op, ...cases.map(r => {
    const calls = r.callsByOperation[op] ?? 0;
    const throttled = r.throttledByOperation[op] ?? 0;
    return calls === 0 ? '-' : `${calls} (${throttled}) = ${fmt(calls / r.instances, 2)}/inst`;
  })]);
  return markdownTable(header, rows);
}

export function modeTitle(mode: EventMode): string {
  if (mode === 'events') return 'ECS events flowing';
  if (mode === 'busy-cluster') return 'every ECS event lost, in a busy cluster (batch jobs and Fargate tasks coming and going)';
  return 'every ECS event lost (the one-minute schedule alone)';
}

export function tablesOnly(shape: RunShape, results: CaseResult[]): string {
  return [
    ...shape.modes.map(m => `${modeTitle(m)}\n\n${modeTable(shape, results, m)}`),
    `ours against the reaction floor\n\n${floorTable(shape, results)}`,
    `ours: reconcile passes after the scale-in\n\n${passesTable(shape, results)}`,
  ].join('\n\n');
}

// ---- the BENCH line -------------------------------------------------------------------------------

/** The run's failures: what the BENCH line counts and what makes the command exit non-zero. */
export interface Failures {
  /** Ours, every size and mode of the run: drains that timed out or were forced. */
  readonly failed: number;
  /** Ours, every size and mode: instances released with a task alive before their deadline. */
  readonly premature: number;
  /** Every case of the run, both strategies: calls IAM refused. */
  readonly denied: number;
  /** Ours, every size and mode: lifecycle actions that reached their hook's timeout. */
  readonly lateActions: number;
  /** Ours cases that did not finish (time limit or idle). */
  readonly unfinished: number;
}

export function failuresOf(results: CaseResult[]): Failures {
  const ours = results.filter(r => r.spec.strategy === 'ours');
  const sum = (cases: CaseResult[], f: (r: CaseResult) => number) => cases.reduce((total, r) => total + f(r), 0);
  return {
    failed: sum(ours, r => r.failedDrains),
    premature: sum(ours, r => r.premature),
    denied: sum(results, r => r.denied),
    lateActions: sum(ours, r => r.lifecycleTimeouts),
    unfinished: ours.filter(r => r.outcome !== 'done').length,
  };
}

export function hasFailures(f: Failures): boolean {
  return f.failed + f.premature + f.denied + f.lateActions + f.unfinished > 0;
}

/** Ours / baseline per drained instance at COMPARISON_SIZE, events flowing; undefined when either did not run. */
export function comparisonRatio(results: CaseResult[], key: 'apiCalls' | 'busySeconds'): number | undefined {
  const ours = find(results, 'ours', COMPARISON_SIZE, 'events');
  const base = find(results, 'baseline', COMPARISON_SIZE, 'events');
  return ours && base ? perInstance(ours, key) / perInstance(base, key) : undefined;
}

/**
 * `BENCH n=… failed=… premature=… denied=… late_actions=… p99_reaction_s=… reaction_floor_s=…
 * api_calls_per_instance=… busy_s_per_instance=… n100_api_ratio=… n100_busy_ratio=…`:
 * the failure counts as in `Failures`; the figures of ours at the largest size, events flowing;
 * the ratios ours / baseline at n=100, events flowing (`n/a` when n=100 did not run).
 */
export function benchLine(shape: RunShape, results: CaseResult[]): string {
  const n = largestSize(shape);
  const ours = find(results, 'ours', n, 'events');
  const f = failuresOf(results);
  const v = (value: number | undefined, digits: number) => (value === undefined ? 'n/a' : fmt(value, digits));
  return `BENCH n=${n} failed=${f.failed} premature=${f.premature} denied=${f.denied} late_actions=${f.lateActions} `
    + `p99_reaction_s=${v(ours?.reactionP99Seconds, 1)} reaction_floor_s=${v(ours?.reactionFloor.seconds, 1)} `
    + `api_calls_per_instance=${v(ours && perInstance(ours, 'apiCalls'), 2)} busy_s_per_instance=${v(ours && perInstance(ours, 'busySeconds'), 2)} `
    + `n100_api_ratio=${v(comparisonRatio(results, 'apiCalls'), 3)} n100_busy_ratio=${v(comparisonRatio(results, 'busySeconds'), 4)}`;
}

// ---- helpers -------------------------------------------------------------------------------------

export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'NA';
}

export function ratio(a: number, b: number): string {
  if (b === 0) return a === 0 ? '-' : '∞';
  return (a / b).toFixed(3);
}

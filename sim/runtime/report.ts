/**
 * What a scenario run proves, computed from the emulator's per-instance timelines: how many
 * instances drained, whether any was released with a task still alive before its deadline,
 * how many drains were forced, how many lifecycle actions timed out, and how fast the controller
 * reacted once an instance was empty.
 */
import { InstanceTimeline } from '../emulator';
import { ScenarioRun } from './scenario';
import { Simulation } from './simulation';

export interface InstanceRow {
  readonly instanceId: string;
  readonly timeline: InstanceTimeline;
  /** Released while a task was not STOPPED, before the drain deadline. */
  readonly premature: boolean;
  /** Milliseconds from the last task STOPPED (or the drain start when none ran) to completion. */
  readonly reactionMs?: number;
}

export interface Summary {
  readonly instances: number;
  readonly drained: number;
  readonly premature: number;
  readonly forced: number;
  readonly lostActions: number;
  readonly p99ReactionSeconds: number;
  /** Calls IAM refused (the controller's role lacks a permission it uses): must be 0. */
  readonly denied: number;
  readonly rows: InstanceRow[];
}

export function summarize(sim: Simulation, run: ScenarioRun): Summary {
  const rows = run.terminating.map(instanceId => rowOf(instanceId, sim.emulator.timeline(instanceId), run.drainTimeoutMs));
  const reactions = rows.flatMap(r => (r.reactionMs !== undefined ? [r.reactionMs] : [])).sort((a, b) => a - b);
  return {
    instances: rows.length,
    drained: rows.filter(r => r.timeline.completedBy === 'api').length,
    premature: rows.filter(r => r.premature).length,
    forced: rows.filter(r => r.timeline.forced === true).length,
    lostActions: rows.filter(r => r.timeline.completedBy === 'timeout').length,
    p99ReactionSeconds: percentile(reactions, 0.99) / 1000,
    denied: sim.emulator.stats.totalDenied,
    rows,
  };
}

function rowOf(instanceId: string, t: InstanceTimeline, drainTimeoutMs: number): InstanceRow {
  const deadline = (t.terminatingAt ?? Infinity) + drainTimeoutMs;
  const premature = t.tasksAliveAtTermination.length > 0 && (t.terminatedAt ?? Infinity) < deadline;
  const emptyAt = emptyAtOf(t);
  // Reaction is defined for drains that ended with every task stopped: a forced drain or an
  // instance released with tasks alive has no "last task stopped" to react to.
  const drainedClean = !t.forced && t.tasksAliveAtTermination.length === 0;
  const reactionMs = drainedClean && t.completedBy === 'api' && t.lifecycleCompletedAt !== undefined && emptyAt !== undefined
    ? Math.max(0, t.lifecycleCompletedAt - emptyAt) : undefined;
  return { instanceId, timeline: t, premature, reactionMs };
}

/** When the instance was empty, which the reaction counts from: its last task STOPPED, else the drain's start. */
export function emptyAtOf(t: InstanceTimeline): number | undefined {
  return t.lastTaskStoppedAt ?? t.drainingAt ?? t.terminatingAt;
}

/** Nearest-rank percentile; 0 for an empty list. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/** `+5m12s` from the scale-in; `-` when the moment never came. */
export function offset(at: number | undefined, origin: number): string {
  if (at === undefined) return '-';
  const totalSeconds = Math.round((at - origin) / 1000);
  const sign = totalSeconds < 0 ? '-' : '+';
  const s = Math.abs(totalSeconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${sign}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${String(m).padStart(h > 0 ? 2 : 1, '0')}m` : ''}${String(sec).padStart(h > 0 || m > 0 ? 2 : 1, '0')}s`;
}

/** A fixed-width table: one line per instance, times as offsets from the scale-in. */
export function instanceTable(summary: Summary, origin: number, maxRows = 40): string {
  const header = ['instance', 'drain start', 'last task stopped', 'deregistered', 'lifecycle completed', 'by', 'forced', 'premature'];
  const shown = summary.rows.length > maxRows ? sample(summary.rows, maxRows) : summary.rows;
  const lines = shown.map(r => [
    r.instanceId,
    offset(r.timeline.drainingAt, origin),
    offset(r.timeline.lastTaskStoppedAt, origin),
    offset(r.timeline.deregisteredAt, origin),
    offset(r.timeline.lifecycleCompletedAt, origin),
    r.timeline.completedBy ?? '-',
    r.timeline.forced ? 'yes' : 'no',
    r.premature ? 'YES' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map(l => l[i].length)));
  const format = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [format(header), format(widths.map(w => '-'.repeat(w))), ...lines.map(format)];
  if (shown.length < summary.rows.length) out.push(`(${shown.length} of ${summary.rows.length} instances shown: forced, premature and slowest first, then a spread)`);
  return out.join('\n');
}

/** The line the README's simulate command ends with. */
export function summaryLine(summary: Summary): string {
  return `SUMMARY instances=${summary.instances} drained=${summary.drained} premature=${summary.premature} `
    + `forced=${summary.forced} lost_actions=${summary.lostActions} p99_reaction_s=${summary.p99ReactionSeconds.toFixed(1)} `
    + `denied=${summary.denied}`;
}

/** The interesting rows first (premature, lost, forced, slowest), then an even spread of the rest. */
export function sample(rows: InstanceRow[], count: number): InstanceRow[] {
  const interesting = rows.filter(r => r.premature || r.timeline.completedBy === 'timeout' || r.timeline.forced);
  const rest = rows.filter(r => !interesting.includes(r))
    .sort((a, b) => (b.reactionMs ?? 0) - (a.reactionMs ?? 0));
  const picked = interesting.slice(0, count);
  const room = count - picked.length;
  if (room > 0) {
    const step = rest.length / room;
    for (let i = 0; i < room && Math.floor(i * step) < rest.length; i++) picked.push(rest[Math.floor(i * step)]);
  }
  return rows.filter(r => picked.includes(r));
}

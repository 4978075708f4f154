/**
 * `timeline.svg`: one row per instance, coloured by phase, on an axis of simulated minutes since
 * the scale-in. Large runs show a sample of rows (the interesting ones first) so it stays legible.
 */
import { InstanceRow, sample, Summary } from './report';

interface Phase { readonly name: string; readonly colour: string }

const PHASES = {
  running: { name: 'running', colour: '#9ccc65' },
  waitingForDrain: { name: 'terminating, drain not started', colour: '#ffd54f' },
  draining: { name: 'draining: tasks still on it (DEACTIVATING, STOPPING, standalone)', colour: '#ff9800' },
  drained: { name: 'every task STOPPED, not yet deregistered', colour: '#ab47bc' },
  released: { name: 'deregistered → terminated', colour: '#90a4ae' },
} satisfies Record<string, Phase>;

const ROW_HEIGHT = 14;
const LABEL_WIDTH = 190;
const PLOT_WIDTH = 900;
const TOP = 64;

export function timelineSvg(summary: Summary, scaleInAt: number, title: string, maxRows = 80): string {
  const rows = summary.rows.length > maxRows ? sample(summary.rows, maxRows) : summary.rows;
  const starts = rows.map(r => Math.min(r.timeline.launchedAt, scaleInAt));
  const ends = rows.map(r => r.timeline.terminatedAt ?? r.timeline.lifecycleCompletedAt ?? scaleInAt);
  const from = Math.min(scaleInAt - 3 * 60_000, ...starts);
  const to = Math.max(scaleInAt + 5 * 60_000, ...ends);
  const x = (t: number) => LABEL_WIDTH + ((t - from) / (to - from)) * PLOT_WIDTH;
  const height = TOP + rows.length * ROW_HEIGHT + 90;
  const parts: string[] = [];

  parts.push(`<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`);
  parts.push('<text x="10" y="38" font-size="11" fill="#555">Simulated time (virtual clock; every duration scaled alike). '
    + `${rows.length} of ${summary.rows.length} instances shown.</text>`);

  // Axis: a tick every few simulated minutes, labelled relative to the scale-in.
  const minutes = (to - from) / 60_000;
  const step = [1, 2, 5, 10, 15, 30, 60].find(s => minutes / s <= 16) ?? 120;
  const axisY = TOP + rows.length * ROW_HEIGHT + 4;
  for (let m = Math.ceil((from - scaleInAt) / 60_000 / step) * step; scaleInAt + m * 60_000 <= to; m += step) {
    const tx = x(scaleInAt + m * 60_000);
    parts.push(`<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${axisY}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${tx}" y="${axisY + 14}" font-size="10" text-anchor="middle">${m >= 0 ? '+' : ''}${m}m</text>`);
  }
  parts.push(`<line x1="${x(scaleInAt)}" y1="${TOP - 8}" x2="${x(scaleInAt)}" y2="${axisY}" stroke="#d32f2f" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${x(scaleInAt) + 4}" y="${TOP - 10}" font-size="10" fill="#d32f2f">scale-in</text>`);

  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const flag = row.premature ? ' PREMATURE'
      : row.timeline.completedBy === 'timeout' ? ' hook timed out'
        : row.timeline.completedBy === 'hook-deleted' ? ' hook deleted'
          : row.timeline.forced ? ' forced' : '';
    parts.push(`<text x="10" y="${y + ROW_HEIGHT - 4}" font-size="10" font-family="monospace">${row.instanceId}${flag}</text>`);
    for (const [phase, start, end] of segments(row, to)) {
      if (end <= start) continue;
      parts.push(`<rect x="${x(start).toFixed(1)}" y="${y + 2}" width="${Math.max(1, x(end) - x(start)).toFixed(1)}" `
        + `height="${ROW_HEIGHT - 4}" fill="${phase.colour}"><title>${phase.name}</title></rect>`);
    }
  });

  let lx = 10;
  const legendY = axisY + 34;
  for (const phase of Object.values(PHASES)) {
    parts.push(`<rect x="${lx}" y="${legendY}" width="12" height="12" fill="${phase.colour}"/>`);
    parts.push(`<text x="${lx + 16}" y="${legendY + 10}" font-size="11">${escape(phase.name)}</text>`);
    lx += 24 + phase.name.length * 6.2;
  }
  const width = Math.max(LABEL_WIDTH + PLOT_WIDTH + 20, lx);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`
    + `<rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}

/** The phases of one instance as [phase, start, end] in virtual ms. */
function segments(row: InstanceRow, end: number): Array<[Phase, number, number]> {
  const t = row.timeline;
  const finish = t.terminatedAt ?? end;
  const terminating = t.terminatingAt ?? finish;
  const draining = t.drainingAt ?? terminating;
  // An instance released with tasks alive (a forced drain) never became empty: it drains until
  // it is deregistered.
  const neverEmpty = t.forced || t.tasksAliveAtTermination.length > 0;
  const empty = neverEmpty ? Infinity : t.lastTaskStoppedAt ?? (t.drainingAt !== undefined ? t.deregisteredAt ?? finish : draining);
  const deregistered = t.deregisteredAt ?? t.lifecycleCompletedAt ?? finish;
  return [
    [PHASES.running, t.launchedAt, Math.min(terminating, draining)],
    [PHASES.waitingForDrain, terminating, draining],
    [PHASES.draining, draining, Math.min(empty, deregistered)],
    [PHASES.drained, Math.min(empty, deregistered), deregistered],
    [PHASES.released, deregistered, finish],
  ];
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

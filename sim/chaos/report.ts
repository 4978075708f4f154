/**
 * The chaos matrix's report: one row per scenario (all its seeds together) and the final line.
 */
import { ChaosRunResult } from './run';
import { percentile } from '../runtime/report';

/** One scenario over all its seeds: the runs' counts summed, reactions as one percentile. */
export interface ScenarioRow extends Pick<ChaosRunResult, 'scenario' | 'actions' | 'excluded' | 'completed' | 'premature'
| 'violations' | 'writesOutsideWait' | 'unhandled' | 'failedChecks' | 'forced' | 'injectedFailures' | 'maxConcurrentInvocations' | 'junkInvocations'> {
  readonly seeds: number;
  readonly p99ReactionSeconds: number;
}

export interface ChaosTotals {
  readonly scenarios: number;
  readonly runs: number;
  readonly actions: number;
  readonly completed: number;
  readonly premature: number;
  readonly violations: number;
  readonly writesOutsideWait: number;
  readonly unhandled: number;
  readonly denied: number;
  readonly failedChecks: number;
}

export function rowsOf(results: readonly ChaosRunResult[]): ScenarioRow[] {
  const names = [...new Set(results.map(r => r.scenario))];
  return names.map(scenario => {
    const runs = results.filter(r => r.scenario === scenario);
    const sum = (pick: (r: ChaosRunResult) => number) => runs.reduce((total, r) => total + pick(r), 0);
    const reactions = runs.flatMap(r => r.reactionsMs).sort((a, b) => a - b);
    return {
      scenario,
      seeds: runs.length,
      actions: sum(r => r.actions),
      excluded: sum(r => r.excluded),
      completed: sum(r => r.completed),
      premature: sum(r => r.premature),
      violations: sum(r => r.violations),
      writesOutsideWait: sum(r => r.writesOutsideWait),
      unhandled: sum(r => r.unhandled),
      failedChecks: sum(r => r.failedChecks),
      forced: sum(r => r.forced),
      injectedFailures: sum(r => r.injectedFailures),
      p99ReactionSeconds: percentile(reactions, 0.99) / 1000,
      maxConcurrentInvocations: Math.max(0, ...runs.map(r => r.maxConcurrentInvocations)),
      junkInvocations: sum(r => r.junkInvocations),
    };
  });
}

export function totalsOf(results: readonly ChaosRunResult[]): ChaosTotals {
  const sum = (pick: (r: ChaosRunResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  return {
    scenarios: new Set(results.map(r => r.scenario)).size,
    runs: results.length,
    actions: sum(r => r.actions),
    completed: sum(r => r.completed),
    premature: sum(r => r.premature),
    violations: sum(r => r.violations),
    writesOutsideWait: sum(r => r.writesOutsideWait),
    unhandled: sum(r => r.unhandled),
    denied: sum(r => r.denied),
    failedChecks: sum(r => r.failedChecks),
  };
}

export function scenarioTable(rows: readonly ScenarioRow[]): string {
  const header = [
    'scenario', 'seeds', 'actions', 'excluded', 'completed', 'premature', 'violations', 'outside wait', 'unhandled', 'failed checks', 'forced',
    'injected failures', 'p99 reaction', 'max concurrent',
  ];
  const lines = rows.map(r => [
    r.scenario, String(r.seeds), String(r.actions), String(r.excluded), String(r.completed), String(r.premature),
    String(r.violations), String(r.writesOutsideWait), String(r.unhandled), String(r.failedChecks), String(r.forced), String(r.injectedFailures),
    `${r.p99ReactionSeconds.toFixed(1)} s`, String(r.maxConcurrentInvocations),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map(l => l[i].length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [format(header), format(widths.map(w => '-'.repeat(w))), ...lines.map(format)].join('\n');
}

/** Whether the runs kept every promise: every action completed, every other count 0. */
export function passed(t: Omit<ChaosTotals, 'scenarios' | 'runs'>): boolean {
  return t.completed === t.actions && t.premature + t.violations + t.writesOutsideWait + t.unhandled + t.denied + t.failedChecks === 0;
}

/** The line `chaos` ends with. */
export function chaosLine(t: ChaosTotals): string {
  return `CHAOS scenarios=${t.scenarios} runs=${t.runs} lifecycle_actions=${t.actions} completed=${t.completed} `
    + `premature=${t.premature} untouched_violations=${t.violations} writes_outside_wait=${t.writesOutsideWait} unhandled_errors=${t.unhandled} `
    + `denied=${t.denied} failed_checks=${t.failedChecks}`;
}

/** How each number is counted, printed above the final line. */
export const DEFINITIONS = [
  'lifecycle_actions: termination lifecycle actions started (Terminating:Wait, Warmed:Terminating:Wait, each return to a',
  '  warm pool through Warmed:Pending:Wait, each root volume replacement through ReplacingRootVolume:Wait), minus those a',
  '  scenario makes impossible for the controller to complete by construction ("excluded": group deleted with its instances,',
  '  action completed by someone else, hook redefined to expire before any drain can end, Spot instance reclaimed before its',
  "  load balancer's deregistration delay can end). completed: of those, actions ended by CompleteLifecycleAction before the",
  "  hook's timeout (only the controller calls it for them). The goal is completed == lifecycle_actions.",
  'premature: of those, instances terminated (stopped in the warm pool, or whose root volume was swapped) before their',
  '  deadline with a task not STOPPED (tasks orphaned by someone else\'s forced deregistration excluded: ECS no longer tracks',
  '  them); plus any deregistration the controller forced before that deadline while ECS still counted a task. The deadline:',
  "  lifecycle-action start + drain timeout, or, where that reaches the action's global timeout less 5 minutes, that less the",
  "  2 minutes within which the controller knows the action's start.",
  'untouched_violations: mutating ECS calls on the operator-drained container instance while it was not Terminating:Wait.',
  'writes_outside_wait: DRAINING asked, or a drain record or parked marker written, by the controller on a registration whose',
  '  instance did not wait in a termination hook at that moment (a Spot instance after its interruption warning aside: it is',
  '  drained before its action starts, by design).',
  'unhandled_errors: failed invocations (error, or timeout when answers were not slowed) whose handler wrote no structured',
  '  JSON error line, or logged an error name the scenario\'s faults do not produce (5xx: ServerException/InternalFailure;',
  '  throttling: ThrottlingException/Throttling; cluster deleted: ClusterNotFoundException; crashes are injected by',
  '  definition); plus junk events whose invocation did not succeed with exactly one JSON log line and no mutating call.',
  'denied: calls IAM refused under the controller\'s synthesized role (each would be refused in AWS).',
  'failed_checks: a scenario\'s own checks of what these counts cannot see (a Spot drain started at the warning, a',
  '  registration back from the warm pool set ACTIVE with tasks again, ...), and runs that did not reach their end.',
];

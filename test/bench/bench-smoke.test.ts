/**
 * Smoke test of the `bench` command (sim/bench.ts): sizes 1 and 10, ECS events flowing only (the
 * quota size, 5,000, is for `npx projen bench`, never CI). Asserts the shape of what it prints
 * and writes, and that nothing failed; never a timing or a figure's value.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthesizeExample } from '../e2e/support';

const REPO = path.resolve(__dirname, '..', '..');

test('bench --sizes 1,10 --modes events prints the tables and ends with the BENCH line', () => {
  const assembly = synthesizeExample();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-')), 'BENCHMARKS.md');
  const result = spawnSync(process.execPath, [
    '-r', 'ts-node/register/transpile-only', path.join(REPO, 'sim', 'bench.ts'),
    '--sizes', '1,10', '--modes', 'events', '--assembly', assembly, '--out', out, '--init-runs', '1',
  ], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: path.join(REPO, 'test', 'tsconfig.json') },
  });
  expect(result.stderr).not.toMatch(/bench: /);
  expect(result.status).toBe(0);

  const lines = result.stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1];
  const number = '(?:\\d+(?:\\.\\d+)?)';
  // n=100 did not run: the ratios against the baseline there are n/a.
  expect(last).toMatch(new RegExp(
    `^BENCH n=10 failed=0 premature=0 denied=0 late_actions=0 p99_reaction_s=${number} reaction_floor_s=${number} `
    + `api_calls_per_instance=${number} busy_s_per_instance=${number} n100_api_ratio=n/a n100_busy_ratio=n/a$`,
  ));
  for (const row of ['| 1 | ours |', '| 1 | baseline |', '| 10 | ours |', '| 10 | baseline |', '| 10 | ours / baseline |', '| 10 | flowing |']) {
    expect(result.stdout).toContain(row);
  }

  const markdown = fs.readFileSync(out, 'utf8');
  for (const heading of ['# Benchmarks', '## Results', '### Ours against the reaction floor', '## Targets', '### A whole cluster at the quota', '### Against the baseline',
    '## The reaction floor', '## Throttling', '## API latency model', '## Handler cost', '## Machine', '## Reproduce']) {
    expect(markdown).toContain(heading);
  }
  expect(markdown).toContain(last);
  expect(markdown).not.toContain('every ECS event lost (the one-minute schedule alone)\n\n|');
}, 600_000);

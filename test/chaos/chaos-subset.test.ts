/**
 * A CI-sized slice of the chaos matrix (`npx projen chaos` runs all of it): a few fault
 * scenarios x 2 seeds x few instances, through the same code (sim/chaos/), the real bundled
 * controller and the emulator. Every lifecycle action the controller can complete, it completes;
 * nothing is released early, the operator's instance is untouched, nothing is drained outside a
 * hook's wait, no unexplained error.
 */
import { runChaos } from '../../sim/chaos/run';
import { scenarioNamed } from '../../sim/chaos/scenarios';
import { synthesizeExample } from '../e2e/support';

const SEEDS = [1, 2];
const INSTANCES = 4;
let assembly: string;

beforeAll(() => {
  assembly = synthesizeExample();
}, 60_000);

const cases = [
  'crash-mid-drain', 'lost-events', 'stale-versions', 'concurrent', 'inactive-mid-drain', 'completed-by-other', 'cluster-deleted',
  // Production conditions: each found a defect, or guards one fixed in lambda/.
  'attribute-full', 'deregistration-lag', 're-registration', 'late-record', 'warm-pool-stale-event', 'warm-pool-cut-reactivation',
  // Around the drains: stack updates that edit the group list mid-drain, root volume refreshes, a small Lambda quota.
  'stack-update-first-removed', 'stack-update-group-added', 'root-volume-lost-events', 'small-account',
  // An unkind AWS: late lifecycle copies on a warm pool, stale reads with early release and the narrow refusal.
  'warm-pool-late-lifecycle', 'all-unkind',
].flatMap(scenario => SEEDS.map(seed => [scenario, seed] as const));

test.each(cases)('%s, seed %d: completed == lifecycle actions, nothing premature, untouched, no unhandled error, its checks hold', async (name, seed) => {
  const result = await runChaos({ scenario: scenarioNamed(name), seed, instances: INSTANCES, assemblyDirectory: assembly });

  expect(result.problems).toEqual([]);
  expect(result.outcome).toBe('done');
  expect(result.actions).toBeGreaterThan(0);
  expect(result).toMatchObject({
    completed: result.actions, premature: 0, violations: 0, writesOutsideWait: 0, unhandled: 0, denied: 0, failedChecks: 0,
  });
});

test('junk events: one structured log line each, nothing changed, and the drain still completes', async () => {
  const result = await runChaos({ scenario: scenarioNamed('junk-events'), seed: 1, instances: INSTANCES, assemblyDirectory: assembly });

  // Injected twice (before and during the drain), each both on the bus and straight to the function.
  expect(result.junkInvocations).toBeGreaterThanOrEqual(40);
  expect(result.problems).toEqual([]);
  // Some drain did start: completed == actions is not 0 == 0.
  expect(result.actions).toBeGreaterThan(0);
  expect(result).toMatchObject({ completed: result.actions, premature: 0, violations: 0, unhandled: 0, denied: 0, failedChecks: 0 });
});

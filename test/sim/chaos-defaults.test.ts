/**
 * What a chaos row hands the emulator (sim/chaos/run.ts): its own latency, or the run's default
 * latency (`chaos --latency MIN-MAX`) when it sets none; its unkind options over the run's. With no
 * default, every row answers as it always did.
 */
import { rowEmulatorFaults, rowUnkindOptions } from '../../sim/chaos/run';
import { CHAOS_SCENARIOS, scenarioNamed } from '../../sim/chaos/scenarios';

describe('chaos rows and the run\'s defaults', () => {
  test('no default: every row keeps its own emulator faults and unkind options; only the unkind rows set any', () => {
    expect(CHAOS_SCENARIOS.length).toBeGreaterThan(0);
    for (const scenario of CHAOS_SCENARIOS) {
      expect(rowEmulatorFaults(scenario, {})).toBe(scenario.emulatorFaults);
      expect(rowUnkindOptions(scenario, {})).toEqual(scenario.unkind ?? {});
    }
    // Only the rows for an unkind AWS turn an unkind option on (and spot, which turns the background jobs off).
    expect(CHAOS_SCENARIOS.filter(s => s.unkind !== undefined).map(s => s.name)).toEqual(['spot', 'stale-reads', 'early-release', 'background-churn', 'all-unkind']);
  });

  test('a default latency applies to the rows that set none, not to those that set their own', () => {
    const latency: [number, number] = [20, 80];
    expect(rowEmulatorFaults(scenarioNamed('baseline'), { defaultLatencyMs: latency })).toEqual({ latencyMs: latency });
    expect(rowEmulatorFaults(scenarioNamed('server-errors'), { defaultLatencyMs: latency })).toEqual({ errorRate: 0.25, latencyMs: latency });
    expect(rowEmulatorFaults(scenarioNamed('slow-answers'), { defaultLatencyMs: latency })).toEqual({ latencyMs: [500, 8000] });
  });

  test('a row\'s unkind options go over the run\'s defaults', () => {
    const row = { ...scenarioNamed('baseline'), unkind: { lifecycleActionVisibilityLagMs: 2_000 } };
    expect(rowUnkindOptions(row, { defaultUnkind: { lifecycleActionVisibilityLagMs: 500, staleReads: { ListTasks: 1_000 } } }))
      .toEqual({ lifecycleActionVisibilityLagMs: 2_000, staleReads: { ListTasks: 1_000 } });
  });
});

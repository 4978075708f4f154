/**
 * The reconcile function reserves no concurrency (an account whose quota is under 100 cannot
 * reserve any), so two passes meet whenever the schedule's event arrives twice (EventBridge
 * delivers at least once) or late. Every step of a pass is safe to repeat: this runs a scale-in
 * in which every ECS event is lost (the passes do all the work) and every delivery arrives twice.
 */
import { synthesizeExample, withSimulation } from './support';
import { summarize } from '../../sim/runtime/report';
import { runScenario } from '../../sim/runtime/scenario';

let assembly: string;

beforeAll(() => {
  assembly = synthesizeExample();
}, 60_000);

test('passes that run at the same time drain every instance once, with no error and nothing premature', async () => {
  const { summary, overlaps, failed, completions } = await withSimulation(assembly, {
    seed: 5,
    // API latency as the bench models it, so that a pass lasts as long as its calls do.
    emulatorFaults: { latencyMs: [20, 80] },
    eventFaults: { duplicateRate: 1, lossRate: 1, lossOnlyEcs: true },
  }, async sim => {
    const run = await runScenario(sim, { scenario: 'mixed', instances: 6, seed: 5 });
    expect(run.outcome).toBe('done');
    const reconciler = sim.drainFunctionNames().find(name => name !== sim.eventFunctionName())!;
    const passes = sim.lambda.invocations.filter(r => r.functionName === reconciler).sort((a, b) => a.startedAt - b.startedAt);
    const overlapping = passes.filter((pass, i) => i > 0 && pass.startedAt < (passes[i - 1].endedAt ?? Infinity));
    return {
      summary: summarize(sim, run),
      overlaps: overlapping.length,
      failed: sim.lambda.invocations.filter(r => r.outcome !== 'success').length,
      completions: sim.emulator.stats.calls['autoscaling:CompleteLifecycleAction'] ?? 0,
    };
  });

  // The duplicates made passes overlap, many times.
  expect(overlaps).toBeGreaterThan(10);
  expect(failed).toBe(0);
  expect(summary).toMatchObject({ instances: 6, drained: 6, premature: 0, lostActions: 0 });
  // Each action is completed by a pass; the twin of that pass may ask too and is told it is over.
  expect(completions).toBeGreaterThanOrEqual(6);
});

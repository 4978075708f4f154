/**
 * End to end under IAM: the example app's synthesized role is what the emulator authorizes every
 * call of the real controller bundle against (sim/emulator/iam/). A call IAM would refuse in AWS
 * is refused here, and counted.
 */
import { synthesizeExample, withSimulation } from './support';
import { summarize } from '../../sim/runtime/report';
import { runScenario } from '../../sim/runtime/scenario';

let assembly: string;

beforeAll(() => {
  assembly = synthesizeExample();
}, 60_000);

// A pass over more than 20 registrations lists the tasks of the whole cluster
// (ListTasks without containerInstance), which IAM authorizes on resource `*`
// (cdklabs/construct-hub#1207). A role that grants ecs:ListTasks only on container instances is
// refused, and the drains wait for their deadline instead of ending when the instances are empty.
test('40 instances terminating at once with every ECS event lost are released soon after they are empty, no call refused', async () => {
  const { summary, stats } = await withSimulation(assembly, { seed: 7, eventFaults: { lossRate: 1, lossOnlyEcs: true } }, async sim => {
    const run = await runScenario(sim, { scenario: 'plain', instances: 40, seed: 7 });
    return { summary: summarize(sim, run), stats: sim.emulator.stats };
  });

  expect(stats.denied).toEqual({});
  expect([...new Set(stats.deniedRequests.map(d => d.message))]).toEqual([]);
  expect(summary).toMatchObject({ instances: 40, drained: 40, premature: 0, forced: 0, lostActions: 0 });
  expect(summary.rows).toHaveLength(40);
  // Without ECS events, the one-minute reconcile pass is what notices an empty instance.
  for (const row of summary.rows) expect(row.reactionMs).toBeLessThanOrEqual(2 * 60_000);
}, 180_000);

/**
 * ECS reads are eventually consistent (ECS API reference, RunTask: "the result of an API command
 * you run that affects your Amazon ECS resources might not be immediately visible to all subsequent
 * commands you run"), and the API reference does not say that a plain DeregisterContainerInstance
 * refuses a task that is still stopping. With both (emulator options `staleReads` and
 * `deregistrationRefusal: 'tasks-desired-running'`), and with a stopping task's resources given
 * back early (`releaseResourcesAt: 'desired-stopped'`), a drain judged empty from a count and a task
 * listing that show two different moments deregisters with a task still stopping: the listing of
 * stopping tasks must show a moment no earlier than the count it completes.
 */
import { synthesizeExample, withSimulation } from './support';
import { runChaos } from '../../sim/chaos/run';
import { scenarioNamed } from '../../sim/chaos/scenarios';
import { UnkindOptions } from '../../sim/emulator';
import { summarize } from '../../sim/runtime/report';
import { runScenario } from '../../sim/runtime/scenario';

const STALE_READS_MS = 3000;
const UNKIND: UnkindOptions = {
  staleReads: {
    DescribeContainerInstances: STALE_READS_MS,
    ListContainerInstances: STALE_READS_MS,
    ListTasks: STALE_READS_MS,
    DescribeTasks: STALE_READS_MS,
  },
  deregistrationRefusal: 'tasks-desired-running',
  // A task's CPU and memory free once it is told to stop (reported of ECS, aws/containers-roadmap#575):
  // the resources then no longer show a task still stopping; only the listing does.
  releaseResourcesAt: 'desired-stopped',
};

let assembly: string;

beforeAll(() => {
  assembly = synthesizeExample();
}, 60_000);

test('with ECS reads up to 3 s stale and a refusal of running tasks only, no plain deregistration leaves a task still stopping', async () => {
  const results = [];
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    results.push(await withSimulation(assembly, { seed, unkind: UNKIND }, async sim => {
      const run = await runScenario(sim, { scenario: 'mixed', instances: 6, seed });
      expect(run.outcome).toBe('done');
      const { unkind } = sim.emulator.stats;
      return { seed, summary: summarize(sim, run), staleReads: unkind.totalStaleReads, orphaning: unkind.plainDeregistrationsOrphaning };
    }));
  }

  expect(results).toHaveLength(6);
  for (const { summary, staleReads } of results) {
    expect(staleReads).toBeGreaterThan(0);
    expect(summary).toMatchObject({ premature: 0, lostActions: 0 });
  }
  expect(results.map(r => ({ seed: r.seed, orphaning: r.orphaning }))).toEqual(results.map(r => ({ seed: r.seed, orphaning: 0 })));
}, 240_000);

test('with ECS reads up to 2 s stale, an agent that registers again the moment its old registration is empty still holds the instance', async () => {
  // The chaos row re-registration: a second, ACTIVE registration gets tasks the instant the first is
  // empty. A lookup by instance id made as that happens may not list it yet.
  const results = [];
  for (const seed of [1, 2, 3]) {
    results.push(await runChaos({
      scenario: scenarioNamed('re-registration'),
      seed,
      instances: 6,
      assemblyDirectory: assembly,
      defaultUnkind: { staleReads: { ListContainerInstances: 2000, DescribeContainerInstances: 2000, ListTasks: 2000, DescribeTasks: 2000 } },
    }));
  }
  expect(results).toHaveLength(3);
  for (const result of results) {
    expect(result.actions).toBeGreaterThan(0);
    expect(result.notes.join(' ')).toMatch(/[1-9]\d* stale reads/);
  }
  expect(results.map(r => ({ seed: r.seed, premature: r.premature, problems: r.problems })))
    .toEqual(results.map(r => ({ seed: r.seed, premature: 0, problems: [] })));
}, 240_000);

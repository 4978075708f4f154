/**
 * End to end: the example app synthesized in-process, its cloud assembly deployed into the
 * emulator, the real drain-controller bundle run as Lambda runs it, triggered by the template's
 * EventBridge rules. Every duration is simulated, so an hour-long drain takes seconds.
 */
import { Duration } from 'aws-cdk-lib';
import { synthesizeExample, withSimulation } from './support';
import { summarize } from '../../sim/runtime/report';
import { runScenario, ScenarioName } from '../../sim/runtime/scenario';
import { Simulation } from '../../sim/runtime/simulation';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
let assembly: string;

beforeAll(() => {
  assembly = synthesizeExample();
}, 60_000);

async function scenario(name: ScenarioName, instances: number, directory = () => assembly) {
  return withSimulation(directory(), { seed: 7 }, async sim => {
    const run = await runScenario(sim, { scenario: name, instances, seed: 7 });
    return { sim, run, summary: summarize(sim, run), violations: sim.emulator.untouchedViolations.length, state: stateOf(sim, run.instanceIds) };
  });
}

/** Lifecycle state and container instance arns, read before the simulation stops. */
function stateOf(sim: Simulation, instanceIds: string[]) {
  return new Map(instanceIds.map(id => [id, {
    lifecycle: sim.emulator.lifecycleState(id),
    containerInstances: sim.emulator.containerInstanceArns(id),
  }]));
}

test('plain scale-in: every instance drains, deregisters and is released by the controller', async () => {
  const { run, summary } = await scenario('plain', 4);

  expect(run.outcome).toBe('done');
  expect(summary).toMatchObject({ instances: 4, drained: 4, premature: 0, forced: 0, lostActions: 0 });
  expect(summary.rows).toHaveLength(4);
  for (const { timeline: t } of summary.rows) {
    expect(t.drainingAt).toBeDefined();
    expect(t.deregisteredAt!).toBeGreaterThanOrEqual(t.lastTaskStoppedAt!);
    expect(t.tasksAliveAtTermination).toEqual([]);
    // ECS refuses a plain deregistration for a moment after the last task stopped: never forced through.
    expect(t.forceOverrodeRefusal).toBeFalsy();
  }
});

test('DEACTIVATING tasks hold termination for the load balancer deregistration delay', async () => {
  const { summary } = await scenario('plain', 2);

  // Both instances terminate: the checks below run on each of them, not on none.
  expect(summary.rows).toHaveLength(2);
  for (const { timeline: t } of summary.rows) {
    // Service tasks behind the example's target group stay DEACTIVATING for 300 s.
    expect(t.lastTaskStoppedAt! - t.drainingAt!).toBeGreaterThanOrEqual(300_000);
    expect(t.lifecycleCompletedAt!).toBeGreaterThanOrEqual(t.lastTaskStoppedAt!);
    // ...and the controller notices within seconds, not a poll interval, from the events ECS
    // documents (a task state change to STOPPED: no container instance event marks that moment).
    expect(t.lifecycleCompletedAt! - t.lastTaskStoppedAt!).toBeLessThan(15 * SECOND);
  }
});

test('an instance that never registered with the cluster is released at once', async () => {
  const { summary } = await scenario('never-registered', 2);

  expect(summary).toMatchObject({ instances: 2, drained: 2, lostActions: 0 });
  expect(summary.rows).toHaveLength(2);
  for (const { timeline: t } of summary.rows) {
    expect(t.drainingAt).toBeUndefined();
    expect(t.lifecycleCompletedAt! - t.terminatingAt!).toBeLessThan(MINUTE);
  }
});

test('a standalone task that never ends forces the drain at the deadline, not before', async () => {
  const { run, summary } = await scenario('mixed', 3);

  expect(summary).toMatchObject({ premature: 0, lostActions: 0, forced: 1 });
  const forced = summary.rows.find(r => r.instanceId === run.foreverTasks[0])!;
  expect(forced.timeline.forced).toBe(true);
  expect(forced.timeline.completedBy).toBe('api');
  expect(forced.timeline.lifecycleCompletedAt! - forced.timeline.terminatingAt!).toBeGreaterThanOrEqual(run.drainTimeoutMs);
});

test("an operator's manual DRAINING instance is left untouched", async () => {
  const { run, summary, violations, state } = await scenario('manual-draining', 3);

  expect(run.operatorDrained).toHaveLength(1);
  expect(violations).toBe(0);
  expect(summary).toMatchObject({ instances: 2, drained: 2, premature: 0 });
  const operators = state.get(run.operatorDrained[0])!;
  expect(operators.lifecycle).toBe('InService');
});

test('a Spot interruption warning starts the drain before Auto Scaling terminates', async () => {
  const { run, summary } = await scenario('spot', 2);

  // Both interrupted instances terminate: the checks below run on each of them, not on none.
  expect(summary.rows).toHaveLength(2);
  for (const { timeline: t } of summary.rows) {
    expect(t.drainingAt! - run.scaleInAt).toBeLessThan(10_000);
    expect(t.terminatedAt).toBeDefined();
  }
});

test('a drain longer than the heartbeat timeout is kept alive by heartbeats', async () => {
  const longAssembly = synthesizeExample({ drainHook: { drainTimeout: Duration.hours(3) } });
  const { run, summary } = await scenario('long-drain', 2, () => longAssembly);

  expect(run.heartbeatTimeoutMs).toBeLessThan(run.drainTimeoutMs);
  expect(summary).toMatchObject({ drained: 2, premature: 0, forced: 0, lostActions: 0 });
  expect(summary.rows).toHaveLength(2);
  for (const { timeline: t } of summary.rows) {
    expect(t.lifecycleCompletedAt! - t.terminatingAt!).toBeGreaterThan(run.heartbeatTimeoutMs);
  }
}, 60_000);

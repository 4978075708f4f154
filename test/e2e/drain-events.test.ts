/**
 * The drain events on the deployed example, caught by a rule made with onDrainEvent() (every
 * event to a topic) and by notificationTopic (forced drains, for operators): a drain that ends
 * on its own is Started then Completed; one held by a job that never ends is Started then Forced,
 * and its operators are told in words.
 */
import { Duration } from 'aws-cdk-lib';
import { synthesizeExample, withSimulation } from './support';
import type { DrainEventDetail } from '../../lambda/drain-events';
import { DRAIN_EVENT, ENV } from '../../src/constants';
import { DRAIN_EVENTS_TOPIC, OPERATORS_TOPIC } from '../integ.drain-hook';

const MINUTE = 60_000;

interface Caught {
  readonly detailType: string;
  readonly detail: DrainEventDetail;
}

async function scaleInOne(assembly: string, standaloneJob: boolean) {
  return withSimulation(assembly, { seed: 3, emulatorFaults: { latencyMs: [20, 80] } }, async sim => {
    const emulator = sim.emulator;
    const cluster = sim.functionEnv(ENV.CLUSTER_NAME)!;
    const group = JSON.parse(sim.functionEnv(ENV.AUTO_SCALING_GROUP_NAMES)!)[0];
    const ids = [0, 1].map(() => emulator.launchInstance(group, { cluster }));
    emulator.createService(cluster, { name: 'web', desiredCount: 4, deregistrationDelaySeconds: 30, stopTimeoutSeconds: 30, startSeconds: 10 });
    await sim.runFor(2 * MINUTE);
    // On every instance: whichever the scale-in takes has the job.
    if (standaloneJob) for (const id of ids) emulator.runStandaloneTask(cluster, emulator.containerInstanceArns(id)[0], { stopTimeoutSeconds: 30 });
    emulator.scaleIn(group, 1);
    const gone = () => ids.some(id => emulator.timeline(id).terminatedAt !== undefined);
    await sim.runUntil(gone, 40 * MINUTE);
    await sim.runFor(MINUTE);
    const terminated = ids.find(id => emulator.timeline(id).terminatedAt !== undefined)!;
    const caught: Caught[] = sim.topicMessages(DRAIN_EVENTS_TOPIC).map(m => {
      const event = JSON.parse(m.message) as { 'detail-type': string; 'source': string; 'detail': DrainEventDetail };
      expect(event.source).toBe(DRAIN_EVENT.SOURCE);
      return { detailType: event['detail-type'], detail: event.detail };
    });
    return { terminated, caught, operators: sim.topicMessages(OPERATORS_TOPIC).map(m => m.message), denied: emulator.stats.totalDenied };
  });
}

test('a drain that ends on its own: Started, then Completed, one drain id, nothing for the operators', async () => {
  const { terminated, caught, operators, denied } = await scaleInOne(synthesizeExample(), false);
  expect(denied).toBe(0);
  expect(caught.map(c => c.detailType)).toEqual([DRAIN_EVENT.STARTED, DRAIN_EVENT.COMPLETED]);
  const [started, completed] = caught.map(c => c.detail);
  expect(started).toMatchObject({ ec2InstanceId: terminated, lifecycleState: 'Terminating:Wait' });
  expect(started.containerInstanceArns).toHaveLength(1);
  expect(completed.drainId).toBe(started.drainId);
  expect([completed.startedAt, completed.deadline]).toEqual([started.startedAt, started.deadline]);
  expect(completed.tasksLeft).toMatchObject({ running: 0, pending: 0 });
  expect(Date.parse(completed.deadline!) - Date.parse(completed.startedAt!)).toBe(60 * MINUTE);
  expect(operators).toEqual([]);
}, 180_000);

test('a drain held by a job that never ends: Started, Waiting (blocked by a standalone task) after 10 minutes, then Forced at the deadline, and the operators told in words', async () => {
  const { terminated, caught, operators } = await scaleInOne(synthesizeExample({ drainHook: { drainTimeout: Duration.minutes(20) } }), true);
  expect(caught.map(c => c.detailType)).toEqual([DRAIN_EVENT.STARTED, DRAIN_EVENT.WAITING, DRAIN_EVENT.FORCED]);
  const waiting = caught[1].detail;
  expect(waiting).toMatchObject({ ec2InstanceId: terminated, blocked: true, drainId: caught[0].detail.drainId });
  expect(waiting.waitReasons?.map(r => r.cause)).toContain('standalone-task');
  const forced = caught[2].detail;
  expect(forced).toMatchObject({ ec2InstanceId: terminated, tasksLeft: { running: 1 } });
  expect(forced.reason).toMatch(/deadline .* passed/);
  expect(forced.waitedFor).toContain('standalone-task');
  expect(operators).toHaveLength(2);
  expect(operators[0]).toContain(`${DRAIN_EVENT.WAITING}: instance ${terminated} of group`);
  expect(operators[0]).toContain('Tasks counted now');
  expect(operators[1]).toContain(`${DRAIN_EVENT.FORCED}: instance ${terminated} of group`);
  expect(operators[1]).toContain('Tasks counted when it ended: 1 running, 0 pending');
}, 180_000);

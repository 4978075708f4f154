/**
 * Late, duplicated and stale signals. EventBridge delivers at least once, Lambda's and the
 * queue's retries deliver again, and Auto Scaling sends lifecycle events on a best-effort basis:
 * an event can describe a state that is long over. Before its first write for an instance the
 * controller must know that the instance waits in this hook now; and a refusal of a completion or
 * heartbeat can come while the action is still pending (a public report shows Auto Scaling saying
 * "No active Lifecycle Action found" right after a describe said Terminating:Wait, then accepting
 * the retry: PrairieLearn/PrairieLearn#15586).
 */
import { CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import {
  autoScalingMock, ciArn, GROUP, harness, INSTANCE, lifecycleEvent, mutatingCalls, noActiveLifecycleAction, NOW, parkedMarker,
  queueBatch, stageWorld, taskArn,
} from './fixtures';
import { ATTRIBUTE } from '../../src/constants';

const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');
const MINUTE = 60_000;

/** The lifecycle action event of an instance going back to the warm pool, emitted `minutesAgo` before NOW. */
function toWarmPoolEvent(minutesAgo: number): any {
  const event = lifecycleEvent();
  Object.assign(event.detail, { Origin: 'AutoScalingGroup', Destination: 'WarmPool' });
  event.time = new Date(NOW - minutesAgo * MINUTE).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return event;
}

describe('a late copy of a warm pool lifecycle event', () => {
  test('does not overwrite the parked marker of a registration resting in the pool', async () => {
    // GIVEN the instance was drained and parked 20 minutes ago and is stopped in the pool
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Warmed:Stopped' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: parkedMarker(20 * 60) }],
    });
    const h = harness();
    // WHEN the event of that return, 30 minutes old, arrives again
    await h.controller.handle(queueBatch(toWarmPoolEvent(30)));
    // THEN nothing is written: the marker stays, so the registration is set ACTIVE when the instance returns
    expect(mutatingCalls()).toEqual([]);
  });

  test('does not set DRAINING on the instance once it is back in service', async () => {
    // GIVEN the instance came back from the pool: its registration is ACTIVE again and runs tasks
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 3, tasks: [{ arn: taskArn('t1'), lastStatus: 'RUNNING' }] }],
    });
    const h = harness();
    // WHEN the event of its last return to the pool arrives again
    await h.controller.handle(queueBatch(toWarmPoolEvent(30)));
    // THEN the healthy instance is left alone
    expect(mutatingCalls()).toEqual([]);
  });

  test('is left alone when the registration was parked after the event, even if Auto Scaling still reports the wait', async () => {
    // GIVEN a parked marker 5 minutes old, and a (stale) Auto Scaling answer that the instance still waits
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Warmed:Pending:Wait' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: parkedMarker(5 * 60) }],
    });
    const h = harness();
    // WHEN a copy of the event of 10 minutes ago arrives
    await h.controller.handle(queueBatch(toWarmPoolEvent(10)));
    // THEN the marker is not replaced by a drain record
    expect(mutatingCalls().filter(c => c.command === 'PutAttributesCommand')).toEqual([]);
  });
});

describe('a registration set ACTIVE again after the warm pool', () => {
  function stageReactivated(minutesAgo: number, lifecycleState: string): void {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState }],
      containerInstances: [{
        arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 3, attributes: { [ATTRIBUTE.DRAIN]: `reactivated:${Math.floor((NOW - minutesAgo * MINUTE) / 1000)}` },
      }],
    });
  }

  test('is not drained by a copy of the event that sent it to the pool, even when Auto Scaling\'s answer still says it waits', async () => {
    stageReactivated(5, 'Warmed:Pending:Wait');
    const h = harness();
    await h.controller.handle(queueBatch(toWarmPoolEvent(20)));
    expect(mutatingCalls()).toEqual([]);
  });

  test('is drained by a new event of a later return to the pool', async () => {
    stageReactivated(20, 'Warmed:Pending:Wait');
    const h = harness();
    await h.controller.handle(queueBatch(toWarmPoolEvent(1)));
    expect(mutatingCalls().map(c => c.command)).toEqual(['UpdateContainerInstancesStateCommand', 'PutAttributesCommand']);
  });
});

describe('"No active Lifecycle Action found" while the action is pending', () => {
  test('a completion refused that way is asked again after a short wait, while Auto Scaling says the instance waits', async () => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [],
    });
    autoScalingMock.on(CompleteLifecycleActionCommand).rejectsOnce(noActiveLifecycleAction(INSTANCE)).resolves({});
    const h = harness({}, NOW, { retryNoActiveActionMs: [50] });
    const summary = await h.controller.handle(lifecycleEvent());
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(2);
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'lifecycle action completed', instanceId: INSTANCE }));
    expect(summary.outcomes).toEqual({ 'not-registered': 1 });
  });

  test('a completion still refused after the waits, while Auto Scaling says the instance waits, is not logged as over: the instance keeps waiting for the next pass', async () => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [],
    });
    autoScalingMock.on(CompleteLifecycleActionCommand).rejects(noActiveLifecycleAction(INSTANCE));
    const h = harness({}, NOW, { retryNoActiveActionMs: [10, 10] });
    const summary = await h.controller.handle(lifecycleEvent());
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(3);
    expect(h.logs().map(l => l.message)).not.toContain('lifecycle action was already over');
    expect(h.logs()).toContainEqual(expect.objectContaining({
      message: 'Auto Scaling still finds no active lifecycle action although the instance waits; the next pass asks again', instanceId: INSTANCE,
    }));
    expect(summary.outcomes).toEqual({ draining: 1 });
  });
});

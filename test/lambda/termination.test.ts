/**
 * The drain of one terminating instance, driven by its lifecycle action event: lookup, DRAINING
 * (ECS's answer is the fresh read), drain record, "drained" check, deregistration, completion,
 * deadline, heartbeats, records that cannot be written, the warm pool, and races.
 */
import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import {
  autoScalingMock, callSequence, ciArn, drainRecord, drainRecordValue, ecsInvalidParameter, ecsMock, FakeContainerInstance, GROUP, harness, HOOK,
  INSTANCE, lifecycleEvent, mutatingCalls, noActiveLifecycleAction, NOW, stageWorld, taskArn, World,
} from './fixtures';
import { ATTRIBUTE, METRIC } from '../../src/constants';

const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');
const TERMINATING = { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' };
const NOW_S = NOW / 1000;

function stageTerminating(ci: Partial<FakeContainerInstance> = {}, lifecycleState = 'Terminating:Wait', world: Partial<World> = {}): void {
  stageWorld({
    instances: [{ ...TERMINATING, lifecycleState }],
    containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(60), ...ci }],
    ...world,
  });
}

/**
 * The refusal that a race with another invocation gives: the action is over, and Auto Scaling's
 * read says so from then on (the instance moved on to Terminating:Proceed).
 */
function overWhenRefused(error: Error) {
  return () => {
    autoScalingMock.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: GROUP, LifecycleState: 'Terminating:Proceed' } as never],
    });
    throw error;
  };
}

/** Ten custom attributes a user set through ECS_INSTANCE_ATTRIBUTES: ECS allows no more. */
const TEN_CUSTOM_ATTRIBUTES = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`team.label${i}`, `v${i}`]));

const completeInput = {
  AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: INSTANCE, LifecycleActionResult: 'CONTINUE',
};

const written = () => ecsMock.commandCalls(PutAttributesCommand)
  .flatMap(c => c.args[0].input.attributes!.map(a => ({ targetId: a.targetId, value: a.value })));

beforeEach(() => stageWorld());

describe('lookup of the container instances of an EC2 instance', () => {
  test('looks every registration up by the ec2InstanceId filter (one listing, one describe) and sets the ACTIVE ones DRAINING in one call', async () => {
    // GIVEN two ACTIVE registrations, a REGISTERING one (ENI trunking) and an INACTIVE old one of the terminating instance
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [
        { arn: ciArn('new'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 },
        { arn: ciArn('older'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
        { arn: ciArn('trunk'), ec2InstanceId: INSTANCE, status: 'REGISTERING' },
        { arn: ciArn('gone'), ec2InstanceId: INSTANCE, status: 'INACTIVE' },
      ],
    });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN every registration that is not INACTIVE was listed and read, and only the ACTIVE ones asked DRAINING
    // (ECS refuses DRAINING for the others)
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input)).toEqual([
      { cluster: 'my-cluster', filter: `ec2InstanceId in [${INSTANCE}]`, maxResults: 100, nextToken: undefined },
    ]);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances)).toEqual([
      [ciArn('new'), ciArn('older'), ciArn('trunk')],
    ]);
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input)).toEqual([
      { cluster: 'my-cluster', containerInstances: [ciArn('new'), ciArn('older')], status: 'DRAINING' },
    ]);
    expect(summary).toEqual({ trigger: 'lifecycle-action', outcomes: { draining: 1 }, errors: 0, deferred: 0 });
  });

  test('confirms with Auto Scaling that the instance waits before its first write: read, list, describe, DRAINING, record', async () => {
    stageTerminating({ status: 'ACTIVE', running: 2, attributes: {} });
    const h = harness();
    await h.controller.handle(lifecycleEvent());
    expect(callSequence()).toEqual([
      'DescribeAutoScalingInstances', 'ListContainerInstances', 'DescribeContainerInstances', 'UpdateContainerInstancesState', 'PutAttributes',
    ]);
  });
});

describe('an instance that is not in the cluster', () => {
  test('completes the lifecycle action at once with CONTINUE, by InstanceId and the hook name, after a full lookup finds nothing', async () => {
    stageWorld({ instances: [TERMINATING] });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(callSequence()).toEqual(['DescribeAutoScalingInstances', 'ListContainerInstances', 'CompleteLifecycleAction']);
    expect(ecsMock.commandCalls(ListContainerInstancesCommand)[0].args[0].input.status).toBeUndefined();
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input)).toEqual([completeInput]);
    expect(summary.outcomes).toEqual({ 'not-registered': 1 });
  });

  test('counts an instance whose only registration is INACTIVE as not registered', async () => {
    stageTerminating({ status: 'INACTIVE' });
    const h = harness();
    await h.controller.handle(lifecycleEvent());
    expect(mutatingCalls().map(c => c.command)).toEqual(['CompleteLifecycleActionCommand']);
  });

  test('completes when the registration read ACTIVE left the cluster before DRAINING (ECS answers a failure)', async () => {
    // GIVEN ECS listed and described it ACTIVE, but it is deregistered by the time DRAINING is asked
    stageTerminating({ status: 'ACTIVE', attributes: {} });
    ecsMock.on(UpdateContainerInstancesStateCommand).resolves({ containerInstances: [], failures: [{ arn: CI, reason: 'INACTIVE' }] });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN the failure is logged, nothing is recorded, and the action is completed
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', containerInstanceArn: CI, reason: 'INACTIVE' }));
    expect(mutatingCalls().map(c => c.command)).toEqual(['UpdateContainerInstancesStateCommand', 'CompleteLifecycleActionCommand']);
    expect(summary).toMatchObject({ outcomes: { 'not-registered': 1 }, errors: 0 });
  });
});

describe('starting a drain', () => {
  test('records deadline, start and the hook clock (the event\'s time less a minute) in the one drain attribute', async () => {
    // GIVEN an ACTIVE container instance with tasks, and an event emitted 5 s ago
    stageTerminating({ status: 'ACTIVE', running: 3, attributes: {} });
    const event = lifecycleEvent();
    event.time = new Date(NOW - 5000).toISOString();
    const h = harness();

    // WHEN its lifecycle action arrives
    await h.controller.handle(event);

    // THEN the deadline is NOW + drain timeout, and the hook clock a minute before the event's time, in epoch seconds
    expect(ecsMock.commandCalls(PutAttributesCommand).map(c => c.args[0].input)).toEqual([{
      cluster: 'my-cluster',
      attributes: [{ name: ATTRIBUTE.DRAIN, value: drainRecordValue(NOW_S + 3600, NOW_S, NOW_S - 65), targetType: 'container-instance', targetId: CI }],
    }]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand)).toHaveLength(0);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
  });

  test('an event time in the future (a skewed clock) never starts the hook clock later than now', async () => {
    stageTerminating({ status: 'ACTIVE', running: 3, attributes: {} });
    const event = lifecycleEvent();
    event.time = new Date(NOW + 60_000).toISOString();
    await harness().controller.handle(event);
    expect(written()).toEqual([{ targetId: CI, value: drainRecordValue(NOW_S + 3600, NOW_S, NOW_S - 60) }]);
  });

  test('records the same drain on every registration, in one call', async () => {
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [
        { arn: ciArn('a'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
        { arn: ciArn('b'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
      ],
    });
    const h = harness();
    await h.controller.handle(lifecycleEvent());
    const value = drainRecordValue(NOW_S + 3600, NOW_S, NOW_S - 60);
    expect(ecsMock.commandCalls(PutAttributesCommand).map(c => c.args[0].input.attributes)).toEqual([[
      { name: ATTRIBUTE.DRAIN, value, targetType: 'container-instance', targetId: ciArn('a') },
      { name: ATTRIBUTE.DRAIN, value, targetType: 'container-instance', targetId: ciArn('b') },
    ]]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
  });

  test('reads the failures array of UpdateContainerInstancesState, logs each failure, and drains what ECS answered', async () => {
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [
        { arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
        { arn: ciArn('gone'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
      ],
    });
    ecsMock.on(UpdateContainerInstancesStateCommand).resolves({
      containerInstances: [{ containerInstanceArn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', runningTasksCount: 1, pendingTasksCount: 0 }],
      failures: [{ arn: ciArn('gone'), reason: 'MISSING', detail: 'gone meanwhile' }],
    });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(h.logs()).toContainEqual(expect.objectContaining({
      level: 'warn', containerInstanceArn: ciArn('gone'), reason: 'MISSING', detail: 'gone meanwhile', cluster: 'my-cluster',
    }));
    expect(written().map(w => w.targetId)).toEqual([CI]);
    expect(summary).toEqual({ trigger: 'lifecycle-action', outcomes: { draining: 1 }, errors: 0, deferred: 0 });
  });

  test('a failure of another reason than MISSING or INACTIVE is read again, not asked again: a registration running tasks keeps the instance waiting', async () => {
    stageWorld({ instances: [TERMINATING], containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 }] });
    ecsMock.on(UpdateContainerInstancesStateCommand).resolves({ failures: [{ arn: CI, reason: 'AGENT_BUSY', detail: 'try later' }] });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    // The lookup's describe, then the read after the failure (not a second DRAINING).
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances)).toEqual([[CI], [CI]]);
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand)).toHaveLength(1);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('a duplicate event of a drain already started changes nothing', async () => {
    stageTerminating({ running: 1 });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(mutatingCalls()).toEqual([]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([]);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });
});

describe('a drain whose record cannot be written', () => {
  test('is still set DRAINING, logged and counted, and gets no heartbeat; the invocation succeeds', async () => {
    // GIVEN the registration carries the 10 custom attributes ECS allows (PutAttributes is refused)
    stageTerminating({ status: 'ACTIVE', running: 2, attributes: TEN_CUSTOM_ATTRIBUTES });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN DRAINING, a refused record, a warning and the metric; no error, no heartbeat
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand)).toHaveLength(1);
    expect(h.metricValues(METRIC.DRAINS_WITHOUT_RECORD)).toEqual([1]);
    expect(h.logs()).toContainEqual(expect.objectContaining({
      level: 'warn', instanceId: INSTANCE, containerInstanceArns: [CI], error: expect.objectContaining({ name: 'AttributeLimitExceededException' }),
    }));
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand)).toHaveLength(0);
    expect(summary).toMatchObject({ outcomes: { draining: 1 }, errors: 0 });
  });

  test('is released as soon as it is empty', async () => {
    // GIVEN the same registration, DRAINING without a record, every task STOPPED
    stageTerminating({ attributes: TEN_CUSTOM_ATTRIBUTES, tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    const h = harness();

    // WHEN a lifecycle event is looked at
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN deregistered without force and completed
    expect(mutatingCalls().filter(c => c.command !== 'PutAttributesCommand')).toEqual([
      { command: 'DeregisterContainerInstanceCommand', input: { cluster: 'my-cluster', containerInstance: CI, force: false } },
      { command: 'CompleteLifecycleActionCommand', input: completeInput },
    ]);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });
});

describe('when is an instance drained', () => {
  test.each([
    ['running tasks', { running: 2, pending: 0 }],
    ['pending tasks', { running: 0, pending: 1 }],
  ])('is not drained while it has %s, and the tasks are not even listed', async (_name, counts) => {
    stageTerminating(counts);
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(summary.outcomes).toEqual({ draining: 1 });
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
    expect(mutatingCalls()).toEqual([]);
  });

  test.each(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING'])('is not drained when its counts are 0 but a task is still %s', async lastStatus => {
    // GIVEN counts of 0, and a task whose lastStatus is not STOPPED yet (aws/aws-cdk#13506), its resources
    // already shown as free (aws/containers-roadmap#575): nothing but the task read tells it is still stopping
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus }, { arn: taskArn('t2'), lastStatus: 'STOPPED' }] }, 'Terminating:Wait', {
      releaseResourcesAt: 'desired-stopped',
    });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input)).toEqual([
      { cluster: 'my-cluster', containerInstance: CI, desiredStatus: 'STOPPED', nextToken: undefined },
    ]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0].args[0].input.tasks).toEqual([taskArn('t1'), taskArn('t2')]);
    expect(summary.outcomes).toEqual({ draining: 1 });
    expect(mutatingCalls()).toEqual([]);
  });

  test('is drained when every task is STOPPED: Auto Scaling confirms, then deregister without force, then complete with CONTINUE', async () => {
    // GIVEN a recorded drain (a duplicate event) with counts of 0 and only STOPPED tasks
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN Auto Scaling's word that it waits, a full lookup, the tasks, deregister, complete
    expect(callSequence()).toEqual([
      'DescribeAutoScalingInstances', 'ListContainerInstances', 'DescribeContainerInstances', 'ListTasks', 'DescribeTasks',
      'DeregisterContainerInstance', 'CompleteLifecycleAction',
    ]);
    expect(mutatingCalls()).toEqual([
      { command: 'DeregisterContainerInstanceCommand', input: { cluster: 'my-cluster', containerInstance: CI, force: false } },
      { command: 'CompleteLifecycleActionCommand', input: completeInput },
    ]);
    expect(summary.outcomes).toEqual({ drained: 1 });
    expect(h.metricValues(METRIC.DRAINS_COMPLETED)).toEqual([1]);
    expect(h.metricValues(METRIC.DRAIN_DURATION)).toEqual([60]);
  });

  test('an ACTIVE instance whose tasks all STOPPED is set DRAINING, recorded and released in the same invocation', async () => {
    stageTerminating({ status: 'ACTIVE', attributes: {}, tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(callSequence()).toEqual([
      // One read of Auto Scaling and one lookup by instance id, both before the first write: none again before the release.
      'DescribeAutoScalingInstances', 'ListContainerInstances', 'DescribeContainerInstances', 'UpdateContainerInstancesState', 'PutAttributes',
      'ListTasks', 'DescribeTasks', 'DeregisterContainerInstance', 'CompleteLifecycleAction',
    ]);
    expect(summary.outcomes).toEqual({ drained: 1 });
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
    expect(h.metricValues(METRIC.DRAIN_DURATION)).toEqual([0]);
  });

  test('is not released when Auto Scaling says the instance no longer waits (a late duplicate event)', async () => {
    // GIVEN a drained registration whose instance is back InService (e.g. from the warm pool)
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] }, 'InService');
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(mutatingCalls()).toEqual([]);
    expect(summary.outcomes).toEqual({ 'left-alone': 1 });
  });
});

describe('deregistration', () => {
  test('a deregistration ECS refuses before the deadline is not forced: the instance keeps waiting (no force, no completion)', async () => {
    // GIVEN every task STOPPED, but ECS still counts one (it lags behind a task that just stopped)
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    ecsMock.on(DeregisterContainerInstanceCommand, { force: false }).rejects(ecsInvalidParameter('Found running tasks on the instance.'));
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN one deregistration without force, no force, no completion, no error: still draining
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.force)).toEqual([false]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(summary).toMatchObject({ outcomes: { draining: 1 }, errors: 0 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/refused the deregistration/), containerInstanceArn: CI }));
  });

  test('an event-driven invocation asks a refused deregistration again after short waits, and then releases', async () => {
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    ecsMock.on(DeregisterContainerInstanceCommand, { force: false })
      .rejectsOnce(ecsInvalidParameter('Found running tasks on the instance.'))
      .resolves({ containerInstance: { containerInstanceArn: CI, status: 'INACTIVE' } });
    const h = harness({}, NOW, { retryRefusedDeregistrationMs: [1, 1] });
    const summary = await h.controller.handle(lifecycleEvent());
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.force)).toEqual([false, false]);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('a refusal without force costs no describe: an instance another invocation deregistered meanwhile is settled by the next look', async () => {
    // GIVEN a drained instance whose deregistration is refused (another invocation got there first)
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    ecsMock.on(DeregisterContainerInstanceCommand).rejects(ecsInvalidParameter('The referenced container instance is not active'));
    const h = harness();

    // WHEN its lifecycle action is looked at: refused, no describe spent on it, still draining
    await expect(h.controller.handle(lifecycleEvent())).resolves.toMatchObject({ outcomes: { draining: 1 }, errors: 0 });
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(1);

    // AND the next look finds no live registration and completes
    stageTerminating({ status: 'INACTIVE' });
    await expect(h.controller.handle(lifecycleEvent())).resolves.toMatchObject({ outcomes: { 'not-registered': 1 }, errors: 0 });
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
  });
});

describe('the drain deadline', () => {
  test('when it has passed, force-deregisters with tasks still running and completes', async () => {
    stageTerminating({ running: 4, attributes: drainRecord(7200) });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
    expect(mutatingCalls()).toEqual([
      { command: 'DeregisterContainerInstanceCommand', input: { cluster: 'my-cluster', containerInstance: CI, force: true } },
      { command: 'CompleteLifecycleActionCommand', input: completeInput },
    ]);
    expect(summary.outcomes).toEqual({ forced: 1 });
    expect(h.metricValues(METRIC.DRAINS_FORCED)).toEqual([1]);
    expect(h.metricValues(METRIC.DRAIN_DURATION)).toEqual([7200]);
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', outcome: 'forced', instanceId: INSTANCE, groupName: GROUP }));
  });

  test('with forceDeregisterOnTimeout=false, completes without deregistering', async () => {
    stageTerminating({ running: 4, attributes: drainRecord(7200) });
    const h = harness({ forceDeregisterOnTimeout: false });
    await h.controller.handle(lifecycleEvent());
    expect(mutatingCalls()).toEqual([{ command: 'CompleteLifecycleActionCommand', input: completeInput }]);
    expect(h.metricValues(METRIC.DRAINS_FORCED)).toEqual([1]);
  });

  test('is not passed one second before it', async () => {
    stageTerminating({ running: 4, attributes: drainRecord(3599) });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(summary.outcomes).toEqual({ draining: 1 });
    expect(mutatingCalls()).toEqual([]);
  });
});

describe('lifecycle heartbeats', () => {
  test('a record whose hook clock is unknown gets a heartbeat at once, and the record keeps its time', async () => {
    // GIVEN a drain recorded without a hook clock (written late, by an earlier version), and an event without a time
    stageTerminating({ running: 1, attributes: drainRecord(300, 3600, null) });
    const h = harness();
    const event = lifecycleEvent();
    delete event.time;

    // WHEN the instance is looked at
    await h.controller.handle(event);

    // THEN a heartbeat, then the record rewritten with hook = now
    expect(callSequence().slice(-2)).toEqual(['RecordLifecycleActionHeartbeat', 'PutAttributes']);
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand).map(c => c.args[0].input)).toEqual([
      { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: INSTANCE },
    ]);
    expect(written()).toEqual([{ targetId: CI, value: drainRecordValue(NOW_S - 300 + 3600, NOW_S - 300, NOW_S) }]);
  });

  test('are sent once half the hook timeout passed and the hook would expire before the deadline and margin', async () => {
    // GIVEN a drain recorded 30 minutes late: its hook clock (the action's start) 40 minutes ago
    const started = NOW_S - 600;
    stageTerminating({ running: 1, attributes: { [ATTRIBUTE.DRAIN]: drainRecordValue(started + 3600, started, NOW_S - 2400) } });
    const h = harness();
    const event = lifecycleEvent();
    event.time = new Date(NOW - 2400_000).toISOString();
    await h.controller.handle(event);
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand)).toHaveLength(1);
    expect(written()).toEqual([{ targetId: CI, value: drainRecordValue(started + 3600, started, NOW_S) }]);
  });

  test.each([
    ['the hook outlives the deadline by the margin', drainRecord(3500)],
    ['less than half the hook timeout passed since its clock started', { [ATTRIBUTE.DRAIN]: drainRecordValue(NOW_S + 1800, NOW_S - 1800, NOW_S - 1900) }],
  ])('are not sent when %s', async (_name, attributes) => {
    stageTerminating({ running: 1, attributes });
    await harness().controller.handle(lifecycleEvent());
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand)).toHaveLength(0);
    expect(mutatingCalls()).toEqual([]);
  });

  test('a heartbeat answered "no active lifecycle action" is no error, and the record is not rewritten', async () => {
    stageTerminating({ running: 1, attributes: drainRecord(300, 3600, null) });
    autoScalingMock.on(RecordLifecycleActionHeartbeatCommand).callsFake(overWhenRefused(noActiveLifecycleAction(INSTANCE)));
    const h = harness();
    const event = lifecycleEvent();
    delete event.time;
    const summary = await h.controller.handle(event);
    expect(summary.errors).toBe(0);
    expect(ecsMock.commandCalls(PutAttributesCommand)).toHaveLength(0);
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'lifecycle heartbeat sent', answer: 'no-active-action', instanceId: INSTANCE }));
  });
});

describe('an instance going back to the warm pool (ReuseOnScaleIn)', () => {
  function warmPoolEvent() {
    const event = lifecycleEvent();
    Object.assign(event.detail, { Origin: 'AutoScalingGroup', Destination: 'WarmPool' });
    return event;
  }

  test('is drained like any other, but its registration is kept: the record becomes a parked marker, then the action completes', async () => {
    // GIVEN a drained instance waiting in Warmed:Pending:Wait
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] }, 'Warmed:Pending:Wait');
    const h = harness();

    // WHEN its lifecycle action (Destination WarmPool) arrives
    const summary = await h.controller.handle(warmPoolEvent());

    // THEN no deregistration (its agent re-registers with the same ARN when it comes back), a parked marker, a completion
    expect(mutatingCalls()).toEqual([
      { command: 'PutAttributesCommand', input: expect.objectContaining({ attributes: [expect.objectContaining({ targetId: CI, value: `parked:${NOW_S}` })] }) },
      { command: 'CompleteLifecycleActionCommand', input: completeInput },
    ]);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('a marker that cannot be written holds the completion (a stale record would start its next drain late)', async () => {
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] }, 'Warmed:Pending:Wait');
    ecsMock.on(PutAttributesCommand).rejects(Object.assign(new Error('internal'), { name: 'ServerException', $fault: 'server' }));
    const h = harness();
    await expect(h.controller.handle(warmPoolEvent())).rejects.toThrow(/could not be handled/);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
  });
});

describe('races with other invocations', () => {
  const drained = { tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] };

  test('"No active Lifecycle Action found" on completion counts as done once Auto Scaling says the action is over', async () => {
    stageTerminating(drained);
    autoScalingMock.on(CompleteLifecycleActionCommand).callsFake(overWhenRefused(noActiveLifecycleAction(INSTANCE)));
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(summary).toMatchObject({ outcomes: { drained: 1 }, errors: 0 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'lifecycle action was already over', instanceId: INSTANCE }));
    expect(h.metricValues(METRIC.ERRORS)).toEqual([]);
  });

  test('another ValidationError on completion is an error', async () => {
    stageTerminating(drained);
    autoScalingMock.on(CompleteLifecycleActionCommand).rejects(Object.assign(noActiveLifecycleAction(INSTANCE), { message: 'Rate exceeded' }));
    const h = harness();
    await expect(h.controller.handle(lifecycleEvent())).rejects.toThrow(/1 instance\(s\) could not be handled/);
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
  });

  test('a late duplicate event, after the action completed and the container instance was deregistered, changes nothing', async () => {
    stageWorld({
      instances: [{ ...TERMINATING, lifecycleState: 'Terminating:Proceed' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'INACTIVE', attributes: drainRecord(600) }],
    });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(mutatingCalls()).toEqual([]);
    expect(summary).toMatchObject({ outcomes: { 'left-alone': 1 }, errors: 0 });
  });

  test('a completion another invocation made first ("No active Lifecycle Action found", and Auto Scaling agrees) is no error', async () => {
    stageWorld({ instances: [TERMINATING] });
    autoScalingMock.on(CompleteLifecycleActionCommand).rejects(noActiveLifecycleAction(INSTANCE));
    autoScalingMock.on(DescribeAutoScalingInstancesCommand)
      .resolvesOnce({ AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: GROUP, LifecycleState: 'Terminating:Wait' } as never] })
      .resolves({ AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: GROUP, LifecycleState: 'Terminating:Proceed' } as never] });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'lifecycle action was already over', instanceId: INSTANCE }));
    expect(summary).toMatchObject({ outcomes: { 'not-registered': 1 }, errors: 0 });
  });

  test('a deleted cluster has no registrations: the action is completed instead of waiting out the hook', async () => {
    stageTerminating({ running: 2 });
    ecsMock.on(ListContainerInstancesCommand).rejects(Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }));
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(callSequence()).toEqual(['DescribeAutoScalingInstances', 'ListContainerInstances', 'CompleteLifecycleAction']);
    expect(summary).toMatchObject({ outcomes: { 'not-registered': 1 }, errors: 0 });
  });

  test('a completion answered "AutoScalingGroup name not found" (group deleted) counts as done', async () => {
    stageTerminating(drained);
    autoScalingMock.on(CompleteLifecycleActionCommand).callsFake(() => {
      // The group and its instances are gone: Auto Scaling describes none of them any more.
      autoScalingMock.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
      throw Object.assign(noActiveLifecycleAction(INSTANCE), { message: `AutoScalingGroup name not found - AutoScalingGroup ${GROUP} not found` });
    });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(summary).toMatchObject({ outcomes: { drained: 1 }, errors: 0 });
  });

  test('a failing listing rejects the invocation (Lambda retries) and is logged with the instance', async () => {
    stageTerminating();
    ecsMock.on(ListContainerInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const h = harness();
    await expect(h.controller.handle(lifecycleEvent())).rejects.toThrow('Rate exceeded');
    expect(h.logs()).toContainEqual(expect.objectContaining({
      level: 'error', message: 'could not handle the event', trigger: 'lifecycle-action', instanceId: INSTANCE, groupName: GROUP,
    }));
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
    expect(mutatingCalls()).toEqual([]);
  });

  test('with deferOnThrottling, a throttled listing leaves the instance to the reconcile pass without failing', async () => {
    stageTerminating();
    ecsMock.on(ListContainerInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const h = harness({}, NOW, { deferOnThrottling: true });
    await expect(h.controller.handle(lifecycleEvent())).resolves.toMatchObject({ deferred: 1, errors: 0 });
  });
});

describe('DescribeAutoScalingInstances', () => {
  test('follows NextToken', async () => {
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    autoScalingMock.on(DescribeAutoScalingInstancesCommand)
      .resolvesOnce({ AutoScalingInstances: [], NextToken: 'more' })
      .resolvesOnce({ AutoScalingInstances: [{ InstanceId: INSTANCE, AutoScalingGroupName: GROUP, LifecycleState: 'Terminating:Wait' } as never] });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(autoScalingMock.commandCalls(DescribeAutoScalingInstancesCommand).map(c => c.args[0].input.NextToken)).toEqual([undefined, 'more']);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });
});

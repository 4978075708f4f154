/**
 * The other triggers: ECS container instance events and Spot interruption warnings; and the
 * rule that the controller never touches what it does not own. The reconcile pass has its own
 * file (reconcile.test.ts).
 */
import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeleteAttributesCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import {
  allCalls, autoScalingMock, callSequence, ciArn, CLUSTER, CLUSTER_ARN, containerInstanceEvent, drainRecord, drainRecordValue, ecsMock,
  FakeContainerInstance, GROUP, harness, HOOK, INSTANCE, lifecycleEvent, mutatingCalls, NOW, OTHER_GROUP, parkedMarker, resources, scheduledEvent,
  spotEvent, stageWorld, taskArn, taskStoppedEvent,
} from './fixtures';
import { ATTRIBUTE, METRIC } from '../../src/constants';

const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');
const NOW_S = NOW / 1000;

beforeEach(() => stageWorld());

/** The event's attributes, as ECS sends them: built-in ones and the controller's record. */
function withAttributes(attributes: Record<string, string>, detail: Record<string, unknown> = {}) {
  return containerInstanceEvent({
    ...detail,
    attributes: [{ name: 'ecs.os-type', value: 'linux' }, ...Object.entries(attributes).map(([name, value]) => ({ name, value }))],
  });
}

describe('ECS container instance state change events', () => {
  /** A terminating instance of the managed group with one DRAINING, recorded registration whose tasks stopped. */
  function stageDraining(ci: Partial<FakeContainerInstance> = {}, lifecycleState = 'Terminating:Wait', groupName = GROUP): void {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName, lifecycleState }],
      containerInstances: [{
        arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(120), tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }], ...ci,
      }],
    });
  }

  test.each([
    ['a running task', { runningTasksCount: 1 }],
    ['a pending task', { pendingTasksCount: 1 }],
    ['counts 0 but CPU still held by a stopping task', { remainingResources: resources(1024, 7680) }],
    ['counts 0 but memory still held by a stopping task', { remainingResources: resources(2048, 7168) }],
  ])('with %s, make no API call', async (_name, detail) => {
    stageDraining();
    const h = harness();
    const summary = await h.controller.handle(containerInstanceEvent(detail));
    expect(allCalls()).toHaveLength(0);
    expect(summary.outcomes).toEqual({});
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'debug', message: 'container instance still has tasks', containerInstanceArn: CI }));
  });

  test('with counts 0 of its only registration: Auto Scaling confirms it waits, the listing confirms no other registration, then tasks, deregister, complete', async () => {
    // GIVEN a terminating instance whose recorded drain just finished
    stageDraining();
    const h = harness();

    // WHEN ECS reports it empty
    const summary = await h.controller.handle(withAttributes(drainRecord(120)));

    // THEN exactly these calls: the event stands in for a describe of its only registration
    expect(callSequence()).toEqual([
      'DescribeAutoScalingInstances', 'ListContainerInstances', 'ListTasks', 'DescribeTasks', 'DeregisterContainerInstance', 'CompleteLifecycleAction',
    ]);
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input)).toEqual([
      { cluster: CLUSTER, filter: `ec2InstanceId in [${INSTANCE}]`, maxResults: 100, nextToken: undefined },
    ]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input)).toEqual([
      { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: INSTANCE, LifecycleActionResult: 'CONTINUE' },
    ]);
    expect(summary.outcomes).toEqual({ drained: 1 });
    expect(h.metricValues(METRIC.DRAIN_DURATION)).toEqual([120]);
  });

  test('a newer ACTIVE registration of the same EC2 instance (its agent registered again) is drained too, and holds the release', async () => {
    // GIVEN the recorded registration is empty, but the agent registered the instance again and got a task there
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [
        { arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(120), tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] },
        { arn: ciArn('newer'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
      ],
    });
    const h = harness();

    // WHEN ECS reports the old one empty
    const summary = await h.controller.handle(withAttributes(drainRecord(120)));

    // THEN the newer one is set DRAINING and gets the same drain; nothing is deregistered or completed
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances)).toEqual([[ciArn('newer')]]);
    expect(ecsMock.commandCalls(PutAttributesCommand).flatMap(c => c.args[0].input.attributes!)).toEqual([
      { name: ATTRIBUTE.DRAIN, value: drainRecordValue(NOW_S - 120 + 3600, NOW_S - 120, NOW_S - 120), targetType: 'container-instance', targetId: ciArn('newer') },
    ]);
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand)).toHaveLength(0);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('with two recorded registrations, releases only when both are drained', async () => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [
        { arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(120) },
        { arn: ciArn('second'), ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(120) },
      ],
    });
    const h = harness();
    const summary = await h.controller.handle(withAttributes(drainRecord(120)));
    // one listing by instance id, one describe of what it listed beyond the event's registration
    expect(ecsMock.commandCalls(ListContainerInstancesCommand)).toHaveLength(1);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances)).toEqual([[ciArn('second')]]);
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.containerInstance).sort()).toEqual([CI, ciArn('second')].sort());
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test.each([
    ['InService (drained after a Spot warning that did not end it)', 'InService'],
    ['Terminating:Proceed (its action completed by someone else)', 'Terminating:Proceed'],
  ])('a recorded drain of an instance %s is not deregistered', async (_name, lifecycleState) => {
    stageDraining({}, lifecycleState);
    const h = harness();
    const summary = await h.controller.handle(withAttributes(drainRecord(120)));
    expect(callSequence()).toEqual(['DescribeAutoScalingInstances']);
    expect(mutatingCalls()).toEqual([]);
    expect(summary.outcomes).toEqual({});
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: `event ignored: the instance is ${lifecycleState}` }));
  });

  test('with several managed groups, completes in the instance\'s own group', async () => {
    stageDraining({}, 'Terminating:Wait', OTHER_GROUP);
    const h = harness({ autoScalingGroupNames: new Set([GROUP, OTHER_GROUP]) });
    const summary = await h.controller.handle(withAttributes(drainRecord(120)));
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.AutoScalingGroupName)).toEqual([OTHER_GROUP]);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('a drain without a record (its registration holds the 10 custom attributes ECS allows) is released when empty too', async () => {
    const full = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`team.label${i}`, `v${i}`]));
    stageDraining({ attributes: full });
    const h = harness();
    const summary = await h.controller.handle(withAttributes(full));
    // (the record is tried, and refused)
    expect(mutatingCalls().map(c => c.command)).toEqual(['PutAttributesCommand', 'DeregisterContainerInstanceCommand', 'CompleteLifecycleActionCommand']);
    expect(h.metricValues(METRIC.DRAINS_WITHOUT_RECORD)).toEqual([1]);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('a stale event (the registration runs a task again) is caught by ECS refusing the deregistration: no force, no completion', async () => {
    stageDraining({ running: 1 });
    const h = harness();
    const summary = await h.controller.handle(withAttributes(drainRecord(120)));
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.force)).toEqual([false]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('a stale event (a task is still stopping) is caught by the task read', async () => {
    stageDraining({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPING' }] });
    const h = harness();
    const summary = await h.controller.handle(withAttributes(drainRecord(120)));
    expect(mutatingCalls()).toEqual([]);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('without an ec2InstanceId, a describe names the instance', async () => {
    stageDraining();
    const event = withAttributes(drainRecord(120));
    delete event.detail.ec2InstanceId;
    const h = harness();
    const summary = await h.controller.handle(event);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)[0].args[0].input.containerInstances).toEqual([CI]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.InstanceId)).toEqual([INSTANCE]);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('a failing Auto Scaling read rejects the invocation and is logged with the container instance', async () => {
    autoScalingMock.on(DescribeAutoScalingInstancesCommand).rejects(Object.assign(new Error('Internal'), { name: 'InternalFailure' }));
    const h = harness();
    await expect(h.controller.handle(containerInstanceEvent())).rejects.toThrow('Internal');
    expect(h.logs()).toContainEqual(expect.objectContaining({
      level: 'error', trigger: 'container-instance-change', containerInstanceArn: CI, instanceId: INSTANCE,
    }));
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
  });

  test('of another cluster are ignored', async () => {
    const h = harness();
    await h.controller.handle(containerInstanceEvent({ clusterArn: CLUSTER_ARN.replace('my-cluster', 'other-cluster') }));
    expect(allCalls()).toHaveLength(0);
    expect(h.lines).toHaveLength(1);
    expect(h.logs()[0]).toMatchObject({ level: 'info', message: 'event ignored: another cluster', cluster: 'my-cluster' });
  });

  test('of a cluster whose name ends like ours are ignored', async () => {
    const h = harness();
    await h.controller.handle(containerInstanceEvent({ clusterArn: CLUSTER_ARN.replace('my-cluster', 'not-my-cluster') }));
    expect(allCalls()).toHaveLength(0);
  });

  test('sent before the drain was recorded, and delivered late, leave its record as it is', async () => {
    // GIVEN a recorded drain whose last task is still stopping (DEACTIVATING), and a late copy of the
    // event ECS sent when it became DRAINING, before the controller wrote the record: no attributes
    stageDraining({ tasks: [{ arn: taskArn('t1'), lastStatus: 'DEACTIVATING' }] });
    const h = harness();

    // WHEN that event arrives
    await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, attributes: [] }));

    // THEN the record was not written again: its deadline and start stay those of the drain
    expect(ecsMock.commandCalls(PutAttributesCommand)).toHaveLength(0);
    expect(h.logs().filter(l => l.message === 'drain started')).toEqual([]);
  });

  test('of a status other than DRAINING make no call', async () => {
    stageDraining();
    const h = harness();
    await h.controller.handle(containerInstanceEvent({ status: 'ACTIVE', runningTasksCount: 0 }));
    expect(allCalls()).toHaveLength(0);
    expect(h.logs()).toEqual([expect.objectContaining({ level: 'info', message: 'event ignored: container instance is ACTIVE, not DRAINING', containerInstanceArn: CI })]);
  });

  describe('a registration parked for the warm pool', () => {
    test('whose instance is back in service is set ACTIVE again and its marker removed', async () => {
      // GIVEN the instance returned from the warm pool; its agent reconnected the parked registration, still DRAINING
      stageWorld({
        instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
        containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: parkedMarker() }],
      });
      const h = harness();

      // WHEN ECS reports the reconnection
      const summary = await h.controller.handle(withAttributes(parkedMarker(), { agentConnected: true }));

      // THEN ACTIVE again, the parked marker replaced by a reactivation marker, nothing completed or deregistered
      expect(mutatingCalls()).toEqual([
        { command: 'UpdateContainerInstancesStateCommand', input: { cluster: CLUSTER, containerInstances: [CI], status: 'ACTIVE' } },
        { command: 'PutAttributesCommand', input: { cluster: CLUSTER, attributes: [{ name: ATTRIBUTE.DRAIN, value: `reactivated:${NOW_S}`, targetType: 'container-instance', targetId: CI }] } },
      ]);
      expect(summary.outcomes).toEqual({ reactivated: 1 });
    });

    test.each([
      ['DRAINING with a job that DRAINING does not stop', { status: 'DRAINING', running: 1, attributes: drainRecord(480) }],
      ['ACTIVE again with tasks (it was back in service since)', { status: 'ACTIVE', running: 3 }],
    ])('a late copy of its empty, parked event does not send the instance back to the pool while its registration is %s', async (_name, current) => {
      // GIVEN an instance on its way back into the warm pool whose registration runs tasks now
      stageWorld({
        instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Warmed:Pending:Wait' }],
        containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, ...current }],
      });
      const h = harness();

      // WHEN the event of its agent reconnecting after the last stay in the pool (parked, DRAINING, nothing running) arrives again
      const summary = await h.controller.handle(withAttributes(parkedMarker(), {
        agentConnected: true,
        runningTasksCount: 0,
        pendingTasksCount: 0,
        registeredResources: resources(2048, 7680),
        remainingResources: resources(2048, 7680),
      }));

      // THEN it is neither parked nor released: its registration is read afresh, and set DRAINING if it was ACTIVE
      expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
      const written = ecsMock.commandCalls(PutAttributesCommand).flatMap(c => c.args[0].input.attributes!).map(a => a.value);
      expect(written.filter(value => value?.startsWith('parked:'))).toEqual([]);
      expect(summary.outcomes).toEqual({ draining: 1 });
      expect(ecsMock.commandCalls(DescribeContainerInstancesCommand).flatMap(c => c.args[0].input.containerInstances)).toContain(CI);
      expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input))
        .toEqual(current.status === 'ACTIVE' ? [{ cluster: CLUSTER, containerInstances: [CI], status: 'DRAINING' }] : []);
    });

    test('whose instance is still stopped in the pool is left alone', async () => {
      stageWorld({
        instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Warmed:Stopped' }],
        containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: parkedMarker() }],
      });
      const h = harness();
      await h.controller.handle(withAttributes(parkedMarker()));
      expect(mutatingCalls()).toEqual([]);
      expect(ecsMock.commandCalls(DeleteAttributesCommand)).toHaveLength(0);
    });
  });
});

describe('ECS task state change events (a task reached STOPPED)', () => {
  function stage(ci: Partial<FakeContainerInstance> = {}, lifecycleState = 'Terminating:Wait'): void {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState }],
      containerInstances: [{
        arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(120), tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }], ...ci,
      }],
    });
  }

  test('the last task of a draining instance that waits in the hook: read, deregistered and released at once', async () => {
    stage();
    const h = harness();
    const summary = await h.controller.handle(taskStoppedEvent(CI));
    expect(summary.outcomes).toEqual({ drained: 1 });
    expect(callSequence()).toEqual([
      'DescribeContainerInstances', 'DescribeAutoScalingInstances', 'ListContainerInstances',
      'ListTasks', 'DescribeTasks', 'DeregisterContainerInstance', 'CompleteLifecycleAction',
    ]);
  });

  test.each<[string, Partial<FakeContainerInstance>]>([
    ['ACTIVE (a task of a healthy instance)', { status: 'ACTIVE', attributes: {} }],
    ['DRAINING with a task still running', { running: 1, tasks: [{ arn: taskArn('t2'), lastStatus: 'RUNNING' }] }],
    ['DRAINING with a task still holding CPU', { tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }, { arn: taskArn('t2'), lastStatus: 'STOPPING', cpu: 1024, memory: 0 }] }],
  ])('a task of a container instance %s: one read, nothing else', async (_name, ci) => {
    stage(ci);
    const h = harness();
    const summary = await h.controller.handle(taskStoppedEvent(CI));
    expect(summary.outcomes).toEqual({});
    expect(callSequence()).toEqual(['DescribeContainerInstances']);
  });

  test('a task of another cluster: no call at all', async () => {
    stage();
    const h = harness();
    await h.controller.handle(taskStoppedEvent(CI, { clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/other' }));
    expect(allCalls()).toHaveLength(0);
  });

  test('the last task of an operator\'s drain (instance in service): read, and left alone', async () => {
    stage({ attributes: {} }, 'InService');
    const h = harness();
    await h.controller.handle(taskStoppedEvent(CI));
    expect(mutatingCalls()).toEqual([]);
  });
});

describe('a container instance DRAINING for another reason (an operator\'s maintenance)', () => {
  test.each([
    ['its EC2 instance is InService in a managed group', GROUP, 'InService'],
    ['its EC2 instance is Terminating:Wait in a group the controller does not manage', OTHER_GROUP, 'Terminating:Wait'],
  ])('is never touched on an ECS event when %s', async (_name, groupName, lifecycleState) => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName, lifecycleState }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING' }],
    });
    const h = harness();
    await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));
    expect(callSequence()).toEqual(['DescribeAutoScalingInstances']);
    expect(mutatingCalls()).toEqual([]);
  });

  test('is never touched by the schedule pass', async () => {
    stageWorld({
      instances: [
        { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' },
        { instanceId: 'i-0fedcba9876543210', groupName: OTHER_GROUP, lifecycleState: 'Terminating:Wait' },
      ],
      containerInstances: [
        { arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING' },
        { arn: ciArn('other'), ec2InstanceId: 'i-0fedcba9876543210', status: 'DRAINING' },
      ],
    });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent());
    expect(mutatingCalls()).toEqual([]);
    expect(summary.outcomes).toEqual({});
  });
});

describe('Spot interruption warnings', () => {
  test('set DRAINING and record the drain of an instance of a managed group (the warning starts the hook clock), without completing anything', async () => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }],
    });
    const h = harness();
    const summary = await h.controller.handle(spotEvent());
    expect(callSequence()).toEqual([
      'DescribeAutoScalingInstances', 'ListContainerInstances', 'DescribeContainerInstances', 'UpdateContainerInstancesState', 'PutAttributes',
    ]);
    expect(ecsMock.commandCalls(PutAttributesCommand)[0].args[0].input.attributes).toEqual([
      { name: ATTRIBUTE.DRAIN, value: drainRecordValue(NOW_S + 3600, NOW_S, NOW_S), targetType: 'container-instance', targetId: CI },
    ]);
    expect(summary).toEqual({ trigger: 'spot-interruption', outcomes: { draining: 1 }, errors: 0, deferred: 0 });
  });

  test('are ignored for an instance of an unmanaged group', async () => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: OTHER_GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }],
    });
    const h = harness();
    const summary = await h.controller.handle(spotEvent());
    expect(mutatingCalls()).toEqual([]);
    expect(ecsMock.calls()).toHaveLength(0);
    expect(summary.outcomes).toEqual({ 'left-alone': 1 });
  });

  test('are ignored for an instance Auto Scaling does not know', async () => {
    const h = harness();
    await h.controller.handle(spotEvent());
    expect(mutatingCalls()).toEqual([]);
  });

  test('are ignored when drainOnSpotInterruption is false', async () => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }],
    });
    const h = harness({ drainOnSpotInterruption: false });
    const summary = await h.controller.handle(spotEvent());
    expect(mutatingCalls()).toEqual([]);
    expect(ecsMock.calls()).toHaveLength(0);
    expect(h.logs()).toContainEqual(expect.objectContaining({ outcome: 'left-alone', message: 'draining on Spot interruption is turned off' }));
    expect(summary.outcomes).toEqual({ 'left-alone': 1 });
  });

  test('the later lifecycle action keeps the deadline recorded at the warning and forces the drain when it passes', async () => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running: 1, attributes: drainRecord(7200) }],
    });
    const h = harness();
    const summary = await h.controller.handle(lifecycleEvent());
    expect(ecsMock.commandCalls(PutAttributesCommand)).toHaveLength(0);
    expect(summary.outcomes).toEqual({ forced: 1 });
  });
});

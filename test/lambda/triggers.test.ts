/**
 * The other triggers: the reconcile schedule, ECS container instance events and Spot
 * interruption warnings; and the rule that the controller never touches what it does not own.
 */
import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeContainerInstancesCommand,
  ListContainerInstancesCommand,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import {
  allCalls, autoScalingMock, ciArn, CLUSTER_ARN, containerInstanceEvent, drainRecord, ecsMock, GROUP, harness, INSTANCE,
  mutatingCalls, NOW, OTHER_GROUP, scheduledEvent, spotEvent, stageWorld,
} from './fixtures';
import { ATTRIBUTE, METRIC } from '../../src/constants';

const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');

beforeEach(() => stageWorld());

describe('the reconcile schedule pass', () => {
  test('follows every page of DescribeAutoScalingGroups and processes only Terminating:Wait instances', async () => {
    // GIVEN two pages of instances in the managed group, one terminating on each page
    autoScalingMock.on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({
        AutoScalingGroups: [{
          AutoScalingGroupName: GROUP,
          Instances: [
            { InstanceId: 'i-00000000000000001', LifecycleState: 'InService' },
            { InstanceId: 'i-00000000000000002', LifecycleState: 'Terminating:Wait' },
          ],
        } as never],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        AutoScalingGroups: [{
          AutoScalingGroupName: GROUP,
          Instances: [
            { InstanceId: 'i-00000000000000003', LifecycleState: 'Pending' },
            { InstanceId: 'i-00000000000000004', LifecycleState: 'Terminating:Wait' },
          ],
        } as never],
      });
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN both pages were read, and only the two terminating instances were looked up (neither in the cluster: released)
    expect(autoScalingMock.commandCalls(DescribeAutoScalingGroupsCommand).map(c => c.args[0].input)).toEqual([
      { AutoScalingGroupNames: [GROUP], MaxRecords: 100, NextToken: undefined },
      { AutoScalingGroupNames: [GROUP], MaxRecords: 100, NextToken: 'page-2' },
    ]);
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input.filter)).toEqual([
      'ec2InstanceId in [i-00000000000000002, i-00000000000000004]',
    ]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.InstanceId).sort()).toEqual([
      'i-00000000000000002', 'i-00000000000000004',
    ]);
    expect(summary).toEqual({ trigger: 'reconcile', outcomes: { 'not-registered': 2 }, errors: 0, deferred: 0 });
  });

  test('heals a lost lifecycle event: starts the drain of a Terminating:Wait instance nobody drained', async () => {
    // GIVEN a terminating instance whose container instance is still ACTIVE with tasks (its event was lost)
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }],
    });
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN the drain starts
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances)).toEqual([[CI]]);
    expect(ecsMock.commandCalls(PutAttributesCommand).flatMap(c => c.args[0].input.attributes!.map(a => a.name)).sort()).toEqual([
      ATTRIBUTE.DEADLINE, ATTRIBUTE.STARTED,
    ]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('handles 250 terminating instances with batched reads (tens of calls, not hundreds)', async () => {
    // GIVEN 250 terminating instances, each with one drained container instance
    const ids = Array.from({ length: 250 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    stageWorld({
      instances: ids.map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState: 'Terminating:Wait' })),
      containerInstances: ids.map(id => ({ arn: ciArn(`ci-${id}`), ec2InstanceId: id, status: 'DRAINING', running: 3, attributes: drainRecord(60) })),
    });
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN every instance is handled, with at most 100 ARNs per DescribeContainerInstances
    expect(summary.outcomes).toEqual({ draining: 250 });
    const describes = ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances!.length);
    expect(Math.max(...describes)).toBeLessThanOrEqual(100);
    expect(describes.reduce((a, b) => a + b, 0)).toBe(250);
    expect(ecsMock.calls().length + autoScalingMock.calls().length).toBeLessThan(30);
  });

  test('defers the rest of the pass when the invocation is about to run out of time', async () => {
    // GIVEN 150 terminating instances and 20 seconds left
    const ids = Array.from({ length: 150 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    stageWorld({ instances: ids.map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState: 'Terminating:Wait' })) });
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent(), () => 20_000);

    // THEN nothing is taken on, and the deferral is logged
    expect(summary.deferred).toBe(150);
    expect(mutatingCalls()).toEqual([]);
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', deferred: 150 }));
  });
});

describe('a container instance DRAINING for another reason (an operator\'s maintenance)', () => {
  test.each([
    ['its EC2 instance is InService in a managed group', GROUP, 'InService'],
    ['its EC2 instance is Terminating:Wait in a group the controller does not manage', OTHER_GROUP, 'Terminating:Wait'],
  ])('is never touched on an ECS event when %s', async (_name, groupName, lifecycleState) => {
    // GIVEN a manually DRAINING, empty container instance
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName, lifecycleState }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING' }],
    });
    const h = harness();

    // WHEN ECS reports it empty
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN it is left alone: no change and no ECS read at all
    expect(mutatingCalls()).toEqual([]);
    expect(ecsMock.calls()).toHaveLength(0);
    expect(summary.outcomes).toEqual({ 'left-alone': 1 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ outcome: 'left-alone', instanceId: INSTANCE }));
  });

  test('is never touched by the schedule pass', async () => {
    // GIVEN a manually DRAINING container instance on an InService instance of the managed group,
    // and one on a Terminating:Wait instance of another group
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

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN only the managed group was read, and nothing touched
    expect(autoScalingMock.commandCalls(DescribeAutoScalingGroupsCommand).map(c => c.args[0].input.AutoScalingGroupNames)).toEqual([[GROUP]]);
    expect(mutatingCalls()).toEqual([]);
    expect(ecsMock.calls()).toHaveLength(0);
    expect(summary.outcomes).toEqual({});
  });
});

describe('ECS container instance state change events', () => {
  test('with tasks still running, make no API call', async () => {
    // GIVEN any world
    const h = harness();

    // WHEN ECS reports a DRAINING instance with a running task
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 1 }));

    // THEN nothing is called
    expect(allCalls()).toHaveLength(0);
    expect(summary.outcomes).toEqual({});
  });

  test('with counts 0, go on to check the instance and release it when drained', async () => {
    // GIVEN a terminating instance whose drain just finished
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(120) }],
    });
    const h = harness();

    // WHEN ECS reports it empty
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN Auto Scaling is asked about the instance, and it is released
    expect(autoScalingMock.commandCalls(DescribeAutoScalingInstancesCommand)[0].args[0].input.InstanceIds).toEqual([INSTANCE]);
    expect(mutatingCalls().map(c => c.command)).toEqual(['DeregisterContainerInstanceCommand', 'CompleteLifecycleActionCommand']);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('without an ec2InstanceId, reads the container instance to find it', async () => {
    // GIVEN an event without ec2InstanceId
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running: 1, attributes: drainRecord(120) }],
    });
    const event = containerInstanceEvent();
    delete event.detail.ec2InstanceId;
    const h = harness();

    // WHEN it arrives
    const summary = await h.controller.handle(event);

    // THEN the instance is found through DescribeContainerInstances
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)[0].args[0].input.containerInstances).toEqual([CI]);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('of another cluster are ignored', async () => {
    // GIVEN an event of another cluster
    const h = harness();

    // WHEN it arrives
    await h.controller.handle(containerInstanceEvent({ clusterArn: CLUSTER_ARN.replace('my-cluster', 'other-cluster') }));

    // THEN no call and one log line
    expect(allCalls()).toHaveLength(0);
    expect(h.lines).toHaveLength(1);
    expect(h.logs()[0]).toMatchObject({ level: 'info', message: 'event ignored: another cluster', cluster: 'my-cluster' });
  });

  test('of a cluster whose name ends like ours are ignored', async () => {
    // GIVEN an event of cluster "not-my-cluster"
    const h = harness();

    // WHEN it arrives
    await h.controller.handle(containerInstanceEvent({ clusterArn: CLUSTER_ARN.replace('my-cluster', 'not-my-cluster') }));

    // THEN no call
    expect(allCalls()).toHaveLength(0);
  });

  test('of a status other than DRAINING make no call', async () => {
    // GIVEN any world
    const h = harness();

    // WHEN an ACTIVE instance reports 0 tasks
    await h.controller.handle(containerInstanceEvent({ status: 'ACTIVE', runningTasksCount: 0 }));

    // THEN no call
    expect(allCalls()).toHaveLength(0);
  });
});

describe('Spot interruption warnings', () => {
  test('set DRAINING and record the drain of an instance of a managed group, without completing anything', async () => {
    // GIVEN an InService Spot instance of the managed group with tasks
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }],
    });
    const h = harness();

    // WHEN EC2 warns of its interruption
    const summary = await h.controller.handle(spotEvent());

    // THEN DRAINING and a drain record, nothing more
    expect(mutatingCalls().map(c => c.command)).toEqual(['UpdateContainerInstancesStateCommand', 'PutAttributesCommand']);
    expect(ecsMock.commandCalls(PutAttributesCommand)[0].args[0].input.attributes).toEqual(expect.arrayContaining([
      { name: ATTRIBUTE.DEADLINE, value: String(NOW / 1000 + 3600), targetType: 'container-instance', targetId: CI },
    ]));
    expect(summary).toEqual({ trigger: 'spot-interruption', outcomes: { draining: 1 }, errors: 0, deferred: 0 });
  });

  test('are ignored for an instance of an unmanaged group', async () => {
    // GIVEN a Spot instance of another group
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: OTHER_GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }],
    });
    const h = harness();

    // WHEN EC2 warns of its interruption
    const summary = await h.controller.handle(spotEvent());

    // THEN nothing changes, and ECS is not even read
    expect(mutatingCalls()).toEqual([]);
    expect(ecsMock.calls()).toHaveLength(0);
    expect(summary.outcomes).toEqual({ 'left-alone': 1 });
  });

  test('are ignored for an instance Auto Scaling does not know', async () => {
    // GIVEN no Auto Scaling instance
    const h = harness();

    // WHEN EC2 warns of an interruption
    await h.controller.handle(spotEvent());

    // THEN nothing changes
    expect(mutatingCalls()).toEqual([]);
  });

  test('are ignored when drainOnSpotInterruption is false', async () => {
    // GIVEN a managed Spot instance, and the option off
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }],
    });
    const h = harness({ drainOnSpotInterruption: false });

    // WHEN EC2 warns of its interruption
    const summary = await h.controller.handle(spotEvent());

    // THEN nothing changes
    expect(mutatingCalls()).toEqual([]);
    expect(ecsMock.calls()).toHaveLength(0);
    expect(h.logs()).toContainEqual(expect.objectContaining({ outcome: 'left-alone', message: 'draining on Spot interruption is turned off' }));
    expect(summary.outcomes).toEqual({ 'left-alone': 1 });
  });

  test('the later termination keeps the deadline recorded at the warning', async () => {
    // GIVEN an instance drained since a Spot warning 90 s ago, now terminating
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running: 1, attributes: drainRecord(90) }],
    });
    const h = harness();

    // WHEN the schedule fires
    await h.controller.handle(scheduledEvent());

    // THEN the record is not rewritten
    expect(ecsMock.commandCalls(PutAttributesCommand)).toHaveLength(0);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
  });
});

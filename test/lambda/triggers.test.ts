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
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import {
  allCalls, autoScalingMock, callSequence, ciArn, CLUSTER, CLUSTER_ARN, containerInstanceEvent, drainRecord, drainRecordValue, ecsMock,
  FakeContainerInstance, GROUP, harness, HOOK, INSTANCE, lifecycleEvent, mutatingCalls, NOW, OTHER_GROUP, resources, scheduledEvent, spotEvent,
  stageWorld, taskArn,
} from './fixtures';
import { LIMITS } from '../../lambda/aws';
import { ATTRIBUTE, METRIC } from '../../src/constants';

const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');

beforeEach(() => stageWorld());

describe('the reconcile schedule pass', () => {
  test('follows every page of DescribeAutoScalingGroups and processes only Terminating:Wait instances', async () => {
    // (neither terminating instance is in the cluster: the DRAINING listing misses them, the filter lookup finds nothing)
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

    // THEN both pages were read, the cluster's DRAINING instances listed once, and only the two terminating instances looked up
    expect(autoScalingMock.commandCalls(DescribeAutoScalingGroupsCommand).map(c => c.args[0].input)).toEqual([
      { AutoScalingGroupNames: [GROUP], MaxRecords: 100, NextToken: undefined },
      { AutoScalingGroupNames: [GROUP], MaxRecords: 100, NextToken: 'page-2' },
    ]);
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input)).toEqual([
      { cluster: CLUSTER, status: 'DRAINING', maxResults: 100, nextToken: undefined },
      { cluster: CLUSTER, filter: 'ec2InstanceId in [i-00000000000000002, i-00000000000000004]', maxResults: 100, nextToken: undefined },
    ]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.InstanceId).sort()).toEqual([
      'i-00000000000000002', 'i-00000000000000004',
    ]);
    expect(summary).toEqual({ trigger: 'reconcile', outcomes: { 'not-registered': 2 }, errors: 0, deferred: 0 });
  });

  test('makes no ECS call at all when no instance of the managed groups waits in its hook', async () => {
    // GIVEN InService and Pending instances only, and a busy cluster
    stageWorld({
      instances: [
        { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' },
        { instanceId: 'i-00000000000000002', groupName: GROUP, lifecycleState: 'Pending' },
      ],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(60) }],
    });
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN one Auto Scaling read, nothing else
    expect(callSequence()).toEqual(['DescribeAutoScalingGroups']);
    expect(summary).toEqual({ trigger: 'reconcile', outcomes: {}, errors: 0, deferred: 0 });
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

    // THEN the instance, not DRAINING yet, is looked up by its id, and the drain starts
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input.status ?? c.args[0].input.filter)).toEqual([
      'DRAINING', `ec2InstanceId in [${INSTANCE}]`,
    ]);
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances)).toEqual([[CI]]);
    expect(ecsMock.commandCalls(PutAttributesCommand).flatMap(c => c.args[0].input.attributes!)).toEqual([
      { name: ATTRIBUTE.DRAIN, value: drainRecordValue(NOW / 1000 + 3600, NOW / 1000, 1), targetType: 'container-instance', targetId: CI },
    ]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test.each([
    ['has no drain record', {}],
    ['has a record of a drain of two registrations', drainRecord(60, 3600, undefined, 2)],
  ])('looks up by instance id a DRAINING instance that %s, in case it has other registrations', async (_name, attributes) => {
    // GIVEN a terminating instance with a DRAINING registration that is not recorded as its only one, and a second ACTIVE one
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [
        { arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running: 1, attributes },
        { arn: ciArn('second'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
      ],
    });
    const h = harness();

    // WHEN the schedule fires
    await h.controller.handle(scheduledEvent());

    // THEN the filter lookup finds the second registration, which is set DRAINING too
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input.filter)).toEqual([undefined, `ec2InstanceId in [${INSTANCE}]`]);
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances)).toEqual([[ciArn('second')]]);
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

    // THEN every instance is handled from one paged listing of DRAINING instances, at most 100 ARNs per describe
    expect(summary.outcomes).toEqual({ draining: 250 });
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input)).toEqual([
      { cluster: CLUSTER, status: 'DRAINING', maxResults: 100, nextToken: undefined },
      { cluster: CLUSTER, status: 'DRAINING', maxResults: 100, nextToken: '100' },
      { cluster: CLUSTER, status: 'DRAINING', maxResults: 100, nextToken: '200' },
    ]);
    const describes = ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances!.length);
    expect(describes.sort((a, b) => a - b)).toEqual([50, 100, 100]);
    expect(ecsMock.calls().length + autoScalingMock.calls().length).toBe(7);
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

describe('the reconcile pass\'s task reads', () => {
  /**
   * `count` terminating instances, each with one DRAINING, recorded, empty registration and
   * `tasksEach` tasks of its own, STOPPED unless its instance is in `stopping`; and an instance
   * of the cluster that is not terminating, with a task still stopping.
   */
  function stageEmptyDrains(count: number, tasksEach = 1, stopping: readonly number[] = []): string[] {
    const ids = Array.from({ length: count }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    stageWorld({
      instances: ids.map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState: 'Terminating:Wait' })),
      containerInstances: [
        ...ids.map((id, i): FakeContainerInstance => ({
          arn: ciArn(`ci-${id}`),
          ec2InstanceId: id,
          status: 'DRAINING',
          attributes: drainRecord(60),
          tasks: Array.from({ length: tasksEach }, (_, t) => ({ arn: taskArn(`t${t}-${id}`), lastStatus: stopping.includes(i) ? 'STOPPING' : 'STOPPED' })),
        })),
        { arn: ciArn('busy'), ec2InstanceId: 'i-0ffffffffffffffff', status: 'ACTIVE', running: 1, tasks: [{ arn: taskArn('t-busy'), lastStatus: 'DEACTIVATING' }] },
      ],
    });
    return ids;
  }

  test(`lists the tasks of each container instance when at most ${LIMITS.perInstanceTaskListings} need reading`, async () => {
    // GIVEN as many empty drains as the per-instance limit allows
    const ids = stageEmptyDrains(LIMITS.perInstanceTaskListings);
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN one ListTasks per container instance, and all are released
    const listings = ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input);
    expect(listings.map(l => l.containerInstance).sort()).toEqual(ids.map(id => ciArn(`ci-${id}`)).sort());
    expect(listings.every(l => l.desiredStatus === 'STOPPED')).toBe(true);
    expect(summary.outcomes).toEqual({ drained: ids.length });
  });

  test(`lists the cluster's stopping tasks once (paged) when more than ${LIMITS.perInstanceTaskListings} need reading, keeping only theirs`, async () => {
    // GIVEN 60 empty drains with two STOPPED tasks each (121 tasks in the cluster with the busy one)
    const ids = stageEmptyDrains(60, 2);
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN one cluster-wide listing over two pages, describes of at most 100, and the other instance's task holds no one
    expect(ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input)).toEqual([
      { cluster: CLUSTER, desiredStatus: 'STOPPED', nextToken: undefined },
      { cluster: CLUSTER, desiredStatus: 'STOPPED', nextToken: '100' },
    ]);
    const described = ecsMock.commandCalls(DescribeTasksCommand).map(c => c.args[0].input.tasks!.length);
    expect(described.sort((a, b) => a - b)).toEqual([21, 100]);
    expect(summary.outcomes).toEqual({ drained: ids.length });
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.containerInstance)).not.toContain(ciArn('busy'));
  });

  test(`uses the cluster-wide listing from ${LIMITS.perInstanceTaskListings + 1} instances on, and a task still stopping keeps its own instance draining`, async () => {
    // GIVEN one more empty drain than the per-instance limit, one of whose tasks is still STOPPING
    const ids = stageEmptyDrains(LIMITS.perInstanceTaskListings + 1, 1, [7]);
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN one listing without a container instance, and only that instance waits
    expect(ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input.containerInstance)).toEqual([undefined]);
    expect(summary.outcomes).toEqual({ drained: ids.length - 1, draining: 1 });
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.InstanceId)).not.toContain(ids[7]);
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

    // THEN it is left alone: with no drain record, Auto Scaling decides, after one fresh read of the container instance
    expect(callSequence()).toEqual(['DescribeContainerInstances', 'DescribeAutoScalingInstances']);
    expect(mutatingCalls()).toEqual([]);
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
  /** A terminating instance of the managed group with one DRAINING registration. */
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
    // GIVEN a drain that would otherwise be finished
    stageDraining();
    const h = harness();

    // WHEN ECS reports the DRAINING instance so
    const summary = await h.controller.handle(containerInstanceEvent(detail));

    // THEN nothing is called
    expect(allCalls()).toHaveLength(0);
    expect(summary.outcomes).toEqual({});
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'debug', message: 'container instance still has tasks', containerInstanceArn: CI }));
  });

  test('with counts 0 and a record of its only registration: describe, tasks, deregister, complete, and nothing else', async () => {
    // GIVEN a terminating instance whose recorded drain (registrations:1) just finished
    stageDraining();
    const h = harness();

    // WHEN ECS reports it empty
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN exactly these calls: no Auto Scaling read, no listing of the registrations
    expect(callSequence()).toEqual([
      'DescribeContainerInstances', 'ListTasks', 'DescribeTasks', 'DeregisterContainerInstance', 'CompleteLifecycleAction',
    ]);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input)).toEqual([
      { cluster: CLUSTER, containerInstances: [CI] },
    ]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input)).toEqual([
      { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: INSTANCE, LifecycleActionResult: 'CONTINUE' },
    ]);
    expect(summary.outcomes).toEqual({ drained: 1 });
    expect(h.metricValues(METRIC.DRAIN_DURATION)).toEqual([120]);
  });

  test('with a record of two registrations, lists the others (no Auto Scaling read) and releases only when both are drained', async () => {
    // GIVEN two recorded registrations of the terminating instance, both empty
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [
        { arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(120, 3600, undefined, 2) },
        { arn: ciArn('second'), ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(120, 3600, undefined, 2) },
      ],
    });
    const h = harness();

    // WHEN ECS reports one of them empty
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN the registrations are listed by instance id, both deregistered, and the action completed
    expect(autoScalingMock.commandCalls(DescribeAutoScalingInstancesCommand)).toHaveLength(0);
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input.filter)).toEqual([`ec2InstanceId in [${INSTANCE}]`]);
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.containerInstance).sort()).toEqual([CI, ciArn('second')].sort());
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test.each([
    ['no drain record', {}],
    ['a malformed drain record', { [ATTRIBUTE.DRAIN]: 'deadline: started:1 registrations:1' }],
  ])('with %s, asks Auto Scaling whose the instance is before acting', async (_name, attributes) => {
    // GIVEN a terminating instance of the managed group whose registration has no (valid) record, drained
    stageDraining({ attributes });
    const h = harness();

    // WHEN ECS reports it empty
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN Auto Scaling is asked about the instance, a record is written (with a fresh deadline, not a forced one), and it is released
    expect(autoScalingMock.commandCalls(DescribeAutoScalingInstancesCommand)[0].args[0].input.InstanceIds).toEqual([INSTANCE]);
    expect(mutatingCalls().map(c => c.command)).toEqual(['PutAttributesCommand', 'DeregisterContainerInstanceCommand', 'CompleteLifecycleActionCommand']);
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand)[0].args[0].input.force).toBe(false);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('with a record but several managed groups, asks Auto Scaling which group the instance is in, and completes there', async () => {
    // GIVEN two managed groups, the instance terminating in the second one
    stageDraining({}, 'Terminating:Wait', OTHER_GROUP);
    const h = harness({ autoScalingGroupNames: new Set([GROUP, OTHER_GROUP]) });

    // WHEN ECS reports it empty
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN the completion names the instance's own group
    expect(autoScalingMock.commandCalls(DescribeAutoScalingInstancesCommand)).toHaveLength(1);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.AutoScalingGroupName)).toEqual([OTHER_GROUP]);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('with a record but several managed groups, leaves alone a recorded instance that is no longer Terminating:Wait', async () => {
    // GIVEN two managed groups, and the instance InService again (e.g. a Spot warning that drained it)
    stageDraining({}, 'InService');
    const h = harness({ autoScalingGroupNames: new Set([GROUP, OTHER_GROUP]) });

    // WHEN ECS reports it empty
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN nothing changes
    expect(mutatingCalls()).toEqual([]);
    expect(summary.outcomes).toEqual({ 'left-alone': 1 });
  });

  test.each([
    ['is no longer DRAINING', { status: 'ACTIVE' }],
    ['is INACTIVE (deregistered meanwhile)', { status: 'INACTIVE' }],
    ['has a running task again', { running: 1 }],
    ['has a pending task', { pending: 1 }],
    ['still has CPU held by a stopping task', { held: { cpu: 256 } }],
    ['still has memory held by a stopping task', { held: { memory: 512 } }],
  ])('stop after the fresh read when the container instance %s (a late or reordered event)', async (_name, ci) => {
    // GIVEN the container instance as ECS reports it now
    stageDraining(ci);
    const h = harness();

    // WHEN a stale event says it is empty
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN the one describe is all
    expect(callSequence()).toEqual(['DescribeContainerInstances']);
    expect(summary.outcomes).toEqual({});
  });

  test('stop after the fresh read when ECS no longer knows the container instance', async () => {
    // GIVEN an empty cluster
    const h = harness();

    // WHEN an event arrives about a container instance
    const summary = await h.controller.handle(containerInstanceEvent({ runningTasksCount: 0, pendingTasksCount: 0 }));

    // THEN the one describe is all
    expect(callSequence()).toEqual(['DescribeContainerInstances']);
    expect(summary.outcomes).toEqual({});
  });

  test('without an ec2InstanceId, the fresh read names the instance', async () => {
    // GIVEN an event without ec2InstanceId, of a finished recorded drain
    stageDraining();
    const event = containerInstanceEvent();
    delete event.detail.ec2InstanceId;
    const h = harness();

    // WHEN it arrives
    const summary = await h.controller.handle(event);

    // THEN the instance is found through DescribeContainerInstances and released
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)[0].args[0].input.containerInstances).toEqual([CI]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.InstanceId)).toEqual([INSTANCE]);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('without resources in the event, go on to the fresh read', async () => {
    // GIVEN an event without registeredResources/remainingResources
    stageDraining({ running: 1 });
    const event = containerInstanceEvent();
    delete event.detail.remainingResources;
    const h = harness();

    // WHEN it arrives
    await h.controller.handle(event);

    // THEN the fresh read decides
    expect(callSequence()).toEqual(['DescribeContainerInstances']);
  });

  test('a failing fresh read rejects the invocation and is logged with the container instance', async () => {
    // GIVEN ECS fails the describe
    ecsMock.on(DescribeContainerInstancesCommand).rejects(Object.assign(new Error('Internal'), { name: 'ServerException' }));
    const h = harness();

    // WHEN / THEN
    await expect(h.controller.handle(containerInstanceEvent())).rejects.toThrow('Internal');
    expect(h.logs()).toContainEqual(expect.objectContaining({
      level: 'error', trigger: 'container-instance-change', containerInstanceArn: CI, instanceId: INSTANCE,
    }));
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
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
    // GIVEN a finished recorded drain in the world
    stageDraining();
    const h = harness();

    // WHEN an ACTIVE instance reports 0 tasks
    await h.controller.handle(containerInstanceEvent({ status: 'ACTIVE', runningTasksCount: 0 }));

    // THEN no call, and one line saying why
    expect(allCalls()).toHaveLength(0);
    expect(h.logs()).toEqual([expect.objectContaining({ level: 'info', message: 'event ignored: container instance is ACTIVE, not DRAINING', containerInstanceArn: CI })]);
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

    // THEN Auto Scaling and the registrations are read, then DRAINING and a drain record, nothing more
    expect(callSequence()).toEqual([
      'DescribeAutoScalingInstances', 'ListContainerInstances', 'DescribeContainerInstances', 'UpdateContainerInstancesState', 'PutAttributes',
    ]);
    expect(ecsMock.commandCalls(PutAttributesCommand)[0].args[0].input.attributes).toEqual([
      { name: ATTRIBUTE.DRAIN, value: drainRecordValue(NOW / 1000 + 3600, NOW / 1000, 1), targetType: 'container-instance', targetId: CI },
    ]);
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

  test('the later lifecycle action keeps the deadline recorded at the warning and forces the drain when it passes', async () => {
    // GIVEN a Spot-warned instance whose recorded drain started 2 hours ago (1 hour timeout), tasks still running
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running: 1, attributes: drainRecord(7200) }],
    });
    const h = harness();

    // WHEN the lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN the recorded deadline rules: forced
    expect(ecsMock.commandCalls(PutAttributesCommand)).toHaveLength(0);
    expect(summary.outcomes).toEqual({ forced: 1 });
  });
});

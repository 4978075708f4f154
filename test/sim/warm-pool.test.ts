/**
 * Conformance of the emulator's Auto Scaling warm pools, through the real @aws-sdk clients: which
 * read APIs show warm pool instances, the lifecycle of an instance returning to the pool on
 * scale-in and coming back on scale-out, what its ECS registration and tasks go through, and the
 * events' Origin/Destination.
 */
import {
  CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand, SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, ListTasksCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { createClusterAndGroup, failure, Harness, launchRegistered, startHarness } from './harness';
import { EmittedEvent } from '../../sim/emulator';

const MINUTE = 60_000;

function lifecycleEvents(h: Harness): EmittedEvent[] {
  return h.events.filter(e => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action');
}

async function describe1(h: Harness, arn: string) {
  return (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }))).containerInstances![0];
}

async function tasksOn(h: Harness, arn: string) {
  const ids = [
    ...(await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arn }))).taskArns!,
    ...(await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arn, desiredStatus: 'STOPPED' }))).taskArns!,
  ];
  return ids.length === 0 ? [] : (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: ids }))).tasks!;
}

async function complete(h: Harness, instanceId: string): Promise<void> {
  await h.autoScaling.send(new CompleteLifecycleActionCommand({
    AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: instanceId, LifecycleActionResult: 'CONTINUE',
  }));
}

describe('a group with a warm pool and ReuseOnScaleIn', () => {
  let h: Harness;
  let ids: string[];
  let arns: string[];

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
    h.emulator.putWarmPool({ groupName: 'asg', reuseOnScaleIn: true });
    ({ ids, arns } = launchRegistered(h, 3));
    h.emulator.createService('main', { name: 'web', desiredCount: 3 });
    h.advance(10_000);
  });

  afterEach(() => h.close());

  test('scale-in returns the oldest instance to the pool: Warmed:Pending:Wait, event Origin AutoScalingGroup → Destination WarmPool', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    expect(h.emulator.lifecycleState(ids[0])).toBe('Warmed:Pending:Wait');
    expect(lifecycleEvents(h)).toHaveLength(1);
    expect(lifecycleEvents(h)[0].detail).toMatchObject({
      EC2InstanceId: ids[0],
      LifecycleHookName: 'drain',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      Origin: 'AutoScalingGroup',
      Destination: 'WarmPool',
    });
    expect(h.emulator.timeline(ids[0]).terminatingAt).toBeUndefined();
    expect(h.emulator.timeline(ids[0]).warmPoolVisits).toEqual([{ enteredAt: h.clock.now(), origin: 'AutoScalingGroup', tasksAliveAtStop: [] }]);
  });

  test('read APIs: DescribeAutoScalingGroups leaves pool instances out, DescribeAutoScalingInstances and DescribeWarmPool show them', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    const [group] = (await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg'] }))).AutoScalingGroups!;
    expect(group.Instances!.map(i => i.InstanceId)).toEqual([ids[1], ids[2]]);
    expect(group).toMatchObject({
      DesiredCapacity: 2,
      WarmPoolSize: 1,
      WarmPoolConfiguration: { PoolState: 'Stopped', MinSize: 0, InstanceReusePolicy: { ReuseOnScaleIn: true } },
    });
    expect(group.WarmPoolConfiguration!.MaxGroupPreparedCapacity).toBeUndefined();
    const byId = await h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [ids[0]] }));
    expect(byId.AutoScalingInstances).toEqual([expect.objectContaining({
      InstanceId: ids[0], AutoScalingGroupName: 'asg', LifecycleState: 'Warmed:Pending:Wait',
    })]);
    const all = await h.autoScaling.send(new DescribeAutoScalingInstancesCommand({}));
    expect(all.AutoScalingInstances!.map(i => i.InstanceId).sort()).toEqual([...ids].sort());
    const pool = await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg' }));
    expect(pool.Instances!.map(i => [i.InstanceId, i.LifecycleState])).toEqual([[ids[0], 'Warmed:Pending:Wait']]);
    expect(pool.WarmPoolConfiguration).toMatchObject({ PoolState: 'Stopped', InstanceReusePolicy: { ReuseOnScaleIn: true } });
  });

  test('heartbeat and CompleteLifecycleAction by InstanceId work in Warmed:Pending:Wait; then Proceed and Stopped', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    h.advance(200_000);
    await h.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: ids[0] }));
    h.advance(200_000); // past the first heartbeat timeout, within the renewed one
    expect(h.emulator.lifecycleState(ids[0])).toBe('Warmed:Pending:Wait');
    await complete(h, ids[0]);
    expect(h.emulator.lifecycleState(ids[0])).toBe('Warmed:Pending:Proceed');
    h.advance(15_000);
    expect(h.emulator.lifecycleState(ids[0])).toBe('Warmed:Stopped');
    const visit = h.emulator.timeline(ids[0]).warmPoolVisits[0];
    expect(visit).toMatchObject({ completedBy: 'api', lifecycleCompletedAt: h.clock.now() - 15_000 });
    expect(visit.stoppedAt).toBeGreaterThan(visit.lifecycleCompletedAt!);
    const again = await failure(complete(h, ids[0]));
    expect(again.message).toBe(`No active Lifecycle Action found with instance ID ${ids[0]}`);
  });

  test('the timeout of the hook also sends it on into the pool', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    h.advance(300_000 + 15_000);
    expect(h.emulator.lifecycleState(ids[0])).toBe('Warmed:Stopped');
    expect(h.emulator.timeline(ids[0]).warmPoolVisits[0].completedBy).toBe('timeout');
  });

  test('stopping an undrained host kills its tasks (recorded), disconnects the agent and keeps the registration; ECS still shows the tasks', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    await complete(h, ids[0]);
    h.advance(15_000);
    const visit = h.emulator.timeline(ids[0]).warmPoolVisits[0];
    expect(visit.tasksAliveAtStop).toHaveLength(1);
    expect(h.emulator.timeline(ids[0]).terminatedAt).toBeUndefined();
    const ci = await describe1(h, arns[0]);
    expect(ci).toMatchObject({ status: 'ACTIVE', agentConnected: false, runningTasksCount: 1 });
    expect((await tasksOn(h, arns[0]))[0]).toMatchObject({ taskArn: visit.tasksAliveAtStop[0], lastStatus: 'RUNNING' });
  });

  test('a drained instance stops with nothing alive; scale-out starts it again: Pending → InService, the agent reconnects, DRAINING stays', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'DRAINING' }));
    h.advance(2 * MINUTE);
    await complete(h, ids[0]);
    h.advance(15_000);
    expect(h.emulator.timeline(ids[0]).warmPoolVisits[0].tasksAliveAtStop).toEqual([]);
    const versionWhileStopped = (await describe1(h, arns[0])).version!;
    h.events.length = 0;
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 3 }));
    expect(h.emulator.lifecycleState(ids[0])).toBe('Pending');
    h.advance(30_000);
    expect(h.emulator.lifecycleState(ids[0])).toBe('InService');
    const visit = h.emulator.timeline(ids[0]).warmPoolVisits[0];
    expect(visit).toMatchObject({ agentOnStart: 'reconnected', leftAt: h.clock.now() - 30_000 });
    expect(visit.inServiceAt).toBeGreaterThan(visit.leftAt!);
    const ci = await describe1(h, arns[0]);
    expect(ci).toMatchObject({ status: 'DRAINING', agentConnected: true });
    const change = h.events.find(e => e['detail-type'] === 'ECS Container Instance State Change' && e.resources[0] === arns[0]);
    expect(change?.detail).toMatchObject({ agentConnected: true, status: 'DRAINING' });
    expect(ci.version).toBeGreaterThan(versionWhileStopped);
    expect(h.emulator.containerInstanceArns(ids[0])).toEqual([arns[0]]);
    const [group] = (await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg'] }))).AutoScalingGroups!;
    expect(group.Instances!.map(i => i.InstanceId).sort()).toEqual([...ids].sort());
    expect(group.WarmPoolSize).toBe(0);
  });

  test('tasks that died while the host was stopped are reported STOPPED when the agent reconnects; the service replaces them', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    await complete(h, ids[0]);
    h.advance(15_000);
    const [dead] = h.emulator.timeline(ids[0]).warmPoolVisits[0].tasksAliveAtStop;
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 3 }));
    h.advance(30_000);
    const [task] = (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [dead] }))).tasks!;
    expect(task).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
    expect(task.stoppedAt!.getTime()).toBe(h.emulator.timeline(ids[0]).warmPoolVisits[0].inServiceAt);
    h.advance(10_000);
    expect((await h.ecs.send(new ListTasksCommand({ cluster: 'main', serviceName: 'web' }))).taskArns).toHaveLength(3);
  });

  test('a registration deregistered while the host was stopped: the agent\'s re-registration is refused, the instance is InService without one', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    await complete(h, ids[0]);
    h.advance(15_000);
    // ECS still counts the tasks it has not heard of: only force deregisters.
    expect((await failure(h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0] })))).name)
      .toBe('InvalidParameterException');
    await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0], force: true }));
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 3 }));
    h.advance(30_000);
    expect(h.emulator.lifecycleState(ids[0])).toBe('InService');
    expect(h.emulator.timeline(ids[0]).warmPoolVisits[0].agentOnStart).toBe('refused');
    expect(h.emulator.containerInstanceArns(ids[0])).toEqual([arns[0]]);
    expect(await describe1(h, arns[0])).toMatchObject({ status: 'INACTIVE' });
  });

  test('Origin/Destination: a group with a warm pool but without reuse terminates, AutoScalingGroup → EC2', async () => {
    h.emulator.putWarmPool({ groupName: 'asg', reuseOnScaleIn: false });
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    expect(h.emulator.lifecycleState(ids[0])).toBe('Terminating:Wait');
    expect(lifecycleEvents(h)[0].detail).toMatchObject({ Origin: 'AutoScalingGroup', Destination: 'EC2' });
  });

  test('an operator-drained instance waiting in Warmed:Pending:Wait may be handled by the controller (no violation)', async () => {
    h.emulator.setContainerInstanceDraining(arns[0]);
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'DRAINING' }));
    expect(h.emulator.untouchedViolations).toEqual([]);
  });
});

describe('pool states, launches into the pool and the pool\'s size', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
    h.emulator.createCluster('main');
  });

  afterEach(() => h.close());

  function groupWithPool(poolState: 'Stopped' | 'Running' | 'Hibernated') {
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 10, desiredCapacity: 0 });
    h.emulator.putWarmPool({ groupName: 'asg', poolState, reuseOnScaleIn: true });
    const id = h.emulator.launchInstance('asg', { cluster: 'main' });
    const arn = h.emulator.containerInstanceArns(id)[0];
    h.emulator.runStandaloneTask('main', arn);
    h.advance(5_000);
    return { id, arn };
  }

  test('PoolState Running: the host keeps running in the pool, the agent stays connected and the tasks live', async () => {
    const { id, arn } = groupWithPool('Running');
    h.emulator.scaleIn('asg', 1);
    h.advance(15_000);
    expect(h.emulator.lifecycleState(id)).toBe('Warmed:Running');
    const [visit] = h.emulator.timeline(id).warmPoolVisits;
    expect(visit.stoppedAt).toBeUndefined();
    expect(visit.tasksAliveAtStop).toEqual([]);
    expect(await describe1(h, arn)).toMatchObject({ agentConnected: true, runningTasksCount: 1 });
  });

  test('PoolState Hibernated: the processes are frozen, not killed; they are recorded and live on when the host resumes', async () => {
    const { id, arn } = groupWithPool('Hibernated');
    h.emulator.scaleIn('asg', 1);
    h.advance(15_000);
    expect(h.emulator.lifecycleState(id)).toBe('Warmed:Hibernated');
    expect(h.emulator.timeline(id).warmPoolVisits[0].tasksAliveAtStop).toHaveLength(1);
    expect((await describe1(h, arn)).agentConnected).toBe(false);
    h.emulator.scaleOut('asg', 1);
    h.advance(30_000);
    expect(h.emulator.lifecycleState(id)).toBe('InService');
    expect((await tasksOn(h, arn)).map(t => t.lastStatus)).toEqual(['RUNNING']);
  });

  test('launched into the pool with ECS_WARM_POOLS_CHECK: no registration in the pool; it registers when it first goes InService', async () => {
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 10, desiredCapacity: 0 });
    h.emulator.putWarmPool({ groupName: 'asg' });
    const id = h.emulator.launchIntoWarmPool('asg', { cluster: 'main' });
    expect(h.emulator.lifecycleState(id)).toBe('Warmed:Pending:Proceed');
    h.advance(15_000);
    expect(h.emulator.lifecycleState(id)).toBe('Warmed:Stopped');
    expect(h.emulator.containerInstanceArns(id)).toEqual([]);
    expect(h.emulator.timeline(id).warmPoolVisits[0]).toMatchObject({ origin: 'EC2', tasksAliveAtStop: [] });
    h.emulator.scaleOut('asg', 1);
    h.advance(30_000);
    expect(h.emulator.lifecycleState(id)).toBe('InService');
    expect(h.emulator.timeline(id).warmPoolVisits[0].agentOnStart).toBe('registered');
    expect(await describe1(h, h.emulator.containerInstanceArns(id)[0])).toMatchObject({ status: 'ACTIVE', agentConnected: true });
  });

  test('launched into the pool without the check: the agent registers at first boot, tasks land there and die when the host stops', async () => {
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 10, desiredCapacity: 0 });
    h.emulator.putWarmPool({ groupName: 'asg' });
    h.emulator.createService('main', { name: 'web', desiredCount: 1, startSeconds: 1 });
    const id = h.emulator.launchIntoWarmPool('asg', { cluster: 'main', warmPoolsCheck: false });
    const [arn] = h.emulator.containerInstanceArns(id);
    expect(await describe1(h, arn)).toMatchObject({ status: 'ACTIVE', agentConnected: true });
    h.advance(15_000);
    expect(h.emulator.timeline(id).warmPoolVisits[0].tasksAliveAtStop).toHaveLength(1);
    expect(await describe1(h, arn)).toMatchObject({ status: 'ACTIVE', agentConnected: false });
  });

  test('with a launch template the pool fills to MinSize and is trimmed above MaxGroupPreparedCapacity: Warmed:Terminating:Wait, WarmPool → EC2', async () => {
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 10, desiredCapacity: 0, launchTemplate: { cluster: 'main' } });
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300 });
    h.emulator.putWarmPool({ groupName: 'asg', minSize: 2, maxGroupPreparedCapacity: 2 });
    h.advance(15_000);
    const pool = await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg' }));
    expect(pool.Instances!.map(i => i.LifecycleState)).toEqual(['Warmed:Stopped', 'Warmed:Stopped']);
    expect(pool.WarmPoolConfiguration).toMatchObject({ MinSize: 2, MaxGroupPreparedCapacity: 2 });
    // Lowering the pool's size leaves one too many: Auto Scaling terminates it from the pool.
    h.emulator.putWarmPool({ groupName: 'asg', minSize: 1, maxGroupPreparedCapacity: 1 });
    const [victim] = pool.Instances!.map(i => i.InstanceId!);
    expect(h.emulator.lifecycleState(victim)).toBe('Warmed:Terminating:Wait');
    expect(lifecycleEvents(h).at(-1)!.detail).toMatchObject({ EC2InstanceId: victim, Origin: 'WarmPool', Destination: 'EC2' });
    const listed = await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg' }));
    expect(listed.Instances!.find(i => i.InstanceId === victim)!.LifecycleState).toBe('Warmed:Terminating:Wait');
    await complete(h, victim);
    expect(h.emulator.lifecycleState(victim)).toBe('Warmed:Terminating:Proceed');
    h.advance(15_000);
    expect(h.emulator.lifecycleState(victim)).toBeUndefined();
    expect(h.emulator.timeline(victim).terminatedAt).toBeDefined();
    expect((await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg' }))).Instances).toHaveLength(1);
  });

  test('terminateWarmedInstance: a stopped pool instance terminates; its registration (agent disconnected) stays', async () => {
    const { id, arn } = groupWithPool('Stopped');
    h.emulator.scaleIn('asg', 1);
    h.advance(15_000);
    h.emulator.terminateWarmedInstance(id);
    expect(h.emulator.lifecycleState(id)).toBe('Warmed:Terminating:Proceed');
    h.advance(15_000 + 10 * MINUTE);
    expect(h.emulator.timeline(id)).toMatchObject({ tasksAliveAtTermination: [] });
    expect(await describe1(h, arn)).toMatchObject({ status: 'ACTIVE', agentConnected: false });
    expect(() => h.emulator.terminateWarmedInstance(id)).toThrow();
  });

  test('DescribeWarmPool pages with MaxRecords ≤ 50 and NextToken; InvalidNextToken; no pool: no configuration; unknown group: ValidationError', async () => {
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 100, desiredCapacity: 0 });
    h.emulator.putWarmPool({ groupName: 'asg' });
    for (let i = 0; i < 60; i++) h.emulator.launchIntoWarmPool('asg');
    const seen: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg', MaxRecords: 25, NextToken }));
      expect(page.Instances!.length).toBeLessThanOrEqual(25);
      seen.push(...page.Instances!.map(i => i.InstanceId!));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(new Set(seen).size).toBe(60);
    expect((await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg' }))).Instances).toHaveLength(50);
    expect((await failure(h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg', MaxRecords: 51 })))).name)
      .toBe('ValidationError');
    const bad = await failure(h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg', NextToken: 'garbage' })));
    expect(bad.name).toBe('InvalidNextToken');
    expect(bad.$metadata?.httpStatusCode).toBe(400);
    h.emulator.createAutoScalingGroup({ name: 'plain', minSize: 0, maxSize: 1, desiredCapacity: 0 });
    const none = await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'plain' }));
    expect(none.WarmPoolConfiguration).toBeUndefined();
    expect(none.Instances ?? []).toEqual([]);
    expect((await failure(h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'nope' })))).name).toBe('ValidationError');
    expect((await failure(h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ MaxRecords: 51 })))).name).toBe('ValidationError');
  });

  test('PutWarmPool refuses a group that launches Spot Instances', () => {
    h.emulator.createAutoScalingGroup({ name: 'spot', minSize: 0, maxSize: 2, desiredCapacity: 0, launchTemplate: { spot: true } });
    expect(() => h.emulator.putWarmPool({ groupName: 'spot' })).toThrow(/Spot/);
  });
});

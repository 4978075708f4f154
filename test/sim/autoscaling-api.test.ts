import {
  CompleteLifecycleActionCommand, DeleteLifecycleHookCommand, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { failure, Harness, startHarness } from './harness';

describe('Auto Scaling API over the Query protocol through the real SDK', () => {
  let h: Harness;
  let instances: string[];

  beforeEach(async () => {
    h = await startHarness();
    h.emulator.createCluster('main');
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 200, desiredCapacity: 0 });
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
    instances = [0, 1, 2].map(() => h.emulator.launchInstance('asg', { cluster: 'main' }));
  });

  afterEach(() => h.close());

  test('DescribeAutoScalingGroups: names filter, instances, MaxRecords/NextToken paging', async () => {
    for (let i = 0; i < 5; i++) h.emulator.createAutoScalingGroup({ name: `other-${i}`, minSize: 0, maxSize: 1, desiredCapacity: 0 });
    const one = await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg', 'missing'] }));
    expect(one.AutoScalingGroups).toHaveLength(1);
    const group = one.AutoScalingGroups![0];
    expect(group).toMatchObject({ AutoScalingGroupName: 'asg', MinSize: 0, MaxSize: 200, DesiredCapacity: 3 });
    expect(group.CreatedTime).toBeInstanceOf(Date);
    expect(group.Instances!.map(i => [i.InstanceId, i.LifecycleState, i.HealthStatus])).toEqual(
      instances.map(id => [id, 'InService', 'Healthy']));
    const names: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 2, NextToken }));
      expect(page.AutoScalingGroups!.length).toBeLessThanOrEqual(2);
      names.push(...page.AutoScalingGroups!.map(g => g.AutoScalingGroupName!));
      NextToken = page.NextToken;
    } while (NextToken);
    expect(names).toHaveLength(6);
  });

  test('DescribeAutoScalingInstances: at most 50 ids, unknown ids left out', async () => {
    const out = await h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instances[0], 'i-00000000000000000'] }));
    expect(out.AutoScalingInstances).toEqual([expect.objectContaining({
      InstanceId: instances[0], AutoScalingGroupName: 'asg', LifecycleState: 'InService', HealthStatus: 'HEALTHY',
    })]);
    const err = await failure(h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: Array(51).fill(instances[0]) })));
    expect(err.name).toBe('ValidationError');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  test('scale-in → Terminating:Wait with a lifecycle event; CompleteLifecycleAction by InstanceId → terminated', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    const victim = instances[0];
    const lifecycleEvents = h.events.filter(e => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action');
    expect(lifecycleEvents).toHaveLength(1);
    expect(lifecycleEvents[0]).toMatchObject({
      source: 'aws.autoscaling',
      version: '0',
      account: '123456789012',
      region: 'us-east-1',
      detail: {
        AutoScalingGroupName: 'asg',
        LifecycleHookName: 'drain',
        EC2InstanceId: victim,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      },
    });
    // Origin and Destination are only on events of groups with a warm pool (warm pool event types and patterns).
    expect(lifecycleEvents[0].detail).not.toHaveProperty('Origin');
    expect(lifecycleEvents[0].detail).not.toHaveProperty('Destination');
    expect(lifecycleEvents[0].time).toBe('2026-11-28T10:00:00Z');
    const state = await h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [victim] }));
    expect(state.AutoScalingInstances![0].LifecycleState).toBe('Terminating:Wait');

    await h.autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: victim, LifecycleActionResult: 'CONTINUE',
    }));
    expect(h.emulator.lifecycleState(victim)).toBe('Terminating:Proceed');
    h.advance(20_000);
    expect(h.emulator.lifecycleState(victim)).toBeUndefined();
    expect(h.emulator.timeline(victim)).toMatchObject({ completedBy: 'api', lifecycleCompletedAt: h.clock.now() - 20_000 });
    expect(h.emulator.timeline(victim).terminatedAt).toBeDefined();

    const again = await failure(h.autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: victim, LifecycleActionResult: 'CONTINUE',
    })));
    expect(again.name).toBe('ValidationError');
    expect(again.message).toBe(`No active Lifecycle Action found with instance ID ${victim}`);
  });

  test('CompleteLifecycleAction by token; unknown token → ValidationError', async () => {
    await h.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instances[1], ShouldDecrementDesiredCapacity: true }));
    const token = h.events.find(e => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')!.detail.LifecycleActionToken as string;
    const wrong = await failure(h.autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', LifecycleActionToken: '00000000-0000-4000-8000-000000000000', LifecycleActionResult: 'CONTINUE',
    })));
    expect(wrong.message).toBe('No active Lifecycle Action found with token 00000000-0000-4000-8000-000000000000');
    await h.autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', LifecycleActionToken: token, LifecycleActionResult: 'ABANDON',
    }));
    expect(h.emulator.lifecycleState(instances[1])).toBe('Terminating:Proceed');
  });

  test('the heartbeat timeout applies the default result; a heartbeat postpones it', async () => {
    await h.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instances[2], ShouldDecrementDesiredCapacity: true }));
    h.advance(200_000);
    await h.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: instances[2] }));
    h.advance(200_000); // 400 s after the start, but only 200 s after the heartbeat
    expect(h.emulator.lifecycleState(instances[2])).toBe('Terminating:Wait');
    h.advance(100_000 + 20_000);
    expect(h.emulator.timeline(instances[2])).toMatchObject({ completedBy: 'timeout' });
    expect(h.emulator.timeline(instances[2]).lifecycleCompletedAt).toBe(h.emulator.timeline(instances[2]).terminatingAt! + 500_000);
    expect(h.emulator.lifecycleState(instances[2])).toBeUndefined();
  });

  test('the global timeout (100 × heartbeat) ends the wait even with heartbeats', async () => {
    await h.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instances[0], ShouldDecrementDesiredCapacity: true }));
    const start = h.clock.now();
    while (h.emulator.lifecycleState(instances[0]) === 'Terminating:Wait') {
      await h.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: instances[0] }));
      h.advance(250_000);
    }
    expect(h.emulator.timeline(instances[0]).lifecycleCompletedAt! - start).toBe(100 * 300_000);
  });

  test('SetDesiredCapacity outside min/max and TerminateInstance of an unknown instance → ValidationError', async () => {
    const above = await failure(h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 201 })));
    expect(above.name).toBe('ValidationError');
    const unknownGroup = await failure(h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'nope', DesiredCapacity: 1 })));
    expect(unknownGroup.name).toBe('ValidationError');
    const unknown = await failure(h.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({
      InstanceId: 'i-00000000000000000', ShouldDecrementDesiredCapacity: true,
    })));
    expect(unknown.name).toBe('ValidationError');
    const activity = await h.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({
      InstanceId: instances[0], ShouldDecrementDesiredCapacity: true,
    }));
    expect(activity.Activity).toMatchObject({ AutoScalingGroupName: 'asg', StatusCode: 'InProgress' });
  });
});

/**
 * Launch lifecycle hooks ("How lifecycle hooks work in Auto Scaling groups": Pending:Wait, then
 * Pending:Proceed and InService; CompleteLifecycleAction, LifecycleActionResult: ABANDON terminates
 * a launching instance) and DeleteLifecycleHook ("If there are any outstanding lifecycle actions,
 * they are completed first (ABANDON for launching instances, CONTINUE for terminating instances)").
 */
describe('launch hooks and DeleteLifecycleHook', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
    h.emulator.createCluster('main');
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 10, desiredCapacity: 0 });
  });

  afterEach(() => h.close());

  const launchHook = { groupName: 'asg', hookName: 'warm-up', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' as const, heartbeatTimeoutSeconds: 300 };

  test('a launch waits in Pending:Wait with an EC2 Instance-launch Lifecycle Action event; CONTINUE puts it InService', async () => {
    h.emulator.putLifecycleHook({ ...launchHook, defaultResult: 'ABANDON' });
    const id = h.emulator.launchInstance('asg', { cluster: 'main' });
    expect(h.emulator.lifecycleState(id)).toBe('Pending:Wait');
    const event = h.events.find(e => e['detail-type'] === 'EC2 Instance-launch Lifecycle Action');
    expect(event?.detail).toMatchObject({ AutoScalingGroupName: 'asg', LifecycleHookName: 'warm-up', EC2InstanceId: id, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' });
    h.advance(10_000);
    await h.autoScaling.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'warm-up', InstanceId: id, LifecycleActionResult: 'CONTINUE' }));
    expect(h.emulator.lifecycleState(id)).toBe('InService');
    expect(h.emulator.timeline(id).launchWait).toEqual({ startedAt: h.clock.now() - 10_000, completedAt: h.clock.now(), completedBy: 'api', result: 'CONTINUE' });
  });

  test('a launch whose hook times out with ABANDON is terminated', () => {
    h.emulator.putLifecycleHook({ ...launchHook, defaultResult: 'ABANDON' });
    const id = h.emulator.launchInstance('asg', { cluster: 'main' });
    h.advance(300_000 + 20_000);
    expect(h.emulator.lifecycleState(id)).toBeUndefined();
    expect(h.emulator.timeline(id).launchWait).toMatchObject({ completedBy: 'timeout', result: 'ABANDON' });
    expect(h.emulator.timeline(id).terminatedAt).toBeDefined();
  });

  test('DeleteLifecycleHook completes a terminating action with CONTINUE, timers cancelled, observed as hook-deleted', async () => {
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'ABANDON' });
    const [victim, other] = [h.emulator.launchInstance('asg', { cluster: 'main' }), h.emulator.launchInstance('asg', { cluster: 'main' })];
    h.emulator.scaleIn('asg', 1);
    expect(h.emulator.lifecycleState(victim)).toBe('Terminating:Wait');
    h.advance(60_000);
    await h.autoScaling.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'drain' }));
    expect(h.emulator.lifecycleState(victim)).toBe('Terminating:Proceed');
    expect(h.emulator.timeline(victim)).toMatchObject({ completedBy: 'hook-deleted', lifecycleCompletedAt: h.clock.now() });
    expect(h.emulator.lifecycleHooks('asg')).toEqual([]);
    h.advance(600_000);
    expect(h.emulator.lifecycleState(victim)).toBeUndefined();
    expect(h.emulator.timeline(victim).completedBy).toBe('hook-deleted');
    // Without the hook the next scale-in terminates at once.
    h.emulator.scaleIn('asg', 1);
    expect(h.emulator.lifecycleState(other)).toBe('Terminating:Proceed');
    const again = await failure(h.autoScaling.send(new DeleteLifecycleHookCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'drain' })));
    expect(again.name).toBe('ValidationError');
  });

  test('DeleteLifecycleHook completes a launching action with ABANDON: the instance is terminated', () => {
    h.emulator.putLifecycleHook({ ...launchHook, defaultResult: 'CONTINUE' });
    const id = h.emulator.launchInstance('asg', { cluster: 'main' });
    expect(h.emulator.deleteLifecycleHook('asg', 'warm-up')).toBe(true);
    expect(h.emulator.timeline(id).launchWait).toMatchObject({ completedBy: 'hook-deleted', result: 'ABANDON' });
    expect(h.emulator.lifecycleState(id)).toBe('Terminating:Proceed');
    h.advance(20_000);
    expect(h.emulator.lifecycleState(id)).toBeUndefined();
  });

  test('DeleteLifecycleHook with a warm pool return: the instance goes on into the pool, the visit says hook-deleted', () => {
    h.emulator.putWarmPool({ groupName: 'asg', reuseOnScaleIn: true, minSize: 0, maxGroupPreparedCapacity: 10 });
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
    const id = h.emulator.launchInstance('asg', { cluster: 'main' });
    h.emulator.scaleIn('asg', 1);
    expect(h.emulator.lifecycleState(id)).toBe('Warmed:Pending:Wait');
    h.emulator.deleteLifecycleHook('asg', 'drain');
    expect(h.emulator.lifecycleState(id)).toBe('Warmed:Pending:Proceed');
    expect(h.emulator.timeline(id).warmPoolVisits[0].completedBy).toBe('hook-deleted');
  });
});

/**
 * Conformance of the emulator's root volume replacement (an instance refresh with Strategy
 * ReplaceRootVolume), through the real @aws-sdk clients: the lifecycle states, the termination
 * hook's action in ReplacingRootVolume:Wait and its event, the read APIs, what the swap (a reboot)
 * does to the tasks and the ECS registrations, and the refusals.
 */
import {
  CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, ListTasksCommand, UpdateContainerInstancesStateCommand,
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

async function runningTasks(h: Harness, arn: string): Promise<string[]> {
  return (await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arn }))).taskArns!;
}

/** The distinct lifecycle states the instance goes through until InService, sampled every 500 ms. */
function statesUntilInService(h: Harness, id: string, maxMs = 2 * MINUTE): string[] {
  const seen = [h.emulator.lifecycleState(id)!];
  for (let t = 0; t < maxMs && seen[seen.length - 1] !== 'InService'; t += 500) {
    h.advance(500);
    const state = h.emulator.lifecycleState(id)!;
    if (state !== seen[seen.length - 1]) seen.push(state);
  }
  return seen;
}

const AFTER_WAIT = ['ReplacingRootVolume:Proceed', 'RootVolumeReplaced', 'Pending', 'InService'];

describe('root volume replacement without a termination hook', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
  });

  afterEach(() => h.close());

  test('no wait: Proceed at once, then RootVolumeReplaced, Pending, InService; no lifecycle event', () => {
    const { ids } = launchRegistered(h, 1);
    h.emulator.replaceRootVolume(ids[0]);
    expect(statesUntilInService(h, ids[0])).toEqual(AFTER_WAIT);
    expect(lifecycleEvents(h)).toEqual([]);
    const [replacement] = h.emulator.timeline(ids[0]).rootVolumeReplacements;
    expect(replacement.lifecycleCompletedAt).toBeUndefined();
    expect(replacement.swappedAt).toBeGreaterThan(replacement.startedAt);
    expect(replacement.bootedAt).toBeGreaterThan(replacement.swappedAt!);
    expect(replacement.inServiceAt).toBeGreaterThan(replacement.bootedAt!);
    expect(replacement.agentOnBoot).toBe('registered');
    expect(h.emulator.timeline(ids[0]).terminatingAt).toBeUndefined();
  });

  test('an instance that is not in a cluster comes back without a registration', () => {
    const id = h.emulator.launchInstance('asg');
    h.emulator.replaceRootVolume(id);
    expect(statesUntilInService(h, id)).toEqual(AFTER_WAIT);
    expect(h.emulator.timeline(id).rootVolumeReplacements[0]).toMatchObject({ agentOnBoot: 'none', registrationsLeftBehind: [] });
    expect(h.emulator.containerInstanceArns(id)).toEqual([]);
  });
});

describe('root volume replacement with a termination hook', () => {
  let h: Harness;
  let ids: string[];
  let arns: string[];

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE', notificationMetadata: 'md' });
    ({ ids, arns } = launchRegistered(h, 2));
    h.emulator.createService('main', { name: 'web', desiredCount: 2 });
    h.advance(10_000);
  });

  afterEach(() => h.close());

  async function complete(instanceId: string, result: 'CONTINUE' | 'ABANDON' = 'CONTINUE'): Promise<void> {
    await h.autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: instanceId, LifecycleActionResult: result,
    }));
  }

  test('ReplacingRootVolume:Wait and one EC2 Instance-terminate Lifecycle Action event with Origin/Destination AutoScalingGroup and Action ReplaceRootVolume', () => {
    h.emulator.replaceRootVolume(ids[0]);
    expect(h.emulator.lifecycleState(ids[0])).toBe('ReplacingRootVolume:Wait');
    const events = lifecycleEvents(h);
    expect(events).toHaveLength(1);
    expect(events[0].source).toBe('aws.autoscaling');
    expect(events[0].detail).toEqual({
      LifecycleActionToken: expect.any(String),
      AutoScalingGroupName: 'asg',
      LifecycleHookName: 'drain',
      EC2InstanceId: ids[0],
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      NotificationMetadata: 'md',
      Origin: 'AutoScalingGroup',
      Destination: 'AutoScalingGroup',
      Action: 'ReplaceRootVolume',
    });
    expect(h.emulator.timeline(ids[0]).rootVolumeReplacements).toEqual([
      { startedAt: h.clock.now(), tasksAliveAtSwap: [], registrationsLeftBehind: [] },
    ]);
  });

  test('read APIs: DescribeAutoScalingInstances and DescribeAutoScalingGroups report ReplacingRootVolume:Wait', async () => {
    h.emulator.replaceRootVolume(ids[0]);
    const byId = await h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [ids[0]] }));
    expect(byId.AutoScalingInstances).toEqual([expect.objectContaining({
      InstanceId: ids[0], AutoScalingGroupName: 'asg', LifecycleState: 'ReplacingRootVolume:Wait',
    })]);
    const [group] = (await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg'] }))).AutoScalingGroups!;
    expect(group.Instances!.map(i => [i.InstanceId, i.LifecycleState])).toEqual([[ids[0], 'ReplacingRootVolume:Wait'], [ids[1], 'InService']]);
    expect(group.DesiredCapacity).toBe(2);
  });

  test('the action waits for CompleteLifecycleAction by InstanceId; then Proceed … InService; a second completion finds no action', async () => {
    h.emulator.replaceRootVolume(ids[0]);
    h.advance(200_000);
    expect(h.emulator.lifecycleState(ids[0])).toBe('ReplacingRootVolume:Wait');
    await complete(ids[0]);
    expect(statesUntilInService(h, ids[0])).toEqual(AFTER_WAIT);
    const [replacement] = h.emulator.timeline(ids[0]).rootVolumeReplacements;
    expect(replacement).toMatchObject({ completedBy: 'api', lifecycleCompletedAt: replacement.startedAt + 200_000 });
    const again = await failure(complete(ids[0]));
    expect(again.name).toBe('ValidationError');
    expect(again.message).toBe(`No active Lifecycle Action found with instance ID ${ids[0]}`);
  });

  test('ABANDON by token also goes on with the replacement', async () => {
    h.emulator.replaceRootVolume(ids[0]);
    const token = lifecycleEvents(h)[0].detail.LifecycleActionToken as string;
    await h.autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', LifecycleActionToken: token, LifecycleActionResult: 'ABANDON',
    }));
    expect(statesUntilInService(h, ids[0])).toEqual(AFTER_WAIT);
    expect(h.emulator.timeline(ids[0]).terminatedAt).toBeUndefined();
  });

  test('the heartbeat timeout ends the wait; a heartbeat restarts it', async () => {
    h.emulator.replaceRootVolume(ids[0]);
    h.advance(250_000);
    await h.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: ids[0] }));
    h.advance(299_000);
    expect(h.emulator.lifecycleState(ids[0])).toBe('ReplacingRootVolume:Wait');
    h.advance(1_000);
    expect(h.emulator.lifecycleState(ids[0])).toBe('ReplacingRootVolume:Proceed');
    const [replacement] = h.emulator.timeline(ids[0]).rootVolumeReplacements;
    expect(replacement).toMatchObject({ completedBy: 'timeout', lifecycleCompletedAt: replacement.startedAt + 550_000 });
  });

  test('the global timeout (100 × heartbeat timeout) counts from the action\'s start: heartbeats do not extend it', async () => {
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 30, defaultResult: 'CONTINUE' });
    h.emulator.replaceRootVolume(ids[0]);
    const startedAt = h.clock.now();
    const globalMs = 100 * 30_000;
    while (h.clock.now() - startedAt < globalMs - 20_000) {
      h.advance(20_000);
      await h.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: ids[0] }));
    }
    h.advance(startedAt + globalMs - 1 - h.clock.now());
    expect(h.emulator.lifecycleState(ids[0])).toBe('ReplacingRootVolume:Wait');
    h.advance(1);
    expect(h.emulator.lifecycleState(ids[0])).toBe('ReplacingRootVolume:Proceed');
    expect(h.emulator.timeline(ids[0]).rootVolumeReplacements[0]).toMatchObject({ completedBy: 'timeout', lifecycleCompletedAt: startedAt + globalMs });
  });

  test('a swap before the drain: the tasks alive are recorded, the old registration stays ACTIVE with no agent and its tasks, a new one is registered', async () => {
    const before = await runningTasks(h, arns[0]);
    expect(before).toHaveLength(1);
    h.emulator.replaceRootVolume(ids[0]);
    await complete(ids[0]);
    expect(statesUntilInService(h, ids[0])).toEqual(AFTER_WAIT);
    const [replacement] = h.emulator.timeline(ids[0]).rootVolumeReplacements;
    expect(replacement.tasksAliveAtSwap).toEqual(before);
    expect(replacement.registrationsLeftBehind).toEqual([arns[0]]);
    const [old, fresh] = h.emulator.containerInstanceArns(ids[0]);
    expect(old).toBe(arns[0]);
    expect(replacement.newRegistration).toBe(fresh);
    h.advance(10 * MINUTE);
    // ECS never hears of the dead task: no agent will report for that registration again.
    expect(await describe1(h, old)).toMatchObject({ status: 'ACTIVE', agentConnected: false, runningTasksCount: 1 });
    expect(await runningTasks(h, old)).toEqual(before);
    expect(await describe1(h, fresh)).toMatchObject({ status: 'ACTIVE', agentConnected: true, ec2InstanceId: ids[0] });
    expect(h.emulator.timeline(ids[0]).terminatedAt).toBeUndefined();
    // Nothing brings the old agent back.
    h.emulator.reconnectAgent(ids[0]);
    expect(await describe1(h, old)).toMatchObject({ agentConnected: false });
  });

  test('a drain that finished before completion: nothing alive at the swap, but the DRAINING registration is left behind for good', async () => {
    h.emulator.replaceRootVolume(ids[0]);
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'DRAINING' }));
    h.advance(2 * MINUTE);
    expect(await runningTasks(h, arns[0])).toEqual([]);
    await complete(ids[0]);
    statesUntilInService(h, ids[0]);
    const [replacement] = h.emulator.timeline(ids[0]).rootVolumeReplacements;
    expect(replacement.tasksAliveAtSwap).toEqual([]);
    expect(replacement.registrationsLeftBehind).toEqual([arns[0]]);
    h.advance(60 * MINUTE);
    expect(await describe1(h, arns[0])).toMatchObject({ status: 'DRAINING', agentConnected: false });
  });

  test('a registration deregistered before completion is not left behind', async () => {
    h.emulator.replaceRootVolume(ids[0]);
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'DRAINING' }));
    h.advance(2 * MINUTE);
    await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0] }));
    await complete(ids[0]);
    statesUntilInService(h, ids[0]);
    const [replacement] = h.emulator.timeline(ids[0]).rootVolumeReplacements;
    expect(replacement).toMatchObject({ tasksAliveAtSwap: [], registrationsLeftBehind: [], agentOnBoot: 'registered' });
    expect(await describe1(h, replacement.newRegistration!)).toMatchObject({ status: 'ACTIVE', agentConnected: true });
  });

  test('an operator-drained registration may be handled while the instance waits in ReplacingRootVolume:Wait (no violation)', async () => {
    h.emulator.setContainerInstanceDraining(arns[0]);
    h.emulator.replaceRootVolume(ids[0]);
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'DRAINING' }));
    expect(h.emulator.untouchedViolations).toEqual([]);
  });

  test('the instance being replaced stays in the group\'s capacity: a scale-in terminates another one', () => {
    h.emulator.replaceRootVolume(ids[0]);
    h.emulator.scaleIn('asg', 1);
    expect(h.emulator.lifecycleState(ids[1])).toBe('Terminating:Wait');
    expect(h.emulator.lifecycleState(ids[0])).toBe('ReplacingRootVolume:Wait');
  });

  test('refused for an instance that is not InService: in ReplacingRootVolume:Wait, in Terminating:Wait, unknown', () => {
    h.emulator.replaceRootVolume(ids[0]);
    expect(() => h.emulator.replaceRootVolume(ids[0])).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    h.emulator.scaleIn('asg', 1);
    expect(h.emulator.lifecycleState(ids[1])).toBe('Terminating:Wait');
    expect(() => h.emulator.replaceRootVolume(ids[1])).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(() => h.emulator.replaceRootVolume('i-0000000000000000')).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(h.emulator.timeline(ids[0]).rootVolumeReplacements).toHaveLength(1);
  });

  test('no warm pool is added while a replacement is under way', () => {
    h.emulator.replaceRootVolume(ids[0]);
    expect(() => h.emulator.putWarmPool({ groupName: 'asg' })).toThrow(expect.objectContaining({ name: 'ValidationError' }));
  });
});

describe('root volume replacement refused on a group with a warm pool', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
  });

  afterEach(() => h.close());

  test('ValidationError; the instance stays InService', () => {
    const { ids } = launchRegistered(h, 1);
    h.emulator.putWarmPool({ groupName: 'asg' });
    expect(() => h.emulator.replaceRootVolume(ids[0])).toThrow(expect.objectContaining({ name: 'ValidationError', message: expect.stringMatching(/warm pool/) }));
    expect(h.emulator.lifecycleState(ids[0])).toBe('InService');
    expect(h.emulator.timeline(ids[0]).rootVolumeReplacements).toEqual([]);
  });
});

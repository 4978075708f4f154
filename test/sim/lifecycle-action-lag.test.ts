/**
 * Conformance of the option `lifecycleActionVisibilityLagMs` (emulator/unkind.ts), through the
 * real @aws-sdk clients. Not documented by AWS: a public report (PrairieLearn/PrairieLearn#15586,
 * "Retry Auto Scaling lifecycle completion") shows DescribeAutoScalingInstances reporting
 * Terminating:Wait while the next CompleteLifecycleAction is refused with "No active Lifecycle
 * Action found with instance ID …", and the same action completed on a later retry. Off by default.
 */
import {
  CompleteLifecycleActionCommand, DescribeAutoScalingInstancesCommand, RecordLifecycleActionHeartbeatCommand, SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { createClusterAndGroup, failure, Harness, launchRegistered, startHarness } from './harness';

const LAG_MS = 3_000;

async function scaledIn(lagMs?: number): Promise<{ h: Harness; victim: string; token: string }> {
  const h = await startHarness(lagMs === undefined ? {} : { lifecycleActionVisibilityLagMs: lagMs });
  createClusterAndGroup(h);
  h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
  const { ids } = launchRegistered(h, 2);
  await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 1 }));
  const event = h.events.find(e => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')!;
  return { h, victim: ids[0], token: String(event.detail.LifecycleActionToken) };
}

const complete = (instanceId?: string, token?: string) => new CompleteLifecycleActionCommand({
  AutoScalingGroupName: 'asg',
  LifecycleHookName: 'drain',
  LifecycleActionResult: 'CONTINUE',
  ...instanceId ? { InstanceId: instanceId } : {},
  ...token ? { LifecycleActionToken: token } : {},
});

describe('lifecycleActionVisibilityLagMs', () => {
  test('off by default: the action can be completed the moment it starts', async () => {
    const { h, victim } = await scaledIn();
    try {
      await h.autoScaling.send(complete(victim));
      expect(h.emulator.lifecycleState(victim)).toBe('Terminating:Proceed');
      expect(h.emulator.stats.unkind.lifecycleActionNotYetVisible).toBe(0);
    } finally {
      h.close();
    }
  });

  test('within the lag: Terminating:Wait is reported, CompleteLifecycleAction by instance ID is refused, and succeeds after', async () => {
    const { h, victim } = await scaledIn(LAG_MS);
    try {
      const described = await h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [victim] }));
      expect(described.AutoScalingInstances![0].LifecycleState).toBe('Terminating:Wait');
      const err = await failure(h.autoScaling.send(complete(victim)));
      expect(err.name).toBe('ValidationError');
      expect(err.message).toBe(`No active Lifecycle Action found with instance ID ${victim}`);
      expect(err.$metadata?.httpStatusCode).toBe(400);
      // The refusal changed nothing: the action is still pending.
      expect(h.emulator.lifecycleState(victim)).toBe('Terminating:Wait');
      h.advance(LAG_MS - 1);
      await failure(h.autoScaling.send(complete(victim)));
      h.advance(1);
      await h.autoScaling.send(complete(victim));
      expect(h.emulator.lifecycleState(victim)).toBe('Terminating:Proceed');
      expect(h.emulator.timeline(victim).completedBy).toBe('api');
      expect(h.emulator.stats.unkind.lifecycleActionNotYetVisible).toBe(2);
    } finally {
      h.close();
    }
  });

  test('by token, and RecordLifecycleActionHeartbeat: the same refusal in the words for a token', async () => {
    const { h, victim, token } = await scaledIn(LAG_MS);
    try {
      const byToken = await failure(h.autoScaling.send(complete(undefined, token)));
      expect(byToken.message).toBe(`No active Lifecycle Action found with token ${token}`);
      const heartbeat = await failure(h.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: victim,
      })));
      expect(heartbeat.name).toBe('ValidationError');
      expect(heartbeat.message).toBe(`No active Lifecycle Action found with instance ID ${victim}`);
      h.advance(LAG_MS);
      await h.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', LifecycleActionToken: token }));
      await h.autoScaling.send(complete(undefined, token));
      expect(h.emulator.lifecycleState(victim)).toBe('Terminating:Proceed');
    } finally {
      h.close();
    }
  });

  test('an instance with no action at all is refused as before', async () => {
    const { h } = await scaledIn(LAG_MS);
    try {
      const err = await failure(h.autoScaling.send(complete('i-00000000000000000')));
      expect(err.message).toBe('No active Lifecycle Action found with instance ID i-00000000000000000');
      expect(h.emulator.stats.unkind.lifecycleActionNotYetVisible).toBe(0);
    } finally {
      h.close();
    }
  });
});

/**
 * Conformance of the option `releaseResourcesAt` (emulator/unkind.ts), through the real @aws-sdk
 * clients. By default a stopping task's CPU and memory come back to remainingResources when it
 * reaches STOPPED; with `desired-stopped` as soon as its desired status is STOPPED, while it is
 * still DEACTIVATING or STOPPING, as ECS users report of ECS (aws/containers-roadmap#575,
 * aws/amazon-ecs-agent#2267). DescribeContainerInstances and the container instance events agree.
 */
import { DescribeContainerInstancesCommand, DescribeTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { createClusterAndGroup, Harness, launchRegistered, startHarness } from './harness';
import { AwsEmulatorOptions } from '../../sim/emulator';

const INSTANCE_EVENT = 'ECS Container Instance State Change';

async function setUp(options: Partial<AwsEmulatorOptions>): Promise<{ h: Harness; arn: string; task: string }> {
  const h = await startHarness(options);
  createClusterAndGroup(h);
  const { arns } = launchRegistered(h, 1);
  // 30 s of stop timeout: the task stays STOPPING for a while after StopTask.
  const task = h.emulator.runStandaloneTask('main', arns[0], { cpu: 512, memory: 1024, stopTimeoutSeconds: 30 });
  h.advance(5_000);
  return { h, arn: arns[0], task };
}

async function remainingCpu(h: Harness, arn: string): Promise<number> {
  const ci = (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }))).containerInstances![0];
  return ci.remainingResources!.find(r => r.name === 'CPU')!.integerValue!;
}

function lastInstanceEventCpu(h: Harness, arn: string): unknown {
  const events = h.events.filter(e => e['detail-type'] === INSTANCE_EVENT && e.resources[0] === arn);
  const remaining = events[events.length - 1].detail.remainingResources as Array<{ name: string; integerValue: number }>;
  return remaining.find(r => r.name === 'CPU')!.integerValue;
}

async function lastStatus(h: Harness, task: string): Promise<string | undefined> {
  return (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [task] }))).tasks![0].lastStatus;
}

describe('releaseResourcesAt', () => {
  test('default (stopped): a STOPPING task still holds its resources; they come back at STOPPED', async () => {
    const { h, arn, task } = await setUp({});
    try {
      await h.ecs.send(new StopTaskCommand({ cluster: 'main', task }));
      expect(await lastStatus(h, task)).toBe('STOPPING');
      expect(await remainingCpu(h, arn)).toBe(2048 - 512);
      expect(lastInstanceEventCpu(h, arn)).toBe(2048 - 512);
      h.advance(60_000);
      expect(await lastStatus(h, task)).toBe('STOPPED');
      expect(await remainingCpu(h, arn)).toBe(2048);
    } finally {
      h.close();
    }
  });

  test('desired-stopped: free from the StopTask on, while the task is still STOPPING; the event of the stop says so too', async () => {
    const { h, arn, task } = await setUp({ releaseResourcesAt: 'desired-stopped' });
    try {
      await h.ecs.send(new StopTaskCommand({ cluster: 'main', task }));
      expect(await lastStatus(h, task)).toBe('STOPPING');
      expect(await remainingCpu(h, arn)).toBe(2048);
      // The StopTask call's container instance event (a documented cause) carries the same remainingResources.
      expect(lastInstanceEventCpu(h, arn)).toBe(2048);
      h.advance(60_000);
      expect(await lastStatus(h, task)).toBe('STOPPED');
      // Given back once only.
      expect(await remainingCpu(h, arn)).toBe(2048);
    } finally {
      h.close();
    }
  });

  test('desired-stopped: a service places a task on the resources a stopping task still uses', async () => {
    const h = await startHarness({ releaseResourcesAt: 'desired-stopped' });
    try {
      createClusterAndGroup(h);
      const { arns } = launchRegistered(h, 1, { cpu: 1024, memory: 2048 });
      const big = h.emulator.runStandaloneTask('main', arns[0], { cpu: 1024, memory: 1024, stopTimeoutSeconds: 30 });
      h.emulator.createService('main', { name: 'web', desiredCount: 1, cpu: 1024, memory: 1024 });
      h.advance(5_000);
      expect(h.emulator.registration(arns[0])!.runningTasksCount).toBe(1);
      await h.ecs.send(new StopTaskCommand({ cluster: 'main', task: big }));
      // The web task was placed at the stop, next to the task still STOPPING.
      expect(h.emulator.registration(arns[0])!.runningTasksCount).toBe(1);
      expect(h.emulator.registration(arns[0])!.tasksNotStopped).toBe(2);
    } finally {
      h.close();
    }
  });
});

/**
 * Conformance of the option `deregistrationRefusal` (emulator/unkind.ts), through the real @aws-sdk
 * clients: which tasks make DeregisterContainerInstance without force refuse.
 * - `tasks-not-stopped` (the default): any task not STOPPED, and one STOPPED less than
 *   `deregistrationLagMs` ago (an ECS maintainer: the API "won't let you succeed" unless the tasks
 *   were stopped or force is used, aws/amazon-ecs-agent#125; moto refuses while tasks are there).
 * - `tasks-desired-running`: only tasks whose desired status is RUNNING, what runningTasksCount
 *   counts (the ECS API reference, DeregisterContainerInstance, speaks of "tasks running on the
 *   container instance" under `force` and states no refusal in so many words); tasks still stopping
 *   are orphaned by the plain call.
 */
import { DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { createClusterAndGroup, failure, Harness, launchRegistered, startHarness } from './harness';
import { AwsEmulatorOptions } from '../../sim/emulator';

async function setUp(options: Partial<AwsEmulatorOptions>): Promise<{ h: Harness; id: string; arn: string; task: string }> {
  const h = await startHarness({ deregistrationLagMs: 0, ...options });
  createClusterAndGroup(h);
  const { ids, arns } = launchRegistered(h, 1);
  const task = h.emulator.runStandaloneTask('main', arns[0], { stopTimeoutSeconds: 30 });
  h.advance(5_000);
  return { h, id: ids[0], arn: arns[0], task };
}

const deregister = (arn: string) => new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arn });

async function runningTasksCount(h: Harness, arn: string): Promise<number | undefined> {
  return (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }))).containerInstances![0].runningTasksCount;
}

describe('deregistrationRefusal', () => {
  test('default (tasks-not-stopped): refused while the stopped task is still STOPPING, although runningTasksCount is 0', async () => {
    const { h, arn, task } = await setUp({});
    try {
      await h.ecs.send(new StopTaskCommand({ cluster: 'main', task }));
      expect(await runningTasksCount(h, arn)).toBe(0);
      const err = await failure(h.ecs.send(deregister(arn)));
      expect(err.name).toBe('InvalidParameterException');
      expect(err.message).toBe('Found running tasks on the instance.');
      h.advance(60_000);
      await h.ecs.send(deregister(arn));
      expect(h.emulator.registration(arn)!.status).toBe('INACTIVE');
    } finally {
      h.close();
    }
  });

  test('tasks-desired-running: refused while a task\'s desired status is RUNNING', async () => {
    const { h, arn } = await setUp({ deregistrationRefusal: 'tasks-desired-running' });
    try {
      expect(await runningTasksCount(h, arn)).toBe(1);
      const err = await failure(h.ecs.send(deregister(arn)));
      expect(err.name).toBe('InvalidParameterException');
      expect(h.emulator.registration(arn)!.status).toBe('ACTIVE');
    } finally {
      h.close();
    }
  });

  test('tasks-desired-running: accepted once every task was told to stop; the tasks still stopping are orphaned', async () => {
    const { h, id, arn, task } = await setUp({ deregistrationRefusal: 'tasks-desired-running' });
    try {
      await h.ecs.send(new StopTaskCommand({ cluster: 'main', task }));
      const out = await h.ecs.send(deregister(arn));
      expect(out.containerInstance!.status).toBe('INACTIVE');
      const timeline = h.emulator.timeline(id);
      // Not forced, and nothing the narrow refusal counts was overridden: the stopping task is orphaned all the same.
      expect(timeline.forced).toBe(false);
      expect(timeline.forceOverrodeRefusal).toBe(false);
      expect(h.emulator.stats.unkind.plainDeregistrationsOrphaning).toBe(1);
      expect(h.emulator.registration(arn)!.tasksNotStopped).toBe(0);
    } finally {
      h.close();
    }
  });

  test('tasks-desired-running with a lag: a task whose desired status just became STOPPED still counts for the lag', async () => {
    const { h, arn, task } = await setUp({ deregistrationRefusal: 'tasks-desired-running', deregistrationLagMs: 5_000 });
    try {
      await h.ecs.send(new StopTaskCommand({ cluster: 'main', task }));
      await failure(h.ecs.send(deregister(arn)));
      h.advance(5_000);
      await h.ecs.send(deregister(arn));
      expect(h.emulator.registration(arn)!.status).toBe('INACTIVE');
    } finally {
      h.close();
    }
  });
});

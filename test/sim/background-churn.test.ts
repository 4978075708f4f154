/**
 * Conformance of the options `backgroundChurn` and `stoppedTaskVisibilityExtraMs`
 * (emulator/unkind.ts, emulator/background-churn.ts), through the real @aws-sdk clients.
 * - A busy account's background: standalone batch tasks on the ACTIVE container instances and
 *   Fargate tasks (ECS API reference, Task: `launchType` FARGATE, no containerInstanceArn), which the
 *   cluster-wide ListTasks (desiredStatus STOPPED above all) lists with the rest.
 * - ListTasks: "Currently, stopped tasks appear in the returned results for at least one hour"
 *   (ECS API reference, ListTasks): exactly an hour by default, up to the extra with the option.
 */
import { DescribeTasksCommand, ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { createClusterAndGroup, Harness, launchRegistered, startHarness } from './harness';
import { AwsEmulatorOptions } from '../../sim/emulator';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

async function listAll(h: Harness, input: { desiredStatus?: 'RUNNING' | 'STOPPED'; launchType?: 'EC2' | 'FARGATE'; containerInstance?: string }): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await h.ecs.send(new ListTasksCommand({ cluster: 'main', ...input, nextToken }));
    arns.push(...page.taskArns!);
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

async function describeAll(h: Harness, arns: string[]) {
  const tasks = [];
  for (let i = 0; i < arns.length; i += 100) {
    tasks.push(...(await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: arns.slice(i, i + 100) }))).tasks!);
  }
  return tasks;
}

async function start(options: Partial<AwsEmulatorOptions>): Promise<Harness> {
  const h = await startHarness(options);
  createClusterAndGroup(h);
  return h;
}

describe('backgroundChurn', () => {
  test('off by default: the cluster holds only what the scenario put there', async () => {
    const h = await start({});
    try {
      launchRegistered(h, 2);
      h.advance(2 * HOUR);
      expect(await listAll(h, { desiredStatus: 'STOPPED' })).toEqual([]);
      expect(h.emulator.stats.unkind.churnFargateTasks + h.emulator.stats.unkind.churnStandaloneTasks).toBe(0);
    } finally {
      h.close();
    }
  });

  test('a stopped Fargate backlog and new Fargate tasks: listed cluster-wide and by launchType, never by container instance', async () => {
    const h = await start({ backgroundChurn: { fargateTasksPerHour: 120, fargateStoppedBacklog: 250 } });
    try {
      const { arns } = launchRegistered(h, 1);
      const backlog = await listAll(h, { desiredStatus: 'STOPPED' });
      expect(backlog).toHaveLength(250);
      h.advance(30 * MINUTE);
      expect(h.emulator.stats.unkind.churnFargateTasks).toBeGreaterThan(30);
      const stopped = await listAll(h, { desiredStatus: 'STOPPED' });
      // The backlog stopped over the hour before: about half of it is no longer listed, and new ones are.
      expect(stopped.filter(arn => backlog.includes(arn)).length).toBeLessThan(250);
      expect(stopped.filter(arn => !backlog.includes(arn)).length).toBeGreaterThan(10);
      const described = await describeAll(h, stopped);
      expect(described).toHaveLength(stopped.length);
      for (const task of described) {
        expect(task).toMatchObject({ launchType: 'FARGATE', lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
        expect(task.containerInstanceArn).toBeUndefined();
      }
      expect(await listAll(h, { desiredStatus: 'STOPPED', launchType: 'EC2' })).toEqual([]);
      expect(await listAll(h, { desiredStatus: 'STOPPED', containerInstance: arns[0] })).toEqual([]);
      // Running ones too, and their task state change events (no containerInstanceArn).
      const running = await listAll(h, { launchType: 'FARGATE' });
      expect(running.length).toBeGreaterThan(0);
      const event = h.events.find(e => e['detail-type'] === 'ECS Task State Change' && e.detail.launchType === 'FARGATE')!;
      expect(event.detail.containerInstanceArn).toBeUndefined();
      expect(event.detail).toMatchObject({ clusterArn: expect.stringContaining(':cluster/main'), lastStatus: 'PENDING' });
      // Two hours on, the backlog is no longer listed and has been forgotten.
      h.advance(2 * HOUR);
      const later = await listAll(h, { desiredStatus: 'STOPPED' });
      for (const arn of backlog) expect(later).not.toContain(arn);
      const forgotten = await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [backlog[0]] }));
      expect(forgotten.failures).toEqual([{ arn: backlog[0], reason: 'MISSING' }]);
    } finally {
      h.close();
    }
  });

  test('StopTask stops a running Fargate task', async () => {
    const h = await start({ backgroundChurn: { fargateTasksPerHour: 600, fargateRunSeconds: [3600, 3600] } });
    try {
      h.advance(10 * MINUTE);
      const [task] = await listAll(h, { launchType: 'FARGATE' });
      const out = await h.ecs.send(new StopTaskCommand({ cluster: 'main', task }));
      expect(out.task).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated', launchType: 'FARGATE' });
      h.advance(MINUTE);
      expect((await describeAll(h, [task]))[0].lastStatus).toBe('STOPPED');
    } finally {
      h.close();
    }
  });

  test('standalone batch tasks land on ACTIVE instances only, and run their time', async () => {
    const h = await start({ backgroundChurn: { standaloneTasksPerHour: 120, standaloneRunSeconds: [60, 120] } });
    try {
      const { arns } = launchRegistered(h, 3);
      h.emulator.setContainerInstanceDraining(arns[2]);
      h.advance(HOUR);
      expect(h.emulator.stats.unkind.churnStandaloneTasks).toBeGreaterThan(60);
      expect(await listAll(h, { desiredStatus: 'STOPPED', containerInstance: arns[2] })).toEqual([]);
      const batch = await describeAll(h, await listAll(h, { desiredStatus: 'STOPPED' }));
      expect(batch.length).toBeGreaterThan(50);
      for (const task of batch) {
        expect(task).toMatchObject({ startedBy: 'batch', launchType: 'EC2', stopCode: 'EssentialContainerExited' });
        expect([arns[0], arns[1]]).toContain(task.containerInstanceArn);
      }
    } finally {
      h.close();
    }
  });

  test('startBackgroundChurn starts it in an existing cluster; the same seed gives the same tasks', async () => {
    const run = async () => {
      const h = await start({ seed: 3 });
      try {
        h.emulator.startBackgroundChurn('main', { fargateTasksPerHour: 60 });
        h.advance(HOUR);
        return await listAll(h, { desiredStatus: 'STOPPED' });
      } finally {
        h.close();
      }
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(20);
    expect(await run()).toEqual(first);
  });
});

describe('stoppedTaskVisibilityExtraMs', () => {
  async function stoppedAndListed(options: Partial<AwsEmulatorOptions>): Promise<{ h: Harness; tasks: string[] }> {
    const h = await start(options);
    const { arns } = launchRegistered(h, 1);
    const tasks = Array.from({ length: 20 }, () => h.emulator.runStandaloneTask('main', arns[0], { runSeconds: 10 }));
    h.advance(MINUTE);
    expect(await listAll(h, { desiredStatus: 'STOPPED' })).toHaveLength(20);
    return { h, tasks };
  }

  test('default: listed exactly an hour after STOPPED', async () => {
    const { h } = await stoppedAndListed({});
    try {
      h.advance(HOUR - 2 * MINUTE);
      expect(await listAll(h, { desiredStatus: 'STOPPED' })).toHaveLength(20);
      h.advance(2 * MINUTE);
      expect(await listAll(h, { desiredStatus: 'STOPPED' })).toHaveLength(0);
    } finally {
      h.close();
    }
  });

  test('with an extra of 30 minutes: never less than an hour, some longer, none longer than 1 h 30', async () => {
    const { h } = await stoppedAndListed({ stoppedTaskVisibilityExtraMs: 30 * MINUTE });
    try {
      h.advance(HOUR - 2 * MINUTE);
      expect(await listAll(h, { desiredStatus: 'STOPPED' })).toHaveLength(20);
      h.advance(17 * MINUTE);
      const some = (await listAll(h, { desiredStatus: 'STOPPED' })).length;
      expect(some).toBeGreaterThan(0);
      expect(some).toBeLessThan(20);
      h.advance(15 * MINUTE);
      expect(await listAll(h, { desiredStatus: 'STOPPED' })).toHaveLength(0);
    } finally {
      h.close();
    }
  });
});

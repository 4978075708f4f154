/**
 * Conformance of the option `drainingReplacement` (emulator/unkind.ts), through the real @aws-sdk
 * clients. ECS API reference, UpdateContainerInstancesState, and ECS developer guide, "Draining
 * Amazon ECS container instances": PENDING service tasks on a DRAINING instance are stopped at
 * once; RUNNING ones are "stopped and replaced according to the service's deployment configuration
 * parameters, minimumHealthyPercent and maximumPercent" (defaults 100 and 200, "Best practices for
 * Amazon ECS service parameters"), and replacements start only where there is room. The default
 * (`immediate`) stops every replica task of the instance at once, as the emulator always did.
 */
import { DescribeTasksCommand, ListTasksCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { createClusterAndGroup, Harness, launchRegistered, startHarness } from './harness';
import { AwsEmulatorOptions, ServiceOptions } from '../../sim/emulator';

const SECOND = 1000;

async function setUp(options: Partial<AwsEmulatorOptions>, instances = 2): Promise<{ h: Harness; arns: string[] }> {
  const h = await startHarness(options);
  createClusterAndGroup(h);
  const { arns } = launchRegistered(h, instances);
  return { h, arns };
}

async function drain(h: Harness, arn: string): Promise<void> {
  await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arn], status: 'DRAINING' }));
}

/** The service's tasks whose desired status is RUNNING, per container instance ARN. */
async function runningByInstance(h: Harness): Promise<Map<string, string[]>> {
  const arns = (await h.ecs.send(new ListTasksCommand({ cluster: 'main', serviceName: 'web' }))).taskArns!;
  const byInstance = new Map<string, string[]>();
  if (arns.length === 0) return byInstance;
  for (const task of (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: arns }))).tasks!) {
    byInstance.set(task.containerInstanceArn!, [...byInstance.get(task.containerInstanceArn!) ?? [], task.lastStatus!]);
  }
  return byInstance;
}

function web(options: Partial<ServiceOptions> = {}): ServiceOptions {
  return { name: 'web', desiredCount: 2, startSeconds: 5, stopTimeoutSeconds: 10, ...options };
}

describe('drainingReplacement', () => {
  test('default (immediate): every replica task of the drained instance is told to stop at once', async () => {
    const { h, arns } = await setUp({});
    try {
      h.emulator.createService('main', web({ desiredCount: 4 }));
      h.advance(10 * SECOND);
      expect((await runningByInstance(h)).get(arns[0])).toHaveLength(2);
      await drain(h, arns[0]);
      expect((await runningByInstance(h)).get(arns[0])).toBeUndefined();
      expect(h.emulator.stats.unkind.drainReplacementsUnplaceable).toBe(0);
    } finally {
      h.close();
    }
  });

  describe('deployment-configuration', () => {
    const options: Partial<AwsEmulatorOptions> = { drainingReplacement: 'deployment-configuration' };

    test('minimum 100 %: the old task is stopped only once its replacement is RUNNING elsewhere', async () => {
      const { h, arns } = await setUp(options);
      try {
        h.emulator.createService('main', web());
        h.advance(10 * SECOND);
        const { arns: [spare] } = launchRegistered(h, 1);
        await drain(h, arns[0]);
        let tasks = await runningByInstance(h);
        expect(tasks.get(arns[0])).toEqual(['RUNNING']);
        expect(tasks.get(spare)).toEqual(['PENDING']);
        h.advance(5 * SECOND);
        tasks = await runningByInstance(h);
        expect(tasks.get(arns[0])).toBeUndefined();
        expect(tasks.get(spare)).toEqual(['RUNNING']);
        // The old task's stop came at the replacement's start.
        const old = h.events.filter(e => e['detail-type'] === 'ECS Task State Change' && e.detail.containerInstanceArn === arns[0]);
        const started = h.events.find(e => e['detail-type'] === 'ECS Task State Change' && e.detail.containerInstanceArn === spare
          && e.detail.lastStatus === 'RUNNING')!;
        expect(old.find(e => e.detail.desiredStatus === 'STOPPED')!.detail.stoppingAt).toBe(started.detail.startedAt);
      } finally {
        h.close();
      }
    });

    test('no room for a replacement: the old task keeps running (counted), until capacity arrives', async () => {
      // Each instance has room for one task only.
      const { h, arns } = await setUp(options);
      try {
        h.emulator.createService('main', web({ cpu: 2048, memory: 1024 }));
        h.advance(10 * SECOND);
        await drain(h, arns[0]);
        h.advance(60 * SECOND);
        expect((await runningByInstance(h)).get(arns[0])).toEqual(['RUNNING']);
        expect(h.emulator.stats.unkind.drainReplacementsUnplaceable).toBeGreaterThan(0);
        const { arns: [spare] } = launchRegistered(h, 1);
        h.advance(5 * SECOND);
        const tasks = await runningByInstance(h);
        expect(tasks.get(arns[0])).toBeUndefined();
        expect(tasks.get(spare)).toEqual(['RUNNING']);
      } finally {
        h.close();
      }
    });

    test('maximum 150 %: at most desiredCount × 1.5 tasks RUNNING or PENDING during the replacement', async () => {
      const { h, arns } = await setUp(options, 1);
      try {
        h.emulator.createService('main', web({ desiredCount: 4, maximumPercent: 150 }));
        h.advance(10 * SECOND);
        launchRegistered(h, 2);
        await drain(h, arns[0]);
        const count = async () => [...(await runningByInstance(h)).values()].flat().length;
        expect(await count()).toBe(6);
        let most = 0;
        for (let t = 0; t < 60; t++) {
          h.advance(SECOND);
          most = Math.max(most, await count());
        }
        expect(most).toBeLessThanOrEqual(6);
        const tasks = await runningByInstance(h);
        expect(tasks.get(arns[0])).toBeUndefined();
        expect([...tasks.values()].flat()).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
      } finally {
        h.close();
      }
    });

    test('minimum 50 %: half the draining tasks stop at once, before any replacement runs', async () => {
      const { h, arns } = await setUp(options, 1);
      try {
        h.emulator.createService('main', web({ desiredCount: 4, minimumHealthyPercent: 50 }));
        h.advance(10 * SECOND);
        launchRegistered(h, 1);
        await drain(h, arns[0]);
        const tasks = await runningByInstance(h);
        expect(tasks.get(arns[0])).toEqual(['RUNNING', 'RUNNING']);
        h.advance(5 * SECOND);
        expect((await runningByInstance(h)).get(arns[0])).toBeUndefined();
      } finally {
        h.close();
      }
    });

    test('PENDING tasks of the drained instance stop at once', async () => {
      const { h, arns } = await setUp(options);
      try {
        h.emulator.createService('main', web({ startSeconds: 60 }));
        await drain(h, arns[0]);
        expect((await runningByInstance(h)).get(arns[0])).toBeUndefined();
      } finally {
        h.close();
      }
    });

    test('the instance set ACTIVE again: its tasks need no replacement any more', async () => {
      const { h, arns } = await setUp(options);
      try {
        h.emulator.createService('main', web({ cpu: 2048, memory: 1024 }));
        h.advance(10 * SECOND);
        await drain(h, arns[0]);
        await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'ACTIVE' }));
        launchRegistered(h, 1);
        h.advance(30 * SECOND);
        expect((await runningByInstance(h)).get(arns[0])).toEqual(['RUNNING']);
      } finally {
        h.close();
      }
    });
  });
});

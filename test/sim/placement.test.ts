/**
 * Where services place tasks (sim/emulator/ecs-world.ts, choosePlacement): on ACTIVE container
 * instances whose agent is connected, the one with the most CPU left first, the earliest
 * registered among equals; never on a DRAINING one (ECS developer guide, "Container instance
 * draining") nor on one whose agent is disconnected. The world keeps the placeable instances as
 * an index: these checks follow every change that moves an instance in or out of it.
 */
import { DescribeContainerInstancesCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { createClusterAndGroup, Harness, launchRegistered, startHarness } from './harness';

describe('task placement', () => {
  let h: Harness;
  let ids: string[];
  let arns: string[];

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
    // 2048 CPU units each: room for four 512-unit tasks.
    ({ ids, arns } = launchRegistered(h, 3, { cpu: 2048, memory: 8192 }));
  });

  afterEach(() => h.close());

  /** runningTasksCount and remaining CPU of each instance, in launch order. */
  async function load(): Promise<Array<[number, number]>> {
    const { containerInstances } = await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: arns }));
    return containerInstances!.map(ci => [ci.runningTasksCount!, ci.remainingResources!.find(r => r.name === 'CPU')!.integerValue!]);
  }

  async function setStatus(index: number, status: 'ACTIVE' | 'DRAINING'): Promise<void> {
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[index]], status }));
  }

  test('the first task goes to the earliest registered of equals, the next ones spread by CPU left', async () => {
    h.emulator.createService('main', { name: 'one', desiredCount: 1, cpu: 512, memory: 512 });
    expect(await load()).toEqual([[1, 1536], [0, 2048], [0, 2048]]);
    h.emulator.createService('main', { name: 'web', desiredCount: 5, cpu: 512, memory: 512 });
    expect(await load()).toEqual([[2, 1024], [2, 1024], [2, 1024]]);
  });

  test('DRAINING, a disconnected agent and their undoing move an instance out of and back into placement', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 6, cpu: 512, memory: 512, deregistrationDelaySeconds: 0, stopTimeoutSeconds: 1 });
    h.advance(10_000);
    expect(await load()).toEqual([[2, 1024], [2, 1024], [2, 1024]]);

    // Instance 0 drains: its two tasks are replaced on the others, one each.
    await setStatus(0, 'DRAINING');
    h.advance(10_000);
    expect(await load()).toEqual([[0, 2048], [3, 512], [3, 512]]);

    // Instance 1's agent goes away; instance 2 drains: its three tasks have nowhere to go.
    h.emulator.disconnectAgent(ids[1]);
    await setStatus(2, 'DRAINING');
    h.advance(10_000);
    expect((await load()).map(([running]) => running)).toEqual([0, 3, 0]);

    // The agent is back: one task fits there (512 CPU left); the other two wait.
    h.emulator.reconnectAgent(ids[1]);
    h.advance(10_000);
    expect(await load()).toEqual([[0, 2048], [4, 0], [0, 2048]]);

    // Instance 0 is ACTIVE again: the two waiting tasks go there.
    await setStatus(0, 'ACTIVE');
    h.advance(10_000);
    expect(await load()).toEqual([[2, 1024], [4, 0], [0, 2048]]);
  });

  test('a deregistered instance is never placed on again', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 3, cpu: 512, memory: 512 });
    h.advance(10_000);
    h.emulator.deregisterContainerInstance(arns[2], true);
    h.advance(10_000);
    // The orphaned task's replacement went to the instance with the most CPU left, the earliest of equals.
    expect((await load()).slice(0, 2)).toEqual([[2, 1024], [1, 1536]]);
  });
});

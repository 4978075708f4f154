/**
 * Conformance of the option `staleReads` (emulator/unkind.ts, emulator/stale-reads.ts), through the
 * real @aws-sdk clients: "the result of an API command you run that affects your Amazon ECS
 * resources might not be immediately visible to all subsequent commands you run" (ECS API
 * reference, RunTask); Auto Scaling documents nothing of the kind (an option all the same). Each
 * read answers the state as it was up to its operation's window ago; writes act on the state of
 * the instant. Off by default.
 */
import {
  CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, DescribeWarmPoolCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeContainerInstancesCommand, DescribeTasksCommand, ListContainerInstancesCommand, ListTasksCommand, PutAttributesCommand, StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { createClusterAndGroup, Harness, launchRegistered, startHarness } from './harness';
import { StaleReadOptions } from '../../sim/emulator';

const SECOND = 1000;
const WINDOW_MS = 10 * SECOND;
const CALLS = 40;

async function start(staleReads: StaleReadOptions = {}, seed = 7): Promise<Harness> {
  const h = await startHarness({ staleReads, seed });
  createClusterAndGroup(h);
  return h;
}

/** `CALLS` answers of the same read at the same instant. */
async function repeat<T>(read: () => Promise<T>): Promise<T[]> {
  const answers: T[] = [];
  for (let i = 0; i < CALLS; i++) answers.push(await read());
  return answers;
}

async function statuses(h: Harness, arn: string): Promise<Array<string | undefined>> {
  return repeat(async () => {
    const out = await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }));
    return out.containerInstances![0]?.status ?? out.failures![0]?.reason;
  });
}

const ecsWindows: StaleReadOptions = {
  DescribeContainerInstances: WINDOW_MS, ListContainerInstances: WINDOW_MS, ListTasks: WINDOW_MS, DescribeTasks: WINDOW_MS,
};
const autoScalingWindows: StaleReadOptions = {
  DescribeAutoScalingInstances: WINDOW_MS, DescribeAutoScalingGroups: WINDOW_MS, DescribeWarmPool: WINDOW_MS,
};

describe('stale reads are off by default', () => {
  test('every read answers the state of the instant; nothing is counted or kept', async () => {
    const h = await start();
    try {
      const { arns } = launchRegistered(h, 1);
      await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: arns, status: 'DRAINING' }));
      expect(new Set(await statuses(h, arns[0]))).toEqual(new Set(['DRAINING']));
      expect(h.emulator.stats.unkind.totalStaleReads).toBe(0);
      expect(h.emulator.staleReadVersions).toBe(0);
    } finally {
      h.close();
    }
  });
});

describe('ECS reads with a staleness window', () => {
  let h: Harness;
  let arns: string[];

  beforeEach(async () => {
    h = await start(ecsWindows);
    ({ arns } = launchRegistered(h, 2));
    h.advance(WINDOW_MS + SECOND);
  });

  afterEach(() => h.close());

  test('DescribeContainerInstances: after DRAINING, some answers still say ACTIVE (older version) until the window has passed', async () => {
    const before = (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }))).containerInstances![0];
    const written = await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'DRAINING' }));
    // The write itself answers the state it made.
    expect(written.containerInstances![0].status).toBe('DRAINING');
    h.advance(WINDOW_MS / 2);
    const mixed = await repeat(async () =>
      (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }))).containerInstances![0]);
    const stale = mixed.filter(ci => ci.status === 'ACTIVE');
    const fresh = mixed.filter(ci => ci.status === 'DRAINING');
    expect(stale.length).toBeGreaterThan(0);
    expect(fresh.length).toBeGreaterThan(0);
    // A stale answer is the whole earlier version, not a mix.
    for (const ci of stale) expect(ci.version).toBe(before.version);
    expect(h.emulator.stats.unkind.staleReads['ecs:DescribeContainerInstances']).toBeGreaterThan(0);
    h.advance(WINDOW_MS);
    expect(new Set(await statuses(h, arns[0]))).toEqual(new Set(['DRAINING']));
  });

  test('a registration made just now: MISSING in some answers, left out of some listings, until the window has passed', async () => {
    const { arns: fresh } = launchRegistered(h, 1);
    h.advance(WINDOW_MS / 2);
    const seen = await statuses(h, fresh[0]);
    expect(seen).toContain('MISSING');
    expect(seen).toContain('ACTIVE');
    const listings = await repeat(async () => (await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' }))).containerInstanceArns!);
    expect(listings.some(l => !l.includes(fresh[0]))).toBe(true);
    expect(listings.some(l => l.includes(fresh[0]))).toBe(true);
    // The registrations that did not change are in every answer.
    for (const listing of listings) expect(listing).toEqual(expect.arrayContaining(arns));
    h.advance(WINDOW_MS);
    expect(new Set(await statuses(h, fresh[0]))).toEqual(new Set(['ACTIVE']));
  });

  test('ListContainerInstances status=DRAINING: a just-drained registration is missing from some answers', async () => {
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[1]], status: 'DRAINING' }));
    h.advance(WINDOW_MS / 2);
    const listings = await repeat(async () =>
      (await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', status: 'DRAINING' }))).containerInstanceArns!);
    expect(listings.some(l => l.length === 0)).toBe(true);
    expect(listings.some(l => l.length === 1 && l[0] === arns[1])).toBe(true);
  });

  test('attributes and remaining resources are read as they were', async () => {
    const task = h.emulator.runStandaloneTask('main', arns[0], { cpu: 512, memory: 1024 });
    await h.ecs.send(new PutAttributesCommand({ cluster: 'main', attributes: [{ name: 'drain', value: 'yes', targetId: arns[0] }] }));
    h.advance(WINDOW_MS / 2);
    const answers = await repeat(async () =>
      (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }))).containerInstances![0]);
    const cpu = (ci: typeof answers[number]) => ci.remainingResources!.find(r => r.name === 'CPU')!.integerValue;
    const hasAttribute = (ci: typeof answers[number]) => ci.attributes!.some(a => a.name === 'drain');
    expect(answers.some(ci => cpu(ci) === 2048 && !hasAttribute(ci) && ci.runningTasksCount === 0)).toBe(true);
    expect(answers.some(ci => cpu(ci) === 2048 - 512 && hasAttribute(ci) && ci.runningTasksCount === 1)).toBe(true);
    expect(task).toMatch(/:task\/main\//);
  });

  test('ListTasks / DescribeTasks: a stopped task is still RUNNING (and listed as such) in some answers', async () => {
    const taskArn = h.emulator.runStandaloneTask('main', arns[0]);
    h.advance(WINDOW_MS + SECOND);
    await h.ecs.send(new StopTaskCommand({ cluster: 'main', task: taskArn }));
    h.advance(WINDOW_MS / 2);
    const running = await repeat(async () => (await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arns[0] }))).taskArns!);
    expect(running.some(l => l.includes(taskArn))).toBe(true);
    expect(running.some(l => !l.includes(taskArn))).toBe(true);
    const described = await repeat(async () => (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [taskArn] }))).tasks![0]);
    expect(described.some(t => t.desiredStatus === 'RUNNING' && t.lastStatus === 'RUNNING' && t.stoppingAt === undefined)).toBe(true);
    expect(described.some(t => t.desiredStatus === 'STOPPED')).toBe(true);
    h.advance(2 * 60 * SECOND);
    const stopped = await repeat(async () => (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [taskArn] }))).tasks![0]);
    expect(new Set(stopped.map(t => t.lastStatus))).toEqual(new Set(['STOPPED']));
  });

  test('the same seed gives the same answers', async () => {
    const run = async () => {
      const other = await start(ecsWindows, 11);
      try {
        const { arns: mine } = launchRegistered(other, 1);
        other.advance(WINDOW_MS + SECOND);
        await other.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: mine, status: 'DRAINING' }));
        other.advance(WINDOW_MS / 2);
        return await statuses(other, mine[0]);
      } finally {
        other.close();
      }
    };
    expect(await run()).toEqual(await run());
  });

  test('the histories keep what the window needs: bounded however many changes went before', async () => {
    for (let round = 0; round < 30; round++) {
      await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: arns, status: round % 2 ? 'ACTIVE' : 'DRAINING' }));
      h.advance(WINDOW_MS);
    }
    const kept = h.emulator.staleReadVersions;
    for (let round = 0; round < 300; round++) {
      await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: arns, status: round % 2 ? 'ACTIVE' : 'DRAINING' }));
      h.advance(WINDOW_MS);
    }
    expect(h.emulator.staleReadVersions).toBeLessThanOrEqual(kept);
  });
});

describe('Auto Scaling reads with a staleness window', () => {
  let h: Harness;
  let ids: string[];

  beforeEach(async () => {
    h = await start(autoScalingWindows);
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
    ({ ids } = launchRegistered(h, 3));
    h.advance(WINDOW_MS + SECOND);
  });

  afterEach(() => h.close());

  async function statesOf(id: string): Promise<Array<string | undefined>> {
    return repeat(async () =>
      (await h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] }))).AutoScalingInstances![0]?.LifecycleState);
  }

  test('DescribeAutoScalingInstances: InService in some answers after the scale-in, until the window has passed', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    expect(h.emulator.lifecycleState(ids[0])).toBe('Terminating:Wait');
    h.advance(WINDOW_MS / 2);
    const states = await statesOf(ids[0]);
    expect(states).toContain('InService');
    expect(states).toContain('Terminating:Wait');
    h.advance(WINDOW_MS);
    expect(new Set(await statesOf(ids[0]))).toEqual(new Set(['Terminating:Wait']));
  });

  test('DescribeAutoScalingGroups: the old desired capacity, and a terminated instance still listed, within the window', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    await h.autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: ids[0], LifecycleActionResult: 'CONTINUE',
    }));
    while (h.emulator.lifecycleState(ids[0]) !== undefined) h.advance(SECOND);
    const groups = await repeat(async () => (await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg'] }))).AutoScalingGroups![0]);
    expect(groups.some(g => g.Instances!.some(i => i.InstanceId === ids[0] && i.LifecycleState === 'Terminating:Proceed'))).toBe(true);
    expect(groups.some(g => !g.Instances!.some(i => i.InstanceId === ids[0]))).toBe(true);
    // The terminated instance is still answered by ID in some answers too.
    expect(await statesOf(ids[0])).toContain('Terminating:Proceed');
    h.advance(WINDOW_MS);
    const later = await repeat(async () => (await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg'] }))).AutoScalingGroups![0]);
    for (const group of later) {
      expect(group.DesiredCapacity).toBe(2);
      expect(group.Instances!.map(i => i.InstanceId)).toEqual([ids[1], ids[2]]);
    }
  });

  test('DescribeAutoScalingGroups: a new desired capacity is not seen by every answer at once', async () => {
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    h.advance(WINDOW_MS / 2);
    const capacities = await repeat(async () =>
      (await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg'] }))).AutoScalingGroups![0].DesiredCapacity);
    expect(new Set(capacities)).toEqual(new Set([2, 3]));
  });

  test('DescribeWarmPool: an instance returning to the pool is not in some answers yet', async () => {
    h.emulator.putWarmPool({ groupName: 'asg', reuseOnScaleIn: true });
    h.advance(WINDOW_MS + SECOND);
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
    expect(h.emulator.lifecycleState(ids[0])).toBe('Warmed:Pending:Wait');
    h.advance(WINDOW_MS / 2);
    const pools = await repeat(async () =>
      (await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'asg' }))).Instances!.map(i => i.InstanceId));
    expect(pools.some(p => p.length === 0)).toBe(true);
    expect(pools.some(p => p.length === 1 && p[0] === ids[0])).toBe(true);
  });
});

/**
 * ClusterApi: paging, batching and the answers that mean "already done", over mocked SDK clients.
 */
import {
  CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, DescribeWarmPoolCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import {
  autoScalingMock, ciArn, CLUSTER, drainRecordValue, ecsClientException, ecsInvalidParameter, ecsMock, FakeContainerInstance, GROUP, harness, HOOK,
  noActiveLifecycleAction, pageToken, resources, stageWorld, taskArn,
} from './fixtures';
import { chunk, ClusterApi, containerInstanceViewOf, forEachLimited, LIMITS } from '../../lambda/aws';
import { ATTRIBUTE } from '../../src/constants';

beforeEach(() => stageWorld());

describe('registrationsOf', () => {
  test('follows nextToken past 100 container instances and describes them in batches of at most 100 ARNs', async () => {
    // GIVEN three EC2 instances with 150 registrations between them, listed over two pages
    const ids = ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003'];
    const arns = Array.from({ length: 150 }, (_, i) => ciArn(`ci-${i}`));
    ecsMock.on(ListContainerInstancesCommand)
      .resolvesOnce({ containerInstanceArns: arns.slice(0, 100), nextToken: 'token-1' })
      .resolvesOnce({ containerInstanceArns: arns.slice(100) });
    ecsMock.on(DescribeContainerInstancesCommand).callsFake(input => ({
      containerInstances: (input.containerInstances as string[]).map((arn, i) => ({
        containerInstanceArn: arn, ec2InstanceId: ids[i % 3], status: i % 10 === 0 ? 'INACTIVE' : 'DRAINING', runningTasksCount: 0, pendingTasksCount: 0,
      })),
    }));
    const { api } = harness();

    // WHEN their registrations are read
    const result = await api.registrationsOf(ids);

    // THEN both pages were read with the `in` filter, and each describe took ≤ 100 ARNs
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input)).toEqual([
      { cluster: CLUSTER, filter: `ec2InstanceId in [${ids.join(', ')}]`, maxResults: 100, nextToken: undefined },
      { cluster: CLUSTER, filter: `ec2InstanceId in [${ids.join(', ')}]`, maxResults: 100, nextToken: 'token-1' },
    ]);
    const batches = ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances!);
    expect(batches.map(b => b.length).sort()).toEqual([100, 50]);
    expect(batches.flat().sort()).toEqual([...arns].sort());
    // INACTIVE ones (every tenth) are dropped
    const kept = [...result.values()].flat();
    expect(kept).toHaveLength(135);
    expect(kept.every(ci => ci.status !== 'INACTIVE')).toBe(true);
    expect(result.get(ids[0])!.length + result.get(ids[1])!.length + result.get(ids[2])!.length).toBe(135);
  });

  test('splits many EC2 instances over several filters of at most LIMITS.instanceIdsPerFilter ids', async () => {
    // GIVEN 45 EC2 instances, none in the cluster
    const ids = Array.from({ length: 45 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    const { api } = harness();

    // WHEN their registrations are read
    const result = await api.registrationsOf(ids);

    // THEN three filters cover them all, and every id maps to no registration
    const filters = ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input.filter!);
    expect(filters).toHaveLength(Math.ceil(45 / LIMITS.instanceIdsPerFilter));
    expect(filters.flatMap(f => f.slice('ec2InstanceId in ['.length, -1).split(', ')).sort()).toEqual(ids);
    expect([...result.entries()].every(([, cis]) => cis.length === 0)).toBe(true);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(0);
  });

  test('reads the drain record as epoch milliseconds, with its hook clock', async () => {
    // GIVEN a container instance with a drain record
    ecsMock.on(ListContainerInstancesCommand).resolves({ containerInstanceArns: [ciArn('a')] });
    ecsMock.on(DescribeContainerInstancesCommand).resolves({
      containerInstances: [{
        containerInstanceArn: ciArn('a'),
        ec2InstanceId: 'i-00000000000000001',
        status: 'DRAINING',
        attributes: [
          { name: 'ecs.os-type', value: 'linux' },
          { name: ATTRIBUTE.DRAIN, value: drainRecordValue(1800000000, 1799996400, 1799998000) },
        ],
      }],
    });
    const { api } = harness();

    // WHEN it is read
    const [ci] = (await api.registrationsOf(['i-00000000000000001'])).get('i-00000000000000001')!;

    // THEN
    expect(ci).toEqual({
      containerInstanceArn: ciArn('a'),
      ec2InstanceId: 'i-00000000000000001',
      status: 'DRAINING',
      runningTasksCount: 0,
      pendingTasksCount: 0,
      record: { deadline: 1_800_000_000_000, startedAt: 1_799_996_400_000, hookClockFrom: 1_799_998_000_000 },
      resourcesReleased: undefined,
    });
  });
});

describe('containerInstanceViewOf', () => {
  const base = { containerInstanceArn: ciArn('a'), ec2InstanceId: 'i-00000000000000001', status: 'DRAINING' };

  test.each([
    ['a malformed drain record', [{ name: ATTRIBUTE.DRAIN, value: 'deadline:soon started:1' }]],
    ['the old separate deadline and start attributes', [{ name: 'ecs-drain-hook.deadline', value: '1800000000' }, { name: 'ecs-drain-hook.started', value: '1799996400' }]],
    ['no attribute at all', undefined],
  ])('treats %s as no record', (_name, attributes) => {
    const view = containerInstanceViewOf({ ...base, attributes });
    expect(view.record).toBeUndefined();
    expect(view.parkedAt).toBeUndefined();
  });

  test('reads a parked marker', () => {
    const view = containerInstanceViewOf({ ...base, attributes: [{ name: ATTRIBUTE.DRAIN, value: 'parked:1800000000' }] });
    expect(view).toEqual(expect.objectContaining({ parkedAt: 1_800_000_000_000 }));
    expect(view.record).toBeUndefined();
  });

  test('reads a reactivation marker', () => {
    const view = containerInstanceViewOf({ ...base, attributes: [{ name: ATTRIBUTE.DRAIN, value: 'reactivated:1800000000' }] });
    expect(view).toEqual(expect.objectContaining({ reactivatedAt: 1_800_000_000_000 }));
    expect(view.record).toBeUndefined();
  });

  test.each([
    ['equal CPU and memory', resources(2048, 7680), true],
    ['less CPU remaining', resources(1024, 7680), false],
    ['less memory remaining', resources(2048, 512), false],
  ])('resourcesReleased with %s registered vs remaining is %s', (_name, remaining, expected) => {
    const view = containerInstanceViewOf({ ...base, registeredResources: resources(2048, 7680), remainingResources: remaining });
    expect(view.resourcesReleased).toBe(expected);
  });

  test('resourcesReleased is unknown without the resource lists', () => {
    expect(containerInstanceViewOf({ ...base, registeredResources: resources(2048, 7680) }).resourcesReleased).toBeUndefined();
  });
});

describe('drainingContainerInstances', () => {
  test('lists the cluster\'s DRAINING container instances over every page and describes them at most 100 at a time', async () => {
    // GIVEN 230 DRAINING container instances and some ACTIVE ones
    stageWorld({
      containerInstances: [
        ...Array.from({ length: 230 }, (_, i) => ({ arn: ciArn(`d${i}`), ec2InstanceId: `i-${String(i).padStart(17, '0')}`, status: 'DRAINING' })),
        { arn: ciArn('active'), ec2InstanceId: 'i-0ffffffffffffffff', status: 'ACTIVE' },
      ],
    });
    const { api } = harness();

    // WHEN read
    const draining = await api.drainingContainerInstances();

    // THEN three pages with status=DRAINING, three describes, only DRAINING ones
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input)).toEqual([
      { cluster: CLUSTER, status: 'DRAINING', maxResults: 100, nextToken: undefined },
      { cluster: CLUSTER, status: 'DRAINING', maxResults: 100, nextToken: pageToken(100) },
      { cluster: CLUSTER, status: 'DRAINING', maxResults: 100, nextToken: pageToken(200) },
    ]);
    const described = ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances!.length);
    expect(described.sort()).toEqual([100, 100, 30]);
    expect(draining).toHaveLength(230);
    expect(draining.every(ci => ci.status === 'DRAINING')).toBe(true);
  });

  test('describes nothing when nothing is DRAINING', async () => {
    const { api } = harness();
    await expect(api.drainingContainerInstances()).resolves.toEqual([]);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(0);
  });
});

describe('setStatus', () => {
  test('sends at most 10 ARNs a call and returns ECS\'s answer as views, with every failure', async () => {
    // GIVEN 23 ACTIVE container instances, one of them with a drain record
    const arns = Array.from({ length: 23 }, (_, i) => ciArn(`c${i}`));
    stageWorld({
      containerInstances: arns.map((arn, i): FakeContainerInstance => ({
        arn,
        ec2InstanceId: `i-${String(i).padStart(17, '0')}`,
        status: 'ACTIVE',
        attributes: i === 0 ? { [ATTRIBUTE.DRAIN]: drainRecordValue(1800000000, 1799996400) } : {},
      })),
    });
    const { api } = harness();

    // WHEN they and an unknown one are set DRAINING
    const { containerInstances, failures, errors } = await api.setStatus([...arns, ciArn('unknown')], 'DRAINING');

    // THEN three calls, the answer read as DRAINING views (records included), and the unknown one as a failure
    const batches = ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances!.length);
    expect(batches.sort()).toEqual([10, 10, 4]);
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).every(c => c.args[0].input.status === 'DRAINING')).toBe(true);
    expect(containerInstances.map(ci => ci.containerInstanceArn).sort()).toEqual([...arns].sort());
    expect(containerInstances.every(ci => ci.status === 'DRAINING')).toBe(true);
    const recorded = containerInstances.find(ci => ci.containerInstanceArn === arns[0]);
    expect(recorded?.record).toEqual({ deadline: 1_800_000_000_000, startedAt: 1_799_996_400_000 });
    expect(failures).toEqual([{ arn: ciArn('unknown'), reason: 'MISSING', detail: undefined }]);
    expect(errors.size).toBe(0);
  });

  test('a batch call ECS refuses as a whole is sent again one ARN at a time; only the refused ARN is an error', async () => {
    const arns = Array.from({ length: 4 }, (_, i) => ciArn(`c${i}`));
    stageWorld({ containerInstances: arns.map((arn, i) => ({ arn, ec2InstanceId: `i-${String(i).padStart(17, '0')}`, status: 'ACTIVE' })) });
    ecsMock.on(UpdateContainerInstancesStateCommand, { containerInstances: arns }).rejects(ecsInvalidParameter('one of them is bad'));
    ecsMock.on(UpdateContainerInstancesStateCommand, { containerInstances: [arns[2]] }).rejects(ecsInvalidParameter('this one'));
    const { api } = harness();
    const { containerInstances, errors } = await api.setStatus(arns, 'DRAINING');
    expect(containerInstances.map(ci => ci.containerInstanceArn).sort()).toEqual([arns[0], arns[1], arns[3]].sort());
    expect([...errors.keys()]).toEqual([arns[2]]);
  });

  test('a throttled batch is not split (it would be throttled the same way, multiplied)', async () => {
    const arns = [ciArn('a'), ciArn('b')];
    ecsMock.on(UpdateContainerInstancesStateCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const { api } = harness();
    const { errors } = await api.setStatus(arns, 'DRAINING');
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand)).toHaveLength(1);
    expect([...errors.keys()].sort()).toEqual([...arns].sort());
  });
});

describe('putDrainAttributes', () => {
  test('a batch refused for one full container instance is written again one by one: the others get their value', async () => {
    const full = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`user.${i}`, 'x']));
    const arns = Array.from({ length: 12 }, (_, i) => ciArn(`c${i}`));
    stageWorld({ containerInstances: arns.map((arn, i) => ({ arn, ec2InstanceId: `i-${String(i).padStart(17, '0')}`, status: 'DRAINING', attributes: i === 3 ? full : {} })) });
    const { api } = harness();
    const errors = await api.putDrainAttributes(arns.map(arn => ({ containerInstanceArn: arn, value: 'deadline:10 started:5' })));
    expect([...errors.keys()]).toEqual([arns[3]]);
    expect((errors.get(arns[3]) as Error).name).toBe('AttributeLimitExceededException');
    const written = ecsMock.commandCalls(PutAttributesCommand).map(c => c.args[0].input.attributes!.length);
    expect(written).toEqual([10, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

describe('registrationArnsOf', () => {
  test('returns the listed ARNs without describing them', async () => {
    // GIVEN two registrations of one instance, one of another
    stageWorld({
      containerInstances: [
        { arn: ciArn('a'), ec2InstanceId: 'i-00000000000000001', status: 'ACTIVE' },
        { arn: ciArn('b'), ec2InstanceId: 'i-00000000000000001', status: 'DRAINING' },
        { arn: ciArn('c'), ec2InstanceId: 'i-00000000000000002', status: 'ACTIVE' },
      ],
    });
    const { api } = harness();

    // WHEN / THEN
    await expect(api.registrationArnsOf(['i-00000000000000001'])).resolves.toEqual([ciArn('a'), ciArn('b')]);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(0);
  });
});

describe('tasksNotStopped', () => {
  test('pages ListTasks per container instance and batches DescribeTasks by 100', async () => {
    // GIVEN one container instance with 130 tasks over two pages, one of them still STOPPING
    const tasks = Array.from({ length: 130 }, (_, i) => taskArn(`t${i}`));
    ecsMock.on(ListTasksCommand)
      .resolvesOnce({ taskArns: tasks.slice(0, 100), nextToken: 'more' })
      .resolvesOnce({ taskArns: tasks.slice(100) });
    ecsMock.on(DescribeTasksCommand).callsFake(input => ({
      tasks: (input.tasks as string[]).map(arn => ({
        taskArn: arn, containerInstanceArn: ciArn('a'), lastStatus: arn === tasks[129] ? 'STOPPING' : 'STOPPED', desiredStatus: 'STOPPED',
      })),
    }));
    const { api } = harness();

    // WHEN its tasks are read
    const result = await api.tasksNotStopped([ciArn('a')]);

    // THEN
    expect(ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input.nextToken)).toEqual([undefined, 'more']);
    expect(ecsMock.commandCalls(DescribeTasksCommand).map(c => c.args[0].input.tasks!.length).sort()).toEqual([100, 30]);
    expect(result.get(ciArn('a'))).toEqual([{ taskArn: tasks[129], lastStatus: 'STOPPING', desiredStatus: 'STOPPED' }]);
    expect(ecsMock.commandCalls(ListTasksCommand).every(c => c.args[0].input.containerInstance === ciArn('a'))).toBe(true);
  });

  test('clusterStoppingTasks lists the whole cluster once and groups the stopping tasks by container instance', async () => {
    stageWorld({
      containerInstances: [
        { arn: ciArn('a'), ec2InstanceId: 'i-00000000000000001', status: 'DRAINING', tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPING' }, { arn: taskArn('t2'), lastStatus: 'STOPPED' }] },
        { arn: ciArn('b'), ec2InstanceId: 'i-00000000000000002', status: 'ACTIVE', tasks: [{ arn: taskArn('t3'), lastStatus: 'DEACTIVATING' }] },
      ],
    });
    const { api } = harness();
    const result = await api.clusterStoppingTasks();
    expect(ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input)).toEqual([{ cluster: CLUSTER, desiredStatus: 'STOPPED', nextToken: undefined }]);
    expect(result).toEqual({
      stopping: new Map([
        // The group a task was run in (DescribeTasks, Task.group): the drain events count what is left by it.
        [ciArn('a'), [{ taskArn: taskArn('t1'), lastStatus: 'STOPPING', desiredStatus: 'STOPPED', group: 'family:standalone' }]],
        [ciArn('b'), [{ taskArn: taskArn('t3'), lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', group: 'family:standalone' }]],
      ]),
      pages: 1,
    });
  });

  test('a wanted instance without any stopping task maps to an empty list', async () => {
    const { api } = harness();
    const result = await api.tasksNotStopped([ciArn('a')]);
    expect(result).toEqual(new Map([[ciArn('a'), []]]));
    expect(ecsMock.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });
});

describe('deregister', () => {
  test('without force, a refusal while the instance is registered is "refused": never retried with force', async () => {
    ecsMock.on(DeregisterContainerInstanceCommand).rejects(ecsInvalidParameter('Found running tasks on the instance.'));
    ecsMock.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [{ containerInstanceArn: ciArn('a'), status: 'DRAINING' }] });
    const { api } = harness();
    await expect(api.deregister(ciArn('a'), false)).resolves.toBe('refused');
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.force)).toEqual([false]);
  });

  test('with force, a refusal while the instance is registered is rethrown', async () => {
    ecsMock.on(DeregisterContainerInstanceCommand).rejects(ecsClientException('boom'));
    ecsMock.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [{ containerInstanceArn: ciArn('a'), status: 'DRAINING' }] });
    const { api } = harness();
    await expect(api.deregister(ciArn('a'), true)).rejects.toThrow('boom');
  });

  test('counts a container instance ECS no longer knows as gone', async () => {
    ecsMock.on(DeregisterContainerInstanceCommand).rejects(ecsClientException('not found'));
    ecsMock.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [], failures: [{ arn: ciArn('a'), reason: 'MISSING' }] });
    const { api } = harness();
    await expect(api.deregister(ciArn('a'), true)).resolves.toBe('gone');
  });

  test('a throttled deregistration is rethrown without a second look', async () => {
    ecsMock.on(DeregisterContainerInstanceCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const { api } = harness();
    await expect(api.deregister(ciArn('a'), false)).rejects.toThrow('Rate exceeded');
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(0);
  });
});

describe('lifecycle action answers', () => {
  test('"No active Lifecycle Action found" is reported as no-active-action', async () => {
    // GIVEN
    autoScalingMock.on(CompleteLifecycleActionCommand).rejects(noActiveLifecycleAction('i-00000000000000001'));
    const { api } = harness();

    // WHEN / THEN
    await expect(api.completeLifecycleAction(GROUP, HOOK, 'i-00000000000000001')).resolves.toBe('no-active-action');
  });

  test('DescribeAutoScalingInstances is batched by 50', async () => {
    // GIVEN 120 instances
    const ids = Array.from({ length: 120 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    const { api } = harness();

    // WHEN they are looked up
    await api.autoScalingInstances(ids);

    // THEN
    const sizes = autoScalingMock.commandCalls(DescribeAutoScalingInstancesCommand).map(c => c.args[0].input.InstanceIds!.length);
    expect(sizes.sort()).toEqual([20, 50, 50]);
  });
});

describe('helpers', () => {
  test('chunk splits into slices of the given size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });

  test('forEachLimited runs every item, at most LIMITS.concurrency at once, and rethrows the first error after all settle', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    const run = forEachLimited(Array.from({ length: 30 }, (_, i) => i), async i => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise(resolve => setImmediate(resolve));
      seen.push(i);
      inFlight--;
      if (i === 3) throw new Error('three');
    });
    await expect(run).rejects.toThrow('three');
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(most).toBe(LIMITS.concurrency);
  });
});

describe('pause', () => {
  test('waits when nothing aborts it', async () => {
    const h = harness();
    await expect(h.api.pause(1)).resolves.toBeUndefined();
  });

  test('ends at once with an AbortError when the pass runs out of time, as a call in flight does', async () => {
    const abort = new AbortController();
    const api = harness().api.bounded(abort.signal);
    const waiting = api.pause(60_000);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await expect(api.pause(1)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('paging under a bounded pass', () => {
  /**
   * Listings of five pages whose first page's answer aborts the pass. The mocked clients reject a call
   * whose abort signal has fired with an AbortError before any answer, as the SDK's HTTP handler
   * does: so a listing stops paging once its pass is aborted only if every page's call carries the
   * pass's signal.
   */
  const listings = [
    {
      name: 'ListTasks',
      mock: ecsMock,
      command: ListTasksCommand,
      answer: { taskArns: [taskArn('t')] },
      token: 'nextToken',
      read: (api: ClusterApi) => api.clusterStoppingTasks(),
    },
    {
      name: 'ListContainerInstances',
      mock: ecsMock,
      command: ListContainerInstancesCommand,
      answer: { containerInstanceArns: [ciArn('a')] },
      token: 'nextToken',
      read: (api: ClusterApi) => api.drainingContainerInstances(),
    },
    {
      name: 'DescribeAutoScalingInstances',
      mock: autoScalingMock,
      command: DescribeAutoScalingInstancesCommand,
      answer: { AutoScalingInstances: [] },
      token: 'NextToken',
      read: (api: ClusterApi) => api.autoScalingInstances(['i-00000000000000001']),
    },
    {
      name: 'DescribeAutoScalingGroups',
      mock: autoScalingMock,
      command: DescribeAutoScalingGroupsCommand,
      answer: { AutoScalingGroups: [] },
      token: 'NextToken',
      read: (api: ClusterApi) => api.instancesOfGroups([GROUP]),
    },
    {
      name: 'DescribeWarmPool',
      mock: autoScalingMock,
      command: DescribeWarmPoolCommand,
      answer: { Instances: [] },
      token: 'NextToken',
      read: (api: ClusterApi) => api.instancesOfGroups([GROUP]),
    },
  ] as const;

  test.each(listings)('$name stops paging once the pass is aborted: every page carries its abort signal', async ({ mock, command, answer, token, read }) => {
    // GIVEN a listing of five pages, and a group with a warm pool (for DescribeWarmPool)
    autoScalingMock.on(DescribeAutoScalingGroupsCommand, {}).resolves({
      AutoScalingGroups: [{ AutoScalingGroupName: GROUP, WarmPoolConfiguration: {} } as never],
    });
    const abort = new AbortController();
    const api = harness().api.bounded(abort.signal);
    const stub = mock.send as unknown as { lastCall: { args: [unknown, { abortSignal?: AbortSignal }?] } };
    let page = 0;
    (mock as typeof ecsMock).on(command as never).callsFake(() => {
      if (stub.lastCall.args[1]?.abortSignal?.aborted) {
        throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
      }
      page++;
      if (page === 1) abort.abort();
      return page < 5 ? { ...answer, [token]: `page-${page + 1}` } : answer;
    });

    // WHEN it is read
    const reading = read(api);

    // THEN the read ends with the AbortError of its second page, the first asked after the abort
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    const calls = (mock as typeof ecsMock).commandCalls(command as never);
    expect(calls).toHaveLength(2);
    expect(calls.map(c => (c.args as unknown[])[1])).toEqual([{ abortSignal: abort.signal }, { abortSignal: abort.signal }]);
    expect(calls.map(c => (c.args[0].input as Record<string, unknown>)[token])).toEqual([undefined, 'page-2']);
  });
});

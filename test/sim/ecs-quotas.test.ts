/**
 * Conformance of the emulator's ECS quotas and refusals, through the real @aws-sdk/client-ecs:
 * the custom attribute quota and patterns, the ENI trunking statuses, the deregistration lag and
 * what a terminated host leaves behind. Sources are cited where the emulator models them.
 */
import {
  DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, ListContainerInstancesCommand,
  ListTasksCommand, PutAttributesCommand, RegisterContainerInstanceCommand, UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { createClusterAndGroup, failure, Harness, launchRegistered, startHarness } from './harness';

async function describe1(h: Harness, arn: string) {
  return (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }))).containerInstances![0];
}

function customAttributes(count: number, prefix = 'team') {
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}.${i}`, value: `v${i}` }));
}

describe('custom attributes: at most 10 per container instance, names and values as the Attribute data type says', () => {
  let h: Harness;
  let arn: string;

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
    [arn] = launchRegistered(h, 1).arns;
  });

  afterEach(() => h.close());

  const put = (attributes: Array<{ name: string; value?: string }>, targetId = arn) =>
    h.ecs.send(new PutAttributesCommand({ cluster: 'main', attributes: attributes.map(a => ({ ...a, targetId })) }));

  test('built-in ecs.* attributes do not count; the 11th custom one is AttributeLimitExceededException and the call writes nothing', async () => {
    expect((await describe1(h, arn)).attributes!.filter(a => a.name!.startsWith('ecs.')).length).toBeGreaterThan(0);
    await put(customAttributes(10));
    const err = await failure(put([{ name: 'one.more', value: 'x' }, { name: 'team.0', value: 'changed' }]));
    expect(err.name).toBe('AttributeLimitExceededException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    const attributes = (await describe1(h, arn)).attributes!;
    expect(attributes).toContainEqual({ name: 'team.0', value: 'v0' });
    expect(attributes.map(a => a.name)).not.toContain('one.more');
  });

  test('setting a name the instance already has replaces the value and adds none', async () => {
    await put(customAttributes(10));
    await put([{ name: 'team.3', value: 'replaced' }, { name: 'team.4' }]);
    const attributes = (await describe1(h, arn)).attributes!;
    expect(attributes).toContainEqual({ name: 'team.3', value: 'replaced' });
    expect(attributes.filter(a => !a.name!.startsWith('ecs.'))).toHaveLength(10);
  });

  test('names: letters, digits, - _ / \\ . (1-128); anything else is InvalidParameterException', async () => {
    await put([{ name: 'a-b_c/d\\e.F9', value: 'ok' }]);
    for (const name of ['has@at', 'has:colon', 'has space', 'x'.repeat(129), '']) {
      expect((await failure(put([{ name, value: 'v' }]))).name).toBe('InvalidParameterException');
    }
    expect((await describe1(h, arn)).attributes).toContainEqual({ name: 'a-b_c/d\\e.F9', value: 'ok' });
  });

  test('values: also @ : and inner spaces, not starting or ending with a space (1-128)', async () => {
    await put([{ name: 'owner', value: 'ops@example.com: team a\\b/c' }]);
    for (const value of [' leading', 'trailing ', 'semi;colon', 'x'.repeat(129), '']) {
      expect((await failure(put([{ name: 'bad', value }]))).name).toBe('InvalidParameterException');
    }
  });

  test('attributes the agent registers (ECS_INSTANCE_ATTRIBUTES) are custom: an instance can start with all 10 taken', async () => {
    const full = h.emulator.containerInstanceArns(h.emulator.launchInstance('asg', { cluster: 'main', attributes: customAttributes(10, 'env') }))[0];
    expect((await describe1(h, full)).attributes).toContainEqual({ name: 'env.9', value: 'v9' });
    expect((await failure(put([{ name: 'ecs-drain-hook.deadline', value: '1800000000' }], full))).name).toBe('AttributeLimitExceededException');
    await put([{ name: 'env.0', value: 'replaced' }], full);
    // Registration itself: more than 10 is refused with one of RegisterContainerInstance's documented errors.
    const eleven = await failure(h.ecs.send(new RegisterContainerInstanceCommand({
      cluster: 'main',
      instanceIdentityDocument: JSON.stringify({ instanceId: 'i-0abc0abc0abc0abc0' }),
      attributes: customAttributes(11),
    })));
    expect(eleven.name).toBe('InvalidParameterException');
    expect(() => h.emulator.launchInstance('asg', { cluster: 'main', attributes: customAttributes(11) })).toThrow(/10 custom attributes/);
  });
});

describe('container instance statuses with ENI trunking', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
  });

  afterEach(() => h.close());

  test('a trunked registration is REGISTERING until its trunk is attached, then ACTIVE; nothing is placed on it before', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2 });
    const arn = h.emulator.containerInstanceArns(h.emulator.launchInstance('asg', { cluster: 'main', awsvpcTrunking: true }))[0];
    expect(await describe1(h, arn)).toMatchObject({ status: 'REGISTERING', runningTasksCount: 0, pendingTasksCount: 0 });
    expect((await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', status: 'REGISTERING' }))).containerInstanceArns).toEqual([arn]);
    h.advance(60_000);
    expect(await describe1(h, arn)).toMatchObject({ status: 'ACTIVE', runningTasksCount: 2 });
  });

  test('ListContainerInstances filters by each status and lists every status but INACTIVE by default', async () => {
    const arns = [0, 1, 2, 3].map(() => h.emulator.containerInstanceArns(h.emulator.launchInstance('asg', { cluster: 'main' }))[0]);
    h.emulator.setRegistrationStatus(arns[1], 'REGISTERING');
    h.emulator.setRegistrationStatus(arns[2], 'REGISTRATION_FAILED');
    h.emulator.setRegistrationStatus(arns[3], 'DEREGISTERING');
    for (const [status, arn] of [['ACTIVE', arns[0]], ['REGISTERING', arns[1]], ['REGISTRATION_FAILED', arns[2]], ['DEREGISTERING', arns[3]]] as const) {
      expect((await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', status }))).containerInstanceArns).toEqual([arn]);
    }
    expect((await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' }))).containerInstanceArns).toEqual(arns);
    expect(await describe1(h, arns[2])).toMatchObject({ status: 'REGISTRATION_FAILED', statusReason: expect.any(String) });
  });

  test('UpdateContainerInstancesState refuses the whole call when one instance is REGISTERING, REGISTRATION_FAILED or DEREGISTERING', async () => {
    const arns = [0, 1].map(() => h.emulator.containerInstanceArns(h.emulator.launchInstance('asg', { cluster: 'main' }))[0]);
    for (const status of ['REGISTERING', 'REGISTRATION_FAILED', 'DEREGISTERING'] as const) {
      h.emulator.setRegistrationStatus(arns[1], status);
      for (const target of ['DRAINING', 'ACTIVE'] as const) {
        const err = await failure(h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: arns, status: target })));
        expect(err.name).toBe('InvalidParameterException');
        expect(err.message).toContain(status);
      }
      expect((await describe1(h, arns[0])).status).toBe('ACTIVE');
      expect((await describe1(h, arns[1])).status).toBe(status);
    }
    h.emulator.setRegistrationStatus(arns[1], 'ACTIVE');
    const out = await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: arns, status: 'DRAINING' }));
    expect(out.containerInstances!.map(c => c.status)).toEqual(['DRAINING', 'DRAINING']);
  });

  test('a terminated trunked instance goes DEREGISTERING, then INACTIVE', async () => {
    const id = h.emulator.launchInstance('asg', { cluster: 'main', awsvpcTrunking: true });
    const arn = h.emulator.containerInstanceArns(id)[0];
    h.advance(60_000);
    h.emulator.scaleIn('asg', 1);
    h.advance(15_000 + 30_000 + 1);
    expect(await describe1(h, arn)).toMatchObject({ status: 'DEREGISTERING', agentConnected: false });
    h.advance(20_000);
    expect((await describe1(h, arn)).status).toBe('INACTIVE');
  });
});

describe('DeregisterContainerInstance without force while ECS still counts a task', () => {
  async function withStoppedTask(lagMs?: number) {
    const h = await startHarness(lagMs === undefined ? {} : { deregistrationLagMs: lagMs });
    createClusterAndGroup(h);
    const { ids: [id], arns: [arn] } = launchRegistered(h, 1);
    const task = h.emulator.runStandaloneTask('main', arn, { runSeconds: 10, stopTimeoutSeconds: 1 });
    // Step to the instant the task reaches STOPPED (the agent reports it; ECS records stoppedAt).
    for (let t = 0; t < 300; t++) {
      const [described] = (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [task] }))).tasks!;
      if (described.lastStatus === 'STOPPED') break;
      h.advance(100);
    }
    return { h, id, arn, task };
  }

  test('refused for a few seconds after the last task stopped, with the error ECS gives; DescribeContainerInstances already counts 0', async () => {
    const { h, id, arn, task } = await withStoppedTask();
    try {
      const [described] = (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [task] }))).tasks!;
      expect(described.lastStatus).toBe('STOPPED');
      expect(await describe1(h, arn)).toMatchObject({ runningTasksCount: 0, pendingTasksCount: 0 });
      expect((await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arn }))).taskArns).toEqual([]);
      const err = await failure(h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arn })));
      expect(err.name).toBe('InvalidParameterException');
      expect(err.message).toBe('Found running tasks on the instance.');
      expect((await describe1(h, arn)).status).toBe('ACTIVE');
      h.advance(5_000);
      const out = await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arn }));
      expect(out.containerInstance!.status).toBe('INACTIVE');
      expect(h.emulator.timeline(id)).toMatchObject({ forced: false, forceOverrodeRefusal: false });
    } finally {
      h.close();
    }
  });

  test('force during the lag deregisters and orphans nothing (the task had stopped)', async () => {
    const { h, id, arn } = await withStoppedTask();
    try {
      await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arn, force: true }));
      expect(h.emulator.timeline(id)).toMatchObject({ forced: false, forceOverrodeRefusal: true, deregisteredAt: h.clock.now() });
    } finally {
      h.close();
    }
  });

  test('the lag is an emulator option: 0 accepts at once', async () => {
    const { h, arn } = await withStoppedTask(0);
    try {
      const out = await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arn }));
      expect(out.containerInstance!.status).toBe('INACTIVE');
    } finally {
      h.close();
    }
  });
});

describe('a terminated EC2 instance: deregistered automatically only if its agent was connected', () => {
  let h: Harness;
  let ids: string[];
  let arns: string[];

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
    ({ ids, arns } = launchRegistered(h, 3));
    h.emulator.createService('main', { name: 'web', desiredCount: 3 });
    h.advance(10_000);
  });

  afterEach(() => h.close());

  test('agent disconnected at termination: the registration stays ACTIVE/DRAINING, its tasks as last reported, until someone deregisters it', async () => {
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[1]], status: 'DRAINING' }));
    h.advance(60_000);
    const running = (await describe1(h, arns[0])).runningTasksCount!;
    expect(running).toBeGreaterThan(0);
    h.emulator.disconnectAgent(ids[0]);
    h.emulator.disconnectAgent(ids[1]);
    h.emulator.scaleIn('asg', 2); // no hook: the two oldest terminate within seconds
    h.advance(60 * 60_000);
    expect(h.emulator.timeline(ids[0]).tasksAliveAtTermination).toHaveLength(running);
    expect(await describe1(h, arns[0])).toMatchObject({ status: 'ACTIVE', agentConnected: false, runningTasksCount: running });
    expect((await describe1(h, arns[1])).status).toBe('DRAINING');
    expect((await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' }))).containerInstanceArns).toEqual(arns);
    h.emulator.reconnectAgent(ids[0]); // a terminated host's agent cannot come back
    expect((await describe1(h, arns[0])).agentConnected).toBe(false);
    expect((await failure(h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0] })))).name)
      .toBe('InvalidParameterException');
    await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0], force: true }));
    expect((await describe1(h, arns[0])).status).toBe('INACTIVE');
  });

  test('agent connected at termination: ECS records the tasks STOPPED and the registration INACTIVE; the service replaces the tasks', async () => {
    h.emulator.scaleIn('asg', 1);
    h.advance(60_000);
    expect(await describe1(h, arns[0])).toMatchObject({ status: 'INACTIVE', agentConnected: false, runningTasksCount: 0 });
    const running = await h.ecs.send(new ListTasksCommand({ cluster: 'main', serviceName: 'web' }));
    expect(running.taskArns).toHaveLength(3);
  });

  test('RegisterContainerInstance with the checkpointed ARN: a deregistered registration is refused with ClientException "is inactive"', async () => {
    await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[2], force: true }));
    const err = await failure(h.ecs.send(new RegisterContainerInstanceCommand({
      cluster: 'main', containerInstanceArn: arns[2], instanceIdentityDocument: JSON.stringify({ instanceId: ids[2] }),
    })));
    expect(err.name).toBe('ClientException');
    expect(err.message).toBe(`Container instance ${arns[2].split('/').pop()} is inactive.`);
    h.emulator.disconnectAgent(ids[1]);
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[1]], status: 'DRAINING' }));
    const again = await h.ecs.send(new RegisterContainerInstanceCommand({
      cluster: 'main', containerInstanceArn: arns[1], instanceIdentityDocument: JSON.stringify({ instanceId: ids[1] }),
    }));
    expect(again.containerInstance).toMatchObject({ containerInstanceArn: arns[1], agentConnected: true, status: 'DRAINING' });
  });
});

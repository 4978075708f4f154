import {
  DeleteAttributesCommand, DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, DescribeTasksCommand,
  ListAttributesCommand, ListContainerInstancesCommand, ListTasksCommand, PutAttributesCommand, RegisterContainerInstanceCommand,
  StopTaskCommand, UpdateContainerAgentCommand, UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { failure, Harness, startHarness } from './harness';

describe('ECS API over JSON 1.1 through the real SDK', () => {
  let h: Harness;
  let instances: string[];
  let arns: string[];

  beforeEach(async () => {
    h = await startHarness();
    h.emulator.createCluster('main');
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 300, desiredCapacity: 0 });
    instances = [];
    for (let i = 0; i < 3; i++) instances.push(h.emulator.launchInstance('asg', { cluster: 'main' }));
    arns = instances.map(id => h.emulator.containerInstanceArns(id)[0]);
  });

  afterEach(() => h.close());

  test('answers carry the world\'s (virtual) time in Date, as a service stamps its own clock', async () => {
    // (Node would stamp the machine's clock; a Lambda handler in virtual time would then see its
    // clock skewed by days, and the SDK retries every error once after correcting the skew.)
    h.advance(3 * 24 * 3600_000);
    const error = await failure(h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: 'ffffffffffffffffffffffffffffffff' })));
    expect(error.name).toBe('InvalidParameterException');
    expect((error as { $response?: { headers: Record<string, string> } }).$response?.headers.date).toBe(new Date(h.clock.now()).toUTCString());
  });

  test('DescribeContainerInstances: documented shape, failures MISSING, at most 100', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 3 });
    h.advance(10_000);
    const out = await h.ecs.send(new DescribeContainerInstancesCommand({
      cluster: 'main', containerInstances: [arns[0], 'ffffffffffffffffffffffffffffffff'],
    }));
    const ci = out.containerInstances![0];
    expect(ci).toMatchObject({
      containerInstanceArn: arns[0],
      ec2InstanceId: instances[0],
      status: 'ACTIVE',
      agentConnected: true,
      runningTasksCount: 1,
      pendingTasksCount: 0,
    });
    expect(ci.registeredAt).toBeInstanceOf(Date);
    expect(ci.registeredAt!.getTime()).toBe(h.clock.now() - 10_000);
    expect(ci.version).toBeGreaterThan(0);
    expect(ci.registeredResources!.find(r => r.name === 'CPU')!.integerValue).toBe(2048);
    expect(ci.remainingResources!.find(r => r.name === 'CPU')!.integerValue).toBe(2048 - 256);
    expect(out.failures).toEqual([{ arn: expect.stringContaining('container-instance/main/ffff'), reason: 'MISSING' }]);

    const tooMany = await failure(h.ecs.send(new DescribeContainerInstancesCommand({
      cluster: 'main', containerInstances: Array.from({ length: 101 }, () => arns[0]),
    })));
    expect(tooMany.name).toBe('InvalidParameterException');
    expect(tooMany.$metadata?.httpStatusCode).toBe(400);
  });

  test('unknown cluster → ClusterNotFoundException', async () => {
    const err = await failure(h.ecs.send(new ListContainerInstancesCommand({ cluster: 'nope' })));
    expect(err.name).toBe('ClusterNotFoundException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  test('RegisterContainerInstance through the API', async () => {
    const out = await h.ecs.send(new RegisterContainerInstanceCommand({
      cluster: 'main',
      instanceIdentityDocument: JSON.stringify({ instanceId: 'i-0abc0abc0abc0abc0', instanceType: 'c5.xlarge' }),
      totalResources: [{ name: 'CPU', type: 'INTEGER', integerValue: 4096 }, { name: 'MEMORY', type: 'INTEGER', integerValue: 7000 }],
    }));
    expect(out.containerInstance).toMatchObject({ ec2InstanceId: 'i-0abc0abc0abc0abc0', status: 'ACTIVE' });
    expect(out.containerInstance!.registeredResources!.find(r => r.name === 'CPU')!.integerValue).toBe(4096);
  });

  test('ListContainerInstances: pages past 100, == and in [...] filters, status filter, INACTIVE hidden by default', async () => {
    for (let i = 0; i < 250; i++) h.emulator.launchInstance('asg', { cluster: 'main' });
    const all: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', nextToken }));
      expect(page.containerInstanceArns!.length).toBeLessThanOrEqual(100);
      all.push(...page.containerInstanceArns!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(all).toHaveLength(253);
    expect(new Set(all).size).toBe(253);

    const eq = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter: `ec2InstanceId == '${instances[1]}'` }));
    expect(eq.containerInstanceArns).toEqual([arns[1]]);
    const quoted = await h.ecs.send(new ListContainerInstancesCommand({
      cluster: 'main', filter: `ec2InstanceId in ['${instances[0]}', '${instances[2]}']`,
    }));
    expect(quoted.containerInstanceArns).toEqual([arns[0], arns[2]]);
    const bare = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter: `ec2InstanceId in [${instances[2]},${instances[0]}]` }));
    expect(bare.containerInstanceArns).toEqual([arns[0], arns[2]]);

    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'DRAINING' }));
    const draining = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', status: 'DRAINING' }));
    expect(draining.containerInstanceArns).toEqual([arns[0]]);
    await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0] }));
    const afterDeregister = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter: `ec2InstanceId == ${instances[0]}` }));
    expect(afterDeregister.containerInstanceArns).toEqual([]);

    const bad = await failure(h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter: 'task:group == service:web' })));
    expect(bad.name).toBe('InvalidParameterException');
  });

  test('ListContainerInstances: `attribute:NAME exists` lists the registrations carrying NAME, with the status filter', async () => {
    await h.ecs.send(new PutAttributesCommand({
      cluster: 'main',
      attributes: [
        { name: 'team.marker', value: 'a', targetType: 'container-instance', targetId: arns[0] },
        { name: 'team.marker', value: 'b', targetType: 'container-instance', targetId: arns[2] },
      ],
    }));
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[2]], status: 'DRAINING' }));

    const marked = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter: 'attribute:team.marker exists' }));
    expect(marked.containerInstanceArns).toEqual([arns[0], arns[2]]);
    const markedActive = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter: 'attribute:team.marker exists', status: 'ACTIVE' }));
    expect(markedActive.containerInstanceArns).toEqual([arns[0]]);
    const builtIn = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter: 'attribute:ecs.os-type exists' }));
    expect(builtIn.containerInstanceArns).toEqual(arns);
  });

  test('UpdateContainerInstancesState: at most 10, only ACTIVE|DRAINING, failures for unknown and INACTIVE', async () => {
    await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[2] }));
    const out = await h.ecs.send(new UpdateContainerInstancesStateCommand({
      cluster: 'main', containerInstances: [arns[0], arns[2], 'deadbeefdeadbeefdeadbeefdeadbeef'], status: 'DRAINING',
    }));
    expect(out.containerInstances!.map(c => c.status)).toEqual(['DRAINING']);
    expect(out.failures!.map(f => f.reason)).toEqual(['INACTIVE', 'MISSING']);
    expect((await failure(h.ecs.send(new UpdateContainerInstancesStateCommand({
      cluster: 'main', containerInstances: Array.from({ length: 11 }, () => arns[0]), status: 'DRAINING',
    })))).name).toBe('InvalidParameterException');
    expect((await failure(h.ecs.send(new UpdateContainerInstancesStateCommand({
      cluster: 'main', containerInstances: [arns[0]], status: 'REGISTERING',
    })))).name).toBe('InvalidParameterException');
  });

  test('DeregisterContainerInstance: refuses with tasks unless force; force orphans and the service replaces', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 3 });
    h.advance(10_000);
    const err = await failure(h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0] })));
    expect(err.name).toBe('InvalidParameterException');
    const out = await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0], force: true }));
    expect(out.containerInstance!.status).toBe('INACTIVE');
    expect(h.emulator.timeline(instances[0])).toMatchObject({ forced: true, deregisteredAt: h.clock.now() });
    const running = await h.ecs.send(new ListTasksCommand({ cluster: 'main', serviceName: 'web' }));
    expect(running.taskArns).toHaveLength(3);
  });

  test('UpdateContainerAgent walks PENDING→…→UPDATED, then NoUpdateAvailableException', async () => {
    const first = await h.ecs.send(new UpdateContainerAgentCommand({ cluster: 'main', containerInstance: arns[0] }));
    expect(first.containerInstance!.agentUpdateStatus).toBe('PENDING');
    expect((await failure(h.ecs.send(new UpdateContainerAgentCommand({ cluster: 'main', containerInstance: arns[0] })))).name)
      .toBe('UpdateInProgressException');
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }));
      seen.push(d.containerInstances![0].agentUpdateStatus!);
      h.advance(5_000);
    }
    expect(seen).toEqual(['PENDING', 'STAGING', 'STAGED', 'UPDATING', 'UPDATED']);
    expect((await failure(h.ecs.send(new UpdateContainerAgentCommand({ cluster: 'main', containerInstance: arns[0] })))).name)
      .toBe('NoUpdateAvailableException');
  });

  test('ListTasks / DescribeTasks / StopTask: filters, paging past 100, failures, STOPPED listed for an hour', async () => {
    for (let i = 0; i < 60; i++) h.emulator.launchInstance('asg', { cluster: 'main' });
    h.emulator.createService('main', { name: 'web', desiredCount: 150 });
    const standalone = h.emulator.runStandaloneTask('main', arns[0], { startedBy: 'batch' });
    h.advance(10_000);
    const listed: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await h.ecs.send(new ListTasksCommand({ cluster: 'main', serviceName: 'web', nextToken }));
      listed.push(...page.taskArns!);
      nextToken = page.nextToken;
    } while (nextToken);
    expect(listed).toHaveLength(150);
    expect((await h.ecs.send(new ListTasksCommand({ cluster: 'main', startedBy: 'batch' }))).taskArns).toEqual([standalone]);
    const onFirst = await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arns[0] }));
    expect(onFirst.taskArns).toContain(standalone);

    const stopped = await h.ecs.send(new StopTaskCommand({ cluster: 'main', task: standalone, reason: 'test' }));
    expect(stopped.task).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'test' });
    h.advance(60_000);
    const described = await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [standalone, 'arn:aws:ecs:us-east-1:123456789012:task/main/nope'] }));
    expect(described.tasks![0]).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', containerInstanceArn: arns[0], group: 'family:standalone' });
    expect(described.tasks![0].stoppedAt).toBeInstanceOf(Date);
    expect(described.failures).toEqual([{ arn: 'arn:aws:ecs:us-east-1:123456789012:task/main/nope', reason: 'MISSING' }]);
    expect((await h.ecs.send(new ListTasksCommand({ cluster: 'main', desiredStatus: 'STOPPED' }))).taskArns).toEqual([standalone]);
    h.advance(60 * 60 * 1000);
    expect((await h.ecs.send(new ListTasksCommand({ cluster: 'main', desiredStatus: 'STOPPED' }))).taskArns).toEqual([]);
    expect((await failure(h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: Array(101).fill(standalone) })))).name)
      .toBe('InvalidParameterException');
  });

  test('PutAttributes / ListAttributes / DeleteAttributes on container instances', async () => {
    await h.ecs.send(new PutAttributesCommand({
      cluster: 'main',
      attributes: [{ name: 'ecs-drain-hook.deadline', value: '1800000000', targetType: 'container-instance', targetId: arns[0] }],
    }));
    const listed = await h.ecs.send(new ListAttributesCommand({ cluster: 'main', targetType: 'container-instance', attributeName: 'ecs-drain-hook.deadline' }));
    expect(listed.attributes).toEqual([{ name: 'ecs-drain-hook.deadline', value: '1800000000', targetType: 'container-instance', targetId: arns[0] }]);
    const described = await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }));
    expect(described.containerInstances![0].attributes).toContainEqual({ name: 'ecs-drain-hook.deadline', value: '1800000000' });
    await h.ecs.send(new DeleteAttributesCommand({ cluster: 'main', attributes: [{ name: 'ecs-drain-hook.deadline', targetId: arns[0] }] }));
    expect((await h.ecs.send(new ListAttributesCommand({ cluster: 'main', targetType: 'container-instance', attributeName: 'ecs-drain-hook.deadline' }))).attributes).toEqual([]);

    const eleven = Array.from({ length: 11 }, (_, i) => ({ name: `a${i}`, value: 'v', targetId: arns[0] }));
    expect((await failure(h.ecs.send(new PutAttributesCommand({ cluster: 'main', attributes: eleven })))).name).toBe('InvalidParameterException');
    expect((await failure(h.ecs.send(new PutAttributesCommand({ cluster: 'main', attributes: [{ name: 'x', targetId: 'nope' }] })))).name)
      .toBe('TargetNotFoundException');
  });

  test('an operator-drained instance counts mutating calls as violations', async () => {
    h.emulator.setContainerInstanceDraining(arns[1]);
    await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[1]] }));
    expect(h.emulator.untouchedViolations).toHaveLength(0);
    await h.ecs.send(new PutAttributesCommand({ cluster: 'main', attributes: [{ name: 'x', value: 'y', targetId: arns[1] }] }));
    expect(h.emulator.untouchedViolations).toMatchObject([{ operation: 'PutAttributes', ec2InstanceId: instances[1] }]);
  });
});

/**
 * Conformance of ECS DescribeServices and of the service event messages, through the real
 * @aws-sdk/client-ecs over loopback.
 * - ECS API reference, DescribeServices (1 to 10 services, names or ARNs) and the Service and
 *   ServiceEvent data types (events: the latest 100);
 * - ECS developer guide, "Amazon ECS API failure reasons" (DescribeServices: MISSING);
 * - ECS developer guide, "Amazon ECS service event messages" (the wording), "Viewing Amazon ECS
 *   service event messages" (duplicates omitted until resolved or six hours pass) and "Draining
 *   Amazon ECS container instances" (a message when a replacement finds no capacity).
 */
import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { createClusterAndGroup, failure, Harness, launchRegistered, startHarness } from './harness';
import { AwsEmulatorOptions } from '../../sim/emulator';
import { parsePolicy } from '../../sim/emulator/iam/policy';

const ACCOUNT = '123456789012';
const SERVICE_ARN = (name: string) => `arn:aws:ecs:us-east-1:${ACCOUNT}:service/main/${name}`;
const UNABLE = 'was unable to place a task because no container instance met all of its requirements.';

async function describe1(h: Harness, name: string) {
  const out = await h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: [name] }));
  return out.services![0];
}

async function drain(h: Harness, arn: string): Promise<void> {
  await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arn], status: 'DRAINING' }));
}

async function setUp(options: Partial<AwsEmulatorOptions> = {}, instances = 2): Promise<{ h: Harness; arns: string[] }> {
  const h = await startHarness(options);
  createClusterAndGroup(h);
  return { h, arns: launchRegistered(h, instances).arns };
}

describe('DescribeServices', () => {
  test('the documented fields of a replica and a daemon service, by name and by ARN', async () => {
    const { h } = await setUp();
    try {
      h.emulator.createService('main', { name: 'web', desiredCount: 3, startSeconds: 5, minimumHealthyPercent: 50, maximumPercent: 150 });
      h.emulator.createService('main', { name: 'agent', desiredCount: 0, daemon: true, cpu: 128, memory: 128 });
      h.advance(2_000);
      let out = await h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: ['web', SERVICE_ARN('agent')] }));
      expect(out.failures).toEqual([]);
      const [web, agent] = out.services!;
      expect(web).toMatchObject({
        serviceArn: SERVICE_ARN('web'),
        serviceName: 'web',
        clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/main`,
        status: 'ACTIVE',
        schedulingStrategy: 'REPLICA',
        desiredCount: 3,
        runningCount: 0,
        pendingCount: 3,
        deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 150 },
      });
      expect(web.tags).toBeUndefined();
      expect(web.createdAt).toEqual(new Date(h.clock.now() - 2_000));
      // DAEMON: one task per ACTIVE container instance; deployment defaults 0 and 100 (API reference, DeploymentConfiguration).
      expect(agent).toMatchObject({
        serviceName: 'agent', schedulingStrategy: 'DAEMON', desiredCount: 2, deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100 },
      });
      h.advance(5_000);
      out = await h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: ['web'], include: ['TAGS'] }));
      expect(out.services![0]).toMatchObject({ runningCount: 3, pendingCount: 0, tags: [] });
    } finally {
      h.close();
    }
  });

  test('unknown services are failures with reason MISSING, as ARNs; an unknown cluster is ClusterNotFoundException', async () => {
    const { h } = await setUp();
    try {
      h.emulator.createService('main', { name: 'web', desiredCount: 1 });
      const out = await h.ecs.send(new DescribeServicesCommand({
        cluster: 'main', services: ['web', 'nope', 'arn:aws:ecs:us-east-1:123456789012:service/other/web'],
      }));
      expect(out.services!.map(s => s.serviceName)).toEqual(['web']);
      expect(out.failures).toEqual([
        { arn: SERVICE_ARN('nope'), reason: 'MISSING' },
        { arn: 'arn:aws:ecs:us-east-1:123456789012:service/other/web', reason: 'MISSING' },
      ]);
      const err = await failure(h.ecs.send(new DescribeServicesCommand({ cluster: 'absent', services: ['web'] })));
      expect(err.name).toBe('ClusterNotFoundException');
    } finally {
      h.close();
    }
  });

  test('more than 10 services, or none, is InvalidParameterException', async () => {
    const { h } = await setUp();
    try {
      const eleven = Array.from({ length: 11 }, (_, i) => `s${i}`);
      let err = await failure(h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: eleven })));
      expect(err.name).toBe('InvalidParameterException');
      expect(err.$metadata?.httpStatusCode).toBe(400);
      err = await failure(h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: [] })));
      expect(err.name).toBe('InvalidParameterException');
      const ten = await h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: eleven.slice(0, 10) }));
      expect(ten.failures).toHaveLength(10);
    } finally {
      h.close();
    }
  });
});

describe('service event messages', () => {
  test('a service with room: no "unable to place" message, one steady-state message once its tasks run', async () => {
    const { h, arns } = await setUp({ drainingReplacement: 'deployment-configuration' }, 3);
    try {
      const createdAt = h.clock.now();
      h.emulator.createService('main', { name: 'web', desiredCount: 2, startSeconds: 5 });
      h.advance(10_000);
      await drain(h, arns[0]);
      h.advance(60_000);
      const web = await describe1(h, 'web');
      expect(web.events!.filter(e => e.message!.includes(UNABLE))).toEqual([]);
      const steady = web.events!.filter(e => e.message === 'service (web) has reached a steady state.');
      expect(steady.length).toBeGreaterThanOrEqual(1);
      expect(steady[steady.length - 1].createdAt).toEqual(new Date(createdAt + 5_000));
    } finally {
      h.close();
    }
  });

  test('no room for a draining task\'s replacement: "unable to place", with the CPU follow-up, at the virtual time, once', async () => {
    // Each instance (2048 CPU units) has room for one task.
    const { h, arns } = await setUp({ drainingReplacement: 'deployment-configuration' });
    try {
      h.emulator.createService('main', { name: 'web', desiredCount: 2, cpu: 2048, memory: 1024 });
      h.advance(10_000);
      await drain(h, arns[0]);
      const drainedAt = h.clock.now();
      h.advance(60_000);
      const web = await describe1(h, 'web');
      const unable = web.events!.filter(e => e.message!.includes(UNABLE));
      const other = arns[1].split('/').pop();
      expect(unable.map(e => e.message)).toEqual([
        `service (web) ${UNABLE} The closest matching container-instance ${other} has insufficient CPU units available.`,
      ]);
      expect(unable[0].createdAt).toEqual(new Date(drainedAt));
      expect(unable[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      // Newest first.
      const times = web.events!.map(e => e.createdAt!.getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(web.runningCount).toBe(2);
    } finally {
      h.close();
    }
  });

  test('the cause unresolved: the same message again only after six hours', async () => {
    const { h, arns } = await setUp({ drainingReplacement: 'deployment-configuration' });
    try {
      h.emulator.createService('main', { name: 'web', desiredCount: 2, cpu: 2048, memory: 1024 });
      h.advance(10_000);
      // A small instance: the closest match from now on (most CPU left), whatever else is launched later.
      launchRegistered(h, 1, { cpu: 128 });
      await drain(h, arns[0]);
      const count = async () => (await describe1(h, 'web')).events!.filter(e => e.message!.includes(UNABLE)).length;
      // Something changes in the cluster now and then: each change has the scheduler try again.
      for (let i = 0; i < 5; i++) {
        h.advance(60 * 60_000);
        launchRegistered(h, 1, { cpu: 128 });
      }
      expect(await count()).toBe(1);
      h.advance(60 * 60_000);
      launchRegistered(h, 1, { cpu: 128 });
      expect(await count()).toBe(2);
    } finally {
      h.close();
    }
  });

  test('a replica service short of its desiredCount in a cluster with no container instance: the message alone', async () => {
    const { h } = await setUp({}, 0);
    try {
      h.emulator.createService('main', { name: 'web', desiredCount: 1 });
      const web = await describe1(h, 'web');
      expect(web.events!.map(e => e.message)).toEqual([`service (web) ${UNABLE}`]);
      expect(web.events![0].createdAt).toEqual(new Date(h.clock.now()));
      expect(web).toMatchObject({ desiredCount: 1, runningCount: 0, pendingCount: 0 });
    } finally {
      h.close();
    }
  });

  test('short of memory, not CPU: the message without a follow-up (none is documented for memory)', async () => {
    const { h } = await setUp({}, 1);
    try {
      // m5.large: 7680 MiB; a second task of 5000 MiB does not fit, its CPU would.
      h.emulator.createService('main', { name: 'web', desiredCount: 2, cpu: 256, memory: 5000 });
      const web = await describe1(h, 'web');
      expect(web.events!.map(e => e.message)).toEqual([`service (web) ${UNABLE}`]);
    } finally {
      h.close();
    }
  });

  test('at most the last 100 events are kept', async () => {
    const { h, arns } = await setUp({ drainingReplacement: 'deployment-configuration' }, 1);
    try {
      h.emulator.createService('main', { name: 'web', desiredCount: 1, startSeconds: 1 });
      // Each round trip leaves the service and brings it back: a new steady-state message each time.
      const [spare] = launchRegistered(h, 1).arns;
      let from = arns[0];
      let to = spare;
      for (let i = 0; i < 110; i++) {
        await drain(h, from);
        h.advance(2_000);
        await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [from], status: 'ACTIVE' }));
        [from, to] = [to, from];
      }
      const web = await describe1(h, 'web');
      expect(web.events).toHaveLength(100);
      expect(web.events![0].createdAt!.getTime()).toBeGreaterThan(web.events![99].createdAt!.getTime());
    } finally {
      h.close();
    }
  });
});

describe('throttling', () => {
  test('its own bucket (service read: 100, refilled 20 per second), apart from the cluster resource reads', async () => {
    const { h } = await setUp({ throttling: true });
    try {
      h.emulator.createService('main', { name: 'web', desiredCount: 1 });
      for (let i = 0; i < 100; i++) await h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: ['web'] }));
      const err = await failure(h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: ['web'] })));
      expect(err.name).toBe('ThrottlingException');
      await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: ['ffffffffffffffffffffffffffffffff'] }));
      h.advance(1_000);
      for (let i = 0; i < 20; i++) await h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: ['web'] }));
      expect((await failure(h.ecs.send(new DescribeServicesCommand({ cluster: 'main', services: ['web'] })))).name).toBe('ThrottlingException');
    } finally {
      h.close();
    }
  });
});

describe('IAM', () => {
  test('a role without ecs:DescribeServices is refused; one scoped to the service is allowed', async () => {
    const { h } = await setUp();
    let allowed = false;
    h.emulator.identify = () => ({
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/r/f`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/r`,
      policies: [parsePolicy('p', {
        Statement: allowed
          ? [{ Effect: 'Allow', Action: 'ecs:DescribeServices', Resource: SERVICE_ARN('web'), Condition: { ArnEquals: { 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/main` } } }]
          : [{ Effect: 'Allow', Action: ['ecs:DescribeTasks', 'ecs:ListTasks'], Resource: '*' }],
      })],
    });
    const client = new ECSClient({ endpoint: h.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' }, maxAttempts: 1 });
    client.middlewareStack.add(next => async args => {
      (args.request as { headers: Record<string, string> }).headers['x-sim-invocation'] = 'f#1';
      return next(args);
    }, { step: 'build' });
    try {
      h.emulator.createService('main', { name: 'web', desiredCount: 1 });
      const err = await failure(client.send(new DescribeServicesCommand({ cluster: 'main', services: ['web'] })));
      expect(err.name).toBe('AccessDeniedException');
      expect(err.message).toContain(`not authorized to perform: ecs:DescribeServices on resource: ${SERVICE_ARN('web')}`);
      allowed = true;
      const out = await client.send(new DescribeServicesCommand({ cluster: 'main', services: ['web'] }));
      expect(out.services!.map(s => s.serviceName)).toEqual(['web']);
      // Another service of the cluster is not granted.
      expect((await failure(client.send(new DescribeServicesCommand({ cluster: 'main', services: ['web', 'api'] })))).name).toBe('AccessDeniedException');
    } finally {
      client.destroy();
      h.close();
    }
  });
});

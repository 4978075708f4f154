import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeContainerInstancesCommand, DescribeTasksCommand, ListContainerInstancesCommand, ListTasksCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { failure, Harness, startHarness } from './harness';

async function drain(h: Harness, arn: string): Promise<void> {
  await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arn], status: 'DRAINING' }));
}

async function tasksOn(h: Harness, arn: string) {
  const ids = [
    ...(await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arn }))).taskArns!,
    ...(await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arn, desiredStatus: 'STOPPED' }))).taskArns!,
  ];
  if (ids.length === 0) return [];
  return (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: ids }))).tasks!;
}

describe('world model in virtual time', () => {
  let h: Harness;
  let instanceIds: string[];
  let arns: string[];

  beforeEach(async () => {
    h = await startHarness();
    h.emulator.createCluster('main');
    h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 10, desiredCapacity: 0 });
    instanceIds = [0, 1].map(() => h.emulator.launchInstance('asg', { cluster: 'main' }));
    arns = instanceIds.map(id => h.emulator.containerInstanceArns(id)[0]);
  });

  afterEach(() => h.close());

  test('a draining service task passes DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED; runningTasksCount is 0 first', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2, deregistrationDelaySeconds: 60, stopTimeoutSeconds: 30 });
    h.advance(10_000);
    await drain(h, arns[0]);
    const seen = new Set<string>();
    let zeroRunningWhileTaskAlive = false;
    for (let t = 0; t < 200; t++) {
      const [task] = (await tasksOn(h, arns[0])).filter(x => x.group === 'service:web');
      seen.add(task.lastStatus!);
      const ci = (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }))).containerInstances![0];
      if (ci.runningTasksCount === 0 && task.lastStatus !== 'STOPPED') zeroRunningWhileTaskAlive = true;
      if (task.lastStatus === 'STOPPED') {
        expect(task.desiredStatus).toBe('STOPPED');
        expect(task.stopCode).toBe('ServiceSchedulerInitiated');
        break;
      }
      h.advance(500);
    }
    expect([...seen]).toEqual(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);
    expect(zeroRunningWhileTaskAlive).toBe(true);
    // The service replaced the task on the ACTIVE instance.
    const onOther = (await tasksOn(h, arns[1])).filter(x => x.group === 'service:web' && x.desiredStatus === 'RUNNING');
    expect(onOther).toHaveLength(2);
    expect(h.emulator.timeline(instanceIds[0]).drainingAt).toBeDefined();
  });

  test('daemon tasks stop only after every replica task is STOPPED; standalone tasks are never stopped by DRAINING', async () => {
    h.emulator.createService('main', { name: 'agent', desiredCount: 0, daemon: true });
    h.emulator.createService('main', { name: 'web', desiredCount: 2, deregistrationDelaySeconds: 30 });
    const standalone = h.emulator.runStandaloneTask('main', arns[0]);
    h.advance(10_000);
    await drain(h, arns[0]);
    let replicaStoppedAt: number | undefined;
    let daemonStoppingAt: number | undefined;
    for (let t = 0; t < 400 && daemonStoppingAt === undefined; t++) {
      const tasks = await tasksOn(h, arns[0]);
      const replicas = tasks.filter(x => x.group === 'service:web');
      const daemon = tasks.find(x => x.group === 'service:agent')!;
      if (replicaStoppedAt === undefined && replicas.every(x => x.lastStatus === 'STOPPED')) replicaStoppedAt = h.clock.now();
      if (daemon.desiredStatus === 'STOPPED') daemonStoppingAt = h.clock.now();
      h.advance(250);
    }
    expect(replicaStoppedAt).toBeDefined();
    expect(daemonStoppingAt!).toBeGreaterThanOrEqual(replicaStoppedAt!);
    h.advance(10 * 60_000);
    const [left] = (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [standalone] }))).tasks!;
    expect(left).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    const ci = (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }))).containerInstances![0];
    expect(ci).toMatchObject({ status: 'DRAINING', runningTasksCount: 1 });
  });

  test('a standalone task with runSeconds exits on its own', async () => {
    const task = h.emulator.runStandaloneTask('main', arns[0], { runSeconds: 60 });
    // 1 s PENDING, 60 s running, then up to the 30 s stop timeout and 1.5 s of DEPROVISIONING.
    h.advance(95_000);
    const [described] = (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [task] }))).tasks!;
    expect(described).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
  });

  test('state-change events carry the DescribeContainerInstances version and the sample shape', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2 });
    h.advance(10_000);
    h.events.length = 0;
    await drain(h, arns[0]);
    // One event for the drained instance (status and task flips batched), one for the replacement's host.
    const events = h.events.filter(e => e['detail-type'] === 'ECS Container Instance State Change' && e.resources[0] === arns[0]);
    expect(events).toHaveLength(1);
    const ci = (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }))).containerInstances![0];
    expect(events[0]).toMatchObject({
      source: 'aws.ecs',
      resources: [arns[0]],
      detail: { status: 'DRAINING', version: ci.version, containerInstanceArn: arns[0], ec2InstanceId: instanceIds[0], runningTasksCount: 0 },
    });
    expect(Object.keys(events[0].detail).sort()).toEqual(expect.arrayContaining([
      'agentConnected', 'attributes', 'clusterArn', 'pendingTasksCount', 'registeredAt', 'registeredResources', 'remainingResources',
      'updatedAt', 'versionInfo',
    ]));
    const ids = new Set(h.events.map(e => e.id));
    expect(ids.size).toBe(h.events.length);
  });

  test('termination kills the tasks still on the host and ECS marks the instance INACTIVE', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2, deregistrationDelaySeconds: 300 });
    h.advance(10_000);
    h.emulator.scaleIn('asg', 1); // no hook: terminates the oldest at once
    h.advance(20_000);
    const timeline = h.emulator.timeline(instanceIds[0]);
    expect(timeline.terminatedAt).toBeDefined();
    expect(timeline.tasksAliveAtTermination).toHaveLength(1);
    h.advance(60_000);
    const ci = (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arns[0]] }))).containerInstances![0];
    expect(ci).toMatchObject({ status: 'INACTIVE', agentConnected: false });
  });

  test('Spot: warning event, termination hooks, reclaimed at +120 s whatever the hook says', () => {
    h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 3600 });
    h.emulator.spotInterruption(instanceIds[1]);
    expect(h.events.at(-1)).toMatchObject({
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      'source': 'aws.ec2',
      'detail': { 'instance-id': instanceIds[1], 'instance-action': 'terminate' },
    });
    h.advance(5_000);
    expect(h.emulator.lifecycleState(instanceIds[1])).toBe('Terminating:Wait');
    h.advance(120_000);
    expect(h.emulator.lifecycleState(instanceIds[1])).toBeUndefined();
    expect(h.emulator.timeline(instanceIds[1]).terminatedAt! - h.emulator.timeline(instanceIds[1]).terminatingAt!).toBe(118_000);
  });

  test('a disconnected agent freezes task progress until it reconnects', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2, stopTimeoutSeconds: 10 });
    h.advance(10_000);
    await drain(h, arns[0]);
    h.emulator.disconnectAgent(instanceIds[0]);
    h.advance(60_000);
    const [frozen] = (await tasksOn(h, arns[0])).filter(t => t.group === 'service:web');
    expect(frozen.lastStatus).not.toBe('STOPPED');
    h.emulator.reconnectAgent(instanceIds[0]);
    h.advance(20_000);
    const [done] = (await tasksOn(h, arns[0])).filter(t => t.group === 'service:web');
    expect(done.lastStatus).toBe('STOPPED');
  });

  test('deleting the group or the cluster mid-drain', async () => {
    h.emulator.deleteCluster('main');
    expect((await failure(h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' })))).name).toBe('ClusterNotFoundException');
    h.emulator.deleteAutoScalingGroup('asg');
    const groups = await h.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['asg'] }));
    expect(groups.AutoScalingGroups).toEqual([]);
    expect(h.emulator.timeline(instanceIds[0]).terminatedAt).toBe(h.clock.now());
  });
});

describe('throttling and faults', () => {
  test('a burst beyond the documented bucket gets ThrottlingException, and the bucket refills in virtual time', async () => {
    const h = await startHarness({ throttling: true });
    try {
      h.emulator.createCluster('main');
      // Cluster resource read actions: bucket 100, refill 20/s (ECS API reference, request throttling).
      const results = await Promise.allSettled(Array.from({ length: 110 }, () => h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' }))));
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(10);
      expect(rejected[0].reason.name).toBe('ThrottlingException');
      expect(rejected[0].reason.$metadata.httpStatusCode).toBe(400);
      expect(h.emulator.stats.throttled['ecs:ListContainerInstances']).toBe(10);
      expect(h.emulator.stats.calls['ecs:ListContainerInstances']).toBe(110);
      h.advance(1_000);
      const after = await Promise.allSettled(Array.from({ length: 20 }, () => h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' }))));
      expect(after.every(r => r.status === 'fulfilled')).toBe(true);
    } finally {
      h.close();
    }
  });

  test('Auto Scaling throttling answers code Throttling', async () => {
    const h = await startHarness({ throttling: true });
    try {
      const results = await Promise.allSettled(Array.from({ length: 60 }, () => h.autoScaling.send(new DescribeAutoScalingGroupsCommand({}))));
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      expect(rejected[0].reason.name).toBe('Throttling');
    } finally {
      h.close();
    }
  });

  test('errorRate 1 → ServerException (500) and InternalFailure (500), counted', async () => {
    const h = await startHarness({ faults: { errorRate: 1 } });
    try {
      h.emulator.createCluster('main');
      const ecsErr = await failure(h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' })));
      expect(ecsErr.name).toBe('ServerException');
      expect(ecsErr.$metadata?.httpStatusCode).toBe(500);
      const asErr = await failure(h.autoScaling.send(new DescribeAutoScalingGroupsCommand({})));
      expect(asErr.name).toBe('InternalFailure');
      expect(asErr.$metadata?.httpStatusCode).toBe(500);
      expect(h.emulator.stats.totalInjectedErrors).toBe(2);
    } finally {
      h.close();
    }
  });

  test('latency is scheduled on the clock (not busy) and the hang hook never answers', async () => {
    const h = await startHarness({ faults: { latencyMs: [2_000, 2_000] } });
    try {
      h.emulator.createCluster('main');
      let answered = false;
      const call = h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' })).then(() => { answered = true; });
      while (h.clock.nextAt() === undefined) await new Promise(resolve => setImmediate(resolve));
      expect(h.emulator.busyRequests).toBe(0);
      expect(answered).toBe(false);
      h.advance(2_000);
      await call;
      expect(answered).toBe(true);

      h.emulator.setFaults({});
      h.emulator.onRequest = info => (info.operation === 'ListTasks' ? 'hang' : 'continue');
      const activityBefore = h.emulator.activity;
      let hungAnswered = false;
      void h.ecs.send(new ListTasksCommand({ cluster: 'main' })).then(() => { hungAnswered = true; }, () => undefined);
      while (h.emulator.activity === activityBefore) await new Promise(resolve => setImmediate(resolve));
      await new Promise(resolve => setTimeout(resolve, 20)); // real I/O only: give a wrong answer time to arrive
      expect(h.emulator.busyRequests).toBe(0);
      expect(hungAnswered).toBe(false);
    } finally {
      h.close();
    }
  });
});

describe('scale', () => {
  test('1,000 instances × 6 tasks drain with bounded work per request', async () => {
    const h = await startHarness();
    try {
      h.emulator.createCluster('main');
      h.emulator.createAutoScalingGroup({ name: 'big', minSize: 0, maxSize: 1000, desiredCapacity: 0 });
      const ids = Array.from({ length: 1000 }, () => h.emulator.launchInstance('big', { cluster: 'main' }));
      h.emulator.createService('main', { name: 'web', desiredCount: 5000, deregistrationDelaySeconds: 30, cpu: 256, memory: 512 });
      h.emulator.createService('main', { name: 'agent', desiredCount: 0, daemon: true, cpu: 64, memory: 64 });
      h.advance(10_000);
      const started = Date.now();
      const filter = `ec2InstanceId in [${ids.slice(0, 100).join(',')}]`;
      const listed = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter }));
      expect(listed.containerInstanceArns).toHaveLength(100);
      for (let i = 0; i < 10; i++) {
        await h.ecs.send(new UpdateContainerInstancesStateCommand({
          cluster: 'main', containerInstances: listed.containerInstanceArns!.slice(i * 10, i * 10 + 10), status: 'DRAINING',
        }));
      }
      h.advance(5 * 60_000);
      const described = await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: listed.containerInstanceArns }));
      expect(described.containerInstances!.every(ci => ci.runningTasksCount === 0)).toBe(true);
      const running = await h.ecs.send(new ListTasksCommand({ cluster: 'main', serviceName: 'web', maxResults: 100 }));
      expect(running.nextToken).toBeDefined();
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      h.close();
    }
  });

  test('same seed, same run', async () => {
    const run = async () => {
      const h = await startHarness({ seed: 42 });
      h.emulator.createCluster('main');
      h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 5, desiredCapacity: 0 });
      const ids = [0, 1, 2].map(() => h.emulator.launchInstance('asg', { cluster: 'main' }));
      h.emulator.createService('main', { name: 'web', desiredCount: 4, deregistrationDelaySeconds: 10 });
      h.advance(10_000);
      h.emulator.scaleIn('asg', 1);
      h.advance(120_000);
      const out = { ids, events: h.events.map(e => [e.id, e.time, e['detail-type']]), timeline: h.emulator.timeline(ids[0]) };
      h.close();
      return out;
    };
    expect(await run()).toEqual(await run());
  });
});

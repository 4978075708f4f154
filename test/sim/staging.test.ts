/**
 * The emulator's staging helpers (a world built directly in a state, for the handler tests of
 * test/lambda/) and its in-process answers (the server's dispatch without a socket).
 */
import { CompleteLifecycleActionCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, ListContainerInstancesCommand, ListTasksCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { failure, Harness, startHarness } from './harness';

const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/main';
const ciArn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:container-instance/main/${id}`;
const taskArn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:task/main/${id}`;

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
  h.emulator.createCluster('main');
  h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 10, desiredCapacity: 0 });
  h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain' });
});

afterEach(() => h.close());

async function remaining(arn: string): Promise<{ cpu?: number; memory?: number }> {
  const [ci] = (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }))).containerInstances!;
  const value = (name: string) => ci.remainingResources!.find(r => r.name === name)!.integerValue;
  return { cpu: value('CPU'), memory: value('MEMORY') };
}

describe('stageInstance', () => {
  test('Terminating:Wait has the action of every termination hook: CompleteLifecycleAction by instance ID ends it in Terminating:Proceed', async () => {
    h.emulator.stageInstance('asg', 'i-0000000000000000a', 'Terminating:Wait');
    const described = await h.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ['i-0000000000000000a'] }));
    expect(described.AutoScalingInstances!.map(i => i.LifecycleState)).toEqual(['Terminating:Wait']);
    await h.autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: 'i-0000000000000000a', LifecycleActionResult: 'CONTINUE',
    }));
    expect(h.emulator.lifecycleState('i-0000000000000000a')).toBe('Terminating:Proceed');
  });

  test('Warmed:Pending:Wait is a return to the warm pool: completed, it goes on into the pool', () => {
    h.emulator.putWarmPool({ groupName: 'asg', reuseOnScaleIn: true });
    h.emulator.stageInstance('asg', 'i-0000000000000000b', 'Warmed:Pending:Wait');
    expect(h.emulator.completeLifecycleAction('i-0000000000000000b', 'drain')).toBe(true);
    expect(h.emulator.lifecycleState('i-0000000000000000b')).toBe('Warmed:Pending:Proceed');
  });

  test('an instance in no hook has no action: InService and Terminating:Proceed', () => {
    h.emulator.stageInstance('asg', 'i-0000000000000000c', 'InService');
    h.emulator.stageInstance('asg', 'i-0000000000000000d', 'Terminating:Proceed');
    expect(h.emulator.completeLifecycleAction('i-0000000000000000c', 'drain')).toBe(false);
    expect(h.emulator.completeLifecycleAction('i-0000000000000000d', 'drain')).toBe(false);
    expect(h.emulator.lifecycleState('i-0000000000000000d')).toBe('Terminating:Proceed');
  });

  test('refuses what the world cannot be in: a Warmed:* state without a warm pool, a taken ID, a state it does not stage', () => {
    expect(() => h.emulator.stageInstance('asg', 'i-0000000000000000e', 'Warmed:Stopped')).toThrow(/no warm pool/);
    h.emulator.stageInstance('asg', 'i-0000000000000000e', 'InService');
    expect(() => h.emulator.stageInstance('asg', 'i-0000000000000000e', 'InService')).toThrow(/already exists/);
    expect(() => h.emulator.stageInstance('asg', 'i-0000000000000000f', 'Pending:Wait')).toThrow(/not supported/);
  });
});

describe('stageRegistration', () => {
  test('DRAINING with standalone tasks keeps them as staged; counts and resources follow the tasks', async () => {
    const arn = h.emulator.stageRegistration({
      cluster: 'main',
      id: 'ci-1',
      ec2InstanceId: 'i-0000000000000000a',
      status: 'DRAINING',
      attributes: [{ name: 'team', value: 'blue' }],
      tasks: [
        { id: 'running', lastStatus: 'RUNNING', desiredStatus: 'RUNNING' },
        { id: 'stopping', lastStatus: 'STOPPING', desiredStatus: 'STOPPED', cpu: 1024, memory: 0 },
        { id: 'stopped', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
      ],
    });
    expect(arn).toBe(ciArn('ci-1'));
    expect(h.emulator.registration(arn)).toMatchObject({ status: 'DRAINING', runningTasksCount: 1, tasksNotStopped: 2 });
    expect(h.emulator.registration(arn)!.attributes.get('team')).toBe('blue');
    // RUNNING (128 CPU, 256 MiB by default) and STOPPING hold theirs; STOPPED holds none
    await expect(remaining(arn)).resolves.toEqual({ cpu: 2048 - 128 - 1024, memory: 7680 - 256 });
    const listed = await h.ecs.send(new ListTasksCommand({ cluster: 'main', containerInstance: arn, desiredStatus: 'STOPPED' }));
    expect(listed.taskArns).toEqual([taskArn('stopping'), taskArn('stopped')]);
    const refused = await failure(h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arn })));
    expect(refused.name).toBe('InvalidParameterException');
  });

  test('with releaseResourcesAt desired-stopped, a stopping task shows its resources as free', async () => {
    const other = await startHarness({ releaseResourcesAt: 'desired-stopped' });
    try {
      other.emulator.createCluster('main');
      const arn = other.emulator.stageRegistration({
        cluster: 'main',
        id: 'ci-1',
        ec2InstanceId: 'i-0000000000000000a',
        status: 'DRAINING',
        tasks: [{ id: 'stopping', lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' }],
      });
      const [ci] = (await other.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }))).containerInstances!;
      expect(ci.remainingResources!.find(r => r.name === 'CPU')!.integerValue).toBe(2048);
      expect(other.emulator.registration(arn)).toMatchObject({ runningTasksCount: 0, tasksNotStopped: 1 });
    } finally {
      other.close();
    }
  });

  test('INACTIVE as a forced deregistration leaves it: listed by no one, described with its attributes', async () => {
    const arn = h.emulator.stageRegistration({
      cluster: 'main', id: 'ci-1', ec2InstanceId: 'i-0000000000000000a', status: 'INACTIVE', attributes: [{ name: 'team', value: 'blue' }],
    });
    const [ci] = (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }))).containerInstances!;
    expect(ci.status).toBe('INACTIVE');
    expect(ci.attributes).toContainEqual({ name: 'team', value: 'blue' });
    await expect(h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main' }))).resolves.toMatchObject({ containerInstanceArns: [] });
    const update = await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arn], status: 'DRAINING' }));
    expect(update.failures!.map(f => f.reason)).toEqual(['INACTIVE']);
  });

  test('refuses a task ID taken in the cluster, a task desired RUNNING that is stopping, an unknown status', () => {
    h.emulator.stageRegistration({ cluster: 'main', id: 'ci-1', ec2InstanceId: 'i-0000000000000000a', tasks: [{ id: 't', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }] });
    expect(() => h.emulator.stageTask(ciArn('ci-1'), { id: 't', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' })).toThrow(/already exists/);
    expect(() => h.emulator.stageTask(ciArn('ci-1'), { id: 'u', lastStatus: 'STOPPING', desiredStatus: 'RUNNING' })).toThrow(/PENDING or RUNNING/);
    expect(() => h.emulator.stageRegistration({ cluster: 'main', id: 'ci-2', ec2InstanceId: 'i-0000000000000000b', status: 'GONE' as never }))
      .toThrow(/not a container instance status/);
    expect(() => h.emulator.stageRegistration({ cluster: 'main', id: 'ci-1', ec2InstanceId: 'i-0000000000000000b' })).toThrow(/already registered/);
  });
});

describe('answer (in process)', () => {
  test('an ECS request: the same status and body the socket gives', async () => {
    const arn = h.emulator.stageRegistration({ cluster: 'main', id: 'ci-1', ec2InstanceId: 'i-0000000000000000a' });
    const body = JSON.stringify({ cluster: 'main', containerInstances: [arn] });
    const reply = h.emulator.answer({
      headers: { 'X-Amz-Target': 'AmazonEC2ContainerServiceV20141113.DescribeContainerInstances', 'Content-Type': 'application/x-amz-json-1.1' },
      body,
    })!;
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-amz-json-1.1');
    const overHttp = await fetch(h.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.DescribeContainerInstances', 'content-type': 'application/x-amz-json-1.1' },
      body,
    });
    expect(JSON.parse(reply.body)).toEqual(await overHttp.json());
    expect(JSON.parse(reply.body).containerInstances[0]).toMatchObject({ containerInstanceArn: arn, status: 'ACTIVE' });
  });

  test('an Auto Scaling error: the Query protocol\'s error document, HTTP 400', () => {
    const reply = h.emulator.answer({
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=CompleteLifecycleAction&Version=2011-01-01&AutoScalingGroupName=asg&LifecycleHookName=drain&InstanceId=i-1&LifecycleActionResult=CONTINUE',
    })!;
    expect(reply.status).toBe(400);
    expect(reply.body).toMatch(/<Code>ValidationError<\/Code><Message>No active Lifecycle Action found with instance ID i-1<\/Message>/);
  });

  test('a request onRequest hangs is not answered', () => {
    h.emulator.onRequest = () => 'hang';
    expect(h.emulator.answer({ headers: { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListTasks' }, body: `{"cluster":"${CLUSTER_ARN}"}` })).toBeUndefined();
  });
});

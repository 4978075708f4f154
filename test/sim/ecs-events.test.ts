/**
 * Conformance of the emulator's ECS events, through the real @aws-sdk clients. Container instance
 * state change events come only from the causes the ECS developer guide lists ("Amazon ECS
 * container instance state change events") unless `containerInstanceEvents: 'every-change'`; task
 * state change events from each change of a task's lastStatus or desiredStatus ("Amazon ECS task
 * state change events"). Each carries the version the API then reports (ECS API reference,
 * ContainerInstance.version and Task.version).
 */
import {
  DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, PutAttributesCommand, StopTaskCommand,
  UpdateContainerAgentCommand, UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { createClusterAndGroup, Harness, launchRegistered, startHarness } from './harness';
import { AwsEmulatorOptions, EmittedEvent } from '../../sim/emulator';

const INSTANCE_EVENT = 'ECS Container Instance State Change';
const TASK_EVENT = 'ECS Task State Change';

function instanceEvents(h: Harness, arn: string): EmittedEvent[] {
  return h.events.filter(e => e['detail-type'] === INSTANCE_EVENT && e.resources[0] === arn);
}

function taskEvents(h: Harness, taskArn: string): EmittedEvent[] {
  return h.events.filter(e => e['detail-type'] === TASK_EVENT && e.resources[0] === taskArn);
}

/** What changed in the task events: [lastStatus, desiredStatus, version]. */
function steps(events: EmittedEvent[]): Array<[unknown, unknown, unknown]> {
  return events.map(e => [e.detail.lastStatus, e.detail.desiredStatus, e.detail.version]);
}

async function describeInstance(h: Harness, arn: string) {
  return (await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [arn] }))).containerInstances![0];
}

async function describeTask(h: Harness, taskArn: string) {
  return (await h.ecs.send(new DescribeTasksCommand({ cluster: 'main', tasks: [taskArn] }))).tasks![0];
}

async function drain(h: Harness, arn: string): Promise<void> {
  await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arn], status: 'DRAINING' }));
}

/** The task of service `name` placed on the registration. */
function serviceTaskOn(h: Harness, arn: string, name: string): string {
  const found = h.events.find(e => e['detail-type'] === TASK_EVENT && e.detail.containerInstanceArn === arn
    && e.detail.group === `service:${name}` && e.detail.lastStatus === 'PENDING');
  if (!found) throw new Error(`no task of ${name} on ${arn}`);
  return found.resources[0];
}

async function start(options: Partial<AwsEmulatorOptions> = {}) {
  const h = await startHarness(options);
  createClusterAndGroup(h);
  const { ids, arns } = launchRegistered(h, 2);
  return { h, ids, arns };
}

describe('container instance state change events (documented, the emulator\'s default)', () => {
  let h: Harness;
  let ids: string[];
  let arns: string[];

  beforeEach(async () => ({ h, ids, arns } = await start()));
  afterEach(() => h.close());

  test('the agent\'s first registration: one event, version 1, as DescribeContainerInstances reports', async () => {
    const [event] = instanceEvents(h, arns[0]);
    expect(instanceEvents(h, arns[0])).toHaveLength(1);
    expect(event).toMatchObject({ source: 'aws.ecs', resources: [arns[0]], detail: { status: 'ACTIVE', version: 1, ec2InstanceId: ids[0] } });
    expect((await describeInstance(h, arns[0])).version).toBe(1);
  });

  test('a standalone task placed (RunTask): an event; its PENDING → RUNNING: none', async () => {
    h.emulator.runStandaloneTask('main', arns[0], { cpu: 512, memory: 1024 });
    expect(instanceEvents(h, arns[0]).map(e => e.detail.version)).toEqual([1, 2]);
    expect(instanceEvents(h, arns[0])[1].detail).toMatchObject({ pendingTasksCount: 1, runningTasksCount: 1 });
    h.advance(5_000);
    expect(instanceEvents(h, arns[0])).toHaveLength(2);
    expect((await describeInstance(h, arns[0])).version).toBe(2);
  });

  test('StopTask: an event at the call, none when the task it stopped reaches STOPPED', async () => {
    const task = h.emulator.runStandaloneTask('main', arns[0], { stopTimeoutSeconds: 10 });
    h.advance(5_000);
    const before = instanceEvents(h, arns[0]).length;
    await h.ecs.send(new StopTaskCommand({ cluster: 'main', task }));
    expect(instanceEvents(h, arns[0])).toHaveLength(before + 1);
    expect(instanceEvents(h, arns[0]).at(-1)!.detail).toMatchObject({ runningTasksCount: 0 });
    h.advance(15_000);
    expect((await describeTask(h, task)).lastStatus).toBe('STOPPED');
    expect(instanceEvents(h, arns[0])).toHaveLength(before + 1);
    expect((await describeInstance(h, arns[0])).version).toBe(instanceEvents(h, arns[0]).at(-1)!.detail.version);
  });

  test('the service scheduler starting a task: an event on the instance it placed it on', () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 1 });
    // The most CPU left, the earliest registered of equals: the first instance.
    expect(instanceEvents(h, arns[0]).map(e => e.detail.version)).toEqual([1, 2]);
    expect(instanceEvents(h, arns[1])).toHaveLength(1);
  });

  test('a service task stopped by DRAINING: an event when the scheduler tells it to stop, none when it reaches STOPPED', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2, deregistrationDelaySeconds: 10, stopTimeoutSeconds: 10 });
    h.advance(10_000);
    const task = serviceTaskOn(h, arns[0], 'web');
    const before = instanceEvents(h, arns[0]).length;
    await drain(h, arns[0]);
    const atDrain = instanceEvents(h, arns[0]);
    expect(atDrain).toHaveLength(before + 1);
    expect(atDrain.at(-1)!.detail).toMatchObject({ status: 'DRAINING', runningTasksCount: 0 });
    h.advance(60_000);
    expect((await describeTask(h, task)).lastStatus).toBe('STOPPED');
    expect(instanceEvents(h, arns[0])).toHaveLength(before + 1);
    const ci = await describeInstance(h, arns[0]);
    expect(ci.version).toBe(atDrain.at(-1)!.detail.version);
    // The resources came back without an event: DescribeContainerInstances shows them.
    expect(ci.remainingResources!.find(r => r.name === 'CPU')!.integerValue).toBe(2048);
  });

  test('UpdateContainerInstancesState on its own: no event (an instance with only a standalone task, which DRAINING does not stop)', async () => {
    h.emulator.runStandaloneTask('main', arns[0]);
    const version = (await describeInstance(h, arns[0])).version;
    const before = instanceEvents(h, arns[0]).length;
    await drain(h, arns[0]);
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [arns[0]], status: 'ACTIVE' }));
    expect(instanceEvents(h, arns[0])).toHaveLength(before);
    expect((await describeInstance(h, arns[0])).version).toBe(version);
  });

  test('a standalone task that exits on its own: no event at the exit, one when the agent reports it STOPPED', async () => {
    const task = h.emulator.runStandaloneTask('main', arns[0], { runSeconds: 60, stopTimeoutSeconds: 10 });
    h.advance(61_000);
    const before = instanceEvents(h, arns[0]).length;
    expect((await describeTask(h, task))).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
    expect((await describeTask(h, task)).lastStatus).not.toBe('STOPPED');
    h.advance(15_000);
    expect((await describeTask(h, task)).lastStatus).toBe('STOPPED');
    const after = instanceEvents(h, arns[0]);
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)!.detail).toMatchObject({ version: (await describeInstance(h, arns[0])).version, runningTasksCount: 0 });
  });

  test('DeregisterContainerInstance: an event (INACTIVE)', async () => {
    await h.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'main', containerInstance: arns[0] }));
    expect(instanceEvents(h, arns[0]).map(e => [e.detail.status, e.detail.version])).toEqual([['ACTIVE', 1], ['INACTIVE', 2]]);
    expect((await describeInstance(h, arns[0])).version).toBe(2);
  });

  test('the agent disconnects and connects: an event each', async () => {
    h.emulator.disconnectAgent(ids[0]);
    h.emulator.reconnectAgent(ids[0]);
    expect(instanceEvents(h, arns[0]).slice(1).map(e => [e.detail.agentConnected, e.detail.version])).toEqual([[false, 2], [true, 3]]);
    expect((await describeInstance(h, arns[0])).version).toBe(3);
  });

  test('an agent upgrade: an event when the version info changes, none for the agentUpdateStatus steps before it', async () => {
    await h.ecs.send(new UpdateContainerAgentCommand({ cluster: 'main', containerInstance: arns[0] }));
    h.advance(15_000);
    expect(instanceEvents(h, arns[0])).toHaveLength(1);
    h.advance(10_000);
    const events = instanceEvents(h, arns[0]);
    expect(events).toHaveLength(2);
    expect(events[1].detail).toMatchObject({ agentUpdateStatus: 'UPDATED', version: 2, versionInfo: { agentVersion: '1.90.0' } });
    expect((await describeInstance(h, arns[0])).version).toBe(2);
  });

  test('the host terminates: an event when the agent disconnects and its tasks are stopped, one when ECS deregisters it', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2 });
    h.advance(10_000);
    const task = serviceTaskOn(h, arns[0], 'web');
    h.events.length = 0;
    h.emulator.scaleIn('asg', 1); // no hook: the oldest terminates 5 to 15 s later, ECS deregisters it 30 s after that
    h.advance(20_000);
    expect(h.emulator.timeline(ids[0]).terminatedAt).toBeDefined();
    expect(instanceEvents(h, arns[0]).map(e => e.detail)).toEqual([expect.objectContaining({ agentConnected: false, runningTasksCount: 0 })]);
    expect(steps(taskEvents(h, task))).toEqual([['STOPPED', 'STOPPED', 3]]);
    expect(taskEvents(h, task)[0].detail).toMatchObject({ stopCode: 'TerminationNotice' });
    h.advance(60_000);
    expect(instanceEvents(h, arns[0]).map(e => e.detail.status)).toEqual(['ACTIVE', 'INACTIVE']);
  });

  test('attribute changes: no event', async () => {
    await h.ecs.send(new PutAttributesCommand({ cluster: 'main', attributes: [{ name: 'team', value: 'a', targetId: arns[0] }] }));
    expect(instanceEvents(h, arns[0])).toHaveLength(1);
    expect((await describeInstance(h, arns[0])).version).toBe(1);
  });

  test('a trunked registration: an event at REGISTERING (the first registration), none when it goes ACTIVE', async () => {
    const [trunked] = launchRegistered(h, 1, { awsvpcTrunking: true }).arns;
    h.advance(30_000);
    expect((await describeInstance(h, trunked)).status).toBe('ACTIVE');
    expect(instanceEvents(h, trunked).map(e => [e.detail.status, e.detail.version])).toEqual([['REGISTERING', 1]]);
  });
});

describe('container instance state change events in every-change mode (the undocumented ones too)', () => {
  let h: Harness;
  let arns: string[];

  beforeEach(async () => ({ h, arns } = await start({ containerInstanceEvents: 'every-change' })));
  afterEach(() => h.close());

  test('a service task stopped by DRAINING: an event also when it reaches STOPPED', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2, deregistrationDelaySeconds: 10, stopTimeoutSeconds: 10 });
    h.advance(10_000);
    const before = instanceEvents(h, arns[0]).length;
    await drain(h, arns[0]);
    expect(instanceEvents(h, arns[0])).toHaveLength(before + 1);
    h.advance(60_000);
    const events = instanceEvents(h, arns[0]);
    expect(events).toHaveLength(before + 2);
    expect(events.at(-1)!.detail).toMatchObject({ version: (await describeInstance(h, arns[0])).version, runningTasksCount: 0 });
  });

  test('PENDING → RUNNING, UpdateContainerInstancesState, each agentUpdateStatus step and the trunk going ACTIVE: an event each', async () => {
    h.emulator.runStandaloneTask('main', arns[0]);
    h.advance(5_000);
    await drain(h, arns[0]);
    expect(instanceEvents(h, arns[0]).map(e => e.detail.version)).toEqual([1, 2, 3, 4]);
    await h.ecs.send(new UpdateContainerAgentCommand({ cluster: 'main', containerInstance: arns[1] }));
    h.advance(30_000);
    expect(instanceEvents(h, arns[1]).slice(1).map(e => e.detail.agentUpdateStatus)).toEqual(['PENDING', 'STAGING', 'STAGED', 'UPDATING', 'UPDATED']);
    const [trunked] = launchRegistered(h, 1, { awsvpcTrunking: true }).arns;
    h.advance(30_000);
    expect(instanceEvents(h, trunked).map(e => e.detail.status)).toEqual(['REGISTERING', 'ACTIVE']);
  });
});

describe('task state change events', () => {
  let h: Harness;
  let arns: string[];

  beforeEach(async () => ({ h, arns } = await start()));
  afterEach(() => h.close());

  test('PENDING at the start, RUNNING, then each step to STOPPED, versions one apart; DescribeTasks shows the last', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2, deregistrationDelaySeconds: 10, stopTimeoutSeconds: 10 });
    h.advance(10_000);
    const task = serviceTaskOn(h, arns[0], 'web');
    expect(steps(taskEvents(h, task))).toEqual([['PENDING', 'RUNNING', 1], ['RUNNING', 'RUNNING', 2]]);
    expect((await describeTask(h, task)).version).toBe(2);
    await drain(h, arns[0]);
    h.advance(60_000);
    expect(steps(taskEvents(h, task))).toEqual([
      ['PENDING', 'RUNNING', 1],
      ['RUNNING', 'RUNNING', 2],
      // The scheduler's stop: desiredStatus and the first step in one event (one synchronous step).
      ['DEACTIVATING', 'STOPPED', 3],
      ['STOPPING', 'STOPPED', 4],
      ['DEPROVISIONING', 'STOPPED', 5],
      ['STOPPED', 'STOPPED', 6],
    ]);
    expect((await describeTask(h, task)).version).toBe(6);
  });

  test('the shape of the developer guide\'s example, EC2 launch type', async () => {
    const task = h.emulator.runStandaloneTask('main', arns[0], { startedBy: 'nightly', cpu: 256, memory: 512 });
    h.advance(5_000);
    await h.ecs.send(new StopTaskCommand({ cluster: 'main', task, reason: 'done' }));
    const event = taskEvents(h, task).at(-1)!;
    expect(event).toMatchObject({ 'version': '0', 'source': 'aws.ecs', 'detail-type': TASK_EVENT, 'resources': [task] });
    expect(event.detail).toMatchObject({
      attachments: [],
      availabilityZone: 'us-east-1a',
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/main',
      containerInstanceArn: arns[0],
      containers: [{ lastStatus: 'RUNNING', taskArn: task, containerArn: expect.stringMatching(/^arn:aws:ecs:us-east-1:123456789012:container\/main\//) }],
      cpu: '256',
      memory: '512',
      desiredStatus: 'STOPPED',
      lastStatus: 'STOPPING',
      group: 'family:standalone',
      launchType: 'EC2',
      startedBy: 'nightly',
      stopCode: 'UserInitiated',
      stoppedReason: 'done',
      taskArn: task,
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/standalone:1',
      version: 3,
    });
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    for (const field of ['createdAt', 'startedAt', 'stoppingAt', 'updatedAt']) expect(event.detail[field]).toMatch(iso);
    expect(event.detail.stoppedAt).toBeUndefined();
    const described = await describeTask(h, task);
    expect(described.version).toBe(3);
    const [container] = event.detail.containers as Array<{ containerArn: string }>;
    expect(described.containers).toEqual([expect.objectContaining({ containerArn: container.containerArn, lastStatus: 'RUNNING' })]);
    h.advance(60_000);
    const stopped = taskEvents(h, task).at(-1)!.detail;
    expect(stopped).toMatchObject({ lastStatus: 'STOPPED', containers: [{ lastStatus: 'STOPPED' }] });
    expect(stopped.stoppedAt).toMatch(iso);
  });

  test('one event per task and per container instance per synchronous step', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 6, deregistrationDelaySeconds: 10 });
    h.advance(10_000);
    h.events.length = 0;
    await drain(h, arns[0]);
    expect(instanceEvents(h, arns[0])).toHaveLength(1);
    const stopped = h.events.filter(e => e['detail-type'] === TASK_EVENT && e.detail.containerInstanceArn === arns[0]);
    expect(stopped.map(e => e.detail.lastStatus)).toEqual(['DEACTIVATING', 'DEACTIVATING', 'DEACTIVATING']);
    expect(new Set(stopped.map(e => e.resources[0])).size).toBe(3);
    // The replacements: one instance event for their host, one task event each.
    expect(instanceEvents(h, arns[1])).toHaveLength(1);
    expect(h.events.filter(e => e['detail-type'] === TASK_EVENT && e.detail.containerInstanceArn === arns[1])).toHaveLength(3);
  });

  test('a forced deregistration: one last event per orphaned task, nothing after; the replacement elsewhere emits its own', async () => {
    h.emulator.createService('main', { name: 'web', desiredCount: 2, stopTimeoutSeconds: 10 });
    const standalone = h.emulator.runStandaloneTask('main', arns[0], { runSeconds: 60 });
    h.advance(10_000);
    const service = serviceTaskOn(h, arns[0], 'web');
    h.events.length = 0;
    const orphaned = h.emulator.deregisterContainerInstance(arns[0], true);
    expect(orphaned.sort()).toEqual([service, standalone].sort());
    for (const task of orphaned) {
      expect(steps(taskEvents(h, task))).toEqual([['RUNNING', 'RUNNING', 3]]);
      expect((await describeTask(h, task)).version).toBe(3);
    }
    expect(instanceEvents(h, arns[0]).map(e => e.detail.status)).toEqual(['INACTIVE']);
    // Stopping an orphaned task changes nothing ECS accounts for: no event either.
    await h.ecs.send(new StopTaskCommand({ cluster: 'main', task: service }));
    h.advance(10 * 60_000); // the standalone task exits on the host meanwhile
    for (const task of orphaned) expect(taskEvents(h, task)).toHaveLength(1);
    expect(instanceEvents(h, arns[0])).toHaveLength(1);
    // The service replaced its orphaned task on the other instance (only events since the deregistration are kept).
    expect(serviceTaskOn(h, arns[1], 'web')).not.toBe(service);
  });
});

describe('a task stopped because its EC2 instance stopped (a warm pool)', () => {
  test('ECS learns of it when the agent connects again: one instance event, the task reported STOPPED', async () => {
    const h = await startHarness();
    try {
      createClusterAndGroup(h);
      h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
      h.emulator.putWarmPool({ groupName: 'asg', reuseOnScaleIn: true });
      const { ids, arns } = launchRegistered(h, 2);
      h.emulator.createService('main', { name: 'web', desiredCount: 2 });
      h.advance(10_000);
      const task = serviceTaskOn(h, arns[0], 'web');
      h.emulator.scaleIn('asg', 1);
      h.emulator.completeLifecycleAction(ids[0], 'drain');
      h.advance(15_000);
      expect(h.emulator.timeline(ids[0]).warmPoolVisits[0].tasksAliveAtStop).toEqual([task]);
      // Stopped: the agent disconnected (an event); ECS still shows the task RUNNING.
      expect(instanceEvents(h, arns[0]).at(-1)!.detail).toMatchObject({ agentConnected: false });
      expect(steps(taskEvents(h, task))).toEqual([['PENDING', 'RUNNING', 1], ['RUNNING', 'RUNNING', 2]]);
      const before = instanceEvents(h, arns[0]).length;
      h.emulator.scaleOut('asg', 1);
      h.advance(30_000);
      expect(h.emulator.timeline(ids[0]).warmPoolVisits[0].agentOnStart).toBe('reconnected');
      const after = instanceEvents(h, arns[0]);
      expect(after).toHaveLength(before + 1);
      expect(after.at(-1)!.detail).toMatchObject({ agentConnected: true, version: (await describeInstance(h, arns[0])).version });
      expect(steps(taskEvents(h, task)).at(-1)).toEqual(['STOPPED', 'STOPPED', 3]);
      expect(taskEvents(h, task).at(-1)!.detail).toMatchObject({ stopCode: 'EssentialContainerExited' });
    } finally {
      h.close();
    }
  });
});

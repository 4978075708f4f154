/**
 * Shared fixtures of the drain controller's handler tests: mocked SDK clients that answer from a
 * small staged "world", a controller whose logs and metrics land in an array, and the sample
 * events. Not a test file itself (no .test.ts suffix).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  AutoScalingClient,
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AttributeLimitExceededException,
  ClientException,
  DeleteAttributesCommand,
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  ListContainerInstancesCommand,
  ListTasksCommand,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { ClusterApi } from '../../lambda/aws';
import type { ControllerConfig } from '../../lambda/config';
import { ControllerOptions, DrainController } from '../../lambda/controller';
import { Telemetry } from '../../lambda/telemetry';
import { ATTRIBUTE } from '../../src/constants';

export const CLUSTER = 'my-cluster';
export const CLUSTER_ARN = `arn:aws:ecs:us-east-1:123456789012:cluster/${CLUSTER}`;
export const GROUP = 'my-ecs-asg';
export const OTHER_GROUP = 'someone-elses-asg';
export const HOOK = 'my-drain-hook';
export const NAMESPACE = 'EcsDrainHook';
/** The tests' "now": 2026-11-28T10:00:00Z. */
export const NOW = Date.parse('2026-11-28T10:00:00Z');
export const INSTANCE = 'i-0123456789abcdef0';

export const CONFIG: ControllerConfig = {
  clusterName: CLUSTER,
  autoScalingGroupNames: new Set([GROUP]),
  lifecycleHookName: HOOK,
  drainTimeoutSeconds: 3600,
  heartbeatTimeoutSeconds: 3900,
  forceDeregisterOnTimeout: true,
  drainOnSpotInterruption: true,
  metricsNamespace: NAMESPACE,
};

export const ecsMock = mockClient(ECSClient);
export const autoScalingMock = mockClient(AutoScalingClient);

export function ciArn(id: string): string {
  return `arn:aws:ecs:us-east-1:123456789012:container-instance/${CLUSTER}/${id}`;
}

export function taskArn(id: string): string {
  return `arn:aws:ecs:us-east-1:123456789012:task/${CLUSTER}/${id}`;
}

/** An EC2 instance as Auto Scaling knows it. */
export interface FakeInstance {
  readonly instanceId: string;
  readonly groupName: string;
  lifecycleState: string;
}

/** A container instance as ECS knows it. */
export interface FakeContainerInstance {
  readonly arn: string;
  readonly ec2InstanceId: string;
  readonly status: string;
  readonly running?: number;
  readonly pending?: number;
  /**
   * CPU and memory units a task still holds while it stops (remainingResources below
   * registeredResources); none by default.
   */
  readonly held?: { readonly cpu?: number; readonly memory?: number };
  /** Custom attributes, e.g. the drain record (see drainRecord). */
  readonly attributes?: Record<string, string>;
  /** Tasks with desiredStatus STOPPED and their lastStatus. */
  readonly tasks?: readonly { arn: string; lastStatus: string }[];
}

export interface World {
  readonly instances?: readonly FakeInstance[];
  readonly containerInstances?: readonly FakeContainerInstance[];
}

/** The registered CPU and memory of every fake container instance (an m5.large). */
export const REGISTERED = { cpu: 2048, memory: 7680 };

/** The drain record attribute value, as written by hand (not by the code under test). */
export function drainRecordValue(deadlineSeconds: number, startedSeconds: number, hookSeconds?: number): string {
  return `deadline:${deadlineSeconds} started:${startedSeconds}${hookSeconds === undefined ? '' : ` hook:${hookSeconds}`}`;
}

/**
 * A drain record as the controller writes it, `startedSecondsAgo` before NOW; its hook clock
 * started `hookSecondsAgo` before NOW (by default when the drain started; null: unknown).
 */
export function drainRecord(
  startedSecondsAgo: number, timeoutSeconds = CONFIG.drainTimeoutSeconds, hookSecondsAgo: number | null = startedSecondsAgo,
): Record<string, string> {
  const now = Math.floor(NOW / 1000);
  const started = now - startedSecondsAgo;
  return { [ATTRIBUTE.DRAIN]: drainRecordValue(started + timeoutSeconds, started, hookSecondsAgo === null ? undefined : now - hookSecondsAgo) };
}

/** The parked marker of a registration kept for the warm pool. */
export function parkedMarker(parkedSecondsAgo = 600): Record<string, string> {
  return { [ATTRIBUTE.DRAIN]: `parked:${Math.floor(NOW / 1000) - parkedSecondsAgo}` };
}

/** A fake container instance as the fake world changes it. */
type LiveContainerInstance = Omit<FakeContainerInstance, 'status' | 'attributes'> & { status: string; attributes: Record<string, string> };

/** Lifecycle states of an instance waiting in a termination hook. */
const WAITING = new Set(['Terminating:Wait', 'Warmed:Terminating:Wait', 'Warmed:Pending:Wait', 'ReplacingRootVolume:Wait']);

/** Page size of the fake's list calls when the caller names none (ECS's default is 100). */
const PAGE = 100;

/** One page of `items`: nextToken is the offset of the next page. */
function page<T>(items: readonly T[], nextToken: unknown, maxResults: unknown): { items: T[]; nextToken?: string } {
  const from = nextToken === undefined ? 0 : Number(nextToken);
  const size = typeof maxResults === 'number' ? maxResults : PAGE;
  const to = from + size;
  return { items: items.slice(from, to), nextToken: to < items.length ? String(to) : undefined };
}

/**
 * Resets both mocks and makes them answer every command the controller sends from `world`,
 * the way ECS and Auto Scaling would (filters, statuses, paging, ARNs, lifecycle states).
 * The world is a copy the fake changes as ECS would (DRAINING, attributes, deregistration).
 * Tests stage exceptions on top with `.on(Command, input)`, which wins over these answers.
 */
export function stageWorld(world: World = {}): void {
  ecsMock.reset();
  autoScalingMock.reset();
  // Auto Scaling's side changes too: a completed action lets the instance proceed to termination.
  const instances: FakeInstance[] = (world.instances ?? []).map(i => ({ ...i }));
  const cis: LiveContainerInstance[] = (world.containerInstances ?? []).map(ci => ({ ...ci, attributes: { ...ci.attributes } }));
  const byArn = (arn: unknown) => cis.find(ci => ci.arn === arn);

  autoScalingMock.on(DescribeAutoScalingInstancesCommand).callsFake(input => ({
    AutoScalingInstances: instances
      .filter(i => (input.InstanceIds as string[]).includes(i.instanceId))
      .map(i => ({ InstanceId: i.instanceId, AutoScalingGroupName: i.groupName, LifecycleState: i.lifecycleState })),
  }));
  // Instances in a Warmed:* state are listed by DescribeWarmPool only; a group with any has a warm pool.
  const warmed = (i: FakeInstance) => i.lifecycleState.startsWith('Warmed:');
  autoScalingMock.on(DescribeAutoScalingGroupsCommand).callsFake(input => ({
    AutoScalingGroups: (input.AutoScalingGroupNames as string[]).map(name => ({
      AutoScalingGroupName: name,
      Instances: instances.filter(i => i.groupName === name && !warmed(i)).map(i => ({ InstanceId: i.instanceId, LifecycleState: i.lifecycleState })),
      ...instances.some(i => i.groupName === name && warmed(i)) ? { WarmPoolConfiguration: { PoolState: 'Stopped' } } : {},
    })),
  }));
  autoScalingMock.on(DescribeWarmPoolCommand).callsFake(input => ({
    Instances: instances
      .filter(i => i.groupName === input.AutoScalingGroupName && warmed(i))
      .map(i => ({ InstanceId: i.instanceId, LifecycleState: i.lifecycleState })),
  }));
  const waiting = (instanceId: unknown) => instances.find(i => i.instanceId === instanceId && WAITING.has(i.lifecycleState));
  autoScalingMock.on(CompleteLifecycleActionCommand).callsFake(input => {
    const instance = waiting(input.InstanceId);
    // Instances the world does not know are taken as waiting (tests that stage no Auto Scaling side).
    if (!instance && instances.some(i => i.instanceId === input.InstanceId)) throw noActiveLifecycleAction(String(input.InstanceId));
    if (instance) instance.lifecycleState = instance.lifecycleState === 'Warmed:Pending:Wait' ? 'Warmed:Pending:Proceed' : 'Terminating:Proceed';
    return {};
  });
  autoScalingMock.on(RecordLifecycleActionHeartbeatCommand).callsFake(input => {
    if (!waiting(input.InstanceId) && instances.some(i => i.instanceId === input.InstanceId)) throw noActiveLifecycleAction(String(input.InstanceId));
    return {};
  });

  ecsMock.on(ListContainerInstancesCommand).callsFake(input => {
    // Without a status filter ECS lists every status but INACTIVE (ECS API reference, ListContainerInstances).
    // `attribute:NAME exists` selects the registrations that carry NAME (cluster query language).
    const attribute = /^attribute:(\S+) exists$/.exec(String(input.filter ?? ''))?.[1];
    const ids = input.filter === undefined || attribute !== undefined ? undefined : parseInstanceFilter(input.filter);
    const listed = cis
      .filter(ci => (input.status === undefined ? ci.status !== 'INACTIVE' : ci.status === input.status))
      .filter(ci => ids === undefined || ids.includes(ci.ec2InstanceId))
      .filter(ci => attribute === undefined || ci.attributes[attribute] !== undefined);
    const { items, nextToken } = page(listed.map(ci => ci.arn), input.nextToken, input.maxResults);
    return { containerInstanceArns: items, nextToken };
  });
  ecsMock.on(DescribeContainerInstancesCommand).callsFake(input => {
    if ((input.containerInstances as string[]).length > 100) throw ecsClientException('too many container instances');
    return {
      containerInstances: cis.filter(ci => (input.containerInstances as string[]).includes(ci.arn)).map(toContainerInstance),
      failures: (input.containerInstances as string[]).filter(arn => !byArn(arn)).map(arn => ({ arn, reason: 'MISSING' })),
    };
  });
  ecsMock.on(UpdateContainerInstancesStateCommand).callsFake(input => {
    // ECS answers with the container instances as they now are, and a failure for each it could
    // not change; only ACTIVE and DRAINING registrations change (UpdateContainerInstancesState reference).
    const arns = input.containerInstances as string[];
    if (arns.length > 10) throw ecsClientException('too many container instances');
    const changed = cis.filter(ci => arns.includes(ci.arn) && (ci.status === 'ACTIVE' || ci.status === 'DRAINING'));
    for (const ci of changed) ci.status = input.status as string;
    return {
      containerInstances: changed.map(toContainerInstance),
      failures: arns.filter(arn => !changed.some(ci => ci.arn === arn)).map(arn => ({ arn, reason: byArn(arn) ? byArn(arn)!.status : 'MISSING' })),
    };
  });
  ecsMock.on(PutAttributesCommand).callsFake(input => {
    // At most 10 custom attributes per resource: the whole call is refused (PutAttributes reference).
    for (const attribute of input.attributes ?? []) {
      const ci = byArn(attribute.targetId);
      const names = new Set([...Object.keys(ci?.attributes ?? {}), attribute.name]);
      if (names.size > 10) {
        throw new AttributeLimitExceededException({ $metadata: { httpStatusCode: 400 }, message: 'You can apply up to 10 custom attributes for each resource.' });
      }
    }
    for (const attribute of input.attributes ?? []) {
      const ci = byArn(attribute.targetId);
      if (ci) ci.attributes[attribute.name!] = attribute.value!;
    }
    return { attributes: input.attributes };
  });
  ecsMock.on(DeleteAttributesCommand).callsFake(input => {
    for (const attribute of input.attributes ?? []) {
      const ci = byArn(attribute.targetId);
      if (ci) delete ci.attributes[attribute.name!];
    }
    return { attributes: input.attributes };
  });
  ecsMock.on(ListTasksCommand).callsFake(input => {
    // Of one container instance, or of the whole cluster without one.
    const owners = input.containerInstance === undefined ? cis : cis.filter(ci => ci.arn === input.containerInstance);
    const { items, nextToken } = page(owners.flatMap(ci => (ci.tasks ?? []).map(t => t.arn)), input.nextToken, input.maxResults);
    return { taskArns: items, nextToken };
  });
  ecsMock.on(DescribeTasksCommand).callsFake(input => {
    if ((input.tasks as string[]).length > 100) throw ecsClientException('too many tasks');
    return {
      tasks: cis.flatMap(ci => (ci.tasks ?? [])
        .filter(t => (input.tasks as string[]).includes(t.arn))
        .map(t => ({ taskArn: t.arn, containerInstanceArn: ci.arn, lastStatus: t.lastStatus, desiredStatus: 'STOPPED' }))),
      failures: [],
    };
  });
  ecsMock.on(DeregisterContainerInstanceCommand).callsFake(input => {
    // Without force, refused while a task is not STOPPED yet (DeregisterContainerInstance reference).
    const ci = byArn(input.containerInstance);
    if (ci && !input.force && ((ci.running ?? 0) > 0 || (ci.tasks ?? []).some(t => t.lastStatus !== 'STOPPED'))) {
      throw ecsInvalidParameter('Found running tasks on the instance.');
    }
    if (ci) ci.status = 'INACTIVE';
    return { containerInstance: { containerInstanceArn: input.containerInstance, status: 'INACTIVE' } };
  });
}

/** The instance ids of a cluster query `ec2InstanceId in [a, b]` or `ec2InstanceId == a`. */
export function parseInstanceFilter(filter: unknown): string[] {
  const text = String(filter ?? '');
  const list = /^ec2InstanceId in \[([^\]]*)\]$/.exec(text);
  if (list) return list[1].split(',').map(s => s.trim()).filter(s => s.length > 0);
  const one = /^ec2InstanceId == (\S+)$/.exec(text);
  if (one) return [one[1]];
  throw new Error(`the fake does not understand the filter '${text}'`);
}

/** A resource list as ECS reports it. */
export function resources(cpu: number, memory: number) {
  return [
    { name: 'CPU', type: 'INTEGER', integerValue: cpu },
    { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] },
  ];
}

function toContainerInstance(ci: LiveContainerInstance) {
  return {
    containerInstanceArn: ci.arn,
    ec2InstanceId: ci.ec2InstanceId,
    status: ci.status,
    runningTasksCount: ci.running ?? 0,
    pendingTasksCount: ci.pending ?? 0,
    registeredResources: resources(REGISTERED.cpu, REGISTERED.memory),
    remainingResources: resources(REGISTERED.cpu - (ci.held?.cpu ?? 0), REGISTERED.memory - (ci.held?.memory ?? 0)),
    attributes: Object.entries(ci.attributes).map(([name, value]) => ({ name, value })),
  };
}

/** The calls that change something in ECS or Auto Scaling. */
export function mutatingCalls(): { command: string; input: unknown }[] {
  const ecs = [UpdateContainerInstancesStateCommand, PutAttributesCommand, DeleteAttributesCommand, DeregisterContainerInstanceCommand] as const;
  const autoScaling = [CompleteLifecycleActionCommand, RecordLifecycleActionHeartbeatCommand] as const;
  return [
    ...ecs.flatMap(c => ecsMock.commandCalls(c as never).map(call => ({ command: c.name, input: call.args[0].input }))),
    ...autoScaling.flatMap(c => autoScalingMock.commandCalls(c as never).map(call => ({ command: c.name, input: call.args[0].input }))),
  ];
}

/** The command names of every call to either client, in the order they were sent. */
export function callSequence(): string[] {
  return [...ecsMock.calls(), ...autoScalingMock.calls()]
    .sort((a, b) => (a as unknown as { callId: number }).callId - (b as unknown as { callId: number }).callId)
    .map(call => (call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));
}

/** Every call to either client. */
export function allCalls(): unknown[] {
  return [...ecsMock.calls(), ...autoScalingMock.calls()];
}

export interface Harness {
  readonly controller: DrainController;
  readonly api: ClusterApi;
  /** Every line written, as written. */
  readonly lines: string[];
  /** The injected time; tests may move it. */
  readonly clock: { now: number };
  /** The log lines (not EMF records), parsed. */
  logs(): Record<string, unknown>[];
  /** The EMF records, parsed. */
  metrics(): Record<string, unknown>[];
  /** The values of one metric, in order. */
  metricValues(name: string): number[];
}

/** A controller over the mocked clients, with its telemetry captured and time injected. */
export function harness(overrides: Partial<ControllerConfig> = {}, now = NOW, options: ControllerOptions = {}): Harness {
  const config = { ...CONFIG, ...overrides };
  const clock = { now };
  const lines: string[] = [];
  const common = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy' }, maxAttempts: 1 };
  const api = new ClusterApi(new ECSClient(common), new AutoScalingClient(common), config.clusterName);
  const telemetry = new Telemetry(config.clusterName, config.metricsNamespace, () => clock.now, line => lines.push(line));
  // The mocked clients answer consistently: no settling before a task listing (ErrorPolicy.readSettleMs).
  const controller = new DrainController(config, api, telemetry, () => clock.now, { readSettleMs: 0, ...options });
  const parsed = () => lines.map(line => JSON.parse(line) as Record<string, unknown>);
  return {
    controller,
    api,
    lines,
    clock,
    logs: () => parsed().filter(r => r._aws === undefined),
    metrics: () => parsed().filter(r => r._aws !== undefined),
    metricValues: name => parsed().filter(r => r._aws !== undefined && name in r).map(r => r[name] as number),
  };
}

/** Auto Scaling's answer when the lifecycle action is already over. */
export function noActiveLifecycleAction(instanceId: string): AutoScalingServiceException {
  return new AutoScalingServiceException({
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `No active Lifecycle Action found with instance ID ${instanceId}`,
  });
}

export function ecsClientException(message: string): ClientException {
  return new ClientException({ $metadata: { httpStatusCode: 400 }, message });
}

export function ecsInvalidParameter(message: string): InvalidParameterException {
  return new InvalidParameterException({ $metadata: { httpStatusCode: 400 }, message });
}

/** Sample events (test/events/) in the shapes the AWS documentation gives them; values are examples. */
const EVENTS_DIR = path.join(__dirname, '..', 'events');
const LOCAL_EVENTS: Record<string, unknown> = {};

/** A fresh copy of a sample event of test/events (the file name without .json). */
export function sampleEvent(
  name: 'ec2-instance-terminate-lifecycle-action' | 'ec2-spot-instance-interruption-warning' | 'ecs-container-instance-state-change' | 'ecs-task-state-change' | 'scheduled-event',
): any {
  LOCAL_EVENTS[name] ??= JSON.parse(fs.readFileSync(path.join(EVENTS_DIR, `${name}.json`), 'utf8'));
  return structuredClone(LOCAL_EVENTS[name]);
}

export function lifecycleEvent(instanceId = INSTANCE, groupName = GROUP, hookName = HOOK): any {
  const event = sampleEvent('ec2-instance-terminate-lifecycle-action');
  Object.assign(event.detail, { EC2InstanceId: instanceId, AutoScalingGroupName: groupName, LifecycleHookName: hookName });
  return event;
}

export function containerInstanceEvent(detail: Record<string, unknown> = {}): any {
  const event = sampleEvent('ecs-container-instance-state-change');
  Object.assign(event.detail, detail);
  return event;
}

/** A task of `containerInstanceArn` that reached STOPPED (ECS Task State Change). */
export function taskStoppedEvent(containerInstanceArn: string, detail: Record<string, unknown> = {}): any {
  const event = sampleEvent('ecs-task-state-change');
  Object.assign(event.detail, { containerInstanceArn }, detail);
  return event;
}

export function spotEvent(instanceId = INSTANCE): any {
  const event = sampleEvent('ec2-spot-instance-interruption-warning');
  event.detail['instance-id'] = instanceId;
  return event;
}

/**
 * `events` as an SQS event source mapping hands them to the function: one record each, the event
 * JSON in `body` (Lambda developer guide, "Using Lambda with Amazon SQS"); message ids m0, m1, ...
 */
export function queueBatch(...events: unknown[]): any {
  return {
    Records: events.map((event, i) => ({
      messageId: `m${i}`,
      receiptHandle: `handle-${i}`,
      body: typeof event === 'string' ? event : JSON.stringify(event),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(NOW), SenderId: 'AIDAEVENTBRIDGE', ApproximateFirstReceiveTimestamp: String(NOW) },
      messageAttributes: {},
      md5OfBody: 'not-checked',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:drain-events',
      awsRegion: 'us-east-1',
    })),
  };
}

export function scheduledEvent(): any {
  return sampleEvent('scheduled-event');
}

/**
 * Shared fixtures of the drain controller's handler tests: mocked SDK clients that answer from a
 * staged world of the emulated AWS (sim/emulator/, the one the end-to-end tests run on), a
 * controller whose logs and metrics land in an array, and the sample events. Not a test file
 * itself (no .test.ts suffix).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  AutoScalingClient,
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  ClientException,
  DeleteAttributesCommand,
  DeregisterContainerInstanceCommand,
  ECSClient,
  ECSClientConfig,
  InvalidParameterException,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { ClusterApi } from '../../lambda/aws';
import type { ControllerConfig } from '../../lambda/config';
import { ControllerOptions, DrainController } from '../../lambda/controller';
import { Telemetry } from '../../lambda/telemetry';
import { SimClock } from '../../sim/clock';
import { AwsEmulator, ContainerInstanceStatus, LifecycleState, ResourceRelease, TaskStatus } from '../../sim/emulator';
import { parseEc2InstanceFilter } from '../../sim/emulator/ecs-api';
import { encodePageToken } from '../../sim/emulator/paging';
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
  diagnoseDrainsAfterSeconds: 600,
};

export const ecsMock = mockClient(ECSClient);
export const autoScalingMock = mockClient(AutoScalingClient);

export function ciArn(id: string): string {
  return `arn:aws:ecs:us-east-1:123456789012:container-instance/${CLUSTER}/${id}`;
}

export function taskArn(id: string): string {
  return `arn:aws:ecs:us-east-1:123456789012:task/${CLUSTER}/${id}`;
}

/** An EC2 instance as Auto Scaling knows it: in `groupName` (or its warm pool), in `lifecycleState`. */
export interface FakeInstance {
  readonly instanceId: string;
  readonly groupName: string;
  /** A LifecycleState of the emulator's (sim/emulator/model.ts) that AutoScalingWorld.stageInstance can stage. */
  readonly lifecycleState: string;
}

/** A task of a staged container instance (see StagedTaskOptions in sim/emulator/ecs-world.ts). */
export interface FakeTask {
  readonly arn: string;
  /** A TaskStatus (sim/emulator/model.ts). */
  readonly lastStatus: string;
  /** Default STOPPED: a task being stopped, or stopped. */
  readonly desiredStatus?: 'RUNNING' | 'STOPPED';
  /** CPU units and MiB it holds while it is not STOPPED; default 128 and 256. */
  readonly cpu?: number;
  readonly memory?: number;
}

/** A container instance as ECS knows it. */
export interface FakeContainerInstance {
  readonly arn: string;
  readonly ec2InstanceId: string;
  /** A ContainerInstanceStatus (sim/emulator/model.ts). */
  readonly status: string;
  /**
   * How many tasks are RUNNING, and how many PENDING, all with desired status RUNNING: standalone
   * tasks, which DRAINING does not stop. ECS counts both kinds in runningTasksCount (desired status
   * RUNNING) and the PENDING ones in pendingTasksCount (ECS API reference, ContainerInstance). Their
   * ARNs end in `<id>-running-<n>` and `<id>-pending-<n>`.
   */
  readonly running?: number;
  readonly pending?: number;
  /** Custom attributes, e.g. the drain record (see drainRecord). */
  readonly attributes?: Record<string, string>;
  /** More tasks, listed before those of `running` and `pending`. */
  readonly tasks?: readonly FakeTask[];
}

export interface World {
  readonly instances?: readonly FakeInstance[];
  readonly containerInstances?: readonly FakeContainerInstance[];
  /**
   * When a stopping task's CPU and memory show as free in remainingResources: at STOPPED (the
   * default, the emulator's), or as soon as its desired status is STOPPED, as users report of ECS
   * (aws/containers-roadmap#575; see ResourceRelease in sim/emulator/unkind.ts).
   */
  readonly releaseResourcesAt?: ResourceRelease;
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

/** The world the mocked clients answer from (see stageWorld); replaced by each stageWorld. */
let world: AwsEmulator | undefined;

/** The current world's emulator, to look at what the calls did to it. */
export function emulator(): AwsEmulator {
  if (!world) throw new Error('No world staged yet: call stageWorld() first.');
  return world;
}

/**
 * Hands every request of the clients below to the current world's emulator, in process: the
 * server's own dispatch (EmulatorServer.answer), no socket. The SDK serializes each command and
 * parses each answer (errors included) as it does over HTTP.
 */
const inProcess = {
  async handle(request: { headers: Record<string, string>; body?: unknown }) {
    const body = typeof request.body === 'string' ? request.body : request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : '';
    const reply = emulator().answer({ headers: request.headers, body });
    if (!reply) throw new Error('The emulator left the request unanswered.');
    return { response: { statusCode: reply.status, headers: reply.headers, body: new TextEncoder().encode(reply.body) } };
  },
  destroy(): void {},
};

const WORLD_CLIENT = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy' },
  maxAttempts: 1,
  requestHandler: inProcess as unknown as ECSClientConfig['requestHandler'],
};
const worldEcs = new ECSClient(WORLD_CLIENT);
const worldAutoScaling = new AutoScalingClient(WORLD_CLIENT);
/**
 * The SDK's own `send`: mockClient stubs `send` on the prototypes of ECSClient and
 * AutoScalingClient, not on the Smithy client class both extend.
 */
const unmockedSend = Object.getPrototypeOf(ECSClient.prototype).send as (this: object, command: object) => Promise<unknown>;

const CONTAINER_INSTANCE_ARN_PREFIX = ciArn('');
const TASK_ARN_PREFIX = taskArn('');

/** The ID at the end of an ARN of this file's account, region and cluster. */
function idOf(arn: string, prefix: string): string {
  if (!arn.startsWith(prefix) || arn.length === prefix.length) throw new Error(`${arn} is not an ARN of ${prefix}<id>`);
  return arn.slice(prefix.length);
}

/**
 * Resets both mocks and makes them answer every command the controller sends from a new emulated
 * AWS (sim/emulator/) built from `staged`: the command goes, serialized by the SDK, through the
 * emulator's own request handling, and its answer back through the SDK's parsing. The emulator's
 * clock stands at NOW and never moves (nothing advances it): no timer of the world runs, so what is
 * staged changes only by the calls made. No throttling, latency, faults or deregistration lag.
 * Tests stage other answers on top with `.on(Command, input)`, which wins over the world's.
 *
 * The world has the cluster CLUSTER and the groups GROUP, OTHER_GROUP and those of its instances,
 * each with the termination hook HOOK (an instance can wait in it) and, when any of its instances
 * is Warmed:*, a warm pool (ReuseOnScaleIn). Instances and registrations are staged in order with
 * the emulator's staging helpers (AwsEmulator.stageInstance, stageRegistration).
 */
export function stageWorld(staged: World = {}): void {
  ecsMock.reset();
  autoScalingMock.reset();
  world = new AwsEmulator({
    clock: new SimClock(NOW),
    throttling: false,
    deregistrationLagMs: 0,
    releaseResourcesAt: staged.releaseResourcesAt,
  });
  world.createCluster(CLUSTER);
  const instances = staged.instances ?? [];
  for (const groupName of new Set([GROUP, OTHER_GROUP, ...instances.map(i => i.groupName)])) {
    world.createAutoScalingGroup({ name: groupName, minSize: 0, maxSize: 10_000, desiredCapacity: 0 });
    world.putLifecycleHook({ groupName, hookName: HOOK, heartbeatTimeoutSeconds: CONFIG.heartbeatTimeoutSeconds, defaultResult: 'CONTINUE' });
    if (instances.some(i => i.groupName === groupName && i.lifecycleState.startsWith('Warmed:'))) {
      world.putWarmPool({ groupName, reuseOnScaleIn: true });
    }
  }
  for (const i of instances) world.stageInstance(i.groupName, i.instanceId, i.lifecycleState as LifecycleState);
  for (const ci of staged.containerInstances ?? []) {
    const id = idOf(ci.arn, CONTAINER_INSTANCE_ARN_PREFIX);
    const counted = (count: number | undefined, lastStatus: 'RUNNING' | 'PENDING') => Array.from({ length: count ?? 0 }, (_, n) => ({
      id: `${id}-${lastStatus.toLowerCase()}-${n}`, lastStatus, desiredStatus: 'RUNNING' as const,
    }));
    world.stageRegistration({
      cluster: CLUSTER,
      id,
      ec2InstanceId: ci.ec2InstanceId,
      status: ci.status as ContainerInstanceStatus,
      cpu: REGISTERED.cpu,
      memory: REGISTERED.memory,
      attributes: Object.entries(ci.attributes ?? {}).map(([name, value]) => ({ name, value })),
      tasks: [
        ...(ci.tasks ?? []).map(t => ({
          id: idOf(t.arn, TASK_ARN_PREFIX), lastStatus: t.lastStatus as TaskStatus, desiredStatus: t.desiredStatus ?? 'STOPPED', cpu: t.cpu, memory: t.memory,
        })),
        ...counted(ci.running, 'RUNNING'),
        ...counted(ci.pending, 'PENDING'),
      ],
    });
  }
  // The stubs' default: every command no test staged an answer for goes to the world (sinon tries
  // the stub's argument-specific fakes, which `.on(Command, input)` adds, before its default).
  ecsMock.send.callsFake(command => unmockedSend.call(worldEcs, command) as never);
  autoScalingMock.send.callsFake(command => unmockedSend.call(worldAutoScaling, command) as never);
}

/** The page token the world's emulator answers for the page starting at `offset` (its tokens carry its clock, NOW). */
export function pageToken(offset: number): string {
  return encodePageToken(offset, NOW);
}

/** The instance ids of a cluster query `ec2InstanceId in [a, b]` or `ec2InstanceId == a`, as the emulator reads it. */
export function parseInstanceFilter(filter: unknown): string[] {
  return parseEc2InstanceFilter(String(filter ?? ''));
}

/** A resource list as ECS reports it. */
export function resources(cpu: number, memory: number) {
  return [
    { name: 'CPU', type: 'INTEGER', integerValue: cpu },
    { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] },
  ];
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

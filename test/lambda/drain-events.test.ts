/**
 * The drain events: one when a drain starts, one when it ends (completed, forced, parked), one
 * when its record cannot be written; their content; PutEvents in batches of 10; and a publish that
 * fails never changing a drain's outcome.
 */
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { ECSClient, ListTasksCommand, PutAttributesCommand } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import {
  autoScalingMock, CLUSTER, ciArn, CONFIG, containerInstanceEvent, drainRecord, drainRecordValue, ecsMock, GROUP, INSTANCE, lifecycleEvent, NOW,
  parkedMarker, queueBatch, scheduledEvent, stageWorld, taskArn,
} from './fixtures';
import { ClusterApi } from '../../lambda/aws';
import type { ControllerConfig } from '../../lambda/config';
import { DrainController } from '../../lambda/controller';
import { NOTHING, startTransition, terminalTransition } from '../../lambda/decide';
import { drainEvent, DrainEventDetail } from '../../lambda/drain-events';
import { Telemetry } from '../../lambda/telemetry';
import { DRAIN_EVENT, METRIC } from '../../src/constants';

const eventsMock = mockClient(EventBridgeClient);
const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');
const TERMINATING = { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' };

/** A controller that publishes its drain events, over the staged world; its lines land in `lines`. */
function publishingController(overrides: Partial<ControllerConfig> = {}, now = NOW) {
  const config = { ...CONFIG, ...overrides };
  const common = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy' }, maxAttempts: 1 };
  const api = new ClusterApi(new ECSClient(common), new AutoScalingClient(common), config.clusterName).publishingWith(new EventBridgeClient(common));
  const lines: string[] = [];
  const telemetry = new Telemetry(config.clusterName, config.metricsNamespace, () => now, line => lines.push(line));
  const controller = new DrainController(config, api, telemetry, () => now, { readSettleMs: 0 });
  return { controller, lines: () => lines.map(line => JSON.parse(line) as Record<string, unknown>) };
}

/** Every entry published, in order. */
function published(): PutEventsRequestEntry[] {
  return eventsMock.commandCalls(PutEventsCommand).flatMap(call => call.args[0].input.Entries ?? []);
}

function detailOf(entry: PutEventsRequestEntry): DrainEventDetail {
  return JSON.parse(entry.Detail!) as DrainEventDetail;
}

beforeEach(() => {
  eventsMock.reset();
  eventsMock.on(PutEventsCommand).callsFake(input => ({ FailedEntryCount: 0, Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `e${i}` })) }));
});

describe('a drain announced', () => {
  test('started by its lifecycle action: one event of the library\'s own source, with the drain\'s cluster, group, instance, registrations and deadline', async () => {
    stageWorld({ instances: [TERMINATING], containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }] });
    await publishingController().controller.handle(lifecycleEvent());

    const entries = published();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ Source: DRAIN_EVENT.SOURCE, DetailType: DRAIN_EVENT.STARTED, Resources: [CI] });
    expect(entries[0].EventBusName).toBeUndefined();
    expect(detailOf(entries[0])).toEqual({
      drainId: `${INSTANCE}:${NOW / 1000}`,
      cluster: CLUSTER,
      autoScalingGroupName: GROUP,
      ec2InstanceId: INSTANCE,
      lifecycleState: 'Terminating:Wait',
      containerInstanceArns: [CI],
      startedAt: new Date(NOW).toISOString(),
      deadline: new Date(NOW + CONFIG.drainTimeoutSeconds * 1000).toISOString(),
      tasksLeft: { running: 2, pending: 0 },
      reason: 'waiting: 2 running and 0 pending task(s)',
    });
  });

  test('to the bus the configuration names', async () => {
    stageWorld({ instances: [TERMINATING], containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }] });
    await publishingController({ eventBusName: 'drains' }).controller.handle(lifecycleEvent());
    expect(published().map(e => e.EventBusName)).toEqual(['drains']);
  });

  test('not again when the drain is recorded already (a copy of the lifecycle event)', async () => {
    stageWorld({ instances: [TERMINATING], containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running: 2, attributes: drainRecord(60) }] });
    await publishingController().controller.handle(lifecycleEvent());
    expect(published()).toEqual([]);
  });

  test('completed once the last task stopped, with the same drain id as its start and what was left', async () => {
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(600), tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] }],
    });
    await publishingController().controller.handle(queueBatch(containerInstanceEvent({ containerInstanceArn: CI, runningTasksCount: 0 })));

    const entries = published();
    expect(entries.map(e => e.DetailType)).toEqual([DRAIN_EVENT.COMPLETED]);
    expect(detailOf(entries[0])).toMatchObject({
      drainId: `${INSTANCE}:${NOW / 1000 - 600}`,
      startedAt: new Date(NOW - 600_000).toISOString(),
      tasksLeft: { running: 0, pending: 0, notStoppedByStatus: {}, notStoppedByGroup: {} },
      reason: 'no task is left that is not STOPPED',
    });
  });

  test('forced at its deadline by the reconcile pass, with the tasks still running', async () => {
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running: 1, attributes: drainRecord(CONFIG.drainTimeoutSeconds + 1) }],
    });
    await publishingController().controller.handle(scheduledEvent());

    const entries = published();
    expect(entries.map(e => e.DetailType)).toEqual([DRAIN_EVENT.FORCED]);
    expect(detailOf(entries[0]).tasksLeft).toEqual({ running: 1, pending: 0 });
  });

  test('parked when its instance goes back to the warm pool', async () => {
    stageWorld({
      instances: [{ ...TERMINATING, lifecycleState: 'Warmed:Pending:Wait' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(60) }],
    });
    await publishingController().controller.handle(scheduledEvent());
    expect(published().map(e => e.DetailType)).toEqual([DRAIN_EVENT.PARKED]);
  });

  test('without record once, by the run that set it DRAINING, when its record cannot be written', async () => {
    const full = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`team.label${i}`, `v${i}`]));
    stageWorld({ instances: [TERMINATING], containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1, attributes: full }] });
    await publishingController().controller.handle(lifecycleEvent());
    expect(published().map(e => e.DetailType)).toEqual([DRAIN_EVENT.WITHOUT_RECORD]);

    // The next pass tries the record again, and announces nothing new.
    eventsMock.resetHistory();
    await publishingController().controller.handle(scheduledEvent());
    expect(published()).toEqual([]);
  });

  test('never for an instance that never joined the cluster, nor for a parked registration set ACTIVE again', async () => {
    stageWorld({
      instances: [TERMINATING, { instanceId: 'i-0aaaaaaaaaaaaaaa1', groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: ciArn('parked'), ec2InstanceId: 'i-0aaaaaaaaaaaaaaa1', status: 'DRAINING', attributes: parkedMarker() }],
    });
    await publishingController().controller.handle(scheduledEvent());
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(published()).toEqual([]);
  });
});

describe('a drain waiting', () => {
  /** A recorded drain of `startedSecondsAgo`, its registration running one standalone task (DRAINING does not stop it). */
  function stageStandalone(startedSecondsAgo: number) {
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running: 1, attributes: drainRecord(startedSecondsAgo) }],
    });
  }
  const recorded = () => ecsMock.commandCalls(PutAttributesCommand).flatMap(c => c.args[0].input.attributes ?? []).map(a => a.value);

  test('longer than diagnoseDrainsAfter: the reconcile pass says why, once, in an event, its record and DrainsBlocked', async () => {
    stageStandalone(660);
    const first = publishingController();
    await first.controller.handle(scheduledEvent());
    const entries = published();
    expect(entries.map(e => e.DetailType)).toEqual([DRAIN_EVENT.WAITING]);
    const detail = detailOf(entries[0]);
    expect(detail).toMatchObject({
      drainId: `${INSTANCE}:${NOW / 1000 - 660}`,
      blocked: true,
      waitReasons: [{ cause: 'standalone-task', resolvesItself: false, tasks: 1, groups: ['family:standalone'] }],
      waitedFor: ['standalone-task'],
      tasksLeft: { running: 1, pending: 0, notStoppedByStatus: { RUNNING: 1 }, notStoppedByGroup: { 'family:standalone': 1 } },
    });
    expect(detail.reason).toMatch(/^waiting: 1 standalone task\(s\) \(family:standalone\): draining does not stop them/);
    expect(recorded()).toEqual([`${drainRecordValue(NOW / 1000 - 660 + CONFIG.drainTimeoutSeconds, NOW / 1000 - 660, NOW / 1000 - 660)} waits:2`]);
    const blocked = first.lines().filter(l => l._aws !== undefined && METRIC.DRAINS_BLOCKED in l).map(l => l[METRIC.DRAINS_BLOCKED]);
    expect(blocked).toEqual([1]);
    expect(first.lines().find(l => l.message === 'drain waits')).toMatchObject({ instanceId: INSTANCE, blocked: true });

    // A new environment diagnoses it again: the same causes, so no event and no write
    await publishingController().controller.handle(scheduledEvent());
    expect(published()).toHaveLength(1);
    expect(recorded()).toHaveLength(1);
  });

  test('not before diagnoseDrainsAfter: no task read, no event, DrainsBlocked 0', async () => {
    stageStandalone(540);
    const run = publishingController();
    await run.controller.handle(scheduledEvent());
    expect(published()).toEqual([]);
    expect(ecsMock.commandCalls(ListTasksCommand)).toEqual([]);
    expect(run.lines().filter(l => l._aws !== undefined && METRIC.DRAINS_BLOCKED in l).map(l => l[METRIC.DRAINS_BLOCKED])).toEqual([0]);
  });

  test('a read that fails leaves the drain as it was: no event, nothing written, the drain goes on', async () => {
    stageStandalone(660);
    ecsMock.on(ListTasksCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const run = publishingController();
    await run.controller.handle(scheduledEvent());
    expect(published()).toEqual([]);
    expect(recorded()).toEqual([]);
    expect(run.lines().find(l => l.message === 'could not read why drains wait; a later pass tries again')).toBeDefined();
  });
});

describe('publishing', () => {
  test('sends at most 10 entries a call', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `i-0${String(i).padStart(16, '0')}`);
    stageWorld({
      instances: ids.map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState: 'Terminating:Wait' })),
      containerInstances: ids.map((id, i) => ({ arn: ciArn(`c${i}`), ec2InstanceId: id, status: 'ACTIVE', running: 1 })),
    });
    await publishingController().controller.handle(queueBatch(...ids.map(id => lifecycleEvent(id))));
    expect(eventsMock.commandCalls(PutEventsCommand).map(c => c.args[0].input.Entries!.length).sort()).toEqual([10, 2]);
    expect(new Set(published().map(e => detailOf(e).ec2InstanceId))).toEqual(new Set(ids));
  });

  test('a PutEvents that fails changes no drain: the action is completed, the failure counted and logged', async () => {
    eventsMock.on(PutEventsCommand).rejects(Object.assign(new Error('service unavailable'), { name: 'InternalException' }));
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(600) }],
    });
    const { controller, lines } = publishingController();
    const summary = await controller.handle(queueBatch(containerInstanceEvent({ containerInstanceArn: CI, runningTasksCount: 0 })));

    expect(summary).toMatchObject({ outcomes: { drained: 1 }, errors: 0, batchItemFailures: [] });
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(lines().filter(l => METRIC.EVENTS_NOT_PUBLISHED in l).map(l => l[METRIC.EVENTS_NOT_PUBLISHED])).toEqual([1]);
    expect(lines()).toContainEqual(expect.objectContaining({
      level: 'warn', message: 'could not publish a drain event', instanceId: INSTANCE, detailType: DRAIN_EVENT.COMPLETED, errorCode: 'InternalException',
    }));
  });

  test('an entry EventBridge refuses is counted, the others are not', async () => {
    eventsMock.on(PutEventsCommand).callsFake(input => ({
      FailedEntryCount: 1,
      Entries: input.Entries.map((_: unknown, i: number) => (i === 0 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' } : { EventId: `e${i}` })),
    }));
    const ids = ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'];
    stageWorld({
      instances: ids.map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState: 'Terminating:Wait' })),
      containerInstances: ids.map((id, i) => ({ arn: ciArn(`c${i}`), ec2InstanceId: id, status: 'ACTIVE', running: 1 })),
    });
    const { controller, lines } = publishingController();
    await controller.handle(queueBatch(...ids.map(id => lifecycleEvent(id))));
    expect(published()).toHaveLength(2);
    expect(lines().filter(l => METRIC.EVENTS_NOT_PUBLISHED in l).map(l => l[METRIC.EVENTS_NOT_PUBLISHED])).toEqual([1]);
    expect(lines().filter(l => l.message === 'could not publish a drain event')).toEqual([expect.objectContaining({ errorCode: 'InternalFailure' })]);
  });
});

describe('transitions', () => {
  test.each([
    [{ recordedBefore: false, failed: false, setDrainingInThisRun: true }, 'started'],
    [{ recordedBefore: false, failed: false, setDrainingInThisRun: false }, 'started'],
    [{ recordedBefore: true, failed: false, setDrainingInThisRun: false }, undefined],
    [{ recordedBefore: false, failed: true, setDrainingInThisRun: true }, 'without-record'],
    [{ recordedBefore: false, failed: true, setDrainingInThisRun: false }, undefined],
  ] as const)('a record write %j starts %s', (write, expected) => {
    expect(startTransition(write)).toBe(expected);
  });

  test.each([
    ['drained', [], 'completed', 'completed'],
    ['drained', ['arn:ci/a'], 'completed', 'parked'],
    ['forced', [], 'completed', 'forced'],
    ['not-registered', [], 'completed', undefined],
    ['drained', [], 'no-active-action', undefined],
    ['forced', [], 'refused-while-waiting', undefined],
  ] as const)('a %s plan parking %j whose completion answered %s ends %s', (outcome, park, completion, expected) => {
    expect(terminalTransition({ ...NOTHING, outcome, reason: 'r', park }, completion)).toBe(expected);
  });
});

describe('drainEvent', () => {
  test('counts the tasks not yet STOPPED by last status and by group, when every registration\'s were read', () => {
    const view = {
      instanceId: INSTANCE,
      groupName: GROUP,
      lifecycleState: 'Terminating:Wait',
      containerInstances: [
        {
          containerInstanceArn: CI,
          status: 'DRAINING',
          runningTasksCount: 0,
          pendingTasksCount: 0,
          tasksNotStopped: [
            { taskArn: 't1', lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', group: 'service:web' },
            { taskArn: 't2', lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', group: 'service:web' },
            { taskArn: 't3', lastStatus: 'STOPPING', desiredStatus: 'STOPPED', group: 'family:batch' },
          ],
        },
        { containerInstanceArn: 'arn:ci/old', status: 'INACTIVE', runningTasksCount: 0, pendingTasksCount: 0 },
      ],
    };
    const entry = drainEvent('started', view, { ...NOTHING, outcome: 'draining', reason: 'waiting', drainStartedAt: NOW, deadline: NOW + 1000 }, CONFIG, NOW);
    expect(JSON.parse(entry.Detail)).toMatchObject({
      containerInstanceArns: [CI],
      tasksLeft: { running: 0, pending: 0, notStoppedByStatus: { DEACTIVATING: 2, STOPPING: 1 }, notStoppedByGroup: { 'service:web': 2, 'family:batch': 1 } },
    });
    expect(entry.Time).toEqual(new Date(NOW));
  });
});

/**
 * Bad input: parseTrigger classifies anything it does not expect as 'ignored', and the
 * controller answers an ignored event with one log line and no AWS call. Includes property
 * tests (fast-check, fixed seeds) over mutations of the sample events.
 */
import * as fc from 'fast-check';
import {
  allCalls, autoScalingMock, containerInstanceEvent, ecsMock, GROUP, harness, HOOK, INSTANCE, lifecycleEvent, mutatingCalls, OTHER_GROUP, sampleEvent,
  scheduledEvent, spotEvent, stageWorld,
} from './fixtures';
import { parseTrigger } from '../../lambda/events';
import { ATTRIBUTE } from '../../src/constants';

beforeEach(() => stageWorld({
  instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
  containerInstances: [],
}));

describe('parseTrigger on the sample events', () => {
  test('classifies each sample event', () => {
    expect(parseTrigger(lifecycleEvent())).toEqual({
      kind: 'lifecycle-action',
      instanceId: INSTANCE,
      groupName: GROUP,
      hookName: HOOK,
      time: Date.parse('2026-11-28T10:00:00Z'),
    });
    const ci = containerInstanceEvent();
    expect(parseTrigger(ci)).toEqual({
      kind: 'container-instance-change',
      clusterArn: ci.detail.clusterArn,
      registration: {
        containerInstanceArn: ci.detail.containerInstanceArn,
        ec2InstanceId: INSTANCE,
        status: 'DRAINING',
        runningTasksCount: 0,
        pendingTasksCount: 0,
        resourcesReleased: true,
      },
      version: 14,
    });
    expect(parseTrigger(spotEvent())).toEqual({ kind: 'spot-interruption', instanceId: INSTANCE });
    expect(parseTrigger(scheduledEvent())).toEqual({ kind: 'reconcile' });
    const task = sampleEvent('ecs-task-state-change');
    expect(parseTrigger(task)).toEqual({
      kind: 'task-stopped', taskArn: task.detail.taskArn, clusterArn: task.detail.clusterArn, containerInstanceArn: task.detail.containerInstanceArn,
    });
  });

  test.each([
    ['CPU still held', { remainingResources: [{ name: 'CPU', integerValue: 1024 }, { name: 'MEMORY', integerValue: 7680 }] }, false],
    ['memory still held', { remainingResources: [{ name: 'CPU', integerValue: 2048 }, { name: 'MEMORY', integerValue: 7000 }] }, false],
    ['no remaining resources', { remainingResources: undefined }, undefined],
    ['remaining resources that are not a list', { remainingResources: 'all' }, undefined],
    ['registered resources that are not a list', { registeredResources: { CPU: 2048 } }, undefined],
  ])('a container instance event with %s says resourcesReleased=%s', (_name, detail, expected) => {
    const trigger = parseTrigger(containerInstanceEvent(detail));
    expect(trigger).toMatchObject({ kind: 'container-instance-change' });
    expect((trigger as { registration: { resourcesReleased?: boolean } }).registration.resourcesReleased).toBe(expected);
  });

  test.each([
    ['a parked marker', 'parked:1795859000', { parkedAt: 1795859000_000 }],
    ['a drain record', 'deadline:1795860000 started:1795856400', { record: { deadline: 1795860000_000, startedAt: 1795856400_000 } }],
    ['a malformed value', 'parked:soon', {}],
  ])('a container instance event with %s in its attributes carries it on the registration', (_name, value, marker) => {
    const trigger = parseTrigger(containerInstanceEvent({ attributes: [{ name: 'ecs.os-type', value: 'linux' }, { name: ATTRIBUTE.DRAIN, value }] }));
    if (trigger.kind !== 'container-instance-change') throw new Error(`not a container instance change: ${trigger.kind}`);
    const { registration } = trigger;
    expect({ parkedAt: registration.parkedAt, record: registration.record, reactivatedAt: registration.reactivatedAt })
      .toEqual({ parkedAt: undefined, record: undefined, reactivatedAt: undefined, ...marker });
  });

  test('a scheduled event needs no detail', () => {
    const event = scheduledEvent();
    delete event.detail;
    expect(parseTrigger(event)).toEqual({ kind: 'reconcile' });
  });
});

function withDetail(event: any, change: (detail: any) => void): any {
  change(event.detail);
  return event;
}

const MALFORMED: [string, unknown][] = [
  ['null', null],
  ['undefined', undefined],
  ['a string', 'hello'],
  ['a number', 42],
  ['an array', [lifecycleEvent()]],
  ['an empty object', {}],
  ['no source', (() => { const e = lifecycleEvent(); delete e.source; return e; })()],
  ['a numeric detail-type', { ...lifecycleEvent(), 'detail-type': 7 }],
  ['a null detail', { ...lifecycleEvent(), detail: null }],
  ['an array detail', { ...lifecycleEvent(), detail: [] }],
  ['a string detail', { ...spotEvent(), detail: 'i-0123456789abcdef0' }],
  ['a lifecycle event without EC2InstanceId', withDetail(lifecycleEvent(), d => delete d.EC2InstanceId)],
  ['a lifecycle event with a numeric EC2InstanceId', withDetail(lifecycleEvent(), d => { d.EC2InstanceId = 123; })],
  ['a lifecycle event with a malformed EC2InstanceId', withDetail(lifecycleEvent(), d => { d.EC2InstanceId = 'i-XYZ; DROP'; })],
  ['a lifecycle event without a group name', withDetail(lifecycleEvent(), d => delete d.AutoScalingGroupName)],
  ['a lifecycle event with an array hook name', withDetail(lifecycleEvent(), d => { d.LifecycleHookName = [HOOK]; })],
  ['a launch lifecycle transition', withDetail(lifecycleEvent(), d => { d.LifecycleTransition = 'autoscaling:EC2_INSTANCE_LAUNCHING'; })],
  ['a test notification (as a transition)', withDetail(lifecycleEvent(), d => { d.LifecycleTransition = 'autoscaling:TEST_NOTIFICATION'; })],
  ['a test notification (as Auto Scaling sends it)', {
    ...lifecycleEvent(),
    detail: { AccountId: '123456789012', AutoScalingGroupName: GROUP, Event: 'autoscaling:TEST_NOTIFICATION', RequestId: 'r', Service: 'AWS Auto Scaling', Time: '2026-11-28T10:00:00Z' },
  }],
  ['a container instance event without containerInstanceArn', withDetail(containerInstanceEvent(), d => delete d.containerInstanceArn)],
  ['a container instance event with a task ARN', withDetail(containerInstanceEvent(), d => { d.containerInstanceArn = 'arn:aws:ecs:us-east-1:1:task/c/x'; })],
  ['a container instance event without clusterArn', withDetail(containerInstanceEvent(), d => delete d.clusterArn)],
  ['a container instance event with a numeric status', withDetail(containerInstanceEvent(), d => { d.status = 3; })],
  ['a task event of a task that is RUNNING', withDetail(sampleEvent('ecs-task-state-change'), d => { d.lastStatus = 'RUNNING'; })],
  ['a task event without containerInstanceArn (Fargate)', withDetail(sampleEvent('ecs-task-state-change'), d => delete d.containerInstanceArn)],
  ['a task event without taskArn', withDetail(sampleEvent('ecs-task-state-change'), d => delete d.taskArn)],
  ['a task event with a container instance ARN as task', withDetail(sampleEvent('ecs-task-state-change'), d => { d.taskArn = d.containerInstanceArn; })],
  ['a Spot warning without instance-id', withDetail(spotEvent(), d => delete d['instance-id'])],
  ['an unknown detail-type', { ...lifecycleEvent(), 'detail-type': 'EC2 Instance Launch Successful' }],
  ['an unknown source', { ...scheduledEvent(), source: 'my.app' }],
];

describe('malformed events', () => {
  test.each(MALFORMED)('%s is ignored with one structured log line and no AWS call', async (_name, event) => {
    // GIVEN a controller
    const h = harness();
    // WHEN the event arrives
    expect(parseTrigger(event).kind).toBe('ignored');
    const summary = await h.controller.handle(event);
    // THEN
    expect(summary).toEqual({ trigger: 'ignored', outcomes: {}, errors: 0, deferred: 0 });
    expect(allCalls()).toHaveLength(0);
    expect(h.lines).toHaveLength(1);
    expect(h.logs()[0]).toMatchObject({ level: 'info', cluster: 'my-cluster', message: expect.stringMatching(/^event ignored: /) });
  });

  test.each([
    ['another group', lifecycleEvent(INSTANCE, OTHER_GROUP, HOOK)],
    ['another hook', lifecycleEvent(INSTANCE, GROUP, 'someone-elses-hook')],
  ])('a lifecycle action of %s is ignored with one log line naming the instance and no AWS call', async (_name, event) => {
    // GIVEN a controller
    const h = harness();
    // WHEN
    await h.controller.handle(event);
    // THEN
    expect(allCalls()).toHaveLength(0);
    expect(h.lines).toHaveLength(1);
    expect(h.logs()[0]).toMatchObject({ level: 'info', message: 'event ignored: lifecycle action of another group or hook', instanceId: INSTANCE });
  });
});

const REPLACEMENTS: unknown[] = [null, 0, -1, 1.5, '', 'x', 'i-0123456789abcdef0', true, [], [1], {}, { a: 1 }, 'DRAINING', 2 ** 53];

const NAMES = [
  'ec2-instance-terminate-lifecycle-action', 'ec2-spot-instance-interruption-warning', 'ecs-container-instance-state-change', 'ecs-task-state-change', 'scheduled-event',
] as const;

/** One mutation of an event: the whole event replaced, or one field (top level or in detail) dropped or retyped. */
type Mutation =
  | { readonly kind: 'replace-event'; readonly value: unknown }
  | {
    readonly kind: 'field';
    readonly inDetail: boolean;
    /** An index into the target's keys, modulo their count. */
    readonly key: number;
    readonly drop: boolean;
    readonly value?: unknown;
  };

// The weights of the hand-rolled generator this replaced: the whole event 5 %, a field of detail
// 70 %, a top-level field 25 %; a field dropped 40 %, retyped 60 %. A mutation is data, not a
// draw from a random stream, so fast-check shrinks a failure to the fewest, simplest mutations.
const replacement = fc.constantFrom(...REPLACEMENTS);
const fieldMutation = (inDetail: boolean): fc.Arbitrary<Mutation> => {
  const field = { kind: fc.constant('field' as const), inDetail: fc.constant(inDetail), key: fc.nat({ max: 63 }) };
  return fc.oneof(
    { arbitrary: fc.record({ ...field, drop: fc.constant(true) }), weight: 2 },
    { arbitrary: fc.record({ ...field, drop: fc.constant(false), value: replacement }), weight: 3 },
  );
};
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('replace-event' as const), value: replacement }), weight: 1 },
  { arbitrary: fieldMutation(true), weight: 14 },
  { arbitrary: fieldMutation(false), weight: 5 },
);

/**
 * Applies the mutations to a fresh copy of the sample event, in order, until one replaces the
 * event with something other than an object. A field of detail falls back to a top-level field
 * when detail is not an object with fields. Values are copied: no mutation edits REPLACEMENTS.
 */
function mutated(name: typeof NAMES[number], mutations: readonly Mutation[]): unknown {
  let event: any = sampleEvent(name);
  for (const m of mutations) {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) break;
    if (m.kind === 'replace-event') { event = structuredClone(m.value); continue; }
    const inDetail = m.inDetail && event.detail !== null && typeof event.detail === 'object' && Object.keys(event.detail).length > 0;
    const target = inDetail ? event.detail : event;
    const keys = Object.keys(target);
    if (keys.length === 0) continue;
    const key = keys[m.key % keys.length];
    if (m.drop) delete target[key];
    else target[key] = structuredClone(m.value);
  }
  return event;
}


// Fixed seeds: CI runs the same cases every time; a failure reports its seed, path and shrunk case.
describe('fuzzing the sample events', () => {
  test('parseTrigger never throws, and an ignored event makes no AWS call (fast-check, 400 cases)', async () => {
    let ignored = 0;
    stageWorld({ instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }] });
    const h = harness();
    await fc.assert(fc.asyncProperty(
      // GIVEN a sample event with one to three mutations
      fc.constantFrom(...NAMES), fc.array(mutation, { minLength: 1, maxLength: 3 }),
      async (name, mutations) => {
        const event = mutated(name, mutations);
        const description = JSON.stringify(event);

        // WHEN it is classified
        let trigger: ReturnType<typeof parseTrigger> | undefined;
        expect(() => { trigger = parseTrigger(event); }).not.toThrow();
        if (trigger!.kind !== 'ignored') return;
        ignored++;

        // THEN an ignored event gets one log line and no call, mutating or not
        ecsMock.resetHistory();
        autoScalingMock.resetHistory();
        h.lines.length = 0;
        await expect(h.controller.handle(event)).resolves.toMatchObject({ trigger: 'ignored', errors: 0 });
        expect({ description, calls: allCalls().length, mutating: mutatingCalls().length, lines: h.lines.length }).toEqual({
          description, calls: 0, mutating: 0, lines: 1,
        });
      },
    ), { seed: 20261128, numRuns: 400 });
    // The mutations do reach the ignored path often enough to mean something.
    expect(ignored).toBeGreaterThan(50);
  });

  test('the controller never crashes on a mutated event, whatever it classifies it as (fast-check, 200 cases)', async () => {
    const h = harness();
    await fc.assert(fc.asyncProperty(
      // GIVEN a sample event with one mutation
      fc.constantFrom(...NAMES), mutation,
      async (name, m) => {
        // and a world where the instance is InService in the managed group, its container instance
        // DRAINING without a drain record (staged afresh: the fake world remembers what a case changed)
        stageWorld({
          instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
          containerInstances: [{ arn: (sampleEvent('ecs-container-instance-state-change') as any).detail.containerInstanceArn, ec2InstanceId: INSTANCE, status: 'DRAINING' }],
        });
        const event = mutated(name, [m]);
        h.lines.length = 0;

        // WHEN it is handled THEN it resolves, and every line is JSON
        const summary = await h.controller.handle(event);
        expect(summary.errors).toBe(0);
        for (const line of h.lines) expect(() => JSON.parse(line)).not.toThrow();
        // Only a Spot warning, or a lifecycle action of the managed group and hook (the event is
        // Auto Scaling's word that the instance waits in the hook: no Auto Scaling read), may change
        // anything for an InService instance.
        const trigger = parseTrigger(event);
        const ownLifecycleAction = trigger.kind === 'lifecycle-action' && trigger.groupName === GROUP && trigger.hookName === HOOK;
        if (summary.trigger !== 'spot-interruption' && !ownLifecycleAction) {
          const description = JSON.stringify(event);
          expect({ description, calls: mutatingCalls() }).toEqual({ description, calls: [] });
        }
      },
    ), { seed: 7, numRuns: 200 });
  });
});

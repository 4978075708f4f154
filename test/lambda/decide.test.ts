/**
 * decide.ts: direct unit tests of the pure decisions.
 */
import { CONFIG, GROUP, INSTANCE, NOW } from './fixtures';
import {
  ContainerInstanceView, InstanceView, mayBeDrained, planSpotInterruption, planTermination, recordedAsOnlyRegistration, resourcesReleased,
  TERMINATING_WAIT,
} from '../../lambda/decide';

const MINUTE = 60_000;

function ci(id: string, overrides: Partial<ContainerInstanceView> = {}): ContainerInstanceView {
  return { containerInstanceArn: `arn:ci/${id}`, status: 'DRAINING', runningTasksCount: 0, pendingTasksCount: 0, ...overrides };
}

function terminating(...containerInstances: ContainerInstanceView[]): InstanceView {
  return { instanceId: INSTANCE, groupName: GROUP, lifecycleState: TERMINATING_WAIT, containerInstances };
}

describe('planTermination', () => {
  test.each([
    ['in no managed group', { instanceId: INSTANCE, containerInstances: [ci('a')] }, /no managed Auto Scaling group/],
    ['InService', { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService', containerInstances: [ci('a')] }, /InService, not Terminating:Wait/],
    ['unknown to Auto Scaling', { instanceId: INSTANCE, groupName: GROUP, containerInstances: [ci('a')] }, /not in its group/],
    ['Terminating:Proceed', { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Proceed', containerInstances: [ci('a')] }, /Terminating:Proceed/],
  ])('leaves alone an instance %s, and plans nothing', (_name, view: InstanceView, reason) => {
    const plan = planTermination(view, NOW, CONFIG);
    expect(plan).toEqual({
      outcome: 'left-alone',
      reason: expect.stringMatching(reason),
      setDraining: [],
      recordDrain: [],
      readTasksOf: [],
      heartbeat: false,
      deregister: [],
      completeLifecycleAction: false,
    });
  });

  test.each([
    ['no registration', []],
    ['only INACTIVE registrations', [ci('a', { status: 'INACTIVE' }), ci('b', { status: 'INACTIVE', runningTasksCount: 3 })]],
  ])('with %s: not-registered, complete at once, deregister nothing', (_name, cis) => {
    const plan = planTermination(terminating(...cis), NOW, CONFIG);
    expect(plan).toMatchObject({ outcome: 'not-registered', completeLifecycleAction: true, deregister: [], setDraining: [] });
  });

  test('a first look sets ACTIVE registrations DRAINING and records one shared deadline for all', () => {
    const plan = planTermination(terminating(ci('a', { status: 'ACTIVE', runningTasksCount: 1 }), ci('b', { runningTasksCount: 2 })), NOW, CONFIG);
    expect(plan.outcome).toBe('draining');
    expect(plan.setDraining).toEqual(['arn:ci/a']);
    expect(plan.recordDrain).toEqual([
      { containerInstanceArn: 'arn:ci/a', startedAt: NOW, deadline: NOW + 3600_000, registrations: 2 },
      { containerInstanceArn: 'arn:ci/b', startedAt: NOW, deadline: NOW + 3600_000, registrations: 2 },
    ]);
    expect(plan.reason).toBe('waiting: 1 running and 0 pending task(s); 2 running and 0 pending task(s)');
  });

  test('multiple registrations share the earliest recorded deadline, and a new registration inherits it', () => {
    // GIVEN two recorded drains with different deadlines and a new registration without a record
    const early = NOW - 10 * MINUTE;
    const view = terminating(
      ci('a', { deadline: early + 60 * MINUTE, drainStartedAt: early, runningTasksCount: 1 }),
      ci('b', { deadline: early + 90 * MINUTE, drainStartedAt: early + 30 * MINUTE, runningTasksCount: 1 }),
      ci('c', { status: 'ACTIVE', runningTasksCount: 1 }),
    );
    // WHEN planned
    const plan = planTermination(view, NOW, CONFIG);
    // THEN the new one gets the earliest deadline and start, and a record of all three registrations
    expect(plan.recordDrain).toEqual([{ containerInstanceArn: 'arn:ci/c', startedAt: early, deadline: early + 60 * MINUTE, registrations: 3 }]);
    expect(plan.drainStartedAt).toBe(early);
  });

  test('the earliest deadline forces every registration, even one whose own deadline is later', () => {
    const view = terminating(
      ci('a', { deadline: NOW - 1, drainStartedAt: NOW - 3600_001, runningTasksCount: 1 }),
      ci('b', { deadline: NOW + 30 * MINUTE, runningTasksCount: 1 }),
    );
    const plan = planTermination(view, NOW, CONFIG);
    expect(plan).toMatchObject({
      outcome: 'forced',
      completeLifecycleAction: true,
      deregister: [{ containerInstanceArn: 'arn:ci/a', force: true }, { containerInstanceArn: 'arn:ci/b', force: true }],
    });
  });

  test('the registration count of a record leaves out INACTIVE registrations', () => {
    const plan = planTermination(terminating(ci('a', { status: 'ACTIVE', runningTasksCount: 1 }), ci('old', { status: 'INACTIVE' })), NOW, CONFIG);
    expect(plan.recordDrain).toEqual([{ containerInstanceArn: 'arn:ci/a', startedAt: NOW, deadline: NOW + 3600_000, registrations: 1 }]);
  });

  test('a recorded drain is not recorded again, whatever its registration count says', () => {
    const plan = planTermination(terminating(ci('a', { deadline: NOW + MINUTE, drainStartedAt: NOW - MINUTE, recordedRegistrations: 1, runningTasksCount: 1 })), NOW, CONFIG);
    expect(plan).toMatchObject({ outcome: 'draining', recordDrain: [], setDraining: [] });
  });

  test('a deadline exactly now is passed', () => {
    expect(planTermination(terminating(ci('a', { deadline: NOW, runningTasksCount: 1 })), NOW, CONFIG).outcome).toBe('forced');
  });

  test('a start is derived from the deadline when the start attribute is missing', () => {
    const plan = planTermination(terminating(ci('a', { deadline: NOW + 50 * MINUTE, runningTasksCount: 1 })), NOW, CONFIG);
    expect(plan.drainStartedAt).toBe(NOW - 10 * MINUTE);
  });

  test('asks for the tasks only once every registration is empty by its counts', () => {
    const oneBusy = planTermination(terminating(ci('a'), ci('b', { pendingTasksCount: 1 })), NOW, CONFIG);
    expect(oneBusy.readTasksOf).toEqual([]);
    const bothEmpty = planTermination(terminating(ci('a'), ci('b')), NOW, CONFIG);
    expect(bothEmpty).toMatchObject({ outcome: 'draining', readTasksOf: ['arn:ci/a', 'arn:ci/b'] });
  });

  test('does not ask for the tasks while a task still holds CPU or memory, whatever the counts say', () => {
    const stopping = planTermination(terminating(ci('a', { resourcesReleased: false })), NOW, CONFIG);
    expect(stopping).toMatchObject({ outcome: 'draining', readTasksOf: [], completeLifecycleAction: false });
    const released = planTermination(terminating(ci('a', { resourcesReleased: true })), NOW, CONFIG);
    expect(released.readTasksOf).toEqual(['arn:ci/a']);
  });

  test('is drained only when every registration has been read and none has a task left that is not STOPPED', () => {
    const stopping = { taskArn: 't', lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' };
    const partly = planTermination(terminating(ci('a', { tasksNotStopped: [] }), ci('b', { tasksNotStopped: [stopping] })), NOW, CONFIG);
    expect(partly).toMatchObject({ outcome: 'draining', readTasksOf: [], completeLifecycleAction: false });
    expect(partly.reason).toContain('1 task(s) not yet STOPPED');
    const done = planTermination(terminating(ci('a', { tasksNotStopped: [] }), ci('b', { tasksNotStopped: [] })), NOW, CONFIG);
    expect(done).toMatchObject({
      outcome: 'drained',
      completeLifecycleAction: true,
      deregister: [{ containerInstanceArn: 'arn:ci/a', force: false }, { containerInstanceArn: 'arn:ci/b', force: false }],
    });
  });

  test('counts reported after the tasks were read still hold the drain', () => {
    const plan = planTermination(terminating(ci('a', { runningTasksCount: 1, tasksNotStopped: [] })), NOW, CONFIG);
    expect(plan.outcome).toBe('draining');
  });

  test('with forceDeregisterOnTimeout off, an overdue drain completes without deregistering', () => {
    const plan = planTermination(terminating(ci('a', { deadline: NOW - 1, runningTasksCount: 1 })), NOW, { ...CONFIG, forceDeregisterOnTimeout: false });
    expect(plan).toMatchObject({ outcome: 'forced', deregister: [], completeLifecycleAction: true });
  });

  test('heartbeat: the latest heartbeat of any registration counts', () => {
    const config = { ...CONFIG, heartbeatTimeoutSeconds: 600 };
    const started = NOW - 40 * MINUTE;
    const view = terminating(
      ci('a', { deadline: started + 60 * MINUTE, drainStartedAt: started, lastHeartbeatAt: NOW - 20 * MINUTE, runningTasksCount: 1 }),
      ci('b', { deadline: started + 60 * MINUTE, drainStartedAt: started, lastHeartbeatAt: NOW - 2 * MINUTE, runningTasksCount: 1 }),
    );
    expect(planTermination(view, NOW, config).heartbeat).toBe(false);
    expect(planTermination(view, NOW + 3 * MINUTE, config).heartbeat).toBe(true);
  });
});

describe('planSpotInterruption', () => {
  test('drains the live registrations of a managed instance, whatever its lifecycle state, and completes nothing', () => {
    const view: InstanceView = {
      instanceId: INSTANCE,
      groupName: GROUP,
      lifecycleState: 'InService',
      containerInstances: [ci('a', { status: 'ACTIVE', runningTasksCount: 2 }), ci('b', { status: 'INACTIVE' }), ci('c', { deadline: NOW + MINUTE })],
    };
    const plan = planSpotInterruption(view, NOW, CONFIG);
    expect(plan).toMatchObject({
      outcome: 'draining',
      setDraining: ['arn:ci/a'],
      completeLifecycleAction: false,
      deregister: [],
      heartbeat: false,
      drainStartedAt: NOW,
      recordDrain: [{ containerInstanceArn: 'arn:ci/a', startedAt: NOW, deadline: NOW + 3600_000, registrations: 2 }],
    });
  });

  test('leaves alone an instance of no managed group', () => {
    const plan = planSpotInterruption({ instanceId: INSTANCE, containerInstances: [ci('a', { status: 'ACTIVE' })] }, NOW, CONFIG);
    expect(plan).toMatchObject({ outcome: 'left-alone', reason: 'the instance is in no managed Auto Scaling group', setDraining: [], recordDrain: [] });
  });

  test('leaves everything alone when drainOnSpotInterruption is off', () => {
    const view: InstanceView = { instanceId: INSTANCE, groupName: GROUP, containerInstances: [ci('a', { status: 'ACTIVE' })] };
    const plan = planSpotInterruption(view, NOW, { ...CONFIG, drainOnSpotInterruption: false });
    expect(plan).toMatchObject({ outcome: 'left-alone', reason: 'draining on Spot interruption is turned off', setDraining: [], recordDrain: [] });
  });

  test('with no registration, plans nothing to write', () => {
    const plan = planSpotInterruption({ instanceId: INSTANCE, groupName: GROUP, containerInstances: [] }, NOW, CONFIG);
    expect(plan).toMatchObject({ setDraining: [], recordDrain: [], completeLifecycleAction: false });
  });
});

describe('mayBeDrained', () => {
  test.each([
    ['counts 0 and resources released', { runningTasksCount: 0, pendingTasksCount: 0, resourcesReleased: true }, true],
    ['counts 0 and resources unknown', { runningTasksCount: 0, pendingTasksCount: 0 }, true],
    ['no counts at all', {}, true],
    ['a running task', { runningTasksCount: 1, pendingTasksCount: 0, resourcesReleased: true }, false],
    ['a pending task', { runningTasksCount: 0, pendingTasksCount: 2, resourcesReleased: true }, false],
    ['counts 0 but resources still held', { runningTasksCount: 0, pendingTasksCount: 0, resourcesReleased: false }, false],
  ])('with %s is %s', (_name, counts, expected) => {
    expect(mayBeDrained(counts)).toBe(expected);
  });
});

describe('resourcesReleased', () => {
  const amounts = (cpu?: number, memory?: number) => [
    { name: 'CPU', integerValue: cpu }, { name: 'MEMORY', integerValue: memory }, { name: 'PORTS' },
  ];

  test.each([
    ['CPU and memory all remaining', amounts(2048, 7680), amounts(2048, 7680), true],
    ['CPU held', amounts(2048, 7680), amounts(1792, 7680), false],
    ['memory held', amounts(2048, 7680), amounts(2048, 7168), false],
    ['memory missing from the remaining list', amounts(2048, 7680), [{ name: 'CPU', integerValue: 2048 }], false],
    ['no registered list', undefined, amounts(2048, 7680), undefined],
    ['no remaining list', amounts(2048, 7680), undefined, undefined],
  ])('with %s is %s', (_name, registered, remaining, expected) => {
    expect(resourcesReleased(registered, remaining)).toBe(expected);
  });

  test('ignores other resources (ports, GPUs)', () => {
    expect(resourcesReleased(
      [...amounts(1024, 2048), { name: 'GPU', integerValue: 1 }],
      [...amounts(1024, 2048), { name: 'GPU', integerValue: 0 }],
    )).toBe(true);
  });
});

describe('recordedAsOnlyRegistration', () => {
  test.each([
    ['a record of one registration', { deadline: NOW, recordedRegistrations: 1 }, true],
    ['a record of two registrations', { deadline: NOW, recordedRegistrations: 2 }, false],
    ['no record', {}, false],
    ['a count without a deadline', { recordedRegistrations: 1 }, false],
  ])('with %s is %s', (_name, record, expected) => {
    expect(recordedAsOnlyRegistration(record)).toBe(expected);
  });
});

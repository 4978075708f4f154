/**
 * lambda/decide/plan.ts: direct unit tests of the pure decisions.
 */
import { CONFIG, GROUP, INSTANCE, NOW } from './fixtures';
import type { ControllerConfig } from '../../lambda/config';
import {
  ContainerInstanceView, InstanceView, mayBeDrained, planSpotInterruption, planTermination, TERMINATING_WAIT,
} from '../../lambda/decide';
import { DrainRecordValue } from '../../lambda/drain-record';
import { resourcesReleased } from '../../lambda/model';
import { COMPLETION_MARGIN_SECONDS } from '../../src/constants';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function ci(id: string, overrides: Partial<ContainerInstanceView> = {}): ContainerInstanceView {
  return { containerInstanceArn: `arn:ci/${id}`, status: 'DRAINING', runningTasksCount: 0, pendingTasksCount: 0, ...overrides };
}

/** A drain record that started `startedAgo` ms before NOW, with the given hook clock (default: its start). */
function record(
  startedAgo: number, timeoutMs = CONFIG.drainTimeoutSeconds * 1000, hookClockFrom: number | null = NOW - startedAgo,
): DrainRecordValue {
  return { startedAt: NOW - startedAgo, deadline: NOW - startedAgo + timeoutMs, ...hookClockFrom === null ? {} : { hookClockFrom } };
}

function terminating(...containerInstances: ContainerInstanceView[]): InstanceView {
  return { instanceId: INSTANCE, groupName: GROUP, lifecycleState: TERMINATING_WAIT, containerInstances, registrationsComplete: true };
}

function toWarmPool(...containerInstances: ContainerInstanceView[]): InstanceView {
  return { ...terminating(...containerInstances), lifecycleState: 'Warmed:Pending:Wait' };
}

describe('planTermination', () => {
  test.each([
    ['in no managed group', { instanceId: INSTANCE, containerInstances: [ci('a')] }, /no managed Auto Scaling group/],
    ['InService', { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService', containerInstances: [ci('a')] }, /InService, not waiting in this hook/],
    ['unknown to Auto Scaling', { instanceId: INSTANCE, groupName: GROUP, containerInstances: [ci('a')] }, /not in its group/],
    ['Terminating:Proceed', { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Proceed', containerInstances: [ci('a')] }, /Terminating:Proceed/],
    ['Warmed:Stopped', { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Warmed:Stopped', containerInstances: [ci('a')] }, /Warmed:Stopped/],
  ])('leaves alone an instance %s, and plans nothing', (_name, view: InstanceView, reason) => {
    const plan = planTermination(view, NOW, CONFIG);
    expect(plan).toEqual({
      outcome: 'left-alone',
      reason: expect.stringMatching(reason),
      setDraining: [],
      needs: { tasksOf: [], registrations: false },
      heartbeat: false,
      stopTasks: [],
      deregister: [],
      park: [],
      reactivate: [],
      completeLifecycleAction: false,
    });
  });

  test.each(['Terminating:Wait', 'Warmed:Terminating:Wait', 'Warmed:Pending:Wait', 'ReplacingRootVolume:Wait'])('drains an instance that waits in %s', state => {
    const plan = planTermination({ ...terminating(ci('a', { status: 'ACTIVE', runningTasksCount: 1 })), lifecycleState: state }, NOW, CONFIG);
    expect(plan).toMatchObject({ outcome: 'draining', setDraining: ['arn:ci/a'] });
  });

  test.each([
    ['no registration', []],
    ['only INACTIVE registrations', [ci('a', { status: 'INACTIVE' }), ci('b', { status: 'INACTIVE', runningTasksCount: 3 })]],
  ])('with %s: not-registered, complete at once, deregister nothing', (_name, cis) => {
    const plan = planTermination(terminating(...cis), NOW, CONFIG);
    expect(plan).toMatchObject({ outcome: 'not-registered', completeLifecycleAction: true, deregister: [], setDraining: [] });
  });

  test('with no registration known from a partial read, asks for a lookup instead of completing', () => {
    const plan = planTermination({ ...terminating(), registrationsComplete: false }, NOW, CONFIG);
    expect(plan).toMatchObject({ outcome: 'draining', completeLifecycleAction: false, needs: { registrations: true } });
  });

  test('a first look sets ACTIVE registrations DRAINING and records one drain on all of them, with the known hook clock', () => {
    const view = { ...terminating(ci('a', { status: 'ACTIVE', runningTasksCount: 1 }), ci('b', { runningTasksCount: 2 })), hookClockFrom: NOW - 5000 };
    const plan = planTermination(view, NOW, CONFIG);
    expect(plan.outcome).toBe('draining');
    expect(plan.setDraining).toEqual(['arn:ci/a']);
    expect(plan.record).toEqual({ value: { startedAt: NOW, deadline: NOW + HOUR, hookClockFrom: NOW - 5000 }, on: ['arn:ci/a', 'arn:ci/b'] });
    expect(plan.reason).toBe('waiting: 1 running and 0 pending task(s); 2 running and 0 pending task(s)');
  });

  test.each(['REGISTERING', 'DEREGISTERING', 'REGISTRATION_FAILED'])('never asks DRAINING (nor records) for a %s registration: ECS refuses it', status => {
    const plan = planTermination(terminating(ci('a', { status: 'ACTIVE', runningTasksCount: 1 }), ci('b', { status })), NOW, CONFIG);
    expect(plan.setDraining).toEqual(['arn:ci/a']);
    expect(plan.record?.on).toEqual(['arn:ci/a']);
  });

  test('a REGISTERING registration holds the instance; DEREGISTERING and REGISTRATION_FAILED ones do not', () => {
    const drained = ci('a', { tasksNotStopped: [] });
    expect(planTermination(terminating(drained, ci('b', { status: 'REGISTERING' })), NOW, CONFIG).outcome).toBe('draining');
    expect(planTermination(terminating(drained, ci('b', { status: 'DEREGISTERING' })), NOW, CONFIG)).toMatchObject({
      outcome: 'drained', deregister: [{ containerInstanceArn: 'arn:ci/a', force: false }],
    });
    expect(planTermination(terminating(drained, ci('b', { status: 'REGISTRATION_FAILED' })), NOW, CONFIG).outcome).toBe('drained');
  });

  test('multiple registrations share the earliest recorded deadline, and a new registration inherits the drain', () => {
    // GIVEN two recorded drains with different deadlines and a new registration without a record
    const view = terminating(
      ci('a', { record: record(10 * MINUTE), runningTasksCount: 1 }),
      ci('b', { record: record(0, 90 * MINUTE), runningTasksCount: 1 }),
      ci('c', { status: 'ACTIVE', runningTasksCount: 1 }),
    );
    // WHEN planned
    const plan = planTermination(view, NOW, CONFIG);
    // THEN the new one gets the earliest deadline and start, and the latest hook clock
    expect(plan.record).toEqual({ value: { startedAt: NOW - 10 * MINUTE, deadline: NOW + 50 * MINUTE, hookClockFrom: NOW }, on: ['arn:ci/c'] });
    expect(plan.drainStartedAt).toBe(NOW - 10 * MINUTE);
  });

  test('the earliest deadline forces every registration, even one whose own deadline is later', () => {
    const view = terminating(ci('a', { record: record(HOUR + 1), runningTasksCount: 1 }), ci('b', { record: record(30 * MINUTE), runningTasksCount: 1 }));
    expect(planTermination(view, NOW, CONFIG)).toMatchObject({
      outcome: 'forced',
      completeLifecycleAction: true,
      deregister: [{ containerInstanceArn: 'arn:ci/a', force: true }, { containerInstanceArn: 'arn:ci/b', force: true }],
    });
  });

  test('a recorded drain is not recorded again', () => {
    const plan = planTermination(terminating(ci('a', { record: record(MINUTE), runningTasksCount: 1 })), NOW, CONFIG);
    expect(plan).toMatchObject({ outcome: 'draining', setDraining: [] });
    expect(plan.record).toBeUndefined();
  });

  test('a deadline exactly now is passed', () => {
    expect(planTermination(terminating(ci('a', { record: record(HOUR), runningTasksCount: 1 })), NOW, CONFIG).outcome).toBe('forced');
  });

  test('asks for the tasks only once every registration is empty by its counts', () => {
    const oneBusy = planTermination(terminating(ci('a'), ci('b', { pendingTasksCount: 1 })), NOW, CONFIG);
    expect(oneBusy.needs.tasksOf).toEqual([]);
    const bothEmpty = planTermination(terminating(ci('a'), ci('b')), NOW, CONFIG);
    expect(bothEmpty).toMatchObject({ outcome: 'draining', needs: { tasksOf: ['arn:ci/a', 'arn:ci/b'] } });
  });

  test('does not ask for the tasks while a task still holds CPU or memory, whatever the counts say', () => {
    const stopping = planTermination(terminating(ci('a', { resourcesReleased: false })), NOW, CONFIG);
    expect(stopping).toMatchObject({ outcome: 'draining', needs: { tasksOf: [] }, completeLifecycleAction: false });
    expect(stopping.reason).toBe('waiting: tasks still stopping');
    const released = planTermination(terminating(ci('a', { resourcesReleased: true })), NOW, CONFIG);
    expect(released.needs.tasksOf).toEqual(['arn:ci/a']);
  });

  test('is drained only when every registration has been read and none has a task left that is not STOPPED', () => {
    const stopping = { taskArn: 't', lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED' };
    const partly = planTermination(terminating(ci('a', { tasksNotStopped: [] }), ci('b', { tasksNotStopped: [stopping] })), NOW, CONFIG);
    expect(partly).toMatchObject({ outcome: 'draining', needs: { tasksOf: [] }, completeLifecycleAction: false });
    expect(partly.reason).toContain('1 task(s) not yet STOPPED');
    const done = planTermination(terminating(ci('a', { tasksNotStopped: [] }), ci('b', { tasksNotStopped: [] })), NOW, CONFIG);
    expect(done).toMatchObject({
      outcome: 'drained',
      completeLifecycleAction: true,
      deregister: [{ containerInstanceArn: 'arn:ci/a', force: false }, { containerInstanceArn: 'arn:ci/b', force: false }],
    });
  });

  test('a drained instance is released only on a complete read of its registrations (a newer one may exist)', () => {
    const view = { ...terminating(ci('a', { record: record(MINUTE), tasksNotStopped: [] })), registrationsComplete: false };
    expect(planTermination(view, NOW, CONFIG)).toMatchObject({ outcome: 'draining', completeLifecycleAction: false, deregister: [], needs: { registrations: true } });
  });

  test('an overdue drain is forced only on a complete read of its registrations', () => {
    const view = { ...terminating(ci('a', { record: record(2 * HOUR), runningTasksCount: 1 })), registrationsComplete: false };
    expect(planTermination(view, NOW, CONFIG)).toMatchObject({ outcome: 'draining', deregister: [], needs: { registrations: true } });
  });

  test('counts reported after the tasks were read still hold the drain', () => {
    expect(planTermination(terminating(ci('a', { runningTasksCount: 1, tasksNotStopped: [] })), NOW, CONFIG).outcome).toBe('draining');
  });

  test('with forceDeregisterOnTimeout off, an overdue drain completes without deregistering', () => {
    const plan = planTermination(terminating(ci('a', { record: record(2 * HOUR), runningTasksCount: 1 })), NOW, { ...CONFIG, forceDeregisterOnTimeout: false });
    expect(plan).toMatchObject({ outcome: 'forced', deregister: [], park: [], completeLifecycleAction: true });
  });

  test('a drained instance whose root volume is about to be replaced is deregistered: its agent registers anew after the swap', () => {
    const view = { ...terminating(ci('a', { tasksNotStopped: [] })), lifecycleState: 'ReplacingRootVolume:Wait' };
    expect(planTermination(view, NOW, CONFIG)).toMatchObject({
      outcome: 'drained', deregister: [{ containerInstanceArn: 'arn:ci/a', force: false }], park: [], completeLifecycleAction: true,
    });
  });

  describe('warm pool (ReuseOnScaleIn)', () => {
    test('a drained instance going back to the warm pool keeps its registration: parked, not deregistered', () => {
      const plan = planTermination(toWarmPool(ci('a', { record: record(MINUTE), tasksNotStopped: [] })), NOW, CONFIG);
      expect(plan).toMatchObject({ outcome: 'drained', deregister: [], park: ['arn:ci/a'], completeLifecycleAction: true });
    });

    test('an overdue one is force-deregistered like any other (tasks first), or parked with forceDeregisterOnTimeout off', () => {
      const view = toWarmPool(ci('a', { record: record(2 * HOUR), runningTasksCount: 1 }));
      expect(planTermination(view, NOW, CONFIG)).toMatchObject({ outcome: 'forced', deregister: [{ containerInstanceArn: 'arn:ci/a', force: true }], park: [] });
      expect(planTermination(view, NOW, { ...CONFIG, forceDeregisterOnTimeout: false })).toMatchObject({ outcome: 'forced', deregister: [], park: ['arn:ci/a'] });
    });

    test.each(['InService', 'Pending', 'Pending:Wait'])('a parked registration of an instance %s again is reactivated', state => {
      const view: InstanceView = { instanceId: INSTANCE, groupName: GROUP, lifecycleState: state, containerInstances: [ci('a', { parkedAt: NOW - 600_000 })] };
      expect(planTermination(view, NOW, CONFIG)).toMatchObject({ outcome: 'reactivated', reactivate: ['arn:ci/a'], setDraining: [] });
    });

    test('a DRAINING registration without the parked marker of an InService instance is an operator\'s: left alone', () => {
      const view: InstanceView = { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService', containerInstances: [ci('a')] };
      expect(planTermination(view, NOW, CONFIG)).toMatchObject({ outcome: 'left-alone', reactivate: [] });
    });

    test('a parked registration whose instance is terminated from the warm pool is drained and deregistered', () => {
      const view: InstanceView = { ...terminating(ci('a', { parkedAt: NOW - 600_000, tasksNotStopped: [] })), lifecycleState: 'Warmed:Terminating:Wait' };
      const plan = planTermination(view, NOW, CONFIG);
      expect(plan).toMatchObject({ outcome: 'drained', deregister: [{ containerInstanceArn: 'arn:ci/a', force: false }] });
    });
  });

  describe('heartbeats: the hook never expires before deadline + margin', () => {
    /** The construct's derivation: drain timeout + 5 minutes, at most 2 hours. */
    function configFor(drainTimeoutSeconds: number): ControllerConfig {
      return { ...CONFIG, drainTimeoutSeconds, heartbeatTimeoutSeconds: Math.min(drainTimeoutSeconds + 300, 7200) };
    }

    /**
     * Simulates a drain that never ends, planned every minute from its start `lateMs` after the
     * action started; returns the moments the hook would expire before the drain is forced.
     */
    function expiriesBeforeDeadline(config: ControllerConfig, lateMs: number, hookKnown: boolean): number[] {
      const actionStart = NOW;
      let hookFrom = actionStart;
      let rec: DrainRecordValue | undefined;
      const expiries: number[] = [];
      for (let t = actionStart + lateMs; ; t += MINUTE) {
        if (t > hookFrom + config.heartbeatTimeoutSeconds * 1000) expiries.push(t);
        const view: InstanceView = {
          ...terminating(ci('a', { runningTasksCount: 1, ...rec ? { record: rec } : {} })),
          hookClockFrom: hookKnown ? actionStart : undefined,
        };
        const plan = planTermination(view, t, config);
        if (plan.outcome === 'forced') {
          // The hook must still be alive a margin after the deadline.
          if (hookFrom + config.heartbeatTimeoutSeconds * 1000 < plan.deadline! + 300_000) expiries.push(t);
          return expiries;
        }
        rec ??= plan.record?.value;
        if (plan.heartbeat) {
          hookFrom = t;
          rec = { ...rec!, hookClockFrom: t };
        }
      }
    }

    test.each([
      [3600, 0, true], [3600, 20 * MINUTE, true], [3600, 20 * MINUTE, false], [3600, 64 * MINUTE, false],
      [3 * 3600, 0, true], [3 * 3600, 0, false], [3 * 3600, 90 * MINUTE, true], [5 * 3600, 0, true], [47 * 3600, 7 * MINUTE, true], [60, 0, true],
    ])('drain timeout %s s, record written %s ms after the action started, action start known: %s', (timeout, late, known) => {
      expect(expiriesBeforeDeadline(configFor(timeout), late, known)).toEqual([]);
    });

    /**
     * A lifecycle action also ends at its global timeout, the smaller of 48 hours and 100 times the
     * heartbeat timeout, counted from the action's start whatever the heartbeats (Auto Scaling
     * user guide, lifecycle hooks). Plans the drain every minute from `lateMs` after the action
     * started (keeping the hook alive) and returns how long before that end it is forced.
     */
    function forcedBeforeGlobalTimeout(config: ControllerConfig, lateMs: number, hookKnown: boolean): number {
      const actionStart = NOW;
      const globalEnd = actionStart + Math.min(48 * HOUR, 100 * config.heartbeatTimeoutSeconds * 1000);
      let rec: DrainRecordValue | undefined;
      for (let t = actionStart + lateMs; t < globalEnd; t += MINUTE) {
        const view: InstanceView = {
          ...terminating(ci('a', { runningTasksCount: 1, ...rec ? { record: rec } : {} })),
          hookClockFrom: hookKnown ? actionStart : undefined,
        };
        const plan = planTermination(view, t, config);
        if (plan.outcome === 'forced') return globalEnd - t;
        rec ??= plan.record?.value;
        if (plan.heartbeat) rec = { ...rec!, hookClockFrom: t };
      }
      return 0;
    }

    test.each([
      // A record written late is within one heartbeat timeout of the action's start, or the action would have expired.
      [47 * 3600 + 55 * 60, 0, true], [47 * 3600 + 55 * 60, 90 * MINUTE, true], [47 * 3600 + 55 * 60, 119 * MINUTE, false],
      [47 * 3600, 100 * MINUTE, false], [20 * 3600, 60 * MINUTE, false], [3600, 60 * MINUTE, false],
    ])('drain timeout %s s, recorded %s ms after the action started (start known: %s): forced at least the margin before the global timeout', (timeout, late, known) => {
      expect(forcedBeforeGlobalTimeout(configFor(timeout), late, known)).toBeGreaterThanOrEqual(COMPLETION_MARGIN_SECONDS * 1000);
    });

    test('a drain recorded promptly keeps its whole drain timeout', () => {
      const config = configFor(3 * 3600);
      const plan = planTermination({ ...terminating(ci('a', { status: 'ACTIVE', runningTasksCount: 1 })), hookClockFrom: NOW - MINUTE }, NOW, config);
      expect(plan.record?.value.deadline).toBe(NOW + 3 * HOUR);
    });

    test('a drain recorded at the action start needs no heartbeat when the hook outlasts the deadline by the margin', () => {
      const config = configFor(3600);
      const view = terminating(ci('a', { record: record(40 * MINUTE), runningTasksCount: 1 }));
      expect(planTermination(view, NOW, config).heartbeat).toBe(false);
    });

    test('a record written late gets one, half a timeout after the action started', () => {
      const config = configFor(3600);
      const late = { startedAt: NOW - 30 * MINUTE, deadline: NOW + 30 * MINUTE, hookClockFrom: NOW - 40 * MINUTE };
      expect(planTermination(terminating(ci('a', { record: late, runningTasksCount: 1 })), NOW, config).heartbeat).toBe(true);
      expect(planTermination(terminating(ci('a', { record: late, runningTasksCount: 1 })), NOW - 10 * MINUTE, config).heartbeat).toBe(false);
    });

    test('a record whose hook clock is not known gets one at once', () => {
      expect(planTermination(terminating(ci('a', { record: record(MINUTE, undefined, null), runningTasksCount: 1 })), NOW, CONFIG).heartbeat).toBe(true);
    });

    test('whole-hour timeouts of 3 hours or more get their last heartbeat (the hook used to expire exactly at the deadline)', () => {
      const config = configFor(3 * 3600);
      const view = terminating(ci('a', { record: { startedAt: NOW - 2 * HOUR, deadline: NOW + HOUR, hookClockFrom: NOW - HOUR }, runningTasksCount: 1 }));
      expect(planTermination(view, NOW, config).heartbeat).toBe(true);
    });
  });
});

describe('planSpotInterruption', () => {
  test('drains the live registrations of a managed instance, whatever its lifecycle state, with the warning as hook clock, and completes nothing', () => {
    const view: InstanceView = {
      instanceId: INSTANCE,
      groupName: GROUP,
      lifecycleState: 'InService',
      containerInstances: [ci('a', { status: 'ACTIVE', runningTasksCount: 2 }), ci('b', { status: 'INACTIVE' }), ci('c', { record: record(0) })],
      registrationsComplete: true,
    };
    const plan = planSpotInterruption(view, NOW, CONFIG);
    expect(plan).toMatchObject({
      outcome: 'draining',
      setDraining: ['arn:ci/a'],
      completeLifecycleAction: false,
      deregister: [],
      heartbeat: false,
      drainStartedAt: NOW,
      record: { value: { startedAt: NOW, deadline: NOW + HOUR, hookClockFrom: NOW }, on: ['arn:ci/a'] },
    });
  });

  test('leaves alone an instance of no managed group', () => {
    const plan = planSpotInterruption({ instanceId: INSTANCE, containerInstances: [ci('a', { status: 'ACTIVE' })] }, NOW, CONFIG);
    expect(plan).toMatchObject({ outcome: 'left-alone', reason: 'the instance is in no managed Auto Scaling group', setDraining: [] });
  });

  test('leaves everything alone when drainOnSpotInterruption is off', () => {
    const view: InstanceView = { instanceId: INSTANCE, groupName: GROUP, containerInstances: [ci('a', { status: 'ACTIVE' })] };
    const plan = planSpotInterruption(view, NOW, { ...CONFIG, drainOnSpotInterruption: false });
    expect(plan).toMatchObject({ outcome: 'left-alone', reason: 'draining on Spot interruption is turned off', setDraining: [] });
  });

  test('asks for the registrations first', () => {
    const plan = planSpotInterruption({ instanceId: INSTANCE, groupName: GROUP, containerInstances: [] }, NOW, CONFIG);
    expect(plan).toMatchObject({ setDraining: [], needs: { registrations: true } });
  });

  test('with no registration, plans nothing to write', () => {
    const plan = planSpotInterruption({ instanceId: INSTANCE, groupName: GROUP, containerInstances: [], registrationsComplete: true }, NOW, CONFIG);
    expect(plan).toMatchObject({ setDraining: [], completeLifecycleAction: false });
    expect(plan.record).toBeUndefined();
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

describe('the stop time (stopTasksBeforeDeadline)', () => {
  const STOPPING = { ...CONFIG, stopTasksBeforeDeadlineSeconds: 600 };
  /** A recorded drain, a task still running, whose deadline is `minutesLeft` away. */
  const recordedWith = (minutesLeft: number, overrides: Partial<ContainerInstanceView> = {}) => ci('a', {
    runningTasksCount: 1, record: { deadline: NOW + minutesLeft * MINUTE, startedAt: NOW - 50 * MINUTE }, ...overrides,
  });

  test('stops what still runs on a DRAINING registration once the deadline is that close', () => {
    expect(planTermination({ ...terminating(recordedWith(10)), registrationsComplete: true }, NOW, STOPPING).stopTasks).toEqual(['arn:ci/a']);
    const pendingOnly = terminating(recordedWith(3, { runningTasksCount: 0, pendingTasksCount: 2 }));
    expect(planTermination(pendingOnly, NOW, STOPPING))
      .toMatchObject({ outcome: 'draining', stopTasks: ['arn:ci/a'] });
  });

  test('not before the stop time, not without the setting, not when nothing is meant to run', () => {
    expect(planTermination(terminating(recordedWith(11)), NOW, STOPPING).stopTasks).toEqual([]);
    expect(planTermination(terminating(recordedWith(5)), NOW, CONFIG).stopTasks).toEqual([]);
    expect(planTermination(terminating(recordedWith(5, { runningTasksCount: 0, resourcesReleased: false })), NOW, STOPPING).stopTasks).toEqual([]);
  });

  test('not for a drain without a record (no deadline the controller enforces), nor for a registration not DRAINING yet', () => {
    expect(planTermination(terminating(ci('a')), NOW, { ...STOPPING, stopTasksBeforeDeadlineSeconds: CONFIG.drainTimeoutSeconds }).stopTasks).toEqual([]);
    expect(planTermination(terminating(recordedWith(5, { status: 'ACTIVE' })), NOW, STOPPING).stopTasks).toEqual([]);
  });

  test('at the deadline the drain is forced as before, whatever is left', () => {
    expect(planTermination({ ...terminating(recordedWith(0)), registrationsComplete: true }, NOW, STOPPING))
      .toMatchObject({ outcome: 'forced', stopTasks: [], deregister: [{ containerInstanceArn: 'arn:ci/a', force: true }] });
  });
});

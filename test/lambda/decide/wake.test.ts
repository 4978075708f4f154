/**
 * lambda/decide/wake.ts: which events are worth acting on, and how.
 */
import {
  containerInstanceEventVerdict, endIsOurs, EVENT_TIME_SLACK_MS, hookClockFromEvent, mayEndDrain, ofCluster, ofThisHook, registrationUsable,
} from '../../../lambda/decide';
import { CONFIG, GROUP, HOOK, NOW, OTHER_GROUP } from '../fixtures';

const EMPTY = { status: 'DRAINING', runningTasksCount: 0, pendingTasksCount: 0 };
const RECORD = { deadline: NOW + 60_000, startedAt: NOW };

describe('ofCluster', () => {
  test.each([
    ['its ARN', 'arn:aws:ecs:eu-west-1:123456789012:cluster/my-cluster', true],
    ['its name', 'my-cluster', true],
    ['another cluster', 'arn:aws:ecs:eu-west-1:123456789012:cluster/other', false],
    ['a cluster whose name ends the same', 'arn:aws:ecs:eu-west-1:123456789012:cluster/not-my-cluster', false],
    ['a cluster whose name starts the same', 'arn:aws:ecs:eu-west-1:123456789012:cluster/my-cluster-2', false],
  ])('%s', (_name, arn, expected) => {
    expect(ofCluster(arn, 'my-cluster')).toBe(expected);
  });
});

describe('ofThisHook', () => {
  test.each([
    ['a managed group and this hook', GROUP, HOOK, true],
    ['another group', OTHER_GROUP, HOOK, false],
    ['another hook of a managed group', GROUP, 'someone-elses-hook', false],
  ])('%s', (_name, groupName, hookName, expected) => {
    expect(ofThisHook({ groupName, hookName }, { ...CONFIG, autoScalingGroupNames: new Set([GROUP]), lifecycleHookName: HOOK })).toBe(expected);
  });
});

describe('hookClockFromEvent', () => {
  test('starts the clock the slack before the event', () => {
    expect(EVENT_TIME_SLACK_MS).toBe(60_000);
    expect(hookClockFromEvent(NOW - 10_000, NOW)).toBe(NOW - 10_000 - EVENT_TIME_SLACK_MS);
  });
  test('does not believe an event time ahead of now', () => {
    expect(hookClockFromEvent(NOW + 3_600_000, NOW)).toBe(NOW - EVENT_TIME_SLACK_MS);
  });
  test('knows nothing when the event has no time', () => {
    expect(hookClockFromEvent(undefined, NOW)).toBeUndefined();
  });
});

describe('containerInstanceEventVerdict', () => {
  test.each([
    ['DRAINING and empty by its counts', EMPTY, 'look'],
    ['DRAINING, empty, resources unknown', { ...EMPTY, resourcesReleased: undefined }, 'look'],
    ['DRAINING with counts missing', { status: 'DRAINING' }, 'look'],
    ['DRAINING and parked, tasks or not', { ...EMPTY, runningTasksCount: 3, parkedAt: NOW }, 'look'],
    ['DRAINING with a task running', { ...EMPTY, runningTasksCount: 1 }, 'still-has-tasks'],
    ['DRAINING with a task pending', { ...EMPTY, pendingTasksCount: 1 }, 'still-has-tasks'],
    ['DRAINING with a task still holding resources', { ...EMPTY, resourcesReleased: false }, 'still-has-tasks'],
    ['ACTIVE', { ...EMPTY, status: 'ACTIVE' }, 'not-draining'],
    ['ACTIVE and parked', { ...EMPTY, status: 'ACTIVE', parkedAt: NOW }, 'not-draining'],
    ['INACTIVE', { ...EMPTY, status: 'INACTIVE' }, 'not-draining'],
  ])('%s: %s', (_name, ci, expected) => {
    expect(containerInstanceEventVerdict(ci)).toBe(expected);
  });
});

describe('mayEndDrain', () => {
  test.each([
    ['an empty DRAINING registration of a known instance', { ...EMPTY, ec2InstanceId: 'i-1' }, true],
    ['a parked DRAINING registration with tasks', { ...EMPTY, ec2InstanceId: 'i-1', runningTasksCount: 2, parkedAt: NOW }, true],
    ['one of no known instance', EMPTY, false],
    ['one whose instance id is empty', { ...EMPTY, ec2InstanceId: '' }, false],
    ['one that still runs a task', { ...EMPTY, ec2InstanceId: 'i-1', runningTasksCount: 1 }, false],
    ['one that is ACTIVE', { ...EMPTY, ec2InstanceId: 'i-1', status: 'ACTIVE' }, false],
  ])('%s: %s', (_name, ci, expected) => {
    expect(mayEndDrain(ci)).toBe(expected);
  });
});

describe('endIsOurs', () => {
  test.each([
    ['waits in the hook', { groupName: GROUP, lifecycleState: 'Terminating:Wait' }, false, true],
    ['waits to go to the warm pool', { groupName: GROUP, lifecycleState: 'Warmed:Pending:Wait' }, false, true],
    ['is back in service with a parked registration', { groupName: GROUP, lifecycleState: 'InService' }, true, true],
    ['is in service (an operator drains it)', { groupName: GROUP, lifecycleState: 'InService' }, false, false],
    ['is in no managed group', { lifecycleState: 'Terminating:Wait' }, true, false],
    ['is unknown to Auto Scaling', { groupName: GROUP }, false, false],
  ])('an instance that %s', (_name, state, parked, expected) => {
    expect(endIsOurs(state, parked)).toBe(expected);
  });
});

describe('registrationUsable', () => {
  test.each([
    ['read afresh, going to the warm pool', 'Warmed:Pending:Wait', true, true],
    ['from an event, terminating', 'Terminating:Wait', false, true],
    ['from an event, warm pool terminating', 'Warmed:Terminating:Wait', false, true],
    ['from an event, new root volume', 'ReplacingRootVolume:Wait', false, true],
    ['from an event, going to the warm pool', 'Warmed:Pending:Wait', false, false],
    ['from an event, back in service', 'InService', false, false],
    ['from an event, state unknown', undefined, false, false],
    ['read afresh, state unknown', undefined, true, true],
  ])('%s, recorded', (_name, state, fresh, expected) => {
    expect(registrationUsable(state, { record: RECORD }, fresh)).toBe(expected);
  });

  test.each([
    ['from an event, terminating', false, false],
    ['read afresh, terminating', true, true],
  ])('%s, without a record', (_name, fresh, expected) => {
    expect(registrationUsable('Terminating:Wait', {}, fresh)).toBe(expected);
  });
});

/**
 * lambda/decide/refine.ts: what a run still asks of a plan, and which step takes it.
 */
import { ci, plan, waiting } from './builders';
import {
  alsoTried, ContainerInstanceView, emptinessAfter, goesToRelease, heartbeatAllowed, InstanceView, managedState, needsAnotherRound, NOTHING_TRIED,
  refinePlan, releases, sendsHeartbeat, settled, stopsTasks, Tried,
} from '../../../lambda/decide';
import { CONFIG, GROUP, NOW, OTHER_GROUP } from '../fixtures';

const RECORD = { deadline: NOW + 60_000, startedAt: NOW };


function view(...containerInstances: ContainerInstanceView[]): InstanceView {
  return { ...waiting(...containerInstances), registrationsComplete: true };
}


describe('alsoTried', () => {
  test('starts from nothing tried', () => {
    expect(NOTHING_TRIED).toEqual({ draining: new Set(), record: new Set(), heartbeat: false, stopped: new Set() });
  });

  test('adds what was tried since, as a new value, and leaves the earlier one as it was', () => {
    const before: Tried = { draining: new Set(['arn:ci/a']), record: new Set(), heartbeat: false, stopped: new Set() };
    const after = alsoTried(before, { draining: ['arn:ci/b'], record: ['arn:ci/a'] });
    expect(after).toEqual({ draining: new Set(['arn:ci/a', 'arn:ci/b']), record: new Set(['arn:ci/a']), heartbeat: false, stopped: new Set() });
    expect(before).toEqual({ draining: new Set(['arn:ci/a']), record: new Set(), heartbeat: false, stopped: new Set() });
    expect(alsoTried(after, { heartbeat: true })).toEqual({ ...after, heartbeat: true });
    expect(alsoTried({ ...after, heartbeat: true }, {}).heartbeat).toBe(true);
    expect(alsoTried(after, { stopped: ['arn:ci/b'] })).toEqual({ ...after, stopped: new Set(['arn:ci/b']) });
  });
});

describe('refinePlan', () => {
  test('leaves a plan alone when nothing was tried and the drain is recorded', () => {
    const p = plan({ setDraining: ['arn:ci/a'], record: { value: RECORD, on: ['arn:ci/b'] }, heartbeat: true });
    const v = view(ci('a', { record: RECORD }), ci('b', { record: RECORD }));
    expect(refinePlan(p, v, NOTHING_TRIED)).toEqual(p);
  });

  test('does not ask DRAINING again for registrations tried in this run, and keeps the others', () => {
    const p = plan({ setDraining: ['arn:ci/a', 'arn:ci/b'] });
    const refined = refinePlan(p, view(ci('a'), ci('b')), { ...NOTHING_TRIED, draining: new Set(['arn:ci/a']) });
    expect(refined.setDraining).toEqual(['arn:ci/b']);
  });

  test('does not write a record again where this run wrote one, and drops a record left with no registration', () => {
    const p = plan({ record: { value: RECORD, on: ['arn:ci/a', 'arn:ci/b'] } });
    expect(refinePlan(p, view(ci('a'), ci('b')), { ...NOTHING_TRIED, record: new Set(['arn:ci/a']) }).record)
      .toEqual({ value: RECORD, on: ['arn:ci/b'] });
    expect(refinePlan(p, view(ci('a'), ci('b')), { ...NOTHING_TRIED, record: new Set(['arn:ci/a', 'arn:ci/b']) }).record).toBeUndefined();
  });

  test('sends one heartbeat per run', () => {
    const p = plan({ heartbeat: true });
    expect(refinePlan(p, view(ci('a', { record: RECORD })), { ...NOTHING_TRIED, heartbeat: true }).heartbeat).toBe(false);
  });

  test('sends no heartbeat for a drain that is not recorded on every drainable registration', () => {
    const p = plan({ heartbeat: true });
    expect(refinePlan(p, view(ci('a', { record: RECORD }), ci('b')), NOTHING_TRIED).heartbeat).toBe(false);
  });

  test('never adds a heartbeat the plan did not ask for', () => {
    expect(refinePlan(plan(), view(ci('a', { record: RECORD })), NOTHING_TRIED).heartbeat).toBe(false);
  });

  test('changes nothing else in the plan, and leaves its input unchanged', () => {
    const p = plan({
      outcome: 'forced',
      reason: 'deadline',
      setDraining: ['arn:ci/a'],
      deregister: [{ containerInstanceArn: 'arn:ci/a', force: true }],
      completeLifecycleAction: true,
      deadline: NOW,
      drainStartedAt: NOW - 1,
    });
    const copy = JSON.parse(JSON.stringify(p));
    const refined = refinePlan(p, view(ci('a')), { ...NOTHING_TRIED, draining: new Set(['arn:ci/a']) });
    expect(refined).toEqual({ ...p, setDraining: [] });
    expect(p).toEqual(copy);
  });
});

describe('heartbeatAllowed', () => {
  test.each([
    ['every drainable registration recorded', [ci('a', { record: RECORD }), ci('b', { status: 'ACTIVE', record: RECORD })], true],
    ['one drainable registration without a record', [ci('a', { record: RECORD }), ci('b', { status: 'ACTIVE' })], false],
    ['only registrations that cannot drain', [ci('a', { status: 'REGISTERING', record: RECORD })], false],
    ['no registration', [], false],
    ['an unrecorded registration that cannot drain beside a recorded one', [ci('a', { record: RECORD }), ci('b', { status: 'DEREGISTERING' })], true],
  ])('%s: %s', (_name, cis, expected) => {
    expect(heartbeatAllowed(view(...cis))).toBe(expected);
  });
});

describe('sendsHeartbeat', () => {
  test.each([
    ['a draining plan asking for one', plan({ heartbeat: true }), true],
    ['a plan that asks for none', plan(), false],
    ['a plan still looking up registrations', plan({ heartbeat: true, needs: { tasksOf: [], registrations: true } }), false],
    ['a plan that releases', plan({ heartbeat: true, outcome: 'drained' }), false],
    ['a plan that reads tasks', plan({ heartbeat: true, needs: { tasksOf: ['arn:ci/a'], registrations: false } }), true],
  ])('%s: %s', (_name, p, expected) => {
    expect(sendsHeartbeat(p)).toBe(expected);
  });
});

describe('releases and goesToRelease', () => {
  test.each([
    ['deregisters', plan({ deregister: [{ containerInstanceArn: 'arn:ci/a', force: false }] }), true, true],
    ['parks', plan({ park: ['arn:ci/a'] }), true, true],
    ['reactivates', plan({ reactivate: ['arn:ci/a'] }), false, true],
    ['only completes', plan({ completeLifecycleAction: true }), false, true],
    ['does none of it', plan({ setDraining: ['arn:ci/a'] }), false, false],
  ])('a plan that %s', (_name, p, release, step) => {
    expect(releases(p)).toBe(release);
    expect(goesToRelease(p)).toBe(step);
  });
});

describe('needsAnotherRound', () => {
  test.each([
    ['registrations to read', plan({ needs: { tasksOf: [], registrations: true } }), true],
    ['tasks to read', plan({ needs: { tasksOf: ['arn:ci/a'], registrations: false } }), true],
    ['registrations to set DRAINING', plan({ setDraining: ['arn:ci/a'] }), true],
    ['a record to write', plan({ record: { value: RECORD, on: ['arn:ci/a'] } }), true],
    ['only a heartbeat', plan({ heartbeat: true }), false],
    ['only a release', plan({ outcome: 'drained', deregister: [{ containerInstanceArn: 'arn:ci/a', force: false }], completeLifecycleAction: true }), false],
  ])('%s: %s', (_name, p, expected) => {
    expect(needsAnotherRound(p)).toBe(expected);
  });
});

describe('emptinessAfter', () => {
  const empty = (id: string) => ci(id, { runningTasksCount: 0 });

  test('starts when every count reads zero, at the time of that read', () => {
    expect(emptinessAfter(undefined, [empty('b'), empty('a')], NOW)).toEqual({ since: NOW, of: 'arn:ci/a arn:ci/b' });
  });

  test('keeps its start while the same registrations stay empty', () => {
    const first = emptinessAfter(undefined, [empty('a')], NOW);
    expect(emptinessAfter(first, [empty('a')], NOW + 5000)).toBe(first);
  });

  test('starts again for a new set of registrations', () => {
    const first = emptinessAfter(undefined, [empty('a')], NOW);
    expect(emptinessAfter(first, [empty('a'), empty('b')], NOW + 5000)).toEqual({ since: NOW + 5000, of: 'arn:ci/a arn:ci/b' });
  });

  test.each([
    ['a running task', ci('a')],
    ['a pending task', ci('a', { runningTasksCount: 0, pendingTasksCount: 1 })],
    ['resources still held', ci('a', { runningTasksCount: 0, resourcesReleased: false })],
  ])('ends with %s', (_name, busy) => {
    const first = emptinessAfter(undefined, [empty('a')], NOW);
    expect(emptinessAfter(first, [busy], NOW + 5000)).toBeUndefined();
  });
});

describe('settled', () => {
  test('once the settle has passed since the emptiness started, and not before', () => {
    const emptiness = { since: NOW, of: 'arn:ci/a' };
    expect(settled(emptiness, 3000, NOW + 2999)).toBe(false);
    expect(settled(emptiness, 3000, NOW + 3000)).toBe(true);
    expect(settled(emptiness, 0, NOW)).toBe(true);
  });

  test('never without an emptiness', () => {
    expect(settled(undefined, 0, NOW)).toBe(false);
  });
});

describe('managedState', () => {
  test('keeps the group of a managed one', () => {
    expect(managedState({ instanceId: 'i-1', groupName: GROUP, lifecycleState: 'Terminating:Wait' }, CONFIG))
      .toEqual({ groupName: GROUP, lifecycleState: 'Terminating:Wait' });
  });

  test('drops the group of any other, and keeps the state', () => {
    expect(managedState({ instanceId: 'i-1', groupName: OTHER_GROUP, lifecycleState: 'Terminating:Wait' }, CONFIG))
      .toEqual({ groupName: undefined, lifecycleState: 'Terminating:Wait' });
  });

  test('says nothing of an instance Auto Scaling does not know', () => {
    expect(managedState(undefined, CONFIG)).toEqual({ groupName: undefined, lifecycleState: undefined });
  });
});

describe('stopsTasks', () => {
  test.each([
    ['a drain past its stop time', plan({ stopTasks: ['arn:ci/a'] }), true],
    ['nothing to stop', plan(), false],
    ['while its registrations are being looked up', plan({ stopTasks: ['arn:ci/a'], needs: { tasksOf: [], registrations: true } }), false],
    ['a drain that ends now', plan({ outcome: 'drained', stopTasks: ['arn:ci/a'] }), false],
  ])('%s: %s', (_name, p, expected) => {
    expect(stopsTasks(p)).toBe(expected);
  });

  test('refinePlan stops the tasks of a registration once per run', () => {
    const p = plan({ stopTasks: ['arn:ci/a', 'arn:ci/b'] });
    expect(refinePlan(p, view(ci('a', { record: RECORD }), ci('b', { record: RECORD })), alsoTried(NOTHING_TRIED, { stopped: ['arn:ci/a'] })).stopTasks)
      .toEqual(['arn:ci/b']);
  });
});

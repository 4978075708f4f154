/**
 * lambda/decide/urgency.ts: how the reconcile pass ranks an instance's work.
 */
import { ci, plan, waiting } from './builders';
import { planTermination, Urgency, urgencyOf } from '../../../lambda/decide';
import { CONFIG, NOW } from '../fixtures';

const MINUTE = 60_000;
const ROTATION = Math.floor(NOW / MINUTE);


const recordOf = (startedAgo: number, hookClockFrom?: number) => ({
  startedAt: NOW - startedAgo,
  deadline: NOW - startedAgo + CONFIG.drainTimeoutSeconds * 1000,
  ...hookClockFrom === undefined ? {} : { hookClockFrom },
});

describe('urgencyOf', () => {
  test('orders the classes most urgent first', () => {
    expect([Urgency.Overdue, Urgency.Heartbeat, Urgency.Empty, Urgency.Start]).toEqual([0, 1, 2, 3]);
  });

  test('needs nothing for an instance left alone', () => {
    expect(urgencyOf(waiting(ci('a')), plan({ outcome: 'left-alone' }), NOW, ROTATION)).toBeUndefined();
  });

  test('ranks a reactivation with the heartbeats, before any of them', () => {
    expect(urgencyOf(waiting(ci('a', { parkedAt: NOW })), plan({ outcome: 'reactivated', reactivate: ['arn:ci/a'] }), NOW, ROTATION))
      .toEqual({ urgency: Urgency.Heartbeat, order: 0 });
  });

  test('puts a recorded drain past its deadline first, by its deadline', () => {
    const record = recordOf(CONFIG.drainTimeoutSeconds * 1000 + MINUTE);
    const view = waiting(ci('a', { record }));
    expect(urgencyOf(view, planTermination(view, NOW, CONFIG), NOW, ROTATION)).toEqual({ urgency: Urgency.Overdue, order: record.deadline });
  });

  test('counts a deadline reached at this very moment as passed', () => {
    expect(urgencyOf(waiting(ci('a', { record: recordOf(0) })), plan({ deadline: NOW, heartbeat: true }), NOW, ROTATION)?.urgency).toBe(Urgency.Overdue);
  });

  test('does not treat a deadline as overdue when no registration carries a record', () => {
    expect(urgencyOf(waiting(ci('a')), plan({ deadline: NOW - 1, setDraining: ['arn:ci/a'] }), NOW, ROTATION)?.urgency).toBe(Urgency.Start);
  });

  test('ranks a heartbeat due on a recorded drain by the latest known start of its hook clock', () => {
    const view = waiting(ci('a', { record: recordOf(MINUTE, NOW - 30 * MINUTE) }), ci('b', { record: recordOf(MINUTE, NOW - 20 * MINUTE) }));
    expect(urgencyOf(view, plan({ heartbeat: true, deadline: NOW + MINUTE }), NOW, ROTATION))
      .toEqual({ urgency: Urgency.Heartbeat, order: NOW - 20 * MINUTE });
  });

  test('gives a heartbeat with no known hook clock the first place among heartbeats', () => {
    const view = waiting(ci('a', { record: recordOf(MINUTE) }));
    expect(urgencyOf(view, plan({ heartbeat: true, deadline: NOW + MINUTE }), NOW, ROTATION)).toEqual({ urgency: Urgency.Heartbeat, order: 0 });
  });

  test('ranks a drain empty by its counts by when it started, or now when it has no start', () => {
    const view = waiting(ci('a', { runningTasksCount: 0 }));
    expect(urgencyOf(view, plan({ drainStartedAt: NOW - MINUTE }), NOW, ROTATION)).toEqual({ urgency: Urgency.Empty, order: NOW - MINUTE });
    expect(urgencyOf(view, plan(), NOW, ROTATION)).toEqual({ urgency: Urgency.Empty, order: NOW });
  });

  test('is not empty while a task still holds resources', () => {
    const view = waiting(ci('a', { runningTasksCount: 0, resourcesReleased: false, record: recordOf(MINUTE) }));
    expect(urgencyOf(view, plan(), NOW, ROTATION)).toBeUndefined();
  });

  test.each([
    ['nothing known of its registrations', waiting(), plan({ needs: { tasksOf: [], registrations: true } })],
    ['registrations to set DRAINING', waiting(ci('a', { status: 'ACTIVE' })), plan({ setDraining: ['arn:ci/a'] })],
    ['a record to write', waiting(ci('a')), plan({ record: { value: recordOf(0), on: ['arn:ci/a'] } })],
  ])('ranks a drain to start (%s) in a rotating order', (_name, view, p) => {
    const rank = urgencyOf(view, p, NOW, ROTATION);
    expect(rank?.urgency).toBe(Urgency.Start);
    expect(urgencyOf(view, p, NOW + 1, ROTATION)).toEqual(rank);
    expect(urgencyOf(view, p, NOW, ROTATION + 1)?.order).not.toBe(rank?.order);
    expect(urgencyOf({ ...view, instanceId: 'i-0fedcba9876543210' }, p, NOW, ROTATION)?.order).not.toBe(rank?.order);
  });

  test('needs nothing for a recorded drain that still runs tasks with nothing due', () => {
    const view = waiting(ci('a', { record: recordOf(MINUTE, NOW) }));
    const p = planTermination(view, NOW, CONFIG);
    expect(p.outcome).toBe('draining');
    expect(urgencyOf(view, p, NOW, ROTATION)).toBeUndefined();
  });
});

/**
 * Why a drain waits: each cause from what ECS reports, which ones need an operator, and when a
 * drain is diagnosed at all.
 */
import { ci } from './builders';
import {
  blocked, causesMask, causesOf, diagnoseWait, diagnosisDue, maskBlocked, ServiceView, TaskView, WAIT_CAUSES, waitingTransition, waitSummary,
} from '../../../lambda/decide';

const STARTED = Date.parse('2026-11-28T10:00:00Z');

function task(group: string, lastStatus = 'RUNNING', desiredStatus = 'RUNNING'): TaskView {
  return { taskArn: `arn:task/${group}/${lastStatus}/${Math.random()}`, lastStatus, desiredStatus, group };
}

function services(...list: ServiceView[]): Map<string, ServiceView> {
  return new Map(list.map(s => [s.name, s]));
}

describe('diagnoseWait', () => {
  test('a standalone task blocks the drain: draining never stops it', () => {
    const reasons = diagnoseWait([ci('a', { tasksNotStopped: [task('family:nightly-report')] })], new Map(), STARTED);
    expect(reasons).toEqual([expect.objectContaining({ cause: 'standalone-task', resolvesItself: false, tasks: 1, groups: ['family:nightly-report'] })]);
    expect(reasons[0].text).toMatch(/draining does not stop them/);
    expect(blocked(reasons)).toBe(true);
  });

  test('a service task whose replacement ECS reported it could not place since the drain started blocks it, with ECS\'s message', () => {
    const message = '(service web) was unable to place a task because no container instance met all of its requirements.';
    const reasons = diagnoseWait(
      [ci('a', { tasksNotStopped: [task('service:web'), task('service:web')] })],
      services({ name: 'web', schedulingStrategy: 'REPLICA', placementFailure: { at: STARTED + 30_000, message } }),
      STARTED,
    );
    expect(reasons).toEqual([expect.objectContaining({ cause: 'replacement-unplaceable', resolvesItself: false, tasks: 2, groups: ['service:web'] })]);
    expect(reasons[0].text).toContain(message);
  });

  test('a placement failure older than the drain describes another shortage: the task is being replaced', () => {
    const reasons = diagnoseWait(
      [ci('a', { tasksNotStopped: [task('service:web')] })],
      services({ name: 'web', schedulingStrategy: 'REPLICA', placementFailure: { at: STARTED - 3_600_000, message: 'was unable to place a task' } }),
      STARTED,
    );
    expect(reasons.map(r => r.cause)).toEqual(['service-replacing']);
    expect(blocked(reasons)).toBe(false);
  });

  test('daemon tasks wait for the others, DEACTIVATING tasks for the load balancer, stopping tasks for their stop timeout: none blocks', () => {
    const reasons = diagnoseWait([ci('a', {
      tasksNotStopped: [task('service:agent'), task('service:web', 'DEACTIVATING', 'STOPPED'), task('service:web', 'STOPPING', 'STOPPED')],
    })], services({ name: 'agent', schedulingStrategy: 'DAEMON' }), STARTED);
    expect(reasons.map(r => [r.cause, r.resolvesItself])).toEqual([['load-balancer-delay', true], ['daemon-last', true], ['tasks-stopping', true]]);
    expect(waitSummary(reasons)).toMatch(/^waiting: 1 task\(s\) \(service:web\) in a load balancer's deregistration delay/);
  });

  test('a disconnected agent blocks the drain, whatever its tasks, and the most urgent cause comes first', () => {
    const reasons = diagnoseWait([
      ci('a', { agentConnected: false, runningTasksCount: 3, tasksNotStopped: [task('service:web')] }),
      ci('b', { tasksNotStopped: [task('family:batch')] }),
    ], new Map(), STARTED);
    expect(reasons.map(r => [r.cause, r.tasks])).toEqual([['agent-disconnected', 3], ['standalone-task', 1]]);
    expect(reasons[0].text).toContain('arn:ci/a');
  });

  test('nothing left: no reason', () => {
    expect(diagnoseWait([ci('a', { tasksNotStopped: [] })], new Map(), STARTED)).toEqual([]);
  });
});

describe('the causes a record keeps', () => {
  test('round-trip through a mask, and only agent, standalone and placement causes block', () => {
    for (const cause of WAIT_CAUSES) expect(causesOf(causesMask([cause]))).toEqual([cause]);
    expect(causesOf(causesMask(['tasks-stopping', 'standalone-task']))).toEqual(['standalone-task', 'tasks-stopping']);
    expect(WAIT_CAUSES.filter(cause => maskBlocked(causesMask([cause])))).toEqual(['agent-disconnected', 'standalone-task', 'replacement-unplaceable']);
    expect(maskBlocked(undefined)).toBe(false);
  });

  test('a Waiting event is announced only when the causes changed and the record took them', () => {
    expect(waitingTransition({ recordedWaits: undefined, waits: 2, written: true })).toBe('waiting');
    expect(waitingTransition({ recordedWaits: 2, waits: 2, written: true })).toBeUndefined();
    expect(waitingTransition({ recordedWaits: 2, waits: 6, written: false })).toBeUndefined();
  });
});

describe('diagnosisDue', () => {
  const after = 600_000;
  test('not before the drain has waited that long, then once per that long', () => {
    expect(diagnosisDue(STARTED, undefined, STARTED + after - 1, after)).toBe(false);
    expect(diagnosisDue(STARTED, undefined, STARTED + after, after)).toBe(true);
    expect(diagnosisDue(STARTED, STARTED + after, STARTED + 2 * after - 1, after)).toBe(false);
    expect(diagnosisDue(STARTED, STARTED + after, STARTED + 2 * after, after)).toBe(true);
  });
});

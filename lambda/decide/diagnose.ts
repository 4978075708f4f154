/**
 * Why a drain still waits, in words an operator can act on: a pure function of the tasks left on
 * the instance's registrations and of their services, as ECS reports them. The reconcile pass
 * reads them for drains that have waited longer than a drain normally takes (see diagnosisDue),
 * publishes an "ECS Drain Waiting" event when the causes change, and counts the drains blocked by
 * a cause that will not resolve itself (DrainsBlocked).
 */
import type { ContainerInstanceView, ServiceView, TaskView } from '../model';

export type { ServiceView } from '../model';

/** What a drain can be waiting for. */
export type WaitCause =
  /**
   * The ECS agent of a registration is disconnected (ContainerInstance.agentConnected false, ECS
   * API reference): ECS cannot tell it to stop its tasks, nor learn that they stopped, until it
   * reconnects ("Container instance draining" works through the agent).
   */
  | 'agent-disconnected'
  /**
   * Tasks started on their own (RunTask or StartTask: their group is `family:NAME`, ECS API
   * reference, Task.group). DRAINING does not stop them: ECS developer guide, "Draining Amazon
   * ECS container instances", standalone tasks are not affected.
   */
  | 'standalone-task'
  /**
   * A service's task whose replacement ECS cannot place: the service's events report it ("If
   * there isn't enough container instance capacity, a service event message will be sent",
   * ECS developer guide, "Draining Amazon ECS container instances"; the message is listed in
   * "Amazon ECS service event messages"). Within minimumHealthyPercent the scheduler does not stop
   * the old task until a new one runs, so the drain waits for capacity.
   */
  | 'replacement-unplaceable'
  /**
   * Tasks told to stop that are DEACTIVATING: a load balancer's deregistration delay (ECS
   * developer guide, "Amazon ECS task lifecycle"). Ends by itself after the target group's delay.
   */
  | 'load-balancer-delay'
  /**
   * A daemon service's task: daemon tasks stop only after every other task of the instance
   * (ECS developer guide, "Daemon" scheduling strategy and container instance draining).
   */
  | 'daemon-last'
  /** A service's task the scheduler has yet to replace, within the service's deployment configuration. */
  | 'service-replacing'
  /** Tasks told to stop that are stopping (their stop timeout, then STOPPED). */
  | 'tasks-stopping';

/** The causes in the order they are reported, and their bit in a drain record (decide/, DrainRecordValue.waits). */
export const WAIT_CAUSES: readonly WaitCause[] = [
  'agent-disconnected', 'standalone-task', 'replacement-unplaceable', 'load-balancer-delay', 'daemon-last', 'service-replacing', 'tasks-stopping',
];

/** Causes that will not resolve themselves: an operator must act (or the deadline forces). */
const BLOCKING = new Set<WaitCause>(['agent-disconnected', 'standalone-task', 'replacement-unplaceable']);

/** One cause a drain waits for, with the tasks it holds. */
export interface WaitReason {
  readonly cause: WaitCause;
  /** Whether it ends without an operator (false: it holds the drain until someone acts, or until the deadline forces). */
  readonly resolvesItself: boolean;
  /** How many of the instance's tasks it holds (for an agent disconnected: what ECS still counts on it). */
  readonly tasks: number;
  /** The services (`service:NAME`) or task families (`family:NAME`) concerned. */
  readonly groups: readonly string[];
  /** What to do or what to expect, in one sentence. */
  readonly text: string;
}

/**
 * A placement failure counts for a drain only when ECS reported it after the drain started (less
 * this slack, for clocks that differ by a little): an older one describes another shortage.
 */
const PLACEMENT_FAILURE_SLACK_MS = 60_000;

/** The service of a task, from its group (`service:NAME`), if it is a service's task. */
export function serviceOf(task: Pick<TaskView, 'group'>): string | undefined {
  return task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined;
}

/**
 * Why a drain that started at `drainStartedAt` waits, from its registrations (with every task not
 * STOPPED read into tasksNotStopped) and their services (by name; a service missing from the map
 * counts as one being replaced). Most urgent cause first; empty when nothing holds it.
 */
export function diagnoseWait(
  registrations: readonly ContainerInstanceView[], services: ReadonlyMap<string, ServiceView>, drainStartedAt: number,
): WaitReason[] {
  const held = new Map<WaitCause, { tasks: number; groups: Set<string>; messages: Set<string> }>();
  const add = (cause: WaitCause, count: number, group?: string, message?: string) => {
    const entry = held.get(cause) ?? { tasks: 0, groups: new Set<string>(), messages: new Set<string>() };
    entry.tasks += count;
    if (group !== undefined) entry.groups.add(group);
    if (message !== undefined) entry.messages.add(message);
    held.set(cause, entry);
  };
  for (const ci of registrations) {
    if (ci.status === 'INACTIVE') continue;
    if (ci.agentConnected === false) {
      add('agent-disconnected', ci.runningTasksCount + ci.pendingTasksCount, undefined, ci.containerInstanceArn);
      continue;
    }
    for (const task of ci.tasksNotStopped ?? []) add(...causeOf(task, services, drainStartedAt));
  }
  return WAIT_CAUSES.filter(cause => held.has(cause)).map(cause => {
    const { tasks, groups, messages } = held.get(cause)!;
    const sorted = [...groups].sort();
    return { cause, resolvesItself: !BLOCKING.has(cause), tasks, groups: sorted, text: describe(cause, tasks, sorted, [...messages]) };
  });
}

function causeOf(task: TaskView, services: ReadonlyMap<string, ServiceView>, drainStartedAt: number): [WaitCause, number, string?, string?] {
  const group = task.group;
  if (task.desiredStatus === 'STOPPED') return [task.lastStatus === 'DEACTIVATING' ? 'load-balancer-delay' : 'tasks-stopping', 1, group];
  const serviceName = serviceOf(task);
  if (serviceName === undefined) return ['standalone-task', 1, group];
  const service = services.get(serviceName);
  if (service?.schedulingStrategy === 'DAEMON') return ['daemon-last', 1, group];
  const failure = service?.placementFailure;
  if (failure !== undefined && failure.at >= drainStartedAt - PLACEMENT_FAILURE_SLACK_MS) return ['replacement-unplaceable', 1, group, failure.message];
  return ['service-replacing', 1, group];
}

function describe(cause: WaitCause, tasks: number, groups: readonly string[], messages: readonly string[]): string {
  const of = groups.length > 0 ? ` (${groups.join(', ')})` : '';
  switch (cause) {
    case 'agent-disconnected':
      return `the ECS agent is disconnected on ${messages.join(', ')}: ECS cannot stop its ${tasks} task(s) until it reconnects; check the agent or wait for the deadline`;
    case 'standalone-task':
      return `${tasks} standalone task(s)${of}: draining does not stop them; stop them, let them end, or set stopTasksBeforeDeadline`;
    case 'replacement-unplaceable':
      return `${tasks} service task(s)${of} wait for replacements ECS cannot place: add capacity or lower the service's minimumHealthyPercent (ECS: ${messages[0]})`;
    case 'load-balancer-delay':
      return `${tasks} task(s)${of} in a load balancer's deregistration delay (DEACTIVATING): they stop when the target group's delay ends`;
    case 'daemon-last':
      return `${tasks} daemon task(s)${of}: they stop after the other tasks`;
    case 'service-replacing':
      return `${tasks} service task(s)${of} being replaced by the service scheduler`;
    case 'tasks-stopping':
      return `${tasks} task(s)${of} stopping`;
  }
}

/** Whether any reason needs an operator. */
export function blocked(reasons: readonly WaitReason[]): boolean {
  return reasons.some(r => !r.resolvesItself);
}

/** The causes as the bits a drain record keeps (DrainRecordValue.waits): 0 for none. */
export function causesMask(causes: readonly WaitCause[]): number {
  return [...new Set(causes)].reduce((mask, cause) => mask + 2 ** WAIT_CAUSES.indexOf(cause), 0);
}

/** The causes of a mask a drain record kept. */
export function causesOf(mask: number): WaitCause[] {
  return WAIT_CAUSES.filter((_, bit) => Math.floor(mask / 2 ** bit) % 2 === 1);
}

/** Whether a mask holds a cause that will not resolve itself. */
export function maskBlocked(mask: number | undefined): boolean {
  return causesOf(mask ?? 0).some(cause => BLOCKING.has(cause));
}

/** The operator's one line: every reason, most urgent first. */
export function waitSummary(reasons: readonly WaitReason[]): string {
  return reasons.length === 0 ? 'waiting: nothing left but what ECS still counts' : `waiting: ${reasons.map(r => r.text).join('; ')}`;
}

/**
 * Whether a drain is diagnosed now: it has waited at least `afterMs` since it started (a drain of
 * services behind load balancers with ECS's default deregistration delay, 300 s, and stop timeout,
 * 30 s, normally ends within that: reading its tasks sooner would cost a few reads per drain per
 * pass for nothing), and it was not diagnosed less than `afterMs` ago by this environment.
 */
export function diagnosisDue(drainStartedAt: number, lastDiagnosedAt: number | undefined, now: number, afterMs: number): boolean {
  return now - drainStartedAt >= afterMs && (lastDiagnosedAt === undefined || now - lastDiagnosedAt >= afterMs);
}

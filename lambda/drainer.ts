/**
 * Carries out drains for a set of instances, whatever woke the controller up: reads what the
 * plans need (shared by the whole set), starts drains, keeps the hooks alive, and releases what
 * is drained. Every write is isolated per instance: one instance's refusal never holds back the
 * others. What to do is the plans' (decide/); this file only does it, step by step, and keeps
 * each instance's view and plan together (Works).
 */
import { ClusterApi, forEachLimited, ItemErrors, StoppingTasks } from './aws';
import type { ControllerConfig } from './config';
import {
  alsoTried, Emptiness, emptinessAfter, goesToRelease, InstancePlan, managedState, needsAnotherRound, NOTHING_TRIED, Outcome, Planner,
  planTermination, refinePlan, releases, sendsHeartbeat, settled, startTransition, stillWaits, stopsTasks, terminalTransition, Transition, Tried,
} from './decide';
import { DrainEventEntry, drainEvent } from './drain-events';
import { formatDrainRecord, formatParked, formatReactivated } from './drain-record';
import { describeError, isAbort, isGoneFailureReason, isItemSpecific, isThrottling } from './errors';
import { InstanceView } from './model';
import { LogFields, Telemetry } from './telemetry';
import { METRIC } from '../src/constants';

/** Where the stopping tasks of container instances come from: per instance, or one shared read. */
export type TaskReader = (containerInstanceArns: readonly string[]) => Promise<StoppingTasks>;

/** How the work on one instance ended in a run: its plan's outcome, or failed, or left for a later pass. */
export type WorkResult = Outcome | 'error' | 'deferred';

/** What one invocation did, per outcome (also returned by the handler, for tests and logs). */
export interface InvocationSummary {
  readonly trigger: string;
  readonly outcomes: Partial<Record<Outcome, number>>;
  readonly errors: number;
  /** Instances left for a later pass (out of time, or throttled). */
  readonly deferred: number;
}

export class Tally {
  errors = 0;
  deferred = 0;
  private readonly outcomes: Partial<Record<Outcome, number>> = {};
  constructor(private readonly trigger: string) {}
  count(outcome: Outcome): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
  }
  summary(): InvocationSummary {
    return { trigger: this.trigger, outcomes: { ...this.outcomes }, errors: this.errors, deferred: this.deferred };
  }
}

/** How a drainer treats errors. */
export interface ErrorPolicy {
  /**
   * Give up on throttling instead of failing: the instance is counted deferred and the reconcile
   * pass, which batches its calls, does the work within a minute.
   */
  readonly deferOnThrottling?: boolean;
  /** A call aborted because a bounded pass ran out of time: left for the next pass, not an error. */
  readonly deferOnAbort?: boolean;
  /** Waits (ms) before asking again a deregistration ECS refused without force. @default none */
  readonly retryRefusedDeregistrationMs?: readonly number[];
  /**
   * Waits (ms) before asking again a completion or heartbeat Auto Scaling refused with "No active
   * Lifecycle Action found" while a read says the instance still waits (decide/, stillWaits).
   * @default [2000]
   */
  readonly retryNoActiveActionMs?: readonly number[];
  /**
   * How long after the counts that let a drain look empty the tasks still stopping are listed
   * (ms). ECS reads are eventually consistent (ECS API reference, RunTask) and the counts and the
   * listing come from different calls: a listing that showed an earlier moment than the counts
   * could miss a task told to stop in between, which the counts no longer show either. Listed at
   * least this long after the counts were read, it shows a moment no earlier than theirs, as long
   * as no read is staler than this (AWS states no bound: this is the library's assumption).
   * @default READ_SETTLE_MS
   */
  readonly readSettleMs?: number;
}

/**
 * See ErrorPolicy.readSettleMs. "A few seconds" is what eventual consistency is usually taken to
 * mean; AWS states no bound for ECS. Each second more is a second more of every drain's end on the
 * event path: bench at n=100 with events, p99 reaction 6.1 s with 3 s, 8.0 s with 5 s (floor 5.0 s).
 */
export const READ_SETTLE_MS = 3000;

/** The work on one instance in a run. Never changed: Works replaces it. */
interface Work {
  /** The instance as this run last read it. */
  readonly view: InstanceView;
  /** The plan of `view`, less what this run tried already: always made afresh from both (Works). */
  readonly plan: InstancePlan;
  /** What this run tried already, so that a refusal is not asked again in the next round. */
  readonly tried: Tried;
  /** Set once the instance failed or was deferred in this run: it is reported as such and left. */
  readonly done?: 'error' | 'deferred';
  /** Set when a deregistration without force, or a completion, was refused: the instance is still draining. */
  readonly refused?: boolean;
  /** Since when its registrations are empty by their counts (decide/, emptinessAfter). */
  readonly empty?: Emptiness;
}

/**
 * The works of one run, by instance id. A work is replaced, never changed: a new view or a new
 * `tried` comes with the plan made from them, and the emptiness seen in that view, so that a plan
 * never rests on an earlier read than the view it is shown with. Runs may overlap (a reconcile
 * pass pipelines its batches through one Drainer); each has its own Works.
 */
class Works {
  private readonly byId = new Map<string, Work>();
  /** The drain events of this run, published when it ends. */
  readonly announced: DrainEventEntry[] = [];

  constructor(
    views: readonly InstanceView[],
    private readonly planOf: (view: InstanceView, tried: Tried) => InstancePlan,
    private readonly now: () => number,
  ) {
    for (const view of views) this.byId.set(view.instanceId, this.made(view, NOTHING_TRIED));
  }

  get(id: string): Work {
    return this.byId.get(id)!;
  }

  all(): Work[] {
    return [...this.byId.values()];
  }

  /** The ids of the works not failed or deferred that `select` takes. */
  ids(select: (work: Work) => boolean = () => true): string[] {
    return this.all().filter(w => !w.done && select(w)).map(w => w.view.instanceId);
  }

  /** A new view of the instance, with what changed in it since the last one. */
  update(id: string, change: Partial<InstanceView>): void {
    const work = this.get(id);
    this.byId.set(id, { ...work, ...this.made({ ...work.view, ...change }, work.tried, work.empty) });
  }

  /** More tried: the plan no longer asks it again. */
  tried(id: string, more: Parameters<typeof alsoTried>[1]): void {
    const work = this.get(id);
    this.byId.set(id, { ...work, ...this.made(work.view, alsoTried(work.tried, more), work.empty) });
  }

  /** Failed, deferred or refused: the work keeps its view and plan. */
  mark(id: string, change: Pick<Work, 'done'> | Pick<Work, 'refused'>): void {
    this.byId.set(id, { ...this.get(id), ...change });
  }

  private made(view: InstanceView, tried: Tried, empty?: Emptiness): Pick<Work, 'view' | 'plan' | 'tried' | 'empty'> {
    return { view, tried, plan: this.planOf(view, tried), empty: emptinessAfter(empty, view.containerInstances, this.now()) };
  }
}

/** Rounds of start → read → plan; a new registration found late needs a second one. */
const MAX_ROUNDS = 3;

export class Drainer {
  constructor(
    private readonly config: ControllerConfig,
    private readonly api: ClusterApi,
    private readonly telemetry: Telemetry,
    private readonly now: () => number,
    private readonly errors: ErrorPolicy = {},
  ) {}

  /**
   * Drains the instances of `views`: plans each, does what the plans ask, reports each instance
   * once. `readTasks` reads stopping tasks (a reconcile pass shares one cluster-wide read).
   */
  async run(
    views: readonly InstanceView[],
    tally: Tally,
    readTasks: TaskReader = arns => this.api.tasksNotStopped(arns),
    planner: Planner = planTermination,
  ): Promise<Map<string, WorkResult>> {
    const works = new Works(views, (view, tried) => refinePlan(planner(view, this.now(), this.config), view, tried), this.now);
    for (let round = 0; round < MAX_ROUNDS && works.ids(w => needsAnotherRound(w.plan)).length > 0; round++) {
      await this.step(works, w => w.plan.needs.registrations, 'read registrations', ids => this.readRegistrations(works, ids));
      await this.step(works, w => w.plan.setDraining.length > 0, 'set DRAINING', ids => this.setDraining(works, ids));
      await this.step(works, w => w.plan.record !== undefined, 'record the drain', ids => this.record(works, ids));
      await this.step(works, w => w.plan.needs.tasksOf.length > 0, 'read tasks', ids => this.readTasks(works, ids, readTasks));
    }
    await this.step(works, w => sendsHeartbeat(w.plan), 'send heartbeats', ids => this.heartbeat(works, ids));
    await this.step(works, w => stopsTasks(w.plan), 'stop tasks', ids => this.stopTasks(works, ids));
    // A state taken from an event is read again before anything is deregistered or parked.
    await this.step(works, w => !w.view.stateRead && releases(w.plan), 'read lifecycle states', ids => this.readStates(works, ids));
    await this.step(works, w => goesToRelease(w.plan), 'release', ids => this.finish(works, ids));

    for (const work of works.all()) this.report(work, tally);
    await publishDrainEvents(this.api, this.telemetry, works.announced);
    return new Map(works.all().map(w => [w.view.instanceId, w.done ?? (w.refused ? 'draining' : w.plan.outcome)]));
  }

  // ---- steps ----------------------------------------------------------------------------------

  /** Runs a step shared by the instances `select` takes; its failure fails (or defers) those instances only. */
  private async step(works: Works, select: (work: Work) => boolean, what: string, fn: (ids: string[]) => Promise<void>): Promise<void> {
    const ids = works.ids(select);
    if (ids.length === 0) return;
    try {
      await fn(ids);
    } catch (error) {
      for (const id of ids) this.fail(works, id, error, what);
    }
  }

  private async readRegistrations(works: Works, ids: readonly string[]): Promise<void> {
    const found = await this.api.registrationsOf(ids);
    for (const id of ids) {
      // Tasks read earlier in this run stay read (a registration is never placed on again while DRAINING).
      const earlier = new Map(works.get(id).view.containerInstances.map(ci => [ci.containerInstanceArn, ci.tasksNotStopped]));
      const fresh = (found.get(id) ?? []).map(ci => {
        const tasks = earlier.get(ci.containerInstanceArn);
        return tasks !== undefined && ci.status === 'DRAINING' ? { ...ci, tasksNotStopped: tasks } : ci;
      });
      works.update(id, { containerInstances: fresh, registrationsComplete: true });
    }
  }

  private async setDraining(works: Works, ids: readonly string[]): Promise<void> {
    const asked = new Map(ids.map(id => [id, works.get(id).plan.setDraining]));
    const arns = [...asked.values()].flat();
    for (const id of ids) works.tried(id, { draining: asked.get(id) });
    const { containerInstances, failures, errors } = await this.api.setStatus(arns, 'DRAINING');
    for (const failure of failures) {
      this.telemetry.log('warn', 'ECS did not set the container instance to DRAINING', {
        containerInstanceArn: failure.arn, reason: failure.reason, detail: failure.detail,
      });
    }
    // Only a registration that left the cluster is gone; one refused for any other reason is read
    // again, so that one still running tasks keeps the instance waiting.
    const gone = new Set(failures.filter(f => isGoneFailureReason(f.reason)).map(f => f.arn));
    const reread = failures.filter(f => !gone.has(f.arn)).map(f => f.arn).filter((arn): arn is string => arn !== undefined && arns.includes(arn));
    const fresh = [...containerInstances, ...reread.length > 0 ? await this.api.describeContainerInstances(reread) : []];
    for (const id of ids) {
      const error = firstError(errors, asked.get(id)!);
      if (error !== undefined) {
        this.fail(works, id, error, 'set DRAINING');
        continue;
      }
      works.update(id, {
        containerInstances: works.get(id).view.containerInstances
          .filter(ci => !gone.has(ci.containerInstanceArn))
          .map(ci => fresh.find(f => f.containerInstanceArn === ci.containerInstanceArn) ?? ci)
          .filter(ci => ci.status !== 'INACTIVE'),
      });
    }
  }

  /**
   * Writes the drain records. An instance whose record cannot be written (its registration has
   * the 10 custom attributes ECS allows already) is still drained and released as soon as it is
   * empty, but it has no deadline the controller can enforce and gets no heartbeat: the hook's
   * own timeout ends it (README, "Operating it").
   */
  private async record(works: Works, ids: readonly string[]): Promise<void> {
    const asked = new Map(ids.map(id => [id, works.get(id).plan.record!]));
    const values = [...asked.values()].flatMap(({ value, on }) => on.map(arn => ({ containerInstanceArn: arn, value: formatDrainRecord(value) })));
    for (const id of ids) works.tried(id, { record: asked.get(id)!.on });
    const errors = await this.api.putDrainAttributes(values);
    for (const id of ids) {
      const { value, on } = asked.get(id)!;
      const failed = on.filter(arn => errors.has(arn));
      const passing = failed.map(arn => errors.get(arn)).find(error => !isItemSpecific(error));
      if (passing !== undefined) {
        // Throttled or failed on ECS's side: not a record that cannot be written; tried again later.
        this.fail(works, id, passing, 'record the drain');
        continue;
      }
      const { view, tried } = works.get(id);
      const firstDrain = !view.containerInstances.some(ci => ci.record !== undefined);
      works.update(id, {
        containerInstances: view.containerInstances.map(ci => (on.includes(ci.containerInstanceArn) && !failed.includes(ci.containerInstanceArn)
          ? { ...ci, record: value } : ci)),
      });
      this.announce(works, id, startTransition({
        recordedBefore: !firstDrain, failed: failed.length > 0, setDrainingInThisRun: on.some(arn => tried.draining.has(arn)),
      }));
      const fields = fieldsOf(view);
      if (failed.length > 0) {
        this.telemetry.log('warn', 'could not record the drain: it is released when empty, and bounded by the hook\'s timeout', {
          ...fields, containerInstanceArns: failed, error: describeError(errors.get(failed[0])),
        });
        this.telemetry.metric(METRIC.DRAINS_WITHOUT_RECORD, 1, fields);
      } else if (firstDrain) {
        this.telemetry.metric(METRIC.DRAINS_STARTED, 1, fields);
        this.telemetry.log('info', 'drain started', { ...fields, containerInstanceArns: on, deadline: new Date(value.deadline).toISOString() });
      }
    }
  }

  /** Heartbeats, then the records updated with the heartbeat's time (one batched write). */
  private async heartbeat(works: Works, ids: readonly string[]): Promise<void> {
    const sent = new Map<string, number>();
    for (const id of ids) works.tried(id, { heartbeat: true });
    await forEachLimited(ids, id => this.safely(works, id, 'send a heartbeat', async () => {
      const sentAt = this.now();
      const { view } = works.get(id);
      const answer = await this.whileWaiting(view, () => this.api.recordHeartbeat(view.groupName!, this.config.lifecycleHookName, view.instanceId));
      this.telemetry.log('info', 'lifecycle heartbeat sent', { ...fieldsOf(view), answer });
      if (answer === 'recorded') sent.set(id, sentAt);
    }));
    const values = [...sent].flatMap(([id, sentAt]) => works.get(id).view.containerInstances
      .filter(ci => ci.record !== undefined)
      .map(ci => ({ containerInstanceArn: ci.containerInstanceArn, value: formatDrainRecord({ ...ci.record!, hookClockFrom: sentAt }) })));
    const errors: ItemErrors = values.length > 0 ? await this.api.putDrainAttributes(values) : new Map();
    for (const [id, sentAt] of sent) {
      works.update(id, {
        containerInstances: works.get(id).view.containerInstances.map(ci => (ci.record && !errors.has(ci.containerInstanceArn)
          ? { ...ci, record: { ...ci.record, hookClockFrom: sentAt } } : ci)),
        hookClockFrom: sentAt,
      });
    }
  }

  /**
   * The drain's stop time passed (stopTasksBeforeDeadline): every task still meant to run on its
   * registrations is stopped, with a reason naming the drain. A task told to stop is no longer
   * listed (its desired status is STOPPED), so a later run stops only what is left.
   */
  private async stopTasks(works: Works, ids: readonly string[]): Promise<void> {
    await forEachLimited(ids, id => this.safely(works, id, 'stop tasks', async () => {
      const { view, plan } = works.get(id);
      works.tried(id, { stopped: plan.stopTasks });
      const deadline = plan.deadline === undefined ? 'its deadline' : new Date(plan.deadline).toISOString();
      const reason = `cdk-ecs-drain-hook: drain of ${view.instanceId} (group ${view.groupName}) stops what still runs before its deadline ${deadline}`;
      const tasks = (await Promise.all(plan.stopTasks.map(arn => this.api.tasksMeantToRun(arn)))).flat();
      await forEachLimited(tasks, taskArn => this.api.stopTask(taskArn, reason));
      this.telemetry.log('warn', 'stopped the tasks still running before the drain\'s deadline', { ...fieldsOf(view), tasks: tasks.length, deadline });
    }));
  }

  private async readTasks(works: Works, ids: readonly string[], readTasks: TaskReader): Promise<void> {
    const settleMs = this.errors.readSettleMs ?? READ_SETTLE_MS;
    const settledAt = Math.max(...ids.map(id => works.get(id).empty?.since ?? this.now())) + settleMs;
    if (settledAt > this.now()) await this.api.pause(settledAt - this.now());
    if (settleMs > 0) {
      // The lookup by instance id that let these drains look empty may be as stale as their counts:
      // a registration made since (an agent that registered again) would be missed, and the
      // instance released with its tasks. Looked up again after the settle; a registration set
      // that changed starts its settle again (emptinessAfter) and is listed in a later round.
      await this.readRegistrations(works, ids);
    }
    const ready = ids.filter(id => {
      const work = works.get(id);
      return !work.done && work.plan.needs.tasksOf.length > 0 && settled(work.empty, settleMs, this.now());
    });
    if (ready.length === 0) return;
    const wanted = new Map(ready.map(id => [id, works.get(id).plan.needs.tasksOf]));
    const tasks = await readTasks([...wanted.values()].flat());
    for (const id of ready) {
      works.update(id, {
        containerInstances: works.get(id).view.containerInstances.map(ci => (wanted.get(id)!.includes(ci.containerInstanceArn)
          ? { ...ci, tasksNotStopped: tasks.get(ci.containerInstanceArn) ?? [] } : ci)),
      });
    }
  }

  private async readStates(works: Works, ids: readonly string[]): Promise<void> {
    const states = await this.api.autoScalingInstances(ids);
    for (const id of ids) works.update(id, { ...managedState(states.get(id), this.config), stateRead: true });
  }

  /** Deregistration (or parking, or reactivation) and completion, as each plan says. */
  private async finish(works: Works, ids: readonly string[]): Promise<void> {
    await this.reactivate(works, ids.filter(id => works.get(id).plan.reactivate.length > 0));
    // One instance after the other on each of a few lanes: deregister (or park), then complete
    // at once, so that completions (Auto Scaling's lifecycle bucket, the scarce one in a large
    // scale-in) flow while other instances are still being deregistered.
    await forEachLimited(ids.filter(id => !works.get(id).done), id => this.safely(works, id, 'release', async () => {
      const { view, plan } = works.get(id);
      const fields = fieldsOf(view);
      for (const { containerInstanceArn, force } of plan.deregister) {
        const answer = await this.deregister(containerInstanceArn, force);
        if (answer === 'refused') {
          // ECS still counts a task (it may lag behind a task that just stopped): not drained
          // yet. Never forced before the deadline; the next event or pass looks again.
          works.mark(id, { refused: true });
          this.telemetry.log('info', 'ECS refused the deregistration: it still counts a task; looking again later', { ...fields, containerInstanceArn });
          return;
        }
        this.telemetry.log(force ? 'warn' : 'info', force ? 'container instance deregistered with force' : 'container instance deregistered', {
          ...fields, containerInstanceArn, answer,
        });
      }
      if (plan.park.length > 0) {
        // The parked marker replaces the drain record; an instance whose marker cannot be
        // written keeps waiting (a stale record would start its next drain late).
        const errors = await this.api.putDrainAttributes(plan.park.map(arn => ({ containerInstanceArn: arn, value: formatParked(this.now()) })));
        const error = firstError(errors, plan.park);
        if (error !== undefined) {
          this.fail(works, id, error, 'park the registration');
          return;
        }
      }
      if (!plan.completeLifecycleAction || works.get(id).done) return;
      const hook = this.config.lifecycleHookName;
      const answer = await this.whileWaiting(view, () => this.api.completeLifecycleAction(view.groupName!, hook, view.instanceId));
      if (answer === 'refused-while-waiting') {
        works.mark(id, { refused: true });
        this.telemetry.log('warn', 'Auto Scaling still finds no active lifecycle action although the instance waits; the next pass asks again', {
          ...fields, outcome: plan.outcome,
        });
        return;
      }
      this.announce(works, id, terminalTransition(plan, answer));
      this.telemetry.log('info', answer === 'completed' ? 'lifecycle action completed' : 'lifecycle action was already over', { ...fields, outcome: plan.outcome });
    }));
  }

  /**
   * A completion or heartbeat Auto Scaling refuses with "No active Lifecycle Action found" is
   * asked again after a short wait while a read says the instance still waits in this hook
   * (decide/, stillWaits). It is over ('no-active-action') only when the read agrees; refused
   * after every wait while the read still says it waits, it is 'refused-while-waiting' (the next
   * pass asks again).
   */
  private async whileWaiting<T extends string>(
    view: InstanceView, call: () => Promise<T | 'no-active-action'>,
  ): Promise<T | 'no-active-action' | 'refused-while-waiting'> {
    let answer = await call();
    for (const waitMs of [...this.errors.retryNoActiveActionMs ?? [2000], undefined]) {
      if (answer !== 'no-active-action') return answer;
      const state = (await this.api.autoScalingInstances([view.instanceId])).get(view.instanceId);
      if (!stillWaits(managedState(state, this.config))) return answer;
      if (waitMs === undefined) return 'refused-while-waiting';
      this.telemetry.log('info', 'Auto Scaling found no active lifecycle action but says the instance waits: asking again', fieldsOf(view));
      await this.api.pause(waitMs);
      answer = await call();
    }
    return answer;
  }

  /**
   * Deregisters; a refusal without force is asked again after short waits when the policy allows
   * (an event-driven invocation catching a drain that has just finished: ECS may still count a
   * task that stopped a moment ago). Short waits only: no invocation sleeps through a drain (README, Design).
   */
  private async deregister(containerInstanceArn: string, force: boolean): Promise<'deregistered' | 'gone' | 'refused'> {
    let answer = await this.api.deregister(containerInstanceArn, force);
    for (const waitMs of force ? [] : this.errors.retryRefusedDeregistrationMs ?? []) {
      if (answer !== 'refused') break;
      await this.api.pause(waitMs);
      answer = await this.api.deregister(containerInstanceArn, force);
    }
    return answer;
  }

  /**
   * A parked registration back in service: ACTIVE again, and its parked marker replaced by a
   * reactivation marker (batched), which tells a late copy of the lifecycle event that sent the
   * instance to the pool from a new one (decide/, InstanceView.eventTime).
   */
  private async reactivate(works: Works, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const asked = new Map(ids.map(id => [id, works.get(id).plan.reactivate]));
    const arns = [...asked.values()].flat();
    const draining = new Set(ids.flatMap(id => works.get(id).view.containerInstances)
      .filter(ci => ci.status === 'DRAINING').map(ci => ci.containerInstanceArn));
    const toActivate = arns.filter(arn => draining.has(arn));
    const { errors } = toActivate.length > 0 ? await this.api.setStatus(toActivate, 'ACTIVE') : { errors: new Map<string, unknown>() };
    const marker = formatReactivated(this.now());
    const active = arns.filter(arn => !errors.has(arn));
    const markErrors = await this.api.putDrainAttributes(active.map(arn => ({ containerInstanceArn: arn, value: marker })));
    for (const id of ids) {
      const error = firstError(errors, asked.get(id)!) ?? firstError(markErrors, asked.get(id)!);
      if (error !== undefined) this.fail(works, id, error, 'set the registration ACTIVE again');
    }
  }

  // ---- bookkeeping ----------------------------------------------------------------------------

  /** Queues the drain event of `transition`, if any, as the instance's view and plan show it now. */
  private announce(works: Works, id: string, transition: Transition | undefined): void {
    if (transition === undefined) return;
    const { view, plan } = works.get(id);
    works.announced.push(drainEvent(transition, view, plan, this.config, this.now()));
  }

  private fail(works: Works, id: string, error: unknown, what: string): void {
    const work = works.get(id);
    if (work.done) return;
    const fields = fieldsOf(work.view);
    if (this.errors.deferOnThrottling && isThrottling(error)) {
      works.mark(id, { done: 'deferred' });
      this.telemetry.log('info', 'throttled: the reconcile pass takes this over within a minute', { ...fields, step: what, error: describeError(error) });
      return;
    }
    if (this.errors.deferOnAbort && isAbort(error)) {
      works.mark(id, { done: 'deferred' });
      this.telemetry.log('info', 'out of time: the next pass takes this over', { ...fields, step: what });
      return;
    }
    works.mark(id, { done: 'error' });
    this.telemetry.log('error', `could not ${what}`, { ...fields, error: describeError(error) });
    this.telemetry.metric(METRIC.ERRORS, 1, { instanceId: id });
  }

  private async safely(works: Works, id: string, what: string, fn: () => Promise<void>): Promise<void> {
    if (works.get(id).done) return;
    try {
      await fn();
    } catch (error) {
      this.fail(works, id, error, what);
    }
  }

  private report(work: Work, tally: Tally): void {
    if (work.done === 'error') {
      tally.errors++;
      return;
    }
    if (work.done === 'deferred') {
      tally.deferred++;
      return;
    }
    const plan = work.refused ? { ...work.plan, outcome: 'draining' as const, reason: 'ECS still counts a task on it' } : work.plan;
    tally.count(plan.outcome);
    const fields = { ...fieldsOf(work.view), outcome: plan.outcome };
    this.telemetry.log(plan.outcome === 'forced' ? 'warn' : 'info', plan.reason, fields);
    if (plan.outcome === 'drained' || plan.outcome === 'forced') {
      this.telemetry.metric(plan.outcome === 'drained' ? METRIC.DRAINS_COMPLETED : METRIC.DRAINS_FORCED, 1, fields);
      if (plan.drainStartedAt !== undefined) {
        this.telemetry.metric(METRIC.DRAIN_DURATION, Math.max(0, (this.now() - plan.drainStartedAt) / 1000), fields);
      }
    }
  }
}

function fieldsOf(view: InstanceView): LogFields {
  return { instanceId: view.instanceId, groupName: view.groupName };
}

function firstError(errors: ItemErrors, arns: readonly string[]): unknown {
  for (const arn of arns) if (errors.has(arn)) return errors.get(arn);
  return undefined;
}

/** Publishes drain events; what EventBridge did not take is counted and logged, and nothing else happens. */
export async function publishDrainEvents(api: ClusterApi, telemetry: Telemetry, entries: readonly DrainEventEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const notPublished = await api.putEvents(entries);
  if (notPublished.length === 0) return;
  telemetry.metric(METRIC.EVENTS_NOT_PUBLISHED, notPublished.length);
  for (const { entry, errorCode, errorMessage } of notPublished) {
    const { drainId, ec2InstanceId } = JSON.parse(entry.Detail) as { drainId: string; ec2InstanceId: string };
    telemetry.log('warn', 'could not publish a drain event', { instanceId: ec2InstanceId, drainId, detailType: entry.DetailType, errorCode, errorMessage });
  }
}

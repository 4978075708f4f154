/**
 * Carries out drains for a set of instances, whatever woke the controller up: reads what the
 * plans need (shared by the whole set), starts drains, keeps the hooks alive, and releases what
 * is drained. Every write is isolated per instance: one instance's refusal never holds back the
 * others (issue: one instance's failure aborts a whole batch).
 */
import { ClusterApi, forEachLimited, GroupInstance, ItemErrors, RegisteredInstance, StoppingTasks } from './aws';
import type { ControllerConfig } from './config';
import {
  alsoTried, goesToRelease, InstancePlan, InstanceView, mayBeDrained, needsAnotherRound, NOTHING_TRIED, Outcome, planTermination, refinePlan,
  releases, sendsHeartbeat, stillWaits, Tried,
} from './decide';

/** Plans one instance (planTermination, or planSpotInterruption for a Spot warning). */
export type Planner = typeof planTermination;
import { formatDrainRecord, formatParked, formatReactivated } from './drain-record';
import { describeError, isAbort, isGoneFailureReason, isItemSpecific, isThrottling } from './errors';
import { LogFields, Telemetry } from './telemetry';
import { METRIC } from '../src/constants';

/** An instance the controller may act on. */
export interface Candidate {
  readonly instanceId: string;
  /** The managed group it belongs to; undefined when it belongs to none of them. */
  readonly groupName?: string;
  readonly lifecycleState?: string;
  /**
   * Whether `lifecycleState` was read from Auto Scaling in this invocation. A state taken from an
   * event (possibly late or duplicated) is read again before anything is deregistered.
   */
  readonly stateRead: boolean;
  /** A moment at or before the start of the lifecycle action, when known (see decide/). */
  readonly hookClockFrom?: number;
  /** The lifecycle action event's time, when the candidate comes from one (see decide/, InstanceView.eventTime). */
  readonly eventTime?: number;
  /** Registrations read already; with `registrationsComplete`, all of them. */
  readonly registrations?: readonly RegisteredInstance[];
  readonly registrationsComplete?: boolean;
}

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

interface Work {
  readonly candidate: Candidate;
  readonly planner: Planner;
  /** The instance as this run last read it, and the plan made from it: replaced together, by `advance` only. */
  view: InstanceView;
  plan: InstancePlan;
  /** Set once the instance failed or was deferred in this run: it is reported as such and left. */
  done?: 'error' | 'deferred';
  /** Set when a non-force deregistration was refused: ECS still counts a task. */
  refused?: boolean;
  /** What this run tried already, so a refusal is not asked again in the next round (replaced, never changed). */
  tried: Tried;
  /**
   * Since when (at or after the read) this run has seen the counts of every registration at zero,
   * without a count seen non-zero since: see ErrorPolicy.readSettleMs. A task told to stop is never
   * told to run again and a DRAINING registration gets no new task, so counts that stay at zero
   * keep what the first such read showed. Undefined while a count is non-zero.
   */
  emptySince?: number;
  /** The registrations (ARNs, sorted) emptySince speaks for: a new one starts it again. */
  emptyOf?: string;
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
   * Drains `candidates`: plans each, does what the plans ask, reports each instance once.
   * `readTasks` reads stopping tasks (a reconcile pass shares one cluster-wide read).
   */
  async run(
    candidates: readonly Candidate[],
    tally: Tally,
    readTasks: TaskReader = arns => this.api.tasksNotStopped(arns),
    planner: Planner = planTermination,
  ): Promise<Map<string, WorkResult>> {
    const works: Work[] = candidates.map(candidate => {
      const view = instanceViewOf(candidate);
      const work: Work = {
        candidate,
        planner,
        view,
        plan: this.planOf(planner, view, NOTHING_TRIED),
        tried: NOTHING_TRIED,
      };
      this.countsRead(work);
      return work;
    });
    const live = () => works.filter(w => !w.done);

    for (let round = 0; round < MAX_ROUNDS && live().some(w => needsAnotherRound(w.plan)); round++) {
      await this.step(live().filter(w => w.plan.needs.registrations), 'read registrations', ws => this.readRegistrations(ws));
      await this.step(live().filter(w => w.plan.setDraining.length > 0), 'set DRAINING', ws => this.setDraining(ws));
      await this.step(live().filter(w => w.plan.record !== undefined), 'record the drain', ws => this.record(ws));
      await this.step(live().filter(w => w.plan.needs.tasksOf.length > 0), 'read tasks', ws => this.readTasks(ws, readTasks));
    }
    await this.step(live().filter(w => sendsHeartbeat(w.plan)), 'send heartbeats', ws => this.heartbeat(ws));
    // A state taken from an event is read again before anything is deregistered or parked.
    await this.step(live().filter(w => !w.candidate.stateRead && releases(w.plan)), 'read lifecycle states', ws => this.readStates(ws));
    await this.step(live().filter(w => goesToRelease(w.plan)), 'release', ws => this.finish(ws));

    for (const work of works) this.report(work, tally);
    return new Map(works.map(w => [w.view.instanceId, w.done ?? (w.refused ? 'draining' : w.plan.outcome)]));
  }

  // ---- steps ----------------------------------------------------------------------------------

  /** Runs a step shared by several instances; its failure fails (or defers) those instances only. */
  private async step(works: Work[], what: string, fn: (works: Work[]) => Promise<void>): Promise<void> {
    if (works.length === 0) return;
    try {
      await fn(works);
    } catch (error) {
      for (const work of works) this.fail(work, error, what);
    }
  }

  private async readRegistrations(works: Work[]): Promise<void> {
    const found = await this.api.registrationsOf(works.map(w => w.view.instanceId));
    for (const work of works) {
      // Tasks read earlier in this run stay read (a registration is never placed on again while DRAINING).
      const earlier = new Map(work.view.containerInstances.map(ci => [ci.containerInstanceArn, ci.tasksNotStopped]));
      const fresh = (found.get(work.view.instanceId) ?? []).map(ci => {
        const tasks = earlier.get(ci.containerInstanceArn);
        return tasks !== undefined && ci.status === 'DRAINING' ? { ...ci, tasksNotStopped: tasks } : ci;
      });
      this.update(work, { containerInstances: fresh, registrationsComplete: true });
      this.countsRead(work);
    }
  }

  private async setDraining(works: Work[]): Promise<void> {
    const arns = works.flatMap(w => w.plan.setDraining);
    for (const work of works) work.tried = alsoTried(work.tried, { draining: work.plan.setDraining });
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
    for (const work of works) {
      const error = firstError(errors, work.plan.setDraining);
      if (error !== undefined) {
        this.fail(work, error, 'set DRAINING');
        continue;
      }
      this.update(work, {
        containerInstances: work.view.containerInstances
          .filter(ci => !gone.has(ci.containerInstanceArn))
          .map(ci => fresh.find(f => f.containerInstanceArn === ci.containerInstanceArn) ?? ci)
          .filter(ci => ci.status !== 'INACTIVE'),
      });
      this.countsRead(work);
    }
  }

  /**
   * Writes the drain records. An instance whose record cannot be written (its registration has
   * the 10 custom attributes ECS allows already) is still drained and released as soon as it is
   * empty, but it has no deadline the controller can enforce and gets no heartbeat: the hook's
   * own timeout ends it (README, "Operating it").
   */
  private async record(works: Work[]): Promise<void> {
    const values = works.flatMap(w => w.plan.record!.on.map(arn => ({ containerInstanceArn: arn, value: formatDrainRecord(w.plan.record!.value) })));
    for (const work of works) work.tried = alsoTried(work.tried, { record: work.plan.record!.on });
    const errors = await this.api.putDrainAttributes(values);
    for (const work of works) {
      const { value, on } = work.plan.record!;
      const failed = on.filter(arn => errors.has(arn));
      const passing = failed.map(arn => errors.get(arn)).find(error => !isItemSpecific(error));
      if (passing !== undefined) {
        // Throttled or failed on ECS's side: not a record that cannot be written; tried again later.
        this.fail(work, passing, 'record the drain');
        continue;
      }
      const firstDrain = !work.view.containerInstances.some(ci => ci.record !== undefined);
      this.update(work, {
        containerInstances: work.view.containerInstances.map(ci => (on.includes(ci.containerInstanceArn) && !failed.includes(ci.containerInstanceArn)
          ? { ...ci, record: value } : ci)),
      });
      const fields = this.fields(work);
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
  private async heartbeat(works: Work[]): Promise<void> {
    const updates: { work: Work; sentAt: number }[] = [];
    for (const work of works) work.tried = alsoTried(work.tried, { heartbeat: true });
    await forEachLimited(works, work => this.safely(work, 'send a heartbeat', async () => {
      const sentAt = this.now();
      const { groupName, instanceId } = work.view;
      const answer = await this.whileWaiting(work, () => this.api.recordHeartbeat(groupName!, this.config.lifecycleHookName, instanceId));
      this.telemetry.log('info', 'lifecycle heartbeat sent', { ...this.fields(work), answer });
      if (answer === 'recorded') updates.push({ work, sentAt });
    }));
    const values = updates.flatMap(({ work, sentAt }) => work.view.containerInstances
      .filter(ci => ci.record !== undefined)
      .map(ci => ({ containerInstanceArn: ci.containerInstanceArn, value: formatDrainRecord({ ...ci.record!, hookClockFrom: sentAt }) })));
    const errors: ItemErrors = values.length > 0 ? await this.api.putDrainAttributes(values) : new Map();
    for (const { work, sentAt } of updates) {
      this.update(work, {
        containerInstances: work.view.containerInstances.map(ci => (ci.record && !errors.has(ci.containerInstanceArn)
          ? { ...ci, record: { ...ci.record, hookClockFrom: sentAt } } : ci)),
        hookClockFrom: sentAt,
      });
    }
    for (const work of works.filter(w => !updates.some(u => u.work === w))) this.advance(work, work.view);
  }

  /** Counts just read into the view (the time taken after the answer: at or after what it shows). */
  private countsRead(work: Work): void {
    const registrations = work.view.containerInstances;
    const of = registrations.map(ci => ci.containerInstanceArn).sort().join(' ');
    if (!registrations.every(mayBeDrained)) {
      work.emptySince = undefined;
    } else if (work.emptySince === undefined || work.emptyOf !== of) {
      work.emptySince = this.now();
      work.emptyOf = of;
    }
  }

  private async readTasks(works: Work[], readTasks: TaskReader): Promise<void> {
    const settleMs = this.errors.readSettleMs ?? READ_SETTLE_MS;
    const settled = Math.max(...works.map(w => w.emptySince ?? this.now())) + settleMs;
    if (settled > this.now()) await this.api.pause(settled - this.now());
    if (settleMs > 0) {
      // The lookup by instance id that let these drains look empty may be as stale as their counts:
      // a registration made since (an agent that registered again) would be missed, and the
      // instance released with its tasks. Looked up again after the settle; a registration set
      // that changed starts its settle again (countsRead) and is listed in a later round.
      await this.readRegistrations(works);
    }
    const ready = works.filter(w => !w.done && w.plan.needs.tasksOf.length > 0 && (w.emptySince ?? Infinity) + settleMs <= this.now());
    if (ready.length === 0) return;
    const tasks = await readTasks(ready.flatMap(w => w.plan.needs.tasksOf));
    for (const work of ready) {
      this.update(work, {
        containerInstances: work.view.containerInstances.map(ci => (work.plan.needs.tasksOf.includes(ci.containerInstanceArn)
          ? { ...ci, tasksNotStopped: tasks.get(ci.containerInstanceArn) ?? [] } : ci)),
      });
    }
  }

  private async readStates(works: Work[]): Promise<void> {
    const states = await this.api.autoScalingInstances(works.map(w => w.view.instanceId));
    for (const work of works) {
      const state = states.get(work.view.instanceId);
      this.update(work, managedState(state, this.config));
    }
  }

  /** Deregistration (or parking, or reactivation) and completion, as each plan says. */
  private async finish(works: Work[]): Promise<void> {
    await this.reactivate(works.filter(w => w.plan.reactivate.length > 0));
    // One instance after the other on each of a few lanes: deregister (or park), then complete
    // at once, so that completions (Auto Scaling's lifecycle bucket, the scarce one in a large
    // scale-in) flow while other instances are still being deregistered.
    await forEachLimited(works.filter(w => !w.done), work => this.safely(work, 'release', async () => {
      for (const { containerInstanceArn, force } of work.plan.deregister) {
        const answer = await this.deregister(containerInstanceArn, force);
        if (answer === 'refused') {
          // ECS still counts a task (it may lag behind a task that just stopped): not drained
          // yet. Never forced before the deadline; the next event or pass looks again.
          work.refused = true;
          this.telemetry.log('info', 'ECS refused the deregistration: it still counts a task; looking again later', { ...this.fields(work), containerInstanceArn });
          return;
        }
        this.telemetry.log(force ? 'warn' : 'info', force ? 'container instance deregistered with force' : 'container instance deregistered', {
          ...this.fields(work), containerInstanceArn, answer,
        });
      }
      if (work.plan.park.length > 0) {
        // The parked marker replaces the drain record; an instance whose marker cannot be
        // written keeps waiting (a stale record would start its next drain late).
        const errors = await this.api.putDrainAttributes(work.plan.park.map(arn => ({ containerInstanceArn: arn, value: formatParked(this.now()) })));
        const error = firstError(errors, work.plan.park);
        if (error !== undefined) {
          this.fail(work, error, 'park the registration');
          return;
        }
      }
      if (!work.plan.completeLifecycleAction || work.done) return;
      const { groupName, instanceId } = work.view;
      const answer = await this.whileWaiting(work, () => this.api.completeLifecycleAction(groupName!, this.config.lifecycleHookName, instanceId));
      if (answer === 'refused-while-waiting') {
        work.refused = true;
        this.telemetry.log('warn', 'Auto Scaling still finds no active lifecycle action although the instance waits; the next pass asks again', {
          ...this.fields(work), outcome: work.plan.outcome,
        });
        return;
      }
      this.telemetry.log('info', answer === 'completed' ? 'lifecycle action completed' : 'lifecycle action was already over', {
        ...this.fields(work), outcome: work.plan.outcome,
      });
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
    work: Work, call: () => Promise<T | 'no-active-action'>,
  ): Promise<T | 'no-active-action' | 'refused-while-waiting'> {
    let answer = await call();
    for (const waitMs of [...this.errors.retryNoActiveActionMs ?? [2000], undefined]) {
      if (answer !== 'no-active-action') return answer;
      const state = (await this.api.autoScalingInstances([work.view.instanceId])).get(work.view.instanceId);
      if (!stillWaits(managedState(state, this.config))) return answer;
      if (waitMs === undefined) return 'refused-while-waiting';
      this.telemetry.log('info', 'Auto Scaling found no active lifecycle action but says the instance waits: asking again', this.fields(work));
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
  private async reactivate(works: Work[]): Promise<void> {
    if (works.length === 0) return;
    const arns = works.flatMap(w => w.plan.reactivate);
    const draining = arns.filter(arn => works.some(w => w.view.containerInstances.some(ci => ci.containerInstanceArn === arn && ci.status === 'DRAINING')));
    const { errors } = draining.length > 0 ? await this.api.setStatus(draining, 'ACTIVE') : { errors: new Map<string, unknown>() };
    const marker = formatReactivated(this.now());
    const active = arns.filter(arn => !errors.has(arn));
    const markErrors = await this.api.putDrainAttributes(active.map(arn => ({ containerInstanceArn: arn, value: marker })));
    for (const work of works) {
      const error = firstError(errors, work.plan.reactivate) ?? firstError(markErrors, work.plan.reactivate);
      if (error !== undefined) this.fail(work, error, 'set the registration ACTIVE again');
    }
  }

  // ---- bookkeeping ----------------------------------------------------------------------------

  /** A new view of the instance, with what changed in it since the last one. */
  private update(work: Work, change: Partial<InstanceView>): void {
    this.advance(work, { ...work.view, ...change });
  }

  /**
   * The one place where a work's view and plan change: the plan is made afresh from the view,
   * so that it never rests on an earlier read than the view it is shown with.
   */
  private advance(work: Work, view: InstanceView): void {
    work.view = view;
    work.plan = this.planOf(work.planner, view, work.tried);
  }

  /** Plans from a view, less what this run tried already (decide/, refinePlan). */
  private planOf(planner: Planner, view: InstanceView, tried: Tried): InstancePlan {
    return refinePlan(planner(view, this.now(), this.config), view, tried);
  }

  private fail(work: Work, error: unknown, what: string): void {
    if (work.done) return;
    if (this.errors.deferOnThrottling && isThrottling(error)) {
      work.done = 'deferred';
      this.telemetry.log('info', 'throttled: the reconcile pass takes this over within a minute', { ...this.fields(work), step: what, error: describeError(error) });
      return;
    }
    if (this.errors.deferOnAbort && isAbort(error)) {
      work.done = 'deferred';
      this.telemetry.log('info', 'out of time: the next pass takes this over', { ...this.fields(work), step: what });
      return;
    }
    work.done = 'error';
    this.telemetry.log('error', `could not ${what}`, { ...this.fields(work), error: describeError(error) });
    this.telemetry.metric(METRIC.ERRORS, 1, { instanceId: work.view.instanceId });
  }

  private async safely(work: Work, what: string, fn: () => Promise<void>): Promise<void> {
    if (work.done) return;
    try {
      await fn();
    } catch (error) {
      this.fail(work, error, what);
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
    const fields = { ...this.fields(work), outcome: plan.outcome };
    this.telemetry.log(plan.outcome === 'forced' ? 'warn' : 'info', plan.reason, fields);
    if (plan.outcome === 'drained' || plan.outcome === 'forced') {
      this.telemetry.metric(plan.outcome === 'drained' ? METRIC.DRAINS_COMPLETED : METRIC.DRAINS_FORCED, 1, fields);
      if (plan.drainStartedAt !== undefined) {
        this.telemetry.metric(METRIC.DRAIN_DURATION, Math.max(0, (this.now() - plan.drainStartedAt) / 1000), fields);
      }
    }
  }

  private fields(work: Work): LogFields {
    return { instanceId: work.view.instanceId, groupName: work.view.groupName };
  }
}

/** The view of an EC2 instance that a candidate starts its run with. */
function instanceViewOf(candidate: Candidate): InstanceView {
  return {
    instanceId: candidate.instanceId,
    groupName: candidate.groupName,
    lifecycleState: candidate.lifecycleState,
    containerInstances: candidate.registrations ?? [],
    registrationsComplete: candidate.registrations !== undefined && candidate.registrationsComplete === true,
    hookClockFrom: candidate.hookClockFrom,
    eventTime: candidate.eventTime,
  };
}

/** Auto Scaling's view of an instance: its group only if it is a managed one. */
export function managedState(state: GroupInstance | undefined, config: ControllerConfig): Pick<InstanceView, 'groupName' | 'lifecycleState'> {
  const managed = state !== undefined && config.autoScalingGroupNames.has(state.groupName);
  return { groupName: managed ? state.groupName : undefined, lifecycleState: state?.lifecycleState };
}

function firstError(errors: ItemErrors, arns: readonly string[]): unknown {
  for (const arn of arns) if (errors.has(arn)) return errors.get(arn);
  return undefined;
}

/**
 * The one-minute reconcile pass: every instance of the managed groups that waits in this hook,
 * whatever happened to its events. The pass is
 * - bounded: it reads the time left before every batch and stops starting work in time to finish
 *   what it started; calls still in flight at the hard limit are aborted, so it never times out;
 * - fair: the most urgent work first (deadline passed, heartbeat due, empty by its counts, then
 *   drains to start), oldest first; what it leaves is by the same order the first work of the
 *   next pass;
 * - cheap: per round one listing of the cluster's DRAINING registrations (and of the ACTIVE ones
 *   carrying the attribute), lookups by instance id only for instances that need them, and task
 *   reads only for instances empty by their counts, per instance or by a cluster-wide listing
 *   shared by all batches, whichever costs fewer calls (ClusterTaskReads).
 * Two passes may overlap (the reconcile function reserves no concurrency, so that the stack deploys
 * in an account with a small quota: README, "Design"): every write is one a second pass may repeat
 * harmlessly, and a release rests on reads made by the pass that releases.
 */
import { ClusterApi, LIMITS, StoppingTasks } from './aws';
import type { ControllerConfig } from './config';
import { managedState, mayBeDrained, planTermination, Rank, staleMarkers, Urgency, urgencyOf, WAIT_STATES } from './decide';
import { Drainer, READ_SETTLE_MS, Tally, TaskReader } from './drainer';
import { isAbort } from './errors';
import { ContainerInstanceView, InstanceView } from './model';
import { Telemetry } from './telemetry';
import { DiagnosisMemory, WaitDiagnosis } from './wait-diagnosis';

/** Instances planned together (each batch shares its reads). */
export const BATCH_SIZE = 100;
/** Kept free at the end of the invocation: no batch starts with less than this plus the time of it and of those in flight left. */
export const RESERVED_TIME_MS = 20_000;
/** Calls still in flight this close to the function's timeout are aborted. */
const ABORT_BEFORE_TIMEOUT_MS = 5_000;
/** What a batch is assumed to take before the pass has timed one. */
const FIRST_BATCH_ESTIMATE_MS = 10_000;
/**
 * With at least this many instances waiting in the hook, a pass that is done goes round again
 * after a short pause, for as long as its invocation has time: drains of a large scale-in end
 * within seconds of each other, and the events of their ends exhaust ECS's read bucket (a few
 * reads each), while a round reads for all of them at once. Below it, events finish drains in
 * seconds and the schedule is enough.
 */
export const ROUNDS_FROM_WAITING = 150;
/** Pause between rounds of a pass (a short wait, not a sleeping Lambda: README, Design). */
export const ROUND_PAUSE_MS = 5_000;
/** Batches of a round in flight at once. */
const PIPELINE_DEPTH = 3;

/**
 * What a reconcile function remembers between passes while its execution environment lives:
 * when it last saw each instance of the managed groups outside a wait state. The lifecycle
 * action of an instance seen waiting later started after that moment, so it is a safe start of
 * the hook's clock for a drain the pass records late (its lifecycle event lost or throttled):
 * no heartbeat is needed at once. A new environment remembers nothing, and the pass then sends
 * that heartbeat (decide/). Nothing is lost if this is empty; it only saves calls.
 */
export class PassMemory {
  private readonly notWaitingAt = new Map<string, number>();
  /** When this environment last read why each drain waits (wait-diagnosis.ts). */
  readonly diagnoses = new DiagnosisMemory();
  private knownStopped = new Set<string>();

  /**
   * Tasks seen STOPPED, which are never described again: STOPPED is a task's last status (ECS
   * developer guide, "Amazon ECS task lifecycle"), and ECS keeps listing a stopped task for about
   * an hour, so each pass of a large scale-in would otherwise describe the same stopped tasks of
   * the cluster-wide listing again. Forgotten all at once past MAX_KNOWN_STOPPED_TASKS (about
   * 10 MB), which only costs describes.
   */
  stoppedTasks(): Set<string> {
    if (this.knownStopped.size > MAX_KNOWN_STOPPED_TASKS) this.knownStopped = new Set();
    return this.knownStopped;
  }

  /** A moment at which the instance was seen outside a wait state, if any. */
  seenNotWaiting(instanceId: string): number | undefined {
    return this.notWaitingAt.get(instanceId);
  }

  /** Records this pass's view of the groups; instances no longer listed are forgotten. */
  observe(instances: readonly { instanceId: string; lifecycleState: string }[], at: number): void {
    const listed = new Set(instances.map(i => i.instanceId));
    for (const id of [...this.notWaitingAt.keys()]) if (!listed.has(id)) this.notWaitingAt.delete(id);
    for (const instance of instances) {
      if (WAIT_STATES[instance.lifecycleState] === undefined) this.notWaitingAt.set(instance.instanceId, at);
    }
  }
}

/** See PassMemory.stoppedTasks. */
export const MAX_KNOWN_STOPPED_TASKS = 100_000;

/** An instance with work this pass, and where it goes in the pass (decide/, urgencyOf). */
interface Item extends Rank {
  readonly view: InstanceView;
}

export class ReconcilePass {
  constructor(
    private readonly config: ControllerConfig,
    private readonly api: ClusterApi,
    private readonly telemetry: Telemetry,
    private readonly now: () => number,
    private readonly memory: PassMemory = new PassMemory(),
    /** See ErrorPolicy.readSettleMs. */
    private readonly readSettleMs?: number,
  ) {}

  async run(tally: Tally, remainingTimeMs: () => number): Promise<void> {
    const abort = new AbortController();
    const hardLimit = remainingTimeMs() - ABORT_BEFORE_TIMEOUT_MS;
    const timer = Number.isFinite(hardLimit) ? setTimeout(() => abort.abort(), Math.max(0, hardLimit)) : undefined;
    const api = this.api.bounded(abort.signal);
    const emptySince = new Map<string, number>();
    const tasks = new ClusterTaskReads(api, this.now, arn => emptySince.get(arn), ms => api.pause(ms),
      this.readSettleMs ?? READ_SETTLE_MS, this.memory.stoppedTasks());
    let quiet: readonly InstanceView[] = [];
    let recorded: readonly InstanceView[] = [];
    try {
      let slowestRoundMs = 0;
      for (let round = 1; ; round++) {
        const before = remainingTimeMs();
        const { waiting, finished, quietDrains, recordedDrains } = await this.round(api, tally, remainingTimeMs, tasks, emptySince);
        quiet = quietDrains;
        recorded = recordedDrains;
        slowestRoundMs = Math.max(slowestRoundMs, before - remainingTimeMs());
        const timeForAnother = remainingTimeMs() - RESERVED_TIME_MS - slowestRoundMs - ROUND_PAUSE_MS > 0;
        if (!finished || waiting < ROUNDS_FROM_WAITING || !timeForAnother) break;
        this.telemetry.log('debug', 'reconcile pass goes round again', { round, waiting });
        await new Promise(resolve => setTimeout(resolve, ROUND_PAUSE_MS));
      }
      // Why drains wait, with the time the drains left: never before their work.
      if (remainingTimeMs() > RESERVED_TIME_MS + FIRST_BATCH_ESTIMATE_MS) {
        await new WaitDiagnosis(this.config, this.telemetry, this.now, this.memory.diagnoses, this.memory.stoppedTasks()).run(api, quiet, recorded);
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** One look at everything: returns how many instances wait in the hook, and whether all their work was done. */
  private async round(
    api: ClusterApi, tally: Tally, remainingTimeMs: () => number, tasks: ClusterTaskReads, emptySince: Map<string, number>,
  ): Promise<{ waiting: number; finished: boolean; quietDrains: readonly InstanceView[]; recordedDrains: readonly InstanceView[] }> {
    let collected: { items: Item[]; waiting: number; quietDrains: InstanceView[]; recordedDrains: InstanceView[] };
    try {
      collected = await this.collect(api, emptySince);
    } catch (error) {
      if (!isAbort(error)) throw error;
      this.telemetry.log('warn', 'reconcile pass ran out of time reading the groups and the cluster; the next pass starts again');
      return { waiting: 0, finished: false, quietDrains: [], recordedDrains: [] };
    }
    const { items, waiting, quietDrains, recordedDrains } = collected;
    if (items.length === 0) return { waiting, finished: true, quietDrains, recordedDrains };
    items.sort((a, b) => a.urgency - b.urgency || a.order - b.order);

    // A deregistration refused right after the last task stopped is asked again in this round.
    const drainer = new Drainer(this.config, api, this.telemetry, this.now, {
      deferOnAbort: true, retryRefusedDeregistrationMs: [2000, 3000], readSettleMs: this.readSettleMs,
    });
    // Up to PIPELINE_DEPTH batches at once: one batch's reads overlap another's deregistrations and
    // completions (Auto Scaling's lifecycle bucket is the scarce one in a large scale-in).
    // What a batch would take alone: a batch that ran beside others shared the buckets with
    // them, so its duration is divided by the mean number of batches in flight while it ran
    // (measured on the same clock as the time left).
    let slowestBatchMs = FIRST_BATCH_ESTIMATE_MS;
    const inFlight = new Set<Promise<void>>();
    let batchTime = 0;
    let lastChange = remainingTimeMs();
    const tick = () => {
      const left = remainingTimeMs();
      batchTime += inFlight.size * (lastChange - left);
      lastChange = left;
    };
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      if (inFlight.size >= PIPELINE_DEPTH) await Promise.race(inFlight);
      // Room for this batch and those in flight even if they ran one after the other.
      if (remainingTimeMs() < RESERVED_TIME_MS + slowestBatchMs * (inFlight.size + 1)) {
        await Promise.all(inFlight);
        const left = items.slice(i);
        tally.deferred += left.length;
        this.telemetry.log('warn', 'reconcile pass ran out of time; the next pass continues with the most urgent first', {
          deferred: left.length, firstDeferred: Urgency[left[0].urgency],
        });
        return { waiting, finished: false, quietDrains, recordedDrains };
      }
      tick();
      const before = remainingTimeMs();
      const batchTimeBefore = batchTime;
      const batch = drainer.run(items.slice(i, i + BATCH_SIZE).map(item => item.view), tally, tasks.read).then(() => {
        tick();
        const spent = before - remainingTimeMs();
        const meanInFlight = spent > 0 ? Math.max(1, (batchTime - batchTimeBefore) / spent) : 1;
        if (Number.isFinite(spent)) slowestBatchMs = Math.max(slowestBatchMs, spent / meanInFlight);
        inFlight.delete(batch);
      });
      inFlight.add(batch);
    }
    await Promise.all(inFlight);
    return { waiting, finished: true, quietDrains, recordedDrains };
  }

  /**
   * The instances with work to do, from the groups' instances and the cluster's DRAINING
   * registrations. An instance whose known registrations still run tasks, and whose drain is
   * recorded with no deadline or heartbeat due, needs nothing this pass: such quiet drains are
   * returned too, for the diagnosis of why they wait.
   */
  private async collect(api: ClusterApi, emptySince: Map<string, number>): Promise<{
    items: Item[]; waiting: number; quietDrains: InstanceView[]; recordedDrains: InstanceView[];
  }> {
    const readAt = this.now();
    const instances = await api.instancesOfGroups([...this.config.autoScalingGroupNames]);
    const byId = new Map(instances.map(i => [i.instanceId, i]));
    const waiting = instances.filter(i => WAIT_STATES[i.lifecycleState] !== undefined);
    // Listed every pass, also when nothing waits: a parked registration whose instance came back
    // from the warm pool while its ECS event was lost is set ACTIVE here, one set ACTIVE whose
    // parked marker could not be replaced (no event follows) gets its reactivation marker here,
    // and a reactivation marker older than any late event it guards against is removed.
    const draining = await api.drainingContainerInstances();
    const markedActive = await api.markedActiveContainerInstances();
    const listed = [...draining, ...markedActive];
    const stale = staleMarkers(markedActive, this.now());
    if (stale.length > 0) {
      // Best effort: a marker left now is removed by a later pass.
      const errors = await api.deleteDrainAttributes(stale);
      this.telemetry.log('debug', 'removed reactivation markers older than any late event', { removed: stale.length - errors.size, failed: errors.size });
    }
    // Empty by its counts by the time these reads returned (see ClusterTaskReads).
    const describedAt = this.now();
    const registrations = new Map<string, ContainerInstanceView[]>();
    for (const ci of listed) {
      if (!mayBeDrained(ci)) emptySince.delete(ci.containerInstanceArn);
      else if (!emptySince.has(ci.containerInstanceArn)) emptySince.set(ci.containerInstanceArn, describedAt);
      if (!ci.ec2InstanceId || !byId.has(ci.ec2InstanceId)) continue;
      registrations.set(ci.ec2InstanceId, [...registrations.get(ci.ec2InstanceId) ?? [], ci]);
    }
    const parkedBack = [...registrations.keys()]
      .filter(id => WAIT_STATES[byId.get(id)!.lifecycleState] === undefined && registrations.get(id)!.some(ci => ci.parkedAt !== undefined));

    const now = this.now();
    const items: Item[] = [];
    const quietDrains: InstanceView[] = [];
    const recordedDrains: InstanceView[] = [];
    const rotation = Math.floor(now / 60_000);
    for (const instance of [...waiting, ...parkedBack.map(id => byId.get(id)!)]) {
      // Only the registrations the DRAINING (or marked) listing found: a lookup by instance id completes them when the plan needs it.
      const view: InstanceView = {
        instanceId: instance.instanceId,
        ...managedState(instance, this.config),
        stateRead: true,
        containerInstances: registrations.get(instance.instanceId) ?? [],
        hookClockFrom: this.memory.seenNotWaiting(instance.instanceId),
      };
      const rank = urgencyOf(view, planTermination(view, now, this.config), now, rotation);
      const recorded = WAIT_STATES[instance.lifecycleState] !== undefined && view.containerInstances.some(ci => ci.record !== undefined);
      if (recorded) recordedDrains.push(view);
      if (rank) items.push({ view, ...rank });
      else if (recorded) quietDrains.push(view);
    }
    // Seen before the groups were read: an action that is not waiting yet starts later than this.
    this.memory.observe(instances, readAt);
    return { items, waiting: waiting.length, quietDrains, recordedDrains };
  }
}

/** A cluster-wide task listing older than this is listed again for instances it showed still stopping. */
export const TASK_LISTING_MAX_AGE_MS = 10_000;
/**
 * Cluster-wide task listings start at least this far apart (a short wait in between): each one
 * pages through every task the cluster stopped in the last hour, and drains that end a few
 * seconds apart are better proven together than one listing each.
 */
export const TASK_LISTING_MIN_INTERVAL_MS = 5_000;

/**
 * Stopping tasks for a pass, read the cheaper way each time. A listing per container instance
 * costs about one read per instance; a cluster-wide listing costs one read per 100 tasks the
 * cluster stopped in the last hour (ECS keeps them listed), whatever the number of instances.
 * So instances are listed one by one while there are fewer of them than the last cluster-wide
 * listing had pages (or, before any, at most LIMITS.perInstanceTaskListings), and together
 * otherwise, by a listing shared by every batch and round of the pass. A cluster-wide listing
 * answers for an instance only if it was taken after the instance was seen empty by its counts
 * (from then on every task of a DRAINING instance has desired status STOPPED, and ECS places no
 * new one there, so the listing holds them all); one older than TASK_LISTING_MAX_AGE_MS is taken
 * again for instances it showed still stopping. Tasks seen STOPPED are not described again.
 */
export class ClusterTaskReads {
  private listing?: { readonly takenAt: number; readonly stopping: StoppingTasks; readonly pages: number };
  private refreshing?: { readonly takenAt: number; readonly done: Promise<void> };

  constructor(
    private readonly api: ClusterApi,
    private readonly now: () => number,
    /** When each container instance was first seen empty by its counts in this pass. */
    private readonly emptySince: (containerInstanceArn: string) => number | undefined,
    private readonly sleep: (ms: number) => Promise<void> = ms => new Promise(resolve => setTimeout(resolve, ms)),
    /**
     * A listing answers for an instance only if taken at least this long after it was seen empty:
     * the counts and the listing are different reads of an eventually consistent API (see
     * ErrorPolicy.readSettleMs in drainer.ts). 0: taken after it, at any distance.
     */
    private readonly settleMs = 0,
    /** Tasks seen STOPPED, by this pass or an earlier one (PassMemory.stoppedTasks): not described again. */
    private readonly stopped: Set<string> = new Set(),
  ) {}

  readonly read: TaskReader = async arns => {
    const askedAt = this.now();
    const answers = (listing: { takenAt: number; stopping?: StoppingTasks }) => (arn: string) =>
      listing.takenAt >= (this.emptySince(arn) ?? askedAt) + (this.emptySince(arn) === undefined ? 0 : this.settleMs)
      && !(listing.stopping?.has(arn) && askedAt - listing.takenAt > TASK_LISTING_MAX_AGE_MS);
    const current = this.listing;
    const missing = current ? arns.filter(arn => !answers(current)(arn)) : [...arns];
    if (missing.length === 0) return this.fromListing(arns);
    const inFlight = this.refreshing;
    if (inFlight && missing.every(answers(inFlight))) {
      await inFlight.done;
      return this.fromListing(arns);
    }
    if (missing.length < (current?.pages ?? LIMITS.perInstanceTaskListings + 1)) {
      const fresh = await this.api.tasksNotStopped(missing, this.stopped);
      return new Map(arns.map(arn => [arn, fresh.get(arn) ?? current?.stopping.get(arn) ?? []]));
    }
    await this.listUntil(listing => arns.every(answers(listing)));
    return this.fromListing(arns);
  };

  private fromListing(arns: readonly string[]): StoppingTasks {
    return new Map(arns.map(arn => [arn, this.listing!.stopping.get(arn) ?? []]));
  }

  /**
   * Until a listing answers: joins the one in flight, or takes one, at least
   * TASK_LISTING_MIN_INTERVAL_MS after the last. A listing taken from now on answers every
   * instance already seen empty, so this ends after at most one listing of its own.
   */
  private async listUntil(answers: (listing: { takenAt: number; stopping: StoppingTasks }) => boolean): Promise<void> {
    while (!this.listing || !answers(this.listing)) {
      if (this.refreshing) {
        await this.refreshing.done;
        continue;
      }
      const wait = this.listing === undefined ? 0 : this.listing.takenAt + TASK_LISTING_MIN_INTERVAL_MS - this.now();
      if (wait > 0) {
        await this.sleep(wait);
        continue;
      }
      const takenAt = this.now();
      const done = this.api.clusterStoppingTasks(this.stopped).then(({ stopping, pages }) => {
        if (!this.listing || this.listing.takenAt <= takenAt) this.listing = { takenAt, stopping, pages };
      });
      this.refreshing = { takenAt, done };
      try {
        await done;
      } finally {
        if (this.refreshing?.done === done) this.refreshing = undefined;
      }
    }
  }
}

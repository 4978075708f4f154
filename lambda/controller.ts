/**
 * The drain controller: a level-triggered reconciler. Whatever woke it up, it reads the state
 * of the instances concerned from Auto Scaling and ECS, asks decide/ what to do, and has
 * drainer.ts do it. Lost, duplicated or reordered events and crashed invocations are repaired by
 * the next event or the one-minute reconcile pass (reconcile.ts), because nothing is remembered
 * between invocations except what is recorded on the container instances themselves.
 *
 * Events reach it in batches, from the construct's SQS queue (one invocation for up to 100 of
 * them, read with shared, batched calls), or one at a time when invoked directly; the schedule's
 * event runs the reconcile pass.
 */
import { ClusterApi } from './aws';
import type { ControllerConfig } from './config';
import {
  containerInstanceEventVerdict, endIsOurs, hookClockFromEvent, managedState, mayEndDrain, ofCluster, ofThisHook, Planner, planSpotInterruption,
  registrationUsable,
} from './decide';
import { Drainer, ErrorPolicy, InvocationSummary, Tally, WorkResult } from './drainer';
import { describeError, isThrottling } from './errors';
import { parseQueueBatch, parseTrigger, Trigger } from './events';
import { ContainerInstanceView, InstanceView, registrationsByInstance } from './model';
import { PassMemory, ReconcilePass } from './reconcile';
import { LogFields, Telemetry } from './telemetry';
import { METRIC } from '../src/constants';

export type { InvocationSummary } from './drainer';

/** How a controller treats errors (see ErrorPolicy). */
export type ControllerOptions = ErrorPolicy;

/** What the handler returns for a batch from the SQS queue: the messages to deliver again (partial batch response). */
export interface QueueBatchResponse extends InvocationSummary {
  readonly batchItemFailures: readonly { readonly itemIdentifier: string }[];
}

type LifecycleTrigger = Extract<Trigger, { kind: 'lifecycle-action' }>;
type ContainerInstanceTrigger = Extract<Trigger, { kind: 'container-instance-change' }>;
type TaskStoppedTrigger = Extract<Trigger, { kind: 'task-stopped' }>;

/** One event of an invocation, and the queue message it came in (none when invoked directly). */
interface Item {
  readonly trigger: Trigger;
  readonly messageId?: string;
  readonly eventId?: unknown;
}

/** A registration an ECS event says may be drained, as the event shows it or as read afresh. */
interface MaybeDrained {
  readonly registration: ContainerInstanceView;
  /** Read from ECS in this invocation (not taken from an event). */
  readonly fresh: boolean;
  readonly items: Item[];
}

export class DrainController {
  private readonly drainer: Drainer;
  /** Lives as long as the controller (its execution environment): see PassMemory. */
  private readonly passMemory = new PassMemory();

  constructor(
    private readonly config: ControllerConfig,
    private readonly api: ClusterApi,
    private readonly telemetry: Telemetry,
    private readonly now: () => number = Date.now,
    private readonly options: ControllerOptions = {},
  ) {
    this.drainer = new Drainer(config, api, telemetry, now, options);
  }

  async handle(event: unknown, remainingTimeMs: () => number = () => Infinity): Promise<InvocationSummary | QueueBatchResponse> {
    const batch = parseQueueBatch(event);
    if (batch === undefined) {
      const trigger = parseTrigger(event);
      if (trigger.kind === 'reconcile') return this.reconcile(remainingTimeMs);
      return this.handleDirect({ trigger, eventId: eventIdOf(event) });
    }
    const tally = new Tally('queue');
    const { failed } = await this.process(batch, tally);
    return { ...tally.summary(), batchItemFailures: [...failed].map(itemIdentifier => ({ itemIdentifier })) };
  }

  /**
   * The schedule is its own retry: a failed pass is repeated by the next one a minute later, so a
   * pass reports its errors but does not fail (a Lambda retry would only add load, often to an API
   * that is throttling already).
   */
  private async reconcile(remainingTimeMs: () => number): Promise<InvocationSummary> {
    const tally = new Tally('reconcile');
    try {
      const pass = new ReconcilePass(this.config, this.api, this.telemetry, this.now, this.passMemory, this.options.readSettleMs);
      await pass.run(tally, remainingTimeMs);
    } catch (error) {
      this.telemetry.log('error', 'could not handle the event', { trigger: 'reconcile', error: describeError(error) });
      this.telemetry.metric(METRIC.ERRORS, 1);
      tally.errors++;
    }
    return tally.summary();
  }

  /** An event invoked directly (not through the queue): a failure fails the invocation, so that Lambda retries it. */
  private async handleDirect(item: Item): Promise<InvocationSummary> {
    const tally = new Tally(item.trigger.kind);
    const { shared } = await this.process([item], tally);
    // The error of a read shared by the invocation, as it came; else one that counts the instances.
    if (shared.length > 0) throw shared[0];
    if (tally.errors > 0) throw new Error(`${tally.errors} instance(s) could not be handled; see the error lines above`);
    return tally.summary();
  }

  /**
   * Handles the events of one invocation together: every read they need is shared (one listing
   * for all the instances of the batch, one describe for all their registrations), and the drains
   * run as one batch. Returns the message ids to deliver again: those of instances whose work
   * failed (not those left to the reconcile pass for throttling: it does them within a minute), and
   * the errors of reads shared by a group of them.
   */
  private async process(items: readonly Item[], tally: Tally): Promise<{ failed: Set<string>; shared: unknown[] }> {
    const lifecycle: { trigger: LifecycleTrigger; item: Item }[] = [];
    const registrationEvents: { trigger: ContainerInstanceTrigger; item: Item }[] = [];
    const taskStops: { trigger: TaskStoppedTrigger; item: Item }[] = [];
    const spot: Item[] = [];
    for (const item of items) {
      const { trigger } = item;
      switch (trigger.kind) {
        case 'ignored':
          this.telemetry.log('info', `event ignored: ${trigger.reason}`, { eventId: item.eventId });
          break;
        case 'reconcile':
          // The schedule targets the reconcile function; a copy on the event path has nothing to do.
          this.telemetry.log('info', 'event ignored: the reconcile pass runs on its own schedule', { eventId: item.eventId });
          break;
        case 'lifecycle-action':
          if (!ofThisHook(trigger, this.config)) {
            this.telemetry.log('info', 'event ignored: lifecycle action of another group or hook', { ...trigger });
          } else {
            lifecycle.push({ trigger, item });
          }
          break;
        case 'container-instance-change':
          if (this.worthALook(trigger)) registrationEvents.push({ trigger, item });
          break;
        case 'task-stopped':
          if (this.ofThisCluster(trigger.clusterArn, { containerInstanceArn: trigger.containerInstanceArn, taskArn: trigger.taskArn })) {
            taskStops.push({ trigger, item });
          }
          break;
        case 'spot-interruption':
          spot.push(item);
          break;
      }
    }
    const outcome = { failed: new Set<string>(), shared: [] as unknown[] };
    await this.step(lifecycle.map(l => l.item), outcome, tally, () => this.startDrains(lifecycle, tally));
    const ends = [...registrationEvents, ...taskStops].map(e => e.item);
    await this.step(ends, outcome, tally, () => this.checkEnds(registrationEvents, taskStops, tally));
    await this.step(spot, outcome, tally, () => this.drainOnSpotWarnings(spot, tally));
    return outcome;
  }

  /**
   * Runs one group of the batch's work. It returns, per instance, how its work ended; the items of
   * failed instances are delivered again. A read shared by the whole group that fails fails all of
   * its items, or, throttled, leaves them to the reconcile pass.
   */
  private async step(
    items: readonly Item[], outcome: { failed: Set<string>; shared: unknown[] }, tally: Tally, work: () => Promise<Map<Item, WorkResult>>,
  ): Promise<void> {
    if (items.length === 0) return;
    let results: Map<Item, WorkResult>;
    try {
      results = await work();
    } catch (error) {
      const fields = { trigger: items[0].trigger.kind, events: items.length, ...fieldsOf(items[0].trigger) };
      if (this.options.deferOnThrottling && isThrottling(error)) {
        tally.deferred += items.length;
        this.telemetry.log('info', 'throttled: the reconcile pass takes this over within a minute', { ...fields, error: describeError(error) });
        return;
      }
      outcome.shared.push(error);
      this.telemetry.log('error', 'could not handle the event', { ...fields, error: describeError(error) });
      this.telemetry.metric(METRIC.ERRORS, 1, fieldsOf(items[0].trigger));
      results = new Map(items.map(item => [item, 'error']));
    }
    for (const [item, result] of results) if (result === 'error' && item.messageId !== undefined) outcome.failed.add(item.messageId);
  }

  /**
   * Lifecycle action events start drains, but an event may be a late or duplicated copy of one
   * whose wait is over (the instance back in service, or resting in the warm pool): before its
   * first write, Auto Scaling says whether each instance waits in this hook now (one read for the
   * batch), and its registrations are looked up by instance id (one listing, one describe); a
   * registration parked or set ACTIVE again after the event's time shows a stale copy even when
   * Auto Scaling's answer lags (decide/). Then the ACTIVE ones are set DRAINING (ECS's answer is
   * a fresh read) and the drain recorded. The event's time, less a slack, starts the record's hook
   * clock.
   */
  private async startDrains(events: readonly { trigger: LifecycleTrigger; item: Item }[], tally: Tally): Promise<Map<Item, WorkResult>> {
    // Copies of one event (at-least-once delivery) start one drain; the earliest time bounds the hook's clock best.
    const byInstance = new Map<string, { trigger: LifecycleTrigger; items: Item[]; time?: number }>();
    for (const { trigger, item } of events) {
      const seen = byInstance.get(trigger.instanceId);
      const time = trigger.time === undefined ? seen?.time : Math.min(trigger.time, seen?.time ?? Infinity);
      byInstance.set(trigger.instanceId, { trigger: seen?.trigger ?? trigger, items: [...seen?.items ?? [], item], time });
    }
    const ids = [...byInstance.keys()];
    const [states, registrations] = await Promise.all([this.api.autoScalingInstances(ids), this.api.registrationsOf(ids)]);
    const views: InstanceView[] = [...byInstance.values()].map(({ trigger, time }) => ({
      instanceId: trigger.instanceId,
      ...managedState(states.get(trigger.instanceId), this.config),
      stateRead: true,
      hookClockFrom: hookClockFromEvent(time, this.now()),
      eventTime: time,
      containerInstances: registrations.get(trigger.instanceId) ?? [],
      registrationsComplete: true,
    }));
    return this.runAndMap(views, byInstance, tally);
  }

  /**
   * A container instance event worth more than a log line: of this cluster, DRAINING, and empty by
   * its counts (or parked); decide/, containerInstanceEventVerdict.
   */
  private worthALook(trigger: ContainerInstanceTrigger): boolean {
    const { registration } = trigger;
    const fields = { containerInstanceArn: registration.containerInstanceArn, instanceId: registration.ec2InstanceId, version: trigger.version };
    if (!this.ofThisCluster(trigger.clusterArn, fields)) return false;
    switch (containerInstanceEventVerdict(registration)) {
      case 'not-draining':
        this.telemetry.log('info', `event ignored: container instance is ${registration.status}, not DRAINING`, fields);
        return false;
      case 'still-has-tasks':
        this.telemetry.log('debug', 'container instance still has tasks', { ...fields, runningTasksCount: registration.runningTasksCount });
        return false;
      case 'look':
        return true;
    }
  }

  /**
   * ECS reports that a drain may be over: a DRAINING container instance empty by its counts (or a
   * parked registration back in service), or a task that reached STOPPED on one (the event says
   * nothing of the instance: one describe for the batch does). Only a DRAINING registration that
   * looks empty goes further: Auto Scaling says whether its instance waits in this hook, and a
   * listing by instance id whether it has other registrations. Events may be late, duplicated or
   * out of order; the release itself rests on fresh task reads and on ECS accepting the
   * deregistration.
   */
  private async checkEnds(
    registrationEvents: readonly { trigger: ContainerInstanceTrigger; item: Item }[],
    taskStops: readonly { trigger: TaskStoppedTrigger; item: Item }[],
    tally: Tally,
  ): Promise<Map<Item, WorkResult>> {
    const byArn = new Map<string, MaybeDrained>();
    const toDescribe = new Map<string, Item[]>();
    for (const { trigger, item } of registrationEvents) {
      const arn = trigger.registration.containerInstanceArn;
      if (trigger.registration.ec2InstanceId === undefined) {
        toDescribe.set(arn, [...toDescribe.get(arn) ?? [], item]);
      } else {
        const seen = byArn.get(arn);
        byArn.set(arn, { registration: seen?.registration ?? trigger.registration, fresh: false, items: [...seen?.items ?? [], item] });
      }
    }
    for (const { trigger, item } of taskStops) {
      toDescribe.set(trigger.containerInstanceArn, [...toDescribe.get(trigger.containerInstanceArn) ?? [], item]);
    }
    for (const registration of toDescribe.size > 0 ? await this.api.describeContainerInstances([...toDescribe.keys()]) : []) {
      const items = [...byArn.get(registration.containerInstanceArn)?.items ?? [], ...toDescribe.get(registration.containerInstanceArn) ?? []];
      byArn.set(registration.containerInstanceArn, { registration, fresh: true, items });
    }
    const results = new Map<Item, WorkResult>();
    const byInstance = new Map<string, MaybeDrained[]>();
    for (const entry of byArn.values()) {
      const { registration } = entry;
      if (!mayEndDrain(registration)) {
        this.telemetry.log('debug', 'the container instance is not an empty drain', {
          containerInstanceArn: registration.containerInstanceArn, status: registration.status, events: entry.items.length,
        });
        for (const item of entry.items) results.set(item, 'left-alone');
        continue;
      }
      byInstance.set(registration.ec2InstanceId!, [...byInstance.get(registration.ec2InstanceId!) ?? [], entry]);
    }
    if (byInstance.size === 0) return results;

    const states = await this.api.autoScalingInstances([...byInstance.keys()]);
    const waiting = new Map<string, { state: ReturnType<typeof managedState>; entries: MaybeDrained[] }>();
    for (const [instanceId, entries] of byInstance) {
      const state = managedState(states.get(instanceId), this.config);
      if (!endIsOurs(state, entries.some(e => e.registration.parkedAt !== undefined))) {
        const where = state.groupName === undefined ? 'in no managed group' : state.lifecycleState;
        this.telemetry.log('info', `event ignored: the instance is ${where}`, { instanceId });
        for (const item of entries.flatMap(e => e.items)) results.set(item, 'left-alone');
        continue;
      }
      waiting.set(instanceId, { state, entries });
    }
    if (waiting.size === 0) return results;

    const registrations = await this.completeRegistrations(waiting);
    const views: InstanceView[] = [...waiting].map(([instanceId, { state }]) => ({
      instanceId, ...state, stateRead: true, containerInstances: registrations.get(instanceId) ?? [], registrationsComplete: true,
    }));
    const itemsOf = new Map([...waiting].map(([id, { entries }]) => [id, { items: entries.flatMap(e => e.items) }]));
    for (const [item, result] of await this.runAndMap(views, itemsOf, tally)) results.set(item, result);
    return results;
  }

  /**
   * Every registration of each instance, from one listing by instance id for all of them. A
   * registration known from this batch stands in for a describe when the instance is to be
   * terminated (a stale count is caught by the task read and by ECS refusing the deregistration)
   * or when it was read afresh. Parking for the warm pool, or reactivating, has no such refusal,
   * and the task read sees only tasks ECS is stopping: a late event would hide a task that runs (a
   * job DRAINING does not stop, tasks placed since), so registrations only an event showed are read
   * again there, as are those the listing found beyond the known ones.
   */
  private async completeRegistrations(
    waiting: ReadonlyMap<string, { state: ReturnType<typeof managedState>; entries: MaybeDrained[] }>,
  ): Promise<Map<string, ContainerInstanceView[]>> {
    const usable = new Map<string, ContainerInstanceView>();
    for (const { state, entries } of waiting.values()) {
      for (const { registration, fresh } of entries) {
        if (registrationUsable(state.lifecycleState, registration, fresh)) usable.set(registration.containerInstanceArn, registration);
      }
    }
    const listed = await this.api.registrationArnsOf([...waiting.keys()]);
    const described = await this.api.describeContainerInstances(listed.filter(arn => !usable.has(arn)));
    const known = listed.map(arn => usable.get(arn)).filter((r): r is ContainerInstanceView => r !== undefined);
    return registrationsByInstance([...waiting.keys()], [...known, ...described]);
  }

  /** EC2 warns that Spot instances will be interrupted in two minutes: drain them now, before their lifecycle actions start. */
  private async drainOnSpotWarnings(items: readonly Item[], tally: Tally): Promise<Map<Item, WorkResult>> {
    const byInstance = new Map<string, { items: Item[] }>();
    for (const item of items) {
      const { instanceId } = item.trigger as Extract<Trigger, { kind: 'spot-interruption' }>;
      byInstance.set(instanceId, { items: [...byInstance.get(instanceId)?.items ?? [], item] });
    }
    const states = await this.api.autoScalingInstances([...byInstance.keys()]);
    const views: InstanceView[] = [...byInstance.keys()].map(instanceId => ({
      instanceId, ...managedState(states.get(instanceId), this.config), stateRead: true, containerInstances: [],
    }));
    return this.runAndMap(views, byInstance, tally, planSpotInterruption);
  }

  /** Drains the candidates as one batch and says how each item's instance ended. */
  private async runAndMap(
    views: readonly InstanceView[], itemsOf: ReadonlyMap<string, { items: Item[] }>, tally: Tally, planner?: Planner,
  ): Promise<Map<Item, WorkResult>> {
    const outcomes = await this.drainer.run(views, tally, undefined, planner);
    const results = new Map<Item, WorkResult>();
    for (const [instanceId, { items }] of itemsOf) for (const item of items) results.set(item, outcomes.get(instanceId) ?? 'error');
    return results;
  }

  /** Whether `clusterArn` names the configured cluster; a line when not. */
  private ofThisCluster(clusterArn: string, fields: LogFields): boolean {
    if (ofCluster(clusterArn, this.config.clusterName)) return true;
    this.telemetry.log('info', 'event ignored: another cluster', { ...fields, clusterArn });
    return false;
  }
}

/** The log fields of the instance a trigger is about, if it is about one. */
function fieldsOf(trigger: Trigger): LogFields {
  switch (trigger.kind) {
    case 'lifecycle-action': return { instanceId: trigger.instanceId, groupName: trigger.groupName };
    case 'spot-interruption': return { instanceId: trigger.instanceId };
    case 'container-instance-change': return { instanceId: trigger.registration.ec2InstanceId, containerInstanceArn: trigger.registration.containerInstanceArn };
    case 'task-stopped': return { containerInstanceArn: trigger.containerInstanceArn };
    default: return {};
  }
}

function eventIdOf(event: unknown): unknown {
  return typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
}

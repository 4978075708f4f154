/**
 * The drain controller: a level-triggered reconciler. Whatever woke it up, it reads the state
 * of the instances concerned from Auto Scaling and ECS, asks decide.ts what to do, and does it.
 * Lost, duplicated or reordered events and crashed invocations are repaired by the next event
 * or the one-minute reconcile pass, because nothing is remembered between invocations except
 * what is recorded on the container instances themselves.
 */
import { ClusterApi, RegisteredInstance } from './aws';
import type { ControllerConfig } from './config';
import {
  InstancePlan, InstanceView, mayBeDrained, Outcome, planSpotInterruption, planTermination, recordedAsOnlyRegistration, TERMINATING_WAIT,
} from './decide';
import { formatDrainRecord } from './drain-record';
import { parseTrigger, Trigger } from './events';
import { describeError, Telemetry } from './telemetry';
import { ATTRIBUTE, METRIC } from '../src/constants';

/** What one invocation did, per outcome (also returned by the handler, for tests and logs). */
export interface InvocationSummary {
  readonly trigger: Trigger['kind'];
  readonly outcomes: Partial<Record<Outcome, number>>;
  readonly errors: number;
  /** Instances a time-bounded pass left for the next one. */
  readonly deferred: number;
}

/** A reconcile pass stops taking new instances when less than this is left of the invocation. */
const RESERVED_TIME_MS = 30_000;
/** Instances planned together in a reconcile pass (each batch shares its reads). */
const BATCH_SIZE = 100;

/** How a controller treats an API that throttles it. */
export interface ControllerOptions {
  /**
   * Give up on throttling instead of failing: the invocation ends quietly and the reconcile
   * pass, which batches its calls, does the work within a minute. Meant for event-driven
   * invocations: a scale-in of hundreds of instances wakes as many at once, and retrying each
   * of them only deepens the storm.
   */
  readonly deferOnThrottling?: boolean;
}

export class DrainController {
  constructor(
    private readonly config: ControllerConfig,
    private readonly api: ClusterApi,
    private readonly telemetry: Telemetry,
    private readonly now: () => number = Date.now,
    private readonly options: ControllerOptions = {},
  ) {}

  async handle(event: unknown, remainingTimeMs: () => number = () => Infinity): Promise<InvocationSummary> {
    const trigger = parseTrigger(event);
    const tally = new Tally(trigger.kind);
    // The schedule is its own retry: a failed pass is repeated by the next one a minute later,
    // so a pass reports its errors but does not fail (a Lambda retry would only add load, often
    // to an API that is throttling already, and park a useless event in the dead-letter queue).
    const retriedByLambda = trigger.kind !== 'reconcile';
    try {
      await this.dispatch(event, trigger, tally, remainingTimeMs);
    } catch (error) {
      const fields = instanceFields(trigger);
      if (this.deferred(error, tally, fields)) return tally.summary();
      // A read or a batched write shared by several instances failed: no one instance's
      // `safely` saw it. Log it as structured JSON and count it before Lambda retries.
      this.telemetry.log('error', 'could not handle the event', { trigger: trigger.kind, ...fields, error: describeError(error) });
      this.telemetry.metric(METRIC.ERRORS, 1, fields);
      if (retriedByLambda) throw error;
      tally.errors++;
    }
    const summary = tally.summary();
    if (summary.errors > 0 && retriedByLambda) {
      // Fail the invocation so Lambda retries it and, in the end, the failure destination holds it.
      throw new Error(`${summary.errors} instance(s) could not be handled; see the error lines above`);
    }
    return summary;
  }

  private async dispatch(event: unknown, trigger: Trigger, tally: Tally, remainingTimeMs: () => number): Promise<void> {
    switch (trigger.kind) {
      case 'ignored':
        this.telemetry.log('info', `event ignored: ${trigger.reason}`, { eventId: eventId(event) });
        break;
      case 'reconcile':
        await this.reconcile(tally, remainingTimeMs);
        break;
      case 'lifecycle-action':
        if (!this.config.autoScalingGroupNames.has(trigger.groupName) || trigger.hookName !== this.config.lifecycleHookName) {
          this.telemetry.log('info', 'event ignored: lifecycle action of another group or hook', { ...trigger });
          break;
        }
        await this.onLifecycleAction(trigger, tally);
        break;
      case 'container-instance-change':
        await this.onContainerInstanceChange(trigger, tally);
        break;
      case 'spot-interruption':
        await this.onSpotInterruption(trigger.instanceId, tally);
        break;
    }
  }

  /**
   * The lifecycle action event is itself the word that the instance waits in this hook: set
   * its registrations to DRAINING straight away, and use ECS's answer as the fresh read. A
   * stale or duplicated copy of the event finds them DRAINING or gone already: harmless.
   */
  private async onLifecycleAction(trigger: Extract<Trigger, { kind: 'lifecycle-action' }>, tally: Tally): Promise<void> {
    const arns = await this.api.registrationArnsOf([trigger.instanceId]);
    const registrations = await this.setDraining(arns);
    const candidate: Candidate = { instanceId: trigger.instanceId, groupName: trigger.groupName, lifecycleState: TERMINATING_WAIT };
    await this.drainInstances([candidate], tally, new Map([[trigger.instanceId, registrations]]));
  }

  /**
   * Every instance of the managed groups that waits in its termination hook, in batches. The
   * registrations come from one listing of the cluster's DRAINING container instances; only
   * instances not fully known from it (a lost lifecycle event, several registrations) are
   * looked up by instance id.
   */
  private async reconcile(tally: Tally, remainingTimeMs: () => number): Promise<void> {
    const instances = await this.api.instancesOfGroups([...this.config.autoScalingGroupNames]);
    const waiting = instances.filter(i => i.lifecycleState === TERMINATING_WAIT);
    if (waiting.length === 0) return;
    const waitingIds = new Set(waiting.map(i => i.instanceId));
    const registrations = new Map<string, RegisteredInstance[]>();
    for (const ci of await this.api.drainingContainerInstances()) {
      if (!ci.ec2InstanceId || !waitingIds.has(ci.ec2InstanceId)) continue;
      registrations.set(ci.ec2InstanceId, [...registrations.get(ci.ec2InstanceId) ?? [], ci]);
    }
    const unknown = waiting
      .filter(i => !(registrations.get(i.instanceId)?.length === 1 && recordedAsOnlyRegistration(registrations.get(i.instanceId)![0])))
      .map(i => i.instanceId);
    for (const [instanceId, found] of await this.api.registrationsOf(unknown)) registrations.set(instanceId, found);

    for (let i = 0; i < waiting.length; i += BATCH_SIZE) {
      if (remainingTimeMs() < RESERVED_TIME_MS) {
        tally.deferred += waiting.length - i;
        this.telemetry.log('warn', 'reconcile pass ran out of time; the next pass continues', { deferred: waiting.length - i });
        break;
      }
      await this.drainInstances(waiting.slice(i, i + BATCH_SIZE), tally, registrations);
    }
  }

  /**
   * ECS reports a change of a DRAINING container instance: a task stopped or the counts moved.
   * Only a drain that looks finished is worth reading further.
   */
  private async onContainerInstanceChange(trigger: Extract<Trigger, { kind: 'container-instance-change' }>, tally: Tally): Promise<void> {
    const fields = { containerInstanceArn: trigger.containerInstanceArn, instanceId: trigger.instanceId, version: trigger.version };
    if (!clusterArnNames(trigger.clusterArn, this.config.clusterName)) {
      this.telemetry.log('info', 'event ignored: another cluster', { ...fields, clusterArn: trigger.clusterArn });
      return;
    }
    if (trigger.status !== 'DRAINING') {
      // The rule matches DRAINING only; anything else came another way. One line, nothing done.
      this.telemetry.log('info', `event ignored: container instance is ${trigger.status}, not DRAINING`, fields);
      return;
    }
    if (!mayBeDrained(trigger)) {
      // Tasks still run, or still hold CPU or memory while they stop: the event of the last
      // task's stop will come (and if it is lost, the reconcile pass looks within a minute).
      this.telemetry.log('debug', 'container instance still has tasks', { ...fields, runningTasksCount: trigger.runningTasksCount });
      return;
    }
    // Events may be late, duplicated or out of order: judge on a fresh read.
    const [current] = await this.api.describeContainerInstances([trigger.containerInstanceArn]);
    if (!current?.ec2InstanceId || current.status !== 'DRAINING' || !mayBeDrained(current)) return;
    const instanceId = current.ec2InstanceId;
    const groups = [...this.config.autoScalingGroupNames];
    if (current.deadline === undefined || groups.length > 1) {
      // Not a drain this controller recorded (maybe an operator's), or one of several groups:
      // Auto Scaling says whose it is.
      await this.drainInstances(await this.groupInstances([instanceId]), tally);
      return;
    }
    // A recorded drain is this controller's: it is only written for an instance waiting in this
    // hook (or warned of a Spot interruption); CompleteLifecycleAction confirms the rest.
    const candidate: Candidate = { instanceId, groupName: groups[0], lifecycleState: TERMINATING_WAIT };
    await this.drainInstances([candidate], tally, recordedAsOnlyRegistration(current) ? new Map([[instanceId, [current]]]) : undefined);
  }

  private async onSpotInterruption(instanceId: string, tally: Tally): Promise<void> {
    const [instance] = await this.groupInstances([instanceId]);
    const managed = instance.groupName !== undefined && this.config.drainOnSpotInterruption;
    const registrations = managed ? (await this.api.registrationsOf([instanceId])).get(instanceId) ?? [] : [];
    const view: InstanceView = { ...instance, containerInstances: registrations };
    const plan = planSpotInterruption(view, this.now(), this.config);
    await this.safely(instance, tally, async () => {
      await this.startDrains([{ view, plan }]);
      this.report(view, plan, tally);
    });
  }

  /** Auto Scaling's view of the instances; those outside the managed groups have no group. */
  private async groupInstances(instanceIds: readonly string[]): Promise<Candidate[]> {
    const known = await this.api.autoScalingInstances(instanceIds);
    return instanceIds.map(instanceId => {
      const instance = known.get(instanceId);
      const managed = instance !== undefined && this.config.autoScalingGroupNames.has(instance.groupName);
      return { instanceId, groupName: managed ? instance.groupName : undefined, lifecycleState: instance?.lifecycleState };
    });
  }

  /**
   * Plans and carries out the drain of each instance; reads are shared by the whole batch.
   * `known` holds registrations the caller has read already.
   */
  private async drainInstances(instances: readonly Candidate[], tally: Tally, known?: ReadonlyMap<string, RegisteredInstance[]>): Promise<void> {
    const owned = instances.filter(i => i.groupName !== undefined && i.lifecycleState === TERMINATING_WAIT);
    for (const instance of instances.filter(i => !owned.includes(i))) {
      const view: InstanceView = { ...instance, containerInstances: [] };
      this.report(view, planTermination(view, this.now(), this.config), tally);
    }
    if (owned.length === 0) return;

    const unknown = owned.filter(i => !known?.has(i.instanceId)).map(i => i.instanceId);
    const registrations = new Map([...known ?? [], ...await this.api.registrationsOf(unknown)]);
    let planned = owned.map(instance => {
      const view: InstanceView = { ...instance, containerInstances: registrations.get(instance.instanceId) ?? [] };
      return { view, plan: planTermination(view, this.now(), this.config) };
    });
    await this.startDrains(planned);

    // Second look, for instances that are empty by their counts: are their tasks all STOPPED?
    const toRead = planned.flatMap(p => p.plan.readTasksOf);
    if (toRead.length > 0) {
      const tasks = await this.api.tasksNotStopped(toRead);
      planned = planned.map(({ view, plan }) => {
        if (plan.readTasksOf.length === 0) return { view, plan };
        const reread: InstanceView = {
          ...view,
          containerInstances: view.containerInstances.map(ci => {
            const record = plan.recordDrain.find(r => r.containerInstanceArn === ci.containerInstanceArn);
            return {
              ...ci,
              status: plan.setDraining.includes(ci.containerInstanceArn) ? 'DRAINING' : ci.status,
              deadline: ci.deadline ?? record?.deadline,
              drainStartedAt: ci.drainStartedAt ?? record?.startedAt,
              tasksNotStopped: tasks.get(ci.containerInstanceArn) ?? ci.tasksNotStopped,
            };
          }),
        };
        return { view: reread, plan: planTermination(reread, this.now(), this.config) };
      });
    }

    await Promise.all(planned.map(({ view, plan }) => this.safely(view, tally, async () => {
      await this.finish(view, plan);
      this.report(view, plan, tally);
    })));
  }

  /** DRAINING and drain records for every plan that asks for them, in shared batches. */
  private async startDrains(planned: readonly { view: InstanceView; plan: InstancePlan }[]): Promise<void> {
    await this.setDraining(planned.flatMap(p => p.plan.setDraining));
    const records = planned.flatMap(p => p.plan.recordDrain);
    await this.api.putAttributes(records.map(r => ({
      containerInstanceArn: r.containerInstanceArn, name: ATTRIBUTE.DRAIN, value: formatDrainRecord(r),
    })));
    for (const { view, plan } of planned) {
      if (plan.recordDrain.length > 0) {
        this.telemetry.metric(METRIC.DRAINS_STARTED, 1, { instanceId: view.instanceId, groupName: view.groupName });
        this.telemetry.log('info', 'drain started', {
          instanceId: view.instanceId,
          groupName: view.groupName,
          containerInstanceArns: plan.recordDrain.map(r => r.containerInstanceArn),
          deadline: new Date(plan.recordDrain[0].deadline).toISOString(),
        });
      }
    }
  }

  /** Sets DRAINING; returns the container instances as ECS answered (a fresh read). */
  private async setDraining(arns: readonly string[]): Promise<RegisteredInstance[]> {
    if (arns.length === 0) return [];
    const { containerInstances, failures } = await this.api.setDraining(arns);
    for (const failure of failures) {
      this.telemetry.log('warn', 'ECS did not set the container instance to DRAINING', {
        containerInstanceArn: failure.arn, reason: failure.reason, detail: failure.detail,
      });
    }
    // MISSING or INACTIVE: the registration left the cluster. Any other reason is not taken
    // as gone: the registration is read, so that one still running tasks keeps the instance
    // waiting instead of releasing it.
    const failed = failures
      .filter(f => f.reason !== 'MISSING' && f.reason !== 'INACTIVE')
      .map(f => f.arn).filter((arn): arn is string => arn !== undefined && arns.includes(arn));
    const stillThere = failed.length > 0 ? await this.api.describeContainerInstances(failed) : [];
    return [...containerInstances, ...stillThere.filter(ci => ci.status !== 'INACTIVE')];
  }

  /** Heartbeat, deregistration and completion, as the plan says. */
  private async finish(view: InstanceView, plan: InstancePlan): Promise<void> {
    const { instanceId, groupName } = view;
    if (plan.heartbeat && groupName) {
      const answer = await this.api.recordHeartbeat(groupName, this.config.lifecycleHookName, instanceId);
      await this.api.putAttributes(view.containerInstances.map(ci => ({
        containerInstanceArn: ci.containerInstanceArn, name: ATTRIBUTE.HEARTBEAT, value: epochSeconds(this.now()),
      })));
      this.telemetry.log('info', 'lifecycle heartbeat sent', { instanceId, groupName, answer });
    }
    for (const { containerInstanceArn, force } of plan.deregister) {
      const { forced } = await this.api.deregister(containerInstanceArn, force);
      this.telemetry.log(forced ? 'warn' : 'info', forced ? 'container instance deregistered with force' : 'container instance deregistered', {
        instanceId, groupName, containerInstanceArn,
      });
    }
    if (plan.completeLifecycleAction && groupName) {
      const answer = await this.api.completeLifecycleAction(groupName, this.config.lifecycleHookName, instanceId);
      this.telemetry.log('info', answer === 'completed' ? 'lifecycle action completed' : 'lifecycle action was already over', {
        instanceId, groupName, outcome: plan.outcome,
      });
    }
  }

  private report(view: InstanceView, plan: InstancePlan, tally: Tally): void {
    tally.count(plan.outcome);
    const fields = { instanceId: view.instanceId, groupName: view.groupName, outcome: plan.outcome };
    this.telemetry.log(plan.outcome === 'forced' ? 'warn' : 'info', plan.reason, fields);
    if (plan.outcome === 'drained' || plan.outcome === 'forced') {
      this.telemetry.metric(plan.outcome === 'drained' ? METRIC.DRAINS_COMPLETED : METRIC.DRAINS_FORCED, 1, fields);
      if (plan.drainStartedAt !== undefined) {
        this.telemetry.metric(METRIC.DRAIN_DURATION, Math.max(0, (this.now() - plan.drainStartedAt) / 1000), fields);
      }
    }
  }

  /** With `deferOnThrottling`, a throttled call leaves the work to the reconcile pass. */
  private deferred(error: unknown, tally: Tally, fields: object): boolean {
    if (!this.options.deferOnThrottling || !isThrottling(error)) return false;
    tally.deferred++;
    this.telemetry.log('info', 'throttled: the reconcile pass takes this over within a minute', { ...fields, error: describeError(error) });
    return true;
  }

  /** Runs one instance's work; an error is logged and counted, and the others go on. */
  private async safely(instance: { instanceId: string; groupName?: string }, tally: Tally, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (this.deferred(error, tally, { instanceId: instance.instanceId, groupName: instance.groupName })) return;
      tally.errors++;
      this.telemetry.log('error', 'could not handle the instance', { instanceId: instance.instanceId, groupName: instance.groupName, error: describeError(error) });
      this.telemetry.metric(METRIC.ERRORS, 1, { instanceId: instance.instanceId });
    }
  }
}

/** An instance the controller may act on, as Auto Scaling reports it. */
interface Candidate {
  readonly instanceId: string;
  /** The managed group it belongs to; undefined when it belongs to none of them. */
  readonly groupName?: string;
  readonly lifecycleState?: string;
}

class Tally {
  errors = 0;
  deferred = 0;
  private readonly outcomes: Partial<Record<Outcome, number>> = {};
  constructor(private readonly trigger: Trigger['kind']) {}
  count(outcome: Outcome): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
  }
  summary(): InvocationSummary {
    return { trigger: this.trigger, outcomes: { ...this.outcomes }, errors: this.errors, deferred: this.deferred };
  }
}

/** True when `clusterArn` (arn:…:cluster/NAME) names the configured cluster (a name or an ARN). */
function clusterArnNames(clusterArn: string, configured: string): boolean {
  return clusterArn === configured || clusterArn.endsWith(`:cluster/${configured}`);
}

/** ECS answers ThrottlingException, Auto Scaling Throttling (their API references). */
function isThrottling(error: unknown): boolean {
  const name = (error as { name?: unknown })?.name;
  return name === 'ThrottlingException' || name === 'Throttling';
}

function epochSeconds(ms: number): string {
  return String(Math.floor(ms / 1000));
}

/** The log fields of the instance a trigger is about, if it is about one. */
function instanceFields(trigger: Trigger): { instanceId?: string; groupName?: string; containerInstanceArn?: string } {
  switch (trigger.kind) {
    case 'lifecycle-action': return { instanceId: trigger.instanceId, groupName: trigger.groupName };
    case 'spot-interruption': return { instanceId: trigger.instanceId };
    case 'container-instance-change': return { instanceId: trigger.instanceId, containerInstanceArn: trigger.containerInstanceArn };
    default: return {};
  }
}

function eventId(event: unknown): unknown {
  return typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
}

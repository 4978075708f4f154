/**
 * The drain controller: a level-triggered reconciler. Whatever woke it up, it reads the state
 * of the instances concerned from Auto Scaling and ECS, asks decide.ts what to do, and has
 * drainer.ts do it. Lost, duplicated or reordered events and crashed invocations are repaired by
 * the next event or the one-minute reconcile pass (reconcile.ts), because nothing is remembered
 * between invocations except what is recorded on the container instances themselves.
 */
import { ClusterApi, RegisteredInstance } from './aws';
import type { ControllerConfig } from './config';
import { keepsRegistration, mayBeDrained, planSpotInterruption, REPLACING_ROOT_VOLUME_WAIT, TERMINATING_WAIT, WAIT_STATES } from './decide';
import { Candidate, Drainer, ErrorPolicy, InvocationSummary, isThrottling, managedState, Tally } from './drainer';
import { parseTrigger, Trigger } from './events';
import { PassMemory, ReconcilePass } from './reconcile';
import { describeError, LogFields, Telemetry } from './telemetry';
import { METRIC } from '../src/constants';

export type { InvocationSummary } from './drainer';

/** How a controller treats an API that throttles it. */
export interface ControllerOptions extends ErrorPolicy {
  /**
   * After a throttled call, event-driven invocations of this execution environment make no call
   * for this long and leave their instances to the reconcile pass. A scale-in of hundreds of
   * instances wakes as many invocations, whose few reads each exhaust ECS's read bucket that the
   * pass, reading for all of them at once, needs: stepping aside lets the pass through.
   * @default 0 (never)
   */
  readonly stepAsideAfterThrottlingMs?: number;
}

type LifecycleTrigger = Extract<Trigger, { kind: 'lifecycle-action' }>;

/**
 * Auto Scaling emits the lifecycle action event when the action starts; its `time` can be a little
 * after that start. This much earlier is taken as the start of the hook's clock (the completion
 * margin of 5 minutes leaves room for it).
 */
const EVENT_TIME_SLACK_MS = 60_000;
type ContainerInstanceTrigger = Extract<Trigger, { kind: 'container-instance-change' }>;
type TaskStoppedTrigger = Extract<Trigger, { kind: 'task-stopped' }>;

export class DrainController {
  private readonly drainer: Drainer;
  /** When a call of this environment was last deferred for throttling (epoch ms). */
  private lastThrottledAt = -Infinity;
  /** Lives as long as the controller (its execution environment): see PassMemory. */
  private readonly passMemory = new PassMemory();

  constructor(
    private readonly config: ControllerConfig,
    private readonly api: ClusterApi,
    private readonly telemetry: Telemetry,
    private readonly now: () => number = Date.now,
    private readonly options: ControllerOptions = {},
  ) {
    this.drainer = new Drainer(config, api, telemetry, now, { ...options, onThrottled: () => this.throttled() });
  }

  private throttled(): void {
    this.lastThrottledAt = this.now();
  }

  async handle(event: unknown, remainingTimeMs: () => number = () => Infinity): Promise<InvocationSummary> {
    const trigger = parseTrigger(event);
    const tally = new Tally(trigger.kind);
    const stepAsideMs = this.options.stepAsideAfterThrottlingMs ?? 0;
    if (trigger.kind !== 'reconcile' && trigger.kind !== 'ignored' && this.now() - this.lastThrottledAt < stepAsideMs) {
      tally.deferred++;
      this.telemetry.log('info', 'recently throttled: the reconcile pass takes this over', instanceFields(trigger));
      return tally.summary();
    }
    // The schedule is its own retry: a failed pass is repeated by the next one a minute later,
    // so a pass reports its errors but does not fail (a Lambda retry would only add load, often
    // to an API that is throttling already, and park a useless event in the dead-letter queue).
    const retriedByLambda = trigger.kind !== 'reconcile';
    try {
      await this.dispatch(event, trigger, tally, remainingTimeMs);
    } catch (error) {
      // A read shared by the whole invocation failed before any instance's work began.
      const fields = instanceFields(trigger);
      if (this.options.deferOnThrottling && isThrottling(error)) {
        this.throttled();
        tally.deferred++;
        this.telemetry.log('info', 'throttled: the reconcile pass takes this over within a minute', { ...fields, error: describeError(error) });
        return tally.summary();
      }
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
        await new ReconcilePass(this.config, this.api, this.telemetry, this.now, this.passMemory).run(tally, remainingTimeMs);
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
      case 'task-stopped':
        await this.onTaskStopped(trigger, tally);
        break;
      case 'spot-interruption':
        await this.onSpotInterruption(trigger.instanceId, tally);
        break;
    }
  }

  /**
   * The lifecycle action event is itself the word that the instance waits in this hook: its
   * ACTIVE registrations are set DRAINING straight away, and ECS's answer is the fresh read. The
   * event's time, less a slack, starts the record's hook clock. A
   * stale or duplicated copy of the event finds them DRAINING or gone already: harmless; and
   * nothing is deregistered before Auto Scaling confirms that the instance still waits.
   */
  private async onLifecycleAction(trigger: LifecycleTrigger, tally: Tally): Promise<void> {
    const active = await this.api.registrationArnsOf([trigger.instanceId], 'ACTIVE');
    const candidate: Candidate = {
      instanceId: trigger.instanceId,
      groupName: trigger.groupName,
      lifecycleState: lifecycleStateOf(trigger),
      stateRead: false,
      hookClockFrom: trigger.time === undefined ? undefined : Math.min(trigger.time, this.now()) - EVENT_TIME_SLACK_MS,
      // Listed ACTIVE, not read yet: DRAINING is asked for them, and ECS answers with their state.
      registrations: active.length > 0 ? active.map(activeRegistration) : undefined,
    };
    await this.drainer.run([candidate], tally);
  }

  /**
   * ECS reports a change of a DRAINING container instance: a task was placed or told to stop, a
   * task that should run stopped on its own, the agent (dis)connected. Only a drain that looks
   * finished (or a parked registration back in service) is worth more. Events may be late,
   * duplicated or out of order; the release itself rests on fresh reads and on ECS accepting the
   * deregistration.
   */
  private async onContainerInstanceChange(trigger: ContainerInstanceTrigger, tally: Tally): Promise<void> {
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
    if (!trigger.parked && !mayBeDrained(trigger)) {
      // Tasks still run, or still hold CPU or memory while they stop: the task state change event
      // of the last one's stop will come (and if it is lost, the reconcile pass looks within a minute).
      this.telemetry.log('debug', 'container instance still has tasks', { ...fields, runningTasksCount: trigger.runningTasksCount });
      return;
    }
    let registration: RegisteredInstance | undefined = fromEvent(trigger);
    if (trigger.instanceId === undefined) {
      [registration] = await this.api.describeContainerInstances([trigger.containerInstanceArn]);
      if (!registration?.ec2InstanceId || registration.status !== 'DRAINING') return;
    }
    await this.checkDrained(registration, registration !== undefined && trigger.instanceId === undefined, fields, tally);
  }

  /**
   * A task stopped on a container instance of the cluster. The event says nothing of the
   * instance, so one read does: only a DRAINING registration that looks empty goes further.
   */
  private async onTaskStopped(trigger: TaskStoppedTrigger, tally: Tally): Promise<void> {
    const fields = { containerInstanceArn: trigger.containerInstanceArn, taskArn: trigger.taskArn };
    if (!clusterArnNames(trigger.clusterArn, this.config.clusterName)) {
      this.telemetry.log('info', 'event ignored: another cluster', { ...fields, clusterArn: trigger.clusterArn });
      return;
    }
    const [registration] = await this.api.describeContainerInstances([trigger.containerInstanceArn]);
    if (!registration?.ec2InstanceId || registration.status !== 'DRAINING' || (!registration.parked && !mayBeDrained(registration))) {
      this.telemetry.log('debug', 'the stopped task\'s container instance is not an empty drain', { ...fields, status: registration?.status });
      return;
    }
    await this.checkDrained(registration, true, { ...fields, instanceId: registration.ec2InstanceId }, tally);
  }

  /**
   * A DRAINING registration that looks drained (or parked): Auto Scaling says whether its instance
   * waits in this hook, and a listing by instance id whether it has other registrations. The
   * registration (read fresh, or as an event showed it) stands in for a describe when it is the
   * instance's only one and the instance is to be terminated: a stale count is caught by the task
   * read and by ECS refusing the deregistration. Parking for the warm pool, or reactivating, has no
   * such refusal, and the task read sees only tasks ECS is stopping: a late event would hide a task
   * that runs (a job DRAINING does not stop, tasks placed since), so registrations an event showed
   * are read again there, as are those of an instance with several (the listing is all of them).
   */
  private async checkDrained(registration: RegisteredInstance, fresh: boolean, fields: LogFields, tally: Tally): Promise<void> {
    const instanceId = registration.ec2InstanceId!;
    const state = managedState((await this.api.autoScalingInstances([instanceId])).get(instanceId), this.config);
    const waiting = state.lifecycleState !== undefined && WAIT_STATES[state.lifecycleState] !== undefined;
    if (state.groupName === undefined || (!waiting && !registration.parked)) {
      // Not a managed instance waiting in this hook (an operator's drain, an instance back in
      // service): not the controller's to touch.
      this.telemetry.log('info', `event ignored: the instance is ${state.groupName === undefined ? 'in no managed group' : state.lifecycleState}`, { ...fields, instanceId });
      return;
    }
    const arns = await this.api.registrationArnsOf([instanceId]);
    const only = arns.length === 1 && arns[0] === registration.containerInstanceArn;
    const destination = state.lifecycleState === undefined ? undefined : WAIT_STATES[state.lifecycleState];
    const terminating = destination !== undefined && !keepsRegistration(destination);
    const registrations = only && (terminating || fresh) ? [registration] : await this.api.describeContainerInstances(arns);
    await this.drainer.run([{
      instanceId,
      ...state,
      stateRead: true,
      registrations,
      registrationsComplete: true,
    }], tally);
  }

  private async onSpotInterruption(instanceId: string, tally: Tally): Promise<void> {
    const state = managedState((await this.api.autoScalingInstances([instanceId])).get(instanceId), this.config);
    const candidate: Candidate = { instanceId, ...state, stateRead: true };
    await this.drainer.run([candidate], tally, undefined, planSpotInterruption);
  }
}

/** The lifecycle state the event's Origin and Destination mean (user guide, warm pool events). */
function lifecycleStateOf(trigger: LifecycleTrigger): string {
  // Root volume replacement: Origin and Destination AutoScalingGroup, Action ReplaceRootVolume
  // (user guide, "Instance refresh example events and patterns").
  if (trigger.action === 'ReplaceRootVolume') return REPLACING_ROOT_VOLUME_WAIT;
  if (trigger.destination === 'WarmPool') return 'Warmed:Pending:Wait';
  if (trigger.origin === 'WarmPool') return 'Warmed:Terminating:Wait';
  return TERMINATING_WAIT;
}

/** A registration listed as ACTIVE and not read yet: assumed busy until ECS answers. */
function activeRegistration(containerInstanceArn: string): RegisteredInstance {
  return { containerInstanceArn, status: 'ACTIVE', runningTasksCount: 1, pendingTasksCount: 0 };
}

function fromEvent(trigger: ContainerInstanceTrigger): RegisteredInstance {
  return {
    containerInstanceArn: trigger.containerInstanceArn,
    ec2InstanceId: trigger.instanceId,
    status: trigger.status,
    runningTasksCount: trigger.runningTasksCount ?? 0,
    pendingTasksCount: trigger.pendingTasksCount ?? 0,
    resourcesReleased: trigger.resourcesReleased,
    ...trigger.record ? { record: trigger.record } : {},
    ...trigger.parked ? { parked: true } : {},
  };
}

/** True when `clusterArn` (arn:…:cluster/NAME) names the configured cluster (a name or an ARN). */
function clusterArnNames(clusterArn: string, configured: string): boolean {
  return clusterArn === configured || clusterArn.endsWith(`:cluster/${configured}`);
}

/** The log fields of the instance a trigger is about, if it is about one. */
function instanceFields(trigger: Trigger): { instanceId?: string; groupName?: string; containerInstanceArn?: string } {
  switch (trigger.kind) {
    case 'lifecycle-action': return { instanceId: trigger.instanceId, groupName: trigger.groupName };
    case 'spot-interruption': return { instanceId: trigger.instanceId };
    case 'container-instance-change': return { instanceId: trigger.instanceId, containerInstanceArn: trigger.containerInstanceArn };
    case 'task-stopped': return { containerInstanceArn: trigger.containerInstanceArn };
    default: return {};
  }
}

function eventId(event: unknown): unknown {
  return typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
}

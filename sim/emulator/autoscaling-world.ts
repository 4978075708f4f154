/**
 * The EC2 / Auto Scaling side of the world: groups, instances, termination lifecycle hooks, warm pools.
 *
 * Auto Scaling user guide, "Amazon EC2 Auto Scaling lifecycle hooks": a terminating instance
 * with a termination hook waits in Terminating:Wait until every hook's action is completed or
 * times out (heartbeat timeout, reset by RecordLifecycleActionHeartbeat; global timeout the
 * smaller of 48 hours and 100 × the heartbeat timeout), then goes Terminating:Proceed and is
 * terminated. For a termination hook CONTINUE and ABANDON both terminate; ABANDON also skips
 * the remaining hooks.
 *
 * Warm pools (Auto Scaling user guide, "Warm pools for Amazon EC2 Auto Scaling", "Use lifecycle
 * hooks with a warm pool", "Warm pool event types and patterns"):
 * - with ReuseOnScaleIn a scale-in returns the instance to the pool: Warmed:Pending, the
 *   termination hooks in Warmed:Pending:Wait (event Origin AutoScalingGroup, Destination
 *   WarmPool), then Warmed:Pending:Proceed and Warmed:Stopped / Warmed:Running /
 *   Warmed:Hibernated per PoolState; without it scale-in terminates as usual;
 * - a scale-out takes pool instances first (Warmed:Stopped → Pending → InService);
 * - the pool keeps max(MinSize, (MaxGroupPreparedCapacity or MaxSize) − DesiredCapacity)
 *   instances: it launches new ones into the pool and terminates the surplus (Warmed:Terminating,
 *   hooks in Warmed:Terminating:Wait with Origin WarmPool, Destination EC2, then Warmed:Terminated);
 * - Origin and Destination appear only on events of groups with a warm pool (and on those of a
 *   root volume replacement, below).
 *
 * Launch hooks ("How lifecycle hooks work in Auto Scaling groups"): an instance launched into a group
 * with EC2_INSTANCE_LAUNCHING hooks waits in Pending:Wait (one "EC2 Instance-launch Lifecycle
 * Action" event per hook) until every action is completed or times out, then goes
 * Pending:Proceed and InService. ABANDON (CompleteLifecycleAction API reference,
 * LifecycleActionResult: for a launching instance ABANDON means the custom actions failed and the
 * instance can be terminated) terminates it; the emulator takes its one termination path there
 * (termination hooks included) and launches no replacement, which the pages do not describe.
 * The ECS agent registers during Pending:Wait as at any launch (it waits only for a warm pool).
 * Launch hooks of instances entering or leaving a warm pool, or after a root volume swap, are not modelled.
 *
 * DeleteLifecycleHook (API reference): "If there are any outstanding lifecycle actions, they are
 * completed first (ABANDON for launching instances, CONTINUE for terminating instances)".
 *
 * Root volume replacement (an instance refresh with Strategy ReplaceRootVolume): see
 * `replaceRootVolume`.
 */
import { SimClock } from '../clock';
import { validateRegistrationAttributes } from './ecs-attributes';
import { EcsWorld } from './ecs-world';
import { autoScalingErrors } from './errors';
import { EmittedEvent, EventFactory } from './events';
import {
  AutoScalingGroup, AutoScalingGroupOptions, ContainerInstance, Ec2Instance, isReplacingRootVolume, isWarmed, LaunchOptions, LifecycleAction,
  LifecycleHook, LifecycleHookOptions, LifecycleState, WARMED_RESTING_STATES, WarmPoolOptions,
} from './model';
import { CompletedBy, Observer, RootVolumeReplacement, WarmPoolVisit } from './observer';
import { SeededRandom } from './random';
import { History } from './stale-reads';

const GLOBAL_TIMEOUT_CAP_MS = 48 * 60 * 60 * 1000;
/** From Terminating:Proceed to gone. */
const TERMINATION_DURATION_MS = [5_000, 15_000] as const;
/** From Warmed:Pending:Proceed to stopped (or hibernated) in the pool: not documented, like a termination. */
const STOP_DURATION_MS = [5_000, 15_000] as const;
/** From leaving the pool (Pending) to InService: the host starts and boots; not documented. */
const START_DURATION_MS = [10_000, 30_000] as const;
/**
 * Root volume replacement: from ReplacingRootVolume:Proceed to the swap (the replacement volume is
 * created, the old one detached, the instance reboots), then RootVolumeReplaced for a moment, then
 * Pending while Auto Scaling checks its health. None of these durations is documented; the boot
 * after the swap takes START_DURATION_MS, like a start out of a warm pool.
 */
const ROOT_VOLUME_SWAP_MS = [5_000, 15_000] as const;
const ROOT_VOLUME_REPLACED_MS = [1_000, 3_000] as const;
const HEALTH_CHECK_MS = [5_000, 10_000] as const;

/**
 * The route of a lifecycle event, only for groups with a warm pool (warm pool event types and
 * patterns) and for a root volume replacement (instance refresh example events and patterns).
 */
type Route = {
  Origin: 'EC2' | 'AutoScalingGroup' | 'WarmPool';
  Destination: 'EC2' | 'AutoScalingGroup' | 'WarmPool';
  /** Only on the lifecycle events of a root volume replacement ("Instance refresh example events and patterns"). */
  Action?: 'ReplaceRootVolume';
};
/** EC2 reclaims a Spot instance two minutes after the interruption warning (EC2 user guide, Spot interruptions). */
const SPOT_RECLAIM_MS = 120_000;
/** How long Auto Scaling takes to react to a Spot interruption warning. */
const SPOT_REACTION_MS = 2_000;

export type { CompletedBy } from './observer';

type Transition = LifecycleHook['transition'];
const LAUNCHING: Transition = 'autoscaling:EC2_INSTANCE_LAUNCHING';
const TERMINATING: Transition = 'autoscaling:EC2_INSTANCE_TERMINATING';
/** The EventBridge detail-type of each transition's lifecycle action (Auto Scaling user guide, EventBridge event reference). */
const ACTION_DETAIL_TYPE: Record<Transition, string> = {
  [LAUNCHING]: 'EC2 Instance-launch Lifecycle Action',
  [TERMINATING]: 'EC2 Instance-terminate Lifecycle Action',
};

/**
 * Option staleReads (emulator/stale-reads.ts): the versions of each instance's lifecycle state and
 * each group's desired capacity, and the instances that left a group within the window, for the
 * stale answers of DescribeAutoScalingInstances, DescribeAutoScalingGroups and DescribeWarmPool.
 */
export class AutoScalingHistory {
  readonly states: History<LifecycleState>;
  readonly desiredCapacities: History<number>;
  /** Per group, the instances terminated within the window (a stale answer may still list them). */
  private readonly departed = new Map<AutoScalingGroup, Array<{ instance: Ec2Instance; at: number }>>();

  constructor(private readonly clock: SimClock, private readonly windowMs: number) {
    this.states = new History(clock, windowMs);
    this.desiredCapacities = new History(clock, windowMs);
  }

  left(group: AutoScalingGroup, instance: Ec2Instance): void {
    const list = this.departedFrom(group);
    list.push({ instance, at: this.clock.now() });
  }

  /** The group's instances terminated within the window, oldest departure first. */
  departedFrom(group: AutoScalingGroup): Array<{ instance: Ec2Instance; at: number }> {
    let list = this.departed.get(group);
    if (!list) {
      list = [];
      this.departed.set(group, list);
    }
    const horizon = this.clock.now() - this.windowMs;
    let drop = 0;
    while (drop < list.length && list[drop].at < horizon) drop++;
    if (drop > 0) list.splice(0, drop);
    return list;
  }
}

export class AutoScalingWorld {
  private readonly groups = new Map<string, AutoScalingGroup>();
  private readonly instances = new Map<string, Ec2Instance>();

  constructor(
    private readonly clock: SimClock,
    private readonly random: SeededRandom,
    private readonly events: EventFactory,
    private readonly emit: (event: EmittedEvent) => void,
    private readonly observer: Observer,
    private readonly ecs: EcsWorld,
    private readonly region: string,
    private readonly accountId: string,
    /** Option staleReads: kept only then. */
    private readonly history?: AutoScalingHistory,
  ) {}

  // ---- groups and hooks ---------------------------------------------------------------------

  createAutoScalingGroup(options: AutoScalingGroupOptions): AutoScalingGroup {
    if (this.groups.has(options.name)) throw autoScalingErrors.validation(`AutoScalingGroup by this name already exists - A group with the name ${options.name} already exists`);
    const group: AutoScalingGroup = {
      name: options.name,
      arn: `arn:aws:autoscaling:${this.region}:${this.accountId}:autoScalingGroup:${this.random.uuid()}:autoScalingGroupName/${options.name}`,
      createdAt: this.clock.now(),
      minSize: options.minSize,
      maxSize: options.maxSize,
      desiredCapacity: 0,
      hooks: new Map(),
      instances: new Map(),
      launchTemplate: options.launchTemplate,
    };
    if (this.history) tracked(group, 'desiredCapacity', this.history.desiredCapacities);
    this.groups.set(group.name, group);
    this.setDesiredCapacity(group.name, options.desiredCapacity);
    return group;
  }

  putLifecycleHook(options: LifecycleHookOptions): LifecycleHook {
    const group = this.group(options.groupName);
    this.checkLifecycleHook(options);
    const hook: LifecycleHook = {
      name: options.hookName,
      transition: options.transition ?? 'autoscaling:EC2_INSTANCE_TERMINATING',
      heartbeatTimeoutSeconds: options.heartbeatTimeoutSeconds ?? 3600,
      defaultResult: options.defaultResult ?? 'ABANDON',
      notificationMetadata: options.notificationMetadata,
    };
    group.hooks.set(hook.name, hook);
    return hook;
  }

  /**
   * What PutLifecycleHook refuses in its parameters (API reference: HeartbeatTimeout 30..7200 s,
   * LifecycleTransition and DefaultResult one of their values), group aside: throws ValidationError.
   */
  checkLifecycleHook(options: LifecycleHookOptions): void {
    const heartbeat = options.heartbeatTimeoutSeconds ?? 3600;
    if (!Number.isInteger(heartbeat) || heartbeat < 30 || heartbeat > 7200) {
      throw autoScalingErrors.validation('HeartbeatTimeout must be between 30 and 7200 seconds.');
    }
    if (options.transition !== undefined && options.transition !== LAUNCHING && options.transition !== TERMINATING) {
      throw autoScalingErrors.validation(`Invalid LifecycleTransition ${String(options.transition)}.`);
    }
    if (options.defaultResult !== undefined && options.defaultResult !== 'CONTINUE' && options.defaultResult !== 'ABANDON') {
      throw autoScalingErrors.validation(`Invalid DefaultResult ${String(options.defaultResult)}.`);
    }
  }

  /**
   * DeleteLifecycleHook: the hook's outstanding actions are completed first, ABANDON for
   * launching instances and CONTINUE for terminating ones (their timers cancelled), observed as
   * completed by `hook-deleted`; then the hook is gone. Returns false when the group has no such
   * hook. The group must exist (ValidationError otherwise).
   */
  deleteLifecycleHook(groupName: string, hookName: string): boolean {
    const group = this.group(groupName);
    if (!group.hooks.has(hookName)) return false;
    // Out of the group first, so that nothing the completions set off starts a new action of it.
    group.hooks.delete(hookName);
    for (const instance of [...group.instances.values()]) {
      const action = instance.actions.get(hookName);
      if (action) this.complete(instance, hookName, action.hook.transition === LAUNCHING ? 'ABANDON' : 'CONTINUE', 'hook-deleted');
    }
    return true;
  }

  /** The group's lifecycle hooks (what DescribeLifecycleHooks lists). */
  lifecycleHooks(groupName: string): LifecycleHook[] {
    return [...this.group(groupName).hooks.values()];
  }

  /**
   * PutWarmPool (Auto Scaling API reference): PoolState Stopped by default, MinSize 0 by default,
   * MaxGroupPreparedCapacity -1 (or none) for "the group's MaxSize". "This operation cannot be
   * called on an Auto Scaling group that has a mixed instances policy or a launch template or launch
   * configuration that requests Spot Instances."
   */
  putWarmPool(options: WarmPoolOptions): void {
    const group = this.group(options.groupName);
    this.checkWarmPool(options);
    const minSize = options.minSize ?? 0;
    const prepared = options.maxGroupPreparedCapacity ?? -1;
    const poolState = options.poolState ?? 'Stopped';
    group.warmPool = {
      poolState,
      minSize,
      maxGroupPreparedCapacity: prepared === -1 ? undefined : prepared,
      reuseOnScaleIn: options.reuseOnScaleIn ?? false,
    };
    this.maintainWarmPool(group);
  }

  /** What PutWarmPool refuses (see putWarmPool); a group that does not exist yet is not checked here. */
  checkWarmPool(options: WarmPoolOptions): void {
    if (this.groups.get(options.groupName)?.launchTemplate?.spot) {
      throw autoScalingErrors.validation('You cannot add a warm pool to an Auto Scaling group that requests Spot Instances.');
    }
    // Limitations of "Replace root volumes during instance refresh": no warm pool is added while a
    // refresh replaces root volumes (here: while an instance's replacement is not back InService).
    const group = this.groups.get(options.groupName);
    if (group && [...group.instances.values()].some(i => this.replacingRootVolume(i))) {
      throw autoScalingErrors.validation(`An instance refresh with Replace Root Volume is in progress for ${group.name}; a warm pool cannot be added now.`);
    }
    const minSize = options.minSize ?? 0;
    const prepared = options.maxGroupPreparedCapacity ?? -1;
    if (!Number.isInteger(minSize) || minSize < 0) throw autoScalingErrors.validation('MinSize must be 0 or more.');
    if (!Number.isInteger(prepared) || prepared < -1) throw autoScalingErrors.validation('MaxGroupPreparedCapacity must be -1 or more.');
    const poolState = options.poolState ?? 'Stopped';
    if (!['Stopped', 'Running', 'Hibernated'].includes(poolState)) throw autoScalingErrors.validation(`Invalid PoolState ${poolState}.`);
  }

  /** Throws ValidationError when the group does not exist (or was deleted). */
  group(name: string): AutoScalingGroup {
    const group = this.groups.get(name);
    if (!group) throw autoScalingErrors.validation(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    return group;
  }

  allGroups(): AutoScalingGroup[] {
    return [...this.groups.values()];
  }

  /** An instance of any group that is not yet terminated (in the group or in its warm pool). */
  instance(id: string): Ec2Instance | undefined {
    const instance = this.instances.get(id);
    return instance && !isTerminated(instance.lifecycleState) ? instance : undefined;
  }

  /**
   * The instance as a read answering for instant `at` sees it (option staleReads; undefined `at`:
   * now): undefined when it was not launched yet or already terminated then.
   */
  instanceAsOf(id: string, at: number | undefined): { instance: Ec2Instance; state: LifecycleState } | undefined {
    const instance = at === undefined ? this.instance(id) : this.instances.get(id);
    if (!instance) return undefined;
    const state = this.stateAsOf(instance, at);
    return state === undefined ? undefined : { instance, state };
  }

  /** Its lifecycle state as of `at`; undefined: not launched yet, or terminated. */
  stateAsOf(instance: Ec2Instance, at: number | undefined): LifecycleState | undefined {
    const version = this.history && at !== undefined ? this.history.states.asOf(instance, at) : 'live';
    const state = version === 'live' ? instance.lifecycleState : version === 'absent' ? undefined : version;
    return state === undefined || isTerminated(state) ? undefined : state;
  }

  /**
   * The group's instances (its warm pool's included) with their states as of `at`, in launch order:
   * also those terminated since, none launched after.
   */
  membersAsOf(group: AutoScalingGroup, at: number | undefined): Array<{ instance: Ec2Instance; state: LifecycleState }> {
    const candidates = [...group.instances.values()];
    if (this.history && at !== undefined) {
      candidates.push(...this.history.departedFrom(group).map(d => d.instance));
      candidates.sort((a, b) => a.launchedAt - b.launchedAt);
    }
    const members: Array<{ instance: Ec2Instance; state: LifecycleState }> = [];
    for (const instance of candidates) {
      const state = this.stateAsOf(instance, at);
      if (state !== undefined) members.push({ instance, state });
    }
    return members;
  }

  /** The group's desired capacity as of `at`. */
  desiredCapacityAsOf(group: AutoScalingGroup, at: number | undefined): number {
    const version = this.history && at !== undefined ? this.history.desiredCapacities.asOf(group, at) : 'live';
    return typeof version === 'number' ? version : group.desiredCapacity;
  }

  /** A fault: the group is force-deleted with its instances and outstanding lifecycle actions. */
  deleteAutoScalingGroup(name: string): void {
    const group = this.groups.get(name);
    if (!group) return;
    this.groups.delete(name);
    for (const instance of [...group.instances.values()]) {
      this.cancelActions(instance);
      this.terminateNow(instance);
    }
  }

  // ---- instances ----------------------------------------------------------------------------

  /** InService at once, or Pending:Wait while the group's launch hooks' actions are outstanding. */
  launchInstance(groupName: string, options: LaunchOptions = {}): string {
    const group = this.group(groupName);
    const launchHooks = this.hooksOf(group, LAUNCHING);
    const instance = this.createInstance(group, options, launchHooks.length > 0 ? 'Pending:Wait' : 'InService');
    const inGroup = [...group.instances.values()].filter(i => !isWarmed(i.lifecycleState)).length;
    if (inGroup > group.desiredCapacity) group.desiredCapacity = inGroup;
    if (options.cluster !== undefined) this.registerAgent(instance);
    if (launchHooks.length > 0) {
      this.observer.timeline(instance.id).launchWait = { startedAt: this.clock.now() };
      this.startActions(instance, group, launchHooks, group.warmPool ? { Origin: 'EC2', Destination: 'AutoScalingGroup' } : undefined);
    }
    return instance.id;
  }

  /**
   * A new instance launched into the group's warm pool (the pool below its size, or a scenario).
   * With ECS_WARM_POOLS_CHECK (the default) the agent waits for the InService target state and does
   * not register in the pool (amazon-ecs-agent, agent/app/agent.go, waitUntilInstanceInService);
   * without it the agent registers at first boot and its host is stopped afterwards (Auto Scaling
   * user guide, warm pool limitations: instances "might register with the cluster before they
   * finish initializing").
   */
  launchIntoWarmPool(groupName: string, options: LaunchOptions = {}): string {
    const group = this.group(groupName);
    if (!group.warmPool) throw autoScalingErrors.validation(`The Auto Scaling group ${groupName} has no warm pool.`);
    const instance = this.createInstance(group, options, 'Warmed:Pending');
    this.observer.timeline(instance.id).warmPoolVisits.push({ enteredAt: this.clock.now(), origin: 'EC2', tasksAliveAtStop: [] });
    if (options.cluster !== undefined && options.warmPoolsCheck === false) this.registerAgent(instance);
    this.settleInWarmPool(instance);
    return instance.id;
  }

  /**
   * SetDesiredCapacity: scale-out takes warm pool instances first, then launches from the launch
   * template; scale-in terminates, or returns instances to the warm pool with ReuseOnScaleIn.
   */
  setDesiredCapacity(groupName: string, desired: number): void {
    const group = this.group(groupName);
    if (desired > group.maxSize) {
      throw autoScalingErrors.validation(`New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`);
    }
    if (desired < group.minSize) {
      throw autoScalingErrors.validation(`New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`);
    }
    group.desiredCapacity = desired;
    const members = [...group.instances.values()];
    const inService = members.filter(i => i.lifecycleState === 'InService');
    // An instance whose root volume is being replaced stays in the group (the refresh keeps it, "Replace
    // root volumes during instance refresh"): it counts toward the capacity and is not chosen for
    // scale-in. Neither is documented in so many words.
    const capacity = inService.length + members.filter(i => i.lifecycleState.startsWith('Pending') || isReplacingRootVolume(i.lifecycleState)).length;
    if (capacity > desired) {
      // Close to the default termination policy for one launch template: oldest instances first.
      for (const instance of inService.slice(0, capacity - desired)) {
        if (group.warmPool?.reuseOnScaleIn) this.returnToWarmPool(instance);
        else this.beginTermination(instance);
      }
    } else {
      let missing = desired - capacity;
      // "Whenever your application needs to scale out, the Auto Scaling group can draw on the warm pool."
      for (const instance of members.filter(i => WARMED_RESTING_STATES.includes(i.lifecycleState))) {
        if (missing === 0) break;
        this.leaveWarmPool(instance);
        missing--;
      }
      if (group.launchTemplate) for (; missing > 0; missing--) this.launchInstance(group.name, group.launchTemplate);
    }
    this.maintainWarmPool(group);
  }

  scaleIn(groupName: string, count: number): void {
    const group = this.group(groupName);
    this.setDesiredCapacity(groupName, Math.max(group.minSize, group.desiredCapacity - count));
  }

  scaleOut(groupName: string, count: number): void {
    const group = this.group(groupName);
    this.setDesiredCapacity(groupName, Math.min(group.maxSize, group.desiredCapacity + count));
  }

  terminateInstanceInAutoScalingGroup(instanceId: string, decrementDesiredCapacity: boolean): Ec2Instance {
    const instance = this.instance(instanceId);
    if (!instance || !this.groups.has(instance.groupName)) {
      throw autoScalingErrors.validation(`Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
    }
    const group = this.group(instance.groupName);
    if (isWarmed(instance.lifecycleState)) {
      // A warm pool instance does not count toward the desired capacity; the pool replaces it.
      this.terminateWarmedInstance(instanceId);
      return instance;
    }
    if (decrementDesiredCapacity) {
      if (group.desiredCapacity - 1 < group.minSize) {
        throw autoScalingErrors.validation(`Currently, desiredSize equals minSize (${group.minSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`);
      }
      group.desiredCapacity--;
    }
    this.beginTermination(instance);
    if (!decrementDesiredCapacity && group.launchTemplate) this.launchInstance(group.name, group.launchTemplate);
    return instance;
  }

  /** EC2 Spot Instance Interruption Warning, then Auto Scaling's termination, then reclaim at +2 min. */
  spotInterruption(instanceId: string): void {
    const instance = this.instance(instanceId);
    if (!instance) return;
    this.observer.timeline(instance.id).spotWarnedAt ??= this.clock.now();
    this.emit(this.events.create('EC2 Spot Instance Interruption Warning', 'aws.ec2',
      [`arn:aws:ec2:${instance.availabilityZone}:instance/${instance.id}`],
      { 'instance-id': instance.id, 'instance-action': 'terminate' }));
    this.clock.after(SPOT_REACTION_MS, () => this.beginTermination(instance));
    instance.spotReclaimTimer = this.clock.after(SPOT_RECLAIM_MS, () => {
      this.cancelActions(instance);
      this.terminateNow(instance);
    });
  }

  // ---- lifecycle actions --------------------------------------------------------------------

  beginTermination(instance: Ec2Instance): void {
    if (instance.lifecycleState !== 'InService' && !instance.lifecycleState.startsWith('Pending')) return;
    instance.transitionTimer?.cancel();
    // A launch still waiting in its hooks ends there: their actions go with it.
    this.cancelActions(instance);
    const group = this.groups.get(instance.groupName);
    this.observer.timeline(instance.id).terminatingAt ??= this.clock.now();
    const hooks = this.hooksOf(group, TERMINATING);
    if (!group || hooks.length === 0) {
      this.proceed(instance);
      return;
    }
    instance.lifecycleState = 'Terminating:Wait';
    this.startActions(instance, group, hooks, group.warmPool ? { Origin: 'AutoScalingGroup', Destination: 'EC2' } : undefined);
  }

  /**
   * Scale-in with ReuseOnScaleIn: "an instance that is returning to the warm pool pauses to perform
   * a custom action at the Warmed:Pending:Wait state for the EC2_INSTANCE_TERMINATING lifecycle
   * action" (Auto Scaling user guide, "Use lifecycle hooks with a warm pool"); its event carries
   * Origin AutoScalingGroup, Destination WarmPool (warm pool event types, example 4).
   */
  private returnToWarmPool(instance: Ec2Instance): void {
    const group = this.group(instance.groupName);
    instance.lifecycleState = 'Warmed:Pending';
    this.observer.timeline(instance.id).warmPoolVisits.push({ enteredAt: this.clock.now(), origin: 'AutoScalingGroup', tasksAliveAtStop: [] });
    const hooks = this.hooksOf(group, TERMINATING);
    if (hooks.length === 0) {
      this.settleInWarmPool(instance);
      return;
    }
    instance.lifecycleState = 'Warmed:Pending:Wait';
    this.startActions(instance, group, hooks, { Origin: 'AutoScalingGroup', Destination: 'WarmPool' });
  }

  /**
   * A warm pool instance is terminated (the pool above its size, TerminateInstanceInAutoScalingGroup,
   * or a scenario): Warmed:Terminating, the termination hooks in Warmed:Terminating:Wait (Origin
   * WarmPool, Destination EC2), Warmed:Terminating:Proceed, Warmed:Terminated. The states are the
   * API reference's (Instance.LifecycleState); the user guide's warm pool lifecycle diagram shows
   * the path; that termination hooks run there is not spelled out, and the emulator runs them.
   */
  terminateWarmedInstance(instanceId: string): void {
    const instance = this.instance(instanceId);
    if (!instance || !WARMED_RESTING_STATES.includes(instance.lifecycleState)) {
      throw autoScalingErrors.validation(`Instance ${instanceId} is not resting in a warm pool.`);
    }
    this.beginWarmTermination(instance);
  }

  private beginWarmTermination(instance: Ec2Instance): void {
    const group = this.groups.get(instance.groupName);
    this.observer.timeline(instance.id).terminatingAt ??= this.clock.now();
    instance.lifecycleState = 'Warmed:Terminating';
    const hooks = this.hooksOf(group, TERMINATING);
    if (!group || hooks.length === 0) {
      this.proceed(instance);
      return;
    }
    instance.lifecycleState = 'Warmed:Terminating:Wait';
    this.startActions(instance, group, hooks, { Origin: 'WarmPool', Destination: 'EC2' });
  }

  private hooksOf(group: AutoScalingGroup | undefined, transition: Transition): LifecycleHook[] {
    return group ? [...group.hooks.values()].filter(h => h.transition === transition) : [];
  }

  /** One lifecycle action and one "EC2 Instance-launch/terminate Lifecycle Action" event per hook. */
  private startActions(instance: Ec2Instance, group: AutoScalingGroup, hooks: LifecycleHook[], route: Route | undefined): void {
    for (const hook of hooks) {
      const token = this.random.uuid();
      const now = this.clock.now();
      const heartbeatMs = hook.heartbeatTimeoutSeconds * 1000;
      const action: LifecycleAction = {
        hook,
        token,
        startedAt: now,
        globalDeadline: now + Math.min(GLOBAL_TIMEOUT_CAP_MS, 100 * heartbeatMs),
        heartbeatDeadline: now + heartbeatMs,
        heartbeatTimer: this.clock.after(heartbeatMs, () => this.complete(instance, hook.name, hook.defaultResult, 'timeout')),
        globalTimer: { cancel: () => undefined },
      };
      action.globalTimer = this.clock.at(action.globalDeadline, () => this.complete(instance, hook.name, hook.defaultResult, 'timeout'));
      instance.actions.set(hook.name, action);
      this.emit(this.events.create(ACTION_DETAIL_TYPE[hook.transition], 'aws.autoscaling', [group.arn], {
        LifecycleActionToken: token,
        AutoScalingGroupName: group.name,
        LifecycleHookName: hook.name,
        EC2InstanceId: instance.id,
        LifecycleTransition: hook.transition,
        ...(hook.notificationMetadata !== undefined ? { NotificationMetadata: hook.notificationMetadata } : {}),
        // "Events that contain the Origin and Destination fields are only emitted by Auto Scaling
        // groups that have a warm pool" (warm pool event types and patterns); a root volume
        // replacement's carry them too, with Action (instance refresh example events and patterns).
        ...route,
      }));
    }
  }

  /**
   * Finds the pending action CompleteLifecycleAction / RecordLifecycleActionHeartbeat address,
   * by token or by instance ID (Auto Scaling API reference). Unknown → ValidationError with
   * the wording AWS answers ("No active Lifecycle Action found with instance ID i-…" / "with token …").
   */
  findAction(groupName: string, hookName: string, instanceId?: string, token?: string): { instance: Ec2Instance; action: LifecycleAction } {
    const group = this.group(groupName);
    if (instanceId !== undefined) {
      const instance = group.instances.get(instanceId);
      const action = instance?.actions.get(hookName);
      if (!instance || !action || (token !== undefined && action.token !== token)) {
        throw autoScalingErrors.validation(`No active Lifecycle Action found with instance ID ${instanceId}`);
      }
      return { instance, action };
    }
    if (token !== undefined) {
      for (const instance of group.instances.values()) {
        const action = instance.actions.get(hookName);
        if (action && action.token === token) return { instance, action };
      }
      throw autoScalingErrors.validation(`No active Lifecycle Action found with token ${token}`);
    }
    throw autoScalingErrors.validation('Either LifecycleActionToken or InstanceId must be specified.');
  }

  recordHeartbeat(instance: Ec2Instance, action: LifecycleAction): void {
    const heartbeatMs = action.hook.heartbeatTimeoutSeconds * 1000;
    action.heartbeatTimer.cancel();
    action.heartbeatDeadline = this.clock.now() + heartbeatMs;
    action.heartbeatTimer = this.clock.after(heartbeatMs, () => this.complete(instance, action.hook.name, action.hook.defaultResult, 'timeout'));
  }

  complete(instance: Ec2Instance, hookName: string, result: 'CONTINUE' | 'ABANDON', by: CompletedBy): void {
    const action = instance.actions.get(hookName);
    if (!action) return;
    action.heartbeatTimer.cancel();
    action.globalTimer.cancel();
    instance.actions.delete(hookName);
    if (result === 'ABANDON') this.cancelActions(instance);
    if (instance.actions.size > 0) return;
    if (instance.lifecycleState === 'ReplacingRootVolume:Wait') {
      // Nothing documents another meaning of ABANDON here: both results go on with the replacement.
      const replacement = this.currentReplacement(instance);
      replacement.lifecycleCompletedAt = this.clock.now();
      replacement.completedBy = by;
      this.proceedWithRootVolume(instance);
      return;
    }
    if (instance.lifecycleState === 'Pending:Wait') {
      const wait = this.observer.timeline(instance.id).launchWait;
      if (wait) Object.assign(wait, { completedAt: this.clock.now(), completedBy: by, result });
      if (result === 'ABANDON') {
        this.beginTermination(instance);
      } else {
        // Pending:Proceed, then InService: nothing the emulator models happens in between.
        instance.lifecycleState = 'InService';
      }
      return;
    }
    if (instance.lifecycleState === 'Warmed:Pending:Wait') {
      // The documentation gives no other meaning to ABANDON here: both results go on into the pool.
      const visit = this.currentVisit(instance);
      visit.lifecycleCompletedAt = this.clock.now();
      visit.completedBy = by;
      this.settleInWarmPool(instance);
      return;
    }
    const timeline = this.observer.timeline(instance.id);
    timeline.lifecycleCompletedAt = this.clock.now();
    timeline.completedBy = by;
    this.proceed(instance);
  }

  private cancelActions(instance: Ec2Instance): void {
    for (const action of instance.actions.values()) {
      action.heartbeatTimer.cancel();
      action.globalTimer.cancel();
    }
    instance.actions.clear();
  }

  private proceed(instance: Ec2Instance): void {
    instance.lifecycleState = isWarmed(instance.lifecycleState) ? 'Warmed:Terminating:Proceed' : 'Terminating:Proceed';
    const [min, max] = TERMINATION_DURATION_MS;
    instance.transitionTimer = this.clock.after(this.random.int(min, max), () => this.terminateNow(instance));
  }

  private terminateNow(instance: Ec2Instance): void {
    if (isTerminated(instance.lifecycleState)) return;
    instance.transitionTimer?.cancel();
    instance.spotReclaimTimer?.cancel();
    instance.lifecycleState = isWarmed(instance.lifecycleState) ? 'Warmed:Terminated' : 'Terminated';
    this.observer.timeline(instance.id).terminatedAt = this.clock.now();
    const group = this.groups.get(instance.groupName);
    if (group?.instances.delete(instance.id)) this.history?.left(group, instance);
    this.ecs.hostTerminated(instance.id);
    // "Amazon EC2 Auto Scaling immediately starts launching new instances to replace" terminated pool instances.
    if (group) this.maintainWarmPool(group);
  }

  // ---- root volume replacement --------------------------------------------------------------

  /**
   * What an instance refresh with Strategy ReplaceRootVolume does to one instance (the caller
   * chooses it; the refresh's own pacing is not modelled). Auto Scaling user guide, "Replace root
   * volumes during instance refresh" and "How lifecycle hooks work in Auto Scaling groups" (the
   * transitions for instances undergoing root volume replacement):
   * - ReplacingRootVolume. With termination hooks (EC2_INSTANCE_TERMINATING) the instance waits in
   *   ReplacingRootVolume:Wait, the actions pending as in Terminating:Wait (heartbeat and global
   *   timeouts, CompleteLifecycleAction / RecordLifecycleActionHeartbeat by token or instance ID),
   *   and Auto Scaling sends one "EC2 Instance-terminate Lifecycle Action" event per hook whose
   *   detail adds Origin AutoScalingGroup, Destination AutoScalingGroup and Action
   *   ReplaceRootVolume ("Instance refresh example events and patterns", start replace root volume
   *   lifecycle action; sent on a best-effort basis, the page says). Documented, so always emitted.
   * - ReplacingRootVolume:Proceed, then the swap: EC2 reboots the instance during a root volume
   *   replacement and its memory is lost (EC2 user guide, "Replace the root volume for an Amazon
   *   EC2 instance without stopping it", considerations): every task process dies, the agent
   *   disconnects. The agent's checkpoint was on the old volume (see EcsWorld.forgetAgentCheckpoint),
   *   so on the new one it registers a new container instance, as `registerAgentAnew`; the earlier
   *   registrations keep their status and their tasks as last reported, without an agent for good.
   * - RootVolumeReplaced once the host is up, Pending while Auto Scaling checks its health (the
   *   user guide: health checks follow the replacement), InService.
   * Refused: an instance that is not InService; a group with a warm pool (the page's limitations).
   * Not modelled: launch hooks, which AWS runs in Pending:Wait after RootVolumeReplaced with an
   * "EC2 Instance-launch Lifecycle Action" event (Action ReplaceRootVolume; no launch hook runs
   * anywhere in the emulator); a failed replacement (EC2 reboots the instance on its old root
   * volume, Auto Scaling terminates and replaces it); the refusals about launch template versions
   * ($Latest, $Default), the mixed instances policy and its ImageId overrides and instance types,
   * which the emulator's groups do not have; the load balancer deregistration at ReplacingRootVolume.
   */
  replaceRootVolume(instanceId: string): void {
    const instance = this.instance(instanceId);
    const group = instance && this.groups.get(instance.groupName);
    if (!instance || !group) {
      throw autoScalingErrors.validation(`Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
    }
    if (group.warmPool) {
      throw autoScalingErrors.validation(`Replace Root Volume is not available for ${group.name}: the group has a warm pool.`);
    }
    if (instance.lifecycleState !== 'InService') {
      throw autoScalingErrors.validation(`The root volume of instance ${instanceId} cannot be replaced in the ${instance.lifecycleState} state; it must be InService.`);
    }
    instance.lifecycleState = 'ReplacingRootVolume';
    const replacements = this.observer.timeline(instance.id).rootVolumeReplacements;
    replacements.push({ startedAt: this.clock.now(), tasksAliveAtSwap: [], registrationsLeftBehind: [] });
    const hooks = this.hooksOf(group, TERMINATING);
    if (hooks.length === 0) {
      this.proceedWithRootVolume(instance);
      return;
    }
    instance.lifecycleState = 'ReplacingRootVolume:Wait';
    // These events carry Origin and Destination although a group that replaces root volumes has no warm pool.
    this.startActions(instance, group, hooks, { Origin: 'AutoScalingGroup', Destination: 'AutoScalingGroup', Action: 'ReplaceRootVolume' });
  }

  private proceedWithRootVolume(instance: Ec2Instance): void {
    instance.lifecycleState = 'ReplacingRootVolume:Proceed';
    const [min, max] = ROOT_VOLUME_SWAP_MS;
    instance.transitionTimer = this.clock.after(this.random.int(min, max), () => this.swapRootVolume(instance));
  }

  /** The old root volume goes, the instance reboots: as a stop of the host, and the agent's checkpoint is gone. */
  private swapRootVolume(instance: Ec2Instance): void {
    const replacement = this.currentReplacement(instance);
    replacement.swappedAt = this.clock.now();
    replacement.registrationsLeftBehind = this.ecs.containerInstancesOf(instance.id).filter(ci => ci.status !== 'INACTIVE').map(ci => ci.arn);
    replacement.tasksAliveAtSwap = this.ecs.hostStopped(instance.id, false);
    this.ecs.forgetAgentCheckpoint(instance.id);
    const [min, max] = START_DURATION_MS;
    instance.transitionTimer = this.clock.after(this.random.int(min, max), () => this.bootOnNewRootVolume(instance, replacement));
  }

  /** The host is up on the new root volume; its agent starts without a checkpoint. */
  private bootOnNewRootVolume(instance: Ec2Instance, replacement: RootVolumeReplacement): void {
    replacement.bootedAt = this.clock.now();
    instance.lifecycleState = 'RootVolumeReplaced';
    const start = this.startAgent(instance);
    if (start === 'reconnected') throw new Error(`${instance.id}: the agent kept its checkpoint across a root volume replacement.`);
    replacement.agentOnBoot = start;
    if (start === 'registered') replacement.newRegistration = this.ecs.containerInstancesOf(instance.id).at(-1)!.arn;
    const [min, max] = ROOT_VOLUME_REPLACED_MS;
    instance.transitionTimer = this.clock.after(this.random.int(min, max), () => {
      instance.lifecycleState = 'Pending';
      const [checkMin, checkMax] = HEALTH_CHECK_MS;
      instance.transitionTimer = this.clock.after(this.random.int(checkMin, checkMax), () => {
        instance.lifecycleState = 'InService';
        replacement.inServiceAt = this.clock.now();
      });
    });
  }

  /** Its latest root volume replacement has not reached InService yet (nor was the instance terminated). */
  private replacingRootVolume(instance: Ec2Instance): boolean {
    const replacement = this.observer.timeline(instance.id).rootVolumeReplacements.at(-1);
    return replacement !== undefined && replacement.inServiceAt === undefined && !isTerminated(instance.lifecycleState)
      && !instance.lifecycleState.startsWith('Terminating');
  }

  private currentReplacement(instance: Ec2Instance): RootVolumeReplacement {
    const replacement = this.observer.timeline(instance.id).rootVolumeReplacements.at(-1);
    if (!replacement) throw new Error(`${instance.id} never had its root volume replaced.`);
    return replacement;
  }

  // ---- warm pools ---------------------------------------------------------------------------

  /**
   * Warmed:Pending:Proceed, then the pool state: EC2 stops (or hibernates) the host a few seconds
   * later, or it keeps running (PoolState Running).
   */
  private settleInWarmPool(instance: Ec2Instance): void {
    instance.lifecycleState = 'Warmed:Pending:Proceed';
    const [min, max] = STOP_DURATION_MS;
    instance.transitionTimer = this.clock.after(this.random.int(min, max), () => {
      const group = this.groups.get(instance.groupName);
      const poolState = group?.warmPool?.poolState ?? 'Stopped';
      if (poolState === 'Running') {
        instance.lifecycleState = 'Warmed:Running';
      } else {
        const visit = this.currentVisit(instance);
        visit.stoppedAt = this.clock.now();
        visit.tasksAliveAtStop = this.ecs.hostStopped(instance.id, poolState === 'Hibernated');
        instance.lifecycleState = poolState === 'Hibernated' ? 'Warmed:Hibernated' : 'Warmed:Stopped';
      }
      if (group) this.maintainWarmPool(group);
    });
  }

  /** Scale-out draws on the pool: Pending while the host starts, then InService. */
  private leaveWarmPool(instance: Ec2Instance): void {
    const visit = this.currentVisit(instance);
    visit.leftAt = this.clock.now();
    instance.lifecycleState = 'Pending';
    const [min, max] = START_DURATION_MS;
    instance.transitionTimer = this.clock.after(this.random.int(min, max), () => {
      visit.agentOnStart = this.startAgent(instance);
      instance.lifecycleState = 'InService';
      visit.inServiceAt = this.clock.now();
    });
  }

  /**
   * The host runs and its agent starts: it re-registers with its checkpointed registration (refused
   * when that was deregistered; the agent then exits), or registers for the first time (an agent
   * with ECS_WARM_POOLS_CHECK that waited for InService).
   */
  private startAgent(instance: Ec2Instance): NonNullable<WarmPoolVisit['agentOnStart']> {
    const start = this.ecs.hostStarted(instance.id);
    if (start !== 'unregistered') return start;
    if (instance.launch.cluster === undefined) return 'none';
    try {
      this.registerAgent(instance);
      return 'registered';
    } catch {
      // e.g. the cluster was deleted: the agent's registration fails and it exits.
      return 'refused';
    }
  }

  /**
   * The pool's size (Auto Scaling user guide, warm pools, "Warm pool size"): MaxGroupPreparedCapacity
   * (or MaxSize) minus the desired capacity, at least MinSize. Below it the pool launches from the
   * launch template (none: it cannot); above it the surplus resting instances are terminated,
   * oldest first ("Amazon EC2 Auto Scaling can terminate instances in the warm pool to reduce its
   * size when it is larger than necessary").
   */
  private maintainWarmPool(group: AutoScalingGroup): void {
    const pool = group.warmPool;
    if (!pool) return;
    const members = [...group.instances.values()]
      .filter(i => isWarmed(i.lifecycleState) && !i.lifecycleState.startsWith('Warmed:Terminat'));
    const target = Math.max(pool.minSize, (pool.maxGroupPreparedCapacity ?? group.maxSize) - group.desiredCapacity, 0);
    if (members.length > target) {
      const resting = members.filter(i => WARMED_RESTING_STATES.includes(i.lifecycleState));
      for (const instance of resting.slice(0, members.length - target)) this.beginWarmTermination(instance);
    } else if (group.launchTemplate) {
      for (let n = members.length; n < target; n++) this.launchIntoWarmPool(group.name, group.launchTemplate);
    }
  }

  private currentVisit(instance: Ec2Instance): WarmPoolVisit {
    const visits = this.observer.timeline(instance.id).warmPoolVisits;
    if (visits.length === 0) throw new Error(`${instance.id} never entered a warm pool.`);
    return visits[visits.length - 1];
  }

  /**
   * Staging (tests that build a world instead of letting it run): an instance of the group with
   * this ID, in `state`. Resting states (InService, Warmed:Stopped, Warmed:Running,
   * Warmed:Hibernated) are set directly. The others are reached through the world's own
   * transitions from the state they start from, with their lifecycle actions, timers, events and
   * timeline: Terminating:Wait and Terminating:Proceed from InService (beginTermination, then
   * proceed: the group's termination hooks' actions are pending in Wait, none in Proceed),
   * Warmed:Pending:Wait from InService (returnToWarmPool: a scale-in with ReuseOnScaleIn),
   * Warmed:Terminating:Wait from Warmed:Stopped (terminateWarmedInstance), ReplacingRootVolume:Wait
   * from InService (replaceRootVolume). A Wait state needs a termination hook on the group, a
   * Warmed:* state its warm pool. The launch options are what the instance was launched with; no
   * agent registers (stage the registrations in the ECS world). Returns the instance ID.
   */
  stageInstance(groupName: string, id: string, state: LifecycleState, options: LaunchOptions = {}): string {
    const group = this.group(groupName);
    if (this.instances.has(id)) throw new Error(`An instance ${id} already exists.`);
    if (isWarmed(state) && !group.warmPool) throw new Error(`${groupName} has no warm pool: put one before staging ${id} in ${state}.`);
    const waits = ['Terminating:Wait', 'Warmed:Pending:Wait', 'Warmed:Terminating:Wait', 'ReplacingRootVolume:Wait'].includes(state);
    if (waits && this.hooksOf(group, TERMINATING).length === 0) {
      throw new Error(`${groupName} has no termination hook: ${id} cannot wait in ${state}.`);
    }
    const resting = state === 'InService' || WARMED_RESTING_STATES.includes(state);
    const walked = ['Terminating:Wait', 'Terminating:Proceed', 'Warmed:Pending:Wait', 'Warmed:Terminating:Wait', 'ReplacingRootVolume:Wait'];
    if (!resting && !walked.includes(state)) throw new Error(`Staging an instance in ${state} is not supported.`);
    const start: LifecycleState = resting ? state : state === 'Warmed:Terminating:Wait' ? 'Warmed:Stopped' : 'InService';
    const instance = this.createInstance(group, options, start, id);
    // As launchInstance: the group's desired capacity covers the instances in it (not its warm pool's).
    const inGroup = [...group.instances.values()].filter(i => !isWarmed(i.lifecycleState)).length;
    if (inGroup > group.desiredCapacity) group.desiredCapacity = inGroup;
    if (state === 'Terminating:Wait') {
      this.beginTermination(instance);
    } else if (state === 'Terminating:Proceed') {
      // A termination without hooks (beginTermination): Terminating:Proceed at once.
      this.observer.timeline(instance.id).terminatingAt ??= this.clock.now();
      this.proceed(instance);
    } else if (state === 'Warmed:Pending:Wait') {
      this.returnToWarmPool(instance);
    } else if (state === 'Warmed:Terminating:Wait') {
      this.terminateWarmedInstance(instance.id);
    } else if (state === 'ReplacingRootVolume:Wait') {
      this.replaceRootVolume(instance.id);
    }
    if (instance.lifecycleState !== state) throw new Error(`${id} reached ${instance.lifecycleState}, not ${state}.`);
    return instance.id;
  }

  private createInstance(group: AutoScalingGroup, options: LaunchOptions, state: LifecycleState, stagedId?: string): Ec2Instance {
    // The agent's registration would fail on these; a scenario that asks for them is wrong.
    validateRegistrationAttributes(options.attributes ?? []);
    const id = stagedId ?? `i-${this.random.hex(17)}`;
    const instance: Ec2Instance = {
      id,
      groupName: group.name,
      launch: options,
      availabilityZone: `${this.region}${'abc'[this.random.int(0, 2)]}`,
      launchedAt: this.clock.now(),
      lifecycleState: state,
      actions: new Map(),
    };
    if (this.history) tracked(instance, 'lifecycleState', this.history.states);
    group.instances.set(id, instance);
    this.instances.set(id, instance);
    this.observer.timeline(id, this.clock.now());
    return instance;
  }

  /**
   * The agent starts again without its checkpoint (its data directory lost, or ECS_CHECKPOINT
   * off): having no container instance ARN to re-register with, it registers a new container
   * instance for the same EC2 instance (aws/amazon-ecs-agent#73), and forgets the containers it
   * managed before, which ECS keeps showing under the earlier registration, now without an agent
   * (aws/amazon-ecs-agent#125). Returns the new registration's ARN.
   */
  registerAgentAnew(instanceId: string): string {
    const instance = this.instance(instanceId);
    if (!instance || instance.launch.cluster === undefined) throw new Error(`${instanceId} is not a running instance of a cluster.`);
    return this.ecs.batch(() => {
      for (const ci of this.ecs.containerInstancesOf(instanceId)) if (ci.status !== 'INACTIVE') this.ecs.disconnectAgent(ci);
      return this.registerAgent(instance).arn;
    });
  }

  /** The same path RegisterContainerInstance takes when the agent starts. */
  private registerAgent(instance: Ec2Instance): ContainerInstance {
    const options = instance.launch;
    return this.ecs.registerContainerInstance({
      cluster: options.cluster!,
      ec2InstanceId: instance.id,
      cpu: options.cpu,
      memory: options.memory,
      instanceType: options.instanceType,
      availabilityZone: instance.availabilityZone,
      attributes: options.attributes,
      trunked: options.awsvpcTrunking,
    });
  }
}

/**
 * Makes every assignment of `entity[key]` a version in `history` (from now), so that the many
 * places that set a lifecycle state or a desired capacity need not know about stale reads.
 */
function tracked<T extends object, K extends keyof T & string>(entity: T, key: K, history: History<T[K]>): void {
  let value = entity[key];
  history.record(entity, value);
  Object.defineProperty(entity, key, {
    enumerable: true,
    configurable: true,
    get: () => value,
    set: (next: T[K]) => {
      value = next;
      history.record(entity, next);
    },
  });
}

function isTerminated(state: LifecycleState): boolean {
  return state === 'Terminated' || state === 'Warmed:Terminated';
}

/**
 * The EC2 / Auto Scaling side of the world: groups, instances, termination lifecycle hooks.
 *
 * Auto Scaling user guide, "Amazon EC2 Auto Scaling lifecycle hooks": a terminating instance
 * with a termination hook waits in Terminating:Wait until every hook's action is completed or
 * times out (heartbeat timeout, reset by RecordLifecycleActionHeartbeat; global timeout the
 * smaller of 48 hours and 100 × the heartbeat timeout), then goes Terminating:Proceed and is
 * terminated. For a termination hook CONTINUE and ABANDON both terminate; ABANDON also skips
 * the remaining hooks.
 */
import { SimClock } from '../clock';
import { EcsWorld } from './ecs-world';
import { autoScalingErrors } from './errors';
import { EmittedEvent, EventFactory } from './events';
import {
  AutoScalingGroup, AutoScalingGroupOptions, Ec2Instance, LaunchOptions, LifecycleAction, LifecycleHook, LifecycleHookOptions,
} from './model';
import { Observer } from './observer';
import { SeededRandom } from './random';

const GLOBAL_TIMEOUT_CAP_MS = 48 * 60 * 60 * 1000;
/** From Terminating:Proceed to gone. */
const TERMINATION_DURATION_MS = [5_000, 15_000] as const;
/** EC2 reclaims a Spot instance two minutes after the interruption warning (EC2 user guide, Spot interruptions). */
const SPOT_RECLAIM_MS = 120_000;
/** How long Auto Scaling takes to react to a Spot interruption warning. */
const SPOT_REACTION_MS = 2_000;

export type CompletedBy = 'api' | 'timeout';

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
    this.groups.set(group.name, group);
    this.setDesiredCapacity(group.name, options.desiredCapacity);
    return group;
  }

  putLifecycleHook(options: LifecycleHookOptions): LifecycleHook {
    const group = this.group(options.groupName);
    const heartbeat = options.heartbeatTimeoutSeconds ?? 3600;
    if (heartbeat < 30 || heartbeat > 7200) {
      throw autoScalingErrors.validation('HeartbeatTimeout must be between 30 and 7200 seconds.');
    }
    const hook: LifecycleHook = {
      name: options.hookName,
      transition: options.transition ?? 'autoscaling:EC2_INSTANCE_TERMINATING',
      heartbeatTimeoutSeconds: heartbeat,
      defaultResult: options.defaultResult ?? 'ABANDON',
      notificationMetadata: options.notificationMetadata,
    };
    group.hooks.set(hook.name, hook);
    return hook;
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

  /** A running (not yet terminated) instance of any group. */
  instance(id: string): Ec2Instance | undefined {
    const instance = this.instances.get(id);
    return instance && instance.lifecycleState !== 'Terminated' ? instance : undefined;
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

  launchInstance(groupName: string, options: LaunchOptions = {}): string {
    const group = this.group(groupName);
    const id = `i-${this.random.hex(17)}`;
    const instance: Ec2Instance = {
      id,
      groupName,
      launch: options,
      availabilityZone: `${this.region}${'abc'[this.random.int(0, 2)]}`,
      launchedAt: this.clock.now(),
      lifecycleState: 'InService',
      actions: new Map(),
    };
    group.instances.set(id, instance);
    this.instances.set(id, instance);
    this.observer.timeline(id, this.clock.now());
    if (group.instances.size > group.desiredCapacity) group.desiredCapacity = group.instances.size;
    if (options.cluster !== undefined) {
      // The same path RegisterContainerInstance takes when the agent starts.
      this.ecs.registerContainerInstance({
        cluster: options.cluster,
        ec2InstanceId: id,
        cpu: options.cpu,
        memory: options.memory,
        instanceType: options.instanceType,
        availabilityZone: instance.availabilityZone,
      });
    }
    return id;
  }

  /** SetDesiredCapacity: scale-out launches from the launch template, scale-in terminates. */
  setDesiredCapacity(groupName: string, desired: number): void {
    const group = this.group(groupName);
    if (desired > group.maxSize) {
      throw autoScalingErrors.validation(`New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`);
    }
    if (desired < group.minSize) {
      throw autoScalingErrors.validation(`New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`);
    }
    group.desiredCapacity = desired;
    const inService = [...group.instances.values()].filter(i => i.lifecycleState === 'InService');
    if (inService.length > desired) {
      // Close to the default termination policy for one launch template: oldest instances first.
      for (const instance of inService.slice(0, inService.length - desired)) this.beginTermination(instance);
    } else if (group.launchTemplate) {
      for (let n = inService.length; n < desired; n++) this.launchInstance(group.name, group.launchTemplate);
    }
  }

  scaleIn(groupName: string, count: number): void {
    const group = this.group(groupName);
    this.setDesiredCapacity(groupName, Math.max(group.minSize, group.desiredCapacity - count));
  }

  terminateInstanceInAutoScalingGroup(instanceId: string, decrementDesiredCapacity: boolean): Ec2Instance {
    const instance = this.instance(instanceId);
    if (!instance || !this.groups.has(instance.groupName)) {
      throw autoScalingErrors.validation(`Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
    }
    const group = this.group(instance.groupName);
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
    if (instance.lifecycleState !== 'InService' && instance.lifecycleState !== 'Pending') return;
    const group = this.groups.get(instance.groupName);
    this.observer.timeline(instance.id).terminatingAt ??= this.clock.now();
    const hooks = group ? [...group.hooks.values()].filter(h => h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING') : [];
    if (!group || hooks.length === 0) {
      this.proceed(instance);
      return;
    }
    instance.lifecycleState = 'Terminating:Wait';
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
      this.emit(this.events.create('EC2 Instance-terminate Lifecycle Action', 'aws.autoscaling', [group.arn], {
        LifecycleActionToken: token,
        AutoScalingGroupName: group.name,
        LifecycleHookName: hook.name,
        EC2InstanceId: instance.id,
        LifecycleTransition: hook.transition,
        ...(hook.notificationMetadata !== undefined ? { NotificationMetadata: hook.notificationMetadata } : {}),
        Origin: 'AutoScalingGroup',
        Destination: 'EC2',
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
    instance.lifecycleState = 'Terminating:Proceed';
    const [min, max] = TERMINATION_DURATION_MS;
    instance.terminationTimer = this.clock.after(this.random.int(min, max), () => this.terminateNow(instance));
  }

  private terminateNow(instance: Ec2Instance): void {
    if (instance.lifecycleState === 'Terminated') return;
    instance.terminationTimer?.cancel();
    instance.spotReclaimTimer?.cancel();
    instance.lifecycleState = 'Terminated';
    this.observer.timeline(instance.id).terminatedAt = this.clock.now();
    this.groups.get(instance.groupName)?.instances.delete(instance.id);
    this.ecs.hostTerminated(instance.id);
  }
}

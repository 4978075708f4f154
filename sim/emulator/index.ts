/**
 * `AwsEmulator`: the emulated AWS (ECS + Auto Scaling + the EC2 bits they need) that the
 * runtime and the tests talk to. See sim/README.md, "Contract between emulator/ and runtime/".
 */
import { SimClock } from '../clock';
import { AutoScalingApi } from './autoscaling-api';
import { AutoScalingHistory, AutoScalingWorld } from './autoscaling-world';
import { BackgroundChurn } from './background-churn';
import { CallContext, EcsApi } from './ecs-api';
import { ContainerInstanceEventMode, EcsWorld, StagedTaskOptions, StandaloneTaskOptions } from './ecs-world';
import { EmittedEvent, EventFactory, EventListener } from './events';
import { BusDelivery, EventBridgeApi, PutEventsFaults, PutEventsOptions } from './events-api';
import { FaultInjector, FaultOptions } from './faults';
import { Authorizer, AuthorizedService, PrincipalResolver } from './iam/authorizer';
import { AuthorizationRequest } from './iam/operations';
import {
  AutoScalingGroupOptions, ContainerInstance, ContainerInstanceStatus, LaunchOptions, LifecycleHook, LifecycleHookOptions, LifecycleState,
  ServiceOptions, TrunkingStatus, WarmPoolOptions,
} from './model';
import { EmulatorStats, HOOK_WAIT_STATES, InstanceTimeline, Observer, RegistrationWrite, UntouchedViolation } from './observer';
import { SeededRandom } from './random';
import { EmulatorServer, InProcessReply, InProcessRequest, RequestHook } from './server';
import { History, StaleReads } from './stale-reads';
import { BucketSpec, Throttler } from './throttling';
import { BackgroundChurnOptions, UnkindOptions } from './unkind';

export type { EmittedEvent, EventListener } from './events';
export type { PutEventsFaults, PutEventsOptions, BusDelivery } from './events-api';
export type { FaultOptions } from './faults';
export { HOOK_WAIT_STATES } from './observer';
export type {
  InstanceTimeline, EmulatorStats, UntouchedViolation, WarmPoolVisit, RootVolumeReplacement, DeniedRequest, CompletedBy, LaunchWait,
  RegistrationWrite, PutEventsStats,
} from './observer';
export type { IamPrincipal, PrincipalResolver, AuthorizedService } from './iam/authorizer';
export type { AuthorizationRequest } from './iam/operations';
export type { RequestInfo, RequestHook, InProcessRequest, InProcessReply } from './server';
export * from './model';
export type { ContainerInstanceEventMode, StagedTaskOptions, StandaloneTaskOptions } from './ecs-world';
export * from './unkind';

/**
 * The emulator's options. Those of UnkindOptions (emulator/unkind.ts) make it as unkind as AWS is
 * allowed to be, each off by default.
 */
export interface AwsEmulatorOptions extends UnkindOptions {
  clock: SimClock;
  region?: string;
  accountId?: string;
  /** Seeds every random choice (ids, stop durations, faults): same seed, same run. */
  seed?: number;
  /** Token buckets per documented operation group; default true. */
  /** Documented token buckets (true, the default), none (false), or one spec replacing every bucket. */
  throttling?: boolean | BucketSpec;
  faults?: FaultOptions;
  onEvent?: EventListener;
  /** Gets the entries PutEvents accepts (see `AwsEmulator.onPutEvent`). */
  onPutEvent?: BusDelivery;
  /**
   * How long DeregisterContainerInstance without force still counts a task that just reached
   * STOPPED (ECS eventual consistency; see EcsWorldOptions). Default 5 s; 0 turns it off.
   */
  deregistrationLagMs?: number;
  /**
   * Which changes emit "ECS Container Instance State Change" (and bump ContainerInstance.version):
   * `documented` (the default) only the causes the ECS developer guide lists, `every-change` every
   * change of a registration, as the emulator did before (see ContainerInstanceEventMode in
   * ecs-world.ts). "ECS Task State Change" events are emitted in both modes.
   */
  containerInstanceEvents?: ContainerInstanceEventMode;
  /**
   * EventBridge PutEvents (emulator/events-api.ts): injected faults (whole-call InternalException,
   * per-entry InternalFailure; both off by default, drawn from the seed) and what an entry naming a
   * bus that does not exist gets (`accept`, AWS's answer, by default).
   */
  putEvents?: PutEventsOptions;
}

/**
 * A registration put into the world directly in a state (AwsEmulator.stageRegistration), for tests
 * that build a world instead of letting it run.
 */
export interface StagedRegistration {
  readonly cluster: string;
  /** Its ID: the ARN ends in `container-instance/<cluster>/<id>`. */
  readonly id: string;
  readonly ec2InstanceId: string;
  /** Default ACTIVE. */
  readonly status?: ContainerInstanceStatus;
  /**
   * Custom attributes, registered as the agent registers ECS_INSTANCE_ATTRIBUTES: checked as
   * PutAttributes checks them, and counted toward the 10 custom attributes (ecs-attributes.ts).
   */
  readonly attributes?: ReadonlyArray<{ name: string; value?: string }>;
  /** Its tasks, staged before its status is set (see StagedTaskOptions). */
  readonly tasks?: readonly StagedTaskOptions[];
  /** Registered CPU units and MiB; default those of an m5.large (2048, 7680). */
  readonly cpu?: number;
  readonly memory?: number;
}

/** A few seconds: the ECS API documents eventual consistency, not its duration. */
export const DEFAULT_DEREGISTRATION_LAG_MS = 5_000;

/** What `registration()` reports of a container instance. */
export interface RegistrationView {
  readonly ec2InstanceId: string;
  readonly status: ContainerInstanceStatus;
  readonly agentConnected: boolean;
  readonly runningTasksCount: number;
  /** Tasks ECS still tracks here whose lastStatus is not STOPPED. */
  readonly tasksNotStopped: number;
  readonly attributes: ReadonlyMap<string, string | undefined>;
}


export class AwsEmulator {
  readonly clock: SimClock;
  readonly region: string;
  readonly accountId: string;
  /**
   * The events the world emits (AWS services send theirs to the account's default bus, EventBridge
   * user guide, "Events from AWS services"). Replaceable at any time; events emitted before a
   * listener is set are dropped.
   */
  onEvent?: EventListener;
  /**
   * Every entry PutEvents accepted on a bus that exists, as the event EventBridge puts on that bus,
   * with the bus's name (emulator/events-api.ts). Replaceable at any time; unset, they are dropped.
   */
  onPutEvent?: BusDelivery;
  private readonly observer = new Observer();
  private readonly faultInjector: FaultInjector;
  private readonly ecs: EcsWorld;
  private readonly autoScaling: AutoScalingWorld;
  private readonly server: EmulatorServer;
  private readonly authorizer: Authorizer;
  private readonly apis: { readonly ecs: EcsApi; readonly autoscaling: AutoScalingApi; readonly events: EventBridgeApi };
  private readonly churn: BackgroundChurn;
  private readonly histories: ReadonlyArray<{ readonly size: number }>;

  constructor(options: AwsEmulatorOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.onEvent = options.onEvent;
    this.onPutEvent = options.onPutEvent;
    const seed = options.seed ?? 1;
    // Separate streams, so that e.g. enabling faults does not change the world's ids.
    const worldRandom = new SeededRandom(seed);
    const faultRandom = new SeededRandom(seed + 1_000_003);
    const wireRandom = new SeededRandom(seed + 2_000_003);
    // Task events came later: their ids have their own stream, so the world and its other events
    // are what they were before them.
    const taskEventRandom = new SeededRandom(seed + 3_000_003);
    const events = new EventFactory(worldRandom, this.accountId, this.region, () => this.clock.now());
    const taskEvents = new EventFactory(taskEventRandom, this.accountId, this.region, () => this.clock.now());
    const emit = (event: EmittedEvent) => this.onEvent?.(event);
    // The unkind options (unkind.ts) draw from streams of their own: off, they draw nothing, and
    // on, they leave the world's other choices as they were.
    const unkindStats = this.observer.stats.unkind;
    const staleReads = new StaleReads(this.clock, new SeededRandom(seed + 4_000_003), options.staleReads ?? {}, unkindStats);
    const unkindRandom = new SeededRandom(seed + 5_000_003);
    const visibilityExtraMs = options.stoppedTaskVisibilityExtraMs ?? 0;
    this.ecs = new EcsWorld(this.clock, worldRandom, events, taskEvents, emit, this.observer, this.region, this.accountId, {
      deregistrationLagMs: options.deregistrationLagMs ?? DEFAULT_DEREGISTRATION_LAG_MS,
      containerInstanceEvents: options.containerInstanceEvents ?? 'documented',
      releaseResourcesAt: options.releaseResourcesAt ?? 'stopped',
      deregistrationRefusal: options.deregistrationRefusal ?? 'tasks-not-stopped',
      drainingReplacement: options.drainingReplacement ?? 'immediate',
      stoppedTaskVisibilityExtraMs: visibilityExtraMs,
      unkindRandom,
      unkindStats,
      history: staleReads.enabled
        ? { instances: new History(this.clock, staleReads.windowMs), tasks: new History(this.clock, staleReads.windowMs) }
        : undefined,
    });
    const autoScalingHistory = staleReads.enabled ? new AutoScalingHistory(this.clock, staleReads.windowMs) : undefined;
    const ecsHistory = this.ecs.history;
    this.histories = [ecsHistory?.instances, ecsHistory?.tasks, autoScalingHistory?.states, autoScalingHistory?.desiredCapacities]
      .filter((h): h is History<never> => h !== undefined);
    this.autoScaling = new AutoScalingWorld(
      this.clock, worldRandom, events, emit, this.observer, this.ecs, this.region, this.accountId, autoScalingHistory);
    const visibilityExtra = () => (visibilityExtraMs > 0 ? unkindRandom.int(0, visibilityExtraMs) : 0);
    this.churn = new BackgroundChurn(this.clock, new SeededRandom(seed + 6_000_003), this.ecs,
      options.backgroundChurn, unkindStats, this.region, this.accountId, visibilityExtra);
    if (options.backgroundChurn) this.ecs.clusterCreated = cluster => this.churn.clusterCreated(cluster);
    this.faultInjector = new FaultInjector(faultRandom, options.faults);
    const ecsApi = new EcsApi(this.ecs, this.clock, (ci, op, ctx, detail) => this.checkOwnership(ci, op, ctx, detail),
      staleReads.enabled ? staleReads : undefined, this.churn);
    const autoScalingApi = new AutoScalingApi(this.autoScaling, this.clock, wireRandom, {
      lifecycleActionVisibilityLagMs: options.lifecycleActionVisibilityLagMs ?? 0,
      stats: unkindStats,
      staleReads: staleReads.enabled ? staleReads : undefined,
    });
    const throttler = new Throttler(() => this.clock.now(), options.throttling ?? true);
    this.authorizer = new Authorizer({
      region: this.region,
      accountId: this.accountId,
      autoScalingGroupArn: name => this.autoScaling.allGroups().find(g => g.name === name)?.arn,
      groupOfInstance: id => this.autoScaling.instance(id)?.groupName,
    });
    // PutEvents came later: its event ids and its injected faults have streams of their own.
    const eventsApi = new EventBridgeApi(this.clock, new SeededRandom(seed + 7_000_003), new SeededRandom(seed + 8_000_003), this.observer,
      this.authorizer, this.region, this.accountId, (event, bus) => this.onPutEvent?.(event, bus), options.putEvents ?? {});
    this.apis = { ecs: ecsApi, autoscaling: autoScalingApi, events: eventsApi };
    this.server = new EmulatorServer(
      this.clock, wireRandom, ecsApi, autoScalingApi, eventsApi, throttler, this.faultInjector, this.observer, this.authorizer);
  }

  // ---- server -----------------------------------------------------------------------------

  /** Starts the loopback server on a random port; both services share the endpoint. */
  listen(): Promise<{ endpoint: string }> {
    return this.server.listen();
  }

  close(): void {
    this.server.close();
  }

  /**
   * Answers one request without the socket, through the server's own dispatch (see
   * EmulatorServer.answer): for SDK clients given a request handler that hands requests over in
   * process. No latency is injected. Undefined when onRequest says 'hang'.
   */
  answer(request: InProcessRequest): InProcessReply | undefined {
    return this.server.answer(request);
  }

  get busyRequests(): number {
    return this.server.busyRequests;
  }

  get activity(): number {
    return this.server.activity;
  }

  get onRequest(): RequestHook | undefined {
    return this.server.onRequest;
  }

  set onRequest(hook: RequestHook | undefined) {
    this.server.onRequest = hook;
  }

  /**
   * Who a request carrying `x-sim-invocation` acts as (the runtime maps the invocation to its
   * function's role). Set, every such request is authorized by IAM before the operation runs;
   * requests without the header (scenario set-up, tests) act as the account's administrator.
   * Unset, nothing is checked.
   */
  get identify(): PrincipalResolver | undefined {
    return this.authorizer.identify;
  }

  set identify(resolver: PrincipalResolver | undefined) {
    this.authorizer.identify = resolver;
  }

  /** The operations each service serves (IAM needs a rule for every one). */
  get servedOperations(): { ecs: string[]; autoscaling: string[]; events: string[] } {
    return { ecs: this.apis.ecs.operations, autoscaling: this.apis.autoscaling.operations, events: this.apis.events.operations };
  }

  /**
   * What IAM is asked for a request (action, resources, context keys); undefined: no rule. For
   * EventBridge PutEvents, `input` is one entry: each is authorized on its own.
   */
  authorizationRequest(service: AuthorizedService, operation: string, input: unknown): AuthorizationRequest | undefined {
    return this.authorizer.requestOf(service, operation, () => input);
  }

  /** Fault settings can change mid-run (e.g. a burst of 5xx). ECS and Auto Scaling only; PutEvents has `setPutEventsFaults`. */
  setFaults(faults: FaultOptions): void {
    this.faultInjector.options = faults;
  }

  /** PutEvents' injected faults (whole-call InternalException, per-entry InternalFailure) from now on. */
  setPutEventsFaults(faults: PutEventsFaults): void {
    this.apis.events.options = { ...this.apis.events.options, faults };
  }

  // ---- EventBridge buses ---------------------------------------------------------------------

  /**
   * CreateEventBus (an AWS::Events::EventBus of the template): PutEvents entries naming it are put
   * on it. Returns its ARN; throws ResourceAlreadyExistsException for a name that exists and
   * ValidationException for `default` or a name outside the API's pattern.
   */
  createEventBus(name: string): string {
    return this.apis.events.createEventBus(name);
  }

  /** DeleteEventBus; the default bus cannot be deleted. */
  deleteEventBus(name: string): void {
    this.apis.events.deleteEventBus(name);
  }

  hasEventBus(name: string): boolean {
    return this.apis.events.hasEventBus(name);
  }

  /** The account's buses by name, `default` first. */
  eventBuses(): string[] {
    return this.apis.events.eventBuses();
  }

  // ---- world: building ----------------------------------------------------------------------

  createCluster(name: string): string {
    return this.ecs.createCluster(name).arn;
  }

  createAutoScalingGroup(options: AutoScalingGroupOptions): string {
    return this.autoScaling.createAutoScalingGroup(options).arn;
  }

  putLifecycleHook(options: LifecycleHookOptions): void {
    this.autoScaling.putLifecycleHook(options);
  }

  /**
   * DeleteLifecycleHook: the hook's outstanding actions are completed first (ABANDON for launching
   * instances, CONTINUE for terminating ones), observed as `completedBy: 'hook-deleted'`. Returns
   * false when the group has no such hook; throws when the group does not exist.
   */
  deleteLifecycleHook(groupName: string, hookName: string): boolean {
    return this.autoScaling.deleteLifecycleHook(groupName, hookName);
  }

  /** The group's lifecycle hooks as PutLifecycleHook left them; throws when the group does not exist. */
  lifecycleHooks(groupName: string): LifecycleHook[] {
    return this.autoScaling.lifecycleHooks(groupName).map(hook => ({ ...hook }));
  }

  /** Throws the ValidationError PutLifecycleHook would answer for these parameters (the group aside). */
  checkLifecycleHook(options: LifecycleHookOptions): void {
    this.autoScaling.checkLifecycleHook(options);
  }

  /** Throws the ValidationError PutWarmPool would answer for these parameters (a group not yet created aside). */
  checkWarmPool(options: WarmPoolOptions): void {
    this.autoScaling.checkWarmPool(options);
  }

  /** Whether the group has a warm pool; throws when the group does not exist. */
  hasWarmPool(groupName: string): boolean {
    return this.autoScaling.group(groupName).warmPool !== undefined;
  }

  /** Whether an Auto Scaling group of that name exists. */
  hasAutoScalingGroup(name: string): boolean {
    return this.autoScaling.allGroups().some(group => group.name === name);
  }

  /** Whether an ECS cluster of that name exists. */
  hasCluster(name: string): boolean {
    return this.ecs.hasCluster(name);
  }

  /** Launches an InService instance; with `cluster` it registers as RegisterContainerInstance does. Returns the instance ID. */
  launchInstance(groupName: string, options: LaunchOptions = {}): string {
    return this.autoScaling.launchInstance(groupName, options);
  }

  /** PutWarmPool for a group (AWS::AutoScaling::WarmPool); the pool fills from the launch template if the group has one. */
  putWarmPool(options: WarmPoolOptions): void {
    this.autoScaling.putWarmPool(options);
  }

  /**
   * Launches an instance into the group's warm pool: Warmed:Pending, then stopped (or as PoolState
   * says). It registers with `cluster` only with `warmPoolsCheck: false`; otherwise when it first
   * goes InService. Returns the instance ID.
   */
  launchIntoWarmPool(groupName: string, options: LaunchOptions = {}): string {
    return this.autoScaling.launchIntoWarmPool(groupName, options);
  }

  createService(cluster: string, options: ServiceOptions): string {
    return this.ecs.createService(cluster, options).arn;
  }

  /**
   * Background churn in an existing cluster (what the option `backgroundChurn` starts in each new
   * cluster): standalone batch tasks on its ACTIVE instances and Fargate tasks, a seeded Poisson
   * process each (see emulator/background-churn.ts). Runs while the cluster exists.
   */
  startBackgroundChurn(cluster: string, options: BackgroundChurnOptions): void {
    this.churn.start(this.ecs.cluster(cluster), options);
  }

  /** A RunTask task pinned to one container instance; DRAINING does not stop it. Returns the task ARN. */
  runStandaloneTask(cluster: string, containerInstanceArn: string, options: StandaloneTaskOptions = {}): string {
    return this.ecs.runStandaloneTask(cluster, containerInstanceArn, options).arn;
  }

  // ---- world: staging (a state built directly, for tests) ------------------------------------

  /**
   * A registration with a fixed ID, its tasks and its status, reached through the world's own
   * operations: RegisterContainerInstance's path (built-in and custom attributes, ACTIVE), the
   * staged tasks (EcsWorld.stageTask), then the status as ECS reaches it: DRAINING as
   * UpdateContainerInstancesState sets it (a staged task is standalone: DRAINING does not stop it),
   * INACTIVE as DeregisterContainerInstance with force leaves it, REGISTERING, REGISTRATION_FAILED or
   * DEREGISTERING as ENI trunking moves it (setRegistrationStatus). Returns its ARN.
   */
  stageRegistration(registration: StagedRegistration): string {
    const status = registration.status ?? 'ACTIVE';
    if (!['ACTIVE', 'DRAINING', 'INACTIVE', 'REGISTERING', 'REGISTRATION_FAILED', 'DEREGISTERING'].includes(status)) {
      throw new Error(`${status} is not a container instance status (ECS API reference, ContainerInstance.status).`);
    }
    const ci = this.ecs.registerContainerInstance({
      cluster: registration.cluster,
      ec2InstanceId: registration.ec2InstanceId,
      id: registration.id,
      cpu: registration.cpu,
      memory: registration.memory,
      attributes: registration.attributes?.map(a => ({ ...a })),
    });
    for (const task of registration.tasks ?? []) this.ecs.stageTask(ci, task);
    if (status === 'DRAINING') this.ecs.setStatus(ci, 'DRAINING');
    else if (status === 'INACTIVE') this.ecs.deregister(ci, true);
    else if (status !== 'ACTIVE') this.ecs.setRegistrationStatus(ci, status);
    return ci.arn;
  }

  /** A task put on a registration directly in a state (see EcsWorld.stageTask). Returns its ARN. */
  stageTask(containerInstanceArn: string, task: StagedTaskOptions): string {
    return this.ecs.stageTask(this.requireContainerInstance(containerInstanceArn), task).arn;
  }

  /**
   * An instance of the group with a fixed ID in a lifecycle state, through Auto Scaling's own
   * transitions where the state is not a resting one (see AutoScalingWorld.stageInstance). No agent
   * registers: stage its registrations with stageRegistration. Returns the instance ID.
   */
  stageInstance(groupName: string, instanceId: string, lifecycleState: LifecycleState, options: LaunchOptions = {}): string {
    return this.autoScaling.stageInstance(groupName, instanceId, lifecycleState, options);
  }

  // ---- world: events that happen to it --------------------------------------------------------

  /** What SetDesiredCapacity(desired - count) does. */
  scaleIn(groupName: string, count: number): void {
    this.autoScaling.scaleIn(groupName, count);
  }

  /** What SetDesiredCapacity(desired + count) does: warm pool instances first, then the launch template. */
  scaleOut(groupName: string, count: number): void {
    this.autoScaling.scaleOut(groupName, count);
  }

  spotInterruption(instanceId: string): void {
    this.autoScaling.spotInterruption(instanceId);
  }

  /**
   * An instance refresh with Strategy ReplaceRootVolume replaces this InService instance's root
   * volume: ReplacingRootVolume(:Wait with termination hooks, and their lifecycle events):Proceed,
   * the swap (a reboot: its task processes die, the agent registers a new container instance, the
   * old registrations keep no agent), RootVolumeReplaced, Pending, InService; recorded in
   * `timeline(id).rootVolumeReplacements`. Refused (ValidationError) for an instance that is not
   * InService and for a group with a warm pool. See AutoScalingWorld.replaceRootVolume.
   */
  replaceRootVolume(instanceId: string): void {
    this.autoScaling.replaceRootVolume(instanceId);
  }

  /** Auto Scaling terminates an instance resting in the warm pool (Warmed:Terminating → … → Warmed:Terminated). */
  terminateWarmedInstance(instanceId: string): void {
    this.autoScaling.terminateWarmedInstance(instanceId);
  }

  /**
   * ENI trunking moves a registration through REGISTERING, REGISTRATION_FAILED or DEREGISTERING
   * (ECS API reference, ContainerInstance.status), or ACTIVE once the trunk is attached.
   */
  setRegistrationStatus(containerInstanceArn: string, status: TrunkingStatus | 'ACTIVE', reason?: string): void {
    this.ecs.setRegistrationStatus(this.requireContainerInstance(containerInstanceArn), status, reason);
  }

  /** An operator's manual drain: the controller must leave this container instance alone. */
  setContainerInstanceDraining(containerInstanceArn: string): void {
    const ci = this.requireContainerInstance(containerInstanceArn);
    ci.operatorOwned = true;
    this.ecs.setStatus(ci, 'DRAINING');
  }

  /** The agent loses its connection: ECS sees no task progress on the instance until reconnect. */
  disconnectAgent(instanceId: string): void {
    this.ecs.batch(() => this.ecs.containerInstancesOf(instanceId).forEach(ci => this.ecs.disconnectAgent(ci)));
  }

  /**
   * The agent reconnects; not while its host is stopped or terminated, and not to a registration
   * a root volume replacement left behind (its agent's checkpoint went with the old volume).
   */
  reconnectAgent(instanceId: string): void {
    const leftBehind = new Set(this.observer.timelines.get(instanceId)?.rootVolumeReplacements.flatMap(r => r.registrationsLeftBehind));
    this.ecs.batch(() => this.ecs.containerInstancesOf(instanceId).filter(ci => !leftBehind.has(ci.arn)).forEach(ci => this.ecs.reconnectAgent(ci)));
  }

  /**
   * The instance's agent starts again without its checkpoint and registers a second container
   * instance for it; the earlier registration loses its agent (see AutoScalingWorld). Returns the
   * new registration's ARN.
   */
  registerAgentAnew(instanceId: string): string {
    return this.autoScaling.registerAgentAnew(instanceId);
  }

  /**
   * Someone else (an operator, another tool) deregisters a container instance through the API.
   * Returns the ARNs of the tasks a forced deregistration orphaned (ECS stops tracking them; they
   * keep running on the host until it terminates).
   */
  deregisterContainerInstance(containerInstanceArn: string, force: boolean): string[] {
    const ci = this.requireContainerInstance(containerInstanceArn);
    const orphaned = force && ci.status !== 'INACTIVE'
      ? [...ci.tasks].filter(t => t.lastStatus !== 'STOPPED' && !t.orphaned).map(t => t.arn) : [];
    this.ecs.deregister(ci, force);
    return orphaned;
  }

  /**
   * Someone else completes the instance's lifecycle action (CompleteLifecycleAction by instance
   * ID, outside any invocation). Returns false when there was no active action.
   */
  completeLifecycleAction(instanceId: string, hookName: string, result: 'CONTINUE' | 'ABANDON' = 'CONTINUE'): boolean {
    const instance = this.autoScaling.instance(instanceId);
    if (!instance?.actions.has(hookName)) return false;
    this.autoScaling.complete(instance, hookName, result, 'api');
    return true;
  }

  deleteAutoScalingGroup(name: string): void {
    this.autoScaling.deleteAutoScalingGroup(name);
  }

  deleteCluster(name: string): void {
    this.ecs.deleteCluster(name);
  }

  // ---- world: reading -----------------------------------------------------------------------

  /** ARNs of the container instances registered for an EC2 instance (all statuses). */
  containerInstanceArns(instanceId: string): string[] {
    return this.ecs.containerInstancesOf(instanceId).map(ci => ci.arn);
  }

  /** A registration as DescribeContainerInstances shows it (the fields scenarios check); undefined if unknown. */
  registration(containerInstanceArn: string): RegistrationView | undefined {
    const ci = this.ecs.containerInstanceByArn(containerInstanceArn);
    return ci && {
      ec2InstanceId: ci.ec2InstanceId,
      status: ci.status,
      agentConnected: ci.agentConnected,
      runningTasksCount: this.ecs.runningTasksCount(ci),
      tasksNotStopped: [...ci.tasks].filter(t => t.lastStatus !== 'STOPPED' && !t.orphaned).length,
      attributes: new Map(ci.attributes),
    };
  }

  /** The instance's lifecycle state, or undefined once terminated / unknown. */
  lifecycleState(instanceId: string): string | undefined {
    return this.autoScaling.instance(instanceId)?.lifecycleState;
  }

  // ---- observation --------------------------------------------------------------------------

  timeline(instanceId: string): InstanceTimeline {
    const timeline = this.observer.timelines.get(instanceId);
    if (!timeline) throw new Error(`No instance ${instanceId} was launched.`);
    return timeline;
  }

  /** Every launched instance's timeline, by instance ID. */
  timelines(): Map<string, InstanceTimeline> {
    return this.observer.timelines;
  }

  get stats(): EmulatorStats {
    return this.observer.stats;
  }

  /**
   * Versions the stale-read histories keep, over every entity (option staleReads; 0 without it).
   * Pruned to the longest window: it follows the changes of the last window, not the run's length.
   */
  get staleReadVersions(): number {
    return this.histories.reduce((sum, h) => sum + h.size, 0);
  }

  get untouchedViolations(): readonly UntouchedViolation[] {
    return this.observer.untouchedViolations;
  }

  /** Every DRAINING / ACTIVE asked and attribute written by an invocation, with the instance's lifecycle state then. */
  get registrationWrites(): readonly RegistrationWrite[] {
    return this.observer.registrationWrites;
  }

  /**
   * A mutating call on an operator-drained container instance is a violation unless its EC2
   * instance waits in a termination hook (Terminating:Wait, Warmed:Pending:Wait /
   * Warmed:Terminating:Wait with a warm pool, ReplacingRootVolume:Wait): then the drain is
   * legitimately the controller's.
   */
  private checkOwnership(
    ci: ContainerInstance, operation: string, context: CallContext, detail?: { status?: string; attribute?: { name: string; value?: string } },
  ): void {
    if (context.invocationId !== undefined && (operation === 'UpdateContainerInstancesState' || operation === 'PutAttributes')) {
      this.observer.registrationWrites.push({
        at: this.clock.now(),
        operation,
        containerInstanceArn: ci.arn,
        ec2InstanceId: ci.ec2InstanceId,
        lifecycleState: this.autoScaling.instance(ci.ec2InstanceId)?.lifecycleState,
        ...detail,
        invocationId: context.invocationId,
        waitSeenAt: this.observer.waitSeenBy(ci.ec2InstanceId, context.invocationId),
      });
    }
    if (!ci.operatorOwned) return;
    const state = this.autoScaling.instance(ci.ec2InstanceId)?.lifecycleState;
    if (state !== undefined && HOOK_WAIT_STATES.includes(state)) return;
    this.observer.untouchedViolations.push({
      at: this.clock.now(),
      operation,
      containerInstanceArn: ci.arn,
      ec2InstanceId: ci.ec2InstanceId,
      invocationId: context.invocationId,
    });
  }

  private requireContainerInstance(arn: string): ContainerInstance {
    const ci = this.ecs.containerInstanceByArn(arn);
    if (!ci) throw new Error(`No container instance ${arn}.`);
    return ci;
  }
}

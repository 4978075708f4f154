/**
 * The entities of the emulated world. Plain data; behaviour lives in ecs-world.ts and
 * autoscaling-world.ts. Times are virtual epoch milliseconds from the SimClock.
 */
import { TimerHandle } from '../clock';

/**
 * ECS API reference, ContainerInstance.status. INACTIVE: deregistered or host gone. REGISTERING,
 * REGISTRATION_FAILED and DEREGISTERING occur with the awsvpcTrunking account setting, while the
 * trunk network interface is attached or detached (ECS developer guide, "Elastic network
 * interface trunking").
 */
export type ContainerInstanceStatus =
  | 'ACTIVE' | 'DRAINING' | 'INACTIVE' | 'REGISTERING' | 'REGISTRATION_FAILED' | 'DEREGISTERING';

/** The statuses a registration passes through with ENI trunking; UpdateContainerInstancesState refuses them. */
export type TrunkingStatus = 'REGISTERING' | 'REGISTRATION_FAILED' | 'DEREGISTERING';

/** ECS developer guide, "Task lifecycle". */
export type TaskStatus = 'PENDING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPING' | 'DEPROVISIONING' | 'STOPPED';

export type AgentUpdateStatus = 'PENDING' | 'STAGING' | 'STAGED' | 'UPDATING' | 'UPDATED' | 'FAILED';

export interface Cluster {
  readonly name: string;
  readonly arn: string;
  /** Registration order, which is also ListContainerInstances order. */
  readonly containerInstances: ContainerInstance[];
  readonly tasks: Map<string, Task>;
  readonly services: Map<string, Service>;
  /**
   * The container instances a service may place a task on now (ACTIVE, agent connected), kept by
   * the world on every change of a registration (an index: placement never scans the cluster).
   */
  readonly placeable: Set<ContainerInstance>;
  /** Tasks without a container instance (background churn, emulator/background-churn.ts), by ARN. */
  readonly fargateTasks: Map<string, FargateTask>;
}

export interface ContainerInstance {
  readonly arn: string;
  readonly id: string;
  readonly cluster: Cluster;
  readonly ec2InstanceId: string;
  /** Its position in `cluster.containerInstances` (registration order). */
  readonly registrationIndex: number;
  readonly registeredAt: number;
  readonly registeredCpu: number;
  readonly registeredMemory: number;
  readonly instanceType: string;
  status: ContainerInstanceStatus;
  /** ContainerInstance.statusReason, e.g. why a registration is REGISTRATION_FAILED. */
  statusReason?: string;
  /** Registered with a trunk network interface (awsvpcTrunking): REGISTERING first, DEREGISTERING last. */
  readonly trunked: boolean;
  agentConnected: boolean;
  /**
   * Bumped on every change that emits an "ECS Container Instance State Change" event (ECS API
   * reference, ContainerInstance.version); which changes do depends on the emulator's
   * `containerInstanceEvents` mode (ecs-world.ts).
   */
  version: number;
  updatedAt: number;
  agentVersion: string;
  agentUpdateStatus?: AgentUpdateStatus;
  /** Built-in (ecs.*) and custom attributes, by name. */
  readonly attributes: Map<string, string | undefined>;
  /** Every task placed here, STOPPED ones included until they age out of ListTasks. */
  readonly tasks: Set<Task>;
  /** CPU and memory held by the tasks here that are not STOPPED (what remainingResources subtracts). */
  usedCpu: number;
  usedMemory: number;
  /** Task transitions that came due while the agent was disconnected: ECS sees them on reconnect. */
  deferredTransitions: Array<() => void>;
  /** Set by setContainerInstanceDraining: an operator's drain the controller must not touch. */
  operatorOwned: boolean;
}

export type TaskKind = 'replica' | 'daemon' | 'standalone';

export interface Task {
  readonly launchType: 'EC2';
  readonly arn: string;
  readonly id: string;
  readonly cluster: Cluster;
  readonly containerInstance: ContainerInstance;
  readonly kind: TaskKind;
  readonly service?: Service;
  readonly group: string;
  readonly startedBy?: string;
  readonly taskDefinitionArn: string;
  readonly cpu: number;
  readonly memory: number;
  readonly stopTimeoutSeconds: number;
  /** Load-balancer deregistration delay: how long the task stays DEACTIVATING. */
  readonly deregistrationDelaySeconds: number;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  readonly createdAt: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  /**
   * Bumped on every change that emits an "ECS Task State Change" event (ECS API reference,
   * Task.version): each change of lastStatus or desiredStatus, one per synchronous step.
   */
  version: number;
  /** When the last such event's change happened (the event's `updatedAt`). */
  updatedAt: number;
  /**
   * Its essential container exited while its desired status was RUNNING: no one told it to stop,
   * so the agent's report of STOPPED is one that frees resources ECS did not expect to free.
   */
  exitedOnItsOwn: boolean;
  /** Force-deregistered away from ECS while still alive on the host (ECS API reference, DeregisterContainerInstance). */
  orphaned: boolean;
  /**
   * Its CPU and memory still count in its container instance's usedCpu / usedMemory: until it is
   * STOPPED, or (option `releaseResourcesAt: 'desired-stopped'`) until its desired status is STOPPED.
   */
  holdsResources: boolean;
  /** Until when ListTasks lists it once STOPPED (an hour, or more: option `stoppedTaskVisibilityExtraMs`). */
  listedUntil?: number;
  /**
   * Its processes died with the host (stopped or terminated) while ECS may still show the last
   * state the agent reported: ECS learns of the death only if the agent reconnects.
   */
  diedOnHost: boolean;
  timer?: TimerHandle;
}

/**
 * A task on Fargate (ECS API reference, Task: `launchType` FARGATE, no `containerInstanceArn`):
 * only the background churn (emulator/background-churn.ts) runs them, so that cluster-wide
 * listings see what a busy account holds. Its lifecycle is the churn's own.
 */
export interface FargateTask {
  readonly launchType: 'FARGATE';
  readonly arn: string;
  readonly id: string;
  readonly cluster: Cluster;
  readonly group: string;
  readonly startedBy?: string;
  readonly taskDefinitionArn: string;
  readonly cpu: number;
  readonly memory: number;
  readonly availabilityZone: string;
  readonly createdAt: number;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stopCode?: string;
  stoppedReason?: string;
  version: number;
  updatedAt: number;
  /** Until when ListTasks lists it once STOPPED. */
  listedUntil?: number;
  timer?: TimerHandle;
}

/** Any task ListTasks and DescribeTasks may show. */
export type AnyTask = Task | FargateTask;

export interface ServiceOptions {
  name: string;
  desiredCount: number;
  /** Seconds a task stays DEACTIVATING (0: not behind a load balancer). */
  deregistrationDelaySeconds?: number;
  /** Seconds between SIGTERM and SIGKILL. ECS default 30. */
  stopTimeoutSeconds?: number;
  /** Seconds from PENDING to RUNNING. */
  startSeconds?: number;
  /** DAEMON scheduling strategy: one task per ACTIVE container instance, desiredCount ignored. */
  daemon?: boolean;
  cpu?: number;
  memory?: number;
  /**
   * DeploymentConfiguration.minimumHealthyPercent: during the replacement of a draining container
   * instance's tasks, at least this share of desiredCount (rounded up) stays RUNNING. Default 100
   * ("Best practices for Amazon ECS service parameters": 100 % is the default; ECS API reference,
   * DeploymentConfiguration). Used only with the emulator option `drainingReplacement:
   * 'deployment-configuration'`.
   */
  minimumHealthyPercent?: number;
  /**
   * DeploymentConfiguration.maximumPercent: at most this share of desiredCount (rounded down) is
   * RUNNING or PENDING during the replacement. Default 200 (same pages). Used only with
   * `drainingReplacement: 'deployment-configuration'`.
   */
  maximumPercent?: number;
}

export interface Service {
  readonly name: string;
  readonly arn: string;
  readonly cluster: Cluster;
  readonly options: Required<Omit<ServiceOptions, 'daemon'>> & { daemon: boolean };
  /** Tasks whose desiredStatus is RUNNING. */
  readonly activeTasks: Set<Task>;
  /** Of those, the ones on a DRAINING container instance waiting to be replaced (`drainingReplacement: 'deployment-configuration'`). */
  readonly replacing: Set<Task>;
  /** Tasks whose desiredStatus and lastStatus are RUNNING (healthy, for minimumHealthyPercent). */
  healthy: number;
  readonly createdAt: number;
  /**
   * Its service event messages, newest first, at most SERVICE_EVENTS_KEPT (ECS API reference,
   * Service.events: the latest 100). Written by the world (ecs-world.ts, "service event messages").
   */
  readonly events: ServiceEvent[];
  /**
   * The last "unable to place" message recorded and when: a repeat of it is omitted until its cause
   * is resolved or six hours pass (ECS developer guide, "Viewing Amazon ECS service event messages").
   */
  placementCause?: { readonly message: string; readonly at: number };
  /** Whether the last "has reached a steady state" message still holds (emitted on the change to steady). */
  steady: boolean;
}

/** ECS API reference, ServiceEvent data type. `createdAt` in virtual ms. */
export interface ServiceEvent {
  readonly id: string;
  readonly createdAt: number;
  readonly message: string;
}

/** Auto Scaling API reference, Instance.LifecycleState (the Warmed:* states belong to a warm pool). */
export type LifecycleState =
  | 'Pending' | 'Pending:Wait' | 'Pending:Proceed' | 'InService'
  | 'Terminating' | 'Terminating:Wait' | 'Terminating:Proceed' | 'Terminated'
  | RootVolumeLifecycleState
  | WarmedLifecycleState;

/**
 * An instance refresh with Strategy ReplaceRootVolume (Auto Scaling user guide, "Replace root
 * volumes during instance refresh"): the instance stays, its root volume is replaced.
 */
export type RootVolumeLifecycleState =
  | 'ReplacingRootVolume' | 'ReplacingRootVolume:Wait' | 'ReplacingRootVolume:Proceed' | 'RootVolumeReplaced';

export function isReplacingRootVolume(state: LifecycleState): state is RootVolumeLifecycleState {
  return state === 'ReplacingRootVolume' || state === 'ReplacingRootVolume:Wait'
    || state === 'ReplacingRootVolume:Proceed' || state === 'RootVolumeReplaced';
}

export type WarmedLifecycleState =
  | 'Warmed:Pending' | 'Warmed:Pending:Wait' | 'Warmed:Pending:Proceed'
  | 'Warmed:Stopped' | 'Warmed:Running' | 'Warmed:Hibernated'
  | 'Warmed:Terminating' | 'Warmed:Terminating:Wait' | 'Warmed:Terminating:Proceed' | 'Warmed:Terminated';

/** The warm pool's resting states, one per PoolState (Auto Scaling user guide, warm pools). */
export const WARMED_RESTING_STATES: readonly LifecycleState[] = ['Warmed:Stopped', 'Warmed:Running', 'Warmed:Hibernated'];

export function isWarmed(state: LifecycleState): state is WarmedLifecycleState {
  return state.startsWith('Warmed:');
}

export interface LifecycleHook {
  readonly name: string;
  readonly transition: 'autoscaling:EC2_INSTANCE_TERMINATING' | 'autoscaling:EC2_INSTANCE_LAUNCHING';
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: 'CONTINUE' | 'ABANDON';
  readonly notificationMetadata?: string;
}

export interface LifecycleAction {
  readonly hook: LifecycleHook;
  readonly token: string;
  readonly startedAt: number;
  /** The global timeout: min(48 h, 100 × heartbeat timeout) from the start. */
  readonly globalDeadline: number;
  heartbeatDeadline: number;
  heartbeatTimer: TimerHandle;
  globalTimer: TimerHandle;
}

export interface LaunchOptions {
  /** Cluster to register in; undefined: the instance never joins ECS. */
  cluster?: string;
  spot?: boolean;
  cpu?: number;
  memory?: number;
  instanceType?: string;
  /**
   * Custom attributes the agent registers with (ECS_INSTANCE_ATTRIBUTES, ECS developer guide,
   * "Amazon ECS container agent configuration"): they count toward the 10 custom attributes.
   */
  attributes?: Array<{ name: string; value?: string }>;
  /**
   * ECS_WARM_POOLS_CHECK (default true, as the ECS developer guide requires for warm pools): the
   * agent does not register while the instance is in a Warmed:* state. false: it registers at
   * first boot, before Auto Scaling stops it in the pool.
   */
  warmPoolsCheck?: boolean;
  /** The account uses awsvpcTrunking: the registration is REGISTERING until the trunk ENI is attached. */
  awsvpcTrunking?: boolean;
}

export interface Ec2Instance {
  readonly id: string;
  readonly groupName: string;
  readonly launch: LaunchOptions;
  readonly availabilityZone: string;
  readonly launchedAt: number;
  lifecycleState: LifecycleState;
  /** Outstanding lifecycle actions (launch ones in Pending:Wait, termination ones in the other Wait states), by hook name. */
  readonly actions: Map<string, LifecycleAction>;
  /** The next timed step: termination, the stop into the warm pool, the start out of it, a root volume replacement's. */
  transitionTimer?: TimerHandle;
  spotReclaimTimer?: TimerHandle;
}

/** Auto Scaling API reference, PutWarmPool / WarmPoolConfiguration; AWS::AutoScaling::WarmPool. */
export interface WarmPool {
  /** Default Stopped. */
  poolState: 'Stopped' | 'Running' | 'Hibernated';
  /** Default 0. */
  minSize: number;
  /** Undefined: the group's MaxSize counts instead. */
  maxGroupPreparedCapacity?: number;
  /** InstanceReusePolicy.ReuseOnScaleIn: scale-in returns instances to the pool. Default false. */
  reuseOnScaleIn: boolean;
}

export interface WarmPoolOptions {
  groupName: string;
  poolState?: WarmPool['poolState'];
  minSize?: number;
  /** -1 or undefined: none (the group's MaxSize counts). */
  maxGroupPreparedCapacity?: number;
  reuseOnScaleIn?: boolean;
}

export interface AutoScalingGroup {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  readonly hooks: Map<string, LifecycleHook>;
  /** Launch order; terminated instances leave the map. */
  readonly instances: Map<string, Ec2Instance>;
  /** What scale-out launches; without it the group never launches on its own. */
  readonly launchTemplate?: LaunchOptions;
  warmPool?: WarmPool;
}

export interface AutoScalingGroupOptions {
  name: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  launchTemplate?: LaunchOptions;
}

export interface LifecycleHookOptions {
  groupName: string;
  hookName: string;
  transition?: LifecycleHook['transition'];
  /** 30–7200 s, default 3600 (Auto Scaling API reference, PutLifecycleHook). */
  heartbeatTimeoutSeconds?: number;
  /** Default ABANDON (Auto Scaling API reference, PutLifecycleHook). */
  defaultResult?: 'CONTINUE' | 'ABANDON';
  notificationMetadata?: string;
}

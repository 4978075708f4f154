/**
 * The ECS side of the world: clusters, container instances, services and tasks, in virtual time.
 *
 * Behaviour follows the ECS developer guide, "Container instance draining" and "Task lifecycle":
 * - DRAINING stops service (replica) tasks and the service starts replacements on ACTIVE
 *   instances; daemon tasks stop only after every replica task there is STOPPED; standalone
 *   (RunTask) tasks are not stopped; nothing new is placed on a DRAINING instance.
 * - A stopping task goes DEACTIVATING (load-balancer deregistration delay) → STOPPING (SIGTERM,
 *   up to stopTimeout) → DEPROVISIONING → STOPPED; desiredStatus is STOPPED from the start.
 *
 * Events follow the ECS developer guide, "Amazon ECS events" and its two sections "Amazon ECS
 * container instance state change events" and "Amazon ECS task state change events": each change
 * of the world names at `touch` which documented cause (InstanceChange) it is, if any, and every
 * change of a task's lastStatus or desiredStatus goes through `taskChanged`.
 */
import { SimClock } from '../clock';
import { validateRegistrationAttributes } from './ecs-attributes';
import { ecsErrors } from './errors';
import { EmittedEvent, EventFactory } from './events';
import {
  AnyTask, Cluster, ContainerInstance, ContainerInstanceStatus, FargateTask, Service, ServiceOptions, Task, TaskKind, TaskStatus, TrunkingStatus,
} from './model';
import { Observer } from './observer';
import { SeededRandom } from './random';
import { AsOf, ContainerInstanceView, History, TaskView } from './stale-reads';
import { DeregistrationRefusal, DrainingReplacement, ResourceRelease, UnkindStats } from './unkind';

/** Task transitions are quantised to this much virtual time so that many share one clock tick. */
const QUANTUM_MS = 100;
/** ECS documents that stopped tasks stay visible (ListTasks, DescribeTasks) for at least an hour. */
export const STOPPED_TASK_VISIBILITY_MS = 60 * 60 * 1000;
/** What the emulated agent updates to; instances launch one version behind. */
export const LATEST_AGENT_VERSION = '1.90.0';
const LAUNCH_AGENT_VERSION = '1.89.0';
/**
 * How long ECS takes to mark the registration of a terminated host INACTIVE. The ECS developer
 * guide ("Container instance lifecycle") says "immediately"; registrations lingering after a
 * direct termination are reported (bottlerocket-os/bottlerocket-test-system#717): a delay keeps a
 * terminated host's registration listed for a while, which a controller must cope with.
 */
const HOST_GONE_DETECTION_MS = 30_000;
const AGENT_UPDATE_STEP_MS = 5_000;
/**
 * Attaching (REGISTERING) or detaching (DEREGISTERING) the trunk network interface of an
 * awsvpcTrunking registration. The ECS developer guide ("Elastic network interface trunking")
 * names the statuses but not their duration.
 */
const TRUNK_ATTACHMENT_MS = 20_000;
/** ECS API reference, Service.events: "A maximum of 100 of the latest events are displayed". */
export const SERVICE_EVENTS_KEPT = 100;
/**
 * ECS developer guide, "Viewing Amazon ECS service event messages": duplicate task placement
 * messages of the service scheduler are omitted until their cause is resolved or six hours pass;
 * an unresolved cause then gets another message. The page says so of the events the console shows;
 * the emulator applies it where the scheduler records them, so DescribeServices shows the same.
 */
const DUPLICATE_SERVICE_EVENT_MS = 6 * 60 * 60 * 1000;

/**
 * Which changes of a registration emit "ECS Container Instance State Change" and bump its version
 * (ECS API reference, ContainerInstance.version: incremented on every change that triggers an event).
 * - `documented`: only the causes the ECS developer guide lists ("Amazon ECS container instance
 *   state change events"; see InstanceChange). Where AWS lists no event the emulator promises none.
 * - `every-change`: every change the emulator makes to a registration, also those no page lists (a
 *   task already told to stop reaching STOPPED, PENDING → RUNNING, UpdateContainerInstancesState
 *   on its own, the trunk's statuses, each agentUpdateStatus step). How the emulator behaved before
 *   the documented model; kept to compare a controller against the undocumented event.
 */
export type ContainerInstanceEventMode = 'documented' | 'every-change';

/**
 * Why a registration changed: one of the causes the ECS developer guide lists for a container
 * instance state change event ("Amazon ECS container instance state change events"), or
 * `undocumented` for a change it does not list (an event only in `every-change` mode).
 */
type InstanceChange =
  /** StartTask, RunTask or StopTask, or the service scheduler starts or stops a task: it changes the resources left. */
  | 'task-placed-or-stopped'
  /**
   * The agent reports STOPPED (SubmitTaskStateChange) for a task whose desired status is RUNNING,
   * a task no one told to stop: the agent frees its resources.
   */
  | 'task-stopped-unbidden'
  /**
   * DeregisterContainerInstance. Also the deregistration ECS makes itself when the host terminates:
   * "Amazon ECS events" says a terminated container instance triggers an event for the instance.
   */
  | 'deregistered'
  /** A task stopped because its EC2 instance stopped (or, "Amazon ECS events", terminated). */
  | 'host-stopped'
  /** The agent registers the container instance for the first time. */
  | 'first-registration'
  /** The agent connects to or disconnects from ECS (agentConnected changes). */
  | 'agent-connection'
  /** The agent is upgraded: the versionInfo changes. */
  | 'agent-upgrade'
  | 'undocumented';

export interface EcsWorldOptions {
  /**
   * How long ECS still counts a task that just reached STOPPED when DeregisterContainerInstance
   * without force checks for tasks. The ECS API follows an eventual consistency model: "the result
   * of an API command you run that affects your Amazon ECS resources might not be immediately
   * visible to all subsequent commands you run" (ECS API reference, RunTask).
   */
  deregistrationLagMs: number;
  /** See ContainerInstanceEventMode. */
  containerInstanceEvents: ContainerInstanceEventMode;
  /** The unkind options (emulator/unkind.ts); each off by default. */
  releaseResourcesAt: ResourceRelease;
  deregistrationRefusal: DeregistrationRefusal;
  drainingReplacement: DrainingReplacement;
  stoppedTaskVisibilityExtraMs: number;
  /** Draws of the unkind options (a stream of its own: with them off, nothing is drawn from it). */
  unkindRandom: SeededRandom;
  unkindStats: UnkindStats;
  /** Option `staleReads`: the histories stale answers are read from; undefined: none kept. */
  history?: EcsHistory;
}

/** What ListTasks looks at, in a task or in a version of it. */
type ListedFields = Pick<TaskView, 'desiredStatus' | 'lastStatus' | 'stoppedAt' | 'listedUntil'> & { readonly orphaned?: boolean };

/** What stale ECS reads are answered from (emulator/stale-reads.ts). */
export interface EcsHistory {
  readonly instances: History<ContainerInstanceView>;
  readonly tasks: History<TaskView>;
}

/** What the agent did when its host started (again): see `hostStarted`. */
export type AgentStart = 'reconnected' | 'refused' | 'unregistered';

export interface RegisterOptions {
  cluster: string;
  ec2InstanceId: string;
  cpu?: number;
  memory?: number;
  instanceType?: string;
  availabilityZone?: string;
  /** Custom attributes registered by the agent (ECS_INSTANCE_ATTRIBUTES). */
  attributes?: Array<{ name: string; value?: string }>;
  /** awsvpcTrunking: REGISTERING until the trunk network interface is attached. */
  trunked?: boolean;
  /**
   * Staging only (tests that name their registrations): this ID, the end of the ARN, instead of
   * one drawn from the world's random stream (nothing is drawn then). Refused when taken.
   */
  id?: string;
}

/**
 * A task put on a container instance directly in a state (EcsWorld.stageTask), for tests that build
 * a world instead of letting it run. A staged task is a standalone (RunTask) task: DRAINING does not
 * stop it (ECS developer guide, "Container instance draining"), so it stays as staged unless an API
 * call changes it; no timer moves it on.
 */
export interface StagedTaskOptions {
  /** The task's ID, the end of its ARN (`task/<cluster>/<id>`); unique in the cluster, as ECS's are. */
  id: string;
  lastStatus: TaskStatus;
  /**
   * RUNNING only with lastStatus PENDING or RUNNING: a task starts stopping when its desired status
   * becomes STOPPED ("Task lifecycle", ECS developer guide; see stopTask).
   */
  desiredStatus: 'RUNNING' | 'STOPPED';
  /** Default 128 CPU units and 256 MiB, as runStandaloneTask's. */
  cpu?: number;
  memory?: number;
}

export interface StandaloneTaskOptions {
  /** Seconds the task runs before its essential container exits; undefined: forever. */
  runSeconds?: number;
  stopTimeoutSeconds?: number;
  cpu?: number;
  memory?: number;
  startedBy?: string;
}

export class EcsWorld {
  /** Option staleReads: the histories stale answers are read from (undefined: none kept). */
  get history(): EcsHistory | undefined {
    return this.options.history;
  }

  /** Told of every cluster created (the background churn starts there). */
  clusterCreated?: (cluster: Cluster) => void;
  private readonly clusters = new Map<string, Cluster>();
  private readonly containerInstancesByArn = new Map<string, ContainerInstance>();
  private readonly containerInstancesByEc2Id = new Map<string, ContainerInstance[]>();
  /**
   * The container instance ARN the agent of each host checkpointed (its data directory): after a
   * restart it re-registers with it (amazon-ecs-agent, agent/app/agent.go, reregisterContainerInstance).
   */
  private readonly agentCheckpoints = new Map<string, ContainerInstance>();
  /** Hosts that are not running: the agent cannot reconnect and nothing runs there. */
  private readonly hostsDown = new Map<string, 'stopped' | 'hibernated' | 'terminated'>();
  private batchDepth = 0;
  private readonly changed = new Set<ContainerInstance>();
  private readonly changedTasks = new Set<Task>();
  /** Entities changed in this synchronous step whose new version the history records at its end (option staleReads). */
  private readonly dirtyInstances = new Set<ContainerInstance>();
  private readonly dirtyTasks = new Set<Task>();
  private lastIso = { ms: NaN, iso: '' };
  /** Services whose draining replacement is being worked on (progressDrain is not re-entered). */
  private readonly progressing = new Set<Service>();
  /** The last instant each service found no room for a draining task's replacement (counted once per instant). */
  private readonly unplaceableAt = new Map<Service, number>();
  /** Service event ids come from a counter, not `random`: recording them changes none of the world's draws. */
  private serviceEventCount = 0;

  constructor(
    private readonly clock: SimClock,
    private readonly random: SeededRandom,
    private readonly events: EventFactory,
    /** Task events draw their ids from their own stream: the world's choices do not depend on them. */
    private readonly taskEvents: EventFactory,
    private readonly emit: (event: EmittedEvent) => void,
    private readonly observer: Observer,
    private readonly region: string,
    private readonly accountId: string,
    private readonly options: EcsWorldOptions,
  ) {}

  // ---- clusters -------------------------------------------------------------------------

  createCluster(name: string): Cluster {
    const existing = this.clusters.get(name);
    if (existing) return existing;
    const cluster: Cluster = {
      name,
      arn: `arn:aws:ecs:${this.region}:${this.accountId}:cluster/${name}`,
      containerInstances: [],
      tasks: new Map(),
      services: new Map(),
      placeable: new Set(),
      fargateTasks: new Map(),
    };
    this.clusters.set(name, cluster);
    this.clusterCreated?.(cluster);
    return cluster;
  }

  hasCluster(name: string): boolean {
    return this.clusters.has(name);
  }

  /** Accepts a short name or a full ARN; no cluster means "default" (ECS API reference). */
  cluster(nameOrArn: string | undefined): Cluster {
    const name = (nameOrArn ?? 'default').replace(/^arn:aws:ecs:[^:]*:[^:]*:cluster\//, '');
    const cluster = this.clusters.get(name);
    if (!cluster) throw ecsErrors.clusterNotFound();
    return cluster;
  }

  /** A fault: the cluster disappears with everything in it, mid-drain or not. */
  deleteCluster(name: string): void {
    const cluster = this.clusters.get(name);
    if (!cluster) return;
    for (const task of cluster.tasks.values()) task.timer?.cancel();
    for (const task of cluster.fargateTasks.values()) task.timer?.cancel();
    for (const ci of cluster.containerInstances) {
      this.containerInstancesByArn.delete(ci.arn);
      const list = this.containerInstancesByEc2Id.get(ci.ec2InstanceId) ?? [];
      this.containerInstancesByEc2Id.set(ci.ec2InstanceId, list.filter(c => c !== ci));
    }
    this.clusters.delete(name);
  }

  // ---- container instances ----------------------------------------------------------------

  /**
   * RegisterContainerInstance as the agent calls it at its first start; the custom attributes it
   * sends are checked like PutAttributes checks them (see validateRegistrationAttributes).
   */
  registerContainerInstance(options: RegisterOptions): ContainerInstance {
    const cluster = this.cluster(options.cluster);
    const attributes = options.attributes ?? [];
    validateRegistrationAttributes(attributes);
    const stagedArn = options.id === undefined ? undefined : `arn:aws:ecs:${this.region}:${this.accountId}:container-instance/${cluster.name}/${options.id}`;
    if (stagedArn !== undefined && this.containerInstancesByArn.has(stagedArn)) {
      throw new Error(`A container instance ${options.id} is already registered in ${cluster.name}.`);
    }
    return this.batch(() => {
      const id = options.id ?? this.random.hex(32);
      const instanceType = options.instanceType ?? 'm5.large';
      const ci: ContainerInstance = {
        arn: `arn:aws:ecs:${this.region}:${this.accountId}:container-instance/${cluster.name}/${id}`,
        id,
        cluster,
        ec2InstanceId: options.ec2InstanceId,
        registrationIndex: cluster.containerInstances.length,
        registeredAt: this.clock.now(),
        registeredCpu: options.cpu ?? 2048,
        registeredMemory: options.memory ?? 7680,
        instanceType,
        // ECS developer guide, "Elastic network interface trunking": REGISTERING while the trunk ENI is provisioned.
        status: options.trunked ? 'REGISTERING' : 'ACTIVE',
        trunked: options.trunked ?? false,
        agentConnected: true,
        version: 0,
        updatedAt: this.clock.now(),
        agentVersion: LAUNCH_AGENT_VERSION,
        attributes: new Map<string, string | undefined>([
          ['ecs.os-type', 'linux'],
          ['ecs.instance-type', instanceType],
          ['ecs.availability-zone', options.availabilityZone ?? `${this.region}a`],
          ['ecs.ami-id', 'ami-0123456789abcdef0'],
          ['ecs.capability.task-eni', undefined],
        ]),
        tasks: new Set(),
        usedCpu: 0,
        usedMemory: 0,
        deferredTransitions: [],
        operatorOwned: false,
      };
      for (const attribute of attributes) ci.attributes.set(attribute.name, attribute.value);
      cluster.containerInstances.push(ci);
      this.containerInstancesByArn.set(ci.arn, ci);
      const sameHost = this.containerInstancesByEc2Id.get(ci.ec2InstanceId) ?? [];
      sameHost.push(ci);
      this.containerInstancesByEc2Id.set(ci.ec2InstanceId, sameHost);
      this.agentCheckpoints.set(ci.ec2InstanceId, ci);
      this.touch(ci, 'first-registration');
      this.placeDaemonTasks(ci);
      this.rebalanceServices(cluster);
      if (ci.trunked) {
        this.clock.after(TRUNK_ATTACHMENT_MS, () => {
          if (ci.status === 'REGISTERING') this.setRegistrationStatus(ci, 'ACTIVE');
        });
      }
      return ci;
    });
  }

  /**
   * RegisterContainerInstance with `containerInstanceArn`: an agent restarted from its checkpoint
   * re-registers (amazon-ecs-agent, agent/app/agent.go, reregisterContainerInstance). A deregistered
   * registration is refused with "ClientException: Container instance <id> is inactive."
   * (aws/amazon-ecs-agent#583), on which the agent exits for good. Otherwise the agent is connected
   * again and the status stays what it was: the documentation does not say that re-registration
   * resets DRAINING to ACTIVE.
   */
  reregisterContainerInstance(ci: ContainerInstance): void {
    if (ci.status === 'INACTIVE') throw ecsErrors.client(`Container instance ${ci.id} is inactive.`);
    this.agentCheckpoints.set(ci.ec2InstanceId, ci);
    this.reconnectAgent(ci);
  }

  /**
   * A world event: the registration goes REGISTERING, REGISTRATION_FAILED or DEREGISTERING (ENI
   * trunking; ECS API reference, ContainerInstance.status), or ACTIVE once its trunk is attached.
   */
  setRegistrationStatus(ci: ContainerInstance, status: TrunkingStatus | 'ACTIVE', reason?: string): void {
    if (ci.status === 'INACTIVE') throw new Error(`${ci.arn} is INACTIVE.`);
    if (ci.status === status) return;
    this.batch(() => {
      ci.status = status;
      ci.statusReason = status === 'REGISTRATION_FAILED' ? reason ?? 'The trunk elastic network interface could not be attached.' : reason;
      // The trunk's statuses are not among the causes of a container instance state change event
      // (ECS developer guide, "Amazon ECS container instance state change events"); the daemon
      // tasks placed once it is ACTIVE are.
      this.touch(ci, 'undocumented');
      if (status === 'ACTIVE') {
        this.placeDaemonTasks(ci);
        this.rebalanceServices(ci.cluster);
      }
    });
  }

  /** By full ARN or by the ID after the last slash, within one cluster. */
  findContainerInstance(cluster: Cluster, ref: string): ContainerInstance | undefined {
    const byArn = this.containerInstancesByArn.get(ref);
    if (byArn) return byArn.cluster === cluster ? byArn : undefined;
    if (ref.startsWith('arn:')) return undefined;
    return this.containerInstancesByArn.get(
      `arn:aws:ecs:${this.region}:${this.accountId}:container-instance/${cluster.name}/${ref}`);
  }

  containerInstancesOf(ec2InstanceId: string): ContainerInstance[] {
    return this.containerInstancesByEc2Id.get(ec2InstanceId) ?? [];
  }

  containerInstanceByArn(arn: string): ContainerInstance | undefined {
    return this.containerInstancesByArn.get(arn);
  }

  /** UpdateContainerInstancesState; the API refuses registrations that are not ACTIVE or DRAINING before this. */
  setStatus(ci: ContainerInstance, status: 'ACTIVE' | 'DRAINING'): void {
    if (ci.status === status || ci.status === 'INACTIVE') return;
    this.batch(() => {
      ci.status = status;
      // UpdateContainerInstancesState is not among the causes of a container instance state change
      // event (ECS developer guide, "Amazon ECS container instance state change events"); the
      // service scheduler stopping or placing tasks because of it is, below.
      this.touch(ci, 'undocumented');
      if (status === 'DRAINING') {
        const timeline = this.observer.timeline(ci.ec2InstanceId);
        timeline.drainingAt ??= this.clock.now();
        const replacing = new Set<Service>();
        for (const task of ci.tasks) {
          if (task.kind !== 'replica' || task.desiredStatus !== 'RUNNING') continue;
          // `deployment-configuration` (ECS API reference, UpdateContainerInstancesState): PENDING
          // tasks stop at once, RUNNING ones are replaced within the deployment configuration.
          if (this.options.drainingReplacement === 'immediate' || task.lastStatus === 'PENDING' || task.orphaned || !task.service) {
            this.stopTask(task, 'ServiceSchedulerInitiated', 'Task stopped because the container instance is draining.', 'task-placed-or-stopped');
          } else {
            task.service.replacing.add(task);
            replacing.add(task.service);
          }
        }
        for (const service of replacing) {
          this.progressDrain(service);
          this.checkSteady(service);
        }
        this.stopDaemonTasksIfReplicasGone(ci);
      } else {
        // Back to ACTIVE: its tasks need no replacement any more.
        for (const task of ci.tasks) task.service?.replacing.delete(task);
        this.placeDaemonTasks(ci);
        this.rebalanceServices(ci.cluster);
        for (const service of ci.cluster.services.values()) this.checkSteady(service);
      }
    });
  }

  /**
   * ECS API reference, DeregisterContainerInstance: with force the tasks are orphaned (they keep
   * running on the host, ECS stops tracking them) and services start replacements elsewhere.
   *
   * Without force the call fails while ECS counts a task (option `deregistrationRefusal`, see
   * DeregistrationRefusal in unkind.ts for the sources of both):
   * - `tasks-not-stopped` (default): tasks it shows as not STOPPED (also those that died with a
   *   stopped host it has not heard of), and, for `deregistrationLagMs`, tasks that just reached
   *   STOPPED (eventual consistency, see EcsWorldOptions);
   * - `tasks-desired-running`: tasks whose desired status is RUNNING (what runningTasksCount counts),
   *   and, for `deregistrationLagMs`, tasks whose desired status just became STOPPED. Tasks still
   *   stopping are orphaned by the plain call, as by a forced one.
   * Error and message as moto models them ("InvalidParameterException: Found running tasks on the
   * instance."); AWS does not publish them.
   */
  deregister(ci: ContainerInstance, force: boolean): void {
    if (ci.status === 'INACTIVE') return;
    const now = this.clock.now();
    const lag = this.options.deregistrationLagMs;
    const tracked = [...ci.tasks].filter(t => !t.orphaned);
    const counted = this.options.deregistrationRefusal === 'tasks-desired-running'
      ? tracked.filter(t => t.desiredStatus === 'RUNNING' || now - (t.stoppingAt ?? 0) < lag)
      : tracked.filter(t => t.lastStatus !== 'STOPPED' || now - (t.stoppedAt ?? 0) < lag);
    if (counted.length > 0 && !force) {
      throw ecsErrors.invalidParameter('Found running tasks on the instance.');
    }
    const alive = tracked.filter(t => t.lastStatus !== 'STOPPED');
    if (!force && alive.length > 0) this.options.unkindStats.plainDeregistrationsOrphaning++;
    this.batch(() => {
      for (const task of alive) {
        // ECS developer guide, "Amazon ECS task state change events": a forced deregistration is a
        // cause of task events ("this stops all tasks on the instance"), while the ECS API reference
        // (DeregisterContainerInstance) says they keep running, orphaned, no longer monitored. The
        // emulator emits this one event, showing the task as DescribeTasks still does, and none after.
        this.taskChanged(task);
        task.orphaned = true;
        if (task.service) {
          this.leaveService(task);
          this.ensureServiceTasks(task.service);
        }
      }
      ci.status = 'INACTIVE';
      this.touch(ci, 'deregistered');
      const timeline = this.observer.timeline(ci.ec2InstanceId);
      timeline.deregisteredAt ??= this.clock.now();
      timeline.forced ??= force && alive.length > 0;
      // A forced call where the plain one would have been refused: what `force` is not for before a deadline.
      timeline.forceOverrodeRefusal ??= counted.length > 0;
    });
  }

  disconnectAgent(ci: ContainerInstance): void {
    if (!ci.agentConnected) return;
    ci.agentConnected = false;
    this.touch(ci, 'agent-connection');
  }

  /** The agent is back: ECS hears of what happened meanwhile. Impossible while the host is down. */
  reconnectAgent(ci: ContainerInstance): void {
    if (ci.agentConnected || ci.status === 'INACTIVE' || this.hostsDown.has(ci.ec2InstanceId)) return;
    this.batch(() => {
      ci.agentConnected = true;
      this.touch(ci, 'agent-connection');
      const deferred = ci.deferredTransitions;
      ci.deferredTransitions = [];
      for (const transition of deferred) transition();
      this.placeDaemonTasks(ci);
      this.rebalanceServices(ci.cluster);
    });
  }

  /**
   * EC2 stopped (or hibernated) the host, e.g. into a warm pool. ECS developer guide, "Container
   * instance lifecycle": the status stays, the agent disconnects, "Any tasks that were running on
   * the container instance stop". ECS learns of the stopped tasks when the agent reconnects; until
   * then it shows their last reported state. Hibernation keeps the processes (RAM is saved), frozen
   * until the host resumes. Returns the tasks whose processes were alive: a stop before they were
   * drained is as premature as a termination.
   */
  hostStopped(ec2InstanceId: string, hibernate: boolean): string[] {
    this.hostsDown.set(ec2InstanceId, hibernate ? 'hibernated' : 'stopped');
    const alive: string[] = [];
    this.batch(() => {
      for (const ci of this.containerInstancesOf(ec2InstanceId)) {
        for (const task of ci.tasks) {
          if (task.lastStatus === 'STOPPED' || task.diedOnHost) continue;
          alive.push(task.arn);
        }
        if (!hibernate) this.killProcesses(ci, false);
        if (ci.status !== 'INACTIVE') this.disconnectAgent(ci);
      }
    });
    return alive;
  }

  /**
   * The host runs again and its agent starts. With a checkpoint the agent re-registers with it:
   * refused when that registration is INACTIVE (the agent exits: `refused`), else reconnected.
   * Without one (`unregistered`) the caller lets the agent register for the first time.
   */
  hostStarted(ec2InstanceId: string): AgentStart {
    this.hostsDown.delete(ec2InstanceId);
    const checkpoint = this.agentCheckpoints.get(ec2InstanceId);
    if (!checkpoint || !this.containerInstancesByArn.has(checkpoint.arn)) return 'unregistered';
    if (checkpoint.status === 'INACTIVE') return 'refused';
    this.reconnectAgent(checkpoint);
    return 'reconnected';
  }

  /**
   * The host's root volume was replaced, and the agent's data directory with it (the host's
   * /var/lib/ecs/data, which the agent container mounts as its ECS_DATADIR: ECS developer guide,
   * "Installing the Amazon ECS container agent"): the next start finds no checkpoint and registers
   * anew (see hostStarted).
   */
  forgetAgentCheckpoint(ec2InstanceId: string): void {
    this.agentCheckpoints.delete(ec2InstanceId);
  }

  /**
   * EC2 terminated the host: every task process still on it dies with it (recorded in the
   * timeline). ECS deregisters the registration automatically only if its agent was connected:
   * "stopped container instances or instances with disconnected agents aren't automatically
   * deregistered when terminated" (ECS API reference, DeregisterContainerInstance). Such a
   * registration stays ACTIVE or DRAINING with agentConnected false, its tasks as last reported,
   * until someone deregisters it.
   */
  hostTerminated(ec2InstanceId: string): void {
    const timeline = this.observer.timeline(ec2InstanceId);
    this.hostsDown.set(ec2InstanceId, 'terminated');
    this.batch(() => {
      for (const ci of this.containerInstancesOf(ec2InstanceId)) {
        const connected = ci.status !== 'INACTIVE' && ci.agentConnected;
        // Disconnect first, so nothing is placed on this host while its tasks are cleared.
        if (ci.status !== 'INACTIVE') this.disconnectAgent(ci);
        for (const task of ci.tasks) {
          if (task.lastStatus !== 'STOPPED' && !task.diedOnHost) timeline.tasksAliveAtTermination.push(task.arn);
        }
        this.killProcesses(ci, connected);
        if (!connected) continue;
        this.clock.after(HOST_GONE_DETECTION_MS, () => this.batch(() => {
          if (ci.status === 'INACTIVE') return;
          // ENI trunking: DEREGISTERING while the trunk is detached, then INACTIVE (ECS developer guide).
          if (ci.trunked) {
            this.setRegistrationStatus(ci, 'DEREGISTERING');
            this.clock.after(TRUNK_ATTACHMENT_MS, () => this.batch(() => this.markInactive(ci)));
          } else {
            this.markInactive(ci);
          }
        }));
      }
    });
  }

  /**
   * The task processes on a host that stopped or terminated die. `reportNow`: ECS hears of it at
   * once (a terminated host with a connected agent); otherwise only when the agent reconnects,
   * which for a terminated host is never.
   */
  private killProcesses(ci: ContainerInstance, reportNow: boolean): void {
    const reason = reportNow
      ? { code: 'TerminationNotice', text: `Host EC2 (instance ${ci.ec2InstanceId}) terminated.` }
      : { code: 'EssentialContainerExited', text: 'Essential container in task exited' };
    let died = 0;
    for (const task of ci.tasks) {
      if (task.lastStatus === 'STOPPED' || task.diedOnHost) continue;
      task.timer?.cancel();
      task.timer = undefined;
      task.diedOnHost = true;
      died++;
    }
    // Transitions held back for the agent belonged to processes that are gone now.
    ci.deferredTransitions = [];
    const report = () => {
      for (const task of ci.tasks) {
        if (task.diedOnHost && task.lastStatus !== 'STOPPED') this.reportStopped(task, reason.code, reason.text);
      }
    };
    if (died === 0 && !reportNow) return;
    if (reportNow) report();
    else ci.deferredTransitions.push(() => this.batch(report));
  }

  /**
   * ECS records a task as STOPPED at once (its process is gone); the service replaces it. Both
   * event sections of the ECS developer guide list a task stopped with its EC2 instance as a cause.
   */
  private reportStopped(task: Task, stopCode: string, reason: string): void {
    if (task.desiredStatus === 'RUNNING') {
      task.desiredStatus = 'STOPPED';
      task.stoppingAt = this.clock.now();
      task.stopCode = stopCode;
      task.stoppedReason = reason;
      this.taskChanged(task);
      if (this.options.releaseResourcesAt === 'desired-stopped') this.releaseResources(task);
      if (task.service && !task.orphaned) {
        this.leaveService(task);
        if (task.kind === 'replica') this.ensureServiceTasks(task.service);
      }
    }
    this.markStopped(task, 'host-stopped');
  }

  private markInactive(ci: ContainerInstance): void {
    if (ci.status === 'INACTIVE') return;
    ci.status = 'INACTIVE';
    this.touch(ci, 'deregistered');
  }

  /** UpdateContainerAgent's agentUpdateStatus walk (ECS API reference, ContainerInstance). */
  startAgentUpdate(ci: ContainerInstance): void {
    const steps = ['PENDING', 'STAGING', 'STAGED', 'UPDATING', 'UPDATED'] as const;
    const step = (index: number): void => {
      this.batch(() => {
        ci.agentUpdateStatus = steps[index];
        if (steps[index] === 'UPDATED') ci.agentVersion = LATEST_AGENT_VERSION;
        // ECS developer guide, "Amazon ECS container instance state change events": an upgrade
        // triggers an event because the versionInfo changes; the agentUpdateStatus steps before
        // it change nothing the page names.
        this.touch(ci, steps[index] === 'UPDATED' ? 'agent-upgrade' : 'undocumented');
      });
      if (index + 1 < steps.length) this.clock.after(AGENT_UPDATE_STEP_MS, () => step(index + 1));
    };
    step(0);
  }

  /** The caller checked names, values and the quota (ecs-attributes.ts). */
  putAttribute(ci: ContainerInstance, name: string, value: string | undefined): void {
    ci.attributes.set(name, value);
    this.markDirty(ci);
  }

  deleteAttribute(ci: ContainerInstance, name: string): void {
    ci.attributes.delete(name);
    this.markDirty(ci);
  }

  /** ECS API reference, ContainerInstance.runningTasksCount: tasks whose desiredStatus is RUNNING. */
  runningTasksCount(ci: ContainerInstance): number {
    let count = 0;
    for (const task of ci.tasks) if (task.desiredStatus === 'RUNNING' && !task.orphaned) count++;
    return count;
  }

  /** ECS API reference, ContainerInstance.pendingTasksCount: tasks in the PENDING status. */
  pendingTasksCount(ci: ContainerInstance): number {
    let count = 0;
    for (const task of ci.tasks) if (task.lastStatus === 'PENDING' && !task.orphaned) count++;
    return count;
  }

  /** The registration's fields a read shows, now. */
  instanceView(ci: ContainerInstance): ContainerInstanceView {
    const remaining = this.remainingResources(ci);
    return {
      status: ci.status,
      statusReason: ci.statusReason,
      agentConnected: ci.agentConnected,
      version: ci.version,
      agentVersion: ci.agentVersion,
      agentUpdateStatus: ci.agentUpdateStatus,
      attributes: [...ci.attributes],
      remainingCpu: remaining.cpu,
      remainingMemory: remaining.memory,
      runningTasksCount: this.runningTasksCount(ci),
      pendingTasksCount: this.pendingTasksCount(ci),
    };
  }

  /** The task's fields a read shows, now. */
  taskView(task: AnyTask): TaskView {
    return {
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      version: task.version,
      startedAt: task.startedAt,
      stoppingAt: task.stoppingAt,
      stoppedAt: task.stoppedAt,
      stopCode: task.stopCode,
      stoppedReason: task.stoppedReason,
      orphaned: task.launchType === 'EC2' && task.orphaned,
      listedUntil: task.listedUntil,
    };
  }

  /**
   * The registration as a read answering for instant `at` sees it (option staleReads; undefined
   * `at`: now), or undefined when it was not registered yet then.
   */
  instanceAsOf(ci: ContainerInstance, at: number | undefined): ContainerInstanceView | undefined {
    const version = this.asOf(this.options.history?.instances, ci, at);
    return version === 'live' ? this.instanceView(ci) : version === 'absent' ? undefined : version;
  }

  /** Only its status, as instanceAsOf (cheaper for listings). */
  statusAsOf(ci: ContainerInstance, at: number | undefined): ContainerInstanceStatus | undefined {
    const version = this.asOf(this.options.history?.instances, ci, at);
    return version === 'live' ? ci.status : version === 'absent' ? undefined : version.status;
  }

  /** The task as a read answering for instant `at` sees it, or undefined when it did not exist yet. Fargate tasks: always live. */
  taskAsOf(task: AnyTask, at: number | undefined): TaskView | undefined {
    const version = task.launchType === 'EC2' ? this.asOf(this.options.history?.tasks, task, at) : 'live';
    return version === 'live' ? this.taskView(task) : version === 'absent' ? undefined : version;
  }

  /**
   * ListTasks' test of a task with `desiredStatus` as a read answering for instant `at` sees it:
   * it existed then, had that desired status and was listed (see isListed). Allocates nothing.
   */
  listedAsOf(task: AnyTask, desiredStatus: string, at: number): boolean {
    const version = task.launchType === 'EC2' ? this.asOf(this.options.history?.tasks, task, at) : 'live';
    if (version === 'absent') return false;
    const seen: ListedFields = version === 'live' ? task : version;
    return seen.desiredStatus === desiredStatus && !seen.orphaned
      && (seen.lastStatus !== 'STOPPED' || at < (seen.listedUntil ?? (seen.stoppedAt ?? 0) + STOPPED_TASK_VISIBILITY_MS));
  }

  private asOf<T>(history: History<T> | undefined, entity: object, at: number | undefined): AsOf<T> {
    return history && at !== undefined ? history.asOf(entity, at) : 'live';
  }

  /** Registered resources minus those of every task here that is not STOPPED (kept as counters: see createTask, markStopped). */
  remainingResources(ci: ContainerInstance): { cpu: number; memory: number } {
    return { cpu: ci.registeredCpu - ci.usedCpu, memory: ci.registeredMemory - ci.usedMemory };
  }

  // ---- services and tasks -----------------------------------------------------------------

  createService(clusterName: string, options: ServiceOptions): Service {
    const cluster = this.cluster(clusterName);
    if (cluster.services.has(options.name)) throw ecsErrors.invalidParameter('Creation of service was not idempotent.');
    const service: Service = {
      name: options.name,
      arn: `arn:aws:ecs:${this.region}:${this.accountId}:service/${cluster.name}/${options.name}`,
      cluster,
      options: {
        name: options.name,
        desiredCount: options.desiredCount,
        deregistrationDelaySeconds: options.deregistrationDelaySeconds ?? 0,
        stopTimeoutSeconds: options.stopTimeoutSeconds ?? 30,
        startSeconds: options.startSeconds ?? 5,
        daemon: options.daemon ?? false,
        cpu: options.cpu ?? 256,
        memory: options.memory ?? 512,
        // ECS API reference, DeploymentConfiguration: the defaults are 100 and 200 for REPLICA, 0 and 100 for DAEMON.
        minimumHealthyPercent: options.minimumHealthyPercent ?? (options.daemon ? 0 : 100),
        maximumPercent: options.maximumPercent ?? (options.daemon ? 100 : 200),
      },
      activeTasks: new Set(),
      replacing: new Set(),
      healthy: 0,
      createdAt: this.clock.now(),
      events: [],
      steady: false,
    };
    cluster.services.set(service.name, service);
    this.batch(() => {
      if (service.options.daemon) {
        for (const ci of cluster.containerInstances) this.placeDaemonTasks(ci);
      } else {
        this.ensureServiceTasks(service);
        this.checkSteady(service);
      }
    });
    return service;
  }

  /** A service of the cluster by name or ARN (`…:service/CLUSTER/NAME`, or the older `…:service/NAME`); undefined if unknown. */
  findService(cluster: Cluster, ref: string): Service | undefined {
    if (!ref.startsWith('arn:')) return cluster.services.get(ref);
    const arn = /^arn:[^:]+:ecs:([^:]*):([^:]*):service\/(?:([^/]+)\/)?([^/]+)$/.exec(ref);
    if (!arn || arn[1] !== this.region || arn[2] !== this.accountId) return undefined;
    if (arn[3] !== undefined && arn[3] !== cluster.name) return undefined;
    return cluster.services.get(arn[4]);
  }

  runStandaloneTask(clusterName: string, containerInstanceArn: string, options: StandaloneTaskOptions = {}): Task {
    const cluster = this.cluster(clusterName);
    const ci = this.findContainerInstance(cluster, containerInstanceArn);
    if (!ci || ci.status === 'INACTIVE') throw ecsErrors.invalidParameter('Container instance not found or not ACTIVE.');
    return this.batch(() => {
      const task = this.createTask(ci, {
        kind: 'standalone',
        group: 'family:standalone',
        startedBy: options.startedBy,
        cpu: options.cpu ?? 128,
        memory: options.memory ?? 256,
        stopTimeoutSeconds: options.stopTimeoutSeconds ?? 30,
        deregistrationDelaySeconds: 0,
        startSeconds: 1,
      });
      if (options.runSeconds !== undefined) {
        const runMs = options.runSeconds * 1000;
        const exitAt = () => {
          if (task.desiredStatus === 'RUNNING') {
            // No one asked for this stop: it is not a StopTask call nor the scheduler's, so no container
            // instance event now; the agent's report of STOPPED later is one (see markStopped).
            task.exitedOnItsOwn = true;
            this.stopTask(task, 'EssentialContainerExited', 'Essential container in task exited', 'undocumented');
          }
        };
        // The run time counts from RUNNING; 1 s of PENDING precedes it.
        this.clock.after(1000 + runMs, () => this.batch(exitAt));
      }
      return task;
    });
  }

  /**
   * Staging: a standalone task on `ci` already in the staged state (see StagedTaskOptions), with
   * the fields the world's own transitions leave there (createTask, stopTask, setLastStatus,
   * markStopped): desired status STOPPED since now when it is stopping; STOPPED since now and listed
   * by ListTasks for the hour after ("stopped tasks appear in the returned results for at least one
   * hour", ECS API reference, ListTasks; plus option stoppedTaskVisibilityExtraMs, drawn as
   * markStopped draws it). Its CPU and memory are taken from the registration's remainingResources
   * (ECS API reference, ContainerInstance) while it is not STOPPED, or, with option
   * `releaseResourcesAt: 'desired-stopped'`, until its desired status is STOPPED (see ResourceRelease).
   * Not on an INACTIVE registration: ECS tracks no task there (DeregisterContainerInstance).
   */
  stageTask(ci: ContainerInstance, options: StagedTaskOptions): Task {
    const cluster = ci.cluster;
    const arn = `arn:aws:ecs:${this.region}:${this.accountId}:task/${cluster.name}/${options.id}`;
    if (cluster.tasks.has(arn)) throw new Error(`A task ${options.id} already exists in ${cluster.name}.`);
    if (ci.status === 'INACTIVE') throw new Error(`${ci.arn} is INACTIVE: stage its tasks before deregistering it.`);
    const { lastStatus, desiredStatus } = options;
    if (!['PENDING', 'RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'].includes(lastStatus)) {
      throw new Error(`${lastStatus} is not a task status ("Task lifecycle", ECS developer guide).`);
    }
    if (desiredStatus === 'RUNNING' && lastStatus !== 'PENDING' && lastStatus !== 'RUNNING') {
      throw new Error(`A task whose desired status is RUNNING is PENDING or RUNNING, not ${lastStatus}.`);
    }
    return this.batch(() => {
      const now = this.clock.now();
      const stopping = desiredStatus === 'STOPPED';
      const stopped = lastStatus === 'STOPPED';
      const holdsResources = !stopped && !(stopping && this.options.releaseResourcesAt === 'desired-stopped');
      const extra = this.options.stoppedTaskVisibilityExtraMs;
      const task: Task = {
        launchType: 'EC2',
        arn,
        id: options.id,
        cluster,
        containerInstance: ci,
        kind: 'standalone',
        group: 'family:standalone',
        taskDefinitionArn: `arn:aws:ecs:${this.region}:${this.accountId}:task-definition/standalone:1`,
        cpu: options.cpu ?? 128,
        memory: options.memory ?? 256,
        stopTimeoutSeconds: 30,
        deregistrationDelaySeconds: 0,
        lastStatus,
        desiredStatus,
        createdAt: now,
        startedAt: lastStatus === 'PENDING' ? undefined : now,
        stoppingAt: stopping ? now : undefined,
        stoppedAt: stopped ? now : undefined,
        stopCode: stopping ? 'UserInitiated' : undefined,
        stoppedReason: stopping ? 'Task stopped by user' : undefined,
        version: 0,
        updatedAt: now,
        exitedOnItsOwn: false,
        orphaned: false,
        holdsResources,
        listedUntil: stopped ? now + STOPPED_TASK_VISIBILITY_MS + (extra > 0 ? this.options.unkindRandom.int(0, extra) : 0) : undefined,
        diedOnHost: false,
      };
      cluster.tasks.set(arn, task);
      ci.tasks.add(task);
      if (holdsResources) {
        ci.usedCpu += task.cpu;
        ci.usedMemory += task.memory;
      }
      this.taskChanged(task);
      // Placing a task is a cause of a container instance event (RunTask: "Amazon ECS container instance state change events").
      this.touch(ci, 'task-placed-or-stopped');
      return task;
    });
  }

  /** By full ARN or by ID: a task on a container instance or on Fargate (background churn). */
  findTask(cluster: Cluster, ref: string): AnyTask | undefined {
    const arn = ref.startsWith('arn:') ? ref : `arn:aws:ecs:${this.region}:${this.accountId}:task/${cluster.name}/${ref}`;
    return cluster.tasks.get(arn) ?? cluster.fargateTasks.get(arn);
  }

  /** A Fargate task changed its lastStatus or desiredStatus: its task state change event, at once. */
  fargateTaskChanged(task: FargateTask): void {
    task.version++;
    task.updatedAt = this.clock.now();
    this.emit(this.taskEvents.create('ECS Task State Change', 'aws.ecs', [task.arn], this.taskStateChangeDetail(task)));
  }

  /**
   * True while ListTasks still shows the task: ECS keeps STOPPED tasks listed "for at least one
   * hour" (ECS API reference, ListTasks); exactly an hour unless `stoppedTaskVisibilityExtraMs`.
   */
  isListed(task: AnyTask): boolean {
    if (task.launchType === 'EC2' && task.orphaned) return false;
    return task.lastStatus !== 'STOPPED' || this.clock.now() < (task.listedUntil ?? (task.stoppedAt ?? 0) + STOPPED_TASK_VISIBILITY_MS);
  }

  /**
   * Begins a task's stop: desiredStatus flips now, lastStatus walks to STOPPED over time. `change`
   * says whether the stop is a cause of a container instance event: a StopTask call or the
   * scheduler's stop is (ECS developer guide, "Amazon ECS container instance state change events").
   */
  stopTask(task: Task, stopCode: string, reason: string, change: 'task-placed-or-stopped' | 'undocumented'): void {
    if (task.desiredStatus === 'STOPPED') return;
    this.batch(() => {
      task.desiredStatus = 'STOPPED';
      task.stoppingAt = this.clock.now();
      task.stopCode = stopCode;
      task.stoppedReason = reason;
      this.taskChanged(task);
      // aws/containers-roadmap#575: the resources are advertised as free from the stop on (option).
      const released = this.options.releaseResourcesAt === 'desired-stopped' && this.releaseResources(task);
      // An orphaned task is no longer ECS's (ECS API reference, DeregisterContainerInstance): its stop changes nothing ECS accounts for.
      this.touch(task.containerInstance, task.orphaned ? 'undocumented' : change);
      if (task.service && !task.orphaned) {
        this.leaveService(task);
        if (task.kind === 'replica') this.ensureServiceTasks(task.service);
      }
      // Resources given back on a placeable instance may let a service place what it could not before.
      if (released && task.cluster.placeable.has(task.containerInstance)) this.rebalanceServices(task.cluster);
      task.timer?.cancel();
      if (task.lastStatus === 'PENDING') {
        this.schedule(task, 0, () => this.deprovision(task));
      } else if (task.lastStatus === 'RUNNING') {
        if (task.deregistrationDelaySeconds > 0) {
          this.setLastStatus(task, 'DEACTIVATING');
          this.schedule(task, task.deregistrationDelaySeconds * 1000, () => this.beginStopping(task));
        } else {
          this.beginStopping(task);
        }
      }
    });
  }

  // ---- internals ----------------------------------------------------------------------------

  private createTask(ci: ContainerInstance, spec: {
    kind: TaskKind;
    group: string;
    startedBy?: string;
    service?: Service;
    cpu: number;
    memory: number;
    stopTimeoutSeconds: number;
    deregistrationDelaySeconds: number;
    startSeconds: number;
  }): Task {
    const id = this.random.hex(32);
    const cluster = ci.cluster;
    const family = spec.service ? spec.service.name : 'standalone';
    const task: Task = {
      launchType: 'EC2',
      arn: `arn:aws:ecs:${this.region}:${this.accountId}:task/${cluster.name}/${id}`,
      id,
      cluster,
      containerInstance: ci,
      kind: spec.kind,
      service: spec.service,
      group: spec.group,
      startedBy: spec.startedBy,
      taskDefinitionArn: `arn:aws:ecs:${this.region}:${this.accountId}:task-definition/${family}:1`,
      cpu: spec.cpu,
      memory: spec.memory,
      stopTimeoutSeconds: spec.stopTimeoutSeconds,
      deregistrationDelaySeconds: spec.deregistrationDelaySeconds,
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      createdAt: this.clock.now(),
      version: 0,
      updatedAt: this.clock.now(),
      exitedOnItsOwn: false,
      orphaned: false,
      diedOnHost: false,
      holdsResources: true,
    };
    cluster.tasks.set(task.arn, task);
    ci.tasks.add(task);
    ci.usedCpu += task.cpu;
    ci.usedMemory += task.memory;
    spec.service?.activeTasks.add(task);
    // RunTask, or the service scheduler starting a task: a cause of both events (ECS developer guide,
    // "Amazon ECS container instance state change events" and "Amazon ECS task state change events").
    this.taskChanged(task);
    this.touch(ci, 'task-placed-or-stopped');
    this.schedule(task, spec.startSeconds * 1000, () => {
      if (task.desiredStatus !== 'RUNNING') return;
      task.startedAt = this.clock.now();
      this.setLastStatus(task, 'RUNNING');
      // PENDING → RUNNING is a task event only: the resources were taken when the task was placed.
      this.touch(ci, 'undocumented');
      const service = task.service;
      if (service?.activeTasks.has(task)) {
        service.healthy++;
        // A replacement is healthy (RUNNING, no load balancer health modelled): a draining task may stop.
        if (service.replacing.size > 0) this.progressDrain(service);
        this.checkSteady(service);
      }
    });
    return task;
  }

  private beginStopping(task: Task): void {
    this.setLastStatus(task, 'STOPPING');
    // SIGTERM: most apps exit well before stopTimeout, some only at SIGKILL.
    const fraction = this.random.between(0.1, 1);
    this.schedule(task, task.stopTimeoutSeconds * 1000 * fraction, () => this.deprovision(task));
  }

  private deprovision(task: Task): void {
    this.setLastStatus(task, 'DEPROVISIONING');
    // The agent reports STOPPED. A cause of a container instance event only for a task no one told to
    // stop (ECS developer guide, "Amazon ECS container instance state change events": SubmitTaskStateChange
    // with STOPPED for a task whose desired status is RUNNING), not for one whose stop was asked for.
    const change = task.exitedOnItsOwn ? 'task-stopped-unbidden' : 'undocumented';
    this.schedule(task, this.random.between(500, 1500), () => this.markStopped(task, change));
  }

  private markStopped(task: Task, change: InstanceChange): void {
    const ci = task.containerInstance;
    task.timer?.cancel();
    task.timer = undefined;
    task.lastStatus = 'STOPPED';
    task.stoppedAt = this.clock.now();
    const extra = this.options.stoppedTaskVisibilityExtraMs;
    task.listedUntil = task.stoppedAt + STOPPED_TASK_VISIBILITY_MS + (extra > 0 ? this.options.unkindRandom.int(0, extra) : 0);
    this.taskChanged(task);
    this.releaseResources(task);
    if (!task.orphaned) {
      this.observer.timeline(ci.ec2InstanceId).lastTaskStoppedAt = this.clock.now();
    }
    if (ci.status === 'INACTIVE') return;
    this.touch(ci, change);
    if (ci.status === 'DRAINING') this.stopDaemonTasksIfReplicasGone(ci);
    // Freed resources may let a service place what it could not before.
    this.rebalanceServices(ci.cluster);
  }

  /** The agent reports a new lastStatus (SubmitTaskStateChange): a task event. */
  private setLastStatus(task: Task, status: TaskStatus): void {
    task.lastStatus = status;
    this.taskChanged(task);
  }

  /** Runs a task transition after `delayMs`, quantised; held back while the agent is away. */
  private schedule(task: Task, delayMs: number, transition: () => void): void {
    const due = Math.ceil((this.clock.now() + delayMs) / QUANTUM_MS) * QUANTUM_MS;
    task.timer = this.clock.at(due, () => {
      task.timer = undefined;
      const ci = task.containerInstance;
      const run = () => this.batch(transition);
      if (!ci.agentConnected && !task.orphaned) ci.deferredTransitions.push(run);
      else run();
    });
  }

  /** Daemon tasks go last (ECS developer guide, container instance draining). */
  private stopDaemonTasksIfReplicasGone(ci: ContainerInstance): void {
    for (const task of ci.tasks) {
      if (task.kind === 'replica' && task.lastStatus !== 'STOPPED' && !task.orphaned) return;
    }
    for (const task of ci.tasks) {
      if (task.kind === 'daemon' && task.desiredStatus === 'RUNNING') {
        this.stopTask(task, 'ServiceSchedulerInitiated', 'Task stopped because the container instance is draining.', 'task-placed-or-stopped');
      }
    }
  }

  private placeDaemonTasks(ci: ContainerInstance): void {
    if (ci.status !== 'ACTIVE' || !ci.agentConnected) return;
    for (const service of ci.cluster.services.values()) {
      if (!service.options.daemon) continue;
      if (this.hasRunningTaskOf(ci, service) || !this.fits(ci, service.options.cpu, service.options.memory)) continue;
      this.createServiceTask(ci, service);
    }
  }

  private hasRunningTaskOf(ci: ContainerInstance, service: Service): boolean {
    for (const task of ci.tasks) if (task.service === service && task.desiredStatus === 'RUNNING') return true;
    return false;
  }

  private rebalanceServices(cluster: Cluster): void {
    for (const service of cluster.services.values()) {
      if (service.options.daemon) continue;
      if (service.replacing.size > 0) this.progressDrain(service);
      else if (service.activeTasks.size < service.options.desiredCount) this.ensureServiceTasks(service);
    }
  }

  /**
   * `drainingReplacement: 'deployment-configuration'`: the service scheduler replaces the tasks of
   * DRAINING container instances "according to the service's deployment configuration parameters,
   * minimumHealthyPercent and maximumPercent" (ECS API reference, UpdateContainerInstancesState;
   * ECS developer guide, "Draining Amazon ECS container instances"). It starts replacements while the
   * service has fewer than maximumPercent of desiredCount RUNNING or PENDING (never more than one per
   * draining task) and only where one can be placed, and stops a draining task only while at least
   * minimumHealthyPercent of desiredCount stays RUNNING (with 100 %: once a replacement is RUNNING).
   * A task that is RUNNING counts as healthy (no load balancer health check is modelled). Runs again
   * whenever a task of the service reaches RUNNING or any task stops (rebalanceServices).
   */
  private progressDrain(service: Service): void {
    if (service.replacing.size === 0 || this.progressing.has(service)) return;
    this.progressing.add(service);
    try {
      const o = service.options;
      const minimumHealthy = Math.ceil(o.desiredCount * o.minimumHealthyPercent / 100);
      const maximum = Math.floor(o.desiredCount * o.maximumPercent / 100);
      let unplaceable = false;
      for (let changed = true; changed;) {
        changed = false;
        const wanted = Math.min(maximum, o.desiredCount + service.replacing.size);
        while (service.activeTasks.size < wanted) {
          const ci = this.choosePlacement(service);
          if (!ci) {
            this.noteUnplaceable(service, 'drain');
            unplaceable = true;
            break;
          }
          this.createServiceTask(ci, service);
          changed = true;
        }
        for (const task of service.replacing) {
          if (task.lastStatus === 'RUNNING' && service.healthy - 1 < minimumHealthy) continue;
          this.stopTask(task, 'ServiceSchedulerInitiated', 'Task stopped because the container instance is draining.', 'task-placed-or-stopped');
          changed = true;
        }
      }
      if (!unplaceable) this.placementResolved(service);
    } finally {
      this.progressing.delete(service);
    }
  }

  // ---- service event messages -----------------------------------------------------------------

  /**
   * A replica service found no container instance for a task it needs: a draining task's
   * replacement (`drain`: "If there isn't enough container instance capacity, a service event
   * message will be sent indicating the issue", ECS developer guide, "Draining Amazon ECS container
   * instances"; also counted in stats, once per instant) or a task short of its desiredCount
   * (`desired`). Its service event message, unless it repeats the last one within six hours
   * (DUPLICATE_SERVICE_EVENT_MS).
   */
  private noteUnplaceable(service: Service, need: 'drain' | 'desired'): void {
    const now = this.clock.now();
    if (need === 'drain' && this.unplaceableAt.get(service) !== now) {
      this.unplaceableAt.set(service, now);
      this.options.unkindStats.drainReplacementsUnplaceable++;
    }
    const message = this.unplaceableMessage(service);
    const cause = service.placementCause;
    if (cause && cause.message === message && now - cause.at < DUPLICATE_SERVICE_EVENT_MS) return;
    service.placementCause = { message, at: now };
    this.recordServiceEvent(service, message);
  }

  /** Every task the service needed is placed: the cause of its last placement message is resolved. */
  private placementResolved(service: Service): void {
    service.placementCause = undefined;
  }

  /**
   * ECS developer guide, "Amazon ECS service event messages": "service (service-name) was unable to
   * place a task because no container instance met all of its requirements." and, when the closest
   * matching container instance lacks CPU, the same followed by "The closest matching
   * container-instance container-instance-id has insufficient CPU units available." The page gives
   * no such follow-up for memory (short memory is one of the causes it lists for the first message),
   * so a memory shortage gets the first message alone. Which instance ECS takes as the closest match
   * is not documented: the emulator takes the placeable one with the most CPU left (its placement
   * order, choosePlacement). No placeable instance at all: the first message alone ("No container
   * instances were found in your cluster", same page).
   */
  private unplaceableMessage(service: Service): string {
    const message = `service (${service.name}) was unable to place a task because no container instance met all of its requirements.`;
    let closest: ContainerInstance | undefined;
    for (const ci of service.cluster.placeable) {
      const cpuLeft = ci.registeredCpu - ci.usedCpu;
      const bestLeft = closest ? closest.registeredCpu - closest.usedCpu : -Infinity;
      if (cpuLeft > bestLeft || (cpuLeft === bestLeft && ci.registrationIndex < closest!.registrationIndex)) closest = ci;
    }
    if (closest && closest.registeredCpu - closest.usedCpu < service.options.cpu) {
      return `${message} The closest matching container-instance ${closest.id} has insufficient CPU units available.`;
    }
    return message;
  }

  /**
   * ECS developer guide, "Amazon ECS service event messages": "service (service-name) has reached a
   * steady state." when the service "is healthy and at the desired number of tasks". The emulator
   * takes that as desiredCount tasks RUNNING, none PENDING or on a DRAINING container instance
   * awaiting replacement (the conditions of TaskSet.stabilityStatus, ECS API reference), and records
   * it when the service becomes steady. The page adds that the scheduler reports the status
   * periodically; the period is not documented, so no repeat is promised. Replica services only.
   */
  private checkSteady(service: Service): void {
    if (service.options.daemon) return;
    const desired = service.options.desiredCount;
    const steady = service.healthy === desired && service.activeTasks.size === desired && service.replacing.size === 0;
    if (steady && !service.steady) this.recordServiceEvent(service, `service (${service.name}) has reached a steady state.`);
    service.steady = steady;
  }

  /** Newest first; the oldest beyond SERVICE_EVENTS_KEPT are dropped. `id`: a UUID, as ServiceEvent.id has. */
  private recordServiceEvent(service: Service, message: string): void {
    const id = `00000000-0000-4000-8000-${(++this.serviceEventCount).toString(16).padStart(12, '0')}`;
    service.events.unshift({ id, createdAt: this.clock.now(), message });
    if (service.events.length > SERVICE_EVENTS_KEPT) service.events.length = SERVICE_EVENTS_KEPT;
  }

  /** The task's desired status is no longer RUNNING (or ECS forgot it): out of the service's counts. */
  private leaveService(task: Task): void {
    const service = task.service;
    if (!service || !service.activeTasks.delete(task)) return;
    if (task.lastStatus === 'RUNNING') service.healthy--;
    service.replacing.delete(task);
    this.checkSteady(service);
  }

  /** Gives the task's CPU and memory back to its container instance, once; true if it did now. */
  private releaseResources(task: Task): boolean {
    if (!task.holdsResources) return false;
    task.holdsResources = false;
    task.containerInstance.usedCpu -= task.cpu;
    task.containerInstance.usedMemory -= task.memory;
    this.markDirty(task.containerInstance);
    return true;
  }

  /** Places tasks until the service has desiredCount tasks whose desiredStatus is RUNNING. */
  private ensureServiceTasks(service: Service): void {
    while (service.activeTasks.size < service.options.desiredCount) {
      const ci = this.choosePlacement(service);
      if (!ci) {
        this.noteUnplaceable(service, 'desired');
        return;
      }
      this.createServiceTask(ci, service);
    }
    this.placementResolved(service);
  }

  /**
   * Spread across ACTIVE, connected instances: the one with the most CPU left that fits, the
   * earliest registered of those with as much. Only `cluster.placeable` is searched: a scale-in
   * that drains the whole cluster leaves it empty, and every stopped task's replacement is then
   * found unplaceable at once instead of after a scan of every registration.
   */
  private choosePlacement(service: Service): ContainerInstance | undefined {
    let best: ContainerInstance | undefined;
    let bestCpu = -1;
    const { cpu, memory } = service.options;
    for (const ci of service.cluster.placeable) {
      const cpuLeft = ci.registeredCpu - ci.usedCpu;
      if (cpuLeft < cpu || ci.registeredMemory - ci.usedMemory < memory) continue;
      if (cpuLeft > bestCpu || (cpuLeft === bestCpu && ci.registrationIndex < best!.registrationIndex)) {
        best = ci;
        bestCpu = cpuLeft;
      }
    }
    return best;
  }

  private fits(ci: ContainerInstance, cpu: number, memory: number): boolean {
    const remaining = this.remainingResources(ci);
    return remaining.cpu >= cpu && remaining.memory >= memory;
  }

  private createServiceTask(ci: ContainerInstance, service: Service): Task {
    const o = service.options;
    return this.createTask(ci, {
      kind: o.daemon ? 'daemon' : 'replica',
      group: `service:${service.name}`,
      startedBy: `ecs-svc/${service.name}`,
      service,
      cpu: o.cpu,
      memory: o.memory,
      stopTimeoutSeconds: o.stopTimeoutSeconds,
      deregistrationDelaySeconds: o.daemon ? 0 : o.deregistrationDelaySeconds,
      startSeconds: o.startSeconds,
    });
  }

  // ---- change tracking and events ---------------------------------------------------------

  /**
   * Groups changes made in one synchronous step so a container instance changed several times
   * at once (DRAINING plus six task flips) emits one event with one new version.
   */
  batch<T>(fn: () => T): T {
    this.batchDepth++;
    try {
      return fn();
    } finally {
      this.batchDepth--;
      if (this.batchDepth === 0) this.flushChanges();
    }
  }

  /**
   * Every change of a registration comes here. The placement index follows each one, whatever the
   * mode; the version and the event only those that are a documented cause (or all, `every-change`).
   */
  private touch(ci: ContainerInstance, change: InstanceChange): void {
    if (ci.status === 'ACTIVE' && ci.agentConnected) ci.cluster.placeable.add(ci);
    else ci.cluster.placeable.delete(ci);
    if (this.options.history) this.dirtyInstances.add(ci);
    const emits = !(change === 'undocumented' && this.options.containerInstanceEvents === 'documented') && !this.changed.has(ci);
    if (emits) {
      ci.version++;
      ci.updatedAt = this.clock.now();
      this.changed.add(ci);
    }
    if (this.batchDepth === 0) this.flushChanges();
  }

  /** A change no event accounts for (attributes, resources): the history records it at the step's end. */
  private markDirty(ci: ContainerInstance): void {
    if (!this.options.history) return;
    this.dirtyInstances.add(ci);
    if (this.batchDepth === 0) this.flushChanges();
  }

  /**
   * Every change of a task's lastStatus or desiredStatus comes here: each is a cause the ECS
   * developer guide lists ("Amazon ECS task state change events": RunTask, StopTask, the scheduler,
   * the agent's SubmitTaskStateChange, the host stopped or terminated, a forced deregistration).
   * One event per task per synchronous step; its version is the task's (ECS API reference,
   * Task.version). An orphaned task is no longer tracked by ECS: nothing more.
   */
  private taskChanged(task: Task): void {
    if (task.orphaned) return;
    if (this.options.history) this.dirtyTasks.add(task);
    if (!this.changedTasks.has(task)) {
      task.version++;
      task.updatedAt = this.clock.now();
      this.changedTasks.add(task);
    }
    if (this.batchDepth === 0) this.flushChanges();
  }

  private flushChanges(): void {
    const history = this.options.history;
    if (history) {
      for (const ci of this.dirtyInstances) history.instances.record(ci, this.instanceView(ci));
      for (const task of this.dirtyTasks) history.tasks.record(task, this.taskView(task));
      this.dirtyInstances.clear();
      this.dirtyTasks.clear();
    }
    if (this.changed.size > 0) {
      const changed = [...this.changed];
      this.changed.clear();
      for (const ci of changed) {
        this.emit(this.events.create('ECS Container Instance State Change', 'aws.ecs', [ci.arn], this.stateChangeDetail(ci)));
      }
    }
    if (this.changedTasks.size > 0) {
      const tasks = [...this.changedTasks];
      this.changedTasks.clear();
      for (const task of tasks) {
        this.emit(this.taskEvents.create('ECS Task State Change', 'aws.ecs', [task.arn], this.taskStateChangeDetail(task)));
      }
    }
  }

  /**
   * Shape as the example of the ECS developer guide, "Amazon ECS task state change events": the
   * Task of DescribeTasks with its times as ISO strings, cpu and memory as strings. Fields the
   * task does not have yet (startedAt, stoppingAt, stopCode, ...) are left out.
   */
  private taskStateChangeDetail(task: AnyTask): Record<string, unknown> {
    const iso = (ms: number) => this.isoTime(ms);
    const detail: Record<string, unknown> = {
      attachments: [],
      availabilityZone: task.launchType === 'EC2' ? task.containerInstance.attributes.get('ecs.availability-zone') : task.availabilityZone,
      clusterArn: task.cluster.arn,
      // A Fargate task has no container instance (ECS API reference, Task).
      ...task.launchType === 'EC2' ? { containerInstanceArn: task.containerInstance.arn } : {},
      containers: [containerOf(task)],
      cpu: String(task.cpu),
      createdAt: iso(task.createdAt),
      desiredStatus: task.desiredStatus,
      group: task.group,
      lastStatus: task.lastStatus,
      launchType: task.launchType,
      memory: String(task.memory),
      taskArn: task.arn,
      taskDefinitionArn: task.taskDefinitionArn,
      updatedAt: iso(task.updatedAt),
      version: task.version,
    };
    if (task.startedBy !== undefined) detail.startedBy = task.startedBy;
    if (task.startedAt !== undefined) detail.startedAt = iso(task.startedAt);
    if (task.stoppingAt !== undefined) detail.stoppingAt = iso(task.stoppingAt);
    if (task.stoppedAt !== undefined) detail.stoppedAt = iso(task.stoppedAt);
    if (task.stopCode !== undefined) detail.stopCode = task.stopCode;
    if (task.stoppedReason !== undefined) detail.stoppedReason = task.stoppedReason;
    return detail;
  }

  /**
   * An ISO time string, the last one remembered: task transitions are quantised, so most events of a
   * step share their instants (200,000 task events in a 5,000-instance drain).
   */
  private isoTime(ms: number): string {
    if (ms !== this.lastIso.ms) this.lastIso = { ms, iso: new Date(ms).toISOString() };
    return this.lastIso.iso;
  }

  /** Shape as in test/events/ecs-container-instance-state-change.json. */
  private stateChangeDetail(ci: ContainerInstance): Record<string, unknown> {
    const remaining = this.remainingResources(ci);
    return {
      agentConnected: ci.agentConnected,
      ...(ci.agentUpdateStatus ? { agentUpdateStatus: ci.agentUpdateStatus } : {}),
      attributes: [...ci.attributes].map(([name, value]) => (value === undefined ? { name } : { name, value })),
      clusterArn: ci.cluster.arn,
      containerInstanceArn: ci.arn,
      ec2InstanceId: ci.ec2InstanceId,
      registeredResources: resources(ci.registeredCpu, ci.registeredMemory),
      remainingResources: resources(remaining.cpu, remaining.memory),
      status: ci.status as ContainerInstanceStatus,
      version: ci.version,
      versionInfo: versionInfo(ci),
      updatedAt: new Date(ci.updatedAt).toISOString(),
      registeredAt: new Date(ci.registeredAt).toISOString(),
      runningTasksCount: this.runningTasksCount(ci),
      pendingTasksCount: this.pendingTasksCount(ci),
    };
  }
}

export function resources(cpu: number, memory: number) {
  return [
    { name: 'CPU', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: cpu },
    { name: 'MEMORY', type: 'INTEGER', doubleValue: 0, longValue: 0, integerValue: memory },
  ];
}

/**
 * The task's one container (ECS API reference, Container), its ARN derived from the task's ID so
 * that it takes nothing from the world's random stream. ECS developer guide, "Task lifecycle": the
 * containers run until the task is STOPPING (SIGTERM) and are stopped once it is DEPROVISIONING.
 */
export function containerOf(task: AnyTask, taskStatus: TaskStatus = task.lastStatus) {
  const id = task.id;
  const containerId = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
  const lastStatus = taskStatus === 'PENDING' ? 'PENDING'
    : taskStatus === 'DEPROVISIONING' || taskStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING';
  return {
    containerArn: `${task.arn.replace(':task/', ':container/')}/${containerId}`,
    lastStatus,
    name: task.launchType === 'FARGATE' ? 'batch' : task.service?.name ?? 'standalone',
    taskArn: task.arn,
  };
}

export function versionInfo(ci: { readonly agentVersion: string }) {
  return { agentHash: 'a1b2c3d', agentVersion: ci.agentVersion, dockerVersion: 'DockerVersion: 25.0.0' };
}

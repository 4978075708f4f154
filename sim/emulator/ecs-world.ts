/**
 * The ECS side of the world: clusters, container instances, services and tasks, in virtual time.
 *
 * Behaviour follows the ECS developer guide, "Container instance draining" and "Task lifecycle":
 * - DRAINING stops service (replica) tasks and the service starts replacements on ACTIVE
 *   instances; daemon tasks stop only after every replica task there is STOPPED; standalone
 *   (RunTask) tasks are not stopped; nothing new is placed on a DRAINING instance.
 * - A stopping task goes DEACTIVATING (load-balancer deregistration delay) → STOPPING (SIGTERM,
 *   up to stopTimeout) → DEPROVISIONING → STOPPED; desiredStatus is STOPPED from the start.
 */
import { SimClock } from '../clock';
import { ecsErrors } from './errors';
import { EmittedEvent, EventFactory } from './events';
import {
  Cluster, ContainerInstance, ContainerInstanceStatus, Service, ServiceOptions, Task, TaskKind, TaskStatus,
} from './model';
import { Observer } from './observer';
import { SeededRandom } from './random';

/** Task transitions are quantised to this much virtual time so that many share one clock tick. */
const QUANTUM_MS = 100;
/** ECS documents that stopped tasks stay visible (ListTasks, DescribeTasks) for at least an hour. */
export const STOPPED_TASK_VISIBILITY_MS = 60 * 60 * 1000;
/** What the emulated agent updates to; instances launch one version behind. */
export const LATEST_AGENT_VERSION = '1.90.0';
const LAUNCH_AGENT_VERSION = '1.89.0';
/** How long ECS takes to notice a terminated host and mark its container instance INACTIVE. */
const HOST_GONE_DETECTION_MS = 30_000;
const AGENT_UPDATE_STEP_MS = 5_000;

export interface RegisterOptions {
  cluster: string;
  ec2InstanceId: string;
  cpu?: number;
  memory?: number;
  instanceType?: string;
  availabilityZone?: string;
  attributes?: Array<{ name: string; value?: string }>;
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
  private readonly clusters = new Map<string, Cluster>();
  private readonly containerInstancesByArn = new Map<string, ContainerInstance>();
  private readonly containerInstancesByEc2Id = new Map<string, ContainerInstance[]>();
  private batchDepth = 0;
  private readonly changed = new Set<ContainerInstance>();

  constructor(
    private readonly clock: SimClock,
    private readonly random: SeededRandom,
    private readonly events: EventFactory,
    private readonly emit: (event: EmittedEvent) => void,
    private readonly observer: Observer,
    private readonly region: string,
    private readonly accountId: string,
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
    };
    this.clusters.set(name, cluster);
    return cluster;
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
    for (const ci of cluster.containerInstances) {
      this.containerInstancesByArn.delete(ci.arn);
      const list = this.containerInstancesByEc2Id.get(ci.ec2InstanceId) ?? [];
      this.containerInstancesByEc2Id.set(ci.ec2InstanceId, list.filter(c => c !== ci));
    }
    this.clusters.delete(name);
  }

  // ---- container instances ----------------------------------------------------------------

  registerContainerInstance(options: RegisterOptions): ContainerInstance {
    const cluster = this.cluster(options.cluster);
    return this.batch(() => {
      const id = this.random.hex(32);
      const instanceType = options.instanceType ?? 'm5.large';
      const ci: ContainerInstance = {
        arn: `arn:aws:ecs:${this.region}:${this.accountId}:container-instance/${cluster.name}/${id}`,
        id,
        cluster,
        ec2InstanceId: options.ec2InstanceId,
        registeredAt: this.clock.now(),
        registeredCpu: options.cpu ?? 2048,
        registeredMemory: options.memory ?? 7680,
        instanceType,
        status: 'ACTIVE',
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
        deferredTransitions: [],
        operatorOwned: false,
      };
      for (const attribute of options.attributes ?? []) ci.attributes.set(attribute.name, attribute.value);
      cluster.containerInstances.push(ci);
      this.containerInstancesByArn.set(ci.arn, ci);
      const sameHost = this.containerInstancesByEc2Id.get(ci.ec2InstanceId) ?? [];
      sameHost.push(ci);
      this.containerInstancesByEc2Id.set(ci.ec2InstanceId, sameHost);
      this.touch(ci);
      this.placeDaemonTasks(ci);
      this.rebalanceServices(cluster);
      return ci;
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

  setStatus(ci: ContainerInstance, status: 'ACTIVE' | 'DRAINING'): void {
    if (ci.status === status || ci.status === 'INACTIVE') return;
    this.batch(() => {
      ci.status = status;
      this.touch(ci);
      if (status === 'DRAINING') {
        const timeline = this.observer.timeline(ci.ec2InstanceId);
        timeline.drainingAt ??= this.clock.now();
        for (const task of ci.tasks) {
          if (task.kind === 'replica' && task.desiredStatus === 'RUNNING') {
            this.stopTask(task, 'ServiceSchedulerInitiated', 'Task stopped because the container instance is draining.');
          }
        }
        this.stopDaemonTasksIfReplicasGone(ci);
      } else {
        this.placeDaemonTasks(ci);
        this.rebalanceServices(ci.cluster);
      }
    });
  }

  /**
   * ECS API reference, DeregisterContainerInstance: without force the call fails while tasks are
   * on the instance; with force the tasks are orphaned (they keep running on the host, ECS stops
   * tracking them) and services start replacements elsewhere.
   */
  deregister(ci: ContainerInstance, force: boolean): void {
    if (ci.status === 'INACTIVE') return;
    const alive = [...ci.tasks].filter(t => t.lastStatus !== 'STOPPED' && !t.orphaned);
    if (alive.length > 0 && !force) {
      throw ecsErrors.invalidParameter('Found running tasks on the instance.');
    }
    this.batch(() => {
      for (const task of alive) {
        task.orphaned = true;
        if (task.service) {
          task.service.activeTasks.delete(task);
          this.ensureServiceTasks(task.service);
        }
      }
      ci.status = 'INACTIVE';
      this.touch(ci);
      const timeline = this.observer.timeline(ci.ec2InstanceId);
      timeline.deregisteredAt ??= this.clock.now();
      timeline.forced ??= alive.length > 0;
    });
  }

  disconnectAgent(ci: ContainerInstance): void {
    if (!ci.agentConnected) return;
    ci.agentConnected = false;
    this.touch(ci);
  }

  reconnectAgent(ci: ContainerInstance): void {
    if (ci.agentConnected || ci.status === 'INACTIVE') return;
    this.batch(() => {
      ci.agentConnected = true;
      this.touch(ci);
      const deferred = ci.deferredTransitions;
      ci.deferredTransitions = [];
      for (const transition of deferred) transition();
    });
  }

  /**
   * EC2 terminated the host: every task still on it dies with it (recorded in the timeline),
   * the agent disconnects, and ECS later marks the container instance INACTIVE.
   */
  hostTerminated(ec2InstanceId: string): void {
    const timeline = this.observer.timeline(ec2InstanceId);
    this.batch(() => {
      for (const ci of this.containerInstancesOf(ec2InstanceId)) {
        // Disconnect first, so nothing is placed on this host while its tasks are cleared.
        if (ci.status !== 'INACTIVE') {
          ci.agentConnected = false;
          this.touch(ci);
        }
        for (const task of ci.tasks) {
          if (task.lastStatus === 'STOPPED') continue;
          timeline.tasksAliveAtTermination.push(task.arn);
          task.timer?.cancel();
          if (task.desiredStatus === 'RUNNING') {
            task.desiredStatus = 'STOPPED';
            task.stoppingAt = this.clock.now();
            task.stopCode = 'TerminationNotice';
            task.stoppedReason = `Host EC2 (instance ${ec2InstanceId}) terminated.`;
          }
          this.markStopped(task);
        }
        ci.deferredTransitions = [];
        if (ci.status === 'INACTIVE') continue;
        this.clock.after(HOST_GONE_DETECTION_MS, () => this.batch(() => {
          if (ci.status === 'INACTIVE') return;
          ci.status = 'INACTIVE';
          this.touch(ci);
        }));
      }
    });
  }

  /** UpdateContainerAgent's agentUpdateStatus walk (ECS API reference, ContainerInstance). */
  startAgentUpdate(ci: ContainerInstance): void {
    const steps = ['PENDING', 'STAGING', 'STAGED', 'UPDATING', 'UPDATED'] as const;
    const step = (index: number): void => {
      this.batch(() => {
        ci.agentUpdateStatus = steps[index];
        if (steps[index] === 'UPDATED') ci.agentVersion = LATEST_AGENT_VERSION;
        this.touch(ci);
      });
      if (index + 1 < steps.length) this.clock.after(AGENT_UPDATE_STEP_MS, () => step(index + 1));
    };
    step(0);
  }

  putAttribute(ci: ContainerInstance, name: string, value: string | undefined): void {
    ci.attributes.set(name, value);
  }

  deleteAttribute(ci: ContainerInstance, name: string): void {
    ci.attributes.delete(name);
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

  remainingResources(ci: ContainerInstance): { cpu: number; memory: number } {
    let cpu = ci.registeredCpu;
    let memory = ci.registeredMemory;
    for (const task of ci.tasks) {
      if (task.lastStatus === 'STOPPED') continue;
      cpu -= task.cpu;
      memory -= task.memory;
    }
    return { cpu, memory };
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
      },
      activeTasks: new Set(),
    };
    cluster.services.set(service.name, service);
    this.batch(() => {
      if (service.options.daemon) {
        for (const ci of cluster.containerInstances) this.placeDaemonTasks(ci);
      } else {
        this.ensureServiceTasks(service);
      }
    });
    return service;
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
            this.stopTask(task, 'EssentialContainerExited', 'Essential container in task exited');
          }
        };
        // The run time counts from RUNNING; 1 s of PENDING precedes it.
        this.clock.after(1000 + runMs, () => this.batch(exitAt));
      }
      return task;
    });
  }

  findTask(cluster: Cluster, ref: string): Task | undefined {
    const byArn = cluster.tasks.get(ref);
    if (byArn) return byArn;
    if (ref.startsWith('arn:')) return undefined;
    return cluster.tasks.get(`arn:aws:ecs:${this.region}:${this.accountId}:task/${cluster.name}/${ref}`);
  }

  /** True while ListTasks still shows the task (ECS keeps STOPPED tasks for an hour). */
  isListed(task: Task): boolean {
    if (task.orphaned) return false;
    return task.lastStatus !== 'STOPPED' || this.clock.now() - (task.stoppedAt ?? 0) < STOPPED_TASK_VISIBILITY_MS;
  }

  /** Begins a task's stop: desiredStatus flips now, lastStatus walks to STOPPED over time. */
  stopTask(task: Task, stopCode: string, reason: string): void {
    if (task.desiredStatus === 'STOPPED') return;
    this.batch(() => {
      task.desiredStatus = 'STOPPED';
      task.stoppingAt = this.clock.now();
      task.stopCode = stopCode;
      task.stoppedReason = reason;
      this.touch(task.containerInstance);
      if (task.service && !task.orphaned) {
        task.service.activeTasks.delete(task);
        if (task.kind === 'replica') this.ensureServiceTasks(task.service);
      }
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
      orphaned: false,
    };
    cluster.tasks.set(task.arn, task);
    ci.tasks.add(task);
    spec.service?.activeTasks.add(task);
    this.touch(ci);
    this.schedule(task, spec.startSeconds * 1000, () => {
      if (task.desiredStatus !== 'RUNNING') return;
      task.startedAt = this.clock.now();
      this.setLastStatus(task, 'RUNNING');
      this.touch(ci);
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
    this.schedule(task, this.random.between(500, 1500), () => this.markStopped(task));
  }

  private markStopped(task: Task): void {
    const ci = task.containerInstance;
    task.timer?.cancel();
    task.timer = undefined;
    task.lastStatus = 'STOPPED';
    task.stoppedAt = this.clock.now();
    if (!task.orphaned) {
      this.observer.timeline(ci.ec2InstanceId).lastTaskStoppedAt = this.clock.now();
    }
    if (ci.status === 'INACTIVE') return;
    this.touch(ci);
    if (ci.status === 'DRAINING') this.stopDaemonTasksIfReplicasGone(ci);
    // Freed resources may let a service place what it could not before.
    this.rebalanceServices(ci.cluster);
  }

  private setLastStatus(task: Task, status: TaskStatus): void {
    task.lastStatus = status;
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
        this.stopTask(task, 'ServiceSchedulerInitiated', 'Task stopped because the container instance is draining.');
      }
    }
  }

  private placeDaemonTasks(ci: ContainerInstance): void {
    if (ci.status !== 'ACTIVE') return;
    for (const service of ci.cluster.services.values()) {
      if (!service.options.daemon) continue;
      const hasOne = [...ci.tasks].some(t => t.service === service && t.desiredStatus === 'RUNNING');
      if (hasOne || !this.fits(ci, service.options.cpu, service.options.memory)) continue;
      this.createServiceTask(ci, service);
    }
  }

  private rebalanceServices(cluster: Cluster): void {
    for (const service of cluster.services.values()) {
      if (!service.options.daemon && service.activeTasks.size < service.options.desiredCount) {
        this.ensureServiceTasks(service);
      }
    }
  }

  /** Places tasks until the service has desiredCount tasks whose desiredStatus is RUNNING. */
  private ensureServiceTasks(service: Service): void {
    while (service.activeTasks.size < service.options.desiredCount) {
      const ci = this.choosePlacement(service);
      if (!ci) return;
      this.createServiceTask(ci, service);
    }
  }

  /** Spread across ACTIVE, connected instances: the one with the most CPU left that fits. */
  private choosePlacement(service: Service): ContainerInstance | undefined {
    let best: ContainerInstance | undefined;
    let bestCpu = -1;
    for (const ci of service.cluster.containerInstances) {
      if (ci.status !== 'ACTIVE' || !ci.agentConnected) continue;
      const remaining = this.remainingResources(ci);
      if (remaining.cpu < service.options.cpu || remaining.memory < service.options.memory) continue;
      if (remaining.cpu > bestCpu) {
        best = ci;
        bestCpu = remaining.cpu;
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

  private touch(ci: ContainerInstance): void {
    if (this.changed.has(ci)) return;
    ci.version++;
    ci.updatedAt = this.clock.now();
    this.changed.add(ci);
    if (this.batchDepth === 0) this.flushChanges();
  }

  private flushChanges(): void {
    const changed = [...this.changed];
    this.changed.clear();
    for (const ci of changed) {
      this.emit(this.events.create('ECS Container Instance State Change', 'aws.ecs', [ci.arn], this.stateChangeDetail(ci)));
    }
  }

  /** Shape as in shared/events/ecs-container-instance-state-change.json. */
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

export function versionInfo(ci: ContainerInstance) {
  return { agentHash: 'a1b2c3d', agentVersion: ci.agentVersion, dockerVersion: 'DockerVersion: 25.0.0' };
}

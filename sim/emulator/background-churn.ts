/**
 * Background churn (option `backgroundChurn`, emulator/unkind.ts): a batch workload of standalone
 * (RunTask) tasks on the ACTIVE container instances of a cluster, and Fargate tasks in the same
 * cluster, started as a seeded Poisson process. Not an AWS behaviour but a busy account's
 * workload: it makes cluster-wide listings (ListTasks desiredStatus=STOPPED above all) as long as
 * they get, and puts the task state change events of other tasks on the bus.
 *
 * Fargate tasks (ECS API reference, Task and ListTasks): `launchType` FARGATE and no container
 * instance; ListTasks of the cluster lists them (by desired status, and with `launchType`);
 * DescribeTasks describes them; StopTask stops them. They walk PENDING → RUNNING → (essential
 * container exits, or StopTask) STOPPING → DEPROVISIONING → STOPPED, one "ECS Task State Change"
 * event per step (ECS developer guide, "Amazon ECS task state change events"; the PROVISIONING and
 * ACTIVATING steps of awsvpc tasks are left out). The durations of these steps are not documented.
 * Once a Fargate task is no longer listed (an hour after it stopped, or more) it is forgotten and
 * DescribeTasks reports it MISSING.
 */
import { SimClock } from '../clock';
import { EcsWorld, STOPPED_TASK_VISIBILITY_MS } from './ecs-world';
import { Cluster, FargateTask, TaskStatus } from './model';
import { SeededRandom } from './random';
import { BackgroundChurnOptions, UnkindStats } from './unkind';

const HOUR = 60 * 60 * 1000;
const DEFAULT_RUN_SECONDS: readonly [number, number] = [60, 900];
/** Fargate: from PENDING to RUNNING (image pull, ENI), and the steps of a stop. Not documented. */
const FARGATE_START_MS: readonly [number, number] = [20_000, 40_000];
const FARGATE_STOPPING_MS: readonly [number, number] = [2_000, 30_000];
const FARGATE_DEPROVISIONING_MS: readonly [number, number] = [1_000, 5_000];

export class BackgroundChurn {
  constructor(
    private readonly clock: SimClock,
    /** The churn's own stream: arrivals, durations, Fargate ids; the world's draws do not depend on it. */
    private readonly random: SeededRandom,
    private readonly ecs: EcsWorld,
    /** The option's settings, for every cluster created (or those it names); undefined: only `start`. */
    private readonly options: BackgroundChurnOptions | undefined,
    private readonly stats: UnkindStats,
    private readonly region: string,
    private readonly accountId: string,
    /** Extra visibility of a stopped task (option stoppedTaskVisibilityExtraMs), drawn by the caller. */
    private readonly visibilityExtraMs: () => number,
  ) {}

  /** A cluster was created: the option's churn starts there if it names the cluster (or names none). */
  clusterCreated(cluster: Cluster): void {
    if (!this.options || (this.options.clusters && !this.options.clusters.includes(cluster.name))) return;
    this.start(cluster, this.options);
  }

  /** Starts churn in the cluster (`clusters` in the options is not read here). */
  start(cluster: Cluster, options: BackgroundChurnOptions): void {
    const backlog = options.fargateStoppedBacklog ?? 0;
    for (let i = 0; i < backlog; i++) this.stoppedFargateTask(cluster);
    this.arrivals(cluster, options.standaloneTasksPerHour ?? 0, () => this.startStandalone(cluster, options));
    this.arrivals(cluster, options.fargateTasksPerHour ?? 0, () => this.startFargate(cluster, options));
  }

  /** StopTask on a Fargate task: desired STOPPED at once, then the stop's steps. */
  stopFargateTask(task: FargateTask, stopCode: string, reason: string): void {
    if (task.desiredStatus === 'STOPPED') return;
    task.timer?.cancel();
    task.desiredStatus = 'STOPPED';
    task.stoppingAt = this.clock.now();
    task.stopCode = stopCode;
    task.stoppedReason = reason;
    const deprovision = () => {
      this.step(task, 'DEPROVISIONING');
      task.timer = this.clock.after(this.between(FARGATE_DEPROVISIONING_MS), () => this.finish(task));
    };
    if (task.lastStatus === 'PENDING') {
      deprovision();
    } else {
      this.step(task, 'STOPPING');
      task.timer = this.clock.after(this.between(FARGATE_STOPPING_MS), deprovision);
    }
  }

  /** A Poisson process of `perHour` arrivals an hour, while the cluster exists. */
  private arrivals(cluster: Cluster, perHour: number, arrive: () => void): void {
    if (perHour <= 0) return;
    const next = () => {
      const gapMs = -Math.log(1 - this.random.next()) * HOUR / perHour;
      this.clock.after(gapMs, () => {
        if (!this.ecs.hasCluster(cluster.name) || this.ecs.cluster(cluster.name) !== cluster) return;
        arrive();
        next();
      });
    };
    next();
  }

  /** A batch job: a RunTask task on a random ACTIVE, connected container instance that has room. */
  private startStandalone(cluster: Cluster, options: BackgroundChurnOptions): void {
    const [min, max] = options.standaloneRunSeconds ?? DEFAULT_RUN_SECONDS;
    const cpu = 128;
    const memory = 256;
    const candidates = [...cluster.placeable].filter(ci => {
      const left = this.ecs.remainingResources(ci);
      return left.cpu >= cpu && left.memory >= memory;
    });
    if (candidates.length === 0) {
      this.stats.churnUnplaceable++;
      return;
    }
    const ci = candidates[Math.floor(this.random.next() * candidates.length)];
    this.ecs.runStandaloneTask(cluster.name, ci.arn, { runSeconds: this.random.int(min, max), cpu, memory, startedBy: 'batch' });
    this.stats.churnStandaloneTasks++;
  }

  private startFargate(cluster: Cluster, options: BackgroundChurnOptions): void {
    this.forgetUnlisted(cluster);
    const [min, max] = options.fargateRunSeconds ?? DEFAULT_RUN_SECONDS;
    const task = this.newFargateTask(cluster, this.clock.now());
    cluster.fargateTasks.set(task.arn, task);
    this.stats.churnFargateTasks++;
    this.ecs.fargateTaskChanged(task);
    task.timer = this.clock.after(this.between(FARGATE_START_MS), () => {
      task.startedAt = this.clock.now();
      this.step(task, 'RUNNING');
      task.timer = this.clock.after(this.random.int(min, max) * 1000, () => {
        this.stopFargateTask(task, 'EssentialContainerExited', 'Essential container in task exited');
      });
    });
  }

  /** A task of a busy account's past: stopped within the last hour, still listed. */
  private stoppedFargateTask(cluster: Cluster): void {
    const now = this.clock.now();
    const stoppedAt = Math.round(now - this.random.next() * HOUR);
    const task = this.newFargateTask(cluster, stoppedAt - this.random.int(60_000, 900_000));
    Object.assign(task, {
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      startedAt: task.createdAt + 30_000,
      stoppingAt: stoppedAt - 10_000,
      stoppedAt,
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      version: 4,
      updatedAt: stoppedAt,
      listedUntil: stoppedAt + STOPPED_TASK_VISIBILITY_MS + this.visibilityExtraMs(),
    });
    cluster.fargateTasks.set(task.arn, task);
  }

  private newFargateTask(cluster: Cluster, createdAt: number): FargateTask {
    const id = this.random.hex(32);
    return {
      launchType: 'FARGATE',
      arn: `arn:aws:ecs:${this.region}:${this.accountId}:task/${cluster.name}/${id}`,
      id,
      cluster,
      group: 'family:batch-fargate',
      startedBy: 'batch',
      taskDefinitionArn: `arn:aws:ecs:${this.region}:${this.accountId}:task-definition/batch-fargate:1`,
      cpu: 256,
      memory: 512,
      availabilityZone: `${this.region}${'abc'[this.random.int(0, 2)]}`,
      createdAt,
      lastStatus: 'PENDING',
      desiredStatus: 'RUNNING',
      version: 0,
      updatedAt: createdAt,
    };
  }

  private step(task: FargateTask, status: TaskStatus): void {
    task.lastStatus = status;
    this.ecs.fargateTaskChanged(task);
  }

  private finish(task: FargateTask): void {
    task.timer = undefined;
    task.stoppedAt = this.clock.now();
    task.listedUntil = task.stoppedAt + STOPPED_TASK_VISIBILITY_MS + this.visibilityExtraMs();
    this.step(task, 'STOPPED');
  }

  /** Forgets the oldest Fargate tasks no longer listed (from the front of the map: a cheap, partial sweep). */
  private forgetUnlisted(cluster: Cluster): void {
    const now = this.clock.now();
    for (const task of cluster.fargateTasks.values()) {
      if (task.lastStatus !== 'STOPPED' || now < (task.listedUntil ?? Infinity)) return;
      cluster.fargateTasks.delete(task.arn);
    }
  }

  private between([min, max]: readonly [number, number]): number {
    return this.random.int(min, max);
  }
}

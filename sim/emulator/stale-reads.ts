/**
 * Stale reads (option `staleReads`, emulator/unkind.ts): a read answers the state as it was up to
 * its operation's window ago. The ECS API documents eventual consistency ("the result of an API
 * command you run that affects your Amazon ECS resources might not be immediately visible to all
 * subsequent commands you run", ECS API reference, RunTask); Auto Scaling documents none, and a
 * public report shows one (PrairieLearn/PrairieLearn#15586).
 *
 * No copy of the world is made. Each entity a stale answer can show keeps a short history of the
 * fields those answers show, each version with the instant it took effect (`History`): recorded at
 * the end of the synchronous step that changed it (ECS), or when the field is assigned (Auto
 * Scaling), and pruned to the versions a read within the longest window can still ask for. A read
 * at instant `t` takes the newest version at or before `t`; an entity whose newest version is at or
 * before `t` is answered live, and one whose first version is after `t` did not exist yet. With the
 * option off nothing is recorded and every read is live.
 */
import { SimClock } from '../clock';
import { AgentUpdateStatus, ContainerInstanceStatus, TaskStatus } from './model';
import { SeededRandom } from './random';
import { StaleReadOperation, StaleReadOptions, UnkindStats } from './unkind';

/** What DescribeContainerInstances and ListContainerInstances show of a registration that can change. */
export interface ContainerInstanceView {
  readonly status: ContainerInstanceStatus;
  readonly statusReason?: string;
  readonly agentConnected: boolean;
  readonly version: number;
  readonly agentVersion: string;
  readonly agentUpdateStatus?: AgentUpdateStatus;
  readonly attributes: ReadonlyArray<readonly [string, string | undefined]>;
  readonly remainingCpu: number;
  readonly remainingMemory: number;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
}

/** What DescribeTasks and ListTasks show of a task that can change. */
export interface TaskView {
  readonly lastStatus: TaskStatus;
  readonly desiredStatus: 'RUNNING' | 'STOPPED';
  readonly version: number;
  readonly startedAt?: number;
  readonly stoppingAt?: number;
  readonly stoppedAt?: number;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  /** Forgotten by ECS (a forced deregistration): no longer listed. */
  readonly orphaned: boolean;
  readonly listedUntil?: number;
}

/** A version of an entity as a read at some instant sees it: `live` (nothing changed since), `absent` (not yet created), or the value. */
export type AsOf<T> = T | 'live' | 'absent';

interface Version<T> {
  at: number;
  value: T;
}

/**
 * The versions of one kind of entity, each with the instant it took effect, kept for `windowMs`.
 * Each entity's list hangs on the entity itself under this history's own symbol (a property read is
 * cheaper than a map lookup, and listings ask once per entity per page).
 */
export class History<T> {
  private readonly key = Symbol('versions');
  private readonly entities: object[] = [];

  constructor(private readonly clock: SimClock, private readonly windowMs: number) {}

  /** The entity's fields are `value` from now on (several records in one instant keep the last). */
  record(entity: object, value: T): void {
    const now = this.clock.now();
    let list = this.versionsOf(entity);
    if (!list) {
      list = [];
      (entity as Record<symbol, Array<Version<T>>>)[this.key] = list;
      this.entities.push(entity);
    }
    const last = list[list.length - 1];
    if (last && last.at === now) {
      last.value = value;
    } else {
      if (last && typeof value !== 'object' && last.value === value) return;
      list.push({ at: now, value });
    }
    // Keep the newest version at or before the horizon (what a read at the horizon sees) and all after it.
    const horizon = now - this.windowMs;
    let drop = 0;
    while (drop + 1 < list.length && list[drop + 1].at <= horizon) drop++;
    if (drop > 0) list.splice(0, drop);
  }

  /** The entity as a read at instant `at` sees it. */
  asOf(entity: object, at: number): AsOf<T> {
    const list = this.versionsOf(entity);
    if (!list || list.length === 0 || list[list.length - 1].at <= at) return 'live';
    for (let i = list.length - 2; i >= 0; i--) if (list[i].at <= at) return list[i].value;
    return 'absent';
  }

  /** Versions kept, over every entity (for tests: pruning keeps it bounded). */
  get size(): number {
    let size = 0;
    for (const entity of this.entities) size += this.versionsOf(entity)!.length;
    return size;
  }

  private versionsOf(entity: object): Array<Version<T>> | undefined {
    return (entity as Record<symbol, Array<Version<T>> | undefined>)[this.key];
  }
}

/** Decides, per call, how stale an answer is: a seeded draw from 0 to the operation's window. */
export class StaleReads {
  /** The longest window of any operation: how long histories are kept. */
  readonly windowMs: number;

  constructor(
    private readonly clock: SimClock,
    private readonly random: SeededRandom,
    private readonly windows: StaleReadOptions,
    private readonly stats: UnkindStats,
  ) {
    this.windowMs = Math.max(0, ...Object.values(windows).map(w => w ?? 0));
  }

  /** Whether any operation may answer stale (histories are kept only then). */
  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /** The instant this call of `operation` answers for; undefined: now (a live answer). */
  readTime(service: 'ecs' | 'autoscaling', operation: StaleReadOperation): number | undefined {
    const window = this.windows[operation] ?? 0;
    if (window <= 0) return undefined;
    const staleness = this.random.int(0, window);
    if (staleness === 0) return undefined;
    const key = `${service}:${operation}`;
    this.stats.staleReads[key] = (this.stats.staleReads[key] ?? 0) + 1;
    this.stats.totalStaleReads++;
    return this.clock.now() - staleness;
  }
}

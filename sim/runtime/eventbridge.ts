/**
 * The default event bus: routes the events the emulated world emits to the template's rules,
 * fires scheduled rules, and delivers to Lambda targets asynchronously.
 *
 * EventBridge delivers at least once, with no ordering guarantee, usually well under a second
 * after the event (EventBridge user guide, "Amazon EventBridge events" and "Event retry policy").
 * The faults exaggerate that on purpose: lost, duplicated and reordered events, and late
 * redeliveries per event source (`redeliveries`).
 *
 * A stack update (runtime/stack-update.ts) adds, changes (PutRule / PutTargets: pattern, schedule,
 * targets, state) and deletes rules; each takes effect at the update. A rule whose schedule stays
 * the same and stays enabled keeps its timing; a new, changed or re-enabled schedule starts one
 * period after the update (EventBridge documents no phase for rate expressions).
 */
import { SimClock, TimerHandle } from '../clock';
import { RuleSpec } from './assembly';
import { matchesPattern } from './event-pattern';
import { SIM_ACCOUNT, SIM_REGION } from './intrinsics';
import { deriveSeed } from './seeds';
import { SeededRandom } from '../emulator/random';

/** An event on the bus (EventBridge event structure; see shared/events/). */
export interface BusEvent {
  readonly 'version': string;
  readonly 'id': string;
  readonly 'detail-type': string;
  readonly 'source': string;
  readonly 'account': string;
  readonly 'time': string;
  readonly 'region': string;
  readonly 'resources': readonly string[];
  readonly 'detail': unknown;
}

export interface EventBridgeFaults {
  /** Fraction of matched deliveries that never arrive. */
  readonly lossRate?: number;
  /** Lose only `aws.ecs` events (the controller's fast path; the schedule must repair it). */
  readonly lossOnlyEcs?: boolean;
  /** Fraction of deliveries that arrive twice (same event id). */
  readonly duplicateRate?: number;
  /** Fraction of deliveries held back by a random extra delay, up to `reorderMaxDelayMs`. */
  readonly reorderRate?: number;
  /** @default 30_000 */
  readonly reorderMaxDelayMs?: number;
  /**
   * Redeliveries after a delay, by event `source` (`aws.ecs`, `aws.autoscaling`, `aws.ec2`,
   * `aws.events` for schedules, ...; `*` for any source not named): AWS delivers at least once and
   * says so. EventBridge: "Durable delivery means the service will successfully attempt to deliver
   * events to EventBridge at least once" (EventBridge user guide, "Event delivery from AWS
   * services"; ECS events are durable, EventBridge events reference). ECS: "Amazon ECS sends events
   * on an at least once basis ... events may not be delivered to your event listeners in the order in
   * which the events occurred" (ECS developer guide, "Handling Amazon ECS events"; duplicates carry the
   * same `detail.version`). Auto Scaling lifecycle action events "are produced on a best-effort
   * basis" (Auto Scaling user guide, event reference), warm pool groups' included. How late a
   * redelivery may come is documented nowhere. Off by default.
   */
  readonly redeliveries?: Readonly<Record<string, RedeliveryRule>>;
}

/**
 * Of the deliveries of an event source, `rate` (0..1, seeded) are delivered again, once per entry of
 * `delaysMs`, each copy the same event (same id) that many ms (a draw in the range) after the
 * original was put: e.g. `[[60_000, 180_000], [1_200_000, 1_800_000]]` for a copy 1-3 minutes
 * later and another 20-30 minutes later, after the lifecycle action ended and the instance may be
 * back in service.
 */
export interface RedeliveryRule {
  readonly rate: number;
  readonly delaysMs: ReadonlyArray<readonly [number, number]>;
}

export interface EventBridgeOptions {
  readonly clock: SimClock;
  /**
   * Hands an event to a target function (the Lambda runtime's asynchronous invoke); false: no
   * such function (deleted by a stack update while a rule still targets it), nothing delivered.
   */
  readonly invokeFunction: (functionName: string, payload: unknown) => boolean | void;
  readonly seed?: number;
  readonly faults?: EventBridgeFaults;
  /** Delivery latency range in virtual ms. @default [50, 500] */
  readonly latencyMs?: readonly [number, number];
}

export interface EventBridgeStats {
  received: number;
  scheduled: number;
  /** Rule matches (one event matching two rules counts twice). */
  matched: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** Deliveries to a target function that does not exist (counted, not retried). */
  undeliverable: number;
  /** Late copies scheduled by `faults.redeliveries`, in all and per event source. */
  redelivered: number;
  redeliveredBySource: Record<string, number>;
}

/** A rule on the bus: its definition and, for an enabled scheduled rule, its next firing. */
interface RuleEntry {
  rule: RuleSpec;
  schedule?: TimerHandle;
}

const SCHEDULED_EVENT = 'Scheduled Event';

export class EventBridge {
  readonly stats: EventBridgeStats = {
    ...{ received: 0, scheduled: 0, matched: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0, undeliverable: 0 },
    ...{ redelivered: 0, redeliveredBySource: {} },
  };
  /** By rule name (unique on the bus), in the order they were put. */
  private readonly rules = new Map<string, RuleEntry>();
  private readonly random: SeededRandom;
  /** Redeliveries draw from a stream of their own: turned on, they leave the other faults' choices as they were. */
  private readonly redeliveryRandom: SeededRandom;
  private stopped = false;

  constructor(private readonly options: EventBridgeOptions) {
    this.random = new SeededRandom(deriveSeed(options.seed ?? 1, 2));
    this.redeliveryRandom = new SeededRandom(deriveSeed(options.seed ?? 1, 12));
  }

  /**
   * Adds a rule (PutRule + PutTargets); a disabled one is kept but matches nothing. A scheduled
   * rule starts firing one period from now. Throws for a schedule expression the simulation does
   * not know and for a name already on the bus.
   */
  addRule(rule: RuleSpec): void {
    if (this.rules.has(rule.name)) throw new Error(`a rule named ${rule.name} is already on the bus`);
    if (rule.scheduleExpression) parseRate(rule.scheduleExpression);
    const entry: RuleEntry = { rule };
    this.rules.set(rule.name, entry);
    this.schedule(entry);
  }

  /** Whether a rule of that name is on the bus. */
  hasRule(name: string): boolean {
    return this.rules.has(name);
  }

  /** The rules on the bus, as last put. */
  allRules(): RuleSpec[] {
    return [...this.rules.values()].map(entry => entry.rule);
  }

  /**
   * Changes a rule of the same name (pattern, schedule, targets, state): events from now on are
   * matched and delivered as it says. Its schedule keeps its timing unless the expression or the
   * state changed.
   */
  updateRule(rule: RuleSpec): void {
    const entry = this.rules.get(rule.name);
    if (!entry) throw new Error(`no rule named ${rule.name} on the bus`);
    if (rule.scheduleExpression) parseRate(rule.scheduleExpression);
    const before = entry.rule;
    entry.rule = rule;
    const sameTiming = before.scheduleExpression === rule.scheduleExpression && before.enabled === rule.enabled;
    if (sameTiming) return;
    entry.schedule?.cancel();
    entry.schedule = undefined;
    this.schedule(entry);
  }

  /** DeleteRule: nothing matches it or fires from now (deliveries already on their way still arrive). */
  removeRule(name: string): void {
    this.rules.get(name)?.schedule?.cancel();
    this.rules.delete(name);
  }

  /** PutEvents / a service event: routed to every enabled rule whose pattern matches. */
  putEvent = (event: BusEvent): void => {
    this.stats.received++;
    for (const { rule } of this.rules.values()) {
      if (rule.enabled && rule.eventPattern && matchesPattern(rule.eventPattern, event)) this.route(rule, event);
    }
  };

  /** Stops every schedule (pending deliveries still arrive). */
  stop(): void {
    this.stopped = true;
    for (const entry of this.rules.values()) {
      entry.schedule?.cancel();
      entry.schedule = undefined;
    }
  }

  /** An enabled scheduled rule fires one period from now, then every period; it reads its rule when it fires. */
  private schedule(entry: RuleEntry): void {
    const { rule } = entry;
    if (this.stopped || !rule.enabled || !rule.scheduleExpression) return;
    const periodMs = parseRate(rule.scheduleExpression);
    const clock = this.options.clock;
    const tick = (at: number) => {
      entry.schedule = clock.at(at, () => {
        this.stats.scheduled++;
        this.route(entry.rule, this.scheduledEvent(entry.rule, at));
        tick(at + periodMs);
      });
    };
    tick(clock.now() + periodMs);
  }

  private scheduledEvent(rule: RuleSpec, at: number): BusEvent {
    return {
      'version': '0',
      'id': this.random.uuid(),
      'detail-type': SCHEDULED_EVENT,
      'source': 'aws.events',
      'account': SIM_ACCOUNT,
      'time': new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      'region': SIM_REGION,
      'resources': [rule.arn],
      'detail': {},
    };
  }

  private route(rule: RuleSpec, event: BusEvent): void {
    this.stats.matched++;
    const faults = this.options.faults ?? {};
    const losable = !faults.lossOnlyEcs || event.source === 'aws.ecs';
    for (const target of rule.targets) {
      if (!target.functionName) continue;
      if (losable && this.random.chance(faults.lossRate ?? 0)) {
        this.stats.lost++;
        continue;
      }
      const payload = target.input !== undefined ? target.input : event;
      const copies = this.random.chance(faults.duplicateRate ?? 0) ? 2 : 1;
      if (copies === 2) this.stats.duplicated++;
      for (let i = 0; i < copies; i++) this.deliverLater(target.functionName, payload, faults);
      this.redeliver(target.functionName, payload, event.source, faults);
    }
  }

  /** `faults.redeliveries`: late copies of this delivery, by the rule of its event source. */
  private redeliver(functionName: string, payload: unknown, source: string, faults: EventBridgeFaults): void {
    const rule = faults.redeliveries?.[source] ?? faults.redeliveries?.['*'];
    if (!rule || !this.redeliveryRandom.chance(rule.rate)) return;
    for (const [min, max] of rule.delaysMs) {
      this.stats.redelivered++;
      this.stats.redeliveredBySource[source] = (this.stats.redeliveredBySource[source] ?? 0) + 1;
      this.options.clock.after(this.redeliveryRandom.between(min, max), () => {
        if (this.options.invokeFunction(functionName, payload) === false) this.stats.undeliverable++;
        else this.stats.delivered++;
      });
    }
  }

  private deliverLater(functionName: string, payload: unknown, faults: EventBridgeFaults): void {
    const [min, max] = this.options.latencyMs ?? [50, 500];
    let delay = this.random.between(min, max);
    if (this.random.chance(faults.reorderRate ?? 0)) {
      this.stats.reordered++;
      delay += this.random.between(0, faults.reorderMaxDelayMs ?? 30_000);
    }
    this.options.clock.after(delay, () => {
      if (this.options.invokeFunction(functionName, payload) === false) {
        this.stats.undeliverable++;
        return;
      }
      this.stats.delivered++;
    });
  }
}

/**
 * `rate(value unit)`: unit minute(s), hour(s) or day(s); singular only for 1 (EventBridge
 * Scheduler/rules "Schedule expressions"). Cron expressions are not simulated.
 */
export function parseRate(expression: string): number {
  const match = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) throw new Error(`unsupported schedule expression ${expression} (only rate(...) is simulated)`);
  const value = Number(match[1]);
  const unit = match[2];
  if (value <= 0) throw new Error(`invalid schedule expression ${expression}`);
  if ((value === 1) !== !unit.endsWith('s')) throw new Error(`invalid schedule expression ${expression}: use the singular unit for 1 only`);
  const unitMs = unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000;
  return value * unitMs;
}

/**
 * The default event bus: routes the events the emulated world emits to the template's rules,
 * fires scheduled rules, and delivers to Lambda targets asynchronously.
 *
 * EventBridge delivers at least once, with no ordering guarantee, usually well under a second
 * after the event (EventBridge user guide, "Amazon EventBridge events" and "Event retry policy").
 * The faults exaggerate that on purpose: lost, duplicated and reordered events.
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
}

export interface EventBridgeOptions {
  readonly clock: SimClock;
  /** Hands an event to a target function (the Lambda runtime's asynchronous invoke). */
  readonly invokeFunction: (functionName: string, payload: unknown) => void;
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
}

const SCHEDULED_EVENT = 'Scheduled Event';

export class EventBridge {
  readonly stats: EventBridgeStats = { received: 0, scheduled: 0, matched: 0, delivered: 0, lost: 0, duplicated: 0, reordered: 0 };
  private readonly rules: RuleSpec[] = [];
  private readonly schedules: TimerHandle[] = [];
  private readonly random: SeededRandom;

  constructor(private readonly options: EventBridgeOptions) {
    this.random = new SeededRandom(deriveSeed(options.seed ?? 1, 2));
  }

  /** Adds an enabled rule; a scheduled rule starts firing one period from now. */
  addRule(rule: RuleSpec): void {
    if (!rule.enabled) return;
    this.rules.push(rule);
    if (rule.scheduleExpression) this.startSchedule(rule, parseRate(rule.scheduleExpression));
  }

  /** PutEvents / a service event: routed to every rule whose pattern matches. */
  putEvent = (event: BusEvent): void => {
    this.stats.received++;
    for (const rule of this.rules) {
      if (rule.eventPattern && matchesPattern(rule.eventPattern, event)) this.route(rule, event);
    }
  };

  /** Stops every schedule (pending deliveries still arrive). */
  stop(): void {
    for (const schedule of this.schedules.splice(0)) schedule.cancel();
  }

  private startSchedule(rule: RuleSpec, periodMs: number): void {
    const clock = this.options.clock;
    const tick = (at: number) => {
      this.schedules.push(clock.at(at, () => {
        this.stats.scheduled++;
        this.route(rule, this.scheduledEvent(rule, at));
        tick(at + periodMs);
      }));
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
      this.stats.delivered++;
      this.options.invokeFunction(functionName, payload);
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

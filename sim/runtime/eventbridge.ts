/**
 * The account's event buses: routes the events the emulated world emits (on the default bus) and
 * the entries PutEvents accepted (on the bus each names) to the template's rules of that bus only
 * (PutEventsRequestEntry, EventBusName: "Only the rules that are associated with this event bus are
 * used to match the event"; a rule's `EventBusName`, default bus when absent), fires scheduled
 * rules (on the default bus: "You can only create scheduled rules using the default event bus",
 * EventBridge user guide, "Creating a rule that runs on a schedule"), and delivers to Lambda
 * targets asynchronously, to SQS queues and to SNS topics.
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
 *
 * Amazon SQS queue targets (EventBridge user guide, "Using resource-based policies for Amazon
 * EventBridge", Amazon SQS permissions; "How EventBridge retries delivering events"; "Using
 * dead-letter queues to process undelivered events in EventBridge"): the message body is the event
 * as JSON, or the target's `Input`. EventBridge sends it as `events.amazonaws.com`; the queue's
 * policy must allow that (its conditions, `aws:SourceArn` the rule's ARN among them, are evaluated:
 * `deliverToQueue`). A delivery refused for missing permissions, or to a queue that does not
 * exist, is not retried; one that fails with a retriable error is retried with exponential back-off
 * and jitter up to the target's RetryPolicy (185 attempts / 24 hours by default); then the event
 * goes to the target's dead-letter queue, with the attributes RULE_ARN, TARGET_ARN, ERROR_CODE,
 * ERROR_MESSAGE (and EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS after retries), if it has one and
 * its policy lets EventBridge send; else it is dropped (`stats.undeliverable`). Retriable failures
 * happen only when injected (`faults.queueTargetErrorRate`, default 0); the back-off's numbers are
 * not documented: retry n waits min(8 min, 2^(n-1) s) × a random 0.5..1. The loss, duplication and
 * reorder faults apply to queue targets as to function targets.
 *
 * Amazon SNS topic targets (same pages, Amazon SNS permissions): EventBridge publishes as
 * `events.amazonaws.com`; the topic's policy must allow `sns:Publish` (`deliverToTopic`), or the
 * delivery is refused (NO_PERMISSIONS, not retried; NO_RESOURCE for a topic that does not exist)
 * and goes to the target's dead-letter queue or is dropped, as for queues; retriable failures only
 * when injected (`faults.topicTargetErrorRate`), retried per the RetryPolicy.
 *
 * What a target gets instead of the event (Input, InputPath, InputTransformer) is
 * runtime/target-input.ts's, for function, queue and topic targets alike.
 */
import { SimClock, TimerHandle } from '../clock';
import { RuleSpec, RuleTargetSpec } from './assembly';
import { matchesPattern } from './event-pattern';
import { SIM_ACCOUNT, SIM_REGION } from './intrinsics';
import { deriveSeed } from './seeds';
import { targetInputText } from './target-input';
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
  /** Fraction of deliveries to a queue target that fail with a retriable error (then retried per the RetryPolicy). */
  readonly queueTargetErrorRate?: number;
  /** Fraction of deliveries to a topic target that fail with a retriable error (then retried per the RetryPolicy). */
  readonly topicTargetErrorRate?: number;
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

/** A message EventBridge sends to an SQS queue (a target, or a target's dead-letter queue). */
export interface QueueDelivery {
  readonly queueArn: string;
  readonly body: string;
  /** The rule whose target it is (`aws:SourceArn` of the request). */
  readonly ruleArn: string;
  readonly messageAttributes?: Readonly<Record<string, string>>;
}

/** A message EventBridge publishes to an SNS topic (a target). */
export interface TopicDelivery {
  readonly topicArn: string;
  readonly message: string;
  /** The rule whose target it is (`aws:SourceArn` of the request). */
  readonly ruleArn: string;
}

/** How SendMessage / Publish went: done, or refused (NO_PERMISSIONS, NO_RESOURCE: not retried). */
export type TargetDeliveryResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly errorCode: string; readonly errorMessage: string; readonly retriable: boolean };

export type QueueDeliveryResult = TargetDeliveryResult;

/** An event EventBridge gave up on delivering to a queue or topic target. */
export interface FailedDelivery {
  readonly ruleArn: string;
  readonly targetArn: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  /** Attempts made (1 when it was not retried). */
  readonly attempts: number;
  readonly at: number;
  /** Where it went: the target's dead-letter queue, or nowhere. */
  readonly outcome: 'dead-letter-queue' | 'dropped';
}

export interface EventBridgeOptions {
  readonly clock: SimClock;
  /**
   * Hands an event to a target function (the Lambda runtime's asynchronous invoke); false: no
   * such function (deleted by a stack update while a rule still targets it), nothing delivered.
   */
  readonly invokeFunction: (functionName: string, payload: unknown) => boolean | void;
  /** Sends to an SQS queue as EventBridge (needed for rules with queue targets). */
  readonly deliverToQueue?: (delivery: QueueDelivery) => QueueDeliveryResult;
  /** Publishes to an SNS topic as EventBridge (needed for rules with topic targets). */
  readonly deliverToTopic?: (delivery: TopicDelivery) => TargetDeliveryResult;
  readonly seed?: number;
  readonly faults?: EventBridgeFaults;
  /** Delivery latency range in virtual ms. @default [50, 500] */
  readonly latencyMs?: readonly [number, number];
}

export interface EventBridgeStats {
  received: number;
  /** Events put on each bus (by name; the world's and scheduled ones are the default bus's). */
  receivedByBus: Record<string, number>;
  scheduled: number;
  /** Rule matches (one event matching two rules counts twice). */
  matched: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /**
   * Events given up on: deliveries to a target function that does not exist (counted, not
   * retried), and deliveries to a queue or topic target that failed and did not reach a
   * dead-letter queue.
   */
  undeliverable: number;
  /** Attempts to deliver to a queue or topic target after its first (retriable failures). */
  retries: number;
  /** Events a queue or topic target did not take that went to its dead-letter queue. */
  sentToDeadLetterQueue: number;
  /** Events whose dead-letter queue refused them too (then counted in `undeliverable`). */
  failedToSendToDeadLetterQueue: number;
  /** Late copies scheduled by `faults.redeliveries`, in all and per event source. */
  redelivered: number;
  redeliveredBySource: Record<string, number>;
}

/** Failed deliveries kept in `failedDeliveries` (the rest are only counted). */
const FAILED_DELIVERIES_KEPT = 1000;
/** The retry back-off's cap (the emulator's choice: 185 attempts then take about 24 hours). */
const RETRY_MAX_DELAY_MS = 8 * 60_000;

/** A rule on the bus: its definition and, for an enabled scheduled rule, its next firing. */
interface RuleEntry {
  rule: RuleSpec;
  schedule?: TimerHandle;
}

const SCHEDULED_EVENT = 'Scheduled Event';

export class EventBridge {
  readonly stats: EventBridgeStats = {
    received: 0,
    receivedByBus: {},
    scheduled: 0,
    matched: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    undeliverable: 0,
    retries: 0,
    sentToDeadLetterQueue: 0,
    failedToSendToDeadLetterQueue: 0,
    redelivered: 0,
    redeliveredBySource: {},
  };
  /** Deliveries to queue and topic targets given up on (the first 1,000). */
  readonly failedDeliveries: FailedDelivery[] = [];
  /** By bus and rule name (a name is unique on its bus), in the order they were put. */
  private readonly rules = new Map<string, RuleEntry>();
  private readonly random: SeededRandom;
  private readonly redeliveryRandom: SeededRandom;
  private stopped = false;

  constructor(private readonly options: EventBridgeOptions) {
    this.random = new SeededRandom(deriveSeed(options.seed ?? 1, 2));
    this.redeliveryRandom = new SeededRandom(deriveSeed(options.seed ?? 1, 12));
  }

  /**
   * Adds a rule (PutRule + PutTargets) to its bus; a disabled one is kept but matches nothing. A
   * scheduled rule starts firing one period from now. Throws for a schedule expression the
   * simulation does not know, a schedule on a custom bus and a name already on the bus.
   */
  addRule(rule: RuleSpec): void {
    const key = ruleKey(rule.name, rule.eventBusName);
    if (this.rules.has(key)) throw new Error(`a rule named ${rule.name} is already on the bus ${busOf(rule)}`);
    checkSchedule(rule);
    const entry: RuleEntry = { rule };
    this.rules.set(key, entry);
    this.schedule(entry);
  }

  /** Whether a rule of that name is on the bus (the default bus when none is named). */
  hasRule(name: string, eventBusName?: string): boolean {
    return this.rules.has(ruleKey(name, eventBusName));
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
    const entry = this.rules.get(ruleKey(rule.name, rule.eventBusName));
    if (!entry) throw new Error(`no rule named ${rule.name} on the bus ${busOf(rule)}`);
    checkSchedule(rule);
    const before = entry.rule;
    entry.rule = rule;
    const sameTiming = before.scheduleExpression === rule.scheduleExpression && before.enabled === rule.enabled;
    if (sameTiming) return;
    entry.schedule?.cancel();
    entry.schedule = undefined;
    this.schedule(entry);
  }

  /** DeleteRule: nothing matches it or fires from now (deliveries already on their way still arrive). */
  removeRule(name: string, eventBusName?: string): void {
    const key = ruleKey(name, eventBusName);
    this.rules.get(key)?.schedule?.cancel();
    this.rules.delete(key);
  }

  /**
   * PutEvents / a service event on a bus (the default bus when none is named): routed to every
   * enabled rule of that bus whose pattern matches.
   */
  putEvent = (event: BusEvent, eventBusName = 'default'): void => {
    this.stats.received++;
    this.stats.receivedByBus[eventBusName] = (this.stats.receivedByBus[eventBusName] ?? 0) + 1;
    const ingestedAt = this.options.clock.now();
    for (const { rule } of this.rules.values()) {
      if (busOf(rule) !== eventBusName) continue;
      if (rule.enabled && rule.eventPattern && matchesPattern(rule.eventPattern, event)) this.route(rule, event, ingestedAt);
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
        this.stats.receivedByBus.default = (this.stats.receivedByBus.default ?? 0) + 1;
        this.route(entry.rule, this.scheduledEvent(entry.rule, at), at);
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

  private route(rule: RuleSpec, event: BusEvent, ingestedAt: number): void {
    this.stats.matched++;
    const faults = this.options.faults ?? {};
    const losable = !faults.lossOnlyEcs || event.source === 'aws.ecs';
    for (const target of rule.targets) {
      if (!target.functionName && !target.queueArn && !target.topicArn) continue;
      if (losable && this.random.chance(faults.lossRate ?? 0)) {
        this.stats.lost++;
        continue;
      }
      const text = () => targetInputText(target, event, { ruleArn: rule.arn, ruleName: rule.name, ingestedAt });
      const copies = this.random.chance(faults.duplicateRate ?? 0) ? 2 : 1;
      if (copies === 2) this.stats.duplicated++;
      const deliver = () => {
        const functionName = target.functionName;
        if (functionName) {
          if (this.options.invokeFunction(functionName, functionPayload(target, event, text)) === false) {
            this.stats.undeliverable++;
            return;
          }
          this.stats.delivered++;
        } else {
          this.sendToTarget(rule, target, text(), 1, this.options.clock.now());
        }
      };
      for (let i = 0; i < copies; i++) this.deliverLater(faults, deliver);
      this.redeliver(deliver, event.source, faults);
    }
  }

  /** `faults.redeliveries`: late copies of this delivery, by the rule of its event source. */
  private redeliver(deliver: () => void, source: string, faults: EventBridgeFaults): void {
    const rule = faults.redeliveries?.[source] ?? faults.redeliveries?.['*'];
    if (!rule || !this.redeliveryRandom.chance(rule.rate)) return;
    for (const [min, max] of rule.delaysMs) {
      this.stats.redelivered++;
      this.stats.redeliveredBySource[source] = (this.stats.redeliveredBySource[source] ?? 0) + 1;
      this.options.clock.after(this.redeliveryRandom.between(min, max), deliver);
    }
  }

  private deliverLater(faults: EventBridgeFaults, deliver: () => void): void {
    const [min, max] = this.options.latencyMs ?? [50, 500];
    let delay = this.random.between(min, max);
    if (this.random.chance(faults.reorderRate ?? 0)) {
      this.stats.reordered++;
      delay += this.random.between(0, faults.reorderMaxDelayMs ?? 30_000);
    }
    this.options.clock.after(delay, deliver);
  }

  /** One attempt to send the event to a queue or topic target; a retriable failure is retried per the RetryPolicy. */
  private sendToTarget(rule: RuleSpec, target: RuleTargetSpec, body: string, attempt: number, startedAt: number): void {
    const clock = this.options.clock;
    const errorRate = target.topicArn ? this.options.faults?.topicTargetErrorRate : this.options.faults?.queueTargetErrorRate;
    const result: TargetDeliveryResult = this.random.chance(errorRate ?? 0)
      ? { ok: false, errorCode: 'CONNECTION_FAILURE', errorMessage: 'injected retriable failure', retriable: true }
      : target.topicArn
        ? this.topicSend({ topicArn: target.topicArn, message: body, ruleArn: rule.arn })
        : this.queueSend({ queueArn: target.queueArn!, body, ruleArn: rule.arn });
    if (result.ok) {
      this.stats.delivered++;
      return;
    }
    if (result.retriable) {
      const policy = target.retryPolicy ?? { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 };
      const delay = Math.min(RETRY_MAX_DELAY_MS, 1000 * 2 ** Math.min(attempt - 1, 30)) * this.random.between(0.5, 1);
      const retriesLeft = attempt - 1 < policy.maximumRetryAttempts;
      const youngEnough = clock.now() + delay <= startedAt + policy.maximumEventAgeSeconds * 1000;
      if (retriesLeft && youngEnough) {
        this.stats.retries++;
        clock.after(delay, () => this.sendToTarget(rule, target, body, attempt + 1, startedAt));
        return;
      }
      this.giveUp(rule, target, body, result, attempt, retriesLeft ? 'MaximumEventAgeInSeconds' : 'MaximumRetryAttempts');
      return;
    }
    this.giveUp(rule, target, body, result, attempt);
  }

  /** The event goes to the target's dead-letter queue, or is dropped. */
  private giveUp(rule: RuleSpec, target: RuleTargetSpec, body: string, failure: { errorCode: string; errorMessage: string },
    attempts: number, exhausted?: string): void {
    let outcome: FailedDelivery['outcome'] = 'dropped';
    if (target.deadLetterArn) {
      const sent = this.queueSend({
        queueArn: target.deadLetterArn,
        body,
        ruleArn: rule.arn,
        messageAttributes: {
          RULE_ARN: rule.arn,
          TARGET_ARN: target.arn,
          ERROR_CODE: failure.errorCode,
          ERROR_MESSAGE: failure.errorMessage,
          ...(exhausted ? { EXHAUSTED_RETRY_CONDITION: exhausted, RETRY_ATTEMPTS: String(attempts - 1) } : {}),
        },
      });
      if (sent.ok) {
        this.stats.sentToDeadLetterQueue++;
        outcome = 'dead-letter-queue';
      } else {
        this.stats.failedToSendToDeadLetterQueue++;
      }
    }
    if (outcome === 'dropped') this.stats.undeliverable++;
    if (this.failedDeliveries.length < FAILED_DELIVERIES_KEPT) {
      this.failedDeliveries.push({
        ruleArn: rule.arn,
        targetArn: target.arn,
        errorCode: failure.errorCode,
        errorMessage: failure.errorMessage,
        attempts,
        at: this.options.clock.now(),
        outcome,
      });
    }
  }

  private queueSend(delivery: QueueDelivery): QueueDeliveryResult {
    if (!this.options.deliverToQueue) {
      return { ok: false, errorCode: 'NO_RESOURCE', errorMessage: `no SQS in this simulation for ${delivery.queueArn}`, retriable: false };
    }
    return this.options.deliverToQueue(delivery);
  }

  private topicSend(delivery: TopicDelivery): TargetDeliveryResult {
    if (!this.options.deliverToTopic) {
      return { ok: false, errorCode: 'NO_RESOURCE', errorMessage: `no SNS in this simulation for ${delivery.topicArn}`, retriable: false };
    }
    return this.options.deliverToTopic(delivery);
  }
}

function busOf(rule: RuleSpec): string {
  return rule.eventBusName ?? 'default';
}

function ruleKey(name: string, eventBusName: string | undefined): string {
  return `${eventBusName ?? 'default'}/${name}`;
}

/** A known rate expression, and on the default bus only (see the module comment). */
function checkSchedule(rule: RuleSpec): void {
  if (!rule.scheduleExpression) return;
  parseRate(rule.scheduleExpression);
  if (busOf(rule) !== 'default') throw new Error(`rule ${rule.name}: scheduled rules are only supported on the default event bus`);
}

/**
 * What a function target is invoked with: the event, `Input` (as JSON), or the InputPath /
 * InputTransformer text, parsed when it is JSON (a Lambda event is JSON; text that is not stays a string).
 */
function functionPayload(target: RuleTargetSpec, event: BusEvent, text: () => string): unknown {
  if (target.input !== undefined) return target.input;
  if (target.inputPath === undefined && target.inputTransformer === undefined) return event;
  const body = text();
  try {
    return JSON.parse(body);
  } catch {
    return body;
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

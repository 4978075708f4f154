/**
 * Amazon SQS standard queues, in virtual time: what EventBridge sends to and what a Lambda event
 * source mapping polls. Every rule names its page of the Amazon SQS developer guide (or the API
 * reference); where the guide documents no behaviour, none is promised by default (an option adds
 * it).
 *
 * - At-least-once delivery ("Amazon SQS at-least-once delivery"): a copy of a message can survive
 *   its DeleteMessage (a server holding it was unavailable) and be received again. Option
 *   `duplicateRate` (default 0): the probability that a DeleteMessage leaves such a copy; it comes
 *   back when the receive's visibility timeout ends, as if the delete never reached it.
 * - Best-effort ordering ("Amazon SQS standard queues": messages are generally delivered in the
 *   order they are sent): ReceiveMessage takes the messages that became visible first. Option
 *   `outOfOrderRate` (default 0): the probability that a message is taken from anywhere among the
 *   visible ones instead.
 * - ReceiveMessage returns at most 10 messages (API reference, MaxNumberOfMessages 1..10). A
 *   received message stays in the queue, hidden for the visibility timeout (the queue's, or the
 *   receive's own), then becomes visible again unless deleted ("Amazon SQS visibility timeout").
 *   Each receive gives a new receipt handle; DeleteMessage with an earlier one succeeds but deletes
 *   nothing (API reference, DeleteMessage: the most recently received handle is needed).
 *   `ApproximateReceiveCount` counts receives, `ApproximateFirstReceiveTimestamp` is the first.
 * - In flight: about 120,000 messages per standard queue; a long poll past that quota returns no
 *   messages and no error ("Amazon SQS standard queue quotas"). Option `inFlightLimit`.
 * - Retention ("Amazon SQS message quotas", MessageRetentionPeriod 60 s .. 14 days, default 4 days):
 *   a message older than the queue's retention period is deleted, visible or in flight.
 * - Delay queues ("Amazon SQS delay queues"): `DelaySeconds` (0..900) hides a new message first.
 * - Dead-letter queues ("Using dead-letter queues in Amazon SQS"; "Learn how to configure a
 *   dead-letter queue redrive policy"): a message received `maxReceiveCount` times is moved to the
 *   redrive policy's queue instead of being received once more. For standard queues the expiration
 *   keeps the original enqueue timestamp; the dead-letter queue's ApproximateAgeOfOldestMessage
 *   counts from the move ("Setting-up dead-letter queue retention in Amazon SQS"). The moved message
 *   keeps its id, body and attributes; its receive count starts again from 0 (not documented).
 * - CreateQueue refuses attributes outside their ranges (API reference, SetQueueAttributes:
 *   VisibilityTimeout 0..43,200, MessageRetentionPeriod 60..1,209,600, DelaySeconds 0..900,
 *   maxReceiveCount 1..1,000) with InvalidAttributeValue, and a redrive policy whose dead-letter
 *   queue does not exist (InvalidParameterValue, "Dead letter target does not exist").
 * - A queue's resource-based policy (`Policy` attribute, set by AWS::SQS::QueuePolicy) decides,
 *   with the caller's identity-based policies, who may call it ("Using policies with Amazon SQS",
 *   "Overview of managing access in Amazon SQS"): `authorize`.
 */
import { createHash } from 'crypto';
import { SimClock, TimerHandle } from '../clock';
import { QueueSpec } from './assembly';
import { deriveSeed } from './seeds';
import { Decision, Policy } from '../emulator/iam/policy';
import { decideAccess, parseResourcePolicy, RequestPrincipal, ResourcePolicy } from '../emulator/iam/resource-policy';
import { SeededRandom } from '../emulator/random';

/** "Amazon SQS standard queue quotas": in-flight messages per standard queue, approximately. */
export const DEFAULT_IN_FLIGHT_LIMIT = 120_000;
/** ReceiveMessage's MaxNumberOfMessages (API reference): 1 to 10. */
export const MAX_RECEIVE_MESSAGES = 10;

export interface SqsOptions {
  readonly clock: SimClock;
  readonly seed?: number;
  /** Probability that a DeleteMessage leaves a copy that is received again (at-least-once). @default 0 */
  readonly duplicateRate?: number;
  /** Probability that a received message is not the one visible longest (best-effort ordering). @default 0 */
  readonly outOfOrderRate?: number;
  /** In-flight messages per queue past which a long poll returns none. @default 120000 */
  readonly inFlightLimit?: number;
}

/** A message as ReceiveMessage returns it (with all attributes asked for). */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: {
    readonly ApproximateReceiveCount: string;
    readonly SentTimestamp: string;
    readonly SenderId: string;
    readonly ApproximateFirstReceiveTimestamp: string;
  };
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
}

/** A message attribute (SendMessage `MessageAttributes`; only strings are modelled). */
export interface MessageAttributeValue {
  readonly DataType: 'String';
  readonly StringValue: string;
}

export interface SendOptions {
  /** Who sent it (the `SenderId` attribute). */
  readonly senderId: string;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
}

export interface QueueStats {
  /** SendMessage calls accepted (messages moved here from a source queue not included). */
  sent: number;
  /** Messages moved here by a source queue's redrive policy. */
  movedIn: number;
  /** Messages returned by ReceiveMessage (a message received twice counts twice). */
  received: number;
  deleted: number;
  /** Messages moved to the dead-letter queue of this queue's redrive policy. */
  redriven: number;
  /** Messages deleted by the retention period. */
  expired: number;
  /** Copies that survived a DeleteMessage (option `duplicateRate`). */
  duplicated: number;
  /** Long polls that returned nothing because the in-flight quota was reached. */
  overLimit: number;
  /** Now: messages visible, in flight (received, not deleted) and delayed. */
  visible: number;
  inFlight: number;
  delayed: number;
  /** Now: the age of the oldest message in the queue (ApproximateAgeOfOldestMessage), ms; 0 when empty. */
  oldestMessageAgeMs: number;
}

/** SQS's refusal of a call (its error code and message). */
export class SqsError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = code;
  }
}

type MessageState = 'delayed' | 'visible' | 'inflight' | 'gone';

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  /** SentTimestamp: retention counts from it, also in a dead-letter queue. */
  readonly sentAt: number;
  readonly senderId: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  /** When it arrived in this queue (ApproximateAgeOfOldestMessage). */
  enqueuedAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  state: MessageState;
  /** Bumped at every change of state: a timer or a visible-list entry of an earlier state is stale. */
  epoch: number;
  receiptHandle?: string;
  stateTimer?: TimerHandle;
  retentionTimer?: TimerHandle;
  /** A DeleteMessage left a copy (duplicateRate): it comes back instead of being deleted. */
  survivesDelete?: boolean;
}

interface QueueState {
  spec: QueueSpec;
  policy?: ResourcePolicy;
  readonly messages: Map<string, StoredMessage>;
  readonly byReceipt: Map<string, StoredMessage>;
  /** Visible messages in the order they became visible; entries whose epoch moved on are stale. */
  visibleList: Array<{ readonly message: StoredMessage; readonly epoch: number }>;
  visibleHead: number;
  readonly counts: Record<Exclude<MessageState, 'gone'>, number>;
  readonly stats: Omit<QueueStats, 'visible' | 'inFlight' | 'delayed' | 'oldestMessageAgeMs'>;
  readonly listeners: Set<() => void>;
  deleted: boolean;
}

export class Sqs {
  private readonly queues = new Map<string, QueueState>();
  /** Queues deleted (stack updates): their statistics are still read. */
  private readonly deletedQueues = new Map<string, QueueState>();
  private readonly random: SeededRandom;
  private readonly ids: SeededRandom;

  constructor(private readonly options: SqsOptions) {
    this.random = new SeededRandom(deriveSeed(options.seed ?? 1, 5));
    this.ids = new SeededRandom(deriveSeed(options.seed ?? 1, 6));
  }

  /** Throws what CreateQueue (or SetQueueAttributes) would refuse for `spec`, creating nothing. */
  checkQueue(spec: QueueSpec, existingArns: ReadonlySet<string> = new Set()): void {
    const range = (name: string, value: number, min: number, max: number) => {
      if (!Number.isInteger(value) || value < min || value > max) throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
    };
    range('VisibilityTimeout', spec.visibilityTimeoutSeconds, 0, 43_200);
    range('MessageRetentionPeriod', spec.messageRetentionSeconds, 60, 1_209_600);
    range('DelaySeconds', spec.delaySeconds, 0, 900);
    const redrive = spec.redrivePolicy;
    if (redrive) {
      const text = JSON.stringify({ deadLetterTargetArn: redrive.deadLetterTargetArn, maxReceiveCount: redrive.maxReceiveCount });
      if (!Number.isInteger(redrive.maxReceiveCount) || redrive.maxReceiveCount < 1 || redrive.maxReceiveCount > 1000) {
        throw new SqsError('InvalidParameterValue', `Value ${text} for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: ${redrive.maxReceiveCount}, valid values are from 1 to 1000 both inclusive.`);
      }
      if (!this.queues.has(redrive.deadLetterTargetArn) && !existingArns.has(redrive.deadLetterTargetArn)) {
        throw new SqsError('InvalidParameterValue', `Value ${text} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`);
      }
    }
  }

  /** CreateQueue. Throws for a queue that exists (AlreadyExists is the stack update's to report) or bad attributes. */
  createQueue(spec: QueueSpec): void {
    if (this.queues.has(spec.arn)) throw new SqsError('QueueAlreadyExists', `A queue named ${spec.name} already exists`);
    this.checkQueue(spec, new Set([spec.arn]));
    this.deletedQueues.delete(spec.arn);
    this.queues.set(spec.arn, {
      spec,
      messages: new Map(),
      byReceipt: new Map(),
      visibleList: [],
      visibleHead: 0,
      counts: { delayed: 0, visible: 0, inflight: 0 },
      stats: { sent: 0, movedIn: 0, received: 0, deleted: 0, redriven: 0, expired: 0, duplicated: 0, overLimit: 0 },
      listeners: new Set(),
      deleted: false,
    });
  }

  /**
   * SetQueueAttributes (a stack update of the queue): later receives use the new visibility
   * timeout; the new retention period applies to the messages in the queue at once; the new
   * redrive policy to their next receive.
   */
  updateQueue(spec: QueueSpec): void {
    const queue = this.queue(spec.arn);
    this.checkQueue(spec);
    const retentionChanged = queue.spec.messageRetentionSeconds !== spec.messageRetentionSeconds;
    queue.spec = spec;
    if (retentionChanged) for (const message of [...queue.messages.values()]) this.scheduleRetention(queue, message);
  }

  /** DeleteQueue: its messages are gone with it. */
  deleteQueue(arn: string): void {
    const queue = this.queue(arn);
    for (const message of queue.messages.values()) {
      message.stateTimer?.cancel();
      message.retentionTimer?.cancel();
      message.state = 'gone';
    }
    queue.messages.clear();
    queue.byReceipt.clear();
    queue.visibleList = [];
    queue.counts.delayed = queue.counts.visible = queue.counts.inflight = 0;
    queue.deleted = true;
    this.queues.delete(arn);
    this.deletedQueues.set(arn, queue);
    for (const listener of queue.listeners) listener();
  }

  hasQueue(arn: string): boolean {
    return this.queues.has(arn);
  }

  /** The queue's attributes as created or last updated. */
  spec(arn: string): QueueSpec | undefined {
    return this.queues.get(arn)?.spec;
  }

  /** The queue with that URL, if any. */
  arnOfUrl(url: string): string | undefined {
    for (const [arn, queue] of this.queues) if (queue.spec.url === url) return arn;
    return undefined;
  }

  /** Checks a resource-based policy document as SetQueueAttributes would parse it; throws what is refused or not modelled. */
  checkPolicy(name: string, document: unknown): ResourcePolicy {
    return parseResourcePolicy(name, document);
  }

  /** The queue's resource-based policy now, if it has one. */
  policy(arn: string): ResourcePolicy | undefined {
    return this.queues.get(arn)?.policy;
  }

  /** SetQueueAttributes `Policy` (undefined: the policy is removed). */
  setPolicy(arn: string, policy: ResourcePolicy | undefined): void {
    this.queue(arn).policy = policy;
  }

  /**
   * IAM's decision for `principal` calling `action` (`sqs:SendMessage`, ...) on the queue: its
   * resource-based policy and the principal's identity-based policies. EventBridge and Lambda
   * call SQS over TLS, so `aws:SecureTransport` is true.
   */
  authorize(
    arn: string, principal: RequestPrincipal, action: string, context: Record<string, string>, identityPolicies: readonly Policy[] = [],
  ): Decision {
    const queue = this.queues.get(arn);
    return decideAccess(principal, { action, resource: arn, context: { 'aws:SecureTransport': 'true', ...context } }, queue?.policy, identityPolicies);
  }

  /** Called (synchronously) whenever messages of the queue become visible, and when it is deleted. */
  subscribe(arn: string, listener: () => void): () => void {
    const queue = this.queue(arn);
    queue.listeners.add(listener);
    return () => queue.listeners.delete(listener);
  }

  /** SendMessage: returns the message id and the body's MD5. */
  sendMessage(arn: string, body: string, options: SendOptions): { readonly messageId: string; readonly md5OfBody: string } {
    const queue = this.queues.get(arn);
    if (!queue) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    const now = this.options.clock.now();
    const message: StoredMessage = {
      messageId: this.ids.uuid(),
      body,
      md5OfBody: createHash('md5').update(body).digest('hex'),
      sentAt: now,
      senderId: options.senderId,
      messageAttributes: options.messageAttributes ?? {},
      enqueuedAt: now,
      receiveCount: 0,
      state: 'gone',
      epoch: 0,
    };
    queue.stats.sent++;
    this.enqueue(queue, message, queue.spec.delaySeconds * 1000);
    return { messageId: message.messageId, md5OfBody: message.md5OfBody };
  }

  /**
   * ReceiveMessage (a long poll that finds messages): up to `maxMessages` (1..10) visible
   * messages, each hidden for `visibilityTimeoutSeconds` (default: the queue's). A message already
   * received `maxReceiveCount` times is moved to the dead-letter queue instead.
   */
  receiveMessage(arn: string, options: { readonly maxMessages: number; readonly visibilityTimeoutSeconds?: number }): ReceivedMessage[] {
    const queue = this.queues.get(arn);
    if (!queue) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    if (!Number.isInteger(options.maxMessages) || options.maxMessages < 1 || options.maxMessages > MAX_RECEIVE_MESSAGES) {
      throw new SqsError('InvalidParameterValue', `Value ${options.maxMessages} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`);
    }
    const now = this.options.clock.now();
    const visibilityMs = (options.visibilityTimeoutSeconds ?? queue.spec.visibilityTimeoutSeconds) * 1000;
    const limit = this.options.inFlightLimit ?? DEFAULT_IN_FLIGHT_LIMIT;
    const received: ReceivedMessage[] = [];
    while (received.length < options.maxMessages) {
      if (queue.counts.inflight >= limit) {
        queue.stats.overLimit++;
        break;
      }
      const message = this.takeVisible(queue);
      if (!message) break;
      const redrive = queue.spec.redrivePolicy;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, redrive.deadLetterTargetArn);
        continue;
      }
      message.receiveCount++;
      message.firstReceivedAt ??= now;
      if (message.receiptHandle) queue.byReceipt.delete(message.receiptHandle);
      message.receiptHandle = `${this.ids.hex(8)}${Buffer.from(`${message.messageId}/${message.receiveCount}`).toString('base64')}`;
      queue.byReceipt.set(message.receiptHandle, message);
      this.setState(queue, message, 'inflight', visibilityMs);
      queue.stats.received++;
      received.push({
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        md5OfBody: message.md5OfBody,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          SenderId: message.senderId,
          ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
        },
        messageAttributes: message.messageAttributes,
      });
    }
    return received;
  }

  /** DeleteMessage: deletes the message if `receiptHandle` is its latest; otherwise succeeds and deletes nothing. */
  deleteMessage(arn: string, receiptHandle: string): void {
    const queue = this.queues.get(arn);
    if (!queue) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    const message = queue.byReceipt.get(receiptHandle);
    if (!message || message.receiptHandle !== receiptHandle || message.state === 'gone') return;
    if (message.state === 'inflight' && this.random.chance(this.options.duplicateRate ?? 0)) {
      // At-least-once: this copy was not reached; it reappears when the visibility timeout ends.
      queue.stats.duplicated++;
      message.survivesDelete = true;
      return;
    }
    queue.stats.deleted++;
    this.remove(queue, message);
  }

  /** ChangeMessageVisibility: the message (in flight, by its latest receipt handle) becomes visible after `seconds`. */
  changeMessageVisibility(arn: string, receiptHandle: string, seconds: number): void {
    const queue = this.queue(arn);
    const message = queue.byReceipt.get(receiptHandle);
    if (!message || message.receiptHandle !== receiptHandle || message.state !== 'inflight') {
      throw new SqsError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
    }
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) throw new SqsError('InvalidParameterValue', `Value ${seconds} for parameter VisibilityTimeout is invalid.`);
    if (seconds === 0) this.makeVisible(queue, message); else this.setState(queue, message, 'inflight', seconds * 1000);
  }

  /** The queue's statistics (also of a deleted queue). */
  stats(arn: string): QueueStats {
    const queue = this.queues.get(arn) ?? this.deletedQueues.get(arn);
    if (!queue) throw new Error(`no queue ${arn}`);
    const now = this.options.clock.now();
    let oldest = now;
    for (const message of queue.messages.values()) oldest = Math.min(oldest, message.enqueuedAt);
    return {
      ...queue.stats,
      visible: queue.counts.visible,
      inFlight: queue.counts.inflight,
      delayed: queue.counts.delayed,
      oldestMessageAgeMs: now - oldest,
    };
  }

  /** Every queue's ARN (deleted ones included), with its statistics. */
  allStats(): Record<string, QueueStats> {
    return Object.fromEntries([...this.queues.keys(), ...this.deletedQueues.keys()].map(arn => [arn, this.stats(arn)]));
  }

  /** The bodies of the messages in the queue now (visible, in flight or delayed), oldest first. */
  peek(arn: string): Array<{ readonly messageId: string; readonly body: string; readonly receiveCount: number; readonly state: MessageState }> {
    return [...this.queue(arn).messages.values()].sort((a, b) => a.enqueuedAt - b.enqueuedAt)
      .map(m => ({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount, state: m.state }));
  }

  /** How many messages of the queue are visible now. */
  visibleCount(arn: string): number {
    return this.queues.get(arn)?.counts.visible ?? 0;
  }

  private queue(arn: string): QueueState {
    const queue = this.queues.get(arn);
    if (!queue) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', `The specified queue does not exist: ${arn}`);
    return queue;
  }

  /** A new (or moved) message enters the queue: delayed first if `delayMs`, then visible. */
  private enqueue(queue: QueueState, message: StoredMessage, delayMs: number): void {
    // A message moved to a dead-letter queue whose retention it already outlived (its enqueue timestamp is kept).
    if (message.sentAt + queue.spec.messageRetentionSeconds * 1000 <= this.options.clock.now()) {
      queue.stats.expired++;
      return;
    }
    queue.messages.set(message.messageId, message);
    this.scheduleRetention(queue, message);
    if (delayMs > 0) this.setState(queue, message, 'delayed', delayMs);
    else this.makeVisible(queue, message);
  }

  private scheduleRetention(queue: QueueState, message: StoredMessage): void {
    message.retentionTimer?.cancel();
    const expiresAt = message.sentAt + queue.spec.messageRetentionSeconds * 1000;
    if (expiresAt <= this.options.clock.now()) {
      this.expire(queue, message);
      return;
    }
    message.retentionTimer = this.options.clock.at(expiresAt, () => this.expire(queue, message));
  }

  private expire(queue: QueueState, message: StoredMessage): void {
    if (message.state === 'gone' || queue.messages.get(message.messageId) !== message) return;
    queue.stats.expired++;
    this.remove(queue, message);
  }

  private remove(queue: QueueState, message: StoredMessage): void {
    this.leaveState(queue, message);
    message.state = 'gone';
    message.epoch++;
    message.stateTimer?.cancel();
    message.retentionTimer?.cancel();
    if (message.receiptHandle) queue.byReceipt.delete(message.receiptHandle);
    queue.messages.delete(message.messageId);
  }

  private leaveState(queue: QueueState, message: StoredMessage): void {
    if (message.state !== 'gone') queue.counts[message.state]--;
  }

  /** Hidden (delayed or in flight) for `ms`, then visible. */
  private setState(queue: QueueState, message: StoredMessage, state: 'delayed' | 'inflight', ms: number): void {
    this.leaveState(queue, message);
    message.state = state;
    queue.counts[state]++;
    const epoch = ++message.epoch;
    message.stateTimer?.cancel();
    message.stateTimer = this.options.clock.after(ms, () => {
      if (message.epoch !== epoch) return;
      if (message.survivesDelete) message.survivesDelete = false;
      this.makeVisible(queue, message);
    });
  }

  private makeVisible(queue: QueueState, message: StoredMessage): void {
    this.leaveState(queue, message);
    message.stateTimer?.cancel();
    message.stateTimer = undefined;
    message.state = 'visible';
    queue.counts.visible++;
    queue.visibleList.push({ message, epoch: ++message.epoch });
    for (const listener of [...queue.listeners]) {
      if (queue.counts.visible === 0 || queue.deleted) break;
      listener();
    }
  }

  /** The next visible message: the one visible longest, or (outOfOrderRate) any visible one. */
  private takeVisible(queue: QueueState): StoredMessage | undefined {
    if (queue.counts.visible === 0) return undefined;
    const list = queue.visibleList;
    if (this.random.chance(this.options.outOfOrderRate ?? 0)) {
      const entry = list[this.random.int(queue.visibleHead, list.length - 1)];
      if (entry.message.epoch === entry.epoch && entry.message.state === 'visible') {
        entry.message.epoch++;
        return entry.message;
      }
    }
    while (queue.visibleHead < list.length) {
      const entry = list[queue.visibleHead++];
      if (entry.message.epoch === entry.epoch && entry.message.state === 'visible') {
        this.compact(queue);
        return entry.message;
      }
    }
    this.compact(queue);
    return undefined;
  }

  /** Drops the consumed head of the visible list once it is long. */
  private compact(queue: QueueState): void {
    if (queue.visibleHead > 1024 && queue.visibleHead * 2 > queue.visibleList.length) {
      queue.visibleList = queue.visibleList.slice(queue.visibleHead);
      queue.visibleHead = 0;
    }
  }

  private moveToDeadLetterQueue(source: QueueState, message: StoredMessage, deadLetterArn: string): void {
    source.stats.redriven++;
    this.remove(source, message);
    const target = this.queues.get(deadLetterArn);
    // A dead-letter queue deleted since the redrive policy was set: the message is lost with it.
    if (!target) return;
    const moved: StoredMessage = {
      messageId: message.messageId,
      body: message.body,
      md5OfBody: message.md5OfBody,
      sentAt: message.sentAt,
      senderId: message.senderId,
      messageAttributes: message.messageAttributes,
      enqueuedAt: this.options.clock.now(),
      receiveCount: 0,
      state: 'gone',
      epoch: 0,
    };
    target.stats.movedIn++;
    this.enqueue(target, moved, 0);
  }
}

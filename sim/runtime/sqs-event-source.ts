/**
 * Lambda event source mappings of Amazon SQS standard queues: what CreateEventSourceMapping
 * refuses, and the pollers that read batches and invoke the function synchronously. Each rule
 * names its page of the Lambda developer guide (or the Lambda API reference); where a behaviour
 * is not documented, the emulator says what it chose, and does not promise more than AWS does by
 * default.
 *
 * Refusals (CreateEventSourceMapping / UpdateEventSourceMapping, `checkEventSourceMapping`):
 * - the API's ranges (Lambda API reference, CreateEventSourceMapping; "Lambda parameters for
 *   Amazon SQS event source mappings"): BatchSize 1..10,000 for a standard queue,
 *   MaximumBatchingWindowInSeconds 0..300, ScalingConfig.MaximumConcurrency 2..1,000 (API
 *   reference, ScalingConfig), FunctionResponseTypes only `ReportBatchItemFailures`, with the
 *   service's validation message;
 * - a BatchSize above 10 needs a batching window of at least 1 s (API reference,
 *   MaximumBatchingWindowInSeconds: "Related setting"), InvalidParameterValueException "Maximum batch
 *   window in seconds must be greater than 0 if maximum batch size is greater than 10";
 * - the function's timeout above the queue's visibility timeout ("Creating and configuring an Amazon
 *   SQS event source mapping": Lambda validates it when you create or update the mapping),
 *   InvalidParameterValueException "Queue visibility timeout: V seconds is less than Function
 *   timeout: T seconds";
 * - an execution role that may not call sqs:ReceiveMessage, sqs:DeleteMessage and
 *   sqs:GetQueueAttributes on the queue ("Using Lambda with Amazon SQS", execution role
 *   permissions), evaluated with the role's policies and the queue's policy as IAM would (an
 *   explicit deny in either refuses), InvalidParameterValueException "The function execution role
 *   does not have permissions to call <Action> on SQS" (the wording quoted in aws/aws-cdk#6770 and
 *   anomalyco/sst#5737), checked in that order;
 * - a second mapping of the same queue and function, ResourceConflictException "An event source
 *   mapping with SQS arn (" … ") and function (" … ") already exists. Please update or delete the
 *   existing mapping with UUID …" (as quoted in DataBiosphere/azul#3399);
 * - a function or a queue that does not exist (ResourceNotFoundException "Function not found";
 *   for the queue the emulator's own wording).
 * CloudFormation reports them as "Invalid request provided: …" with HandlerErrorCode InvalidRequest
 * (mongodb/docs-worker-pool#878 shows the visibility refusal so), AlreadyExists, NotFound.
 *
 * Polling ("Using Lambda with Amazon SQS"; "Configuring scaling behavior for SQS event source
 * mappings"; "Handling errors for an SQS event source in Lambda"):
 * - Lambda long-polls the queue: a poller hears at once of messages that become visible. A
 *   ReceiveMessage takes at most 10. With a batching window, a poller keeps receiving until the
 *   batch holds BatchSize messages, the window (from its first message) ends, or the next message
 *   would take the event past the synchronous invocation payload quota (6 MB, "Lambda quotas");
 *   without one it invokes with what one receive returned.
 * - Concurrency: five pollers (batches at a time) to begin with; while messages stay visible and
 *   every poller is busy, up to 300 more per minute (one every 200 ms here), at most 1,000, and at
 *   most MaximumConcurrency when set; back to five once the queue is empty. Each batch is one
 *   synchronous invocation, counted against the function's and the account's concurrency like any
 *   other (lambda-concurrency.ts): event source mappings do not account for reserved concurrency,
 *   so a batch can be throttled.
 * - Which waiting poller's long poll gets newly visible messages is not documented. Default
 *   (`receiveDistribution: 'random'`): any waiting poller, chosen at random, also one that has no
 *   batch yet; option `'fill-first'`: the poller whose batch started first keeps receiving until it
 *   is full, as if one poller served the queue.
 * - Visibility: the received messages are hidden for the queue's visibility timeout; with a
 *   batching window, when window + function timeout exceed it, for window + function timeout +
 *   30 s ("Using Lambda with Amazon SQS", the batch window note).
 * - Success: the batch's messages are deleted. A function error or timeout: none is deleted; they
 *   become visible again when their visibility timeout ends. With ReportBatchItemFailures
 *   ("Implementing partial batch responses", success and failure conditions), a response
 *   `{ batchItemFailures: [{ itemIdentifier }] }` deletes all but the listed messages; an empty or
 *   null list, an empty or null response is a complete success; an invalid JSON response, an empty
 *   or null itemIdentifier, an entry with another key, an identifier that is not a message of the
 *   batch is a complete failure. A response that is JSON but not an object (a string, a number, an
 *   array) is read as invalid (the guide does not say). Without ReportBatchItemFailures the
 *   response is ignored.
 * - Throttled (no concurrency): Lambda retries the batch with a back-off until the messages'
 *   visibility timeout would have passed, then lets them go; they are received again later. The
 *   back-off's numbers are not documented: 1 s, doubling, ±10 % (lambda-concurrency.ts'
 *   `throttleRetryDelayMs`). Not modelled: the documented but unquantified backing off of the
 *   mapping's concurrency after function errors and throttles.
 * - The pollers act as the function's execution role: each receive and delete is authorized
 *   against the role's policies as they are then; a refused receive is tried again a minute later
 *   (not documented), a refused delete leaves the messages to come back.
 * - Disabled (`Enabled: false`): no polling; batches being formed are let go. A deleted mapping
 *   stops polling at once; its invocations in flight finish and their messages are deleted on
 *   success.
 */
import { SimClock, TimerHandle } from '../clock';
import { EventSourceMappingSpec, FunctionSpec, QueueSpec } from './assembly';
import { SIM_ACCOUNT, SIM_REGION } from './intrinsics';
import { LambdaRuntime, SyncInvocationResult } from './lambda';
import { throttleRetryDelayMs } from './lambda-concurrency';
import { deriveSeed } from './seeds';
import { MAX_RECEIVE_MESSAGES, ReceivedMessage, Sqs } from './sqs';
import { Policy } from '../emulator/iam/policy';
import { RequestPrincipal } from '../emulator/iam/resource-policy';
import { SeededRandom } from '../emulator/random';

/** "Lambda quotas": invocation payload of a synchronous invocation, request and response, 6 MB. */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** "Configuring scaling behavior for SQS event source mappings": five batches at a time to begin with, at most 1,000. */
const INITIAL_POLLERS = 5;
const MAX_POLLERS = 1000;
/** Up to 300 more pollers per minute while messages stay available. */
const SCALE_UP_INTERVAL_MS = 60_000 / 300;
/** A receive the role may not make is tried again this much later (the emulator's choice). */
const DENIED_RETRY_MS = 60_000;
/** The three actions the execution role needs on the queue ("Using Lambda with Amazon SQS"). */
export const REQUIRED_QUEUE_ACTIONS = ['ReceiveMessage', 'DeleteMessage', 'GetQueueAttributes'] as const;

/** A refusal of CreateEventSourceMapping / UpdateEventSourceMapping. */
export class EventSourceMappingRefusal extends Error {
  constructor(
    readonly errorCode: 'InvalidParameterValueException' | 'ResourceConflictException' | 'ResourceNotFoundException',
    readonly lambdaMessage: string,
  ) {
    super(lambdaMessage);
    this.name = errorCode;
  }

  /** CloudFormation's HandlerErrorCode for it. */
  get handlerErrorCode(): 'InvalidRequest' | 'AlreadyExists' | 'NotFound' {
    return this.errorCode === 'ResourceConflictException' ? 'AlreadyExists' : this.errorCode === 'ResourceNotFoundException' ? 'NotFound' : 'InvalidRequest';
  }

  /** What CloudFormation's resource handler reports (inside "Resource handler returned message: …"). */
  get handlerMessage(): string {
    const status = this.errorCode === 'ResourceConflictException' ? 409 : this.errorCode === 'ResourceNotFoundException' ? 404 : 400;
    const prefix = this.errorCode === 'InvalidParameterValueException' ? 'Invalid request provided: ' : '';
    return `${prefix}${this.lambdaMessage} (Service: Lambda, Status Code: ${status})`;
  }
}

/** A resource the first deployment could not create: the stack's creation fails (ROLLBACK_COMPLETE). */
export class ResourceDeploymentError extends Error {
  constructor(
    readonly stackName: string, readonly logicalId: string, readonly type: string, readonly handlerErrorCode: string, readonly handlerMessage: string,
  ) {
    super(`${stackName}: ${logicalId} (${type}): Resource handler returned message: "${handlerMessage}" (HandlerErrorCode: ${handlerErrorCode})`);
    this.name = 'ResourceDeploymentError';
  }
}

/** What a mapping's check needs to know of the account, as it will be once the mapping is made. */
export interface MappingCheckContext {
  /** The function the mapping names, if it exists. */
  readonly fn?: FunctionSpec;
  /** The queue, if it exists. */
  readonly queue?: QueueSpec;
  /** The other mappings that exist (not this one). */
  readonly otherMappings: readonly EventSourceMappingSpec[];
  /** IAM's decision for the function's role calling `sqs:<action>` on the queue. */
  readonly roleMayCall: (action: string) => boolean;
}

/** Throws what CreateEventSourceMapping (or UpdateEventSourceMapping) refuses for `spec`. */
export function checkEventSourceMapping(spec: EventSourceMappingSpec, context: MappingCheckContext): void {
  const invalid = (message: string) => new EventSourceMappingRefusal('InvalidParameterValueException', message);
  const validation = (value: unknown, member: string, constraint: string) =>
    invalid(`1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`);
  const range = (value: number, member: string, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min) throw validation(value, member, `Member must have value greater than or equal to ${min}`);
    if (value > max) throw validation(value, member, `Member must have value less than or equal to ${max}`);
  };
  range(spec.batchSize, 'batchSize', 1, 10_000);
  range(spec.maximumBatchingWindowSeconds, 'maximumBatchingWindowInSeconds', 0, 300);
  if (spec.maximumConcurrency !== undefined) range(spec.maximumConcurrency, 'scalingConfig.maximumConcurrency', 2, 1000);
  const unknownTypes = spec.functionResponseTypes.filter(t => t !== 'ReportBatchItemFailures');
  if (unknownTypes.length > 0) {
    throw validation(`[${spec.functionResponseTypes.join(', ')}]`, 'functionResponseTypes',
      'Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]');
  }
  const { fn, queue } = context;
  if (!fn) {
    throw new EventSourceMappingRefusal('ResourceNotFoundException',
      `Function not found: arn:aws:lambda:${SIM_REGION}:${SIM_ACCOUNT}:function:${spec.functionName}`);
  }
  if (!queue) throw invalid(`The event source queue ${spec.eventSourceArn} does not exist`);
  const duplicate = context.otherMappings.find(m => m.eventSourceArn === spec.eventSourceArn && m.functionName === spec.functionName);
  if (duplicate) {
    throw new EventSourceMappingRefusal('ResourceConflictException',
      `An event source mapping with SQS arn (" ${spec.eventSourceArn} ") and function (" ${spec.functionName} ") already exists. `
      + `Please update or delete the existing mapping with UUID ${duplicate.uuid}`);
  }
  if (spec.batchSize > 10 && spec.maximumBatchingWindowSeconds < 1) {
    throw invalid('Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
  }
  if (queue.visibilityTimeoutSeconds < fn.timeoutSeconds) {
    throw invalid(`Queue visibility timeout: ${queue.visibilityTimeoutSeconds} seconds is less than Function timeout: ${fn.timeoutSeconds} seconds`);
  }
  for (const action of REQUIRED_QUEUE_ACTIONS) {
    if (!context.roleMayCall(action)) throw invalid(`The function execution role does not have permissions to call ${action} on SQS`);
  }
}

/** The role session a mapping's pollers act as (the execution role; the session is named after the function, as for invocations). */
export function rolePrincipal(fn: FunctionSpec): RequestPrincipal {
  return {
    kind: 'role-session',
    account: SIM_ACCOUNT,
    roleArn: fn.role.arn,
    sessionArn: `arn:aws:sts::${SIM_ACCOUNT}:assumed-role/${fn.role.name}/${fn.name}`,
  };
}

/** The global condition keys of a role session's request ("AWS global condition context keys"). */
export function roleContext(fn: FunctionSpec): Record<string, string> {
  return { 'aws:PrincipalArn': fn.role.arn, 'aws:PrincipalAccount': SIM_ACCOUNT, 'aws:RequestedRegion': SIM_REGION };
}

export interface MappingStats {
  /** Invocations started (a throttled attempt is not one). */
  invocations: number;
  /** The size of every batch invoked, in order (a retried throttled batch counts once per invocation). */
  readonly batchSizes: number[];
  /** Invocations that failed: a function error, a timeout, a crash (each message of the batch comes back). */
  errors: number;
  /** Successful invocations whose partial batch response was invalid (a complete failure). */
  invalidResponses: number;
  /** Messages a partial batch response reported failed. */
  reportedFailures: number;
  /** Messages deleted after an invocation. */
  deleted: number;
  /** Invocations Lambda refused for want of concurrency (each retry counts). */
  throttles: number;
  /** Batches let go after throttles, their visibility timeout passing. */
  releasedAfterThrottles: number;
  /** Receives or deletes the execution role was not allowed to make. */
  denied: number;
  /** The most batches being invoked at once. */
  peakConcurrency: number;
  /** The most pollers at once. */
  peakPollers: number;
}

export interface SqsEventSourceOptions {
  readonly clock: SimClock;
  readonly sqs: Sqs;
  readonly lambda: LambdaRuntime;
  readonly seed?: number;
  /** The function deployed now under that name (its timeout and role), if any. */
  readonly functionSpec: (name: string) => FunctionSpec | undefined;
  /** The identity-based policies of the role now (a stack update may have changed them). */
  readonly rolePolicies: (fn: FunctionSpec) => readonly Policy[];
  /** Which waiting poller gets newly visible messages (see the module comment). @default 'random' */
  readonly receiveDistribution?: 'random' | 'fill-first';
}

type PollerState = 'idle' | 'forming' | 'invoking' | 'backoff';

interface Poller {
  state: PollerState;
  batch: ReceivedMessage[];
  /** The serialized size of the batch's records. */
  batchBytes: number;
  /** When its batch started (the first message received), for the window and for 'fill-first'. */
  startedAt: number;
  /** When the first message of the batch becomes visible again (its visibility timeout). */
  visibleAgainAt: number;
  throttles: number;
  timer?: TimerHandle;
  retired: boolean;
}

interface Mapping {
  spec: EventSourceMappingSpec;
  readonly pollers: Poller[];
  invoking: number;
  readonly stats: MappingStats;
  unsubscribe?: () => void;
  scaleTimer?: TimerHandle;
  removed: boolean;
  waking: boolean;
}

export class SqsEventSources {
  private readonly mappings = new Map<string, Mapping>();
  private readonly removedMappings = new Map<string, Mapping>();
  private readonly random: SeededRandom;

  constructor(private readonly options: SqsEventSourceOptions) {
    this.random = new SeededRandom(deriveSeed(options.seed ?? 1, 7));
  }

  /** CreateEventSourceMapping (its check was made before): polling starts if it is enabled. */
  add(spec: EventSourceMappingSpec): void {
    if (this.mappings.has(spec.uuid)) throw new Error(`an event source mapping ${spec.uuid} exists`);
    const mapping: Mapping = {
      spec,
      pollers: [],
      invoking: 0,
      stats: {
        invocations: 0,
        batchSizes: [],
        errors: 0,
        invalidResponses: 0,
        reportedFailures: 0,
        deleted: 0,
        throttles: 0,
        releasedAfterThrottles: 0,
        denied: 0,
        peakConcurrency: 0,
        peakPollers: 0,
      },
      removed: false,
      waking: false,
    };
    this.mappings.set(spec.uuid, mapping);
    this.removedMappings.delete(spec.uuid);
    this.start(mapping);
  }

  /** UpdateEventSourceMapping (same UUID): batches formed from now on follow the new settings. */
  update(spec: EventSourceMappingSpec): void {
    const mapping = this.mapping(spec.uuid);
    const wasEnabled = mapping.spec.enabled;
    mapping.spec = spec;
    if (wasEnabled && !spec.enabled) {this.stop(mapping);} else if (!wasEnabled && spec.enabled) {this.start(mapping);} else if (spec.enabled) {
      // A smaller maximum concurrency retires idle pollers first; busy ones retire when their batch ends.
      this.fitPollers(mapping);
      this.wake(mapping);
    }
  }

  /** DeleteEventSourceMapping: polling stops; invocations in flight finish. */
  remove(uuid: string): void {
    const mapping = this.mapping(uuid);
    mapping.removed = true;
    this.stop(mapping);
    this.mappings.delete(uuid);
    this.removedMappings.set(uuid, mapping);
  }

  has(uuid: string): boolean {
    return this.mappings.has(uuid);
  }

  /** The mapping's statistics (also of a deleted one), by UUID. */
  stats(uuid: string): MappingStats {
    const mapping = this.mappings.get(uuid) ?? this.removedMappings.get(uuid);
    if (!mapping) throw new Error(`no event source mapping ${uuid}`);
    return mapping.stats;
  }

  /** The mappings deployed now. */
  specs(): EventSourceMappingSpec[] {
    return [...this.mappings.values()].map(m => m.spec);
  }

  /** Stops every poller (the simulation ends). */
  stopAll(): void {
    for (const mapping of this.mappings.values()) this.stop(mapping);
  }

  private mapping(uuid: string): Mapping {
    const mapping = this.mappings.get(uuid);
    if (!mapping) throw new Error(`no event source mapping ${uuid}`);
    return mapping;
  }

  private cap(mapping: Mapping): number {
    return Math.min(MAX_POLLERS, mapping.spec.maximumConcurrency ?? MAX_POLLERS);
  }

  private start(mapping: Mapping): void {
    if (!mapping.spec.enabled || mapping.removed) return;
    const { sqs } = this.options;
    if (!sqs.hasQueue(mapping.spec.eventSourceArn)) return;
    mapping.unsubscribe = sqs.subscribe(mapping.spec.eventSourceArn, () => this.wake(mapping));
    for (let i = mapping.pollers.filter(p => !p.retired).length; i < Math.min(INITIAL_POLLERS, this.cap(mapping)); i++) this.addPoller(mapping);
    this.wake(mapping);
  }

  /** No more polling: batches being formed or waiting out a throttle are let go; invoking ones finish. */
  private stop(mapping: Mapping): void {
    mapping.unsubscribe?.();
    mapping.unsubscribe = undefined;
    mapping.scaleTimer?.cancel();
    mapping.scaleTimer = undefined;
    for (const poller of mapping.pollers) {
      poller.retired = true;
      if (poller.state !== 'invoking') {
        poller.timer?.cancel();
        poller.batch = [];
      }
    }
    mapping.pollers.length = 0;
  }

  private addPoller(mapping: Mapping): Poller {
    const poller: Poller = { state: 'idle', batch: [], batchBytes: 0, startedAt: 0, visibleAgainAt: 0, throttles: 0, retired: false };
    mapping.pollers.push(poller);
    mapping.stats.peakPollers = Math.max(mapping.stats.peakPollers, mapping.pollers.length);
    return poller;
  }

  private retire(mapping: Mapping, poller: Poller): void {
    poller.retired = true;
    poller.timer?.cancel();
    const index = mapping.pollers.indexOf(poller);
    if (index >= 0) mapping.pollers.splice(index, 1);
  }

  /** Retires idle pollers beyond the cap. */
  private fitPollers(mapping: Mapping): void {
    for (const poller of [...mapping.pollers]) {
      if (mapping.pollers.length <= this.cap(mapping)) break;
      if (poller.state === 'idle') this.retire(mapping, poller);
    }
  }

  /** Hands visible messages to waiting pollers (long polls), as many rounds as there are messages and pollers. */
  private wake(mapping: Mapping): void {
    if (mapping.waking || mapping.removed || !mapping.spec.enabled) return;
    mapping.waking = true;
    try {
      const { sqs } = this.options;
      const arn = mapping.spec.eventSourceArn;
      while (sqs.hasQueue(arn) && sqs.visibleCount(arn) > 0) {
        const poller = this.waitingPoller(mapping);
        if (!poller) break;
        if (!this.receive(mapping, poller)) break;
      }
      this.considerScaling(mapping);
    } finally {
      mapping.waking = false;
    }
  }

  /** A poller whose long poll would get the next messages, or none (all are busy). */
  private waitingPoller(mapping: Mapping): Poller | undefined {
    const waiting = mapping.pollers.filter(p => !p.retired && (p.state === 'idle' || p.state === 'forming'));
    if (waiting.length === 0) return undefined;
    if ((this.options.receiveDistribution ?? 'random') === 'fill-first') {
      const forming = waiting.filter(p => p.state === 'forming').sort((a, b) => a.startedAt - b.startedAt);
      return forming[0] ?? waiting[0];
    }
    return waiting[this.random.int(0, waiting.length - 1)];
  }

  /** One ReceiveMessage for the poller; false when nothing could be received. */
  private receive(mapping: Mapping, poller: Poller): boolean {
    const { sqs, clock } = this.options;
    const spec = mapping.spec;
    const fn = this.options.functionSpec(spec.functionName);
    if (!fn) return false;
    if (sqs.authorize(spec.eventSourceArn, rolePrincipal(fn), 'sqs:ReceiveMessage', roleContext(fn), this.options.rolePolicies(fn)) !== 'allow') {
      mapping.stats.denied++;
      this.backOff(mapping, poller, DENIED_RETRY_MS, () => { poller.state = 'idle'; });
      return true;
    }
    const queue = sqs.spec(spec.eventSourceArn)!;
    const windowSeconds = spec.maximumBatchingWindowSeconds;
    const visibilitySeconds = windowSeconds > 0 && windowSeconds + fn.timeoutSeconds > queue.visibilityTimeoutSeconds
      ? windowSeconds + fn.timeoutSeconds + 30 : queue.visibilityTimeoutSeconds;
    const room = Math.min(MAX_RECEIVE_MESSAGES, spec.batchSize - poller.batch.length);
    const messages = sqs.receiveMessage(spec.eventSourceArn, { maxMessages: room, visibilityTimeoutSeconds: visibilitySeconds });
    if (messages.length === 0) return false;
    const now = clock.now();
    if (poller.batch.length === 0) {
      poller.startedAt = now;
      poller.visibleAgainAt = now + visibilitySeconds * 1000;
    }
    let full = false;
    for (const message of messages) {
      const bytes = Buffer.byteLength(JSON.stringify(this.record(spec, message))) + 1;
      if (poller.batch.length > 0 && poller.batchBytes + bytes + 14 > SYNC_PAYLOAD_LIMIT_BYTES) {
        // Past the payload quota: this one waits for the next batch (it comes back after its visibility timeout).
        full = true;
        continue;
      }
      poller.batch.push(message);
      poller.batchBytes += bytes;
    }
    if (full || poller.batch.length >= spec.batchSize || windowSeconds === 0) {
      this.invoke(mapping, poller);
    } else if (poller.state !== 'forming') {
      poller.state = 'forming';
      poller.timer = clock.at(poller.startedAt + windowSeconds * 1000, () => {
        poller.timer = undefined;
        if (!poller.retired && poller.state === 'forming') this.invoke(mapping, poller);
      });
    }
    return true;
  }

  private record(spec: EventSourceMappingSpec, message: ReceivedMessage) {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle,
      body: message.body,
      attributes: { ...message.attributes },
      messageAttributes: Object.fromEntries(Object.entries(message.messageAttributes).map(([name, value]) => [name, {
        stringValue: value.StringValue, stringListValues: [], binaryListValues: [], dataType: value.DataType,
      }])),
      md5OfBody: message.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: spec.eventSourceArn,
      awsRegion: SIM_REGION,
    };
  }

  /** The batch goes to the function, synchronously. */
  private invoke(mapping: Mapping, poller: Poller): void {
    poller.timer?.cancel();
    poller.timer = undefined;
    poller.state = 'invoking';
    const spec = mapping.spec;
    const batch = poller.batch;
    const event = { Records: batch.map(message => this.record(spec, message)) };
    mapping.invoking++;
    mapping.stats.peakConcurrency = Math.max(mapping.stats.peakConcurrency, mapping.invoking);
    void this.options.lambda.invokeSync(spec.functionName, event, { eventSourceMapping: spec.uuid }).then(result => {
      mapping.invoking--;
      this.settle(mapping, poller, batch, result);
    });
  }

  private settle(mapping: Mapping, poller: Poller, batch: ReceivedMessage[], result: SyncInvocationResult): void {
    const { stats } = mapping;
    const spec = mapping.spec;
    if (result.status === 'throttled') {
      stats.throttles++;
      poller.throttles++;
      const delay = throttleRetryDelayMs(poller.throttles, this.random);
      if (!poller.retired && this.options.clock.now() + delay < poller.visibleAgainAt) {
        this.backOff(mapping, poller, delay, () => this.invoke(mapping, poller));
        return;
      }
      stats.releasedAfterThrottles++;
      this.done(mapping, poller);
      return;
    }
    if (result.status === 'not-found') {
      stats.errors++;
      this.done(mapping, poller);
      return;
    }
    stats.invocations++;
    stats.batchSizes.push(batch.length);
    if (result.status === 'function-error') {
      stats.errors++;
      this.done(mapping, poller);
      return;
    }
    let failed = new Set<string>();
    if (spec.functionResponseTypes.includes('ReportBatchItemFailures')) {
      const reported = reportedFailures(result.payloadText, new Set(batch.map(m => m.messageId)));
      if (reported === 'invalid') {
        stats.invalidResponses++;
        this.done(mapping, poller);
        return;
      }
      failed = reported;
      stats.reportedFailures += failed.size;
    }
    this.deleteBatch(mapping, batch.filter(m => !failed.has(m.messageId)));
    this.done(mapping, poller);
  }

  /** DeleteMessageBatch (authorized as sqs:DeleteMessage) of the messages that succeeded. */
  private deleteBatch(mapping: Mapping, messages: readonly ReceivedMessage[]): void {
    if (messages.length === 0) return;
    const { sqs } = this.options;
    const arn = mapping.spec.eventSourceArn;
    const fn = this.options.functionSpec(mapping.spec.functionName);
    if (!sqs.hasQueue(arn)) return;
    if (!fn || sqs.authorize(arn, rolePrincipal(fn), 'sqs:DeleteMessage', roleContext(fn), this.options.rolePolicies(fn)) !== 'allow') {
      mapping.stats.denied++;
      return;
    }
    for (const message of messages) sqs.deleteMessage(arn, message.receiptHandle);
    mapping.stats.deleted += messages.length;
  }

  private backOff(mapping: Mapping, poller: Poller, ms: number, then: () => void): void {
    poller.state = 'backoff';
    poller.timer = this.options.clock.after(ms, () => {
      poller.timer = undefined;
      if (poller.retired || mapping.removed) return;
      then();
      if (poller.state === 'idle') this.wake(mapping);
    });
  }

  /** The poller's batch is over: it polls again (or retires, when there are more pollers than needed). */
  private done(mapping: Mapping, poller: Poller): void {
    poller.batch = [];
    poller.batchBytes = 0;
    poller.throttles = 0;
    poller.state = 'idle';
    if (poller.retired || mapping.removed) return;
    const { sqs } = this.options;
    const empty = !sqs.hasQueue(mapping.spec.eventSourceArn) || sqs.visibleCount(mapping.spec.eventSourceArn) === 0;
    const floor = Math.min(INITIAL_POLLERS, this.cap(mapping));
    if (mapping.pollers.length > this.cap(mapping) || (empty && mapping.pollers.length > floor)) {
      this.retire(mapping, poller);
      return;
    }
    this.wake(mapping);
  }

  /** While messages stay visible and no poller waits, one more poller every 200 ms, up to the cap. */
  private considerScaling(mapping: Mapping): void {
    if (mapping.scaleTimer || mapping.removed || !mapping.spec.enabled) return;
    const { sqs } = this.options;
    const arn = mapping.spec.eventSourceArn;
    const backlog = () => sqs.hasQueue(arn) && sqs.visibleCount(arn) > 0;
    const noneWaiting = () => !mapping.pollers.some(p => p.state === 'idle' || p.state === 'forming');
    if (!backlog() || !noneWaiting() || mapping.pollers.length >= this.cap(mapping)) return;
    mapping.scaleTimer = this.options.clock.after(SCALE_UP_INTERVAL_MS, () => {
      mapping.scaleTimer = undefined;
      if (mapping.removed || !mapping.spec.enabled) return;
      if (backlog() && noneWaiting() && mapping.pollers.length < this.cap(mapping)) this.addPoller(mapping);
      this.wake(mapping);
    });
  }
}

/**
 * The messages a partial batch response reports failed ("Implementing partial batch responses",
 * success and failure conditions), or 'invalid' (a complete failure).
 */
export function reportedFailures(payloadText: string | undefined, batchIds: ReadonlySet<string>): Set<string> | 'invalid' {
  if (payloadText === undefined) return 'invalid';
  let response: unknown;
  try {
    response = JSON.parse(payloadText);
  } catch {
    return 'invalid';
  }
  if (response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return 'invalid';
  const list = (response as Record<string, unknown>).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return 'invalid';
  const failed = new Set<string>();
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'invalid';
    const id = (entry as Record<string, unknown>).itemIdentifier;
    if (typeof id !== 'string' || id === '' || !batchIds.has(id)) return 'invalid';
    failed.add(id);
  }
  return failed;
}

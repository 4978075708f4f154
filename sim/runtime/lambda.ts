/**
 * Runs the synthesized functions as Lambda runs them for asynchronous invocation (EventBridge
 * targets are invoked asynchronously): the bundled asset loaded with the template's environment,
 * a context object, the configured timeout, the account's concurrency (lambda-concurrency.ts),
 * retries with Lambda's back-off, and a record of every event given up on, as the on-failure
 * destination would receive it.
 *
 * Lambda developer guide: "How Lambda handles errors and retries with asynchronous invocation"
 * (function errors, timeouts included, are retried twice by default, one minute then two minutes
 * apart; throttled events go back to the queue and are retried with a back-off from 1 second to
 * 5 minutes, without using up those retries, until the maximum event age, 6 hours by default),
 * "Asynchronous invocation" (reserved concurrency 0: events go to the failure destination without
 * any retries), "Capturing records of Lambda asynchronous invocations" (the destination record's
 * shape and its condition), "Lambda context object in Node.js".
 *
 * A stack update (runtime/stack-update.ts) changes deployed functions: UpdateFunctionConfiguration /
 * UpdateFunctionCode change $LATEST ("Lambda function versions"); Lambda then provisions the function
 * anew and processes events with the new configuration once the update is complete (Lambda API
 * reference, UpdateFunctionConfiguration). Here: invocations that start after the update run the new
 * configuration and code in new execution environments (one is provisioned at the update); an
 * environment of the earlier configuration is not reused, and invocations in flight finish on the
 * code and settings they started with. Concurrency (PutFunctionConcurrency) and the asynchronous
 * invocation settings (PutFunctionEventInvokeConfig) are not version settings: changing only them
 * keeps the environments. A deleted function's queued events are dropped (`droppedEvents`).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { format } from 'util';
import { SimClock, TimerHandle } from '../clock';
import { FunctionSpec } from './assembly';
import { ActivityProbe } from './driver';
import { SIM_REGION } from './intrinsics';
import { AccountConcurrency, ConcurrencyPool, LambdaDeploymentError, ReservationChange, ScalingRate, throttleRetryDelayMs } from './lambda-concurrency';
import { ModuleImage } from './module-image';
import { InvocationScope, OutboundHttp } from './outbound-http';
import { deriveSeed } from './seeds';
import { SeededRandom } from '../emulator/random';

/** Lambda's back-off before retry 1 and retry 2 of a failed asynchronous invocation (function errors only). */
const RETRY_DELAYS_MS = [60_000, 120_000];
/** Virtual time between an event entering the async queue and the function starting. */
const QUEUE_DELAY_MS: [number, number] = [10, 100];

export type InvocationOutcome = 'success' | 'error' | 'timeout' | 'crash';

export interface InvocationRecord {
  readonly requestId: string;
  readonly functionName: string;
  /**
   * `Event`: asynchronous (EventBridge targets, `invokeAsync`); `RequestResponse`: synchronous
   * (`invokeSync`, which an SQS event source mapping uses: Lambda developer guide, "Using Lambda
   * with Amazon SQS", Lambda invokes the function synchronously with a batch).
   */
  readonly invocationType: 'Event' | 'RequestResponse';
  /** The UUID of the event source mapping that invoked it, if one did. */
  readonly eventSourceMapping?: string;
  /** 1 for the first attempt, 2 and 3 for Lambda's retries. */
  readonly attempt: number;
  readonly event: unknown;
  readonly startedAt: number;
  endedAt?: number;
  outcome?: InvocationOutcome;
  errorType?: string;
  errorMessage?: string;
  /** AWS API requests the invocation sent. */
  awsCalls: number;
  /** What the handler wrote to the console, one entry per call. */
  readonly logs: string[];
}

/** What an on-failure destination receives (Lambda developer guide, invocation records). */
export interface FailureRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    /**
     * `RetriesExhausted`: every attempt failed; `EventAgeExceeded`: the event outlived
     * MaximumEventAgeInSeconds in the queue (throttled, or waiting for a retry);
     * `ZeroReservedConcurrency`: the function's reserved concurrency is 0 (never invoked; the
     * condition's name as localstack/localstack records it for this case).
     */
    readonly condition: 'RetriesExhausted' | 'EventAgeExceeded' | 'ZeroReservedConcurrency';
    /** How many times the function ran with this event. */
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  /** The last attempt's response; absent when the function never ran with the event. */
  readonly responseContext?: { readonly statusCode: 200; readonly executedVersion: '$LATEST'; readonly functionError: 'Unhandled' };
  readonly responsePayload?: { readonly errorType: string; readonly errorMessage: string };
  /** ARN of the configured destination (undefined: the record would be dropped). */
  readonly destination?: string;
}

/** A queued event of a function that was deleted before it ran (its queue went with it). */
export interface DroppedEvent {
  readonly requestId: string;
  readonly functionName: string;
  /** Virtual time of the deletion (or of the retry that found the function gone). */
  readonly at: number;
}

/** A delivery of a queued event that Lambda throttled: the event went back to the queue. */
export interface ThrottleRecord {
  readonly requestId: string;
  readonly functionName: string;
  readonly invocationType: 'Event' | 'RequestResponse';
  /** Virtual time of the throttle. */
  readonly at: number;
  /** The back-off before the queue delivers the event again (0 for a synchronous invocation: the caller decides). */
  readonly retryInMs: number;
}

/**
 * What a synchronous invocation (`Invoke` with `InvocationType=RequestResponse`) answers (Lambda API
 * reference, Invoke): the function's response, its error (`X-Amz-Function-Error`), or a refusal
 * before it ran: TooManyRequestsException (429, no concurrency left, or reserved concurrency 0)
 * or ResourceNotFoundException (the function was deleted). Lambda does not retry a synchronous
 * invocation; the caller does ("Understanding retry behavior in Lambda").
 */
export type SyncInvocationResult =
  | {
    readonly status: 'success';
    readonly requestId: string;
    /** The response, as the runtime serialized it (`null` for undefined); undefined: not JSON-serializable. */
    readonly payloadText: string | undefined;
  }
  | {
    readonly status: 'function-error';
    readonly requestId: string;
    readonly outcome: Exclude<InvocationOutcome, 'success'>;
    readonly errorType: string;
    readonly errorMessage: string;
  }
  | { readonly status: 'throttled'; readonly requestId: string }
  | { readonly status: 'not-found'; readonly requestId: string };

export interface SyncInvokeOptions {
  /** The UUID of the event source mapping invoking (recorded in the invocation record). */
  readonly eventSourceMapping?: string;
}

export interface FunctionStats {
  invocations: number;
  errors: number;
  timeouts: number;
  crashes: number;
  /** Virtual milliseconds from start to end of every invocation, summed (what Lambda bills). */
  busyMs: number;
  /** Execution environments started (cold starts): one per invocation running at the same time. */
  environments: number;
  /** Deliveries of a queued event refused for want of concurrency (Lambda's `Throttles` metric). */
  throttles: number;
  /** The most invocations of the function that ran at the same time. */
  peakConcurrency: number;
}

export interface LambdaFaults {
  /** Probability that an invocation's process dies after one of its AWS calls. */
  readonly crashProbability?: number;
  /** The call after which it dies is drawn from 1..this. @default 4 */
  readonly crashAfterCallsMax?: number;
  /**
   * Fraction (0..1, seeded) of asynchronous events the queue hands to the function a second time,
   * `duplicateDelayMs` later, with no error in between: "Occasionally, your function may receive the
   * same event multiple times, even if no error occurs" (Lambda API reference, Invoke; Lambda
   * developer guide, asynchronous invocation). Documented; off by default. The copy is a new
   * request (its own request id and attempts).
   */
  readonly duplicateRate?: number;
  /** @default [0, 60_000] */
  readonly duplicateDelayMs?: readonly [number, number];
}

export interface LambdaRuntimeOptions {
  readonly clock: SimClock;
  /** The emulator's endpoint: ECS, Auto Scaling and EventBridge are served there. */
  readonly endpoint: string;
  readonly http: OutboundHttp;
  readonly seed?: number;
  readonly faults?: LambdaFaults;
  /** Where each function's console output is written (`<name>.log`); none: memory only. */
  readonly logDirectory?: string;
  /**
   * The account's concurrent executions quota in the Region ("Lambda quotas"); reservations and
   * the unreserved pool are carved out of it (lambda-concurrency.ts).
   * @default 1000
   */
  readonly accountConcurrencyLimit?: number;
}

type Handler = (...args: any[]) => unknown;

/**
 * One execution environment: its own copy of the module, so its own SDK clients, connection
 * pool and client-side retry state, as each concurrent invocation has in AWS (Lambda developer
 * guide, "Lambda execution environment"). Reused by later invocations while it lives.
 */
interface ExecutionEnvironment {
  readonly handler: Handler;
  /** The function's `generation` it was started for: one of an earlier configuration is not reused. */
  readonly generation: number;
  /** No invocation has run here yet: the first one initializes the SDK (see `coldStarts`). */
  fresh: boolean;
}

/**
 * How long (real time) a first invocation of a new execution environment holds virtual time still
 * until it sends its first request or sets a timer (then it waits on the virtual clock). There, the
 * AWS SDK reads its shared configuration files (real file I/O the driver cannot see, slower under
 * load); if time moved meanwhile, the invocation could run into its timeout without having sent a
 * single request, which no Lambda cold start of milliseconds would do. Bounded, so a handler that
 * never calls out cannot stop time. A timer set before the first request ends the hold (a handler
 * that only sleeps waits on the clock), but file reads still in flight for an invocation that has
 * sent nothing yet keep time still (a pass sets its abort deadline, then the SDK reads its files).
 */
const COLD_START_HOLD_REAL_MS = 2_000;

interface LoadedFunction {
  /** The configuration invocations starting now run with ($LATEST); replaced by a stack update. */
  spec: FunctionSpec;
  /** The handler module, compiled once; each environment runs it afresh. */
  module: ModuleImage;
  exportName: string;
  /** Bumped by every update of the function's version settings or code. */
  generation: number;
  /** Environments waiting for an invocation; one is started whenever none is idle. */
  idleEnvironments: ExecutionEnvironment[];
  /** Deliveries waiting in the queue (or for a retry): cancelled if the function is deleted. */
  readonly pendingDeliveries: Map<TimerHandle, QueuedEvent>;
  /** Deleted by a stack update: nothing of it starts any more. */
  removed: boolean;
  /** How fast the function may start new environments. */
  readonly scalingRate: ScalingRate;
  readonly stats: FunctionStats;
  readonly logLines: string[];
}

/** An event in the function's asynchronous queue, from `invokeAsync` until it ran or was given up on. */
interface QueuedEvent {
  readonly fn: LoadedFunction;
  readonly event: unknown;
  readonly requestId: string;
  readonly enqueuedAt: number;
  /**
   * The attempt its next run is: 1, then 2 and 3 after function errors. Throttles do not count:
   * MaximumRetryAttempts bounds retries "when the function returns an error" (AWS::Lambda::
   * EventInvokeConfig reference); an error before execution is bounded by the maximum event age
   * only (AWS What's New, 2019-11-25, "AWS Lambda supports Max Retry Attempts and Event Age").
   */
  attempt: number;
  /** Throttles since it last ran: the exponent of its next back-off. */
  throttles: number;
  /** The error of its last run, for the failure record. */
  lastError?: { readonly errorType: string; readonly errorMessage: string };
}

/**
 * A function's code copied and loaded, its first environment started, before it is deployed: a
 * stack update prepares every function it creates or changes before it changes anything.
 */
export interface PreparedFunction {
  readonly spec: FunctionSpec;
  readonly module: ModuleImage;
  readonly exportName: string;
  readonly environment: Handler;
  readonly taskRoot: string;
}

/** One run of a function: an attempt of a queued event, or a synchronous invocation. */
interface Attempt {
  readonly fn: LoadedFunction;
  readonly event: unknown;
  readonly requestId: string;
  readonly attempt: number;
  readonly invocationType: 'Event' | 'RequestResponse';
  readonly eventSourceMapping?: string;
}

interface Running {
  readonly record: InvocationRecord;
  readonly fn: LoadedFunction;
  readonly crashAfterCall?: number;
  timeout?: TimerHandle;
  finish(outcome: InvocationOutcome, error?: unknown, value?: unknown): void;
}

const CONSOLE_LEVELS = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' } as const;

export class LambdaRuntime implements ActivityProbe {
  readonly invocations: InvocationRecord[] = [];
  readonly failures: FailureRecord[] = [];
  readonly throttled: ThrottleRecord[] = [];
  readonly droppedEvents: DroppedEvent[] = [];
  /** Events the queue handed over a second time (faults.duplicateRate). */
  duplicatedEvents = 0;
  private ownActivity = 0;
  private invocationSteps = 0;
  private readonly functions = new Map<string, LoadedFunction>();
  /** Functions a stack update deleted: their statistics and logs are still read. */
  private readonly removedFunctions = new Map<string, LoadedFunction>();
  private readonly active = new Map<string, Running>();
  /** First invocations of new environments that have sent no request yet, with their real start (ms). */
  private readonly coldStarts = new Map<string, number>();
  /** Cold-started invocations that have not sent their first request yet (see COLD_START_HOLD_REAL_MS). */
  private readonly unsent = new Set<string>();
  /** Every invocation (attempt) ever started, to the function it ran: whose role its requests use. */
  private readonly invocationFunctions = new Map<string, FunctionSpec>();
  /** Invocations that ended while their code still runs (timed out, crashed): their requests hang. */
  private readonly dead = new Set<string>();
  private readonly random: SeededRandom;
  private readonly duplicateRandom: SeededRandom;
  private readonly concurrency: AccountConcurrency;
  private readonly restore: Array<() => void> = [];
  private queued = 0;
  private appliedSpec: FunctionSpec | undefined;
  /** The template variables the last applied environment set (removed ones are taken back). */
  private appliedKeys = new Set<string>();
  /** Each variable's value before the runtime first set it, restored at `close`. */
  private readonly originalEnv = new Map<string, string | undefined>();

  constructor(private readonly options: LambdaRuntimeOptions) {
    this.random = new SeededRandom(deriveSeed(options.seed ?? 1, 3));
    this.duplicateRandom = new SeededRandom(deriveSeed(options.seed ?? 1, 13));
    this.concurrency = new AccountConcurrency(options.accountConcurrencyLimit);
    this.restore.push(this.captureConsole());
    this.restore.push(() => this.restoreEnvironment());
  }

  /** ActivityProbe: invocations running now (the driver waits longer between turns for them). */
  get running(): number { return this.active.size; }
  /** Virtual time set a timer: the invocation whose code set it (if one) waits on the clock, not on real I/O. */
  onTimerSet(): void {
    if (this.coldStarts.size === 0) return;
    const id = this.options.http.scope.getStore()?.invocationId;
    if (id !== undefined) this.coldStarts.delete(id);
  }

  /** ActivityProbe: requests on their way to the emulator, and cold starts still initializing (see COLD_START_HOLD_REAL_MS). */
  get busy(): number {
    let initializing = 0;
    if (this.coldStarts.size > 0) {
      const now = performance.now();
      for (const [id, startedAt] of this.coldStarts) {
        if (now - startedAt < COLD_START_HOLD_REAL_MS) initializing++;
        else this.coldStarts.delete(id);
      }
    }
    return this.options.http.inTransit + initializing + (this.unsent.size > 0 ? fileReadsInFlight() : 0);
  }
  /** ActivityProbe: every start, end and queued event, plus client-side HTTP steps. */
  get activity(): number { return this.ownActivity + this.options.http.activity; }
  /** ActivityProbe: invocation starts and ends, and responses read to their end (see driver.ts). */
  get hotActivity(): number { return this.invocationSteps + this.options.http.hotActivity; }
  /** Events accepted but not started yet (waiting in the queue or for a retry). */
  get queuedEvents(): number { return this.queued; }

  /** The account's concurrency limit and what functions without a reservation share of it. */
  get concurrencyLimits(): { readonly account: number; readonly unreserved: number } {
    return { account: this.concurrency.limit, unreserved: this.concurrency.unreservedLimit };
  }

  /**
   * Deploys a function: its reserved concurrency is checked against the account (a refusal fails
   * the deployment, as CloudFormation would), then its bundle is loaded, as a cold start does.
   */
  addFunction(spec: FunctionSpec): void {
    this.concurrency.checkReservationChanges([{ functionName: spec.name, reserved: spec.reservedConcurrentExecutions }]);
    this.deployPrepared(this.prepareFunction(spec));
  }

  /** The configuration of the deployed function of that name (undefined: none). */
  specOf(name: string): FunctionSpec | undefined {
    return this.functions.get(name)?.spec;
  }

  /** Whether a function of that name is deployed (and not deleted). */
  hasFunction(name: string): boolean {
    return this.functions.has(name);
  }

  /**
   * Copies the function's code into a task root of its own and starts its first environment, so
   * a bundle that does not load fails before anything is deployed. Lambda unpacks the code into a
   * fresh /var/task for every new execution environment; a copy per runtime does the same here: a
   * module cached by an earlier simulation in this process (its SDK clients bound to that
   * simulation's endpoint) is never reused. Throws a LambdaDeploymentError when it does not load.
   */
  prepareFunction(spec: FunctionSpec): PreparedFunction {
    const [file, exportName] = splitHandler(spec.handler);
    const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), `sim-lambda-${spec.name.slice(0, 40)}-`));
    try {
      fs.cpSync(spec.codeDirectory, taskRoot, { recursive: true });
      const module = new ModuleImage(require.resolve(path.join(taskRoot, file)));
      this.applyEnvironment(spec);
      const environment = module.instantiate()[exportName] as Handler;
      if (typeof environment !== 'function') {
        throw new LambdaDeploymentError(spec.name, 'InvalidParameterValueException', `${spec.handler} is not a function in ${module.filename}`);
      }
      return { spec, module, exportName, environment, taskRoot };
    } catch (error) {
      fs.rmSync(taskRoot, { recursive: true, force: true });
      throw error;
    }
  }

  /** A prepared function that will not be deployed (its stack update failed). */
  discardPrepared(prepared: PreparedFunction): void {
    fs.rmSync(prepared.taskRoot, { recursive: true, force: true });
  }

  /**
   * Checks reservation changes (`ReservedConcurrentExecutions` of created or updated functions, in
   * the order a stack update applies them) against the account as the first deployment does,
   * without applying them: throws the first LambdaDeploymentError.
   */
  checkReservationChanges(changes: readonly ReservationChange[]): void {
    this.concurrency.checkReservationChanges(changes);
  }

  /** Deploys a prepared function (CreateFunction); its reservation was checked before. */
  deployPrepared(prepared: PreparedFunction): void {
    const { spec } = prepared;
    if (this.functions.has(spec.name)) throw new Error(`a function named ${spec.name} is already deployed`);
    this.concurrency.addFunction(spec.name, spec.reservedConcurrentExecutions);
    this.restore.push(() => fs.rmSync(prepared.taskRoot, { recursive: true, force: true }));
    const earlier = this.removedFunctions.get(spec.name);
    this.removedFunctions.delete(spec.name);
    const fn: LoadedFunction = {
      spec,
      module: prepared.module,
      exportName: prepared.exportName,
      generation: 0,
      idleEnvironments: [],
      pendingDeliveries: new Map(),
      removed: false,
      scalingRate: new ScalingRate(this.options.clock.now()),
      logLines: earlier?.logLines ?? [],
      stats: { invocations: 0, errors: 0, timeouts: 0, crashes: 0, busyMs: 0, environments: 0, throttles: 0, peakConcurrency: 0 },
    };
    fn.idleEnvironments.push(this.environmentOf(fn, prepared.environment));
    this.functions.set(spec.name, fn);
  }

  /**
   * A stack update changed the function's configuration (same name). With `prepared` (its version
   * settings or code changed) later invocations run in new environments of the new code; the
   * prepared environment is the one Lambda provisions at the update. Without it only settings
   * outside the version changed (reserved concurrency, asynchronous invocation, role policies):
   * the environments stay. A reservation change was checked before (`checkReservationChanges`).
   */
  updateFunction(spec: FunctionSpec, prepared?: PreparedFunction): void {
    const fn = this.loaded(spec.name);
    if (spec.reservedConcurrentExecutions !== fn.spec.reservedConcurrentExecutions) {
      this.concurrency.setReservation(spec.name, spec.reservedConcurrentExecutions);
    }
    fn.spec = spec;
    if (!prepared) return;
    this.restore.push(() => fs.rmSync(prepared.taskRoot, { recursive: true, force: true }));
    fn.module = prepared.module;
    fn.exportName = prepared.exportName;
    fn.generation++;
    fn.idleEnvironments = [this.environmentOf(fn, prepared.environment)];
  }

  /**
   * DeleteFunction (a stack update removed it): its queued events are dropped, invocations in flight
   * run to their end (nothing retries them), its reservation returns to the account.
   */
  removeFunction(name: string): void {
    const fn = this.loaded(name);
    fn.removed = true;
    fn.idleEnvironments = [];
    for (const [handle, queued] of fn.pendingDeliveries) {
      handle.cancel();
      this.queued--;
      this.droppedEvents.push({ requestId: queued.requestId, functionName: name, at: this.options.clock.now() });
    }
    fn.pendingDeliveries.clear();
    this.ownActivity++;
    this.concurrency.removeFunction(name);
    this.functions.delete(name);
    this.removedFunctions.set(name, fn);
  }

  private environmentOf(fn: LoadedFunction, handler: Handler): ExecutionEnvironment {
    fn.stats.environments++;
    return { handler, generation: fn.generation, fresh: true };
  }

  /** A cold start: a fresh copy of the function's module, loaded with its environment. */
  private startEnvironment(fn: LoadedFunction): ExecutionEnvironment {
    this.applyEnvironment(fn.spec);
    const handler = fn.module.instantiate()[fn.exportName] as Handler;
    if (typeof handler !== 'function') throw new Error(`${fn.spec.name}: ${fn.spec.handler} is not a function in ${fn.module.filename}`);
    return this.environmentOf(fn, handler);
  }

  /**
   * An idle environment of the function (the most recently used), or a new one when none is idle
   * and the function's scaling rate allows it; undefined: the invocation is throttled.
   */
  private environmentFor(fn: LoadedFunction): ExecutionEnvironment | undefined {
    const idle = fn.idleEnvironments.pop();
    if (idle) return idle;
    return fn.scalingRate.tryStartEnvironment(this.options.clock.now()) ? this.startEnvironment(fn) : undefined;
  }

  /** The function an invocation id (`<requestId>#<attempt>`, the x-sim-invocation header) belongs to. */
  functionOf(invocationId: string): FunctionSpec | undefined {
    return this.invocationFunctions.get(invocationId);
  }

  /** The function's statistics (also of a function a stack update deleted). */
  stats(functionName: string): FunctionStats {
    return (this.functions.get(functionName) ?? this.removedFunctions.get(functionName) ?? this.loaded(functionName)).stats;
  }

  /**
   * Lambda's `Invoke` with `InvocationType=Event`: queued, run soon, retried on error or throttle.
   * Returns the request id (what the 202 response carries), shared by every attempt.
   */
  invokeAsync(functionName: string, event: unknown): string {
    const queued: QueuedEvent = {
      fn: this.loaded(functionName),
      event,
      requestId: this.random.uuid(),
      enqueuedAt: this.options.clock.now(),
      attempt: 1,
      throttles: 0,
    };
    this.deliverAfter(queued, this.random.between(...QUEUE_DELAY_MS));
    // faults.duplicateRate: the queue hands the event over once more (own stream: other draws unchanged).
    const faults = this.options.faults;
    if (this.duplicateRandom.chance(faults?.duplicateRate ?? 0)) {
      this.duplicatedEvents++;
      const [min, max] = faults?.duplicateDelayMs ?? [0, 60_000];
      const copy: QueuedEvent = { ...queued, requestId: this.duplicateRandom.uuid(), attempt: 1, throttles: 0 };
      this.deliverAfter(copy, this.duplicateRandom.between(min, max) + this.duplicateRandom.between(...QUEUE_DELAY_MS));
    }
    return queued.requestId;
  }

  /**
   * Lambda's `Invoke` with `InvocationType=RequestResponse`: runs now if the function has
   * concurrency left (the same pools, scaling rate, environments, timeout, IAM attribution, logs
   * and statistics as an asynchronous invocation), else answers `throttled` at once; never retried
   * here. Resolves when the invocation ends (success, error, timeout or crash).
   */
  invokeSync(functionName: string, event: unknown, options: SyncInvokeOptions = {}): Promise<SyncInvocationResult> {
    const requestId = this.random.uuid();
    const fn = this.functions.get(functionName);
    if (!fn) return Promise.resolve({ status: 'not-found', requestId });
    const clock = this.options.clock;
    const throttle = (): Promise<SyncInvocationResult> => {
      fn.stats.throttles++;
      this.ownActivity++;
      this.throttled.push({ requestId, functionName, invocationType: 'RequestResponse', at: clock.now(), retryInMs: 0 });
      return Promise.resolve({ status: 'throttled', requestId });
    };
    if (this.concurrency.reservedFor(functionName) === 0) return throttle();
    const pool = this.concurrency.tryAcquire(functionName);
    const environment = pool ? this.environmentFor(fn) : undefined;
    if (!pool || !environment) {
      if (pool) this.concurrency.release(functionName, pool);
      return throttle();
    }
    fn.stats.peakConcurrency = Math.max(fn.stats.peakConcurrency, this.concurrency.inFlight(functionName));
    return new Promise(resolve => {
      const attempt: Attempt = {
        fn,
        event,
        requestId,
        attempt: 1,
        invocationType: 'RequestResponse',
        ...(options.eventSourceMapping !== undefined ? { eventSourceMapping: options.eventSourceMapping } : {}),
      };
      this.start(attempt, environment, pool, (record, value) => {
        if (record.outcome === 'success') {
          resolve({ status: 'success', requestId, payloadText: serializeResponse(value) });
        } else {
          resolve({
            status: 'function-error',
            requestId,
            outcome: record.outcome as Exclude<InvocationOutcome, 'success'>,
            errorType: record.errorType ?? 'Error',
            errorMessage: record.errorMessage ?? '',
          });
        }
      });
    });
  }

  /** Install as the emulator's `onRequest`: requests of ended invocations never get answered. */
  onRequest = (info: { invocationId?: string }): 'continue' | 'hang' => {
    if (info.invocationId === undefined) return 'continue';
    this.options.http.noteReceived();
    return this.dead.has(info.invocationId) ? 'hang' : 'continue';
  };

  /**
   * Install as virtual time's `onTimerError`: a throw in a handler's timer fails its invocation.
   * One in the leftover code of an invocation that already ended (timed out, crashed) is lost with
   * its process, as in Lambda, and touches no other invocation.
   */
  onTimerError = (error: unknown): void => {
    const scope = this.options.http.scope.getStore();
    const running = scope && this.active.get(scope.invocationId);
    if (running) running.finish('error', error);
    else if (!scope || !this.dead.has(scope.invocationId)) process.nextTick(() => { throw error; });
  };

  /** Writes each function's log file; restores the console and environment. */
  close(): void {
    this.flushLogs();
    for (const undo of this.restore.splice(0).reverse()) undo();
    for (const running of this.active.values()) running.timeout?.cancel();
  }

  flushLogs(): void {
    const dir = this.options.logDirectory;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    for (const fn of [...this.functions.values(), ...this.removedFunctions.values()]) {
      fs.appendFileSync(path.join(dir, `${fn.spec.name}.log`), fn.logLines.map(l => `${l}\n`).join(''));
      fn.logLines.length = 0;
    }
  }

  /**
   * Puts the event (back) in the queue for `delayMs`. An event whose age would pass the maximum
   * event age before then is given up on when it does (EventAgeExceeded).
   */
  private deliverAfter(queued: QueuedEvent, delayMs: number): void {
    const clock = this.options.clock;
    const fn = queued.fn;
    if (fn.removed) {
      // A retry of an invocation that was in flight when its function was deleted.
      this.droppedEvents.push({ requestId: queued.requestId, functionName: fn.spec.name, at: clock.now() });
      return;
    }
    const expiresAt = queued.enqueuedAt + fn.spec.invokeConfig.maximumEventAgeSeconds * 1000;
    const dueAt = clock.now() + delayMs;
    this.queued++;
    this.ownActivity++;
    const handle = clock.at(Math.min(dueAt, expiresAt), () => {
      fn.pendingDeliveries.delete(handle);
      this.queued--;
      if (dueAt > expiresAt) this.recordFailure(queued, queued.attempt - 1, 'EventAgeExceeded');
      else this.deliver(queued);
    });
    fn.pendingDeliveries.set(handle, queued);
  }

  /** The queue hands the event to the function: it runs if concurrency is left, else it is throttled. */
  private deliver(queued: QueuedEvent): void {
    const fn = queued.fn;
    if (this.concurrency.reservedFor(fn.spec.name) === 0) {
      this.recordFailure(queued, queued.attempt - 1, 'ZeroReservedConcurrency');
      return;
    }
    const pool = this.concurrency.tryAcquire(fn.spec.name);
    const environment = pool ? this.environmentFor(fn) : undefined;
    if (!pool || !environment) {
      // No concurrency left, or the function scales faster than Lambda adds environments: a
      // throttle (429) returns the event to the queue; it does not use up a retry attempt.
      if (pool) this.concurrency.release(fn.spec.name, pool);
      fn.stats.throttles++;
      queued.throttles++;
      const retryInMs = throttleRetryDelayMs(queued.throttles, this.random);
      this.throttled.push({ requestId: queued.requestId, functionName: fn.spec.name, invocationType: 'Event', at: this.options.clock.now(), retryInMs });
      this.deliverAfter(queued, retryInMs);
      return;
    }
    queued.throttles = 0;
    fn.stats.peakConcurrency = Math.max(fn.stats.peakConcurrency, this.concurrency.inFlight(fn.spec.name));
    this.start({ ...queued, invocationType: 'Event' }, environment, pool, record => {
      if (record.outcome === 'success') return;
      queued.lastError = { errorType: record.errorType ?? 'Error', errorMessage: record.errorMessage ?? '' };
      this.retryOrGiveUp(queued);
    });
  }

  /** Runs one attempt in `environment`; `onEnd` hears how it ended (and the handler's value on success). */
  private start(
    run: Attempt, environment: ExecutionEnvironment, pool: ConcurrencyPool, onEnd: (record: InvocationRecord, value?: unknown) => void,
  ): void {
    const clock = this.options.clock;
    const { fn, event, requestId, attempt } = run;
    const spec = fn.spec;
    // Each attempt is its own invocation for attribution; Lambda reuses the request id on retries.
    const invocationId = `${requestId}#${attempt}`;
    this.invocationFunctions.set(invocationId, spec);
    const record: InvocationRecord = {
      requestId,
      functionName: spec.name,
      invocationType: run.invocationType,
      ...(run.eventSourceMapping !== undefined ? { eventSourceMapping: run.eventSourceMapping } : {}),
      attempt,
      event,
      startedAt: clock.now(),
      awsCalls: 0,
      logs: [],
    };
    this.invocations.push(record);
    fn.stats.invocations++;
    this.ownActivity++;
    this.invocationSteps++;
    const faults = this.options.faults ?? {};
    const crashAfterCall = this.random.chance(faults.crashProbability ?? 0)
      ? this.random.int(1, faults.crashAfterCallsMax ?? 4) : undefined;

    const running: Running = {
      record,
      fn,
      crashAfterCall,
      finish: (outcome, error, value) => {
        if (record.outcome) return;
        record.outcome = outcome;
        // The invocation's concurrency is free again; its code may run on (timeout, crash), but in
        // Lambda that environment is gone: it is not reused, and a new one starts when needed.
        this.concurrency.release(spec.name, pool);
        // An environment of an earlier configuration (or of a deleted function) is not reused.
        const reusable = outcome !== 'timeout' && outcome !== 'crash' && environment.generation === fn.generation && !fn.removed;
        if (reusable) fn.idleEnvironments.push(environment);
        record.endedAt = clock.now();
        running.timeout?.cancel();
        this.active.delete(invocationId);
        this.coldStarts.delete(invocationId);
        this.unsent.delete(invocationId);
        this.ownActivity++;
        this.invocationSteps++;
        fn.stats.busyMs += record.endedAt - record.startedAt;
        if (outcome !== 'success') {
          const e = error as { name?: string; message?: string } | undefined;
          record.errorType = outcome === 'timeout' ? 'Sandbox.Timedout' : outcome === 'crash' ? 'Runtime.ExitError' : (e?.name ?? 'Error');
          record.errorMessage = outcome === 'timeout'
            ? `Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`
            : outcome === 'crash' ? 'Runtime exited with error: signal: killed' : String(e?.message ?? error);
          if (outcome === 'timeout') fn.stats.timeouts++;
          else if (outcome === 'crash') fn.stats.crashes++;
          else fn.stats.errors++;
          if (outcome !== 'error') this.dead.add(invocationId);
          this.logLine(fn, record, 'ERROR', `${record.errorType}: ${record.errorMessage}`);
        }
        onEnd(record, value);
      },
    };
    this.active.set(invocationId, running);
    if (environment.fresh) {
      environment.fresh = false;
      this.coldStarts.set(invocationId, performance.now());
      this.unsent.add(invocationId);
    }
    running.timeout = clock.after(spec.timeoutSeconds * 1000, () => running.finish('timeout'));

    const deadline = clock.now() + spec.timeoutSeconds * 1000;
    const context = {
      awsRequestId: requestId,
      functionName: spec.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: spec.arn,
      memoryLimitInMB: String(spec.memorySize),
      logGroupName: `/aws/lambda/${spec.name}`,
      logStreamName: `sim/[$LATEST]${invocationId}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - clock.now()),
      done: () => undefined,
      succeed: () => undefined,
      fail: () => undefined,
    };
    const scope: InvocationScope = {
      invocationId,
      onRequestSent: () => {
        this.coldStarts.delete(invocationId);
        this.unsent.delete(invocationId);
        return ++record.awsCalls;
      },
      onResponse: index => {
        // The process dies once this call has been answered: the emulator applied it, the handler never learns.
        if (crashAfterCall !== undefined && index >= crashAfterCall) running.finish('crash');
      },
    };
    this.applyEnvironment(spec);
    this.options.http.scope.run(scope, () => {
      try {
        const result = new Promise((resolve, reject) => {
          const returned = environment.handler(event, context, (err: unknown, value: unknown) => (err ? reject(err) : resolve(value)));
          if (isPromise(returned)) returned.then(resolve, reject);
          else if (environment.handler.length < 3) resolve(returned);
        });
        result.then(value => running.finish('success', undefined, value), error => running.finish('error', error));
      } catch (error) {
        running.finish('error', error);
      }
    });
  }

  /** After a function error (a timeout included): the next retry, or the failure record once MaximumRetryAttempts are used. */
  private retryOrGiveUp(queued: QueuedEvent): void {
    const retriesDone = queued.attempt - 1;
    if (retriesDone >= queued.fn.spec.invokeConfig.maximumRetryAttempts) {
      this.recordFailure(queued, queued.attempt, 'RetriesExhausted');
      return;
    }
    queued.attempt++;
    this.deliverAfter(queued, RETRY_DELAYS_MS[Math.min(retriesDone, RETRY_DELAYS_MS.length - 1)]);
  }

  private recordFailure(queued: QueuedEvent, invokeCount: number, condition: FailureRecord['requestContext']['condition']): void {
    const { fn, requestId, lastError } = queued;
    this.failures.push({
      version: '1.0',
      timestamp: new Date(this.options.clock.now()).toISOString(),
      requestContext: { requestId, functionArn: `${fn.spec.arn}:$LATEST`, condition, approximateInvokeCount: invokeCount },
      requestPayload: queued.event,
      ...(lastError ? {
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: lastError,
      } : {}),
      destination: fn.spec.invokeConfig.onFailureDestination,
    });
  }

  /**
   * The process environment as Lambda sets it: the template's variables, the reserved ones, dummy
   * credentials, and the emulator as the ECS, Auto Scaling and EventBridge endpoint (the SDK's
   * service-specific endpoint variables, AWS SDKs and Tools reference guide, "Service-specific
   * endpoints": the variable's suffix is the service ID, `EventBridge` for EventBridge).
   */
  private applyEnvironment(spec: FunctionSpec): void {
    // Writing process.env is slow (a native interceptor per key): skip it when the last
    // invocation set this very function's environment.
    if (this.appliedSpec === spec) return;
    this.appliedSpec = spec;
    const env: Record<string, string> = {
      ...spec.environment,
      AWS_REGION: SIM_REGION,
      AWS_DEFAULT_REGION: SIM_REGION,
      AWS_ACCESS_KEY_ID: 'ASIASIMULATEDKEY0000',
      AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key',
      AWS_SESSION_TOKEN: 'simulated-session-token',
      AWS_LAMBDA_FUNCTION_NAME: spec.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      LAMBDA_TASK_ROOT: spec.codeDirectory,
      AWS_ENDPOINT_URL_ECS: this.options.endpoint,
      AWS_ENDPOINT_URL_AUTO_SCALING: this.options.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: this.options.endpoint,
      // Keep the developer's ~/.aws files out of the simulation.
      AWS_CONFIG_FILE: '/nonexistent/sim-aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/sim-aws-credentials',
    };
    // A variable the last applied environment set and this one does not (another function's, or
    // one a stack update removed) is taken back to what the process had.
    for (const key of this.appliedKeys) {
      if (key in env) continue;
      const original = this.originalEnv.get(key);
      if (original === undefined) delete process.env[key]; else process.env[key] = original;
    }
    for (const [key, value] of Object.entries(env)) {
      if (!this.originalEnv.has(key)) this.originalEnv.set(key, process.env[key]);
      process.env[key] = value;
    }
    this.appliedKeys = new Set(Object.keys(env));
  }

  /** Puts back every variable the runtime set as the process had it. */
  private restoreEnvironment(): void {
    for (const [key, value] of this.originalEnv) {
      if (value === undefined) delete process.env[key]; else process.env[key] = value;
    }
    this.originalEnv.clear();
    this.appliedKeys.clear();
    this.appliedSpec = undefined;
  }

  /** Console calls inside an invocation go to its log (Lambda's text format), not to stdout. */
  private captureConsole(): () => void {
    const originals: Partial<Record<keyof typeof CONSOLE_LEVELS, (...args: unknown[]) => void>> = {};
    for (const [method, level] of Object.entries(CONSOLE_LEVELS) as Array<[keyof typeof CONSOLE_LEVELS, string]>) {
      const original = console[method].bind(console);
      originals[method] = console[method];
      console[method] = (...args: unknown[]) => {
        const scope = this.options.http.scope.getStore();
        const running = scope && this.active.get(scope.invocationId);
        if (running) this.logLine(running.fn, running.record, level, format(...args));
        else if (!scope) original(...args);
        // Output of an invocation that already ended (timed out, crashed) is lost, as in Lambda.
      };
    }
    return () => { Object.assign(console, originals); };
  }

  private logLine(fn: LoadedFunction, record: InvocationRecord, level: string, message: string): void {
    record.logs.push(message);
    fn.logLines.push(`${new Date(this.options.clock.now()).toISOString()}\t${record.requestId}\t${level}\t${message}`);
  }

  private loaded(functionName: string): LoadedFunction {
    const fn = this.functions.get(functionName);
    if (!fn) throw new Error(`no function named ${functionName}`);
    return fn;
  }
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** The response as the Node.js runtime serializes it (JSON; undefined becomes null); undefined when it cannot. */
function serializeResponse(value: unknown): string | undefined {
  try {
    return JSON.stringify(value ?? null);
  } catch {
    return undefined;
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}

/** File system requests of this process still in flight (Node's active resources: FSReqCallback, FSReqPromise). */
function fileReadsInFlight(): number {
  return process.getActiveResourcesInfo().filter(resource => resource.startsWith('FSReq')).length;
}

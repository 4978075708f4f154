/**
 * How many invocations Lambda lets run at once, per account and Region, and how fast a function
 * may add execution environments. The Lambda runtime asks here before it starts an invocation;
 * an asynchronous event refused here is throttled and goes back to the queue (lambda.ts).
 *
 * Lambda developer guide:
 * - "Lambda quotas": concurrent executions, 1,000 per Region by default (can be raised).
 * - "Understanding Lambda function scaling" / "Configuring reserved concurrency": concurrency is
 *   the number of requests in flight; a function with reserved concurrency R never runs more than
 *   R at once and no other function can use those R; every function without a reservation shares
 *   the rest (the account limit minus all reservations), and Lambda keeps at least 100 of it
 *   unreserved ("you can reserve up to the unreserved account concurrency minus 100").
 * - "Lambda scaling behavior": each function can add at most 1,000 execution environments every
 *   10 seconds, refilled continuously, unused capacity not accumulated beyond 1,000.
 */
import { SeededRandom } from '../emulator/random';

/** "Lambda quotas": concurrent executions per account and Region, by default. */
export const DEFAULT_ACCOUNT_CONCURRENCY_LIMIT = 1000;

/**
 * "Configuring reserved concurrency": reservations must leave 100 unreserved. Accounts whose whole
 * limit is lower (new accounts start at 10 or 50) are told that very limit as the minimum, i.e.
 * they cannot reserve at all: the error text quoted in aws-samples/one-observability-demo#278
 * ("minimum value of [10]") and aws-samples/siem-on-amazon-opensearch-service#175 ("[50]").
 */
const MINIMUM_UNRESERVED = 100;

/** "Lambda scaling behavior": 1,000 new execution environments per function every 10 seconds. */
const SCALING_BURST = 1000;
const SCALING_REFILL_PER_MS = 1000 / 10_000;

/**
 * "How Lambda handles errors and retries with asynchronous invocation": a throttled event is
 * retried after an interval that grows exponentially from 1 second to at most 5 minutes.
 */
const THROTTLE_RETRY_FIRST_MS = 1000;
const THROTTLE_RETRY_MAX_MS = 5 * 60_000;
/**
 * The documentation gives no jitter; ±10 % (clamped to the documented 1 s .. 5 min) keeps
 * thousands of events throttled together from retrying in lockstep, as a real queue does not.
 */
const THROTTLE_RETRY_JITTER = 0.1;

/** A deployment Lambda refuses (what CloudFormation reports for the resource). */
export class LambdaDeploymentError extends Error {
  constructor(readonly functionName: string, readonly errorCode: string, readonly lambdaMessage: string) {
    super(`${functionName}: Resource handler returned message: "${lambdaMessage}" (Service: Lambda, Status Code: 400) (HandlerErrorCode: InvalidRequest)`);
    this.name = errorCode;
  }
}

/** Which pool an invocation's unit of concurrency came from (it goes back there when the invocation ends). */
export type ConcurrencyPool = 'reserved' | 'unreserved';

/** A change of a function's reservation, for `checkReservationChanges`: undefined removes it. */
export interface ReservationChange {
  readonly functionName: string;
  readonly reserved: number | undefined;
}

/** The account's concurrency: the limit, each function's reservation, what is in flight. */
export class AccountConcurrency {
  private readonly reservations = new Map<string, number>();
  private readonly inFlightByFunction = new Map<string, number>();
  private reservedTotal = 0;
  private unreservedInFlight = 0;

  constructor(readonly limit: number = DEFAULT_ACCOUNT_CONCURRENCY_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`the account concurrency limit must be a positive integer; got ${limit}`);
  }

  /** The unreserved pool: what functions without a reservation share. */
  get unreservedLimit(): number {
    return this.limit - this.reservedTotal;
  }

  /** Registers a function (at deployment), with its `ReservedConcurrentExecutions` if it has one (see `setReservation`). */
  addFunction(functionName: string, reserved: number | undefined): void {
    this.inFlightByFunction.set(functionName, this.inFlight(functionName));
    this.setReservation(functionName, reserved);
  }

  /**
   * PutFunctionConcurrency (a number) or DeleteFunctionConcurrency (undefined), as a deployment or
   * a stack update sets `ReservedConcurrentExecutions`. Refused as at the first deployment (see
   * `checkReservation`); nothing changes then. Invocations in flight keep running; the new
   * reservation bounds the ones that start from now.
   */
  setReservation(functionName: string, reserved: number | undefined): void {
    const others = this.reservedTotal - (this.reservations.get(functionName) ?? 0);
    if (reserved === undefined) {
      this.reservations.delete(functionName);
      this.reservedTotal = others;
      return;
    }
    this.checkReservation(functionName, reserved, others);
    this.reservations.set(functionName, reserved);
    this.reservedTotal = others + reserved;
  }

  /**
   * Checks a sequence of reservation changes, applied one after the other, as a stack update applies
   * them, without applying any: throws the first refusal.
   */
  checkReservationChanges(changes: readonly ReservationChange[]): void {
    const reservations = new Map(this.reservations);
    let total = this.reservedTotal;
    for (const { functionName, reserved } of changes) {
      const others = total - (reservations.get(functionName) ?? 0);
      if (reserved !== undefined) this.checkReservation(functionName, reserved, others);
      if (reserved === undefined) reservations.delete(functionName); else reservations.set(functionName, reserved);
      total = others + (reserved ?? 0);
    }
  }

  /** A deleted function: its reservation goes back to the unreserved pool; invocations in flight still release theirs. */
  removeFunction(functionName: string): void {
    this.setReservation(functionName, undefined);
  }

  /**
   * Refused as PutFunctionConcurrency refuses it (Lambda API reference: the value is at least 0;
   * InvalidParameterValueException when the unreserved pool would fall below its minimum), with
   * `reservedByOthers` reserved by the other functions.
   */
  private checkReservation(functionName: string, reserved: number, reservedByOthers: number): void {
    if (!Number.isInteger(reserved) || reserved < 0) {
      throw new LambdaDeploymentError(functionName, 'InvalidParameterValueException',
        `1 validation error detected: Value '${reserved}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0`);
    }
    const minimumUnreserved = Math.min(MINIMUM_UNRESERVED, this.limit);
    if (this.limit - (reservedByOthers + reserved) < minimumUnreserved) {
      throw new LambdaDeploymentError(functionName, 'InvalidParameterValueException',
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${minimumUnreserved}].`);
    }
  }

  /** The function's reservation, if it has one. */
  reservedFor(functionName: string): number | undefined {
    return this.reservations.get(functionName);
  }

  inFlight(functionName: string): number {
    return this.inFlightByFunction.get(functionName) ?? 0;
  }

  /**
   * Takes one unit of the function's pool for an invocation; undefined: none is left (throttled).
   * A reserved function counts every invocation of its own in flight against its reservation, also
   * ones that started from the unreserved pool before the reservation was set.
   */
  tryAcquire(functionName: string): ConcurrencyPool | undefined {
    const inFlight = this.inFlight(functionName);
    const reserved = this.reservations.get(functionName);
    let pool: ConcurrencyPool;
    if (reserved !== undefined) {
      if (inFlight >= reserved) return undefined;
      pool = 'reserved';
    } else {
      if (this.unreservedInFlight >= this.unreservedLimit) return undefined;
      this.unreservedInFlight++;
      pool = 'unreserved';
    }
    this.inFlightByFunction.set(functionName, inFlight + 1);
    return pool;
  }

  /** Gives back the unit an invocation held, to the pool it came from, once it ended (success, error, timeout or crash). */
  release(functionName: string, pool: ConcurrencyPool): void {
    const inFlight = this.inFlight(functionName);
    if (inFlight <= 0) throw new Error(`${functionName}: released more concurrency than it acquired`);
    this.inFlightByFunction.set(functionName, inFlight - 1);
    if (pool === 'unreserved') this.unreservedInFlight--;
  }
}

/** One function's concurrency scaling rate: a token bucket of new execution environments. */
export class ScalingRate {
  private tokens = SCALING_BURST;
  private refilledAt: number;

  constructor(now: number) {
    this.refilledAt = now;
  }

  /** Takes one new environment's worth of scaling capacity; false: the function scales too fast (throttled). */
  tryStartEnvironment(now: number): boolean {
    this.tokens = Math.min(SCALING_BURST, this.tokens + (now - this.refilledAt) * SCALING_REFILL_PER_MS);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

/** The wait before the `throttles`-th retry (1-based) of a throttled event. */
export function throttleRetryDelayMs(throttles: number, random: SeededRandom): number {
  const nominal = Math.min(THROTTLE_RETRY_MAX_MS, THROTTLE_RETRY_FIRST_MS * 2 ** Math.min(throttles - 1, 30));
  const jittered = nominal * random.between(1 - THROTTLE_RETRY_JITTER, 1 + THROTTLE_RETRY_JITTER);
  return Math.round(Math.min(THROTTLE_RETRY_MAX_MS, Math.max(THROTTLE_RETRY_FIRST_MS, jittered)));
}

/**
 * Virtual time for the whole process: the handler bundle and the AWS SDK inside it call the
 * global `setTimeout` and `Date`; this module points both at the SimClock, so an SDK retry
 * back-off, a handler's short wait and the Lambda timeout all pass in simulated time.
 *
 * `setImmediate` and `process.nextTick` stay real: the driver needs real event-loop turns to let
 * loopback I/O complete, and Node's own http stack uses internal timers that are untouched.
 */
import { AsyncResource } from 'async_hooks';
import { SimClock, TimerHandle } from '../clock';

/** What a virtual `setTimeout` returns: the subset of Node's `Timeout` that libraries call. */
export class VirtualTimeout {
  private static nextId = 1;
  private handle: TimerHandle | undefined;
  private referenced = true;
  private readonly id = VirtualTimeout.nextId++;

  constructor(
    private readonly clock: SimClock,
    private readonly callback: () => void,
    private readonly delayMs: number,
    private readonly repeat: boolean,
  ) {
    this.schedule();
  }

  ref(): this { this.referenced = true; return this; }
  unref(): this { this.referenced = false; return this; }
  hasRef(): boolean { return this.referenced; }
  /** Restarts the timer from now, as Node's `timeout.refresh()` does. */
  refresh(): this { this.cancel(); this.schedule(); return this; }
  close(): this { this.cancel(); return this; }
  cancel(): void { this.handle?.cancel(); this.handle = undefined; }
  [Symbol.toPrimitive](): number { return this.id; }

  private schedule(): void {
    this.handle = this.clock.after(this.delayMs, () => {
      if (this.repeat) this.schedule(); else this.handle = undefined;
      this.callback();
    });
  }
}

export interface VirtualTimeOptions {
  /**
   * Called when a timer callback throws. Node would crash the process on such an uncaught
   * exception; the Lambda runtime turns it into a failed invocation instead. Default: rethrow on
   * the next real tick, so the error is not swallowed.
   */
  readonly onTimerError?: (error: unknown) => void;
  /** Called in the caller's async context whenever a timer is set (the Lambda runtime: an invocation now waits on virtual time). */
  readonly onTimerSet?: () => void;
}

/** Replaces the global timers and `Date`; returns the function that restores the real ones. */
export function installVirtualTime(clock: SimClock, options: VirtualTimeOptions = {}): () => void {
  const g = globalThis as any;
  const real = {
    setTimeout: g.setTimeout,
    clearTimeout: g.clearTimeout,
    setInterval: g.setInterval,
    clearInterval: g.clearInterval,
    Date: g.Date as DateConstructor,
  };
  const reportError = options.onTimerError ?? ((error: unknown) => process.nextTick(() => { throw error; }));
  // Keyed by numeric id too: some code stores `+timeout` and clears by number.
  const byId = new Map<number, VirtualTimeout>();

  const start = (repeat: boolean) => (fn: unknown, delay?: number, ...args: unknown[]) => {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    // Timers run from the driver's stack: bind the caller's async context so AsyncLocalStorage
    // (the Lambda runtime's invocation id) follows the callback, as it does with real timers.
    // The error is reported inside that context too, so the Lambda runtime knows whose it is.
    // (An `AsyncResource` entered with `runInAsyncScope`, not `AsyncResource.bind` nor
    // `AsyncLocalStorage.snapshot`: in Node 20 both build two `util.deprecate` wrappers per call
    // (the bound function's `asyncResource` accessors), which cost a sixth of a large run's CPU.)
    const resource = new AsyncResource('VirtualTimeout');
    const call = () => {
      try { fn(...args); } catch (error) { reportError(error); }
    };
    const bound = () => resource.runInAsyncScope(call);
    let timeout: VirtualTimeout;
    const run = () => {
      if (!repeat) byId.delete(+timeout);
      bound();
    };
    // Node treats a delay that is not a number, negative or > 2^31-1 as 1 ms.
    const ms = typeof delay === 'number' && delay >= 1 && delay <= 0x7fffffff ? delay : 1;
    timeout = new VirtualTimeout(clock, run, ms, repeat);
    byId.set(+timeout, timeout);
    options.onTimerSet?.();
    return timeout;
  };
  const clear = (timer: unknown) => {
    const timeout = timer instanceof VirtualTimeout ? timer : byId.get(Number(timer));
    if (!timeout) return;
    timeout.cancel();
    byId.delete(+timeout);
  };

  g.setTimeout = start(false);
  g.setInterval = start(true);
  g.clearTimeout = clear;
  g.clearInterval = clear;
  g.Date = virtualDate(real.Date, clock);

  return () => {
    Object.assign(g, real);
    for (const timeout of byId.values()) timeout.cancel();
    byId.clear();
  };
}

/**
 * A `Date` whose "now" is the clock's. A subclass keeps `instanceof Date`, `Date.UTC`,
 * `Date.parse` and every constructor with arguments working exactly as before.
 */
function virtualDate(RealDate: DateConstructor, clock: SimClock): DateConstructor {
  class VirtualDate extends RealDate {
    static now(): number { return clock.now(); }
    constructor(...args: any[]) {
      if (args.length === 0) super(clock.now());
      else super(...(args as [any]));
    }
  }
  // `Date()` called without `new` returns a string of the current time.
  return new Proxy(VirtualDate, {
    apply: () => new RealDate(clock.now()).toString(),
  }) as unknown as DateConstructor;
}

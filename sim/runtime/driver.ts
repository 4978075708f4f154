/**
 * Moves virtual time forward, but only when the process is quiescent: every piece of real work
 * that virtual time depends on (a request on its way over loopback, a response being parsed by
 * the SDK, a handler computing its next call) has finished. Otherwise a 100 ms response latency
 * could let a 60 s schedule fire first, and the simulation would lie about ordering.
 */
import { SimClock } from '../clock';

/** Something whose real-time work must settle before virtual time moves. */
export interface ActivityProbe {
  /** Units of work in flight that will finish without time moving (a request not answered yet). */
  readonly busy: number;
  /** A counter bumped on every observable step (request received, response sent, ...). */
  readonly activity: number;
  /** Work that may still produce activity after a pause of a few event-loop turns (invocations). */
  readonly running?: number;
  /**
   * A counter bumped on the steps after which running work may continue unseen for several
   * event-loop turns (a response read to its end, an invocation started). Only after such a step
   * does the driver wait `quietTurnsWhileRunning`; otherwise `quietTurnsAfterColdStep`.
   * A probe without it counts every step as hot.
   */
  readonly hotActivity?: number;
}

export interface DriverOptions {
  /**
   * Consecutive quiet `setImmediate` turns required while something runs. The SDK needs a few
   * turns between a response's last byte and its next request (stream end, promise chain, signing),
   * and a fresh loopback TCP connection a couple more.
   * @default 12
   */
  readonly quietTurnsWhileRunning?: number;
  /** Quiet turns required when nothing runs (only timers are left). @default 1 */
  readonly quietTurnsWhenIdle?: number;
  /**
   * Quiet turns required while something runs but no hot step (see `ActivityProbe.hotActivity`)
   * happened since the settle began: e.g. a timer fired that only moved the emulator's world, or
   * a request went out and its answer waits on the clock. @default 3
   */
  readonly quietTurnsAfterColdStep?: number;
}

export interface RunOptions {
  /** Stop (and report `reason: 'limit'`) once this much simulated time has passed. */
  readonly maxSimMs: number;
}

export interface RunResult {
  /** `done`: the predicate held; `limit`: maxSimMs reached; `idle`: no timer left and nothing running. */
  readonly reason: 'done' | 'limit' | 'idle';
  readonly simulatedMs: number;
  readonly advances: number;
}


export class Driver {
  /** Event-loop turns spent waiting for quiescence, and steps of virtual time, since the start (for the bench). */
  readonly counters = { turns: 0, advances: 0 };
  private readonly quietTurnsWhileRunning: number;
  private readonly quietTurnsWhenIdle: number;
  private readonly quietTurnsAfterColdStep: number;

  constructor(
    private readonly clock: SimClock,
    private readonly probes: ActivityProbe[],
    options: DriverOptions = {},
  ) {
    this.quietTurnsWhileRunning = options.quietTurnsWhileRunning ?? 12;
    this.quietTurnsWhenIdle = options.quietTurnsWhenIdle ?? 1;
    this.quietTurnsAfterColdStep = Math.min(options.quietTurnsAfterColdStep ?? 3, this.quietTurnsWhileRunning);
  }

  /** Adds a probe (the Lambda runtime registers itself once it exists). */
  addProbe(probe: ActivityProbe): void {
    this.probes.push(probe);
  }

  /**
   * Resolves once nothing is busy and no activity happened for enough turns. One callback per
   * `setImmediate` turn, not a promise per turn: with AsyncLocalStorage's hooks on, every promise
   * costs hook work, and a 1,000-instance run spins millions of turns.
   */
  settle(): Promise<void> {
    return new Promise<void>(resolve => {
      let quiet = 0;
      let last = this.activity();
      const hotAtStart = this.hotActivity();
      const turn = () => {
        this.counters.turns++;
        const now = this.activity();
        if (this.busy() > 0 || now !== last) {
          quiet = 0;
          last = now;
          setImmediate(turn);
          return;
        }
        quiet++;
        const needed = this.running() === 0 ? this.quietTurnsWhenIdle
          : this.hotActivity() !== hotAtStart ? this.quietTurnsWhileRunning : this.quietTurnsAfterColdStep;
        if (quiet >= needed) resolve();
        else setImmediate(turn);
      };
      setImmediate(turn);
    });
  }

  /** Advances virtual time timer by timer until `done()` holds, the limit is reached or nothing is left. */
  async runUntil(done: () => boolean, options: RunOptions): Promise<RunResult> {
    const startedAt = this.clock.now();
    const limit = startedAt + options.maxSimMs;
    let advances = 0;
    const result = (reason: RunResult['reason']): RunResult =>
      ({ reason, simulatedMs: this.clock.now() - startedAt, advances });
    for (;;) {
      await this.settle();
      if (done()) return result('done');
      const next = this.clock.nextAt();
      if (next === undefined) {
        if (this.running() === 0) return result('idle');
        // Something runs but set no timer: it waits on real I/O; keep settling.
        continue;
      }
      if (next > limit) return result('limit');
      this.clock.advance();
      advances++;
      this.counters.advances++;
    }
  }

  /** Runs for a fixed span of simulated time (timers due at its end included). */
  async runFor(ms: number): Promise<RunResult> {
    const until = this.clock.now() + ms;
    // A marker timer guarantees time reaches `until` even when nothing else is scheduled.
    let reached = false;
    this.clock.at(until, () => { reached = true; });
    return this.runUntil(() => reached, { maxSimMs: ms + 1 });
  }

  private busy(): number {
    let sum = 0;
    for (const p of this.probes) sum += p.busy;
    return sum;
  }

  private running(): number {
    let sum = 0;
    for (const p of this.probes) sum += p.running ?? 0;
    return sum;
  }

  private hotActivity(): number {
    let sum = 0;
    for (const p of this.probes) sum += p.hotActivity ?? p.activity;
    return sum;
  }

  private activity(): number {
    let sum = 0;
    for (const p of this.probes) sum += p.activity;
    return sum;
  }
}

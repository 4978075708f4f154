/**
 * Virtual time for the emulator, the EventBridge/Lambda runtime and the handler under test.
 *
 * Simulated time only moves when the driver calls `advance()`: a 45-minute drain of 1,000
 * instances runs in seconds of real time, and every duration (deregistration delay, heartbeat
 * timeout, schedule period, SDK retry back-off) is scaled alike because none of them is real.
 */
export interface TimerHandle {
  cancel(): void;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** The simulation's epoch: 2026-11-28T10:00:00Z, like the sample events in shared/events. */
export const SIM_EPOCH_MS = Date.UTC(2026, 10, 28, 10, 0, 0);

export class SimClock {
  private current: number;
  private seq = 0;
  // A binary min-heap ordered by (at, seq): timers due at the same instant run in the order set.
  private readonly heap: Timer[] = [];

  constructor(startMs: number = SIM_EPOCH_MS) {
    this.current = startMs;
  }

  /** Milliseconds since the Unix epoch, in simulated time. */
  now(): number {
    return this.current;
  }

  /** Runs `fn` at simulated time `atMs` (or at once, on the next advance, if that has passed). */
  at(atMs: number, fn: () => void): TimerHandle {
    const timer: Timer = { at: Math.max(atMs, this.current), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Runs `fn` after `delayMs` of simulated time. */
  after(delayMs: number, fn: () => void): TimerHandle {
    return this.at(this.current + Math.max(0, delayMs), fn);
  }

  /** The simulated time of the next live timer, or undefined when none is set. */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** How many live timers are set. */
  get pending(): number {
    return this.heap.filter(t => !t.cancelled).length;
  }

  /**
   * Moves time to the next timer and runs every timer due then.
   * Returns false when no timer is left.
   */
  advance(): boolean {
    const next = this.nextAt();
    if (next === undefined) return false;
    this.current = Math.max(this.current, next);
    while (this.heap.length > 0 && this.heap[0].at <= this.current) {
      const timer = this.pop()!;
      if (!timer.cancelled) timer.fn();
    }
    return true;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = Math.floor((i - 1) / 2);
      if (!earlier(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && earlier(heap[left], heap[smallest])) smallest = left;
        if (right < heap.length && earlier(heap[right], heap[smallest])) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest], heap[i]];
        i = smallest;
      }
    }
    return top;
  }
}

function earlier(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

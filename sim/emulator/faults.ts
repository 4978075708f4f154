import { SeededRandom } from './random';

export interface FaultOptions {
  /** Fraction (0..1) of API calls answered with a 5xx (ECS ServerException, Auto Scaling InternalFailure). */
  errorRate?: number;
  /** [min, max] response latency in virtual milliseconds, drawn per request. */
  latencyMs?: [number, number];
}

/** Decides, from the seeded PRNG, which calls fail and how long answers take. */
export class FaultInjector {
  constructor(private readonly random: SeededRandom, public options: FaultOptions = {}) {}

  shouldFail(): boolean {
    return this.random.chance(this.options.errorRate ?? 0);
  }

  latency(): number {
    const [min, max] = this.options.latencyMs ?? [0, 0];
    if (max <= 0) return 0;
    return Math.round(this.random.between(min, max));
  }
}

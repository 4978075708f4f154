/** The bench invokes the baseline once with `{ [WARM_UP]: true }` during the setup (see case.ts). */
export const WARM_UP = 'bench-warm-up';

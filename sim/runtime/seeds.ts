/**
 * One `--seed` drives several independent random streams (world, EventBridge faults, Lambda
 * faults, scenario choices), so that turning one fault on does not shift another's choices.
 */
export function deriveSeed(seed: number, stream: number): number {
  return (seed * 1_000_003 + stream * 7_919) % 4_294_967_296;
}

/** What the sim commands (simulate, bench, chaos) share: option parsing, output, exit codes. */

export function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer; got ${value}`);
  return n;
}

/**
 * The command's arguments without the `--` that `npx projen <task> -- --option value` passes on
 * (projen hands everything after its own options to the task's command, the separator included).
 */
export function commandArgs(argv: readonly string[] = process.argv.slice(2)): string[] {
  return argv.filter(arg => arg !== '--');
}

/**
 * The command's own output goes straight to stdout: the handler's console is captured per
 * invocation while a simulation runs.
 */
export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs a command's main: its result is the exit code; an exception prints its stack and exits 2. */
export function runCommand(name: string, main: () => Promise<number>): void {
  main().then(code => { process.exitCode = code; }, error => {
    process.stderr.write(`${name}: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 2;
  });
}

/**
 * Runs one bench case in this process and prints its result as the last line:
 * `CASE_RESULT <json>`. bench.ts starts one of these per case.
 *
 *   node -r ts-node/register/transpile-only sim/bench/worker.ts '<CaseSpec as JSON>'
 */
import { CaseSpec, runCase } from './case';

runCase(JSON.parse(process.argv[2]) as CaseSpec).then(result => {
  process.stdout.write(`CASE_RESULT ${JSON.stringify(result)}\n`);
}, error => {
  process.stderr.write(`bench worker: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 2;
});

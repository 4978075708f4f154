/**
 * New AWS accounts often start with a Lambda concurrency quota of 10 or 50, and Lambda keeps 100
 * units unreserved (Lambda developer guide, "Configuring reserved concurrency"): there, a template
 * that reserves any concurrency fails to deploy, and the stack rolls back with the user's groups
 * in it. The default drain hook must deploy, and drain, in such an account.
 */
import { synthesizeExample, withSimulation } from './support';
import { summarize } from '../../sim/runtime/report';
import { runScenario } from '../../sim/runtime/scenario';

let assembly: string;

beforeAll(() => {
  assembly = synthesizeExample();
}, 60_000);

test.each([10, 50])('the default example deploys in an account whose concurrency quota is %i, and drains every instance there', async limit => {
  const summary = await withSimulation(assembly, { seed: 3, lambdaAccountConcurrencyLimit: limit }, async sim => {
    const run = await runScenario(sim, { scenario: 'plain', instances: 4, seed: 3 });
    expect(run.outcome).toBe('done');
    return summarize(sim, run);
  });

  expect(summary).toMatchObject({ instances: 4, drained: 4, premature: 0, forced: 0, lostActions: 0 });
});

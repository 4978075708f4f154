/**
 * Conformance of the Lambda runtime's timeout with the Lambda developer guide ("How Lambda handles
 * errors and retries with asynchronous invocation"): a timeout is a function error, retried like
 * any other, one and then two minutes later, up to MaximumRetryAttempts, then the on-failure
 * record with condition RetriesExhausted ("Capturing records of Lambda asynchronous
 * invocations"). The code of a timed-out invocation may still be running in this process; in
 * Lambda its environment is gone, so nothing it does afterwards may reach AWS, fail another
 * invocation, or hold concurrency.
 */
import { stubAssembly } from './stub-functions';
import { withSimulation } from './support';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * Outlives its 10 s timeout by 5 s; then calls Auto Scaling and throws from a timer. An answer to
 * the late call would be counted in `globalThis.lateAnswers`.
 */
const OVERSTAYER = `
const { AutoScalingClient, DescribeAutoScalingGroupsCommand } = require(${JSON.stringify(require.resolve('@aws-sdk/client-auto-scaling'))});
const client = new AutoScalingClient({ maxAttempts: 1 });
exports.handler = async () => {
  await new Promise(resolve => setTimeout(resolve, 15000));
  client.send(new DescribeAutoScalingGroupsCommand({}))
    .then(() => { globalThis.lateAnswers = (globalThis.lateAnswers ?? 0) + 1; }, () => undefined);
  setTimeout(() => { throw new Error('thrown after the timeout'); }, 1000);
};`;

afterEach(() => { delete (globalThis as { lateAnswers?: number }).lateAnswers; });

test('a timeout is a function error: retried after one and then two minutes, then recorded as RetriesExhausted', async () => {
  // One unit of reserved concurrency: each retry needs the unit the timed-out code never gave back itself.
  const dir = stubAssembly([{ id: 'Fn', code: OVERSTAYER, timeoutSeconds: 10, reservedConcurrentExecutions: 1, maximumRetryAttempts: 2 }]);
  await withSimulation(dir, { lambdaAccountConcurrencyLimit: 101 }, async sim => {
    const requestId = sim.lambda.invokeAsync('Stub-Fn', { key: 'value' });
    await sim.runUntil(() => sim.lambda.failures.length > 0, 30 * MINUTE);
    // Let the last attempt's leftover code run its course too.
    await sim.runFor(MINUTE);

    const attempts = sim.lambda.invocations;
    expect(attempts.map(r => [r.requestId, r.attempt, r.outcome, r.errorType])).toEqual([
      [requestId, 1, 'timeout', 'Sandbox.Timedout'],
      [requestId, 2, 'timeout', 'Sandbox.Timedout'],
      [requestId, 3, 'timeout', 'Sandbox.Timedout'],
    ]);
    for (const attempt of attempts) expect(attempt.endedAt! - attempt.startedAt).toBe(10 * SECOND);
    expect(attempts[1].startedAt - attempts[0].endedAt!).toBe(MINUTE);
    expect(attempts[2].startedAt - attempts[1].endedAt!).toBe(2 * MINUTE);
    expect(sim.lambda.failures).toEqual([expect.objectContaining({
      requestContext: expect.objectContaining({ requestId, condition: 'RetriesExhausted', approximateInvokeCount: 3 }),
      requestPayload: { key: 'value' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 10.00 seconds' },
    })]);

    // What each timed-out attempt did afterwards stayed its own and went nowhere: its one late
    // call is on its own record, the emulator never answered (nor counted) it, and its late
    // throw failed nothing.
    expect(attempts.map(r => r.awsCalls)).toEqual([1, 1, 1]);
    expect(sim.emulator.stats.calls['autoscaling:DescribeAutoScalingGroups']).toBeUndefined();
    expect((globalThis as { lateAnswers?: number }).lateAnswers).toBeUndefined();
    expect(sim.lambda.stats('Stub-Fn')).toMatchObject({ invocations: 3, timeouts: 3, errors: 0, throttles: 0 });
  });
});

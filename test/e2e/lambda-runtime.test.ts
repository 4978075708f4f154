/**
 * The Lambda runtime's own semantics, on a stub function in a hand-written cloud assembly:
 * virtual time inside the handler, the timeout, retries one then two minutes apart, the
 * on-failure record, and requests of a timed-out invocation that never get answered.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { withSimulation } from './support';
import { SIM_EPOCH_MS } from '../../sim/clock';

const STUB = `
exports.handler = async (event, context) => {
  const started = Date.now();
  console.log(JSON.stringify({ msg: 'start', now: new Date().toISOString(), remaining: context.getRemainingTimeInMillis() }));
  await new Promise(resolve => setTimeout(resolve, event.sleepMs ?? 0));
  console.log(JSON.stringify({ msg: 'slept', ms: Date.now() - started }));
  if (event.fail) throw new Error('boom');
  return 'ok';
};`;

/** A minimal cloud assembly: one stack with one function and its EventInvokeConfig. */
function stubAssembly(retries: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-lambda-test-'));
  fs.mkdirSync(path.join(dir, 'asset.stub'));
  fs.writeFileSync(path.join(dir, 'asset.stub', 'index.js'), STUB);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '55.0.0',
    artifacts: { Stub: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Stub.template.json' } } },
  }));
  fs.writeFileSync(path.join(dir, 'Stub.template.json'), JSON.stringify({
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Metadata: { 'aws:asset:path': 'asset.stub' },
        Properties: {
          Handler: 'index.handler',
          Runtime: 'nodejs22.x',
          Timeout: 10,
          Environment: { Variables: { STAGE: { 'Fn::Sub': '${AWS::Region}-test' } } },
          Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] },
        },
      },
      // AWS::Lambda::Function requires a Role; the stub calls no AWS API, so it needs no policy.
      FnRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
      Config: {
        Type: 'AWS::Lambda::EventInvokeConfig',
        Properties: { FunctionName: { Ref: 'Fn' }, Qualifier: '$LATEST', MaximumRetryAttempts: retries },
      },
    },
  }));
  return dir;
}

test('the handler lives in virtual time: Date, setTimeout and the remaining time are simulated', async () => {
  await withSimulation(stubAssembly(0), {}, async sim => {
    sim.lambda.invokeAsync('Stub-Fn', { sleepMs: 4_000 });
    await sim.runUntil(() => sim.lambda.invocations.some(i => i.outcome), 60_000);

    const [invocation] = sim.lambda.invocations;
    expect(invocation.outcome).toBe('success');
    expect(invocation.endedAt! - invocation.startedAt).toBe(4_000);
    const start = JSON.parse(invocation.logs[0]);
    expect(Date.parse(start.now)).toBeGreaterThanOrEqual(SIM_EPOCH_MS);
    expect(start.remaining).toBe(10_000);
    expect(JSON.parse(invocation.logs[1]).ms).toBe(4_000);
    expect(sim.lambda.stats('Stub-Fn')).toMatchObject({ invocations: 1, errors: 0, busyMs: 4_000 });
  });
});

test('a failing event is retried after one and then two minutes, then recorded for the on-failure destination', async () => {
  await withSimulation(stubAssembly(2), {}, async sim => {
    sim.lambda.invokeAsync('Stub-Fn', { fail: true });
    await sim.runUntil(() => sim.lambda.failures.length > 0, 10 * 60_000);

    const starts = sim.lambda.invocations.map(i => i.startedAt);
    expect(sim.lambda.invocations.map(i => i.attempt)).toEqual([1, 2, 3]);
    expect(starts[1] - sim.lambda.invocations[0].endedAt!).toBe(60_000);
    expect(starts[2] - sim.lambda.invocations[1].endedAt!).toBe(120_000);
    expect(sim.lambda.failures[0]).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { fail: true },
      responsePayload: { errorType: 'Error', errorMessage: 'boom' },
    });
  });
});

test('the timeout fails the invocation in virtual time and counts as a function error', async () => {
  await withSimulation(stubAssembly(0), {}, async sim => {
    sim.lambda.invokeAsync('Stub-Fn', { sleepMs: 60_000 });
    await sim.runUntil(() => sim.lambda.failures.length > 0, 10 * 60_000);

    const [invocation] = sim.lambda.invocations;
    expect(invocation.outcome).toBe('timeout');
    expect(invocation.endedAt! - invocation.startedAt).toBe(10_000);
    expect(invocation.errorMessage).toBe('Task timed out after 10.00 seconds');
    // The handler's output after the timeout is lost, as in Lambda.
    expect(invocation.logs.some(l => l.includes('slept'))).toBe(false);
  });
});

test('the template environment, resolved, is what the handler sees', async () => {
  const dir = stubAssembly(0);
  fs.writeFileSync(path.join(dir, 'asset.stub', 'index.js'),
    'exports.handler = async () => { console.log(process.env.STAGE, process.env.AWS_REGION, process.env.AWS_ENDPOINT_URL_ECS); };');
  await withSimulation(dir, {}, async sim => {
    sim.lambda.invokeAsync('Stub-Fn', {});
    await sim.runUntil(() => sim.lambda.invocations.some(i => i.outcome), 60_000);
    expect(sim.lambda.invocations[0].logs[0]).toMatch(/^us-east-1-test us-east-1 http:\/\/127\.0\.0\.1:\d+$/);
  });
});

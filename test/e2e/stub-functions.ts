/**
 * Hand-written cloud assemblies of small stub functions, for the Lambda runtime's conformance
 * tests: one stack, each function with its own code, timeout, reserved concurrency and
 * EventInvokeConfig, as `cdk synth` would write them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InvocationRecord } from '../../sim/runtime/lambda';

export const STUB_STACK = 'Stub';

/** Sleeps `event.sleepMs` of virtual time, then fails if `event.fail`. */
export const SLEEPER = `
exports.handler = async event => {
  await new Promise(resolve => setTimeout(resolve, event.sleepMs ?? 0));
  if (event.fail) throw new Error('boom');
  return 'ok';
};`;

export interface StubFunction {
  /** Logical id; the function's name is `Stub-<id>`. */
  readonly id: string;
  /** The handler module (`index.handler`). @default SLEEPER */
  readonly code?: string;
  /** @default 900 */
  readonly timeoutSeconds?: number;
  readonly reservedConcurrentExecutions?: number;
  readonly maximumRetryAttempts?: number;
  readonly maximumEventAgeSeconds?: number;
}

/** Writes the assembly to a fresh temporary directory and returns it. */
export function stubAssembly(functions: StubFunction[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-lambda-stubs-'));
  const resources: Record<string, unknown> = {};
  for (const fn of functions) {
    const asset = `asset.${fn.id}`;
    fs.mkdirSync(path.join(dir, asset));
    fs.writeFileSync(path.join(dir, asset, 'index.js'), fn.code ?? SLEEPER);
    resources[fn.id] = {
      Type: 'AWS::Lambda::Function',
      Metadata: { 'aws:asset:path': asset },
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Timeout: fn.timeoutSeconds ?? 900,
        ...(fn.reservedConcurrentExecutions !== undefined ? { ReservedConcurrentExecutions: fn.reservedConcurrentExecutions } : {}),
        Role: { 'Fn::GetAtt': ['StubRole', 'Arn'] },
      },
    };
    // AWS::Lambda::Function requires a Role; the stubs call no AWS API, so it needs no policy.
    resources.StubRole = { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } };
    if (fn.maximumRetryAttempts !== undefined || fn.maximumEventAgeSeconds !== undefined) {
      resources[`${fn.id}Config`] = {
        Type: 'AWS::Lambda::EventInvokeConfig',
        Properties: {
          FunctionName: { Ref: fn.id },
          Qualifier: '$LATEST',
          ...(fn.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: fn.maximumRetryAttempts } : {}),
          ...(fn.maximumEventAgeSeconds !== undefined ? { MaximumEventAgeInSeconds: fn.maximumEventAgeSeconds } : {}),
        },
      };
    }
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '55.0.0',
    artifacts: { [STUB_STACK]: { type: 'aws:cloudformation:stack', properties: { templateFile: `${STUB_STACK}.template.json` } } },
  }));
  fs.writeFileSync(path.join(dir, `${STUB_STACK}.template.json`), JSON.stringify({ Resources: resources }));
  return dir;
}

/**
 * The most invocations that were running at the same virtual time, from their records alone (an
 * invocation that ends frees its place before one that starts at the same instant).
 */
export function peakOverlap(invocations: readonly InvocationRecord[]): number {
  const edges: Array<[number, number]> = [];
  for (const i of invocations) {
    edges.push([i.startedAt, 1]);
    edges.push([i.endedAt ?? Number.POSITIVE_INFINITY, -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, step] of edges) {
    running += step;
    peak = Math.max(peak, running);
  }
  return peak;
}

/**
 * Hand-written cloud assemblies with SQS queues, queue policies, event source mappings and stub
 * functions, as `cdk synth` writes them (the shapes of aws-cdk-lib's `sqs.Queue`,
 * `lambda_event_sources.SqsEventSource` and `events_targets.SqsQueue`, see test/sim/sqs.test.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const APP_STACK = 'App';
export const ACCOUNT = '123456789012';
export const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;

/**
 * Handles a batch of messages whose bodies are JSON: sleeps the longest `sleepMs`, throws if one
 * says `fail`, returns an invalid partial batch response if one says `invalid`, else reports the
 * messages that say `failItem` (bodies that are not JSON objects, EventBridge events, succeed).
 */
export const BATCH_HANDLER = `
exports.handler = async event => {
  const bodies = event.Records.map(r => { try { return JSON.parse(r.body); } catch { return {}; } });
  const sleep = Math.max(0, ...bodies.map(b => b.sleepMs ?? 0));
  await new Promise(resolve => setTimeout(resolve, sleep));
  if (bodies.some(b => b.fail)) throw new Error('boom');
  if (bodies.some(b => b.invalid)) return { batchItemFailures: [{ itemIdentifier: '' }] };
  return { batchItemFailures: event.Records.filter((r, i) => bodies[i].failItem).map(r => ({ itemIdentifier: r.messageId })) };
};`;

/** Writes one stack `App` with these resources and function assets (directory name → handler code). */
export function sqsAssembly(resources: Record<string, unknown>, assets: Record<string, string> = { 'asset.Fn': BATCH_HANDLER }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqs-assembly-'));
  for (const [asset, source] of Object.entries(assets)) {
    fs.mkdirSync(path.join(dir, asset));
    fs.writeFileSync(path.join(dir, asset, 'index.js'), source);
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '36.0.0',
    artifacts: { [APP_STACK]: { type: 'aws:cloudformation:stack', properties: { templateFile: `${APP_STACK}.template.json` } } },
  }));
  fs.writeFileSync(path.join(dir, `${APP_STACK}.template.json`), JSON.stringify({ Resources: resources }));
  return dir;
}

export function queue(name: string, props: Record<string, unknown> = {}) {
  return { Type: 'AWS::SQS::Queue', Properties: { QueueName: name, ...props } };
}

/** A function (name `Stub-<asset suffix>`... set FunctionName) with the role `Role`. */
export function fn(name: string, props: Record<string, unknown> = {}, asset = 'asset.Fn') {
  return {
    Type: 'AWS::Lambda::Function',
    Metadata: { 'aws:asset:path': asset },
    Properties: {
      FunctionName: name, Handler: 'index.handler', Runtime: 'nodejs22.x', Timeout: 30, Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, ...props,
    },
  };
}

export const ROLE = { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } };

/** The statement `SqsEventSource` grants the function's role on the queue (`queueId` a logical ID). */
export function consumePolicy(queueIds: string[], actions = ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
  return {
    Type: 'AWS::IAM::Policy',
    Properties: {
      PolicyName: 'RoleDefaultPolicy',
      Roles: [{ Ref: 'Role' }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: actions, Resource: queueIds.map(id => ({ 'Fn::GetAtt': [id, 'Arn'] })) }],
      },
    },
  };
}

export function mapping(queueId: string, functionId: string, props: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Lambda::EventSourceMapping',
    Properties: { EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] }, FunctionName: { Ref: functionId }, ...props },
  };
}

/** The queue policy `events_targets.SqsQueue` adds: events.amazonaws.com may send, from these rules only. */
export function eventsPolicy(queueId: string, ruleIds: string[], extraStatements: unknown[] = []) {
  return {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          ...extraStatements,
          ...ruleIds.map(ruleId => ({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
          })),
        ],
      },
    },
  };
}

/** `enforceSSL: true`: deny every call that does not come over TLS. */
export function denyInsecure(queueId: string) {
  return {
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'sqs:*',
    Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

/** A rule matching `source` events with the queue as its target. */
export function queueRule(queueId: string, source: string, target: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      EventPattern: { source: [source] },
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] }, Id: 'Target0', ...target }],
    },
  };
}

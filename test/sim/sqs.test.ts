/**
 * Amazon SQS standard queues in virtual time (sim/runtime/sqs.ts, each rule with its page of the
 * Amazon SQS developer guide), resource-based policies (sim/emulator/iam/resource-policy.ts, IAM
 * user guide), the partial batch response rules ("Implementing partial batch responses"), and what
 * aws-cdk-lib synthesizes for queues, SqsEventSource and SqsQueue targets, read as the simulation
 * reads it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack, aws_events as cdkEvents, aws_events_targets as targets, aws_iam as iam, aws_lambda as lambda, aws_sqs as cdkSqs } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { SimClock } from '../../sim/clock';
import { parsePolicy } from '../../sim/emulator/iam/policy';
import { decideAccess, parseResourcePolicy, RequestPrincipal } from '../../sim/emulator/iam/resource-policy';
import { loadAssembly, QueueSpec } from '../../sim/runtime/assembly';
import { Sqs, SqsError, SqsOptions } from '../../sim/runtime/sqs';
import { reportedFailures } from '../../sim/runtime/sqs-event-source';

const SECOND = 1000;
const ACCOUNT = '123456789012';
const arn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;

function spec(name: string, props: Partial<QueueSpec> = {}): QueueSpec {
  return {
    stackName: 'App',
    logicalId: name,
    name,
    arn: arn(name),
    url: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${name}`,
    visibilityTimeoutSeconds: 30,
    messageRetentionSeconds: 345_600,
    delaySeconds: 0,
    ...props,
  };
}

function setup(options: Partial<SqsOptions> = {}, ...queues: QueueSpec[]) {
  const clock = new SimClock();
  const sqs = new Sqs({ clock, ...options });
  for (const q of queues.length > 0 ? queues : [spec('work')]) sqs.createQueue(q);
  const send = (body: string, name = 'work') => sqs.sendMessage(arn(name), body, { senderId: 'tester' }).messageId;
  const receive = (max = 10, name = 'work', visibilityTimeoutSeconds?: number) => sqs.receiveMessage(arn(name), { maxMessages: max, visibilityTimeoutSeconds });
  const advanceBy = (ms: number) => {
    const until = clock.now() + ms;
    clock.at(until, () => undefined);
    while ((clock.nextAt() ?? Infinity) <= until) clock.advance();
  };
  return { clock, sqs, send, receive, advanceBy };
}

describe('ReceiveMessage, visibility timeout, DeleteMessage ("Amazon SQS visibility timeout", API reference)', () => {
  test('at most 10 per receive, oldest first; received messages are hidden, counted in flight', () => {
    const { sqs, send, receive } = setup();
    const ids = Array.from({ length: 25 }, (_, i) => send(`m${i}`));
    expect(() => receive(11)).toThrow(SqsError);
    const first = receive(10);
    expect(first.map(m => m.messageId)).toEqual(ids.slice(0, 10));
    expect(receive(10).map(m => m.body)).toEqual(ids.slice(10, 20).map((_, i) => `m${i + 10}`));
    expect(sqs.stats(arn('work'))).toMatchObject({ sent: 25, received: 20, visible: 5, inFlight: 20 });
  });

  test('a message not deleted is visible again after the visibility timeout: ApproximateReceiveCount 2, first receive time kept', () => {
    const { clock, send, receive, advanceBy } = setup();
    send('hello');
    const sentAt = clock.now();
    const [first] = receive();
    expect(first.attributes).toEqual({
      ApproximateReceiveCount: '1', SentTimestamp: String(sentAt), SenderId: 'tester', ApproximateFirstReceiveTimestamp: String(sentAt),
    });
    expect(first.md5OfBody).toBe('5d41402abc4b2a76b9719d911017c592');
    advanceBy(29 * SECOND);
    expect(receive()).toEqual([]);
    advanceBy(SECOND);
    const [again] = receive();
    expect(again.messageId).toBe(first.messageId);
    expect(again.receiptHandle).not.toBe(first.receiptHandle);
    expect(again.attributes).toMatchObject({ ApproximateReceiveCount: '2', ApproximateFirstReceiveTimestamp: String(sentAt) });
  });

  test('the receive\'s own visibility timeout wins; ChangeMessageVisibility 0 makes it visible at once', () => {
    const { sqs, send, receive, advanceBy } = setup();
    send('x');
    const [m] = receive(1, 'work', 5);
    advanceBy(5 * SECOND);
    const [again] = receive();
    expect(again.messageId).toBe(m.messageId);
    sqs.changeMessageVisibility(arn('work'), again.receiptHandle, 0);
    expect(receive()).toHaveLength(1);
  });

  test('DeleteMessage with the latest receipt handle deletes; with an earlier one it succeeds and deletes nothing', () => {
    const { sqs, send, receive, advanceBy } = setup();
    send('x');
    const [first] = receive();
    advanceBy(30 * SECOND);
    const [second] = receive();
    sqs.deleteMessage(arn('work'), first.receiptHandle);
    expect(sqs.stats(arn('work'))).toMatchObject({ deleted: 0, inFlight: 1 });
    sqs.deleteMessage(arn('work'), second.receiptHandle);
    expect(sqs.stats(arn('work'))).toMatchObject({ deleted: 1, inFlight: 0, visible: 0 });
    advanceBy(60 * SECOND);
    expect(receive()).toEqual([]);
  });

  test('DelaySeconds hides a new message first ("Amazon SQS delay queues")', () => {
    const { send, receive, advanceBy, sqs } = setup({}, spec('work', { delaySeconds: 10 }));
    send('later');
    expect(sqs.stats(arn('work')).delayed).toBe(1);
    expect(receive()).toEqual([]);
    advanceBy(10 * SECOND);
    expect(receive().map(m => m.body)).toEqual(['later']);
  });

  test('the in-flight quota: a receive past it returns nothing and no error ("Amazon SQS standard queue quotas")', () => {
    const { send, receive, sqs } = setup({ inFlightLimit: 3 });
    for (let i = 0; i < 5; i++) send(`m${i}`);
    expect(receive(10)).toHaveLength(3);
    expect(receive(10)).toEqual([]);
    expect(sqs.stats(arn('work')).overLimit).toBeGreaterThan(0);
  });
});

describe('retention, dead-letter queues', () => {
  test('a message older than MessageRetentionPeriod is deleted, visible or in flight', () => {
    const { send, receive, advanceBy, sqs } = setup({}, spec('work', { messageRetentionSeconds: 60, visibilityTimeoutSeconds: 600 }));
    send('visible');
    send('in flight');
    receive(1);
    advanceBy(59 * SECOND);
    expect(sqs.stats(arn('work'))).toMatchObject({ visible: 1, inFlight: 1, expired: 0 });
    advanceBy(SECOND);
    expect(sqs.stats(arn('work'))).toMatchObject({ visible: 0, inFlight: 0, expired: 2 });
  });

  test('after maxReceiveCount receives the next receive moves it to the dead-letter queue; its retention counts from the original send', () => {
    const dlq = spec('dlq', { messageRetentionSeconds: 120 });
    const source = spec('work', { visibilityTimeoutSeconds: 10, redrivePolicy: { deadLetterTargetArn: arn('dlq'), maxReceiveCount: 2 } });
    const { send, receive, advanceBy, sqs } = setup({}, dlq, source);
    const id = send('poison');
    expect(receive()).toHaveLength(1);
    advanceBy(10 * SECOND);
    expect(receive()[0].attributes.ApproximateReceiveCount).toBe('2');
    advanceBy(10 * SECOND);
    // The third receive finds it received twice: moved, not returned.
    expect(receive()).toEqual([]);
    expect(sqs.stats(arn('work'))).toMatchObject({ redriven: 1, visible: 0, inFlight: 0 });
    expect(sqs.stats(arn('dlq'))).toMatchObject({ movedIn: 1, visible: 1, oldestMessageAgeMs: 0 });
    advanceBy(50 * SECOND);
    expect(sqs.stats(arn('dlq')).oldestMessageAgeMs).toBe(50 * SECOND);
    const [moved] = receive(10, 'dlq');
    expect(moved).toMatchObject({ messageId: id, body: 'poison' });
    // Sent 70 s ago; the dead-letter queue keeps it 120 s from then.
    advanceBy(50 * SECOND);
    expect(sqs.stats(arn('dlq'))).toMatchObject({ expired: 1, inFlight: 0 });
  });

  test('CreateQueue refuses attributes out of range and a dead-letter target that does not exist', () => {
    const { sqs } = setup();
    expect(() => sqs.checkQueue(spec('a', { visibilityTimeoutSeconds: 43_201 }))).toThrow('Invalid value for the parameter VisibilityTimeout.');
    expect(() => sqs.checkQueue(spec('a', { messageRetentionSeconds: 59 }))).toThrow('Invalid value for the parameter MessageRetentionPeriod.');
    expect(() => sqs.checkQueue(spec('a', { redrivePolicy: { deadLetterTargetArn: arn('nope'), maxReceiveCount: 3 } })))
      .toThrow('Dead letter target does not exist.');
    expect(() => sqs.checkQueue(spec('a', { redrivePolicy: { deadLetterTargetArn: arn('work'), maxReceiveCount: 0 } })))
      .toThrow(/maxReceiveCount/);
  });
});

describe('options for what SQS documents without numbers', () => {
  test('duplicateRate 1: every DeleteMessage leaves a copy that comes back (at-least-once delivery)', () => {
    const { send, receive, advanceBy, sqs } = setup({ duplicateRate: 1 });
    const id = send('x');
    const [m] = receive();
    sqs.deleteMessage(arn('work'), m.receiptHandle);
    advanceBy(30 * SECOND);
    const [copy] = receive();
    expect(copy.messageId).toBe(id);
    expect(sqs.stats(arn('work')).duplicated).toBe(1);
  });

  test('by default no copy survives and the order is the order of sending; outOfOrderRate changes it', () => {
    const inOrder = setup();
    const ids = Array.from({ length: 50 }, (_, i) => inOrder.send(`m${i}`));
    const got = [...inOrder.receive(), ...inOrder.receive(), ...inOrder.receive(), ...inOrder.receive(), ...inOrder.receive()].map(m => m.messageId);
    expect(got).toEqual(ids);

    const shuffled = setup({ outOfOrderRate: 0.5 });
    const sent = Array.from({ length: 50 }, (_, i) => shuffled.send(`m${i}`));
    const taken = Array.from({ length: 5 }, () => shuffled.receive()).flat().map(m => m.messageId);
    expect(new Set(taken)).toEqual(new Set(sent));
    expect(taken).not.toEqual(sent);
  });
});

describe('resource-based policies (IAM user guide, "Policy evaluation logic", "Principal")', () => {
  const QUEUE = arn('work');
  const RULE = `arn:aws:events:us-east-1:${ACCOUNT}:rule/App-Rule`;
  const events: RequestPrincipal = { kind: 'service', service: 'events.amazonaws.com' };
  const role: RequestPrincipal = {
    kind: 'role-session', account: ACCOUNT, roleArn: `arn:aws:iam::${ACCOUNT}:role/fn-role`, sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/fn-role/fn`,
  };
  const eventsPolicy = parseResourcePolicy('q', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:*', Resource: QUEUE, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: QUEUE, Condition: { ArnEquals: { 'aws:SourceArn': RULE } } },
    ],
  });
  const send = (context: Record<string, string>) => ({ action: 'sqs:SendMessage', resource: QUEUE, context: { 'aws:SecureTransport': 'true', ...context } });

  test('a service principal is allowed only by the resource policy, its conditions evaluated', () => {
    expect(decideAccess(events, send({ 'aws:SourceArn': RULE }), eventsPolicy)).toBe('allow');
    expect(decideAccess(events, send({ 'aws:SourceArn': `${RULE}-other` }), eventsPolicy)).toBe('implicit-deny');
    expect(decideAccess(events, send({ 'aws:SourceArn': RULE }), undefined)).toBe('implicit-deny');
    expect(decideAccess(events, send({ 'aws:SourceArn': RULE, 'aws:SecureTransport': 'false' }), eventsPolicy)).toBe('explicit-deny');
  });

  test('a role: its identity policy allows, the queue policy\'s deny wins, a grant to the account only delegates', () => {
    const identity = [parsePolicy('p', { Statement: { Effect: 'Allow', Action: 'sqs:ReceiveMessage', Resource: QUEUE } })];
    const receive = { action: 'sqs:ReceiveMessage', resource: QUEUE, context: { 'aws:SecureTransport': 'true' } };
    expect(decideAccess(role, receive, eventsPolicy, identity)).toBe('allow');
    expect(decideAccess(role, receive, eventsPolicy, [])).toBe('implicit-deny');
    const accountGrant = parseResourcePolicy('a', { Statement: { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sqs:*', Resource: QUEUE } });
    expect(decideAccess(role, receive, accountGrant, [])).toBe('implicit-deny');
    const roleGrant = parseResourcePolicy('r', { Statement: { Effect: 'Allow', Principal: { AWS: role.roleArn }, Action: 'sqs:*', Resource: QUEUE } });
    expect(decideAccess(role, receive, roleGrant, [])).toBe('allow');
    const denyRole = parseResourcePolicy('d', { Statement: { Effect: 'Deny', Principal: { AWS: ACCOUNT }, Action: 'sqs:ReceiveMessage', Resource: QUEUE } });
    expect(decideAccess(role, receive, denyRole, identity)).toBe('explicit-deny');
  });

  test('NotPrincipal and unknown principal types are refused as not modelled', () => {
    expect(() => parseResourcePolicy('n', { Statement: { Effect: 'Deny', NotPrincipal: { AWS: '*' }, Action: '*', Resource: '*' } })).toThrow(/not modelled/);
    expect(() => parseResourcePolicy('f', { Statement: { Effect: 'Allow', Principal: { Federated: 'x' }, Action: '*', Resource: '*' } })).toThrow(/not modelled/);
  });
});

describe('partial batch responses: success and failure conditions ("Implementing partial batch responses")', () => {
  const ids = new Set(['a', 'b', 'c']);
  test.each([
    ['null response', 'null'],
    ['empty response', '{}'],
    ['null list', '{"batchItemFailures":null}'],
    ['empty list', '{"batchItemFailures":[]}'],
  ])('%s: a complete success', (_name, payload) => {
    expect(reportedFailures(payload, ids)).toEqual(new Set());
  });

  test.each([
    ['not JSON', undefined],
    ['empty itemIdentifier', '{"batchItemFailures":[{"itemIdentifier":""}]}'],
    ['null itemIdentifier', '{"batchItemFailures":[{"itemIdentifier":null}]}'],
    ['a bad key name', '{"batchItemFailures":[{"messageId":"a"}]}'],
    ['an identifier not in the batch', '{"batchItemFailures":[{"itemIdentifier":"z"}]}'],
    ['a string (the emulator\'s reading)', '"ok"'],
  ])('%s: a complete failure', (_name, payload) => {
    expect(reportedFailures(payload, ids)).toBe('invalid');
  });

  test('the listed messages fail, the rest succeed', () => {
    expect(reportedFailures('{"batchItemFailures":[{"itemIdentifier":"b"}]}', ids)).toEqual(new Set(['b']));
  });
});

describe('what aws-cdk-lib synthesizes, read by loadAssembly', () => {
  test('Queue (with a dead-letter queue, SSE, enforceSSL), SqsEventSource, SqsQueue targets with and without RetryPolicy', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqs-cdk-'));
    const code = fs.mkdtempSync(path.join(os.tmpdir(), 'sqs-cdk-code-'));
    fs.writeFileSync(path.join(code, 'index.js'), 'exports.handler = async () => null;');
    const app = new App({ outdir });
    const stack = new Stack(app, 'S');
    const dlq = new cdkSqs.Queue(stack, 'Dlq');
    const q = new cdkSqs.Queue(stack, 'Q', {
      visibilityTimeout: Duration.seconds(180),
      deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
      enforceSSL: true,
      encryption: cdkSqs.QueueEncryption.SQS_MANAGED,
    });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const fn = new lambda.Function(stack, 'F', {
      runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(code), timeout: Duration.seconds(30), role,
    });
    fn.addEventSource(new SqsEventSource(q, {
      batchSize: 100, maxBatchingWindow: Duration.seconds(1), maxConcurrency: 5, reportBatchItemFailures: true,
    }));
    const rule = new cdkEvents.Rule(stack, 'R', { eventPattern: { source: ['aws.ecs'] } });
    rule.addTarget(new targets.SqsQueue(q, { deadLetterQueue: dlq }));
    const rule2 = new cdkEvents.Rule(stack, 'R2', { eventPattern: { source: ['aws.ecs'] } });
    rule2.addTarget(new targets.SqsQueue(q, {
      retryAttempts: 3, maxEventAge: Duration.hours(2), message: cdkEvents.RuleTargetInput.fromObject({ a: 1 }),
    }));
    app.synth();

    const model = loadAssembly(outdir);
    const queueOf = (id: string) => model.queues.find(x => x.logicalId.startsWith(id))!;
    expect(queueOf('Dlq')).toMatchObject({ visibilityTimeoutSeconds: 30, messageRetentionSeconds: 345_600, delaySeconds: 0 });
    expect(queueOf('Q')).toMatchObject({
      visibilityTimeoutSeconds: 180,
      redrivePolicy: { deadLetterTargetArn: queueOf('Dlq').arn, maxReceiveCount: 5 },
      url: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/${queueOf('Q').name}`,
    });
    expect(model.eventSourceMappings).toEqual([expect.objectContaining({
      eventSourceArn: queueOf('Q').arn,
      functionName: model.functions[0].name,
      batchSize: 100,
      maximumBatchingWindowSeconds: 1,
      maximumConcurrency: 5,
      functionResponseTypes: ['ReportBatchItemFailures'],
      enabled: true,
    })]);
    const policies = model.queuePolicies.map(p => ({ urls: p.queueUrls, statements: (p.document as { Statement: unknown[] }).Statement.length }));
    expect(policies).toEqual(expect.arrayContaining([{ urls: [queueOf('Q').url], statements: 3 }, { urls: [queueOf('Dlq').url], statements: 1 }]));
    const [first] = model.rules.find(r => r.logicalId.startsWith('R') && !r.logicalId.startsWith('R2'))!.targets;
    expect(first).toMatchObject({ queueArn: queueOf('Q').arn, deadLetterArn: queueOf('Dlq').arn });
    expect(first.retryPolicy).toBeUndefined();
    const [second] = model.rules.find(r => r.logicalId.startsWith('R2'))!.targets;
    expect(second).toMatchObject({ queueArn: queueOf('Q').arn, inputText: '{"a":1}', retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeSeconds: 7200 } });
    // The role's grant from SqsEventSource.
    expect(JSON.stringify(model.functions[0].role.policies)).toContain('sqs:ReceiveMessage');
  });

  test('a FIFO queue is refused as not modelled', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqs-cdk-fifo-'));
    const app = new App({ outdir });
    new cdkSqs.Queue(new Stack(app, 'S'), 'Q', { fifo: true });
    app.synth();
    expect(() => loadAssembly(outdir)).toThrow(/FIFO queues are not modelled/);
  });
});

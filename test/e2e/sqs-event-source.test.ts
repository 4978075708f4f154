/**
 * Conformance of the SQS event source mappings and queue targets with the AWS documentation
 * (sim/runtime/sqs-event-source.ts, sim/runtime/sqs.ts and sim/runtime/eventbridge.ts cite each
 * rule): CreateEventSourceMapping's refusals at deployment; batches, the batching window and
 * MaximumConcurrency ("Using Lambda with Amazon SQS", "Configuring scaling behavior for SQS event
 * source mappings"); errors, redelivery after the visibility timeout, dead-letter queues and
 * partial batch responses ("Handling errors for an SQS event source in Lambda"); EventBridge rules
 * delivering to a queue with and without its policy ("Using resource-based policies for Amazon
 * EventBridge"); stack updates of queues, policies and mappings. Everything in virtual time.
 */
import {
  consumePolicy, denyInsecure, eventsPolicy, fn, mapping, queue, queueArn, queueRule, ROLE, sqsAssembly,
} from './sqs-stubs';
import { peakOverlap } from './stub-functions';
import { withSimulation } from './support';
import { Simulation } from '../../sim/runtime/simulation';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const WORK = queueArn('work');

/** The usual app: queue `work` (visibility 180 s), function `worker` (timeout 30 s) with the consume grant, and a mapping. */
function app(mappingProps: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, queueProps: Record<string, unknown> = {}) {
  return {
    Queue: queue('work', { VisibilityTimeout: 180, ...queueProps }),
    Role: ROLE,
    Policy: consumePolicy(['Queue']),
    Worker: fn('worker'),
    Mapping: mapping('Queue', 'Worker', mappingProps),
    ...extra,
  };
}

const send = (sim: Simulation, body: unknown, arn = WORK) => sim.sqs.sendMessage(arn, JSON.stringify(body), { senderId: 'test' }).messageId;
const runs = (sim: Simulation) => sim.lambda.invocations.filter(r => r.functionName === 'worker');
const recordsOf = (event: unknown) => (event as { Records: Array<{ messageId: string; body: string; attributes: Record<string, string> }> }).Records;
const drained = (sim: Simulation, arn = WORK) => () => {
  const stats = sim.sqs.stats(arn);
  return stats.visible === 0 && stats.inFlight === 0 && stats.delayed === 0 && sim.lambda.running === 0;
};

describe('deployment refusals (CreateEventSourceMapping)', () => {
  const refused = async (resources: Record<string, unknown>, message: RegExp) => {
    await expect(Simulation.start({ assemblyDirectory: sqsAssembly(resources) })).rejects.toThrow(message);
  };

  test('the queue\'s visibility timeout below the function\'s timeout', async () => {
    await refused(app({}, {}, { VisibilityTimeout: 20 }),
      /^App: Mapping \(AWS::Lambda::EventSourceMapping\): Resource handler returned message: "Invalid request provided: Queue visibility timeout: 20 seconds is less than Function timeout: 30 seconds \(Service: Lambda, Status Code: 400\)" \(HandlerErrorCode: InvalidRequest\)$/);
  });

  test.each(['ReceiveMessage', 'DeleteMessage', 'GetQueueAttributes'])('the execution role may not call sqs:%s on the queue', async action => {
    const actions = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].filter(a => a !== `sqs:${action}`);
    await refused(app({}, { Policy: consumePolicy(['Queue'], actions) }),
      new RegExp(`Invalid request provided: The function execution role does not have permissions to call ${action} on SQS`));
  });

  test('a grant on another queue does not count; the queue policy\'s explicit deny wins over the role\'s allow', async () => {
    await refused(app({}, { Other: queue('other'), Policy: consumePolicy(['Other']) }), /does not have permissions to call ReceiveMessage on SQS/);
    const denyRole = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Queue' }],
        PolicyDocument: { Statement: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:DeleteMessage', Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] } }] },
      },
    };
    await refused(app({}, { QueuePolicy: denyRole }), /does not have permissions to call DeleteMessage on SQS/);
  });

  test('BatchSize above 10 without a batching window of at least 1 s', async () => {
    await refused(app({ BatchSize: 11 }), /Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10/);
  });

  test.each([[1, 'greater than or equal to 2'], [1001, 'less than or equal to 1000']])('MaximumConcurrency %i', async (value, constraint) => {
    await refused(app({ ScalingConfig: { MaximumConcurrency: value } }),
      new RegExp(`Value '${value}' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value ${constraint}`));
  });

  test('BatchSize above 10,000, a batching window above 300 s, an unknown response type', async () => {
    await refused(app({ BatchSize: 10_001, MaximumBatchingWindowInSeconds: 1 }), /at 'batchSize' failed to satisfy constraint/);
    await refused(app({ MaximumBatchingWindowInSeconds: 301 }), /at 'maximumBatchingWindowInSeconds' failed to satisfy constraint/);
    await refused(app({ FunctionResponseTypes: ['Partial'] }), /enum value set: \[ReportBatchItemFailures\]/);
  });

  test('a second mapping of the same queue and function (ResourceConflictException)', async () => {
    await refused(app({}, { Mapping2: mapping('Queue', 'Worker') }),
      /Mapping2 .*An event source mapping with SQS arn \(" arn:aws:sqs:us-east-1:123456789012:work "\) and function \(" worker "\) already exists.*HandlerErrorCode: AlreadyExists/);
  });

  test('the limits themselves deploy: BatchSize 10,000 with a window, MaximumConcurrency 2 and 1,000, visibility equal to the timeout', async () => {
    const largest = app(
      { BatchSize: 10_000, MaximumBatchingWindowInSeconds: 300, ScalingConfig: { MaximumConcurrency: 1000 } }, {}, { VisibilityTimeout: 30 },
    );
    await withSimulation(sqsAssembly(largest), {}, async sim => expect(sim.model.eventSourceMappings).toHaveLength(1));
    await withSimulation(sqsAssembly(app({ ScalingConfig: { MaximumConcurrency: 2 } })), {},
      async sim => expect(sim.eventSources.specs()).toHaveLength(1));
  });

  test('a queue attribute out of range and a redrive policy to a queue that does not exist', async () => {
    await refused(app({}, {}, { VisibilityTimeout: 50_000 }), /Queue \(AWS::SQS::Queue\).*Invalid value for the parameter VisibilityTimeout/);
    await refused(app({}, {}, { RedrivePolicy: { deadLetterTargetArn: queueArn('missing'), maxReceiveCount: 3 } }), /Dead letter target does not exist/);
  });
});

describe('batches', () => {
  test('the SQS event shape: Records with messageId, receiptHandle, body, attributes, md5OfBody, eventSource, eventSourceARN, awsRegion', async () => {
    await withSimulation(sqsAssembly(app()), {}, async sim => {
      const id = send(sim, { hello: 1 });
      await sim.runUntil(drained(sim), MINUTE);
      const [run] = runs(sim);
      expect(run).toMatchObject({ invocationType: 'RequestResponse', eventSourceMapping: sim.model.eventSourceMappings[0].uuid, outcome: 'success' });
      expect(recordsOf(run.event)).toEqual([{
        messageId: id,
        receiptHandle: expect.any(String),
        body: '{"hello":1}',
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d+$/), SenderId: 'test', ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/) },
        messageAttributes: {},
        md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
        eventSource: 'aws:sqs',
        eventSourceARN: WORK,
        awsRegion: 'us-east-1',
      }]);
      expect(sim.queueStats('work')).toMatchObject({ sent: 1, received: 1, deleted: 1, visible: 0, inFlight: 0 });
      expect(sim.mappingStats('Mapping')).toMatchObject({ invocations: 1, batchSizes: [1], deleted: 1, errors: 0 });
    });
  });

  test('without a batching window: at most BatchSize (default 10) per invocation, at once', async () => {
    await withSimulation(sqsAssembly(app()), {}, async sim => {
      for (let i = 0; i < 45; i++) send(sim, { i });
      await sim.runUntil(drained(sim), MINUTE);
      const stats = sim.mappingStats('Mapping');
      expect(stats.batchSizes.every(n => n <= 10)).toBe(true);
      expect(stats.batchSizes.reduce((a, b) => a + b, 0)).toBe(45);
      expect(sim.queueStats('work').deleted).toBe(45);
    });
  });

  test('with a batching window of 2 s: a trickle is gathered, the invocation comes when the window of its first message ends', async () => {
    await withSimulation(sqsAssembly(app({ BatchSize: 100, MaximumBatchingWindowInSeconds: 2, ScalingConfig: { MaximumConcurrency: 2 } })),
      { sqs: { receiveDistribution: 'fill-first' } }, async sim => {
        const startedAt = sim.clock.now();
        for (let i = 0; i < 5; i++) {
          send(sim, { i });
          await sim.runFor(300);
        }
        await sim.runUntil(drained(sim), MINUTE);
        const [run, ...rest] = runs(sim);
        expect(rest).toEqual([]);
        expect(recordsOf(run.event)).toHaveLength(5);
        expect(run.startedAt).toBe(startedAt + 2 * SECOND);
      });
  });

  test('a batch is invoked as soon as it holds BatchSize messages; without fill-first the pollers share the messages', async () => {
    const dir = sqsAssembly(app({ BatchSize: 100, MaximumBatchingWindowInSeconds: 5, ScalingConfig: { MaximumConcurrency: 5 } }));
    await withSimulation(dir, { sqs: { receiveDistribution: 'fill-first' } }, async sim => {
      const startedAt = sim.clock.now();
      for (let i = 0; i < 250; i++) send(sim, { i });
      await sim.runUntil(drained(sim), MINUTE);
      expect(sim.mappingStats('Mapping').batchSizes).toEqual([100, 100, 50]);
      expect(runs(sim).map(r => r.startedAt - startedAt)).toEqual([0, 0, 5 * SECOND]);
    });
    await withSimulation(dir, {}, async sim => {
      for (let i = 0; i < 250; i++) send(sim, { i });
      await sim.runUntil(drained(sim), MINUTE);
      const sizes = sim.mappingStats('Mapping').batchSizes;
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(250);
      expect(sizes.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    });
  });

  test('MaximumConcurrency is never exceeded, also with a backlog that would scale the pollers up', async () => {
    await withSimulation(sqsAssembly(app({ ScalingConfig: { MaximumConcurrency: 3 } })), {}, async sim => {
      for (let i = 0; i < 300; i++) send(sim, { sleepMs: 5 * SECOND });
      await sim.runUntil(drained(sim), 30 * MINUTE);
      expect(peakOverlap(runs(sim))).toBe(3);
      expect(sim.mappingStats('Mapping')).toMatchObject({ peakConcurrency: 3, peakPollers: 3, deleted: 300 });
    });
  });

  test('without MaximumConcurrency: five batches at first, then up to 300 more pollers a minute while messages wait', async () => {
    await withSimulation(sqsAssembly(app()), {}, async sim => {
      for (let i = 0; i < 100; i++) send(sim, { sleepMs: 30 * SECOND });
      await sim.runFor(100);
      expect(peakOverlap(runs(sim))).toBe(5);
      // One more poller per 200 ms while every poller is busy and messages wait: by 1.1 s, 5 + 5.
      await sim.runFor(SECOND);
      const running = runs(sim).filter(r => r.endedAt === undefined).length;
      expect(running).toBe(10);
      expect(sim.mappingStats('Mapping').peakPollers).toBe(10);
    });
  });
});

describe('errors, redelivery, dead-letter queues, partial batch responses', () => {
  test('a function error: the batch is visible again after the visibility timeout and redelivered with ApproximateReceiveCount 2', async () => {
    const code = `exports.handler = async event => {
  if (event.Records.some(r => r.attributes.ApproximateReceiveCount === '1')) throw new Error('first time');
  return null;
};`;
    const resources = app({ MaximumBatchingWindowInSeconds: 1 });
    await withSimulation(sqsAssembly(resources, { 'asset.Fn': code }), { sqs: { receiveDistribution: 'fill-first' } }, async sim => {
      send(sim, { a: 1 });
      send(sim, { a: 2 });
      await sim.runUntil(drained(sim), 10 * MINUTE);
      const [failed, retried] = runs(sim);
      expect(failed.outcome).toBe('error');
      expect(retried.outcome).toBe('success');
      expect(recordsOf(retried.event).map(r => r.messageId)).toEqual(recordsOf(failed.event).map(r => r.messageId));
      expect(recordsOf(retried.event).map(r => r.attributes.ApproximateReceiveCount)).toEqual(['2', '2']);
      // Visible again 180 s (the queue's visibility timeout) after the receive.
      expect(retried.startedAt - failed.startedAt).toBe(180 * SECOND);
      expect(sim.mappingStats('Mapping')).toMatchObject({ errors: 1, invocations: 2, deleted: 2 });
    });
  });

  test('a timeout is a function error too: the message comes back', async () => {
    await withSimulation(sqsAssembly(app({}, { Worker: fn('worker', { Timeout: 2 }) }, { VisibilityTimeout: 10 })), {}, async sim => {
      send(sim, { sleepMs: 5 * SECOND });
      await sim.runFor(13 * SECOND);
      expect(runs(sim).map(r => r.outcome)).toEqual(['timeout', 'timeout']);
      expect(runs(sim)[1].startedAt - runs(sim)[0].startedAt).toBe(10 * SECOND);
      expect(recordsOf(runs(sim)[1].event)[0].attributes.ApproximateReceiveCount).toBe('2');
    });
  });

  test('after maxReceiveCount failed receives the message goes to the dead-letter queue', async () => {
    const resources = app({}, { Dlq: queue('dlq') }, { VisibilityTimeout: 60, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 3 } });
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      const id = send(sim, { fail: true });
      await sim.runUntil(() => sim.queueStats('dlq').visible === 1, 30 * MINUTE);
      expect(runs(sim).map(r => r.outcome)).toEqual(['error', 'error', 'error']);
      expect(sim.queueStats('work')).toMatchObject({ redriven: 1, visible: 0, inFlight: 0 });
      expect(sim.sqs.peek(queueArn('dlq'))).toEqual([expect.objectContaining({ messageId: id, body: '{"fail":true}' })]);
    });
  });

  test('ReportBatchItemFailures: only the reported messages come back; an invalid response brings back the whole batch', async () => {
    const resources = app({ FunctionResponseTypes: ['ReportBatchItemFailures'], MaximumBatchingWindowInSeconds: 1 }, {}, { VisibilityTimeout: 60 });
    await withSimulation(sqsAssembly(resources), { sqs: { receiveDistribution: 'fill-first' } }, async sim => {
      const ok = send(sim, { n: 1 });
      const bad = send(sim, { failItem: true });
      await sim.runFor(10 * SECOND);
      expect(sim.queueStats('work')).toMatchObject({ deleted: 1, inFlight: 1 });
      expect(sim.sqs.peek(WORK).map(m => m.messageId)).toEqual([bad]);
      expect(sim.mappingStats('Mapping').reportedFailures).toBe(1);
      expect(ok).not.toBe(bad);

      send(sim, { invalid: true });
      send(sim, { n: 2 });
      await sim.runFor(10 * SECOND);
      expect(sim.mappingStats('Mapping').invalidResponses).toBe(1);
      expect(sim.queueStats('work').deleted).toBe(1);
    });
  });

  test('without ReportBatchItemFailures the response is ignored: the whole batch is deleted', async () => {
    await withSimulation(sqsAssembly(app()), {}, async sim => {
      send(sim, { failItem: true });
      send(sim, { invalid: true });
      await sim.runUntil(drained(sim), MINUTE);
      expect(sim.queueStats('work').deleted).toBe(2);
    });
  });

  test('throttled batches are retried until their visibility timeout would pass, then come back', async () => {
    // Reserved concurrency 1 and MaximumConcurrency 2: the second batch finds no concurrency.
    const resources = app({ ScalingConfig: { MaximumConcurrency: 2 } }, { Worker: fn('worker', { ReservedConcurrentExecutions: 1 }) }, { VisibilityTimeout: 60 });
    await withSimulation(sqsAssembly(resources), { lambdaAccountConcurrencyLimit: 101 }, async sim => {
      for (let i = 0; i < 20; i++) send(sim, { sleepMs: 20 * SECOND });
      await sim.runUntil(drained(sim), 60 * MINUTE);
      const stats = sim.mappingStats('Mapping');
      expect(stats.throttles).toBeGreaterThan(0);
      expect(sim.lambda.stats('worker').throttles).toBe(stats.throttles);
      // Every throttle of the worker is in the list checked next, so the check is not on an empty list.
      expect(sim.lambda.throttled).toHaveLength(stats.throttles);
      expect(sim.lambda.throttled.every(t => t.invocationType === 'RequestResponse')).toBe(true);
      expect(peakOverlap(runs(sim))).toBe(1);
      expect(sim.queueStats('work').deleted).toBe(20);
    });
  });

  test('retention: a message nobody receives is gone after MessageRetentionPeriod', async () => {
    await withSimulation(sqsAssembly(app({ Enabled: false }, {}, { MessageRetentionPeriod: 60 })), {}, async sim => {
      send(sim, { n: 1 });
      await sim.runFor(59 * SECOND);
      expect(sim.queueStats('work').visible).toBe(1);
      await sim.runFor(SECOND);
      expect(sim.queueStats('work')).toMatchObject({ visible: 0, expired: 1 });
      expect(runs(sim)).toEqual([]);
    });
  });
});

describe('EventBridge rules delivering to a queue', () => {
  const ecsEvent = (n: number) => ({
    'version': '0',
    'id': `e-${n}`,
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': '123456789012',
    'time': '2026-11-28T10:00:00Z',
    'region': 'us-east-1',
    'resources': [],
    'detail': { n },
  });

  test('with the queue policy (enforceSSL too): the event JSON is the body, the mapping invokes the function with it', async () => {
    const resources = app({}, { Rule: queueRule('Queue', 'aws.ecs'), QueuePolicy: eventsPolicy('Queue', ['Rule'], [denyInsecure('Queue')]) });
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      sim.eventBridge.putEvent(ecsEvent(1));
      await sim.runUntil(() => runs(sim).length === 1 && sim.lambda.running === 0, MINUTE);
      expect(JSON.parse(recordsOf(runs(sim)[0].event)[0].body)).toEqual(ecsEvent(1));
      expect(sim.eventBridge.stats).toMatchObject({ delivered: 1, undeliverable: 0 });
      expect(sim.eventFunctionName()).toBeUndefined();
    });
  });

  test('without a queue policy, or one for another rule: refused (NO_PERMISSIONS), not retried, dropped', async () => {
    for (const extra of [{}, { QueuePolicy: eventsPolicy('Queue', ['Other']), Other: queueRule('Queue', 'other') }]) {
      await withSimulation(sqsAssembly(app({}, { Rule: queueRule('Queue', 'aws.ecs'), ...extra })), {}, async sim => {
        sim.eventBridge.putEvent(ecsEvent(1));
        await sim.runFor(MINUTE);
        expect(sim.queueStats('work').sent).toBe(0);
        expect(sim.eventBridge.stats).toMatchObject({ delivered: 0, undeliverable: 1, retries: 0 });
        expect(sim.eventBridge.failedDeliveries).toEqual([expect.objectContaining({ errorCode: 'NO_PERMISSIONS', attempts: 1, outcome: 'dropped' })]);
      });
    }
  });

  test('a refused delivery goes to the target\'s dead-letter queue, with the error attributes, if its policy lets EventBridge send', async () => {
    const resources = app({}, {
      Dlq: queue('dlq'),
      Rule: queueRule('Queue', 'aws.ecs', { DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } } }),
      DlqPolicy: eventsPolicy('Dlq', ['Rule']),
    });
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      sim.eventBridge.putEvent(ecsEvent(7));
      await sim.runFor(MINUTE);
      expect(sim.eventBridge.stats).toMatchObject({ sentToDeadLetterQueue: 1, undeliverable: 0 });
      const [message] = sim.sqs.receiveMessage(queueArn('dlq'), { maxMessages: 1 });
      expect(JSON.parse(message.body)).toEqual(ecsEvent(7));
      expect(message.messageAttributes).toMatchObject({
        RULE_ARN: { StringValue: 'arn:aws:events:us-east-1:123456789012:rule/App-Rule' },
        TARGET_ARN: { StringValue: WORK },
        ERROR_CODE: { StringValue: 'NO_PERMISSIONS' },
      });
    });
  });

  test('retriable failures are retried per the RetryPolicy, then go to the dead-letter queue', async () => {
    const resources = app({}, {
      Dlq: queue('dlq'),
      Rule: queueRule('Queue', 'aws.ecs', {
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } }, RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      }),
      QueuePolicy: eventsPolicy('Queue', ['Rule']),
      DlqPolicy: eventsPolicy('Dlq', ['Rule']),
    });
    await withSimulation(sqsAssembly(resources), { eventFaults: { queueTargetErrorRate: 1 } }, async sim => {
      sim.eventBridge.putEvent(ecsEvent(1));
      await sim.runFor(10 * MINUTE);
      expect(sim.eventBridge.stats).toMatchObject({ retries: 3, sentToDeadLetterQueue: 1, delivered: 0 });
      const [message] = sim.sqs.receiveMessage(queueArn('dlq'), { maxMessages: 1 });
      expect(message.messageAttributes).toMatchObject({
        EXHAUSTED_RETRY_CONDITION: { StringValue: 'MaximumRetryAttempts' }, RETRY_ATTEMPTS: { StringValue: '3' },
      });
    });
  });

  test('EventBridge\'s duplication fault applies to queue targets: two messages, one event id', async () => {
    const resources = app({ Enabled: false }, { Rule: queueRule('Queue', 'aws.ecs'), QueuePolicy: eventsPolicy('Queue', ['Rule']) });
    await withSimulation(sqsAssembly(resources), { eventFaults: { duplicateRate: 1 } }, async sim => {
      sim.eventBridge.putEvent(ecsEvent(3));
      await sim.runFor(MINUTE);
      expect(sim.sqs.peek(WORK).map(m => JSON.parse(m.body).id)).toEqual(['e-3', 'e-3']);
    });
  });
});

describe('stack updates of queues, queue policies and mappings', () => {
  const base = {
    Queue: queue('work', { VisibilityTimeout: 180 }),
    Role: ROLE,
    Policy: consumePolicy(['Queue']),
    Worker: fn('worker'),
  };

  test('a mapping added, changed (batch size, window), disabled and removed', async () => {
    await withSimulation(sqsAssembly(base), {}, async sim => {
      send(sim, { n: 1 });
      await sim.runFor(10 * SECOND);
      expect(runs(sim)).toEqual([]);

      const added = sim.update(sqsAssembly({ ...base, Mapping: mapping('Queue', 'Worker') }));
      expect(added).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [{ logicalId: 'Mapping', type: 'AWS::Lambda::EventSourceMapping', action: 'Add' }] });
      await sim.runUntil(drained(sim), MINUTE);
      expect(runs(sim)).toHaveLength(1);

      const changed = sim.update(sqsAssembly({ ...base, Mapping: mapping('Queue', 'Worker', { BatchSize: 50, MaximumBatchingWindowInSeconds: 3 }) }));
      expect(changed).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [{ logicalId: 'Mapping', action: 'Modify', replacement: false }] });
      const changedAt = sim.clock.now();
      for (let i = 0; i < 30; i++) send(sim, { n: i });
      await sim.runUntil(drained(sim), MINUTE);
      const later = runs(sim).slice(1);
      expect(later.reduce((n, r) => n + recordsOf(r.event).length, 0)).toBe(30);
      expect(later.every(r => r.startedAt >= changedAt + 3 * SECOND)).toBe(true);

      sim.update(sqsAssembly({ ...base, Mapping: mapping('Queue', 'Worker', { Enabled: false }) }));
      send(sim, { n: 99 });
      await sim.runFor(MINUTE);
      expect(runs(sim)).toHaveLength(1 + later.length);

      const removed = sim.update(sqsAssembly(base));
      expect(removed).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [{ logicalId: 'Mapping', action: 'Remove' }] });
      expect(sim.eventSources.specs()).toEqual([]);
      expect(sim.model.eventSourceMappings).toEqual([]);
    });
  });

  test('a change the mapping\'s check refuses rolls the whole update back', async () => {
    await withSimulation(sqsAssembly({ ...base, Mapping: mapping('Queue', 'Worker') }), {}, async sim => {
      const before = sim.model;
      const result = sim.update(sqsAssembly({ ...base, Worker: fn('worker', { Timeout: 300 }), Mapping: mapping('Queue', 'Worker', { BatchSize: 5 }) }));
      expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(result.reason).toMatch(/Mapping \(AWS::Lambda::EventSourceMapping\): .*Queue visibility timeout: 180 seconds is less than Function timeout: 300 seconds/);
      expect(sim.model).toBe(before);
      expect(sim.eventSources.specs()[0].batchSize).toBe(10);
      expect(sim.model.functions[0].timeoutSeconds).toBe(30);
    });
  });

  test('a new queue with its mapping and policy, the old queue removed: a replacement of the mapping', async () => {
    await withSimulation(sqsAssembly({ ...base, Mapping: mapping('Queue', 'Worker') }), {}, async sim => {
      const next = {
        ...base,
        Queue2: queue('work2', { VisibilityTimeout: 180 }),
        Policy: consumePolicy(['Queue2']),
        Mapping: mapping('Queue2', 'Worker'),
        Rule: queueRule('Queue2', 'aws.ecs'),
        QueuePolicy: eventsPolicy('Queue2', ['Rule']),
      };
      delete (next as Record<string, unknown>).Queue;
      const result = sim.update(sqsAssembly(next));
      expect(result.status).toBe('UPDATE_COMPLETE');
      expect(result.changes).toEqual(expect.arrayContaining([
        expect.objectContaining({ logicalId: 'Mapping', action: 'Modify', replacement: true }),
        expect.objectContaining({ logicalId: 'Queue', action: 'Remove' }),
        expect.objectContaining({ logicalId: 'Queue2', action: 'Add' }),
      ]));
      expect(sim.sqs.hasQueue(WORK)).toBe(false);
      sim.eventBridge.putEvent({
        'version': '0',
        'id': 'x',
        'detail-type': 'T',
        'source': 'aws.ecs',
        'account': '123456789012',
        'time': '2026-11-28T10:00:00Z',
        'region': 'us-east-1',
        'resources': [],
        'detail': {},
      });
      await sim.runUntil(() => runs(sim).length === 1 && sim.lambda.running === 0, MINUTE);
      expect(recordsOf(runs(sim)[0].event)[0]).toMatchObject({ eventSourceARN: queueArn('work2') });
    });
  });

  test('a queue\'s visibility timeout updated in place; a second queue of the same name fails with AlreadyExists', async () => {
    await withSimulation(sqsAssembly({ ...base, Mapping: mapping('Queue', 'Worker') }), {}, async sim => {
      const result = sim.update(sqsAssembly({ ...base, Queue: queue('work', { VisibilityTimeout: 400 }), Mapping: mapping('Queue', 'Worker') }));
      expect(result).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [{ logicalId: 'Queue', action: 'Modify', replacement: false }] });
      expect(sim.sqs.spec(WORK)?.visibilityTimeoutSeconds).toBe(400);
      const clash = sim.update(sqsAssembly({ ...base, Queue: queue('work', { VisibilityTimeout: 400 }), Mapping: mapping('Queue', 'Worker'), Twin: queue('work') }));
      expect(clash.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(clash.reason).toMatch(/Twin \(AWS::SQS::Queue\).*AlreadyExists/);
    });
  });
});

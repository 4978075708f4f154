/**
 * PutEvents through the simulation: accepted entries become events on their bus and go through
 * that bus's rules only (custom buses from AWS::Events::EventBus), to SQS queues and SNS topics
 * (the topic policy must allow events.amazonaws.com sns:Publish), with Input / InputPath /
 * InputTransformer applied; a function of the template publishing as its role; what aws-cdk-lib
 * synthesizes for EventBus, SnsTopic targets and RuleTargetInput, read by the simulation.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, aws_events as cdkEvents, aws_events_targets as targets, aws_sns as sns, aws_sqs as cdkSqs } from 'aws-cdk-lib';
import { eventsPolicy, fn, queue, queueArn, ROLE, sqsAssembly } from './sqs-stubs';
import { withSimulation } from './support';
import { loadAssembly } from '../../sim/runtime/assembly';
import { Simulation } from '../../sim/runtime/simulation';
import { EventBridgeClient, PutEventsEntry } from '../sim/eventbridge-client';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const ACCOUNT = '123456789012';
const SOURCE = 'com.example.drain';
const topicArn = (name: string) => `arn:aws:sns:us-east-1:${ACCOUNT}:${name}`;
const busArn = (name: string) => `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${name}`;

const entry = (n: number, extra: PutEventsEntry = {}): PutEventsEntry => ({
  Source: SOURCE, DetailType: 'Drain Started', Detail: JSON.stringify({ n, instance: `i-${n}` }), ...extra,
});

/** A rule on `bus` (a logical ID; none: the default bus) matching SOURCE, with these targets. */
function rule(targetList: Array<Record<string, unknown>>, bus?: string, pattern: Record<string, unknown> = { source: [SOURCE] }) {
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      EventPattern: pattern,
      State: 'ENABLED',
      ...(bus ? { EventBusName: { Ref: bus } } : {}),
      Targets: targetList.map((t, i) => ({ Id: `Target${i}`, ...t })),
    },
  };
}
const toQueue = (queueId: string, extra: Record<string, unknown> = {}) => ({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] }, ...extra });
const toTopic = (topicId: string, extra: Record<string, unknown> = {}) => ({ Arn: { Ref: topicId }, ...extra });
const bus = (name: string) => ({ Type: 'AWS::Events::EventBus', Properties: { Name: name } });
const topic = (name: string) => ({ Type: 'AWS::SNS::Topic', Properties: { TopicName: name } });

/** The statement `events_targets.SnsTopic` adds to the topic's policy (optionally only for some rules). */
function topicPolicy(topicId: string, ruleIds?: string[]) {
  return {
    Type: 'AWS::SNS::TopicPolicy',
    Properties: {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Sid: '0',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: topicId },
          ...(ruleIds ? { Condition: { ArnEquals: { 'aws:SourceArn': ruleIds.map(id => ({ 'Fn::GetAtt': [id, 'Arn'] })) } } } : {}),
        }],
      },
    },
  };
}

const bodies = (sim: Simulation, name: string) => sim.sqs.peek(queueArn(name)).map(m => JSON.parse(m.body));
const client = (sim: Simulation) => new EventBridgeClient(sim.endpoint);

describe('delivery through the rules of the entry\'s bus', () => {
  test('default bus → rule → SQS queue: the documented envelope, the EventId as the event id', async () => {
    const resources = { Queue: queue('drain'), Rule: rule([toQueue('Queue')]), QueuePolicy: eventsPolicy('Queue', ['Rule']) };
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      const out = await client(sim).putEvents([entry(1, { Resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-1'] }), entry(2, { Source: 'com.other' })]);
      await sim.runFor(MINUTE);
      const [body] = bodies(sim, 'drain');
      expect(bodies(sim, 'drain')).toHaveLength(1);
      expect(body).toEqual({
        'version': '0',
        'id': out.Entries[0].EventId,
        'detail-type': 'Drain Started',
        'source': SOURCE,
        'account': ACCOUNT,
        'time': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        'region': 'us-east-1',
        'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-1'],
        'detail': { n: 1, instance: 'i-1' },
      });
      expect(sim.eventBridge.stats).toMatchObject({ received: 2, receivedByBus: { default: 2 }, matched: 1, delivered: 1 });
    });
  });

  test('custom buses: events on bus X reach the rules of bus X only; the world\'s events are the default bus\'s', async () => {
    const resources = {
      Bus: bus('drain-events'),
      Custom: queue('custom'),
      Default: queue('default-q'),
      CustomRule: rule([toQueue('Custom')], 'Bus'),
      DefaultRule: rule([toQueue('Default')]),
      EcsOnCustom: rule([toQueue('Custom')], 'Bus', { source: ['aws.ecs'] }),
      CustomPolicy: eventsPolicy('Custom', ['CustomRule', 'EcsOnCustom']),
      DefaultPolicy: eventsPolicy('Default', ['DefaultRule']),
    };
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      const customRule = sim.model.rules.find(r => r.logicalId === 'CustomRule')!;
      expect(customRule).toMatchObject({ eventBusName: 'drain-events', arn: `arn:aws:events:us-east-1:${ACCOUNT}:rule/drain-events/App-CustomRule` });
      expect(sim.emulator.eventBuses()).toEqual(['default', 'drain-events']);
      await client(sim).putEvents([entry(1), entry(2, { EventBusName: 'drain-events' }), entry(3, { EventBusName: busArn('drain-events') })]);
      sim.eventBridge.putEvent({
        'version': '0',
        'id': 'e-ecs',
        'detail-type': 'ECS Task State Change',
        'source': 'aws.ecs',
        'account': ACCOUNT,
        'time': '2026-11-28T10:00:00Z',
        'region': 'us-east-1',
        'resources': [],
        'detail': {},
      });
      await sim.runFor(MINUTE);
      // No ordering guarantee ("Amazon EventBridge events"): delivery latencies differ.
      expect(bodies(sim, 'custom').map(b => b.detail.n).sort()).toEqual([2, 3]);
      expect(bodies(sim, 'default-q').map(b => b.detail.n)).toEqual([1]);
      expect(sim.eventBridge.stats.receivedByBus).toEqual({ 'default': 2, 'drain-events': 2 });
    });
  });

  test('a rule on a bus that does not exist fails the deployment; a scheduled rule on a custom bus too', async () => {
    const onMissing = { Queue: queue('q'), Rule: { ...rule([toQueue('Queue')]), Properties: { ...rule([toQueue('Queue')]).Properties, EventBusName: 'nope' } } };
    await expect(Simulation.start({ assemblyDirectory: sqsAssembly(onMissing) })).rejects.toThrow('Event bus nope does not exist.');
    const scheduled = { Bus: bus('b'), Rule: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(1 minute)', EventBusName: { Ref: 'Bus' } } } };
    await expect(Simulation.start({ assemblyDirectory: sqsAssembly(scheduled) })).rejects.toThrow(/only supported on the default event bus/);
  });

  test('the at-least-once faults apply: duplicateRate 1 gives two messages with one event id', async () => {
    const resources = { Queue: queue('drain'), Rule: rule([toQueue('Queue')]), QueuePolicy: eventsPolicy('Queue', ['Rule']) };
    await withSimulation(sqsAssembly(resources), { eventFaults: { duplicateRate: 1 } }, async sim => {
      const out = await client(sim).putEvents([entry(1)]);
      await sim.runFor(MINUTE);
      expect(bodies(sim, 'drain').map(b => b.id)).toEqual([out.Entries[0].EventId, out.Entries[0].EventId]);
    });
  });

  test('PutEvents\' injected faults through SimulationOptions.putEvents: nothing reaches the rules', async () => {
    const resources = { Queue: queue('drain'), Rule: rule([toQueue('Queue')]), QueuePolicy: eventsPolicy('Queue', ['Rule']) };
    await withSimulation(sqsAssembly(resources), { putEvents: { faults: { entryFailureRate: 1 } } }, async sim => {
      const out = await client(sim).putEvents([entry(1), entry(2)]);
      expect(out.Entries.map(e => e.ErrorCode)).toEqual(['InternalFailure', 'InternalFailure']);
      await sim.runFor(MINUTE);
      expect(sim.eventBridge.stats.received).toBe(0);
    });
  });
});

describe('SNS topic targets (EventBridge user guide, "Using resource-based policies", Amazon SNS permissions)', () => {
  test('with the topic policy: the event JSON is the message, no subject, published by events.amazonaws.com', async () => {
    const resources = { Topic: topic('notify'), Rule: rule([toTopic('Topic')]), TopicPolicy: topicPolicy('Topic') };
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      const out = await client(sim).putEvents([entry(1)]);
      await sim.runFor(MINUTE);
      const [message] = sim.topicMessages('notify');
      expect(JSON.parse(message.message)).toMatchObject({ 'id': out.Entries[0].EventId, 'detail-type': 'Drain Started', 'detail': { n: 1 } });
      expect(message.subject).toBeUndefined();
      expect(message).toMatchObject({ topicArn: topicArn('notify'), publisher: 'events.amazonaws.com', sourceArn: sim.model.rules[0].arn });
      expect(sim.eventBridge.stats).toMatchObject({ delivered: 1, undeliverable: 0 });
    });
  });

  test('without a topic policy, or one for another rule: refused (NO_PERMISSIONS), not retried, counted', async () => {
    for (const extra of [{}, { TopicPolicy: topicPolicy('Topic', ['Other']), Other: rule([toTopic('Topic')], undefined, { source: ['x'] }) }]) {
      await withSimulation(sqsAssembly({ Topic: topic('notify'), Rule: rule([toTopic('Topic')]), ...extra }), {}, async sim => {
        await client(sim).putEvents([entry(1)]);
        await sim.runFor(10 * MINUTE);
        expect(sim.topicMessages('notify')).toEqual([]);
        expect(sim.eventBridge.stats).toMatchObject({ delivered: 0, undeliverable: 1, retries: 0 });
        expect(sim.eventBridge.failedDeliveries).toEqual([expect.objectContaining({
          errorCode: 'NO_PERMISSIONS', targetArn: topicArn('notify'), attempts: 1, outcome: 'dropped',
        })]);
      });
    }
  });

  test('a refused delivery goes to the target\'s dead-letter queue; injected retriable failures are retried per the RetryPolicy', async () => {
    const resources = {
      Topic: topic('notify'),
      Dlq: queue('dlq'),
      Rule: rule([toTopic('Topic', { DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } }, RetryPolicy: { MaximumRetryAttempts: 2 } })]),
      DlqPolicy: eventsPolicy('Dlq', ['Rule']),
    };
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      await client(sim).putEvents([entry(1)]);
      await sim.runFor(MINUTE);
      const [message] = sim.sqs.receiveMessage(queueArn('dlq'), { maxMessages: 1 });
      expect(JSON.parse(message.body).detail).toEqual({ n: 1, instance: 'i-1' });
      expect(message.messageAttributes).toMatchObject({ ERROR_CODE: { StringValue: 'NO_PERMISSIONS' }, TARGET_ARN: { StringValue: topicArn('notify') } });
    });
    await withSimulation(sqsAssembly({ ...resources, TopicPolicy: topicPolicy('Topic') }), { eventFaults: { topicTargetErrorRate: 1 } }, async sim => {
      await client(sim).putEvents([entry(1)]);
      await sim.runFor(10 * MINUTE);
      expect(sim.eventBridge.stats).toMatchObject({ retries: 2, sentToDeadLetterQueue: 1, delivered: 0 });
    });
  });

  test('an encrypted or FIFO topic is refused as not modelled', () => {
    const encrypted = { Topic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: 'alias/aws/sns' } } };
    expect(() => loadAssembly(sqsAssembly(encrypted))).toThrow(/KmsMasterKeyId\) is not modelled/);
    const fifo = { Topic: { Type: 'AWS::SNS::Topic', Properties: { FifoTopic: true, TopicName: 't.fifo' } } };
    expect(() => loadAssembly(sqsAssembly(fifo))).toThrow(/FIFO topics are not modelled/);
  });
});

describe('what a target gets: Input, InputPath, InputTransformer ("Amazon EventBridge input transformation")', () => {
  const transformer = (template: string, paths: Record<string, string> = { instance: '$.detail.instance', n: '$.detail.n', missing: '$.detail.nope' }) => ({
    InputTransformer: { InputPathsMap: paths, InputTemplate: template },
  });

  test('a JSON template: unquoted variables as JSON, quoted ones as text, a missing path empty; predefined variables', async () => {
    const resources = {
      Queue: queue('drain'),
      Topic: topic('notify'),
      Rule: rule([
        toQueue('Queue', transformer('{"instance": <instance>, "n": <n>, "text": "<instance> is number <n>", "none": <missing>, "rule": "<aws.events.rule-name>"}')),
        toTopic('Topic', transformer('"Instance <instance> is draining (<missing>)"')),
      ]),
      QueuePolicy: eventsPolicy('Queue', ['Rule']),
      TopicPolicy: topicPolicy('Topic'),
    };
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      await client(sim).putEvents([entry(7)]);
      await sim.runFor(MINUTE);
      expect(bodies(sim, 'drain')).toEqual([{ instance: 'i-7', n: 7, text: 'i-7 is number 7', none: '', rule: 'App-Rule' }]);
      // A template that is a JSON string arrives with its quotes (what RuleTargetInput.fromText synthesizes).
      expect(sim.topicMessages('notify').map(m => m.message)).toEqual(['"Instance i-7 is draining ()"']);
    });
  });

  test('InputPath sends that part of the event; Input a constant', async () => {
    const resources = {
      Queue: queue('drain'),
      Topic: topic('notify'),
      Rule: rule([toQueue('Queue', { InputPath: '$.detail' }), toTopic('Topic', { Input: '{"fixed":true}' })]),
      QueuePolicy: eventsPolicy('Queue', ['Rule']),
      TopicPolicy: topicPolicy('Topic'),
    };
    await withSimulation(sqsAssembly(resources), {}, async sim => {
      await client(sim).putEvents([entry(3)]);
      await sim.runFor(MINUTE);
      expect(bodies(sim, 'drain')).toEqual([{ n: 3, instance: 'i-3' }]);
      expect(sim.topicMessages('notify').map(m => m.message)).toEqual(['{"fixed":true}']);
    });
  });

  test('what PutTargets refuses is refused when the template is read', () => {
    const load = (target: Record<string, unknown>) => () => loadAssembly(sqsAssembly({ Queue: queue('q'), Rule: rule([toQueue('Queue', target)]) }));
    expect(load(transformer('"<undefined>"'))).toThrow('InputTemplate for target Target0 contains invalid placeholder undefined.');
    expect(load({ Input: '{}', InputPath: '$.detail' })).toThrow('Only one of Input, InputPath, or InputTransformer must be provided');
    expect(load(transformer('"<x>"', { x: '$.detail[*]' }))).toThrow(/wildcards are not modelled/);
    expect(load(transformer('<aws.events.event>', {}))).toThrow(/aws.events.event is not modelled/);
    expect(load(transformer('"<x>"', { 'AWS.x': '$.a' }))).toThrow(/key AWS.x is not valid/);
  });
});

describe('a function of the template publishes as its role (x-sim-invocation, IAM from the deployed role)', () => {
  // Raw JSON 1.1, as the SDK's EventBridge client sends it, to the endpoint the Lambda runtime sets.
  const PUBLISHER = `
const http = require('http');
exports.handler = async event => {
  const url = new URL(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE);
  const body = JSON.stringify({ Entries: event.entries });
  const text = await new Promise((resolve, reject) => {
    const req = http.request({ hostname: url.hostname, port: url.port, path: '/', method: 'POST', headers: {
      'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents', 'content-length': Buffer.byteLength(body),
    } }, res => { let data = ''; res.on('data', c => { data += c; }); res.on('end', () => resolve(data)); });
    req.on('error', reject);
    req.end(body);
  });
  console.log(text);
  return JSON.parse(text);
};`;

  test('an events:source condition on the role\'s policy: the other source\'s entry is refused, counted as denied', async () => {
    const resources = {
      Bus: bus('drain-events'),
      Queue: queue('drain'),
      Rule: rule([toQueue('Queue')], 'Bus'),
      QueuePolicy: eventsPolicy('Queue', ['Rule']),
      Role: ROLE,
      Policy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'Publish',
          Roles: [{ Ref: 'Role' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': ['Bus', 'Arn'] }, Condition: { StringEquals: { 'events:source': SOURCE } } }],
          },
        },
      },
      Publisher: fn('publisher'),
    };
    await withSimulation(sqsAssembly(resources, { 'asset.Fn': PUBLISHER }), {}, async sim => {
      const entries = [entry(1, { EventBusName: 'drain-events' }), entry(2, { EventBusName: 'drain-events', Source: 'com.other' }), entry(3)];
      sim.lambda.invokeAsync('publisher', { entries });
      await sim.runUntil(() => sim.lambda.invocations.some(i => i.endedAt !== undefined), MINUTE);
      await sim.runFor(MINUTE);
      const [run] = sim.lambda.invocations;
      expect(run.outcome).toBe('success');
      const response = JSON.parse(run.logs[0]);
      expect(response.Entries.map((e: { ErrorCode?: string }) => e.ErrorCode ?? 'ok')).toEqual(['ok', 'AccessDeniedException', 'AccessDeniedException']);
      expect(response.Entries[1].ErrorMessage).toMatch(/assumed-role\/App-Role\/publisher is not authorized to perform: events:PutEvents on resource: arn:aws:events:us-east-1:123456789012:event-bus\/drain-events/);
      expect(bodies(sim, 'drain').map(b => b.detail.n)).toEqual([1]);
      expect(sim.emulator.stats.denied['events:PutEvents']).toBe(2);
      expect(run.awsCalls).toBe(1);
    });
  });
});

describe('what aws-cdk-lib synthesizes: EventBus, a rule on it, SnsTopic and SqsQueue targets, RuleTargetInput', () => {
  test('read by loadAssembly and delivered by the simulation', async () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'eventbridge-cdk-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'S');
    const eventBus = new cdkEvents.EventBus(stack, 'Bus', { eventBusName: 'drain-events' });
    const notify = new sns.Topic(stack, 'Notify');
    const q = new cdkSqs.Queue(stack, 'Q');
    const onBus = new cdkEvents.Rule(stack, 'OnBus', { eventBus, eventPattern: { source: [SOURCE], detailType: ['Drain Started'] } });
    onBus.addTarget(new targets.SnsTopic(notify, {
      message: cdkEvents.RuleTargetInput.fromText(`Instance ${cdkEvents.EventField.fromPath('$.detail.instance')} started draining`),
    }));
    onBus.addTarget(new targets.SqsQueue(q, {
      message: cdkEvents.RuleTargetInput.fromObject({ instance: cdkEvents.EventField.fromPath('$.detail.instance'), type: cdkEvents.EventField.detailType }),
    }));
    app.synth();

    const model = loadAssembly(outdir);
    expect(model.eventBuses).toEqual([expect.objectContaining({ name: 'drain-events', arn: busArn('drain-events') })]);
    expect(model.rules[0]).toMatchObject({ eventBusName: 'drain-events', arn: expect.stringMatching(/:rule\/drain-events\//) });
    expect(model.rules[0].targets[0]).toMatchObject({ topicArn: model.topics[0].arn, inputTransformer: { inputTemplate: expect.stringMatching(/^"Instance </) } });
    expect(model.topicPolicies).toEqual([expect.objectContaining({ topicArns: [model.topics[0].arn] })]);

    await withSimulation(outdir, {}, async sim => {
      await client(sim).putEvents([entry(5, { EventBusName: 'drain-events' }), entry(6)]);
      await sim.runFor(MINUTE);
      expect(sim.topicMessages(model.topics[0].arn).map(m => m.message)).toEqual(['"Instance i-5 started draining"']);
      expect(sim.sqs.peek(model.queues[0].arn).map(m => JSON.parse(m.body))).toEqual([{ instance: 'i-5', type: 'Drain Started' }]);
    });
  });
});

describe('stack updates of buses, topics and topic policies', () => {
  test('a bus, a rule on it and a topic added, then removed', async () => {
    const base = { Queue: queue('drain') };
    await withSimulation(sqsAssembly(base), {}, async sim => {
      const added = sim.update(sqsAssembly({
        ...base, Bus: bus('drain-events'), Topic: topic('notify'), TopicPolicy: topicPolicy('Topic'), Rule: rule([toTopic('Topic')], 'Bus'),
      }));
      expect(added).toMatchObject({ status: 'UPDATE_COMPLETE' });
      expect(sim.emulator.hasEventBus('drain-events')).toBe(true);
      expect(sim.eventBridge.hasRule('App-Rule', 'drain-events')).toBe(true);
      await client(sim).putEvents([entry(1, { EventBusName: 'drain-events' })]);
      await sim.runFor(MINUTE);
      expect(sim.topicMessages('notify')).toHaveLength(1);

      expect(sim.update(sqsAssembly(base))).toMatchObject({ status: 'UPDATE_COMPLETE' });
      expect(sim.emulator.hasEventBus('drain-events')).toBe(false);
      expect(sim.eventBridge.hasRule('App-Rule', 'drain-events')).toBe(false);
      expect(sim.sns.hasTopic(topicArn('notify'))).toBe(false);
      const out = await client(sim).putEvents([entry(2, { EventBusName: 'drain-events' })]);
      expect(out.FailedEntryCount).toBe(0);
      expect(sim.emulator.stats.putEvents.droppedUnknownBus).toBe(1);
      // The deleted topic's messages stay readable.
      expect(sim.topicMessages('notify')).toHaveLength(1);
    });
  });

  test('a rule moved onto a bus the update does not create rolls back', async () => {
    const base = { Queue: queue('drain'), Rule: rule([toQueue('Queue')]) };
    await withSimulation(sqsAssembly(base), {}, async sim => {
      const moved = { ...base, Rule: { ...base.Rule, Properties: { ...base.Rule.Properties, EventBusName: 'nope' } } };
      const result = sim.update(sqsAssembly(moved));
      expect(result).toMatchObject({ status: 'UPDATE_ROLLBACK_COMPLETE', reason: expect.stringMatching(/Event bus nope does not exist/) });
      expect(sim.eventBridge.hasRule('App-Rule')).toBe(true);
    });
  });
});

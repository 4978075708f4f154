/**
 * The emulator's EventBridge PutEvents (sim/emulator/events-api.ts) over the loopback server, as
 * the AWS SDK sends it (JSON 1.1, `X-Amz-Target: AWSEvents.PutEvents`; test/sim/eventbridge-client.ts):
 * the request's limits, per-entry failures, buses by name and ARN, IAM per entry with the
 * condition keys of the Service Authorization Reference, injected faults, throttling and the
 * request accounting the other services have.
 */
import { EventBridgeClient, EventBridgeServiceError, PutEventsEntry } from './eventbridge-client';
import { failure, Harness, startHarness } from './harness';
import { AwsEmulatorOptions, EmittedEvent, IamPrincipal } from '../../sim/emulator';
import { entrySize } from '../../sim/emulator/events-api';
import { parsePolicy } from '../../sim/emulator/iam/policy';

const ACCOUNT = '123456789012';
const BUS = (name: string) => `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/${name}`;
const SOURCE = 'com.example.drain';

const entry = (n: number, extra: PutEventsEntry = {}): PutEventsEntry => ({
  Source: SOURCE, DetailType: 'Drain Started', Detail: JSON.stringify({ n }), ...extra,
});

interface Put { event: EmittedEvent; bus: string }

async function start(options: Partial<AwsEmulatorOptions> = {}): Promise<{ h: Harness; client: EventBridgeClient; put: Put[] }> {
  const h = await startHarness(options);
  const put: Put[] = [];
  h.emulator.onPutEvent = (event, bus) => put.push({ event, bus });
  return { h, client: new EventBridgeClient(h.endpoint), put };
}

describe('PutEvents: accepted entries (API reference PutEvents, PutEventsRequestEntry; "Amazon EventBridge events")', () => {
  let h: Harness;
  let client: EventBridgeClient;
  let put: Put[];
  beforeEach(async () => ({ h, client, put } = await start()));
  afterEach(() => h.close());

  test('each entry gets a fresh EventId; the event on the default bus has the documented envelope', async () => {
    h.advance(90_700);
    const now = new Date(Math.floor(h.clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const out = await client.putEvents([entry(1, { Resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-1'] }), entry(2)]);
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(2);
    const [first, second] = out.Entries.map(e => e.EventId!);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).not.toBe(first);
    expect(put.map(p => p.bus)).toEqual(['default', 'default']);
    expect(put[0].event).toEqual({
      'version': '0',
      'id': first,
      'detail-type': 'Drain Started',
      'source': SOURCE,
      'account': ACCOUNT,
      'time': now,
      'region': 'us-east-1',
      'resources': ['arn:aws:ec2:us-east-1:123456789012:instance/i-1'],
      'detail': { n: 1 },
    });
    expect(put[1].event).toMatchObject({ id: second, resources: [], detail: { n: 2 } });
    expect(h.emulator.stats.calls['events:PutEvents']).toBe(1);
    expect(h.emulator.stats.putEvents).toMatchObject({ entries: 2, accepted: 2, failed: {} });
    expect(h.emulator.busyRequests).toBe(0);
  });

  test('Time is the entry\'s (to the second) when given', async () => {
    await client.putEvents([entry(1, { Time: new Date('2026-11-28T10:00:07.900Z') })]);
    expect(put[0].event.time).toBe('2026-11-28T10:00:07Z');
  });

  test('EventBusName as a name or an ARN puts the event on that bus', async () => {
    expect(h.emulator.createEventBus('drain')).toBe(BUS('drain'));
    await client.putEvents([entry(1, { EventBusName: 'drain' }), entry(2, { EventBusName: BUS('drain') }), entry(3, { EventBusName: BUS('default') })]);
    expect(put.map(p => [p.bus, p.event.detail.n])).toEqual([['drain', 1], ['drain', 2], ['default', 3]]);
    expect(h.emulator.eventBuses()).toEqual(['default', 'drain']);
  });

  test('a bus that does not exist: an EventId and nothing delivered (AWS\'s answer), counted', async () => {
    const out = await client.putEvents([entry(1, { EventBusName: 'missing' }), entry(2, { EventBusName: 'arn:aws:events:us-east-1:999999999999:event-bus/x' })]);
    expect(out).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }, { EventId: expect.any(String) }] });
    expect(put).toEqual([]);
    expect(h.emulator.stats.putEvents.droppedUnknownBus).toBe(2);
  });
});

describe('limits that fail the whole call (ValidationException, HTTP 400, nothing put)', () => {
  let h: Harness;
  let client: EventBridgeClient;
  let put: Put[];
  beforeEach(async () => ({ h, client, put } = await start()));
  afterEach(() => h.close());

  test('1 to 10 entries', async () => {
    const none = await failure(client.putEvents([]));
    expect(none).toMatchObject({ name: 'ValidationException', httpStatusCode: 400 });
    expect(none.message).toMatch(/^1 validation error detected: .* at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1$/);
    const eleven = await failure(client.putEvents(Array.from({ length: 11 }, (_, i) => entry(i))));
    expect(eleven).toMatchObject({ name: 'ValidationException' });
    expect(eleven.message).toMatch(/Member must have length less than or equal to 10$/);
    const missing = await failure(client.send('PutEvents', {}));
    expect(missing.message).toMatch(/Value null at 'entries' failed to satisfy constraint: Member must not be null/);
    expect(put).toEqual([]);
    const ten = await client.putEvents(Array.from({ length: 10 }, (_, i) => entry(i)));
    expect(ten.Entries).toHaveLength(10);
  });

  test('the total entry size must be less than 256 KB, counted as "Calculating PutEvents event entry size" says', async () => {
    expect(entrySize({ Time: 1, Source: 'ab', DetailType: 'é', Detail: '{}', Resources: ['xyz', 'w'] })).toBe(14 + 2 + 2 + 2 + 4);
    const base = entry(0);
    const fixed = entrySize({ ...base, Detail: '' });
    const detailOf = (bytes: number) => JSON.stringify({ p: 'x'.repeat(bytes - 8) });
    // Two entries whose sizes add up to 256 KiB minus one byte: accepted.
    const half = Math.floor((262_143 - 2 * fixed) / 2);
    const sizes = [half, 262_143 - 2 * fixed - half];
    const fits = sizes.map(size => ({ ...base, Detail: detailOf(size) }));
    expect(fits.reduce((sum, e) => sum + entrySize(e), 0)).toBe(262_143);
    expect((await client.putEvents(fits)).FailedEntryCount).toBe(0);
    // One byte more (or a Time, 14 bytes more): the whole call.
    const over = [fits[0], { ...fits[1], Detail: detailOf(sizes[1] + 1) }];
    const refused = await failure(client.putEvents(over));
    expect(refused).toMatchObject({ name: 'ValidationException', message: 'Total size of the entries in the request is over the limit.', httpStatusCode: 400 });
    await expect(client.putEvents([fits[0], { ...fits[1], Time: new Date(0) }])).rejects.toThrow('Total size of the entries');
    expect(put).toHaveLength(2);
  });

  test('the entries\' shape: EventBusName pattern, TraceHeader length', async () => {
    const bad = await failure(client.putEvents([entry(1, { EventBusName: 'no spaces' })]));
    expect(bad.message).toMatch(/at 'entries.1.member.eventBusName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    const trace = await failure(client.putEvents([entry(1), entry(2, { TraceHeader: 'x'.repeat(501) })]));
    expect(trace.message).toMatch(/at 'entries.2.member.traceHeader'/);
    await expect(client.putEvents([entry(1)], { EndpointId: 'abcde.veo' })).rejects.toThrow(/not modelled/);
    expect(put).toEqual([]);
  });
});

describe('per-entry failures (PutEventsResultEntry): HTTP 200, FailedEntryCount, the other entries go on', () => {
  let h: Harness;
  let client: EventBridgeClient;
  let put: Put[];
  beforeEach(async () => ({ h, client, put } = await start()));
  afterEach(() => h.close());

  test('Source, DetailType and Detail are required (InvalidArgument); Detail must be a JSON object (MalformedDetail)', async () => {
    const out = await client.putEvents([
      { DetailType: 'x', Detail: '{}' },
      entry(1),
      { Source: SOURCE, Detail: '{}' },
      { Source: SOURCE, DetailType: 'x' },
      entry(2, { Detail: '"a string"' }),
      entry(3, { Detail: '[1]' }),
      entry(4, { Detail: '{not json' }),
      entry(5, { Source: '' }),
      entry(6, { DetailType: 'd'.repeat(129) }),
      entry(7, { DetailType: 'd'.repeat(128) }),
    ]);
    expect(out.FailedEntryCount).toBe(8);
    expect(out.Entries).toEqual([
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { EventId: expect.any(String) },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringMatching(/DetailType is longer than 128 characters/) },
      { EventId: expect.any(String) },
    ]);
    expect(put.map(p => p.event.detail.n)).toEqual([1, 7]);
    expect(h.emulator.stats.putEvents).toMatchObject({ entries: 10, accepted: 2, failed: { InvalidArgument: 5, MalformedDetail: 3 } });
  });

  test('a request in which no entry has all three: every entry fails, still HTTP 200', async () => {
    const out = await client.putEvents([{ DetailType: 'x', Detail: '{}' }, { Source: SOURCE }]);
    expect(out.FailedEntryCount).toBe(2);
  });

  test('a source starting with "aws." is not the caller\'s to use (NotAuthorizedForSourceException)', async () => {
    const out = await client.putEvents([entry(1, { Source: 'aws.ecs' }), entry(2)]);
    expect(out.Entries[0]).toEqual({ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' });
    expect(put).toHaveLength(1);
  });
});

describe('option unknownBus: \'fail\' (not AWS\'s answer)', () => {
  test('an entry naming a bus that does not exist fails with ResourceNotFoundException', async () => {
    const { h, client } = await start({ putEvents: { unknownBus: 'fail' } });
    try {
      const out = await client.putEvents([entry(1, { EventBusName: 'missing' }), entry(2)]);
      expect(out.Entries[0]).toEqual({ ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus missing does not exist.' });
      expect(out.FailedEntryCount).toBe(1);
    } finally {
      h.close();
    }
  });
});

describe('IAM per entry ("Actions, resources, and condition keys for Amazon EventBridge": events:PutEvents on event-bus)', () => {
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/drain`;
  const principal = (statements: unknown[]): IamPrincipal => ({
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/drain/fn`, roleArn: ROLE, policies: [parsePolicy('p', { Version: '2012-10-17', Statement: statements })],
  });
  let h: Harness;
  let put: Put[];
  let as: (statements: unknown[]) => EventBridgeClient;
  beforeEach(async () => {
    ({ h, put } = await start());
    h.emulator.createEventBus('drain');
    let current: IamPrincipal | undefined;
    h.emulator.identify = id => (id === 'fn#1' ? current : undefined);
    as = statements => {
      current = principal(statements);
      return new EventBridgeClient(h.endpoint, { invocationId: 'fn#1' });
    };
  });
  afterEach(() => h.close());

  test('the rule: the entry\'s bus ARN, events:source, events:detail-type, events:eventBusInvocation false', () => {
    expect(h.emulator.servedOperations.events).toEqual(['PutEvents']);
    expect(h.emulator.authorizationRequest('events', 'PutEvents', { Source: SOURCE, DetailType: 'T', EventBusName: 'drain' })).toEqual({
      action: 'events:PutEvents',
      resources: [BUS('drain')],
      context: { 'events:source': SOURCE, 'events:detail-type': 'T', 'events:eventBusInvocation': 'false' },
      namesResource: true,
    });
    expect(h.emulator.authorizationRequest('events', 'PutEvents', {})).toMatchObject({ resources: [BUS('default')], context: { 'events:eventBusInvocation': 'false' } });
  });

  test('a role without events:PutEvents: every entry AccessDeniedException with IAM\'s message; counted as denied; nothing put', async () => {
    const out = await as([{ Effect: 'Allow', Action: 'ecs:ListTasks', Resource: '*' }]).putEvents([entry(1), entry(2, { EventBusName: 'drain' })]);
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries[0]).toEqual({
      ErrorCode: 'AccessDeniedException',
      ErrorMessage: `User: arn:aws:sts::${ACCOUNT}:assumed-role/drain/fn is not authorized to perform: events:PutEvents on resource: ${BUS('default')} `
        + 'because no identity-based policy allows the events:PutEvents action',
    });
    expect(put).toEqual([]);
    expect(h.emulator.stats.denied['events:PutEvents']).toBe(2);
    expect(h.emulator.stats.totalDenied).toBe(2);
    expect(h.emulator.stats.deniedRequests[1]).toMatchObject({ action: 'events:PutEvents', resource: BUS('drain'), invocationId: 'fn#1' });
  });

  test('a grant on one bus: entries for another bus are refused, the rest are put', async () => {
    const client = as([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS('drain') }]);
    const out = await client.putEvents([entry(1, { EventBusName: 'drain' }), entry(2), entry(3, { EventBusName: BUS('drain') })]);
    expect(out.Entries.map(e => e.ErrorCode ?? 'ok')).toEqual(['ok', 'AccessDeniedException', 'ok']);
    expect(put.map(p => p.event.detail.n)).toEqual([1, 3]);
  });

  test('an events:source condition is evaluated per entry; so is events:detail-type (StringEquals, ForAllValues:StringEquals)', async () => {
    for (const operator of ['StringEquals', 'ForAllValues:StringEquals']) {
      put.length = 0;
      const client = as([{
        Effect: 'Allow', Action: 'events:PutEvents', Resource: '*', Condition: { [operator]: { 'events:source': SOURCE, 'events:detail-type': ['Drain Started', 'Drain Done'] } },
      }]);
      const out = await client.putEvents([entry(1), entry(2, { Source: 'com.example.other' }), entry(3, { DetailType: 'Drain Done' }), entry(4, { DetailType: 'Other' })]);
      expect(out.Entries.map(e => e.ErrorCode ?? 'ok')).toEqual(['ok', 'AccessDeniedException', 'ok', 'AccessDeniedException']);
      expect(put.map(p => p.event.detail.n)).toEqual([1, 3]);
    }
  });

  test('an explicit deny of a source wins over an allow', async () => {
    const client = as([
      { Effect: 'Allow', Action: 'events:*', Resource: '*' },
      { Effect: 'Deny', Action: 'events:PutEvents', Resource: '*', Condition: { StringLike: { 'events:source': 'com.example.other*' } } },
    ]);
    const out = await client.putEvents([entry(1), entry(2, { Source: 'com.example.other.x' })]);
    expect(out.Entries[1]).toMatchObject({ ErrorCode: 'AccessDeniedException', ErrorMessage: expect.stringMatching(/with an explicit deny in an identity-based policy$/) });
    expect(put).toHaveLength(1);
  });

  test('requests without the invocation header act as the administrator (not checked)', async () => {
    const out = await new EventBridgeClient(h.endpoint).putEvents([entry(1)]);
    expect(out.FailedEntryCount).toBe(0);
  });
});

describe('injected faults (option putEvents.faults, off by default, from the seed)', () => {
  test('errorRate 1: every call InternalException (HTTP 500), nothing put, counted as an injected error', async () => {
    const { h, client, put } = await start({ putEvents: { faults: { errorRate: 1 } } });
    try {
      const error = await failure(client.putEvents([entry(1)]));
      expect(error).toMatchObject({ name: 'InternalException', httpStatusCode: 500 });
      expect(put).toEqual([]);
      expect(h.emulator.stats.injectedErrors['events:PutEvents']).toBe(1);
      h.emulator.setPutEventsFaults({});
      expect((await client.putEvents([entry(2)])).FailedEntryCount).toBe(0);
    } finally {
      h.close();
    }
  });

  test('entryFailureRate: some entries InternalFailure (retryable) in a 200, the same ones for the same seed', async () => {
    const pattern = async (seed: number) => {
      const { h, client, put } = await start({ seed, putEvents: { faults: { entryFailureRate: 0.5 } } });
      try {
        const out = await client.putEvents(Array.from({ length: 10 }, (_, i) => entry(i)));
        const codes = out.Entries.map(e => e.ErrorCode ?? 'ok');
        expect(out.FailedEntryCount).toBe(codes.filter(c => c !== 'ok').length);
        expect(put).toHaveLength(codes.filter(c => c === 'ok').length);
        expect(out.Entries.find(e => e.ErrorCode)).toEqual({ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Failure' });
        return codes.join(',');
      } finally {
        h.close();
      }
    };
    const first = await pattern(11);
    expect(first).toContain('InternalFailure');
    expect(first).toContain('ok');
    expect(await pattern(11)).toBe(first);
  });

  test('off by default; the ECS/Auto Scaling errorRate does not touch PutEvents', async () => {
    const { h, client } = await start({ faults: { errorRate: 1 } });
    try {
      expect((await client.putEvents([entry(1)])).FailedEntryCount).toBe(0);
    } finally {
      h.close();
    }
  });
});

describe('throttling and request accounting, as for ECS and Auto Scaling', () => {
  test('PutEvents has its own bucket ("Amazon EventBridge quotas"); a throttled call is ThrottlingException, HTTP 400', async () => {
    const { h, client, put } = await start({ throttling: { capacity: 2, refillPerSecond: 1 } });
    try {
      await client.putEvents([entry(1)]);
      await client.putEvents([entry(2)]);
      const throttled = await failure(client.putEvents([entry(3)]));
      expect(throttled).toMatchObject({ name: 'ThrottlingException', httpStatusCode: 400 });
      expect(put).toHaveLength(2);
      expect(h.emulator.stats.throttled['events:PutEvents']).toBe(1);
      h.advance(1000);
      await client.putEvents([entry(4)]);
      expect(h.emulator.stats.calls['events:PutEvents']).toBe(4);
    } finally {
      h.close();
    }
  });

  test('onRequest sees service events with the invocation; \'hang\' leaves the request unanswered and not busy', async () => {
    const { h, client } = await start();
    const seen: unknown[] = [];
    h.emulator.onRequest = info => {
      seen.push(info);
      return info.invocationId === 'gone#1' ? 'hang' : 'continue';
    };
    try {
      await new EventBridgeClient(h.endpoint, { invocationId: 'fn#2' }).putEvents([entry(1)]);
      expect(seen).toEqual([{ invocationId: 'fn#2', service: 'events', operation: 'PutEvents' }]);
      const before = h.emulator.activity;
      void new EventBridgeClient(h.endpoint, { invocationId: 'gone#1' }).putEvents([entry(2)]).catch(() => undefined);
      await new Promise(resolve => setTimeout(resolve, 50));
      expect(h.emulator.activity).toBe(before + 1);
      expect(h.emulator.busyRequests).toBe(0);
      await client.putEvents([entry(3)]);
    } finally {
      h.close();
    }
  });

  test('an unknown AWSEvents operation: UnknownOperationException', async () => {
    const { h, client } = await start();
    try {
      const error = await failure(client.send('DescribeEventBus', {}));
      expect(error).toBeInstanceOf(EventBridgeServiceError);
      expect(error).toMatchObject({ name: 'UnknownOperationException', httpStatusCode: 400 });
    } finally {
      h.close();
    }
  });
});

describe('buses (world API)', () => {
  test('CreateEventBus refuses default, an existing name and a bad name; the default bus cannot be deleted', async () => {
    const { h } = await start();
    try {
      expect(() => h.emulator.createEventBus('default')).toThrow(/not valid/);
      h.emulator.createEventBus('a');
      expect(() => h.emulator.createEventBus('a')).toThrow('Event bus a already exists.');
      expect(() => h.emulator.createEventBus('with space')).toThrow(/not valid/);
      expect(() => h.emulator.deleteEventBus('default')).toThrow('Cannot delete event bus default.');
      h.emulator.deleteEventBus('a');
      expect(h.emulator.hasEventBus('a')).toBe(false);
    } finally {
      h.close();
    }
  });
});

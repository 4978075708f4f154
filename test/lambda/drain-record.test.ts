/**
 * drain-record.ts: the one custom attribute value the controller keeps on a container instance.
 */
import { drainRecordValue } from './fixtures';
import { formatDrainRecord, formatParked, parseAttributeValue } from '../../lambda/drain-record';

describe('formatDrainRecord', () => {
  test('writes deadline, start and hook clock (epoch seconds, rounded down) in one readable value', () => {
    // GIVEN a drain, times in epoch milliseconds
    const record = { deadline: 1_795_860_000_999, startedAt: 1_795_856_400_500, hookClockFrom: 1_795_856_390_900 };

    // WHEN formatted
    const value = formatDrainRecord(record);

    // THEN the value is the documented format, within ECS's attribute value pattern and 128 characters
    expect(value).toBe('deadline:1795860000 started:1795856400 hook:1795856390');
    expect(value).toMatch(/^[A-Za-z0-9: ]{1,128}$/);
  });

  test('leaves the hook clock out when it is not known', () => {
    expect(formatDrainRecord({ deadline: 10_000, startedAt: 5_000 })).toBe('deadline:10 started:5');
  });

  test('rounds the hook clock down, so that it stays at or before the real start', () => {
    expect(parseAttributeValue(formatDrainRecord({ deadline: 10_000, startedAt: 5_000, hookClockFrom: 4_999 }))).toEqual({
      kind: 'drain', record: { deadline: 10_000, startedAt: 5_000, hookClockFrom: 4_000 },
    });
  });

  test('keeps the causes a drain was last announced waiting for (waits), and reads records without them', () => {
    const record = { deadline: 10_000, startedAt: 5_000, hookClockFrom: 4_000, waits: 6 };
    expect(formatDrainRecord(record)).toBe('deadline:10 started:5 hook:4 waits:6');
    expect(parseAttributeValue('deadline:10 started:5 hook:4 waits:6')).toEqual({ kind: 'drain', record });
    expect(parseAttributeValue('deadline:10 started:5 waits:x')).toBeUndefined();
  });

  test('round-trips through parseAttributeValue (at second precision)', () => {
    const record = { deadline: 1_795_860_000_000, startedAt: 1_795_856_400_000, hookClockFrom: 1_795_856_000_000 };
    expect(parseAttributeValue(formatDrainRecord(record))).toEqual({ kind: 'drain', record });
  });
});

describe('parseAttributeValue', () => {
  test('reads the fields as epoch milliseconds, whatever their order', () => {
    expect(parseAttributeValue(drainRecordValue(1800000000, 1799996400, 1799996000))).toEqual({
      kind: 'drain', record: { deadline: 1_800_000_000_000, startedAt: 1_799_996_400_000, hookClockFrom: 1_799_996_000_000 },
    });
    expect(parseAttributeValue('hook:4 started:5 deadline:10')).toEqual({ kind: 'drain', record: { deadline: 10_000, startedAt: 5_000, hookClockFrom: 4_000 } });
  });

  test('reads a record of an earlier version (with a registration count) without its count and without a hook clock', () => {
    expect(parseAttributeValue('deadline:10 started:5 registrations:1')).toEqual({ kind: 'drain', record: { deadline: 10_000, startedAt: 5_000 } });
  });

  test('reads a parked marker', () => {
    expect(parseAttributeValue(formatParked(1_795_859_000_500))).toEqual({ kind: 'parked', parkedAt: 1_795_859_000_000 });
  });

  test('an unset attribute is nothing', () => {
    expect(parseAttributeValue(undefined)).toBeUndefined();
  });

  test.each([
    ['an empty value', ''],
    ['the old single deadline attribute value', '1800000000'],
    ['a missing deadline', 'started:5 hook:1'],
    ['a missing start', 'deadline:10 hook:1'],
    ['empty fields (Number("") is 0: a deadline long passed)', 'deadline: started: hook:'],
    ['one empty field', 'deadline: started:5'],
    ['a non-numeric deadline', 'deadline:soon started:5'],
    ['a negative start', 'deadline:10 started:-5'],
    ['a fractional deadline', 'deadline:10.5 started:5'],
    ['an exponent', 'deadline:1e3 started:5'],
    ['a hexadecimal number', 'deadline:0x10 started:5'],
    ['a field with two colons', 'deadline:10:20 started:5'],
    ['a double space', 'deadline:10  started:5'],
    ['a field given twice', 'deadline:10 started:5 deadline:20'],
    ['an unknown field', 'deadline:10 started:5 owner:7'],
    ['a parked marker with more fields', 'parked:10 deadline:20'],
  ])('treats %s as nothing (never as a deadline that passed)', (_name, value) => {
    expect(parseAttributeValue(value)).toBeUndefined();
  });
});

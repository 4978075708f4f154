/**
 * drain-record.ts: the one custom attribute value that records a drain on a container instance.
 */
import { drainRecordValue } from './fixtures';
import { formatDrainRecord, parseDrainRecord } from '../../lambda/drain-record';

describe('formatDrainRecord', () => {
  test('writes deadline, start (epoch seconds, rounded down) and the registration count in one readable value', () => {
    // GIVEN a drain of two registrations, times in epoch milliseconds
    const record = { deadline: 1_795_860_000_999, startedAt: 1_795_856_400_500, registrations: 2 };

    // WHEN formatted
    const value = formatDrainRecord(record);

    // THEN the value is the documented format, within ECS's 128 characters of letters, digits, colons and spaces
    expect(value).toBe('deadline:1795860000 started:1795856400 registrations:2');
    expect(value).toMatch(/^[A-Za-z0-9: ]{1,128}$/);
  });

  test('round-trips through parseDrainRecord (at second precision)', () => {
    const record = { deadline: 1_795_860_000_000, startedAt: 1_795_856_400_000, registrations: 1 };
    expect(parseDrainRecord(formatDrainRecord(record))).toEqual(record);
  });
});

describe('parseDrainRecord', () => {
  test('reads the fields as epoch milliseconds, whatever their order', () => {
    expect(parseDrainRecord(drainRecordValue(1800000000, 1799996400, 3))).toEqual({
      deadline: 1_800_000_000_000, startedAt: 1_799_996_400_000, registrations: 3,
    });
    expect(parseDrainRecord('registrations:1 started:5 deadline:10')).toEqual({ deadline: 10_000, startedAt: 5_000, registrations: 1 });
  });

  test('an unset attribute is no record', () => {
    expect(parseDrainRecord(undefined)).toBeUndefined();
  });

  test.each([
    ['an empty value', ''],
    ['the old single deadline attribute value', '1800000000'],
    ['a missing deadline', 'started:5 registrations:1'],
    ['a missing start', 'deadline:10 registrations:1'],
    ['a missing registration count', 'deadline:10 started:5'],
    ['empty fields (Number("") is 0: a deadline long passed)', 'deadline: started: registrations:'],
    ['one empty field', 'deadline: started:5 registrations:1'],
    ['a non-numeric deadline', 'deadline:soon started:5 registrations:1'],
    ['a negative start', 'deadline:10 started:-5 registrations:1'],
    ['a fractional deadline', 'deadline:10.5 started:5 registrations:1'],
    ['an exponent', 'deadline:1e3 started:5 registrations:1'],
    ['a hexadecimal number', 'deadline:0x10 started:5 registrations:1'],
    ['a field with two colons', 'deadline:10:20 started:5 registrations:1'],
    ['zero registrations', 'deadline:10 started:5 registrations:0'],
    ['a double space', 'deadline:10  started:5 registrations:1'],
  ])('treats %s as no record', (_name, value) => {
    expect(parseDrainRecord(value)).toBeUndefined();
  });
});

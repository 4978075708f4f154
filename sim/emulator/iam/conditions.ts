/**
 * The `Condition` element of a policy statement, as the IAM user guide defines it:
 * - "IAM JSON policy elements: Condition operators": the operators, their `...IfExists` form and
 *   the `Null` check. A key that is absent from the request context makes a condition false,
 *   except that a negated operator (`StringNotEquals`, `ArnNotLike`, ...) is then true, and
 *   `...IfExists` is then true; `Null` tests the absence itself.
 * - "Conditions with multiple context keys or values": operators AND, keys of one operator AND,
 *   values of one key OR (NOR for a negated operator).
 * - "Set operators for multivalued context keys": `ForAnyValue:` (some request value matches;
 *   false when the key is absent) and `ForAllValues:` (every request value matches; true when
 *   the key is absent or empty).
 * - "IAM JSON policy elements: Condition": condition key names are case-insensitive.
 *
 * Date, IP address and binary operators are not modelled: a policy using one is refused when it
 * is loaded (see parseCondition), never evaluated wrongly.
 */
import { arnLikePattern, stringLikePattern, ValueTest } from './wildcards';

/** Request context: key → value (a multivalued key holds an array). Keys in any case. */
export type ContextKeys = Readonly<Record<string, string | readonly string[]>>;

/** The request context with its keys lower-cased, built once per request. */
export type ContextLookup = ReadonlyMap<string, string | readonly string[]>;

/** A policy value compiled into a test of request values. */
type Matcher = (expected: string) => ValueTest;

interface BaseOperator {
  readonly match: Matcher;
  /** A negated operator: true when no policy value matches (and when the key is absent). */
  readonly negated: boolean;
}

const isNumber = (text: string) => text.trim() !== '' && Number.isFinite(Number(text));
const numeric = (compare: (a: number, b: number) => boolean): Matcher => expected => {
  const b = Number(expected);
  return actual => isNumber(actual) && isNumber(expected) && compare(Number(actual), b);
};
const positive = (match: Matcher): BaseOperator => ({ match, negated: false });
const negated = (match: Matcher): BaseOperator => ({ match, negated: true });

const equals: Matcher = e => a => a === e;
const equalsIgnoreCase: Matcher = e => a => a.toLowerCase() === e.toLowerCase();
const arnMatch: Matcher = arnLikePattern;
const numericEquals = numeric((a, b) => a === b);

/** Operators by name (without a set prefix or the IfExists suffix). */
const OPERATORS: Record<string, BaseOperator> = {
  StringEquals: positive(equals),
  StringNotEquals: negated(equals),
  StringEqualsIgnoreCase: positive(equalsIgnoreCase),
  StringNotEqualsIgnoreCase: negated(equalsIgnoreCase),
  StringLike: positive(stringLikePattern),
  StringNotLike: negated(stringLikePattern),
  NumericEquals: positive(numericEquals),
  NumericNotEquals: negated(numericEquals),
  NumericLessThan: positive(numeric((a, b) => a < b)),
  NumericLessThanEquals: positive(numeric((a, b) => a <= b)),
  NumericGreaterThan: positive(numeric((a, b) => a > b)),
  NumericGreaterThanEquals: positive(numeric((a, b) => a >= b)),
  // "Boolean condition operators": the values true and false, as strings or JSON booleans.
  Bool: positive(equalsIgnoreCase),
  // "Amazon Resource Name (ARN) condition operators": ArnEquals and ArnLike are the same test.
  ArnEquals: positive(arnMatch),
  ArnLike: positive(arnMatch),
  ArnNotEquals: negated(arnMatch),
  ArnNotLike: negated(arnMatch),
};

/** One `operator: { key: values }` entry, parsed. */
interface ConditionTest {
  readonly operator: string;
  readonly set?: 'ForAnyValue' | 'ForAllValues';
  readonly ifExists: boolean;
  /** undefined: the Null check. */
  readonly base?: BaseOperator;
  readonly key: string;
  readonly values: readonly string[];
  /** The values compiled with the operator (none for Null). */
  readonly tests: readonly ValueTest[];
}

export type ParsedCondition = readonly ConditionTest[];

/** Parses a statement's Condition element; throws on what IAM would reject or the emulator does not model. */
export function parseCondition(condition: unknown, where: string): ParsedCondition {
  if (condition === undefined) return [];
  if (!isObject(condition)) throw new Error(`${where}: Condition must be an object`);
  const tests: ConditionTest[] = [];
  for (const [operator, block] of Object.entries(condition)) {
    const match = /^(?:(ForAnyValue|ForAllValues):)?(.+?)(IfExists)?$/.exec(operator)!;
    const [, set, name, ifExists] = match;
    const base = OPERATORS[name];
    if (!base && name !== 'Null') throw new Error(`${where}: condition operator ${operator} is not modelled by the emulator`);
    if (name === 'Null' && (set || ifExists)) throw new Error(`${where}: ${operator} is not a valid condition operator`);
    if (!isObject(block)) throw new Error(`${where}: ${operator} must map condition keys to values`);
    for (const [key, raw] of Object.entries(block)) {
      const values = [raw].flat().map(v => {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          throw new Error(`${where}: ${operator} ${key} has a value that is not a string, number or boolean`);
        }
        return String(v);
      });
      if (values.length === 0) throw new Error(`${where}: ${operator} ${key} has no value`);
      tests.push({
        operator,
        set: set as ConditionTest['set'],
        ifExists: ifExists !== undefined,
        base,
        key: key.toLowerCase(),
        values,
        tests: base ? values.map(base.match) : [],
      });
    }
  }
  return tests;
}

/** True when every test of the condition holds for the request context (AND across operators and keys). */
export function conditionHolds(condition: ParsedCondition, context: ContextLookup): boolean {
  return condition.every(test => testHolds(test, context.get(test.key)));
}

/** The context as conditionHolds reads it: key names are case-insensitive. */
export function contextLookup(context: ContextKeys): ContextLookup {
  return new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
}

function testHolds(test: ConditionTest, value: string | readonly string[] | undefined): boolean {
  const actual = value === undefined ? undefined : [value].flat();
  const absent = actual === undefined || (test.set !== undefined && actual.length === 0);
  if (!test.base) {
    // Null: "true" asks that the key be absent, "false" that it be present.
    return test.values.some(v => v.toLowerCase() === (absent ? 'true' : 'false'));
  }
  if (absent) {
    if (test.ifExists) return true;
    if (test.set === 'ForAllValues') return true;
    if (test.set === 'ForAnyValue') return false;
    return test.base.negated;
  }
  const holdsFor = (one: string) => {
    const matched = test.tests.some(matches => matches(one));
    return test.base!.negated ? !matched : matched;
  };
  if (test.set === 'ForAllValues') return actual.every(holdsFor);
  if (test.set === 'ForAnyValue') return actual.some(holdsFor);
  // A single-valued operator: the request's value (any of them, for a list) against the policy's.
  return test.base.negated ? actual.every(holdsFor) : actual.some(holdsFor);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * EventBridge event pattern matching (EventBridge user guide, "Event patterns" and "Content
 * filtering"): every field of the pattern must match; a leaf is an array of alternatives, each
 * an exact value (string, number, null) or a content filter (`prefix`, `suffix`,
 * `equals-ignore-case`, `anything-but`, `exists`, `numeric`); a nested object matches a nested
 * field; when the event's value is an array, the field matches if any element does.
 */

export type EventPattern = { readonly [field: string]: unknown };

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: EventPattern, value: unknown): boolean {
  for (const [field, rule] of Object.entries(pattern)) {
    if (field === '$or') {
      if (!(rule as EventPattern[]).some(alternative => matchObject(alternative, value))) return false;
      continue;
    }
    const present = isRecord(value) && field in value;
    const fieldValue = present ? (value as Record<string, unknown>)[field] : undefined;
    if (Array.isArray(rule)) {
      if (!matchLeaf(rule, present, fieldValue)) return false;
    } else if (isRecord(rule)) {
      if (!present || !matchObject(rule as EventPattern, fieldValue)) return false;
    } else {
      throw new Error(`invalid event pattern at "${field}": a leaf must be an array`);
    }
  }
  return true;
}

function matchLeaf(alternatives: unknown[], present: boolean, value: unknown): boolean {
  // A missing field can only match `{ "exists": false }`.
  const values = Array.isArray(value) ? value : [value];
  return alternatives.some(alternative => {
    if (isRecord(alternative)) {
      if ('exists' in alternative) return alternative.exists === (present && value !== undefined);
      if (!present) return false;
      return values.some(v => matchFilter(alternative, v));
    }
    if (!present) return false;
    return values.some(v => v === alternative);
  });
}

function matchFilter(filter: Record<string, unknown>, value: unknown): boolean {
  const [operator, operand] = Object.entries(filter)[0] ?? [];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && matchAffix('prefix', operand, value);
    case 'suffix':
      return typeof value === 'string' && matchAffix('suffix', operand, value);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'anything-but':
      return !anythingButExcludes(operand, value);
    case 'numeric':
      return typeof value === 'number' && matchNumeric(operand as unknown[], value);
    case 'wildcard':
      return typeof value === 'string' && typeof operand === 'string' && wildcard(operand).test(value);
    default:
      throw new Error(`unsupported event pattern filter ${JSON.stringify(filter)}`);
  }
}

/** `prefix`/`suffix` take a string or `{ "equals-ignore-case": string }`. */
function matchAffix(kind: 'prefix' | 'suffix', operand: unknown, value: string): boolean {
  let wanted: string;
  let subject = value;
  if (typeof operand === 'string') {
    wanted = operand;
  } else if (isRecord(operand) && typeof operand['equals-ignore-case'] === 'string') {
    wanted = (operand['equals-ignore-case'] as string).toLowerCase();
    subject = value.toLowerCase();
  } else {
    return false;
  }
  return kind === 'prefix' ? subject.startsWith(wanted) : subject.endsWith(wanted);
}

/** `anything-but` takes a value, a list of values, or a `prefix`/`suffix` filter. */
function anythingButExcludes(operand: unknown, value: unknown): boolean {
  if (Array.isArray(operand)) return operand.some(o => o === value);
  if (isRecord(operand)) return matchFilter(operand, value);
  return operand === value;
}

function matchNumeric(conditions: unknown[], value: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const operator = conditions[i] as string;
    const bound = Number(conditions[i + 1]);
    const ok = operator === '=' ? value === bound
      : operator === '<' ? value < bound
        : operator === '<=' ? value <= bound
          : operator === '>' ? value > bound
            : operator === '>=' ? value >= bound : false;
    if (!ok) return false;
  }
  return true;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(p => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

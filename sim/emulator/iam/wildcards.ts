/**
 * The wildcard matching of IAM policies: `*` (any run of characters) and `?` (one character).
 * Where a wildcard may not cross a colon, and what is case-insensitive, follows the IAM user guide:
 * - "IAM JSON policy elements: Action": the service prefix and the action name are case
 *   insensitive; `*` and `?` may stand anywhere in the name.
 * - "IAM JSON policy elements: Resource": wildcards work within any ARN segment (the parts between
 *   colons); a `*` that is the last character of a segment may expand beyond the colon boundaries.
 * - "IAM JSON policy elements: Condition operators": `StringLike` matches case-sensitively with
 *   `*` and `?` anywhere; `ArnLike`/`ArnEquals` check each of the six colon-delimited ARN
 *   components separately, each with `*` and `?`.
 */

/** Matches an action (`ecs:ListTasks`) against an Action element value (`ecs:List*`). */
export function actionMatches(pattern: string, action: string): boolean {
  return compiled('action', pattern, () => globRegExp(pattern, '.*', '.', 'i')).test(action);
}

/** Matches a request's resource ARN (or `*`) against a Resource element value. */
export function resourceMatches(pattern: string, resource: string): boolean {
  return compiled('resource', pattern, () => resourceRegExp(pattern)).test(resource);
}

/** `StringLike`: case-sensitive, `*` and `?` anywhere. */
export function stringLike(pattern: string, value: string): boolean {
  return compiled('string', pattern, () => globRegExp(pattern, '.*', '.', '')).test(value);
}

function resourceRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      // Last character of a segment: may run past the colons that follow.
      const endsSegment = i === pattern.length - 1 || pattern[i + 1] === ':';
      source += endsSegment ? '.*' : '[^:]*';
    } else if (c === '?') {
      source += '[^:]';
    } else {
      source += escape(c);
    }
  }
  return new RegExp(`^${source}$`, 's');
}

/** `ArnLike` (and `ArnEquals`, documented alike): the six components compared one by one. */
export function arnLike(pattern: string, value: string): boolean {
  const expected = arnComponents(pattern);
  const actual = arnComponents(value);
  if (!expected || !actual) return false;
  return expected.every((part, i) => stringLike(part, actual[i]));
}

/** `arn:partition:service:region:account:resource`; the resource keeps any further colons. */
function arnComponents(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/**
 * Patterns come from the deployed policies only (a few dozen), and every call of a large
 * scale-in evaluates them again: each is compiled once.
 */
const patterns = new Map<string, RegExp>();

function compiled(kind: string, pattern: string, compile: () => RegExp): RegExp {
  const key = `${kind}\u0000${pattern}`;
  let regExp = patterns.get(key);
  if (!regExp) {
    regExp = compile();
    patterns.set(key, regExp);
  }
  return regExp;
}

function globRegExp(pattern: string, star: string, question: string, flags: string): RegExp {
  const source = [...pattern].map(c => (c === '*' ? star : c === '?' ? question : escape(c))).join('');
  return new RegExp(`^${source}$`, `s${flags}`);
}

function escape(c: string): string {
  return c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
}

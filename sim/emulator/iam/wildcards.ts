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
 *
 * Each function compiles a policy's pattern once (when the policy is loaded) into a test of values.
 */

export type ValueTest = (value: string) => boolean;

/** An Action element value (`ecs:List*`) as a test of actions (`ecs:ListTasks`). */
export function actionPattern(pattern: string): ValueTest {
  const regExp = globRegExp(pattern, '.*', '.', 'i');
  return action => regExp.test(action);
}

/** A Resource element value as a test of a request's resource ARN (or `*`). */
export function resourcePattern(pattern: string): ValueTest {
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
  const regExp = new RegExp(`^${source}$`, 's');
  return resource => regExp.test(resource);
}

/** `StringLike`: case-sensitive, `*` and `?` anywhere. */
export function stringLikePattern(pattern: string): ValueTest {
  const regExp = globRegExp(pattern, '.*', '.', '');
  return value => regExp.test(value);
}

/** `ArnLike` (and `ArnEquals`, documented alike): the six components compared one by one. */
export function arnLikePattern(pattern: string): ValueTest {
  const expected = arnComponents(pattern)?.map(stringLikePattern);
  return value => {
    const actual = arnComponents(value);
    return expected !== undefined && actual !== undefined && expected.every((matches, i) => matches(actual[i]));
  };
}

/** `arn:partition:service:region:account:resource`; the resource keeps any further colons. */
function arnComponents(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

function globRegExp(pattern: string, star: string, question: string, flags: string): RegExp {
  const source = [...pattern].map(c => (c === '*' ? star : c === '?' ? question : escape(c))).join('');
  return new RegExp(`^${source}$`, `s${flags}`);
}

function escape(c: string): string {
  return c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
}

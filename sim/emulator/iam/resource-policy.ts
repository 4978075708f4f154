/**
 * Resource-based policies (an Amazon SQS queue's `Policy`) and the decision for a request that
 * meets both such a policy and, for an IAM principal, its identity-based policies, within one
 * account, as the IAM user guide gives it:
 * - "IAM JSON policy elements: Principal": a resource-based policy names who it applies to:
 *   everyone (`"*"` or `{"AWS": "*"}`), an account (its ID or `arn:aws:iam::<id>:root`), a role
 *   (`arn:aws:iam::<id>:role/<name>`, which covers every session of the role), a role session
 *   (`arn:aws:sts::<id>:assumed-role/<name>/<session>`) or a service (`{"Service":
 *   "events.amazonaws.com"}`). `NotPrincipal` is not modelled: a policy using it is refused when it
 *   is loaded rather than evaluated wrongly.
 * - "Policy evaluation logic" ("Determining whether a request is allowed or denied within an
 *   account"; "How AWS enforcement code logic evaluates requests"): an explicit deny in any policy
 *   that applies wins; otherwise an allow in the resource-based policy for the principal (the role
 *   or the session) or in an identity-based policy allows; otherwise the request is implicitly
 *   denied. A grant to the account itself is a delegation: the account's IAM principals still need
 *   an identity-based allow ("Principal", AWS account principals); a deny to the account applies
 *   to all of them.
 *
 * The statements' Action, Resource and Condition are those of identity-based policies (policy.ts,
 * conditions.ts).
 */
import { ContextKeys, Decision, evaluate, parsePolicy, Policy } from './policy';

/** Who makes a request, as a resource-based policy's Principal element sees it. */
export type RequestPrincipal =
  /** An AWS service acting on its own behalf (EventBridge delivering to a queue). */
  | { readonly kind: 'service'; readonly service: string }
  /** A role session in `account` (a Lambda function's execution role). */
  | { readonly kind: 'role-session'; readonly account: string; readonly roleArn: string; readonly sessionArn: string };

type PrincipalMatch = 'everyone' | 'account' | 'exact' | 'none';

interface ResourceStatement {
  /** Which principals the statement names (compiled from its Principal element). */
  readonly principalMatch: (principal: RequestPrincipal) => PrincipalMatch;
  /** The statement without its Principal, as a one-statement policy. */
  readonly policy: Policy;
}

export interface ResourcePolicy {
  readonly name: string;
  readonly statements: readonly ResourceStatement[];
}

/** Parses a resource-based policy document; throws what IAM would refuse or the emulator does not model. */
export function parseResourcePolicy(name: string, document: unknown): ResourcePolicy {
  if (!isObject(document)) throw new Error(`policy ${name}: the document is not an object`);
  const raw = [document.Statement].flat();
  if (raw.length === 0 || raw[0] === undefined) throw new Error(`policy ${name}: no Statement`);
  const statements = raw.map((statement, i): ResourceStatement => {
    const where = `policy ${name}, statement ${isObject(statement) && statement.Sid ? String(statement.Sid) : i}`;
    if (!isObject(statement)) throw new Error(`${where}: a statement must be an object`);
    if (statement.NotPrincipal !== undefined) throw new Error(`${where}: NotPrincipal is not modelled by the emulator`);
    if (statement.Principal === undefined) throw new Error(`${where}: a resource-based policy statement needs a Principal`);
    const { Principal: principal, ...rest } = statement;
    return {
      principalMatch: principalMatcher(principal, where),
      policy: parsePolicy(`${name} (${where})`, { ...(document.Version !== undefined ? { Version: document.Version } : {}), Statement: [rest] }),
    };
  });
  return { name, statements };
}

export interface AccessRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: ContextKeys;
}

/**
 * The decision for `principal`'s request on a resource whose resource-based policy is
 * `resourcePolicy` (undefined: it has none), with the principal's identity-based policies (none
 * for a service principal).
 */
export function decideAccess(
  principal: RequestPrincipal,
  request: AccessRequest,
  resourcePolicy: ResourcePolicy | undefined,
  identityPolicies: readonly Policy[] = [],
): Decision {
  let resourceAllows = false;
  for (const statement of resourcePolicy?.statements ?? []) {
    const match = statement.principalMatch(principal);
    if (match === 'none') continue;
    const decision = evaluate([statement.policy], request);
    if (decision === 'explicit-deny') return 'explicit-deny';
    // An allow to the account is a delegation to its identity-based policies, not a grant.
    if (decision === 'allow' && match !== 'account') resourceAllows = true;
  }
  const identity = principal.kind === 'role-session' ? evaluate(identityPolicies, request) : 'implicit-deny';
  if (identity === 'explicit-deny') return 'explicit-deny';
  return resourceAllows || identity === 'allow' ? 'allow' : 'implicit-deny';
}

function principalMatcher(principal: unknown, where: string): (p: RequestPrincipal) => PrincipalMatch {
  if (principal === '*') return () => 'everyone';
  if (!isObject(principal)) throw new Error(`${where}: Principal must be "*" or an object`);
  const tests: Array<(p: RequestPrincipal) => PrincipalMatch> = [];
  for (const [type, values] of Object.entries(principal)) {
    const list = [values].flat();
    if (list.some(v => typeof v !== 'string')) throw new Error(`${where}: Principal ${type} values must be strings`);
    for (const value of list as string[]) {
      if (type === 'Service') {
        tests.push(p => (p.kind === 'service' && p.service === value ? 'exact' : 'none'));
      } else if (type === 'AWS') {
        tests.push(awsPrincipal(value, where));
      } else {
        throw new Error(`${where}: Principal type ${type} is not modelled by the emulator`);
      }
    }
  }
  return p => {
    let best: PrincipalMatch = 'none';
    for (const test of tests) {
      const match = test(p);
      if (match === 'exact' || match === 'everyone') return match;
      if (match === 'account') best = 'account';
    }
    return best;
  };
}

function awsPrincipal(value: string, where: string): (p: RequestPrincipal) => PrincipalMatch {
  if (value === '*') return () => 'everyone';
  const account = /^\d{12}$/.exec(value)?.[0] ?? /^arn:aws:iam::(\d{12}):root$/.exec(value)?.[1];
  if (account !== undefined) return p => (p.kind === 'role-session' && p.account === account ? 'account' : 'none');
  if (/^arn:aws:iam::\d{12}:role\//.test(value)) return p => (p.kind === 'role-session' && p.roleArn === value ? 'exact' : 'none');
  if (/^arn:aws:sts::\d{12}:assumed-role\//.test(value)) return p => (p.kind === 'role-session' && p.sessionArn === value ? 'exact' : 'none');
  throw new Error(`${where}: Principal AWS ${value} is not modelled by the emulator (an account, a role or a role session)`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

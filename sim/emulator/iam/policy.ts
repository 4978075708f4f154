/**
 * Identity-based policies and their evaluation within one account, as the IAM user guide gives it
 * ("Policy evaluation logic", "Determining whether a request is allowed or denied within an
 * account"): an explicit deny in any statement that applies wins; otherwise an allow in any
 * statement that applies allows; otherwise the request is implicitly denied. A statement applies
 * when its Action (or NotAction), its Resource (or NotResource) and its Condition all match
 * ("IAM JSON policy elements": Effect, Action, NotAction, Resource, NotResource, Condition).
 *
 * Only what an identity-based policy may hold is accepted: IAM refuses a `Principal` in one
 * ("IAM JSON policy elements: Principal": not used in identity-based policies), and a statement
 * needs exactly one of Action/NotAction and one of Resource/NotResource. Policy variables
 * (`${aws:username}`, policy version 2012-10-17) are not modelled: a policy using one is refused
 * when loaded rather than evaluated wrongly.
 */
import { conditionHolds, ContextKeys, ContextLookup, contextLookup, parseCondition, ParsedCondition } from './conditions';
import { actionPattern, resourcePattern, ValueTest } from './wildcards';

export type { ContextKeys } from './conditions';

/** A policy document as written in a template (`PolicyDocument`), intrinsics already resolved. */
export type PolicyDocument = Readonly<Record<string, unknown>>;

export interface PolicyStatement {
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  /** Exactly one of actions / notActions. */
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  /** Exactly one of resources / notResources. */
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
  readonly condition: ParsedCondition;
  /** Whether the statement's Action (or NotAction) lists the action. */
  readonly listsAction: ValueTest;
  /** Whether its Resource (or NotResource) lists the resource. */
  readonly listsResource: ValueTest;
}

/** A parsed identity-based policy, with the name diagnostics show. */
export interface Policy {
  readonly name: string;
  readonly statements: readonly PolicyStatement[];
}

export interface EvaluationRequest {
  /** `service:Action`, e.g. `ecs:ListTasks`. */
  readonly action: string;
  /** The ARN authorized, or `*` when the request names no resource. */
  readonly resource: string;
  readonly context: ContextKeys;
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** Parses and checks a policy document; throws with `name` in the message on what IAM would refuse. */
export function parsePolicy(name: string, document: unknown): Policy {
  if (!isObject(document)) throw new Error(`policy ${name}: the document is not an object`);
  const version = document.Version;
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17') {
    throw new Error(`policy ${name}: Version ${String(version)} is not a policy language version`);
  }
  if (version === '2012-10-17' && JSON.stringify(document.Statement).includes('${')) {
    throw new Error(`policy ${name}: policy variables are not modelled by the emulator`);
  }
  const raw = [document.Statement].flat();
  if (raw.length === 0 || raw[0] === undefined) throw new Error(`policy ${name}: no Statement`);
  const statements = raw.map((s, i) => parseStatement(s, `policy ${name}, statement ${isObject(s) && s.Sid ? String(s.Sid) : i}`));
  return { name, statements };
}

function parseStatement(statement: unknown, where: string): PolicyStatement {
  if (!isObject(statement)) throw new Error(`${where}: a statement must be an object`);
  if (statement.Principal !== undefined || statement.NotPrincipal !== undefined) {
    throw new Error(`${where}: an identity-based policy cannot specify a principal`);
  }
  const effect = statement.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') throw new Error(`${where}: Effect must be Allow or Deny`);
  const actions = oneOf(statement, 'Action', 'NotAction', where);
  const resources = oneOf(statement, 'Resource', 'NotResource', where);
  const actionTests = actions.values.map(actionPattern);
  const resourceTests = resources.values.map(resourcePattern);
  return {
    sid: typeof statement.Sid === 'string' ? statement.Sid : undefined,
    effect,
    [actions.negated ? 'notActions' : 'actions']: actions.values,
    [resources.negated ? 'notResources' : 'resources']: resources.values,
    condition: parseCondition(statement.Condition, where),
    listsAction: action => actionTests.some(matches => matches(action)),
    listsResource: resource => resourceTests.some(matches => matches(resource)),
  };
}

function oneOf(statement: Record<string, unknown>, element: string, notElement: string, where: string) {
  const [value, notValue] = [statement[element], statement[notElement]];
  if ((value === undefined) === (notValue === undefined)) throw new Error(`${where}: needs exactly one of ${element} and ${notElement}`);
  const values = [value ?? notValue].flat();
  if (values.length === 0 || values.some(v => typeof v !== 'string')) throw new Error(`${where}: ${element} values must be strings`);
  return { negated: value === undefined, values: values as string[] };
}

/** The decision of IAM for `request` under the principal's identity-based `policies`. */
export function evaluate(policies: readonly Policy[], request: EvaluationRequest): Decision {
  const context = contextLookup(request.context);
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.statements) {
      if (!applies(statement, request, context)) continue;
      if (statement.effect === 'Deny') return 'explicit-deny';
      allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}

function applies(statement: PolicyStatement, request: EvaluationRequest, context: ContextLookup): boolean {
  // NotAction / NotResource: the statement applies to everything they do not list.
  if (statement.listsAction(request.action) === (statement.actions === undefined)) return false;
  if (statement.listsResource(request.resource) === (statement.resources === undefined)) return false;
  return conditionHolds(statement.condition, context);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

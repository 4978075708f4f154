/**
 * Authorizes each request an invocation sends, as IAM does before the service acts: the request's
 * action, resources and context keys (operations.ts) evaluated against the principal's
 * identity-based policies (policy.ts). A call naming several resources needs every one of them.
 *
 * Who is checked: a request that carries the invocation header is the Lambda function's role
 * speaking (the runtime tells who through `identify`). A request without it is the account's
 * administrator setting up a scenario or a test driving the emulator: not checked.
 *
 * The refusal's words are those AWS uses ("Troubleshoot access denied error messages", IAM user
 * guide; seen in cdklabs/construct-hub#1207 and chime/terraform-aws-alternat#188):
 * `User: <principal> is not authorized to perform: <action> on resource: <resource> because no
 * identity-based policy allows the <action> action`, or `... with an explicit deny in an
 * identity-based policy`. Actions without a resource type leave "on resource" out.
 */
import { AUTOSCALING_AUTHORIZATION, AuthorizationRequest, AuthorizationScope, ECS_AUTHORIZATION, EVENTS_AUTHORIZATION } from './operations';
import { ContextKeys, Decision, evaluate, Policy } from './policy';

/** Who an invocation acts as: a Lambda function's execution role. */
export interface IamPrincipal {
  /** The assumed-role session ARN AWS names in refusals: `arn:aws:sts::<account>:assumed-role/<role>/<function>`. */
  readonly arn: string;
  /** `aws:PrincipalArn`: for an assumed role, the role's ARN. */
  readonly roleArn: string;
  readonly policies: readonly Policy[];
}

export type PrincipalResolver = (invocationId: string) => IamPrincipal | undefined;

/** The services whose operations IAM authorizes. */
export type AuthorizedService = 'ecs' | 'autoscaling' | 'events';

export interface Refusal {
  readonly action: string;
  readonly resource: string;
  readonly decision: Exclude<Decision, 'allow'> | 'no-rule';
  readonly principal: string;
  readonly message: string;
}

export class Authorizer {
  /** Set by the runtime; unset, nothing is checked. */
  identify?: PrincipalResolver;

  constructor(private readonly scope: AuthorizationScope) {}

  /** The refusal of a request, or undefined when IAM allows it (or it is not checked). */
  authorize(invocationId: string | undefined, service: AuthorizedService, operation: string, input: () => unknown): Refusal | undefined {
    if (invocationId === undefined || !this.identify) return undefined;
    const principal = this.identify(invocationId);
    if (!principal) throw new Error(`emulator: a request of invocation ${invocationId} has no known principal`);
    const action = `${service}:${operation}`;
    const request = this.requestOf(service, operation, input);
    if (!request) {
      const message = `The emulator has no IAM authorization rule for ${action}: add one to sim/emulator/iam/operations.ts`;
      return { action, resource: '*', decision: 'no-rule', principal: principal.arn, message };
    }
    const context: ContextKeys = { ...this.globalKeys(principal), ...request.context };
    for (const resource of request.resources) {
      const decision = evaluate(principal.policies, { action, resource, context });
      if (decision !== 'allow') {
        return { action, resource, decision, principal: principal.arn, message: refusalMessage(principal.arn, request, resource, decision) };
      }
    }
    return undefined;
  }

  /** The request's action, resources and keys; undefined when the table has no rule for it. */
  requestOf(service: AuthorizedService, operation: string, input: () => unknown): AuthorizationRequest | undefined {
    const action = `${service}:${operation}`;
    if (service === 'ecs') {
      const rule = ECS_AUTHORIZATION[operation];
      return rule && { action, ...rule(asObject(input()), this.scope) };
    }
    if (service === 'events') {
      // PutEvents: `input` is one entry (operations.ts, EVENTS_AUTHORIZATION).
      const rule = EVENTS_AUTHORIZATION[operation];
      return rule && { action, ...rule(asObject(input()), this.scope) };
    }
    const rule = AUTOSCALING_AUTHORIZATION[operation];
    return rule && { action, ...rule(input() as ReadonlyMap<string, string>, this.scope) };
  }

  /** The global condition keys the emulator knows ("AWS global condition context keys"). */
  private globalKeys(principal: IamPrincipal): ContextKeys {
    return {
      'aws:PrincipalArn': principal.roleArn,
      'aws:PrincipalAccount': this.scope.accountId,
      'aws:RequestedRegion': this.scope.region,
    };
  }
}

function refusalMessage(principal: string, request: AuthorizationRequest, resource: string, decision: Decision): string {
  const onResource = request.namesResource ? ` on resource: ${resource}` : '';
  const why = decision === 'explicit-deny'
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${request.action} action`;
  return `User: ${principal} is not authorized to perform: ${request.action}${onResource} ${why}`;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {};
}

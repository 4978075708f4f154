/**
 * Acknowledgements of policy-validation findings that are by design, for both majors of cdk-nag:
 * v2 reads `cdk_nag` metadata on each CloudFormation resource while its Aspect visits it
 * (cdk-nag v2 README, "Suppressing a Rule"); v3 reads `Validations.of(scope).acknowledge()`
 * (cdk-nag MIGRATION.md). Neither needs cdk-nag at run time.
 *
 * The IAM5 (wildcard) acknowledgements are derived from the policy documents the construct
 * actually synthesizes, so a statement that changes shape is acknowledged for what it is now,
 * and a wildcard nobody can justify is left for cdk-nag to report.
 */
import * as core from 'aws-cdk-lib';
import { Aspects, CfnResource, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** A finding of a policy-validation rule that is by design, with its reason. */
export interface Acknowledgement {
  /** The rule, e.g. `AwsSolutions-IAM5`. */
  readonly ruleId: string;
  /** The finding within a granular rule as cdk-nag names it, e.g. `Resource::*`; absent for the whole rule. */
  readonly finding?: string;
  readonly reason: string;
}

/** The cdk-nag rule that reports wildcards in IAM policies. */
export const IAM_WILDCARD_RULE = 'AwsSolutions-IAM5';

/**
 * Actions that have no resource types: IAM authorizes them only against `*` (Service
 * Authorization Reference, "Actions, resources, and condition keys for Amazon EC2 Auto Scaling":
 * these rows list no resource type).
 */
const ACTIONS_WITHOUT_RESOURCE_TYPES = new Set([
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeAutoScalingInstances',
  'autoscaling:DescribeWarmPool',
]);

/**
 * Condition keys that tie a request on `*` to one resource (Service Authorization Reference,
 * Amazon ECS: `ecs:cluster` "filters access by the ARN of an Amazon ECS cluster").
 */
const RESOURCE_SCOPING_CONDITION_KEYS = new Set(['ecs:cluster']);
const ARN_CONDITION_OPERATORS = new Set(['ArnEquals', 'ArnLike']);

/** A resolved IAM policy statement, as it appears in the template. */
interface StatementJson {
  readonly Sid?: string;
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/**
 * The IAM5 findings of a resolved policy document that are by design, each with its reason:
 * - `*` for actions that have no resource types;
 * - `*` limited by a condition that names one resource (`ArnEquals ecs:cluster`);
 * - an ARN whose fixed part names the service, Region, account and resource type, where the
 *   wildcard stands for ids not known at synthesis (container instances and tasks, created at run
 *   time; the id inside a group's ARN, created at deployment).
 * A finding is acknowledged only when every statement that produces it is one of these; wildcard
 * actions never are.
 */
export function wildcardAcknowledgements(document: { readonly Statement?: StatementJson[] }): Acknowledgement[] {
  const reasonsByFinding = new Map<string, (string | undefined)[]>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    const actions = [statement.Action ?? []].flat();
    for (const action of actions.filter(a => a.includes('*'))) {
      reasonsByFinding.set(`Action::${action}`, [undefined]);
    }
    for (const resource of [statement.Resource ?? []].flat().map(renderAsNagFinding)) {
      if (!resource.includes('*')) continue;
      const finding = `Resource::${resource}`;
      reasonsByFinding.set(finding, [...reasonsByFinding.get(finding) ?? [], whyWildcard(statement, actions, resource)]);
    }
  }
  return [...reasonsByFinding].flatMap(([finding, reasons]) => reasons.every(r => r !== undefined)
    ? [{ ruleId: IAM_WILDCARD_RULE, finding, reason: [...new Set(reasons)].join(' ') }]
    : []);
}

function whyWildcard(statement: StatementJson, actions: string[], resource: string): string | undefined {
  const granted = `${actions.join(', ')}${statement.Sid ? ` (statement ${statement.Sid})` : ''}`;
  if (resource === '*') {
    if (actions.every(a => ACTIONS_WITHOUT_RESOURCE_TYPES.has(a))) {
      return `${granted}: these actions have no resource types, so IAM accepts only *.`;
    }
    const scope = resourceScopingCondition(statement.Condition);
    return scope && `${granted}: on * only where ${scope}; the condition keeps the requests to that resource.`;
  }
  const fixedPart = resource.slice(0, resource.indexOf('*'));
  if (!namesResourceType(fixedPart)) return undefined;
  return `${granted}: the * in ${resource} stands for ids not known at synthesis; the rest of the ARN fixes the service, Region, account and resource type.`;
}

function resourceScopingCondition(condition: StatementJson['Condition']): string | undefined {
  for (const [operator, values] of Object.entries(condition ?? {})) {
    if (!ARN_CONDITION_OPERATORS.has(operator)) continue;
    for (const [key, value] of Object.entries(values)) {
      const target = [value].flat().map(renderAsNagFinding);
      if (RESOURCE_SCOPING_CONDITION_KEYS.has(key) && target.length === 1 && !target[0].includes('*')) {
        return `${operator} ${key} = ${target[0]}`;
      }
    }
  }
  return undefined;
}

/**
 * Whether the part of an ARN before its first wildcard pins the resource type: a reference to an
 * attribute of a resource of the template (`<LogGroup.Arn>`), or
 * `arn:partition:service:region:account:type/` or `…:type:` (ARN format, IAM user guide "IAM
 * identifiers"). References such as `<AWS::Region>` count as one field.
 */
function namesResourceType(fixedPart: string): boolean {
  if (/^<(?!AWS::)[^>]+\.[^>]+>/.test(fixedPart)) return true;
  const fields = fixedPart.replace(/<[^>]*>/g, 'REF').split(':');
  return fields[0] === 'arn' && fields.length >= 6 && fields.slice(1, 3).every(f => f.length > 0)
    && /^[A-Za-z-]+[/:]/.test(fields.slice(5).join(':'));
}

/**
 * A resolved CloudFormation value the way cdk-nag names it in a finding: references become
 * `<LogicalId>` or `<LogicalId.Attribute>`, `Fn::Join` is joined, `${X}` of `Fn::Sub` becomes
 * `<X>` (cdk-nag src/utils/flatten-cfn-reference.ts).
 */
export function renderAsNagFinding(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const v = value as Record<string, any>;
  if (v.Ref !== undefined) return `<${renderAsNagFinding(v.Ref)}>`;
  if (v['Fn::GetAtt'] !== undefined) {
    const [resource, attribute] = v['Fn::GetAtt'];
    return `<${renderAsNagFinding(resource)}.${renderAsNagFinding(attribute)}>`;
  }
  if (v['Fn::Join'] !== undefined) return (v['Fn::Join'][1] as unknown[]).map(renderAsNagFinding).join(v['Fn::Join'][0]);
  if (v['Fn::Sub'] !== undefined) return renderAsNagFinding(v['Fn::Sub']);
  if (v['Fn::ImportValue'] !== undefined) return renderAsNagFinding(v['Fn::ImportValue']);
  return JSON.stringify(value);
}

/**
 * cdk-nag v2: `cdk_nag.rules_to_suppress` in the resource's CloudFormation metadata, merged with
 * what is there (the format of cdk-nag v2's NagSuppressions; a reason outside Latin-1 is stored
 * base64-encoded with `is_reason_encoded`, as v2 does).
 */
export function acknowledgeForCdkNagV2(resource: CfnResource, acknowledgements: readonly Acknowledgement[]): void {
  if (acknowledgements.length === 0) return;
  const existing = resource.getMetadata('cdk_nag') ?? {};
  const rules = acknowledgements.map(({ ruleId, finding, reason }) => {
    const encoded = [...reason].some(c => c.codePointAt(0)! > 255);
    return {
      id: ruleId,
      reason: encoded ? Buffer.from(reason).toString('base64') : reason,
      ...(finding ? { applies_to: [finding] } : {}),
      ...(encoded ? { is_reason_encoded: true } : {}),
    };
  });
  resource.addMetadata('cdk_nag', { ...existing, rules_to_suppress: [...existing.rules_to_suppress ?? [], ...rules] });
}

/** `Validations`, from aws-cdk-lib 2.257.0 on (policy-validation acknowledgements). */
interface ValidationsApi {
  of(scope: IConstruct): { acknowledge(acknowledgement: { id: string; reason: string }): void };
}
const validations = (core as unknown as { Validations?: ValidationsApi }).Validations;

/**
 * cdk-nag v3 and other policy-validation plugins: `Validations.of(scope).acknowledge()`, with the
 * finding in brackets (`AwsSolutions-IAM5[Resource::*]`). Below aws-cdk-lib 2.257.0 there is no
 * `Validations` and no plugin to inform, so nothing is done.
 */
export function acknowledgeForPolicyValidation(scope: IConstruct, acknowledgements: readonly Acknowledgement[]): void {
  if (typeof validations?.of !== 'function') return;
  for (const { ruleId, finding, reason } of acknowledgements) {
    validations.of(scope).acknowledge({ id: finding ? `${ruleId}[${finding}]` : ruleId, reason });
  }
}

/** Both of the above, on one CloudFormation resource. */
export function acknowledgeOn(resource: CfnResource, acknowledgements: readonly Acknowledgement[]): void {
  acknowledgeForCdkNagV2(resource, acknowledgements);
  acknowledgeForPolicyValidation(resource, acknowledgements);
}

/**
 * The findings of a drain hook's resources that are by design, each with its reason, for cdk-nag
 * v2 (resource metadata) and v3 (`Validations`, aws-cdk-lib 2.257.0 on): the wildcard findings
 * of its controller's policies, derived from the policies as they are synthesized. Runs as an
 * Aspect on `drainHook` at synthesis, when every group is known, and before other Aspects (cdk-nag
 * v2) visit the resources below it.
 */
export function acknowledgeNagFindingsAtSynthesis(drainHook: IConstruct): void {
  Aspects.of(drainHook).add({ visit: node => { if (node === drainHook) acknowledgePolicyWildcards(drainHook); } });
}

/** Acknowledges the by-design IAM5 findings of every IAM policy below `scope` (see `wildcardAcknowledgements`). */
export function acknowledgePolicyWildcards(scope: IConstruct): void {
  const stack = Stack.of(scope);
  // The controller's policies: its role's default policy, and those aws-cdk-lib creates under
  // the function for statements added to it (inlinePolicyAddedToExecutionRole-N).
  const policies = scope.node.findAll().filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy);
  for (const policy of policies) {
    acknowledgeOn(policy, wildcardAcknowledgements(stack.resolve(policy.policyDocument)));
  }
  // No other finding needs one: the dead-letter queue is the event queue's redrive target, and
  // cdk-nag's SQS3 sees it used as one.
}

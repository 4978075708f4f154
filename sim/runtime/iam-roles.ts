/**
 * The identity-based policies of the execution roles a template deploys, as IAM would hold them
 * once CloudFormation created the stack:
 * - `AWS::IAM::Role`: its inline `Policies`, and the managed policies of `ManagedPolicyArns`;
 * - `AWS::IAM::Policy`: an inline policy embedded in each role its `Roles` names;
 * - `AWS::IAM::ManagedPolicy`: attached to each role its `Roles` names (or that lists its ARN).
 * (CloudFormation resource reference for the three types; `Roles` takes role names.)
 *
 * AWS-managed policies (`arn:aws:iam::aws:policy/...`) and policies of other stacks cannot be
 * known offline: a function whose role uses one fails the deployment, naming the ARN. The drain
 * hook's role uses none (an own role; logs go to its own log group). Permissions boundaries are
 * not modelled either, and are refused the same way rather than ignored.
 */
import { TemplateResolver, TemplateResource } from './intrinsics';
import { IamPrincipal } from '../emulator';
import { parsePolicy, Policy } from '../emulator/iam/policy';

/** A function's execution role, with every identity-based policy attached to it. */
export interface RoleSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly policies: readonly Policy[];
}

interface RawPolicy {
  readonly name: string;
  readonly document: unknown;
}

interface RoleEntry {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly policies: RawPolicy[];
  readonly managedPolicyArns: string[];
  readonly permissionsBoundary?: string;
}

/** The roles of one stack, whose policies are read when a function needs them. */
export class StackRoles {
  private readonly byArn = new Map<string, RoleEntry>();
  private readonly managedPolicies = new Map<string, RawPolicy>();

  constructor(resolver: TemplateResolver, resources: ReadonlyArray<readonly [string, TemplateResource]>) {
    const byName = new Map<string, RoleEntry>();
    for (const [logicalId, resource] of resources) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const p = resolver.resolve(resource.Properties ?? {});
      const entry: RoleEntry = {
        logicalId,
        name: resolver.physicalName(logicalId),
        arn: resolver.attribute(logicalId, 'Arn'),
        policies: (p.Policies ?? []).map((policy: any) => ({ name: String(policy.PolicyName), document: policy.PolicyDocument })),
        managedPolicyArns: (p.ManagedPolicyArns ?? []).map(String),
        permissionsBoundary: p.PermissionsBoundary,
      };
      byName.set(entry.name, entry);
      this.byArn.set(entry.arn, entry);
    }
    for (const [logicalId, resource] of resources) {
      if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const p = resolver.resolve(resource.Properties ?? {});
      const policy: RawPolicy = { name: resolver.physicalName(logicalId), document: p.PolicyDocument };
      if (resource.Type === 'AWS::IAM::ManagedPolicy') this.managedPolicies.set(resolver.attribute(logicalId, 'Arn'), policy);
      for (const roleName of (p.Roles ?? []).map(String)) byName.get(roleName)?.policies.push(policy);
    }
  }

  /** The role a function's `Role` (an ARN) names, policies parsed; throws what cannot be modelled. */
  forFunction(functionName: string, roleArn: unknown): RoleSpec {
    // AWS::Lambda::Function reference: Role is required.
    if (roleArn === undefined) throw new Error(`function ${functionName}: no Role (AWS::Lambda::Function requires one)`);
    const entry = typeof roleArn === 'string' ? this.byArn.get(roleArn) : undefined;
    if (!entry) throw new Error(`function ${functionName}: its role ${JSON.stringify(roleArn)} is not a role of its stack; the simulation cannot know its policies`);
    if (entry.permissionsBoundary !== undefined) {
      throw new Error(`role ${entry.name} of function ${functionName}: permissions boundaries are not modelled by the emulator`);
    }
    const raw = [...entry.policies];
    for (const arn of entry.managedPolicyArns) {
      const managed = this.managedPolicies.get(arn);
      if (!managed) {
        throw new Error(`role ${entry.name} of function ${functionName}: managed policy ${arn} is not defined in the stack `
          + '(an AWS-managed policy cannot be known offline); attach the permissions as a policy of the stack instead');
      }
      raw.push(managed);
    }
    const policies = raw.map(policy => parsePolicy(policy.name, policy.document));
    return { logicalId: entry.logicalId, name: entry.name, arn: entry.arn, policies };
  }
}

/** Who an invocation of the function acts as: its role, in the session Lambda names after the function. */
export function principalOf(role: RoleSpec, functionName: string, accountId: string): IamPrincipal {
  return {
    // Lambda assumes the execution role with the function name as the session name
    // (chime/terraform-aws-alternat#188 shows `assumed-role/<role>/<function>` in a refusal).
    arn: `arn:aws:sts::${accountId}:assumed-role/${role.name}/${functionName}`,
    roleArn: role.arn,
    policies: role.policies,
  };
}

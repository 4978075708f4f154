/**
 * A function's role and every identity-based policy attached to it, read from a template as
 * CloudFormation would create them (AWS::IAM::Role Policies / ManagedPolicyArns, AWS::IAM::Policy
 * Roles, AWS::IAM::ManagedPolicy Roles), intrinsics resolved.
 */
import { evaluate } from '../../sim/emulator/iam/policy';
import { principalOf, StackRoles } from '../../sim/runtime/iam-roles';
import { Template, TemplateResolver } from '../../sim/runtime/intrinsics';

const ACCOUNT = '123456789012';

function rolesOf(resources: Template['Resources']): StackRoles {
  const template: Template = { Resources: resources };
  return new StackRoles(new TemplateResolver('Stack', template), Object.entries(resources ?? {}));
}

const statement = (action: string, resource: unknown = '*') => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource }] });
const role = (properties: Record<string, unknown> = {}) => ({ Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, ...properties } });
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

test('inline Policies, AWS::IAM::Policy by Ref and by name, AWS::IAM::ManagedPolicy by Roles and by ManagedPolicyArns', () => {
  const roles = rolesOf({
    Role: role({
      RoleName: 'controller',
      Policies: [{ PolicyName: 'inline', PolicyDocument: statement('ecs:ListTasks') }],
      ManagedPolicyArns: [{ Ref: 'Listed' }],
    }),
    Other: role(),
    ByRef: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'by-ref', Roles: [{ Ref: 'Role' }], PolicyDocument: statement('ecs:DescribeTasks') } },
    ByName: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'by-name', Roles: ['controller'], PolicyDocument: statement('ecs:StopTask') } },
    NotOurs: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'not-ours', Roles: [{ Ref: 'Other' }], PolicyDocument: statement('ecs:*') } },
    Attached: { Type: 'AWS::IAM::ManagedPolicy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: statement('autoscaling:Describe*') } },
    Listed: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: { ManagedPolicyName: 'listed', PolicyDocument: statement('ecs:ListContainerInstances', { 'Fn::Sub': 'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/c' }) },
    },
  });
  const spec = roles.forFunction('fn', roleArn('controller'));
  expect(spec).toMatchObject({ logicalId: 'Role', name: 'controller', arn: roleArn('controller') });
  expect(spec.policies.map(p => p.name).sort()).toEqual(['Stack-Attached', 'by-name', 'by-ref', 'inline', 'listed']);
  const can = (action: string, resource = '*') => evaluate(spec.policies, { action, resource, context: {} });
  expect(can('ecs:ListTasks')).toBe('allow');
  expect(can('ecs:DescribeTasks')).toBe('allow');
  expect(can('ecs:StopTask')).toBe('allow');
  expect(can('autoscaling:DescribeAutoScalingGroups')).toBe('allow');
  expect(can('ecs:ListContainerInstances', `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/c`)).toBe('allow');
  // The other role's policy is not this one's.
  expect(can('ecs:DeregisterContainerInstance')).toBe('implicit-deny');
});

test('the principal: the assumed-role session Lambda opens, named after the function', () => {
  const spec = rolesOf({ Role: role({ RoleName: 'r', Policies: [{ PolicyName: 'p', PolicyDocument: statement('ecs:ListTasks') }] }) })
    .forFunction('my-function', roleArn('r'));
  expect(principalOf(spec, 'my-function', ACCOUNT)).toEqual({
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/r/my-function`, roleArn: roleArn('r'), policies: spec.policies,
  });
});

test.each([
  ['an AWS-managed policy (cannot be known offline), naming it',
    { Role: role({ RoleName: 'r', ManagedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'] }) },
    /managed policy arn:aws:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole is not defined in the stack/],
  ['a permissions boundary (not modelled)',
    { Role: role({ RoleName: 'r', PermissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/boundary` }) },
    /permissions boundaries are not modelled/],
  ['a policy IAM would refuse (a Principal in an identity-based policy)',
    { Role: role({ RoleName: 'r', Policies: [{ PolicyName: 'bad', PolicyDocument: { Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] } }] }) },
    /policy bad, statement 0: an identity-based policy cannot specify a principal/],
])('a function whose role has %s fails the deployment', (_what, resources, message) => {
  expect(() => rolesOf(resources).forFunction('fn', roleArn('r'))).toThrow(message);
});

test('a function without a role fails the deployment (AWS::Lambda::Function requires Role)', () => {
  expect(() => rolesOf({}).forFunction('fn', undefined)).toThrow(/function fn: no Role/);
});

test('a role that is not in the stack fails the deployment', () => {
  expect(() => rolesOf({ Role: role({ RoleName: 'r' }) }).forFunction('fn', 'arn:aws:iam::999999999999:role/elsewhere'))
    .toThrow(/function fn: its role "arn:aws:iam::999999999999:role\/elsewhere" is not a role of its stack/);
});

test('policies of roles no simulated function uses are not read', () => {
  const roles = rolesOf({
    Used: role({ RoleName: 'used', Policies: [{ PolicyName: 'ok', PolicyDocument: statement('ecs:ListTasks') }] }),
    Unused: role({ RoleName: 'unused', Policies: [{ PolicyName: 'odd', PolicyDocument: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }] } }] }),
  });
  expect(roles.forFunction('fn', roleArn('used')).policies).toHaveLength(1);
});

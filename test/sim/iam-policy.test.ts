/**
 * The emulator's identity-policy evaluator, pinned to the IAM user guide: "Policy evaluation
 * logic", "IAM JSON policy elements: Action / NotAction / Resource / NotResource / Condition",
 * "Condition operators", "Conditions with multiple context keys or values", "Set operators for
 * multivalued context keys".
 */
import { ContextKeys, Decision, evaluate, parsePolicy } from '../../sim/emulator/iam/policy';

const ACCOUNT = '123456789012';
const CLUSTER = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod`;
const CI = `arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/prod/0123abcd`;
const GROUP = `arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:7f3b7c0e-1111-2222-3333-444455556666:autoScalingGroupName/web`;

type Statement = Record<string, unknown>;

function decide(statements: Statement[], action: string, resource: string, context: ContextKeys = {}): Decision {
  return evaluate([parsePolicy('test', { Version: '2012-10-17', Statement: statements })], { action, resource, context });
}

const allow = (extra: Statement): Statement => ({ Effect: 'Allow', ...extra });
const deny = (extra: Statement): Statement => ({ Effect: 'Deny', ...extra });

describe('policy evaluation logic: explicit deny, then allow, else implicit deny', () => {
  test('no statement applies → implicit deny', () => {
    expect(decide([allow({ Action: 'ecs:DescribeTasks', Resource: '*' })], 'ecs:ListTasks', '*')).toBe('implicit-deny');
  });

  test('an Allow that applies → allow', () => {
    expect(decide([allow({ Action: 'ecs:ListTasks', Resource: '*' })], 'ecs:ListTasks', '*')).toBe('allow');
  });

  test('a Deny that applies wins over any Allow, in any policy', () => {
    const policies = [
      parsePolicy('allows', { Statement: [allow({ Action: 'ecs:*', Resource: '*' })] }),
      parsePolicy('denies', { Statement: deny({ Action: 'ecs:DeregisterContainerInstance', Resource: CLUSTER }) }),
    ];
    expect(evaluate(policies, { action: 'ecs:DeregisterContainerInstance', resource: CLUSTER, context: {} })).toBe('explicit-deny');
    expect(evaluate(policies, { action: 'ecs:ListContainerInstances', resource: CLUSTER, context: {} })).toBe('allow');
  });

  test('a Deny that does not apply changes nothing', () => {
    const statements = [allow({ Action: 'ecs:ListTasks', Resource: '*' }), deny({ Action: 'ecs:ListTasks', Resource: CI })];
    expect(decide(statements, 'ecs:ListTasks', '*')).toBe('allow');
    expect(decide(statements, 'ecs:ListTasks', CI)).toBe('explicit-deny');
  });

  test('no policy at all → implicit deny', () => {
    expect(evaluate([], { action: 'ecs:ListTasks', resource: '*', context: {} })).toBe('implicit-deny');
  });
});

describe('Action and NotAction', () => {
  test.each([
    ['ecs:ListTasks', 'ecs:ListTasks', true],
    ['ECS:listtasks', 'ecs:ListTasks', true], // prefix and name are case-insensitive
    ['ecs:List*', 'ecs:ListContainerInstances', true],
    ['ecs:*', 'ecs:ListTasks', true],
    ['*', 'autoscaling:CompleteLifecycleAction', true],
    ['ecs:DescribeTask?', 'ecs:DescribeTasks', true],
    ['ecs:DescribeTask?', 'ecs:DescribeTask', false],
    ['ecs:*', 'autoscaling:DescribeAutoScalingGroups', false],
    ['ecs:List', 'ecs:ListTasks', false],
  ])('Action %s on %s → %s', (pattern, action, allowed) => {
    expect(decide([allow({ Action: pattern, Resource: '*' })], action, '*')).toBe(allowed ? 'allow' : 'implicit-deny');
  });

  test('Allow with NotAction allows every action but the listed ones', () => {
    const statements = [allow({ NotAction: ['ecs:Deregister*', 'autoscaling:*'], Resource: '*' })];
    expect(decide(statements, 'ecs:ListTasks', '*')).toBe('allow');
    expect(decide(statements, 'ecs:DeregisterContainerInstance', '*')).toBe('implicit-deny');
    expect(decide(statements, 'autoscaling:CompleteLifecycleAction', GROUP)).toBe('implicit-deny');
  });

  test('Deny with NotAction denies every action but the listed ones', () => {
    const statements = [allow({ Action: '*', Resource: '*' }), deny({ NotAction: 'ecs:Describe*', Resource: '*' })];
    expect(decide(statements, 'ecs:DescribeTasks', '*')).toBe('allow');
    expect(decide(statements, 'ecs:StopTask', '*')).toBe('explicit-deny');
  });
});

describe('Resource and NotResource', () => {
  test.each([
    ['*', CI, true],
    ['*', '*', true],
    [CI, CI, true],
    [`arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/prod/*`, CI, true],
    [`arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/prod/*`, `arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/test/0123abcd`, false],
    // A request that names no resource is authorized on '*': only a '*' grant allows it.
    [`arn:aws:ecs:us-east-1:${ACCOUNT}:container-instance/prod/*`, '*', false],
    // ARNs are case-sensitive.
    [`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/Prod`, CLUSTER, false],
    // '?' is one character.
    [`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/pro?`, CLUSTER, true],
    [`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/pr?`, CLUSTER, false],
    // A '*' inside a segment stays inside it; a '*' that ends a segment may run past colons.
    ['arn:aws:e*s:us-east-1:123456789012:cluster/prod', CLUSTER, true],
    ['arn:aws:ecs:us-*-1:123456789012:cluster/prod', 'arn:aws:ecs:us-east:x-1:123456789012:cluster/prod', false],
    ['arn:aws:ecs:*', CLUSTER, true],
    [`arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/web`, GROUP, true],
    [`arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/api`, GROUP, false],
  ])('Resource %s on %s → %s', (pattern, resource, allowed) => {
    expect(decide([allow({ Action: 'ecs:*', Resource: pattern })], 'ecs:DescribeContainerInstances', resource)).toBe(allowed ? 'allow' : 'implicit-deny');
  });

  test('any listed Resource suffices', () => {
    const statements = [allow({ Action: 'ecs:ListTasks', Resource: [CLUSTER, CI] })];
    expect(decide(statements, 'ecs:ListTasks', CI)).toBe('allow');
  });

  test('NotResource matches every resource but the listed ones', () => {
    const statements = [allow({ Action: 'ecs:*', NotResource: CLUSTER })];
    expect(decide(statements, 'ecs:ListTasks', CI)).toBe('allow');
    expect(decide(statements, 'ecs:ListContainerInstances', CLUSTER)).toBe('implicit-deny');
    expect(decide([allow({ Action: 'ecs:*', Resource: '*' }), deny({ Action: 'ecs:*', NotResource: CLUSTER })], 'ecs:ListTasks', CI))
      .toBe('explicit-deny');
  });
});

describe('Condition', () => {
  const listTasks = (condition: Statement, context: ContextKeys) =>
    decide([allow({ Action: 'ecs:ListTasks', Resource: '*', Condition: condition })], 'ecs:ListTasks', '*', context);

  test('ArnEquals ecs:cluster: the cluster scopes a * grant (cdklabs/construct-hub#1207)', () => {
    const condition = { ArnEquals: { 'ecs:cluster': CLUSTER } };
    expect(listTasks(condition, { 'ecs:cluster': CLUSTER })).toBe('allow');
    expect(listTasks(condition, { 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/other` })).toBe('implicit-deny');
    // A key absent from the request context: the condition is false.
    expect(listTasks(condition, {})).toBe('implicit-deny');
  });

  test('ArnLike (and ArnEquals) match component by component with wildcards', () => {
    expect(listTasks({ ArnLike: { 'ecs:cluster': 'arn:aws:ecs:*:*:cluster/pro*' } }, { 'ecs:cluster': CLUSTER })).toBe('allow');
    expect(listTasks({ ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:*:*:cluster/pro*' } }, { 'ecs:cluster': CLUSTER })).toBe('allow');
    expect(listTasks({ ArnLike: { 'ecs:cluster': 'arn:aws:ecs:*:*:cluster/test*' } }, { 'ecs:cluster': CLUSTER })).toBe('implicit-deny');
    // Not an ARN: no match.
    expect(listTasks({ ArnLike: { 'ecs:cluster': '*' } }, { 'ecs:cluster': CLUSTER })).toBe('implicit-deny');
  });

  test('negated operators are true when the key is absent, and NOR their values', () => {
    expect(listTasks({ ArnNotEquals: { 'ecs:cluster': CLUSTER } }, {})).toBe('allow');
    expect(listTasks({ StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', 'us-east-1'] } }, { 'aws:RequestedRegion': 'us-east-1' })).toBe('implicit-deny');
    expect(listTasks({ StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', 'eu-west-2'] } }, { 'aws:RequestedRegion': 'us-east-1' })).toBe('allow');
    expect(listTasks({ StringNotLike: { 'aws:RequestedRegion': 'us-*' } }, { 'aws:RequestedRegion': 'us-east-1' })).toBe('implicit-deny');
  });

  test('String operators: Equals is case-sensitive, IgnoreCase is not, Like has * and ?', () => {
    const region = (value: string) => ({ 'aws:RequestedRegion': value });
    expect(listTasks({ StringEquals: region('US-EAST-1') }, region('us-east-1'))).toBe('implicit-deny');
    expect(listTasks({ StringEqualsIgnoreCase: region('US-EAST-1') }, region('us-east-1'))).toBe('allow');
    expect(listTasks({ StringNotEqualsIgnoreCase: region('US-EAST-1') }, region('us-east-1'))).toBe('implicit-deny');
    expect(listTasks({ StringLike: region('us-*-?') }, region('us-east-1'))).toBe('allow');
    expect(listTasks({ StringLike: region('US-*') }, region('us-east-1'))).toBe('implicit-deny');
  });

  test('values of one key OR; keys of one operator AND; operators AND', () => {
    const context = { 'ecs:cluster': CLUSTER, 'aws:RequestedRegion': 'us-east-1' };
    expect(listTasks({ StringEquals: { 'aws:RequestedRegion': ['eu-west-1', 'us-east-1'] } }, context)).toBe('allow');
    expect(listTasks({ StringEquals: { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalAccount': ACCOUNT } }, context)).toBe('implicit-deny');
    expect(listTasks({ StringEquals: { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalAccount': ACCOUNT } },
      { ...context, 'aws:PrincipalAccount': ACCOUNT })).toBe('allow');
    expect(listTasks({ ArnEquals: { 'ecs:cluster': CLUSTER }, StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }, context)).toBe('implicit-deny');
    expect(listTasks({ ArnEquals: { 'ecs:cluster': CLUSTER }, StringEquals: { 'aws:RequestedRegion': 'us-east-1' } }, context)).toBe('allow');
  });

  test('...IfExists: true when the key is absent, the operator otherwise', () => {
    expect(listTasks({ ArnEqualsIfExists: { 'ecs:cluster': CLUSTER } }, {})).toBe('allow');
    expect(listTasks({ ArnEqualsIfExists: { 'ecs:cluster': CLUSTER } }, { 'ecs:cluster': CLUSTER })).toBe('allow');
    expect(listTasks({ ArnEqualsIfExists: { 'ecs:cluster': CLUSTER } }, { 'ecs:cluster': `${CLUSTER}-2` })).toBe('implicit-deny');
    expect(listTasks({ StringLikeIfExists: { 'aws:RequestedRegion': 'eu-*' } }, { 'aws:RequestedRegion': 'us-east-1' })).toBe('implicit-deny');
  });

  test('Null: true asks the key to be absent, false to be present', () => {
    expect(listTasks({ Null: { 'ecs:cluster': 'true' } }, {})).toBe('allow');
    expect(listTasks({ Null: { 'ecs:cluster': 'true' } }, { 'ecs:cluster': CLUSTER })).toBe('implicit-deny');
    expect(listTasks({ Null: { 'ecs:cluster': false } }, { 'ecs:cluster': CLUSTER })).toBe('allow');
    expect(listTasks({ Null: { 'ecs:cluster': 'false' } }, {})).toBe('implicit-deny');
  });

  test('Bool and Numeric operators', () => {
    expect(listTasks({ Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': 'true' })).toBe('allow');
    expect(listTasks({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' })).toBe('implicit-deny');
    const age = (value: string) => ({ 'aws:MultiFactorAuthAge': value });
    expect(listTasks({ NumericLessThan: age('3600') }, age('60'))).toBe('allow');
    expect(listTasks({ NumericLessThan: age('3600') }, age('3600'))).toBe('implicit-deny');
    expect(listTasks({ NumericLessThanEquals: age('3600') }, age('3600'))).toBe('allow');
    expect(listTasks({ NumericGreaterThan: age(60 as unknown as string) }, age('61'))).toBe('allow');
    expect(listTasks({ NumericGreaterThanEquals: age('61') }, age('60'))).toBe('implicit-deny');
    expect(listTasks({ NumericEquals: age('60') }, age('60.0'))).toBe('allow');
    expect(listTasks({ NumericNotEquals: age('60') }, age('61'))).toBe('allow');
    expect(listTasks({ NumericEquals: age('60') }, age('sixty'))).toBe('implicit-deny');
  });

  test('ForAnyValue / ForAllValues over a multivalued key', () => {
    const tags = (...keys: string[]) => ({ 'aws:TagKeys': keys });
    expect(listTasks({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, tags('env', 'owner'))).toBe('allow');
    expect(listTasks({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } }, tags('env', 'owner'))).toBe('implicit-deny');
    expect(listTasks({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } }, {})).toBe('implicit-deny');
    expect(listTasks({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, tags('env', 'team'))).toBe('allow');
    expect(listTasks({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, tags('env', 'owner'))).toBe('implicit-deny');
    // ForAllValues is also true when the key is absent or empty.
    expect(listTasks({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } }, {})).toBe('allow');
    expect(listTasks({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } }, tags())).toBe('allow');
    expect(listTasks({ 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['secret'] } }, tags('env', 'team'))).toBe('allow');
    expect(listTasks({ 'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['secret'] } }, tags('env', 'secret'))).toBe('implicit-deny');
  });

  test('condition key names are case-insensitive', () => {
    expect(listTasks({ ArnEquals: { 'ECS:Cluster': CLUSTER } }, { 'ecs:cluster': CLUSTER })).toBe('allow');
    expect(listTasks({ ArnEquals: { 'ecs:cluster': CLUSTER } }, { 'Ecs:CLUSTER': CLUSTER })).toBe('allow');
  });

  test('a Deny with a condition denies only when it holds', () => {
    const statements = [
      allow({ Action: 'ecs:ListTasks', Resource: '*' }),
      deny({ Action: 'ecs:ListTasks', Resource: '*', Condition: { ArnNotEquals: { 'ecs:cluster': CLUSTER } } }),
    ];
    expect(decide(statements, 'ecs:ListTasks', '*', { 'ecs:cluster': CLUSTER })).toBe('allow');
    expect(decide(statements, 'ecs:ListTasks', '*', { 'ecs:cluster': `${CLUSTER}-2` })).toBe('explicit-deny');
  });
});

describe('what IAM would refuse, or the emulator does not model, fails when the policy is loaded', () => {
  test.each([
    ['a Principal (identity-based policies have none)', { Statement: [allow({ Principal: '*', Action: '*', Resource: '*' })] }, /cannot specify a principal/],
    ['Action and NotAction together', { Statement: [allow({ Action: '*', NotAction: 'ecs:*', Resource: '*' })] }, /exactly one of Action and NotAction/],
    ['no Resource', { Statement: [allow({ Action: '*' })] }, /exactly one of Resource and NotResource/],
    ['an Effect other than Allow/Deny', { Statement: [{ Effect: 'allow', Action: '*', Resource: '*' }] }, /Effect must be Allow or Deny/],
    ['an operator not modelled', { Statement: [allow({ Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } } })] },
      /DateLessThan is not modelled/],
    ['an unknown operator', { Statement: [allow({ Action: '*', Resource: '*', Condition: { StringEqualz: { k: 'v' } } })] }, /StringEqualz is not modelled/],
    ['a policy variable', { Version: '2012-10-17', Statement: [allow({ Action: '*', Resource: 'arn:aws:s3:::b/${aws:username}/*' })] }, /policy variables/],
    ['no statement', { Statement: [] }, /no Statement/],
  ])('%s', (_what, document, message) => {
    expect(() => parsePolicy('p', document)).toThrow(message);
  });
});

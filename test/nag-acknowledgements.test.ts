import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { acknowledgeForCdkNagV2, renderAsNagFinding, wildcardAcknowledgements } from '../src/nag-acknowledgements';

const CLUSTER_ARN = { 'Fn::GetAtt': ['ClusterEB0386A7', 'Arn'] };
const allow = (statement: Record<string, unknown>) => ({ Effect: 'Allow', ...statement });
const findings = (...statements: Record<string, unknown>[]) => wildcardAcknowledgements({ Statement: statements }).map(a => a.finding);

describe('wildcardAcknowledgements: IAM5 findings derived from a policy', () => {
  test('* for actions without resource types is acknowledged', () => {
    expect(wildcardAcknowledgements({
      Statement: [allow({ Sid: 'Read', Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances'], Resource: '*' })],
    })).toEqual([{
      ruleId: 'AwsSolutions-IAM5',
      finding: 'Resource::*',
      reason: 'autoscaling:DescribeAutoScalingGroups, autoscaling:DescribeAutoScalingInstances (statement Read): these actions have no resource types, so IAM accepts only *.',
    }]);
  });

  test.each([
    ['ArnEquals ecs:cluster', { ArnEquals: { 'ecs:cluster': CLUSTER_ARN } }, ['Resource::*']],
    ['ArnLike ecs:cluster', { ArnLike: { 'ecs:cluster': CLUSTER_ARN } }, ['Resource::*']],
    ['no condition', undefined, []],
    ['a condition on another key', { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }, []],
    ['ecs:cluster with a wildcard', { ArnLike: { 'ecs:cluster': 'arn:aws:ecs:eu-west-1:111111111111:cluster/*' } }, []],
    ['ecs:cluster compared as a string', { StringEquals: { 'ecs:cluster': CLUSTER_ARN } }, []],
  ])('* for an action with resource types: %s', (_, Condition, expected) => {
    expect(findings(allow({ Action: 'ecs:ListTasks', Resource: '*', Condition }))).toEqual(expected);
  });

  test('a scoping condition is named in the reason', () => {
    const [ack] = wildcardAcknowledgements({
      Statement: [allow({ Sid: 'List', Action: 'ecs:ListTasks', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': CLUSTER_ARN } } })],
    });
    expect(ack.reason).toBe('ecs:ListTasks (statement List): on * only where ArnEquals ecs:cluster = <ClusterEB0386A7.Arn>; the condition keeps the requests to that resource.');
  });

  test('a finding one statement cannot justify is not acknowledged for the others either', () => {
    expect(findings(
      allow({ Action: 'autoscaling:DescribeAutoScalingGroups', Resource: '*' }),
      allow({ Action: 'ecs:StopTask', Resource: '*' }),
    )).toEqual([]);
  });

  test('reasons of several justified statements are joined', () => {
    const [ack] = wildcardAcknowledgements({
      Statement: [
        allow({ Sid: 'A', Action: 'autoscaling:DescribeAutoScalingGroups', Resource: '*' }),
        allow({ Sid: 'B', Action: 'ecs:ListTasks', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': CLUSTER_ARN } } }),
      ],
    });
    expect(ack.reason).toMatch(/^autoscaling:DescribeAutoScalingGroups \(statement A\): .* ecs:ListTasks \(statement B\): /);
  });

  test.each([
    ['a container instance of a cluster', { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':container-instance/', { Ref: 'Cluster' }, '/*']] }, true],
    ['the id inside a group ARN', 'arn:aws:autoscaling:eu-west-1:111111111111:autoScalingGroup:*:autoScalingGroupName/workers', true],
    ['log streams of a log group of the template', { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Logs', 'Arn'] }, ':*']] }, true],
    ['any bucket', 'arn:aws:s3:::*', false],
    ['any Region and account', 'arn:aws:ecs:*:*:task/prod/*', false],
    ['any resource type', 'arn:aws:ecs:eu-west-1:111111111111:*', false],
    ['a resource type prefix', 'arn:aws:ecs:eu-west-1:111111111111:task*', false],
    ['a pseudo parameter first', { 'Fn::Join': ['', [{ Ref: 'AWS::Partition' }, '*']] }, false],
  ])('an ARN with a wildcard: %s', (_, Resource, acknowledged) => {
    expect(findings(allow({ Action: 'ecs:DescribeTasks', Resource })).length).toBe(acknowledged ? 1 : 0);
  });

  test('wildcard actions are never acknowledged, and Deny statements produce no finding', () => {
    expect(findings(allow({ Action: 'ecs:Describe*', Resource: 'arn:aws:ecs:eu-west-1:111111111111:cluster/prod' }))).toEqual([]);
    expect(findings({ Effect: 'Deny', Action: 'ecs:StopTask', Resource: '*' })).toEqual([]);
  });
});

describe('renderAsNagFinding (the names cdk-nag gives findings)', () => {
  test.each([
    [{ Ref: 'Queue' }, '<Queue>'],
    [{ 'Fn::GetAtt': ['Queue', 'Arn'] }, '<Queue.Arn>'],
    [{ 'Fn::Join': [':', ['a', { Ref: 'B' }]] }, 'a:<B>'],
    [{ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::b/*' }, 'arn:<AWS::Partition>:s3:::b/*'],
  ])('%j -> %s', (value, expected) => expect(renderAsNagFinding(value)).toBe(expected));
});

describe('acknowledgeForCdkNagV2 (cdk_nag metadata)', () => {
  function resource(): CfnResource {
    return new CfnResource(new Stack(new App(), 'S'), 'R', { type: 'AWS::SQS::Queue' });
  }

  test('adds to what is there, with applies_to for a finding', () => {
    const r = resource();
    r.addMetadata('cdk_nag', { rules_to_suppress: [{ id: 'AwsSolutions-SQS4', reason: 'the user said so' }] });
    acknowledgeForCdkNagV2(r, [
      { ruleId: 'AwsSolutions-SQS3', reason: 'It is a dead-letter queue.' },
      { ruleId: 'AwsSolutions-IAM5', finding: 'Resource::*', reason: 'Describe only.' },
    ]);
    expect(r.getMetadata('cdk_nag')).toEqual({
      rules_to_suppress: [
        { id: 'AwsSolutions-SQS4', reason: 'the user said so' },
        { id: 'AwsSolutions-SQS3', reason: 'It is a dead-letter queue.' },
        { id: 'AwsSolutions-IAM5', reason: 'Describe only.', applies_to: ['Resource::*'] },
      ],
    });
  });

  test('a reason outside Latin-1 is stored base64-encoded, as cdk-nag v2 does', () => {
    const r = resource();
    acknowledgeForCdkNagV2(r, [{ ruleId: 'AwsSolutions-SQS3', reason: 'Dead-letter queue → by design.' }]);
    expect(r.getMetadata('cdk_nag').rules_to_suppress).toEqual([{
      id: 'AwsSolutions-SQS3', reason: Buffer.from('Dead-letter queue → by design.').toString('base64'), is_reason_encoded: true,
    }]);
  });
});

/**
 * A cloud assembly for the baseline, shaped as aws-cdk's `InstanceDrainHook` deploys it: a
 * cluster, an Auto Scaling group, a termination lifecycle hook (heartbeat timeout = drain time,
 * default result CONTINUE) and one function (timeout = drain time + 10 s, at most 900 s; 128 MB,
 * the CDK default) invoked asynchronously once per lifecycle action.
 *
 * aws-cdk routes the hook's notification through an SNS topic to the function; here an
 * EventBridge rule on the same lifecycle action does it. Both are asynchronous invocations with
 * sub-second delivery, and the notification carries the same fields (the handler reads either).
 * The handler (baseline-drain-hook.ts) is bundled with esbuild as our own is. Its role carries
 * the permissions `InstanceDrainHook` grants its function (`addToRolePolicy` calls in
 * instance-drain-hook.ts), so the emulator's IAM judges both strategies alike.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const BASELINE_CLUSTER = 'bench-baseline-cluster';
export const BASELINE_GROUP = 'bench-baseline-asg';
export const BASELINE_HOOK = 'bench-baseline-drain-hook';
export const BASELINE_FUNCTION = 'bench-baseline-instance-drain-hook';
/** aws-cdk's `drainTime` range is 0..15 minutes (default 5); the bench uses the maximum, see bench.ts. */
export const BASELINE_DRAIN_TIME_SECONDS = 900;

const IN_CLUSTER = { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': ['Cluster', 'Arn'] } } };

/** What aws-cdk's InstanceDrainHook allows its function (aws-ecs/lib/drain-hook/instance-drain-hook.ts). */
const INSTANCE_DRAIN_HOOK_STATEMENTS = [
  {
    Effect: 'Allow',
    Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceAttribute', 'ec2:DescribeInstanceStatus', 'ec2:DescribeHosts'],
    Resource: '*',
  },
  {
    Effect: 'Allow',
    Action: 'autoscaling:CompleteLifecycleAction',
    Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/${Group}' },
  },
  { Effect: 'Allow', Action: ['ecs:DescribeContainerInstances', 'ecs:DescribeTasks'], Resource: '*', Condition: IN_CLUSTER },
  {
    Effect: 'Allow',
    Action: ['ecs:ListContainerInstances', 'ecs:SubmitContainerStateChange', 'ecs:SubmitTaskStateChange'],
    Resource: { 'Fn::GetAtt': ['Cluster', 'Arn'] },
  },
  { Effect: 'Allow', Action: ['ecs:UpdateContainerInstancesState', 'ecs:ListTasks'], Resource: '*', Condition: IN_CLUSTER },
];

/** Writes the assembly into a fresh temporary directory and returns it. */
export function writeBaselineAssembly(drainTimeSeconds = BASELINE_DRAIN_TIME_SECONDS): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-baseline-'));
  const assetDirectory = path.join(directory, 'asset.baseline');
  fs.mkdirSync(assetDirectory);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(__dirname, 'baseline-drain-hook.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify: true,
    outfile: path.join(assetDirectory, 'index.js'),
    logLevel: 'error',
  });
  const template = {
    Resources: {
      Cluster: { Type: 'AWS::ECS::Cluster', Properties: { ClusterName: BASELINE_CLUSTER } },
      Group: {
        Type: 'AWS::AutoScaling::AutoScalingGroup',
        Properties: { AutoScalingGroupName: BASELINE_GROUP, MinSize: '0', MaxSize: '10000' },
      },
      DrainHook: {
        Type: 'AWS::AutoScaling::LifecycleHook',
        Properties: {
          LifecycleHookName: BASELINE_HOOK,
          AutoScalingGroupName: { Ref: 'Group' },
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          HeartbeatTimeout: drainTimeSeconds,
          DefaultResult: 'CONTINUE',
        },
      },
      Function: {
        Type: 'AWS::Lambda::Function',
        Metadata: { 'aws:asset:path': 'asset.baseline' },
        Properties: {
          FunctionName: BASELINE_FUNCTION,
          Handler: 'index.handler',
          Runtime: 'nodejs20.x',
          Timeout: Math.min(drainTimeSeconds + 10, 900),
          MemorySize: 128,
          Environment: { Variables: { CLUSTER: { Ref: 'Cluster' } } },
          Role: { 'Fn::GetAtt': ['FunctionRole', 'Arn'] },
        },
      },
      FunctionRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
          },
        },
      },
      FunctionPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'InstanceDrainHookPolicy',
          Roles: [{ Ref: 'FunctionRole' }],
          PolicyDocument: { Version: '2012-10-17', Statement: INSTANCE_DRAIN_HOOK_STATEMENTS },
        },
      },
      Trigger: {
        Type: 'AWS::Events::Rule',
        Properties: {
          EventPattern: {
            'source': ['aws.autoscaling'],
            'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
            'detail': { AutoScalingGroupName: [BASELINE_GROUP], LifecycleHookName: [BASELINE_HOOK] },
          },
          Targets: [{ Id: 'Function', Arn: { 'Fn::GetAtt': ['Function', 'Arn'] } }],
        },
      },
    },
  };
  fs.writeFileSync(path.join(directory, 'BenchBaseline.template.json'), JSON.stringify(template, null, 1));
  fs.writeFileSync(path.join(directory, 'manifest.json'), JSON.stringify({
    version: '36.0.0',
    artifacts: { BenchBaseline: { type: 'aws:cloudformation:stack', properties: { templateFile: 'BenchBaseline.template.json' } } },
  }, null, 1));
  return directory;
}

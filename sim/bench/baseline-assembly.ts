/**
 * A cloud assembly for the baseline, shaped as aws-cdk's `InstanceDrainHook` deploys it: a
 * cluster, an Auto Scaling group, a termination lifecycle hook (heartbeat timeout = drain time,
 * default result CONTINUE) and one function (timeout = drain time + 10 s, at most 900 s; 128 MB,
 * the CDK default) invoked asynchronously once per lifecycle action.
 *
 * aws-cdk routes the hook's notification through an SNS topic to the function; here an
 * EventBridge rule on the same lifecycle action does it. Both are asynchronous invocations with
 * sub-second delivery, and the notification carries the same fields (the handler reads either).
 * The handler (baseline-drain-hook.ts) is bundled with esbuild as our own is.
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

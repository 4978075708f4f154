/**
 * The chaos matrix's own deployments beside the example app (test/integ.drain-hook.ts): the
 * construct (src/) in a small app that varies what the example does not, synthesized once per
 * process into a temporary directory, as the `long-drain` assembly is (sim/chaos/run.ts).
 *
 * - `two-groups`: one EcsDrainHook managing two Auto Scaling groups of the same cluster;
 * - `warm-pool`: a group with a warm pool (PoolState Stopped) and ReuseOnScaleIn, so a scale-in
 *   returns instances to the pool (Auto Scaling user guide, "Warm pools for Amazon EC2 Auto Scaling");
 * - `no-force`: `forceDeregisterOnTimeout: false`;
 * - `max-drain`: the longest drain timeout there is, 47 h 55 min (the lifecycle action's 48-hour
 *   global timeout less the completion margin).
 *
 * The groups are not capacity providers and carry no user data: the emulator places instances in
 * the cluster when a scenario launches them (`launchInstance(group, { cluster })`), which is what
 * the agent's ECS_CLUSTER setting does on a real instance.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export type VariantName = 'two-groups' | 'warm-pool' | 'no-force' | 'max-drain';

const STACK_NAME = 'EcsDrainHookChaos';
const synthesized = new Map<VariantName, string>();

/** The variant's cloud assembly directory, synthesized on first use. */
export function synthesizeVariant(variant: VariantName): string {
  const cached = synthesized.get(variant);
  if (cached) return cached;
  // Loaded on first use: aws-cdk-lib takes seconds to load and most scenarios do not need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cdk = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { EcsDrainHook } = require('../../src') as typeof import('../../src');
  const { aws_autoscaling: autoscaling, aws_ec2: ec2, aws_ecs: ecs } = cdk;

  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `drain-hook-chaos-${variant}-`));
  const app = new cdk.App({ outdir });
  const stack = new cdk.Stack(app, STACK_NAME);
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const group = (id: string) => new autoscaling.AutoScalingGroup(stack, id, {
    vpc,
    instanceType: new ec2.InstanceType('m7g.large'),
    machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.ARM),
    minCapacity: 0,
    maxCapacity: 20,
    requireImdsv2: true,
  });
  const groups = variant === 'two-groups' ? [group('GroupA'), group('GroupB')] : [group('Instances')];
  if (variant === 'warm-pool') {
    // AWS::AutoScaling::WarmPool with InstanceReusePolicy.ReuseOnScaleIn (PoolState Stopped by default).
    groups[0].addWarmPool({ reuseOnScaleIn: true, poolState: autoscaling.PoolState.STOPPED });
  }
  new EcsDrainHook(stack, 'DrainHook', {
    cluster,
    autoScalingGroups: groups,
    ...variant === 'no-force' ? { forceDeregisterOnTimeout: false } : {},
    ...variant === 'max-drain' ? { drainTimeout: cdk.Duration.minutes(47 * 60 + 55) } : {},
  });
  app.synth();
  synthesized.set(variant, outdir);
  return outdir;
}

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
 *   global timeout less the completion margin);
 * - `three-groups` and its edits (reordered, without the first or the middle group, a fourth group
 *   added in front): the stack updates of the `stack-update-*` rows.
 *
 * The groups are not capacity providers and carry no user data: the emulator places instances in
 * the cluster when a scenario launches them (`launchInstance(group, { cluster })`), which is what
 * the agent's ECS_CLUSTER setting does on a real instance.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The matrix's apps: which groups exist, which of them the drain hook manages (in order), and its props. */
const VARIANTS = {
  'two-groups': { groups: ['GroupA', 'GroupB'] },
  'warm-pool': { groups: ['Instances'], warmPool: true },
  'no-force': { groups: ['Instances'], props: { forceDeregisterOnTimeout: false } },
  'max-drain': { groups: ['Instances'], props: { drainTimeout: { minutes: 47 * 60 + 55 } } },
  // The stack updates of `stack-update-*`: the same app after an edit of the drain hook's group list.
  'three-groups': { groups: ['GroupA', 'GroupB', 'GroupC'] },
  'three-groups-reordered': { groups: ['GroupC', 'GroupA', 'GroupB'] },
  'three-groups-without-first': { groups: ['GroupA', 'GroupB', 'GroupC'], managed: ['GroupB', 'GroupC'] },
  'three-groups-without-middle': { groups: ['GroupA', 'GroupB', 'GroupC'], managed: ['GroupA', 'GroupC'] },
  'four-groups': { groups: ['GroupD', 'GroupA', 'GroupB', 'GroupC'] },
} satisfies Record<string, Variant>;

interface Variant {
  /** Auto Scaling groups of the app (construct ids), all of the same cluster. */
  readonly groups: readonly string[];
  /** The groups given to the drain hook, in this order; default: every group. */
  readonly managed?: readonly string[];
  /** A warm pool with ReuseOnScaleIn on the first group. */
  readonly warmPool?: boolean;
  readonly props?: { readonly forceDeregisterOnTimeout?: boolean; readonly drainTimeout?: { readonly minutes: number } };
}

export type VariantName = keyof typeof VARIANTS;

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
  const spec: Variant = VARIANTS[variant];

  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `drain-hook-chaos-${variant}-`));
  const app = new cdk.App({ outdir });
  const stack = new cdk.Stack(app, STACK_NAME);
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  // Created in a fixed order whatever the drain hook's order, as an app keeps its groups.
  const groups = new Map([...spec.groups].sort().map(id => [id, new autoscaling.AutoScalingGroup(stack, id, {
    vpc,
    instanceType: new ec2.InstanceType('m7g.large'),
    machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.ARM),
    minCapacity: 0,
    maxCapacity: 20,
    requireImdsv2: true,
  })]));
  if (spec.warmPool) {
    // AWS::AutoScaling::WarmPool with InstanceReusePolicy.ReuseOnScaleIn (PoolState Stopped by default).
    groups.get(spec.groups[0])!.addWarmPool({ reuseOnScaleIn: true, poolState: autoscaling.PoolState.STOPPED });
  }
  new EcsDrainHook(stack, 'DrainHook', {
    cluster,
    autoScalingGroups: (spec.managed ?? spec.groups).map(id => groups.get(id)!),
    ...spec.props?.forceDeregisterOnTimeout === undefined ? {} : { forceDeregisterOnTimeout: spec.props.forceDeregisterOnTimeout },
    ...spec.props?.drainTimeout === undefined ? {} : { drainTimeout: cdk.Duration.minutes(spec.props.drainTimeout.minutes) },
  });
  app.synth();
  synthesized.set(variant, outdir);
  return outdir;
}

/**
 * Writes the synthesized templates (and synthesis messages) of the example app and of the
 * construct tests' fixtures into a folder, one JSON file per fixture, so that a refactoring of
 * src/ can be checked to leave every template byte-identical:
 *
 *   git stash / checkout the commit before;  ts-node … test/templates/dump-templates.ts /tmp/before
 *   back to the change;                      ts-node … test/templates/dump-templates.ts /tmp/after
 *   diff -r /tmp/before /tmp/after
 *
 * (ts-node --transpile-only --project test/tsconfig.json; the controller's bundle must exist,
 * `npx projen bundle`, and be the same for both runs: its hash is part of the templates.)
 */
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import {
  App, CfnParameter, Duration, Stack,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { EcsDrainHook, EcsDrainHookProps } from '../../src';
import { buildExampleApp, EXAMPLE_STACK_NAME } from '../integ.drain-hook';
import { clusterWideListTasks, drainHookStack, NAG_STACK_NAME, unscopedStopTask } from '../nag-fixtures';

interface Dumped {
  readonly app: App;
  readonly stacks: readonly string[];
}

const ENV = { account: '111111111111', region: 'eu-west-1' };
const instanceType = new ec2.InstanceType('t3.micro');
const machineImage = ecs.EcsOptimizedImage.amazonLinux2023();

/** The fixture of test/ecs-drain-hook.test.ts: a VPC, a cluster named prod and one plain group. */
function constructFixture(props: Partial<EcsDrainHookProps> = {}, extra?: (f: {
  stack: Stack; vpc: ec2.Vpc; cluster: ecs.Cluster; group: autoscaling.AutoScalingGroup;
}) => Partial<EcsDrainHookProps> | void, after?: (drain: EcsDrainHook, stack: Stack, vpc: ec2.Vpc) => void): Dumped {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, clusterName: 'prod' });
  const group = new autoscaling.AutoScalingGroup(stack, 'Group', { vpc, instanceType, machineImage });
  const more = extra?.({ stack, vpc, cluster, group }) ?? {};
  const drain = new EcsDrainHook(stack, 'Drain', { cluster, autoScalingGroups: [group], ...props, ...more });
  after?.(drain, stack, vpc);
  return { app, stacks: ['Stack'] };
}

/** The fixture of test/cdk-drain-hook-removal.test.ts: groups from addCapacity() and a capacity provider. */
function removalFixture(removeCdkDrainHook?: boolean, order: 'before' | 'after' = 'before'): Dumped {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const workers = cluster.addCapacity('Workers', { instanceType, machineImage });
  cluster.addCapacity('Other', { instanceType, machineImage });
  const spot = new autoscaling.AutoScalingGroup(stack, 'Spot', { vpc, instanceType, machineImage });
  const provider = new ecs.AsgCapacityProvider(stack, 'SpotProvider', {
    autoScalingGroup: spot, enableManagedTerminationProtection: false, enableManagedDraining: false,
  });
  if (order === 'before') cluster.addAsgCapacityProvider(provider);
  const drain = new EcsDrainHook(stack, 'Drain', { cluster, autoScalingGroups: [workers], removeCdkDrainHook });
  drain.addAutoScalingGroup(spot);
  if (order === 'after') cluster.addAsgCapacityProvider(provider);
  return { app, stacks: ['Stack'] };
}

/** The shapes of test/hook-identity.test.ts: several groups, imports, a construct in a scope. */
function identityFixture(scopeId: string | undefined, id: string, props: Partial<EcsDrainHookProps> = {}): Dumped {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, clusterName: 'prod' });
  const groups = ['First', 'Middle', 'Last', 'Fourth'].map(g => new autoscaling.AutoScalingGroup(stack, g, { vpc, instanceType, machineImage }));
  const imported = ['a-b', 'ab', 'legacy-ecs-instances'].map(n => autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, `Imported-${n}`, n));
  const scope: Construct = scopeId ? new Construct(stack, scopeId) : stack;
  const drain = new EcsDrainHook(scope, id, { cluster, autoScalingGroups: [...groups.slice(0, 3), ...imported], ...props });
  drain.addAutoScalingGroup(groups[3]);
  return { app, stacks: ['Stack'] };
}

function importedFixture(): Dumped {
  const app = new App();
  const stack = new Stack(app, 'Imported', { env: ENV });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'legacy', vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'] }),
  });
  const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'legacy-asg');
  new EcsDrainHook(stack, 'Drain', { cluster, autoScalingGroups: [group] });
  return { app, stacks: ['Imported'] };
}

function twoStacksFixture(): Dumped {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  new EcsDrainHook(stack, 'A', { cluster, autoScalingGroups: [new autoscaling.AutoScalingGroup(stack, 'GroupA', { vpc, instanceType, machineImage })] });
  new EcsDrainHook(stack, 'B', { cluster, autoScalingGroups: [new autoscaling.AutoScalingGroup(stack, 'GroupB', { vpc, instanceType, machineImage })] });
  return { app, stacks: ['Stack'] };
}

const FIXTURES: Record<string, () => Dumped> = {
  'example-app': () => ({ app: buildExampleApp(), stacks: [EXAMPLE_STACK_NAME] }),
  'example-app-alarms-dashboard': () => ({
    app: buildExampleApp(undefined, { drainHook: { createAlarms: true, createDashboard: true, lifecycleHookName: 'ecs-drain' } }),
    stacks: [EXAMPLE_STACK_NAME],
  }),
  'construct-defaults': () => constructFixture(),
  'construct-30-minutes': () => constructFixture({ drainTimeout: Duration.minutes(30) }),
  'construct-6-hours': () => constructFixture({ drainTimeout: Duration.hours(6) }),
  'construct-47-hours': () => constructFixture({ drainTimeout: Duration.hours(47) }),
  'construct-unresolved-timeout': () => constructFixture({}, ({ stack }) => ({
    drainTimeout: Duration.seconds(new CfnParameter(stack, 'DrainSeconds', { type: 'Number' }).valueAsNumber),
  })),
  'construct-no-spot-no-force-one-week': () => constructFixture({
    drainOnSpotInterruption: false, forceDeregisterOnTimeout: false, logRetention: logs.RetentionDays.ONE_WEEK,
  }),
  'construct-alarms-dashboard': () => constructFixture({ createAlarms: true, createDashboard: true }),
  'construct-two-groups': () => constructFixture({}, undefined, (drain, stack, vpc) =>
    drain.addAutoScalingGroup(new autoscaling.AutoScalingGroup(stack, 'Other', { vpc, instanceType, machineImage }))),
  'construct-managed-draining-on': () => constructFixture({}, ({ cluster, group, stack }) => {
    cluster.addAsgCapacityProvider(new ecs.AsgCapacityProvider(stack, 'Provider', { autoScalingGroup: group, enableManagedTerminationProtection: false }));
  }),
  'construct-cdk-hook-kept': () => constructFixture({ removeCdkDrainHook: false }, ({ cluster, group, stack }) => {
    cluster.addAsgCapacityProvider(new ecs.AsgCapacityProvider(stack, 'Provider', {
      autoScalingGroup: group, enableManagedTerminationProtection: false, enableManagedDraining: false,
    }));
  }),
  'construct-warm-pool-reuse': () => constructFixture({}, undefined, (_, stack) =>
    (stack.node.findChild('Group') as autoscaling.AutoScalingGroup).addWarmPool({ reuseOnScaleIn: true })),
  'construct-imported': importedFixture,
  'removal-capacity-first': () => removalFixture(),
  'removal-capacity-last': () => removalFixture(undefined, 'after'),
  'removal-kept': () => removalFixture(false),
  'identity-default-name': () => identityFixture(undefined, 'Drain'),
  'identity-pinned-in-scope': () => identityFixture('Platform', 'Drainer', { lifecycleHookName: 'ecs-drain' }),
  'two-hooks-one-stack': twoStacksFixture,
  'nag-fixture': () => ({ app: drainHookStack().app, stacks: [NAG_STACK_NAME] }),
  'nag-fixture-extra-grants': () => ({ app: drainHookStack([clusterWideListTasks, unscopedStopTask]).app, stacks: [NAG_STACK_NAME] }),
};

const outdir = process.argv[2];
if (!outdir) throw new Error('usage: dump-templates.ts OUTDIR');
mkdirSync(outdir, { recursive: true });
for (const [name, build] of Object.entries(FIXTURES)) {
  const { app, stacks } = build();
  const dump = stacks.map(stackName => {
    const stack = app.node.findChild(stackName) as Stack;
    const template = Template.fromStack(stack).toJSON();
    const messages = app.synth().getStackByName(stack.stackName).messages
      .map(m => ({ level: m.level, id: m.id, data: m.entry.data }));
    // cdk-nag v3's acknowledgements (Validations.of(scope).acknowledge()) are construct metadata, not template content.
    const acknowledged = stack.node.findAll().flatMap(c => c.node.metadata
      .filter(m => m.type === 'aws:cdk:acknowledged-rules')
      .map(m => ({ path: c.node.path, data: m.data })));
    return { stackName, template, messages, acknowledged };
  });
  writeFileSync(join(outdir, `${name}.json`), `${JSON.stringify(dump, undefined, 2)}\n`);
}
console.log(`${Object.keys(FIXTURES).length} fixtures written to ${outdir}`);

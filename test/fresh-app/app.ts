/**
 * A user's app, compiled and synthesized by test/fresh-app/check.ts outside this repository with
 * the packed library installed next to aws-cdk-lib, constructs and cdk-nag 2.x (both ends of the
 * peer range). It follows the README: addCapacity(), addAsgCapacityProvider() and a plain group,
 * the alarms wired to SNS, cdk-nag's AwsSolutionsChecks as an Aspect. It checks its own output
 * and throws when a managed group has other than one termination hook (ours) or cdk-nag reports
 * anything on the drain hook's resources.
 */
import {
  App, Aspects, Stack,
  aws_autoscaling as autoscaling,
  aws_cloudwatch_actions as actions,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { EcsDrainHook } from 'cdk-ecs-drain-hook';
import { AwsSolutionsChecks } from 'cdk-nag';

const app = new App();
Aspects.of(app).add(new AwsSolutionsChecks({ reports: false }));
const stack = new Stack(app, 'FreshApp');

const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
const instanceType = new ec2.InstanceType('m7g.large');
const machineImage = ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.ARM);

const workers = cluster.addCapacity('Workers', { instanceType, machineImage, maxCapacity: 4 });
const batch = new autoscaling.AutoScalingGroup(stack, 'Batch', { vpc, instanceType, machineImage, maxCapacity: 4 });
cluster.addAsgCapacityProvider(new ecs.AsgCapacityProvider(stack, 'BatchCapacity', {
  autoScalingGroup: batch,
  enableManagedDraining: false,
  // Managed termination protection would keep aws-cdk from adding its drain hook at all.
  enableManagedTerminationProtection: false,
}));
const plain = new autoscaling.AutoScalingGroup(stack, 'Plain', { vpc, instanceType, machineImage });

const drain = new EcsDrainHook(stack, 'Drain', { cluster, autoScalingGroups: [workers, batch], createAlarms: true });
drain.addAutoScalingGroup(plain);
const pager = new sns.Topic(stack, 'Pager');
for (const alarm of drain.alarms) {
  alarm.addAlarmAction(new actions.SnsAction(pager));
}

const artifact = app.synth().getStackByName(stack.stackName);

const resources: Record<string, { Type: string; Properties: Record<string, unknown> }> = artifact.template.Resources;
const hooksOn = (group: autoscaling.IAutoScalingGroup) => {
  const groupRef = JSON.stringify(stack.resolve(group.autoScalingGroupName));
  return Object.values(resources).filter(r => r.Type === 'AWS::AutoScaling::LifecycleHook'
    && r.Properties.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING'
    && JSON.stringify(r.Properties.AutoScalingGroupName) === groupRef)
    .map(r => r.Properties.LifecycleHookName);
};
const groups = { workers, batch, plain };
const hooksPerGroup = Object.entries(groups).map(([name, group]) => [name, hooksOn(group)] as const);

const nagFindings = artifact.messages
  .filter(m => (m.level === 'error' || m.level === 'warning') && String(m.entry.data).startsWith('AwsSolutions-'));
const onDrainHook = nagFindings.filter(m => m.id.startsWith(`/${stack.stackName}/Drain/`));
const removalNote = artifact.messages.filter(m => m.level === 'info' && String(m.entry.data).startsWith("Removed aws-cdk's own drain hook"));

console.log(`FRESH-APP aws-cdk-lib=${require('aws-cdk-lib/package.json').version} `
  + `termination_hooks=${hooksPerGroup.map(([name, hooks]) => `${name}:${hooks.length}`).join(',')} `
  + `removal_notes=${removalNote.length} nag_on_drain_hook=${onDrainHook.length} nag_on_the_app_s_own_resources=${nagFindings.length - onDrainHook.length}`);
for (const m of onDrainHook) console.log(`  ${m.level} ${m.id}: ${String(m.entry.data).split('\n')[0]}`);

const wrong = hooksPerGroup.filter(([, hooks]) => hooks.length !== 1 || hooks[0] !== drain.lifecycleHookName);
if (wrong.length > 0 || onDrainHook.length > 0 || removalNote.length !== 2) {
  throw new Error(`fresh app: groups without exactly our one termination hook: ${JSON.stringify(wrong)}; `
    + `cdk-nag findings on the drain hook: ${onDrainHook.length}; removal notes (want 2): ${removalNote.length}`);
}

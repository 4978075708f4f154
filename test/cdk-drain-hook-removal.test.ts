import {
  App, Aspects, CfnElement, IAspect, Stack,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_ecs as ecs,
} from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { EcsDrainHook } from '../src';
import { danglingReferences, terminationHooksByGroup } from './template-checks';
import { ENV } from '../src/constants';

// Runs at both ends of the peer range: test/compat/ runs this file against aws-cdk-lib 2.120.0.

interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
}

function fixture(): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  return { app, stack, vpc, cluster };
}

const instanceType = new ec2.InstanceType('t3.micro');
const machineImage = ecs.EcsOptimizedImage.amazonLinux2023();

function plainGroup(f: Fixture, id: string): autoscaling.AutoScalingGroup {
  return new autoscaling.AutoScalingGroup(f.stack, id, { vpc: f.vpc, instanceType, machineImage });
}

/** A group behind a capacity provider whose settings leave aws-cdk's drain hook in place. */
function capacityProviderGroup(f: Fixture, id: string): { group: autoscaling.AutoScalingGroup; provider: ecs.AsgCapacityProvider } {
  const group = plainGroup(f, id);
  const provider = new ecs.AsgCapacityProvider(f.stack, `${id}Provider`, {
    autoScalingGroup: group, enableManagedTerminationProtection: false, enableManagedDraining: false,
  });
  return { group, provider };
}

function cdkDrainHookResources(template: Template): string[] {
  return [
    ...Object.keys(template.findResources('AWS::SNS::Topic')),
    ...Object.keys(template.findResources('AWS::SNS::Subscription')),
    ...Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.lambda_handler' } })),
  ];
}

describe('aws-cdk\'s own drain hook (DrainECSHook)', () => {
  test('is there without an EcsDrainHook (what the removal is about)', () => {
    const f = fixture();
    const workers = f.cluster.addCapacity('Workers', { instanceType, machineImage });
    const hooks = terminationHooksByGroup(Template.fromStack(f.stack).toJSON());
    expect(hooks.get(JSON.stringify(f.stack.resolve(workers.autoScalingGroupName)))).toHaveLength(1);
    expect(cdkDrainHookResources(Template.fromStack(f.stack)).length).toBeGreaterThan(0);
  });

  test('is removed from addCapacity and addAsgCapacityProvider groups: one termination hook each, ours, and nothing left behind', () => {
    // GIVEN
    const f = fixture();
    const workers = f.cluster.addCapacity('Workers', { instanceType, machineImage });
    const { group: spot, provider } = capacityProviderGroup(f, 'Spot');
    f.cluster.addAsgCapacityProvider(provider);
    // WHEN
    const drain = new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [workers, spot] });
    // THEN
    const template = Template.fromStack(f.stack);
    const hooks = terminationHooksByGroup(template.toJSON());
    for (const group of [workers, spot]) {
      const onGroup = hooks.get(JSON.stringify(f.stack.resolve(group.autoScalingGroupName)));
      expect(onGroup).toEqual([expect.objectContaining({ LifecycleHookName: drain.lifecycleHookName })]);
      expect(onGroup![0]).not.toHaveProperty('NotificationTargetARN');
    }
    expect(cdkDrainHookResources(template)).toEqual([]);
    // the only functions left are the drain hook's two (events and the reconcile pass)
    const ours = [drain.function, drain.reconcileFunction].map(fn => f.stack.getLogicalId(fn.node.defaultChild as CfnElement));
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).sort()).toEqual(ours.sort());
    expect(danglingReferences(template.toJSON())).toEqual([]);
  });

  test('is removed whatever the order: capacity added after the EcsDrainHook took the group', () => {
    const f = fixture();
    const { group, provider } = capacityProviderGroup(f, 'Late');
    const drain = new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster });
    drain.addAutoScalingGroup(group);
    f.cluster.addAsgCapacityProvider(provider);
    const template = Template.fromStack(f.stack);
    expect(terminationHooksByGroup(template.toJSON()).get(JSON.stringify(f.stack.resolve(group.autoScalingGroupName)))).toHaveLength(1);
    expect(cdkDrainHookResources(template)).toEqual([]);
  });

  test('the synthesis output says what was removed, naming the group', () => {
    const f = fixture();
    const workers = f.cluster.addCapacity('Workers', { instanceType, machineImage });
    new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [workers] });
    const infos = Annotations.fromStack(f.stack).findInfo('/Stack/Drain', Match.stringLikeRegexp("Removed aws-cdk's own drain hook"));
    expect(infos).toHaveLength(1);
    const message = String(infos[0].entry.data);
    expect(message).toContain('Auto Scaling group Stack/Cluster/Workers');
    expect(message).toContain('Stack/Cluster/Workers/DrainECSHook, Stack/Cluster/Workers/LifecycleHookDrainHook');
    expect(message).toContain('removeCdkDrainHook: false');
  });

  test('other Aspects (cdk-nag v2) never visit the removed constructs', () => {
    const f = fixture();
    const visited: string[] = [];
    const recorder: IAspect = { visit: node => { visited.push(node.node.path); } };
    Aspects.of(f.app).add(recorder);
    const workers = f.cluster.addCapacity('Workers', { instanceType, machineImage });
    new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [workers] });
    f.app.synth();
    expect(visited).toContain('Stack/Cluster/Workers');
    expect(visited.filter(path => /DrainECSHook|LifecycleHookDrainHook/.test(path))).toEqual([]);
  });

  test('is left on groups the EcsDrainHook does not drain', () => {
    const f = fixture();
    const drained = f.cluster.addCapacity('Drained', { instanceType, machineImage });
    const other = f.cluster.addCapacity('Other', { instanceType, machineImage });
    new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [drained] });
    const hooks = terminationHooksByGroup(Template.fromStack(f.stack).toJSON());
    expect(hooks.get(JSON.stringify(f.stack.resolve(drained.autoScalingGroupName)))).toHaveLength(1);
    expect(hooks.get(JSON.stringify(f.stack.resolve(other.autoScalingGroupName)))).toEqual([
      expect.objectContaining({ NotificationTargetARN: expect.anything() }),
    ]);
  });

  test('removeCdkDrainHook: false keeps it (and warns)', () => {
    const f = fixture();
    const workers = f.cluster.addCapacity('Workers', { instanceType, machineImage });
    new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [workers], removeCdkDrainHook: false });
    const template = Template.fromStack(f.stack);
    expect(terminationHooksByGroup(template.toJSON()).get(JSON.stringify(f.stack.resolve(workers.autoScalingGroupName)))).toHaveLength(2);
    Annotations.fromStack(f.stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp("also has aws-cdk's own drain hook"));
    expect(Annotations.fromStack(f.stack).findInfo('/Stack/Drain', Match.stringLikeRegexp('Removed'))).toEqual([]);
  });
});

describe('one EcsDrainHook per group', () => {
  function synthesisError(app: App): string {
    try {
      app.synth();
    } catch (error) {
      return String(error);
    }
    throw new Error('synthesis succeeded');
  }

  test('two EcsDrainHooks on one group, from different constructs of one stack, fail synthesis naming both', () => {
    const f = fixture();
    const group = plainGroup(f, 'Group');
    new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [group] });
    const team = new Construct(f.stack, 'Team');
    new EcsDrainHook(team, 'Drain', { cluster: f.cluster }).addAutoScalingGroup(group);
    expect(synthesisError(f.app)).toMatch(
      /Auto Scaling group Stack\/Group is drained by two EcsDrainHooks, Stack\/Drain and Stack\/Team\/Drain: a group takes one EcsDrainHook/);
  });

  test('two EcsDrainHooks on one group from different stacks of one app fail synthesis naming both', () => {
    const f = fixture();
    const group = plainGroup(f, 'Group');
    new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [group] });
    const other = new Stack(f.app, 'Other', { env: { account: '111111111111', region: 'eu-west-1' } });
    new EcsDrainHook(other, 'Drain', { cluster: f.cluster, autoScalingGroups: [group] });
    expect(synthesisError(f.app)).toMatch(/is drained by two EcsDrainHooks, Other\/Drain and Stack\/Drain/);
  });

  test('an imported group name counts as the same group', () => {
    const f = fixture();
    const other = new Stack(f.app, 'Other', { env: { account: '111111111111', region: 'eu-west-1' } });
    for (const stack of [f.stack, other]) {
      const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Workers', 'workers');
      new EcsDrainHook(stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [group] });
    }
    expect(synthesisError(f.app)).toMatch(/Auto Scaling group 'workers' is drained by two EcsDrainHooks, Other\/Drain and Stack\/Drain/);
  });

  test('two EcsDrainHooks on different groups are fine', () => {
    const f = fixture();
    const groupA = plainGroup(f, 'GroupA');
    const groupB = plainGroup(f, 'GroupB');
    const a = new EcsDrainHook(f.stack, 'A', { cluster: f.cluster, autoScalingGroups: [groupA] });
    const b = new EcsDrainHook(f.stack, 'B', { cluster: f.cluster, autoScalingGroups: [groupB] });
    expect(() => f.app.synth()).not.toThrow();
    // Each hook drains its own group only: one termination hook per group, each named for its EcsDrainHook.
    const template = Template.fromStack(f.stack);
    const hooks = terminationHooksByGroup(template.toJSON());
    const groupKey = (group: autoscaling.AutoScalingGroup) => JSON.stringify(f.stack.resolve(group.autoScalingGroupName));
    expect(hooks.size).toBe(2);
    expect(hooks.get(groupKey(groupA))).toEqual([expect.objectContaining({ LifecycleHookName: a.lifecycleHookName })]);
    expect(hooks.get(groupKey(groupB))).toEqual([expect.objectContaining({ LifecycleHookName: b.lifecycleHookName })]);
    expect(a.lifecycleHookName).not.toEqual(b.lifecycleHookName);
    // ...and each controller is told of its own group, not of the other one.
    const resources = template.toJSON().Resources;
    for (const [drain, group] of [[a, groupA], [b, groupB]] as const) {
      const env = resources[f.stack.resolve((drain.function.node.defaultChild as CfnElement).logicalId)].Properties.Environment.Variables;
      expect(env[ENV.AUTO_SCALING_GROUP_NAMES]).toEqual({ 'Fn::Join': ['', ['["', f.stack.resolve(group.autoScalingGroupName), '"]']] });
    }
  });
});

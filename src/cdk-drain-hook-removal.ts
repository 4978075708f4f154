/**
 * Removal of aws-cdk's own drain hook from a group that an EcsDrainHook drains.
 *
 * `Cluster.addCapacity()` and `Cluster.addAsgCapacityProvider()` give the group an
 * `InstanceDrainHook` with id `DrainECSHook` unless the deprecated `taskDrainTime` is 0 (a
 * property aws-cdk-lib v2's typings no longer declare) or the capacity provider has managed
 * termination protection or managed draining on (aws-cdk `aws-ecs/lib/cluster.ts`,
 * `configureAutoScalingGroup` and `addAsgCapacityProvider`). Under the group it creates
 * (aws-cdk `aws-ecs/lib/drain-hook/instance-drain-hook.ts`, `aws-autoscaling/lib/lifecycle-hook.ts`,
 * `aws-autoscaling-hooktargets/lib/lambda-hook.ts`; the same ids from 2.120.0 to 2.276.0):
 * - `DrainECSHook`: the Lambda function that sleeps through the drain, its role and policy, the
 *   permission for SNS to invoke it, and its SNS subscription;
 * - `LifecycleHookDrainHook` (from `group.addLifecycleHook('DrainHook', …)`): the termination
 *   lifecycle hook, its SNS topic, and the role Auto Scaling publishes to the topic with.
 * Nothing outside these two subtrees refers to them.
 */
import { Annotations, IAspect, aws_autoscaling as autoscaling } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

const CDK_DRAIN_HOOK_ID = 'DrainECSHook';
const CDK_DRAIN_LIFECYCLE_HOOK_ID = 'LifecycleHookDrainHook';

/**
 * Removes aws-cdk's drain hook from `group` when an Aspect visits the group: at synthesis, after
 * all of the app's code ran, whatever order it added the capacity and the EcsDrainHook in; and
 * before the group's children are visited, so other Aspects (cdk-nag v2) never see them.
 */
export class CdkDrainHookRemoval implements IAspect {
  constructor(
    private readonly group: autoscaling.IAutoScalingGroup,
    /** The EcsDrainHook that drains the group; the synthesis note is attached to it. */
    private readonly owner: IConstruct,
  ) {}

  public visit(node: IConstruct): void {
    if (node !== this.group) return;
    const removed = removeCdkDrainHook(this.group);
    if (removed.length === 0) return;
    Annotations.of(this.owner).addInfo(
      `Removed aws-cdk's own drain hook from Auto Scaling group ${this.group.node.path} (added by Cluster.addCapacity() or addAsgCapacityProvider()): `
      + `${removed.join(', ')} (a Lambda function that sleeps through each drain, its role, policy and invoke permission, an SNS topic and subscription, `
      + `a second termination lifecycle hook and its role). EcsDrainHook ${this.owner.node.path} drains this group. `
      + 'Set removeCdkDrainHook: false to keep it.');
  }
}

/** Removes aws-cdk's drain hook from `group`; returns the paths of the removed constructs. */
export function removeCdkDrainHook(group: IConstruct): string[] {
  const drainHook = group.node.tryFindChild(CDK_DRAIN_HOOK_ID);
  if (drainHook === undefined) return [];
  // The lifecycle hook's id is taken by aws-cdk's drain hook whenever that exists (a second
  // addLifecycleHook('DrainHook') would have failed with a duplicate id).
  const lifecycleHook = group.node.tryFindChild(CDK_DRAIN_LIFECYCLE_HOOK_ID);
  const removed = [drainHook, ...lifecycleHook instanceof autoscaling.LifecycleHook ? [lifecycleHook] : []];
  const paths = removed.map(c => c.node.path);
  for (const construct of removed) group.node.tryRemoveChild(construct.node.id);
  return paths;
}

/** Whether `group` still has aws-cdk's drain hook. */
export function hasCdkDrainHook(group: IConstruct): boolean {
  return group.node.tryFindChild(CDK_DRAIN_HOOK_ID) !== undefined;
}

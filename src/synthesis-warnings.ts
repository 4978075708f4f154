/**
 * Warnings an `EcsDrainHook` gives at synthesis about other drains of its groups that would race
 * with it, and about a warm pool set-up ECS does not support. Internal: not exported from the
 * package. (Two `EcsDrainHook`s on one group are an error, checked by the construct itself.)
 */
import { Annotations, Stack, aws_autoscaling as autoscaling, aws_ecs as ecs } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { hasCdkDrainHook } from './cdk-drain-hook-removal';
import { describeGroup } from './helpers';

/**
 * Warns on `drainHook` about ECS managed draining and aws-cdk's own drain hook on its `groups`,
 * and about their warm pools that take instances back on scale-in.
 */
export function warnAboutOtherDrains(drainHook: IConstruct, groups: readonly autoscaling.IAutoScalingGroup[]): void {
  warnAboutManagedDraining(drainHook, groups);
  warnAboutCdkDrainHook(drainHook, groups);
  warnAboutWarmPoolReuse(drainHook, groups);
}

/**
 * ECS managed instance draining of a capacity provider drains the same instances with its own
 * lifecycle hook: both would act, and the first to complete terminates the instance.
 */
function warnAboutManagedDraining(drainHook: IConstruct, groups: readonly autoscaling.IAutoScalingGroup[]): void {
  const providers = Stack.of(drainHook).node.findAll()
    .filter((c): c is ecs.AsgCapacityProvider => c instanceof ecs.AsgCapacityProvider);
  for (const provider of providers) {
    if (!groups.includes(provider.autoScalingGroup)) continue;
    // Left unset, ECS turns managed draining on (CreateCapacityProvider, managedDraining).
    if (provider.enableManagedDraining !== false) {
      Annotations.of(drainHook).addWarningV2('cdk-ecs-drain-hook:managedDraining',
        `Capacity provider ${provider.node.path} has ECS managed instance draining on for group ${describeGroup(provider.autoScalingGroup)}: `
        + 'two drain hooks would race. Set enableManagedDraining: false on the capacity provider.');
    }
  }
}

/** aws-cdk's own drain hook, left in place with `removeCdkDrainHook: false`. */
function warnAboutCdkDrainHook(drainHook: IConstruct, groups: readonly autoscaling.IAutoScalingGroup[]): void {
  for (const group of groups) {
    if (hasCdkDrainHook(group)) {
      Annotations.of(drainHook).addWarningV2('cdk-ecs-drain-hook:cdkDrainHook',
        `Group ${describeGroup(group)} also has aws-cdk's own drain hook (DrainECSHook, from Cluster.addCapacity() or addAsgCapacityProvider()): `
        + 'a second termination lifecycle hook, and a Lambda function that sleeps through each drain. '
        + 'Leave removeCdkDrainHook at its default (true) to remove it at synthesis.');
    }
  }
}

/**
 * The ECS developer guide ("Configuring pre-initialized instances for your Amazon ECS Auto
 * Scaling group") does not allow instances to return to a warm pool on scale-in
 * (ReuseOnScaleIn) for ECS groups. Auto Scaling accepts it; the controller then keeps the
 * returning instance's registration (README, "Warm pools"), but a forced drain deregisters it.
 */
function warnAboutWarmPoolReuse(drainHook: IConstruct, groups: readonly autoscaling.IAutoScalingGroup[]): void {
  const stack = Stack.of(drainHook);
  const managed = new Set(groups.map(g => JSON.stringify(stack.resolve(g.autoScalingGroupName))));
  for (const pool of stack.node.findAll().filter((c): c is autoscaling.CfnWarmPool => c instanceof autoscaling.CfnWarmPool)) {
    const reuse = stack.resolve(pool.instanceReusePolicy) as { reuseOnScaleIn?: unknown; ReuseOnScaleIn?: unknown } | undefined;
    if (reuse?.reuseOnScaleIn !== true && reuse?.ReuseOnScaleIn !== true) continue;
    if (!managed.has(JSON.stringify(stack.resolve(pool.autoScalingGroupName)))) continue;
    Annotations.of(drainHook).addWarningV2('cdk-ecs-drain-hook:warmPoolReuse',
      `Warm pool ${pool.node.path} returns instances to the pool on scale-in (ReuseOnScaleIn), which the ECS developer guide `
      + 'does not support for ECS groups. The drain hook keeps their registration so that the agent can reconnect, '
      + 'but a drain forced at its deadline deregisters it, and the instance then comes back without ECS.');
  }
}

/**
 * Stacks the cdk-nag tests of both majors (nag.test.ts for v3, nag-v2.test.ts for v2) check.
 */
import {
  App, Stack,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_iam as iam,
} from 'aws-cdk-lib';
import { EcsDrainHook } from '../src';

export const NAG_STACK_NAME = 'NagFixture';

/** A statement added to the controller's role, as the construct's own grants may change. */
export type ExtraGrant = (cluster: ecs.ICluster) => iam.PolicyStatement;

/**
 * Only the drain hook's resources are checked in these stacks; the cluster and group stand in
 * for the user's (the example app shows acknowledgements for those).
 */
export function drainHookStack(extraGrants: ExtraGrant[] = []): { app: App; stack: Stack; drain: EcsDrainHook } {
  const app = new App();
  const stack = new Stack(app, NAG_STACK_NAME, { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'] });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
  const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'workers');
  const drain = new EcsDrainHook(stack, 'Drain', { cluster, autoScalingGroups: [group], createAlarms: true, createDashboard: true });
  for (const grant of extraGrants) drain.function.addToRolePolicy(grant(cluster));
  return { app, stack, drain };
}

/** A cluster-wide ecs:ListTasks, which IAM authorizes against `*`, scoped by the ecs:cluster condition. */
export const clusterWideListTasks: ExtraGrant = cluster => new iam.PolicyStatement({
  sid: 'ListTasksOfTheCluster',
  actions: ['ecs:ListTasks'],
  resources: ['*'],
  conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
});

/** A write on `*` that nothing justifies. */
export const unscopedStopTask: ExtraGrant = () => new iam.PolicyStatement({
  sid: 'StopAnyTask',
  actions: ['ecs:StopTask'],
  resources: ['*'],
});

/**
 * The example app: a VPC, an ECS cluster with an Auto Scaling group of container instances
 * behind a capacity provider, a load-balanced service, and the drain hook.
 *
 * `npx projen synth:example` synthesizes it into cdk.out/; the simulator deploys that
 * cloud assembly into the local AWS emulator.
 */
import {
  App, Duration, Stack, StackProps, Validations,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EcsDrainHook, EcsDrainHookProps } from '../src';

export const EXAMPLE_STACK_NAME = 'EcsDrainHookExample';

/** Options of the example stack that tests vary. */
export interface ExampleStackProps extends StackProps {
  readonly drainHook?: Omit<EcsDrainHookProps, 'cluster' | 'autoScalingGroups'>;
}

export class ExampleStack extends Stack {
  public readonly cluster: ecs.Cluster;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly drainHook: EcsDrainHook;

  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Instances', {
      vpc,
      instanceType: new ec2.InstanceType('m7g.large'),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.ARM),
      minCapacity: 0,
      maxCapacity: 20,
      requireImdsv2: true,
    });
    const capacityProvider = new ecs.AsgCapacityProvider(this, 'CapacityProvider', {
      autoScalingGroup: this.autoScalingGroup,
      // The drain hook drains these instances; ECS managed draining would race with it.
      enableManagedDraining: false,
      enableManagedTerminationProtection: false,
    });
    // taskDrainTime 0: no aws-cdk drain hook beside this one. aws-cdk-lib still honours the
    // deprecated option although recent typings no longer declare it (aws-cdk ecs cluster.ts).
    const noCdkDrainHook = { taskDrainTime: Duration.seconds(0) } as ecs.AddAutoScalingGroupCapacityOptions;
    this.cluster.addAsgCapacityProvider(capacityProvider, noCdkDrainHook);

    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'WebTask');
    taskDefinition.addContainer('web', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
      memoryReservationMiB: 256,
      portMappings: [{ containerPort: 80 }],
      stopTimeout: Duration.seconds(30),
    });
    const service = new ecs.Ec2Service(this, 'Web', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: 4,
      capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
    });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', { vpc, internetFacing: true });
    loadBalancer.addListener('Http', { port: 80 }).addTargets('Web', {
      port: 80,
      targets: [service],
      // The default: tasks stay DEACTIVATING this long after a drain starts.
      deregistrationDelay: Duration.seconds(300),
    });

    this.drainHook = new EcsDrainHook(this, 'DrainHook', {
      cluster: this.cluster,
      autoScalingGroups: [this.autoScalingGroup],
      drainTimeout: Duration.hours(1),
      ...props.drainHook,
    });

    // cdk-nag (AwsSolutions) findings on the example's own resources, which only stand in for
    // a user's cluster here; the drain hook acknowledges its own findings itself.
    const exampleOnly = (resource: Construct, ruleId: string, reason: string) =>
      Validations.of(resource).acknowledge({ id: ruleId, reason: `Example app: ${reason}` });
    exampleOnly(vpc, 'AwsSolutions-VPC7', 'no VPC flow logs needed to show draining.');
    exampleOnly(this.cluster, 'AwsSolutions-ECS4', 'Container Insights is not what this example shows.');
    exampleOnly(this.autoScalingGroup, 'AwsSolutions-EC26', 'instances hold no data; EBS encryption is the user\'s choice.');
    exampleOnly(this.autoScalingGroup, 'AwsSolutions-AS3', 'scaling notifications are the user\'s choice; the drain hook reports via logs and metrics.');
    exampleOnly(this.autoScalingGroup, 'AwsSolutions-IAM5[Action::ecs:Submit*]', 'aws-cdk\'s standard ECS container instance role.');
    exampleOnly(this.autoScalingGroup, 'AwsSolutions-IAM5[Resource::*]', 'aws-cdk\'s standard ECS container instance role (agent discovery, ECR login, logs).');
    exampleOnly(taskDefinition, 'AwsSolutions-ECS7', 'nginx placeholder container; logging is the user\'s choice.');
    exampleOnly(loadBalancer, 'AwsSolutions-ELB2', 'no access-log bucket for a placeholder load balancer.');
    exampleOnly(loadBalancer, 'AwsSolutions-EC23', 'a public HTTP load balancer is open to the internet by design.');
  }
}

/** Builds the example app; `outdir` defaults to CDK_OUTDIR (cdk.out/ under projen). */
export function buildExampleApp(outdir?: string, props: ExampleStackProps = {}): App {
  const app = new App({ outdir });
  new ExampleStack(app, EXAMPLE_STACK_NAME, props);
  return app;
}

if (require.main === module) {
  buildExampleApp().synth();
}

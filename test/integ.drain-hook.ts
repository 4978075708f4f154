/**
 * The example app: a VPC, an ECS cluster with an Auto Scaling group of container instances
 * behind a capacity provider, a load-balanced service, and the drain hook, whose drain events go to
 * a topic (all of them) and whose drains that need an operator go to another.
 *
 * It compiles and synthesizes across the peer-dependency range (aws-cdk-lib 2.120.0 and newer;
 * test/compat/ checks the floor).
 *
 * `npx projen synth:example` synthesizes it into cdk.out/; the simulator deploys that
 * cloud assembly into the local AWS emulator.
 */
import {
  App, CfnResource, Duration, Stack, StackProps,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2,
  aws_events_targets as targets,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EcsDrainHook, EcsDrainHookProps } from '../src';
import { acknowledgeOn } from '../src/nag-acknowledgements';

export const EXAMPLE_STACK_NAME = 'EcsDrainHookExample';
/** The topic every drain event of the example goes to (a consumer's own tooling would read it). */
export const DRAIN_EVENTS_TOPIC = `${EXAMPLE_STACK_NAME}-drain-events`;
/** The topic the example's operators are told on (forced drains, drains without record). */
export const OPERATORS_TOPIC = `${EXAMPLE_STACK_NAME}-operators`;

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
    // aws-cdk adds its own drain hook here; the EcsDrainHook below removes it at synthesis.
    this.cluster.addAsgCapacityProvider(capacityProvider);

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

    const operators = new sns.Topic(this, 'Operators', { topicName: OPERATORS_TOPIC });
    this.drainHook = new EcsDrainHook(this, 'DrainHook', {
      cluster: this.cluster,
      autoScalingGroups: [this.autoScalingGroup],
      drainTimeout: Duration.hours(1),
      notificationTopic: operators,
      ...props.drainHook,
    });
    const drainEvents = new sns.Topic(this, 'DrainEvents', { topicName: DRAIN_EVENTS_TOPIC });
    this.drainHook.onDrainEvent('AllDrainEvents', { target: new targets.SnsTopic(drainEvents) });

    // cdk-nag (AwsSolutions, v2 and v3) findings on the example's own resources, which only
    // stand in for a user's cluster here; the drain hook acknowledges its own findings itself.
    const exampleOnly = (owner: Construct, ruleId: string, reason: string, finding?: string) => {
      for (const resource of owner.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource)) {
        acknowledgeOn(resource, [{ ruleId, finding, reason: `Example app: ${reason}` }]);
      }
    };
    exampleOnly(vpc, 'AwsSolutions-VPC7', 'no VPC flow logs needed to show draining.');
    exampleOnly(this.cluster, 'AwsSolutions-ECS4', 'Container Insights is not what this example shows.');
    exampleOnly(this.autoScalingGroup, 'AwsSolutions-EC26', 'instances hold no data; EBS encryption is the user\'s choice.');
    exampleOnly(this.autoScalingGroup, 'AwsSolutions-AS3', 'scaling notifications are the user\'s choice; the drain hook reports via logs and metrics.');
    exampleOnly(this.autoScalingGroup, 'AwsSolutions-IAM5', 'aws-cdk\'s standard ECS container instance role.', 'Action::ecs:Submit*');
    exampleOnly(this.autoScalingGroup, 'AwsSolutions-IAM5', 'aws-cdk\'s standard ECS container instance role (agent discovery, ECR login, logs).', 'Resource::*');
    exampleOnly(taskDefinition, 'AwsSolutions-ECS7', 'nginx placeholder container; logging is the user\'s choice.');
    exampleOnly(loadBalancer, 'AwsSolutions-ELB2', 'no access-log bucket for a placeholder load balancer.');
    exampleOnly(loadBalancer, 'AwsSolutions-EC23', 'a public HTTP load balancer is open to the internet by design.');
    for (const topic of [operators, drainEvents]) {
      exampleOnly(topic, 'AwsSolutions-SNS2', 'drain events carry no secrets; a KMS key is the user\'s choice.');
      // Topic.enforceSSL is newer than the peer-dependency floor this app also synthesizes on.
      exampleOnly(topic, 'AwsSolutions-SNS3', 'only EventBridge publishes here; requiring SSL of publishers is the user\'s choice.');
    }
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

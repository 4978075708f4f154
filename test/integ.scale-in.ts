/**
 * Integration test on a real AWS account, in the ecosystem's form (@aws-cdk/integ-tests-alpha,
 * run by integ-runner): a VPC, an ECS cluster with a group of 2 instances added with
 * `addCapacity()`, a service of 4 tasks without a load balancer, and the drain hook. The test
 * scales the group in by one instance (one that runs a task of the service) and waits until:
 * - the instance's container instance is INACTIVE (the controller deregistered it);
 * - the EC2 instance is terminated;
 * - the service runs 4 tasks again;
 * - none of the service's tasks stopped because an instance terminated, and at least one stopped
 *   on the drained instance (stopped by ECS while draining, not killed with its host).
 *
 * `npx projen integ` (in the build) only checks the committed snapshot
 * (integ.scale-in.ts.snapshot/) and never deploys. README "Integration test on AWS" says how to
 * run it on an account.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import {
  App, Duration, Stack,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_iam as iam,
  aws_lambda as lambda,
} from 'aws-cdk-lib';
import { EcsDrainHook } from '../src';

const DESIRED_TASKS = 4;

const app = new App();
const stack = new Stack(app, 'EcsDrainHookScaleIn');

// Public subnets only: no NAT gateway to pay for; the instances reach ECS over their public IPs.
const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  natGateways: 0,
  subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }],
});
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
const group = cluster.addCapacity('Instances', {
  instanceType: new ec2.InstanceType('t4g.small'),
  machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.ARM),
  minCapacity: 1,
  maxCapacity: 2,
  desiredCapacity: 2,
  vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
  associatePublicIpAddress: true,
});

const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'Task');
taskDefinition.addContainer('web', {
  image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
  // One instance holds all 4 tasks once the group is down to one.
  memoryReservationMiB: 64,
  stopTimeout: Duration.seconds(10),
});
const service = new ecs.Ec2Service(stack, 'Service', {
  cluster,
  taskDefinition,
  desiredCount: DESIRED_TASKS,
  placementStrategies: [ecs.PlacementStrategy.spreadAcrossInstances()],
  // Replacements start before drained tasks stop (ECS developer guide, container instance draining).
  minHealthyPercent: 100,
  maxHealthyPercent: 200,
});

new EcsDrainHook(stack, 'Drain', {
  cluster,
  autoScalingGroups: [group],
  drainTimeout: Duration.minutes(15),
});

/**
 * Reads the service's stopped tasks (ECS keeps them visible for about an hour: ECS API reference,
 * DescribeTasks) and says whether the terminated instance's tasks were drained: at least one
 * stopped on it, and none of the service's tasks stopped because its host terminated (ECS then
 * says "Host EC2 (instance …) terminated.").
 */
const drainVerdict = new lambda.Function(stack, 'DrainVerdict', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  timeout: Duration.minutes(1),
  code: lambda.Code.fromInline(`
const { ECSClient, ListTasksCommand, DescribeTasksCommand } = require('@aws-sdk/client-ecs');
const ecs = new ECSClient({});
exports.handler = async ({ cluster, serviceName, containerInstanceArn }) => {
  const taskArns = [];
  let nextToken;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus: 'STOPPED', nextToken }));
    taskArns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const tasks = [];
  for (let i = 0; i < taskArns.length; i += 100) {
    const page = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + 100) }));
    tasks.push(...(page.tasks ?? []));
  }
  const drained = tasks.filter(t => t.containerInstanceArn === containerInstanceArn);
  const killed = tasks.filter(t => /terminat/i.test(t.stoppedReason ?? ''));
  const verdict = drained.length > 0 && killed.length === 0 ? 'drained' : 'not drained';
  console.log(JSON.stringify({ verdict, drained: drained.map(t => t.stoppedReason), killed: killed.map(t => t.stoppedReason) }));
  return { verdict, stoppedOnTerminatedInstance: drained.length, stoppedByInstanceTermination: killed.length };
};
`),
});
drainVerdict.addToRolePolicy(new iam.PolicyStatement({
  actions: ['ecs:ListTasks', 'ecs:DescribeTasks'],
  resources: ['*'],
  conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
}));

const integ = new IntegTest(app, 'ScaleIn', {
  testCases: [stack],
  // Deploying takes about 10 minutes; draining and replacing tasks a few more.
  cdkCommandOptions: { destroy: { args: { force: true } } },
});
const assertions = integ.assertions;
const untilDone = { totalTimeout: Duration.minutes(30), interval: Duration.seconds(30) };
const inCluster = { cluster: cluster.clusterName };

/** The service runs all its tasks. */
const serviceRunsAllTasks = () => assertions.awsApiCall('ECS', 'describeServices', { ...inCluster, services: [service.serviceName] })
  .expect(ExpectedResult.objectLike({
    services: Match.arrayWith([Match.objectLike({ desiredCount: DESIRED_TASKS, runningCount: DESIRED_TASKS })]),
  }))
  .waitForAssertions(untilDone);

// GIVEN the service runs its 4 tasks, and an instance that runs one of them
const steady = serviceRunsAllTasks();
const runningTasks = assertions.awsApiCall('ECS', 'listTasks', { ...inCluster, serviceName: service.serviceName, desiredStatus: 'RUNNING' }, ['taskArns.0']);
const firstTask = assertions.awsApiCall('ECS', 'describeTasks', { ...inCluster, tasks: [runningTasks.getAttString('taskArns.0')] },
  ['tasks.0.containerInstanceArn']);
const containerInstanceArn = firstTask.getAttString('tasks.0.containerInstanceArn');
const itsInstance = assertions.awsApiCall('ECS', 'describeContainerInstances', { ...inCluster, containerInstances: [containerInstanceArn] },
  ['containerInstances.0.ec2InstanceId']);
const instanceId = itsInstance.getAttString('containerInstances.0.ec2InstanceId');

// WHEN the group scales in by that instance
const scaleIn = assertions.awsApiCall('AutoScaling', 'terminateInstanceInAutoScalingGroup', {
  InstanceId: instanceId,
  ShouldDecrementDesiredCapacity: true,
});

// THEN its container instance is deregistered, the instance terminates, the service is whole
// again, and its tasks were drained rather than killed with the instance.
const deregistered = assertions.awsApiCall('ECS', 'describeContainerInstances', { ...inCluster, containerInstances: [containerInstanceArn] })
  .expect(ExpectedResult.objectLike({ containerInstances: Match.arrayWith([Match.objectLike({ status: 'INACTIVE' })]) }))
  .waitForAssertions(untilDone);
const terminated = assertions.awsApiCall('EC2', 'describeInstances', { InstanceIds: [instanceId] })
  .expect(ExpectedResult.objectLike({
    Reservations: Match.arrayWith([Match.objectLike({ Instances: Match.arrayWith([Match.objectLike({ State: { Name: 'terminated' } })]) })]),
  }))
  .waitForAssertions(untilDone);
const whole = serviceRunsAllTasks();
const drained = assertions.invokeFunction({
  functionName: drainVerdict.functionName,
  payload: stack.toJsonString({ cluster: cluster.clusterName, serviceName: service.serviceName, containerInstanceArn }),
}).expect(ExpectedResult.objectLike({ Payload: Match.serializedJson({ verdict: 'drained' }) }));

steady.next(runningTasks).next(firstTask).next(itsInstance).next(scaleIn)
  .next(deregistered).next(terminated).next(whole).next(drained);

app.synth();

/**
 * Malformed and unexpected events: missing fields, wrong types, another
 * cluster's or group's events, test notifications. Each is put on the bus (where the template's
 * rules may or may not route it) and also handed straight to the function, as a rule with a
 * looser pattern or a manual `aws lambda invoke` would. The controller must answer each with one
 * structured (JSON) log line, succeed, and change nothing (no mutating API call).
 */
import { ChaosContext } from './context';

const MUTATING = new Set([
  'ecs:UpdateContainerInstancesState', 'ecs:DeregisterContainerInstance', 'ecs:PutAttributes', 'ecs:DeleteAttributes',
  'ecs:StopTask', 'ecs:UpdateContainerAgent', 'autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat',
  'autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup',
]);

export function isMutating(service: string, operation: string): boolean {
  return MUTATING.has(`${service}:${operation}`);
}

/** The junk, built around real names so that a careless controller would act on a real instance. */
export function junkEvents(context: ChaosContext): unknown[] {
  const { sim, clusterName, groupName, hookName } = context;
  const account = '123456789012';
  const region = 'us-east-1';
  const instanceId = context.instanceIds[0];
  const containerInstanceArn = sim.emulator.containerInstanceArns(instanceId)[0]
    ?? `arn:aws:ecs:${region}:${account}:container-instance/${clusterName}/0123456789abcdef0123456789abcdef`;
  const clusterArn = `arn:aws:ecs:${region}:${account}:cluster/${clusterName}`;
  const envelope = (source: string, detailType: string, detail: unknown) => ({
    'version': '0',
    'id': `junk-${context.random.hex(8)}`,
    'detail-type': detailType,
    source,
    account,
    'time': new Date(sim.clock.now()).toISOString(),
    region,
    'resources': [],
    detail,
  });
  const lifecycle = (detail: Record<string, unknown>) => envelope('aws.autoscaling', 'EC2 Instance-terminate Lifecycle Action', detail);
  const ecsChange = (detail: Record<string, unknown>) => envelope('aws.ecs', 'ECS Container Instance State Change', detail);
  const emptyDraining = {
    clusterArn,
    containerInstanceArn,
    ec2InstanceId: instanceId,
    status: 'DRAINING',
    version: 1,
    runningTasksCount: 0,
    pendingTasksCount: 0,
  };
  return [
    'not an object',
    [],
    {},
    { 'source': 'aws.autoscaling', 'detail-type': 'EC2 Instance-terminate Lifecycle Action' },
    lifecycle({}),
    lifecycle({ EC2InstanceId: 42, AutoScalingGroupName: groupName, LifecycleHookName: hookName }),
    lifecycle({ EC2InstanceId: instanceId, AutoScalingGroupName: ['x'], LifecycleHookName: hookName }),
    // Another group's and another hook's lifecycle action for a real, running instance.
    lifecycle({ EC2InstanceId: instanceId, AutoScalingGroupName: 'another-group', LifecycleHookName: hookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' }),
    lifecycle({ EC2InstanceId: instanceId, AutoScalingGroupName: groupName, LifecycleHookName: 'another-hook', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' }),
    lifecycle({ EC2InstanceId: instanceId, AutoScalingGroupName: groupName, LifecycleHookName: hookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }),
    // Test notifications: as an EventBridge detail, and the SNS/SQS message shape.
    lifecycle({ AutoScalingGroupName: groupName, LifecycleTransition: 'autoscaling:TEST_NOTIFICATION', Event: 'autoscaling:TEST_NOTIFICATION' }),
    { AccountId: account, RequestId: 'junk', AutoScalingGroupARN: 'arn:aws:autoscaling:x', AutoScalingGroupName: groupName, Service: 'AWS Auto Scaling', Event: 'autoscaling:TEST_NOTIFICATION', Time: new Date(sim.clock.now()).toISOString() },
    // Another cluster's "empty DRAINING" event, naming a real instance.
    ecsChange({ ...emptyDraining, clusterArn: `arn:aws:ecs:${region}:${account}:cluster/another-cluster`, containerInstanceArn: containerInstanceArn.replace(`/${clusterName}/`, '/another-cluster/') }),
    ecsChange({ ...emptyDraining, containerInstanceArn: undefined }),
    ecsChange({ ...emptyDraining, containerInstanceArn: 'not-an-arn' }),
    ecsChange({ ...emptyDraining, status: 7, runningTasksCount: '0' }),
    ecsChange({ ...emptyDraining, clusterArn: { name: clusterName } }),
    ecsChange({ ...emptyDraining, status: 'ACTIVE' }),
    envelope('aws.ecs', 'ECS Task State Change', { clusterArn, containerInstanceArn, lastStatus: 'STOPPED' }),
    envelope('aws.ec2', 'EC2 Spot Instance Interruption Warning', { 'instance-id': null, 'instance-action': 'terminate' }),
    envelope('aws.ec2', 'EC2 Spot Instance Interruption Warning', 'not a detail'),
    envelope('custom.app', 'Scheduled Event', {}),
    envelope('aws.events', 'Something Else', {}),
  ];
}

/** Puts the junk on the bus and hands each piece to the function directly. */
export function injectJunkEvents(context: ChaosContext): void {
  for (const event of junkEvents(context)) {
    context.junk.add(event);
    if (typeof event === 'object' && event !== null && !Array.isArray(event)) {
      context.sim.eventBridge.putEvent(event as Parameters<typeof context.sim.eventBridge.putEvent>[0]);
    }
    context.sim.lambda.invokeAsync(context.functionName, event);
  }
}

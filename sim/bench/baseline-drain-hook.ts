/**
 * The bench's baseline: the algorithm of aws-cdk's `InstanceDrainHook`
 * (aws-cdk-lib `aws-ecs/lib/drain-hook/`, Python handler `lambda-source/index.py`), written here
 * in TypeScript from its documented behaviour so that it runs on the same Lambda runtime and
 * emulator as our controller. Not a copy of that code.
 *
 * What it does, per lifecycle action, in ONE invocation:
 *   1. ListContainerInstances with the filter `ec2InstanceId==<id>` (first page, first ARN).
 *      None: return (the hook is left to time out; default result CONTINUE).
 *   2. ListTasks for that container instance (tasks whose desired status is RUNNING, first page).
 *   3. Loop: DescribeContainerInstances; if still ACTIVE, UpdateContainerInstancesState DRAINING
 *      and wait; otherwise DescribeTasks of the tasks listed in step 2 and count those whose
 *      lastStatus is not STOPPED, plus pendingTasksCount (falling back to
 *      runningTasksCount + pendingTasksCount when that count is 0 or unknown). Wait 10 s
 *      between polls while the count is above 0.
 *   4. CompleteLifecycleAction CONTINUE with the action token (an error is logged and ignored).
 * No heartbeat, no deregistration. The function's timeout is drain time + 10 s, at most 15
 * minutes; the hook's heartbeat timeout is the drain time. An error (a throttled call that the
 * SDK's retries did not absorb) fails the invocation: Lambda's asynchronous retries run it again
 * from the start (the original is invoked through SNS, i.e. asynchronously).
 *
 * The event: the Auto Scaling lifecycle notification, either wrapped by SNS (`Records[0].Sns.Message`,
 * as in aws-cdk) or as the EventBridge event's `detail` (what the bench delivers; the fields are
 * the same).
 */
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListContainerInstancesCommand, ListTasksCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { WARM_UP } from './warm-up';

/** boto3's default ("legacy") retry mode makes up to 5 attempts; the JS SDK's default is 3. */
const MAX_ATTEMPTS = 5;
const POLL_INTERVAL_MS = 10_000;

/**
 * Clients per invocation: in AWS every concurrent invocation runs in its own execution
 * environment with its own clients (and the SDK's retry quota), whereas the simulated Lambda
 * runtime loads one module for all of them. One pair per invocation models the 1,000 separate
 * environments of a 1,000-instance scale-in.
 */

interface LifecycleMessage {
  EC2InstanceId?: string;
  LifecycleHookName?: string;
  LifecycleActionToken?: string;
  AutoScalingGroupName?: string;
}

export async function handler(event: any): Promise<void> {
  const ecs = new ECSClient({ maxAttempts: MAX_ATTEMPTS });
  const autoScaling = new AutoScalingClient({ maxAttempts: MAX_ATTEMPTS });
  try {
    await drain(event, ecs, autoScaling);
  } finally {
    ecs.destroy();
    autoScaling.destroy();
  }
}

async function drain(event: any, ecs: ECSClient, autoScaling: AutoScalingClient): Promise<void> {
  const cluster = process.env.CLUSTER!;
  if (event?.[WARM_UP] === true) {
    // Not part of the algorithm: the bench's warm-up before the scale-in (see case.ts).
    await ecs.send(new ListContainerInstancesCommand({ cluster }));
    return;
  }
  const message = lifecycleMessage(event);
  const instanceId = message.EC2InstanceId;
  if (!instanceId) {
    console.log('event without EC2InstanceId');
    return;
  }
  const listed = await ecs.send(new ListContainerInstancesCommand({ cluster, filter: `ec2InstanceId==${instanceId}` }));
  const containerInstanceArn = listed.containerInstanceArns?.[0];
  console.log(`instance ${instanceId} has container instance ${containerInstanceArn}`);
  if (!containerInstanceArn) return;
  const taskArns = (await ecs.send(new ListTasksCommand({ cluster, containerInstance: containerInstanceArn }))).taskArns ?? [];

  while (await hasTasks(ecs, cluster, containerInstanceArn, taskArns)) {
    await new Promise(resolve => setTimeout(resolve, POLL_INTERVAL_MS));
  }

  try {
    await autoScaling.send(new CompleteLifecycleActionCommand({
      LifecycleActionResult: 'CONTINUE',
      LifecycleHookName: message.LifecycleHookName,
      LifecycleActionToken: message.LifecycleActionToken,
      AutoScalingGroupName: message.AutoScalingGroupName,
    }));
  } catch (error) {
    // The action may have completed already (the hook timed out).
    console.log(String(error));
  }
}

async function hasTasks(ecs: ECSClient, cluster: string, containerInstanceArn: string, taskArns: string[]): Promise<boolean> {
  const described = await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [containerInstanceArn] }));
  const instance = described.containerInstances?.[0];
  if (!instance) return false;
  if (instance.status === 'ACTIVE') {
    await ecs.send(new UpdateContainerInstancesStateCommand({ cluster, containerInstances: [containerInstanceArn], status: 'DRAINING' }));
    return true;
  }
  let count = 0;
  if (taskArns.length > 0) {
    const tasks = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }))).tasks ?? [];
    if (tasks.length > 0) count = tasks.filter(t => t.lastStatus !== 'STOPPED').length + (instance.pendingTasksCount ?? 0);
  }
  if (count === 0) count = (instance.runningTasksCount ?? 0) + (instance.pendingTasksCount ?? 0);
  console.log(`container instance ${containerInstanceArn} has ${count} tasks`);
  return count > 0;
}

function lifecycleMessage(event: any): LifecycleMessage {
  const sns = event?.Records?.[0]?.Sns?.Message;
  if (typeof sns === 'string') return JSON.parse(sns);
  return (event?.detail ?? {}) as LifecycleMessage;
}

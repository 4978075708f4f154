import { Marker, markerOf } from './drain-record';
import { ContainerInstanceView, ResourceAmount, resourcesReleased } from './model';
import { ATTRIBUTE, EVENT } from '../src/constants';

/**
 * What an incoming EventBridge event asks of the controller. Events only wake the controller
 * up: whatever they say is re-read from ECS and Auto Scaling before anything is changed.
 */
export type Trigger =
  | {
    readonly kind: 'lifecycle-action';
    readonly instanceId: string;
    readonly groupName: string;
    readonly hookName: string;
    /**
     * When the event was emitted (epoch ms): at or after the action's start. Undefined if
     * unreadable. Where the instance goes (terminated, back to the warm pool, a new root volume)
     * the controller reads from Auto Scaling, not from the event's Origin and Destination: a copy
     * of the event may come after that wait is over.
     */
    readonly time?: number;
  }
  | {
    readonly kind: 'container-instance-change';
    readonly clusterArn: string;
    /**
     * The registration as of this event: status, task counts (0 when the event omits them),
     * whether every CPU and memory unit is free, and the controller's marker as the event's
     * attributes show it. ECS may deliver events late and out of order.
     */
    readonly registration: ContainerInstanceView;
    readonly version?: number;
  }
  | {
    /**
     * A task on a container instance reached STOPPED. ECS sends a task state change event for
     * that (ECS developer guide, task state change events), but no container instance event when
     * the task was already told to stop (container instance state change events list no such
     * trigger): for a draining instance this is the moment its last task is gone.
     */
    readonly kind: 'task-stopped';
    readonly taskArn: string;
    readonly clusterArn: string;
    readonly containerInstanceArn: string;
  }
  | { readonly kind: 'spot-interruption'; readonly instanceId: string }
  | { readonly kind: 'reconcile' }
  | { readonly kind: 'ignored'; readonly reason: string };

const EC2_INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** One message of a batch from the SQS queue: its id (for a partial batch response) and the event it carries. */
export interface QueueItem {
  readonly messageId: string;
  readonly trigger: Trigger;
  readonly eventId?: unknown;
}

/**
 * The events of an invocation by an SQS event source mapping (Lambda developer guide, "Using
 * Lambda with Amazon SQS": `Records`, each with `messageId`, `body` and `eventSource: aws:sqs`),
 * each body an EventBridge event as the queue target delivers it; undefined for any other event.
 * A body that is not an event becomes an 'ignored' trigger, like any malformed event.
 */
export function parseQueueBatch(event: unknown): QueueItem[] | undefined {
  if (!isRecord(event) || !Array.isArray(event.Records) || event.Records.length === 0) return undefined;
  if (!event.Records.every(r => isRecord(r) && r.eventSource === 'aws:sqs' && typeof r.messageId === 'string')) return undefined;
  return (event.Records as Record<string, unknown>[]).map(record => {
    let body: unknown;
    try {
      body = JSON.parse(String(record.body));
    } catch {
      return { messageId: String(record.messageId), trigger: ignored('queue message body is not JSON') };
    }
    return { messageId: String(record.messageId), trigger: parseTrigger(body), eventId: isRecord(body) ? body.id : undefined };
  });
}

/** Classifies an event without trusting its shape: anything unexpected becomes 'ignored'. */
export function parseTrigger(event: unknown): Trigger {
  if (!isRecord(event)) return ignored('event is not a JSON object');
  const source = event.source;
  const detailType = event['detail-type'];
  const detail = event.detail;
  if (typeof source !== 'string' || typeof detailType !== 'string') return ignored('event has no source or detail-type');

  if (source === EVENT.SCHEDULE_SOURCE && detailType === EVENT.SCHEDULED_EVENT) return { kind: 'reconcile' };
  if (!isRecord(detail)) return ignored(`${detailType} event has no detail object`);

  if (source === EVENT.AUTOSCALING_SOURCE && detailType === EVENT.LIFECYCLE_ACTION) {
    const instanceId = detail.EC2InstanceId;
    const groupName = detail.AutoScalingGroupName;
    const hookName = detail.LifecycleHookName;
    if (detail.LifecycleTransition !== undefined && detail.LifecycleTransition !== 'autoscaling:EC2_INSTANCE_TERMINATING') {
      return ignored(`lifecycle transition ${String(detail.LifecycleTransition)} is not a termination`);
    }
    if (!isInstanceId(instanceId)) return ignored('lifecycle action event has no valid EC2InstanceId');
    if (!isNonEmptyString(groupName) || !isNonEmptyString(hookName)) return ignored('lifecycle action event has no group or hook name');
    const time = typeof event.time === 'string' ? Date.parse(event.time) : NaN;
    return {
      kind: 'lifecycle-action',
      instanceId,
      groupName,
      hookName,
      ...Number.isFinite(time) ? { time } : {},
    };
  }

  if (source === EVENT.ECS_SOURCE && detailType === EVENT.CONTAINER_INSTANCE_STATE_CHANGE) {
    const arn = detail.containerInstanceArn;
    const clusterArn = detail.clusterArn;
    const status = detail.status;
    if (!isNonEmptyString(arn) || !arn.includes(':container-instance/')) return ignored('container instance event has no valid containerInstanceArn');
    if (!isNonEmptyString(clusterArn) || !isNonEmptyString(status)) return ignored('container instance event has no clusterArn or status');
    return {
      kind: 'container-instance-change',
      clusterArn,
      registration: {
        containerInstanceArn: arn,
        ...isInstanceId(detail.ec2InstanceId) ? { ec2InstanceId: detail.ec2InstanceId } : {},
        status,
        runningTasksCount: countOrUndefined(detail.runningTasksCount) ?? 0,
        pendingTasksCount: countOrUndefined(detail.pendingTasksCount) ?? 0,
        resourcesReleased: resourcesReleased(
          detail.registeredResources as ResourceAmount[] | undefined, detail.remainingResources as ResourceAmount[] | undefined),
        ...markerIn(detail.attributes),
      },
      ...countOrUndefined(detail.version) === undefined ? {} : { version: countOrUndefined(detail.version) },
    };
  }

  if (source === EVENT.ECS_SOURCE && detailType === EVENT.TASK_STATE_CHANGE) {
    const { taskArn, clusterArn, containerInstanceArn, lastStatus } = detail;
    if (!isNonEmptyString(taskArn) || !taskArn.includes(':task/')) return ignored('task state change event has no valid taskArn');
    if (!isNonEmptyString(clusterArn)) return ignored('task state change event has no clusterArn');
    if (lastStatus !== 'STOPPED') return ignored(`task is ${String(lastStatus)}, not STOPPED`);
    if (!isNonEmptyString(containerInstanceArn) || !containerInstanceArn.includes(':container-instance/')) {
      // A Fargate task, or one that never reached an instance: nothing of the controller's.
      return ignored('stopped task ran on no container instance');
    }
    return { kind: 'task-stopped', taskArn, clusterArn, containerInstanceArn };
  }

  if (source === EVENT.EC2_SOURCE && detailType === EVENT.SPOT_INTERRUPTION) {
    const instanceId = detail['instance-id'];
    if (!isInstanceId(instanceId)) return ignored('Spot interruption warning has no valid instance-id');
    return { kind: 'spot-interruption', instanceId };
  }

  return ignored(`no handling for ${source} / ${detailType}`);
}

/** The controller's marker among an event's `attributes`, if well formed. */
function markerIn(attributes: unknown): Marker {
  if (!Array.isArray(attributes)) return {};
  const found = attributes.find(a => isRecord(a) && a.name === ATTRIBUTE.DRAIN) as Record<string, unknown> | undefined;
  return markerOf(typeof found?.value === 'string' ? found.value : undefined);
}

function ignored(reason: string): Trigger {
  return { kind: 'ignored', reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 2048;
}

function isInstanceId(value: unknown): value is string {
  return typeof value === 'string' && EC2_INSTANCE_ID.test(value);
}

function countOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

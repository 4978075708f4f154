/**
 * The controller's one model of what it acts on: an EC2 instance (as Auto Scaling and ECS report
 * it), its registrations in the cluster, and their tasks. Built in one place from SDK answers
 * (aws.ts, containerInstanceViewOf) and in one from events (events.ts, parseTrigger); the
 * decisions (decide/) read nothing else. No AWS calls here.
 */
import type { DrainRecordValue } from './drain-record';

/** A task of a container instance as DescribeTasks reports it. */
export interface TaskView {
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  /** `service:NAME` for a service's task, `family:NAME` for one run on its own (ECS API reference, Task.group). */
  readonly group?: string;
}

/** A registration of an EC2 instance in the cluster (a container instance). */
export interface ContainerInstanceView {
  readonly containerInstanceArn: string;
  /** The EC2 instance it runs on, when the answer or event names it. */
  readonly ec2InstanceId?: string;
  /** ACTIVE, DRAINING, REGISTERING, DEREGISTERING, REGISTRATION_FAILED or INACTIVE. */
  readonly status: string;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  /** The drain record the controller keeps on it, if any (see drain-record.ts). */
  readonly record?: DrainRecordValue;
  /** When the controller parked the registration for the warm pool, if it is parked (see drain-record.ts). */
  readonly parkedAt?: number;
  /** When the controller set it ACTIVE again after the warm pool, while that is recent (see drain-record.ts). */
  readonly reactivatedAt?: number;
  /**
   * Whether every CPU and memory unit is free again (remaining equals registered). A task holds
   * its resources until it is STOPPED, so false means a task is still stopping; undefined when
   * the resources are not known.
   */
  readonly resourcesReleased?: boolean;
  /** Whether its ECS agent is connected (ECS API reference, ContainerInstance.agentConnected); undefined when not read. */
  readonly agentConnected?: boolean;
  /** The instance's tasks whose lastStatus is not STOPPED; undefined while not read. */
  readonly tasksNotStopped?: readonly TaskView[];
}

/** A service as DescribeServices reports it, reduced to what the diagnosis reads. */
export interface ServiceView {
  readonly name: string;
  /** REPLICA or DAEMON. */
  readonly schedulingStrategy?: string;
  readonly desiredCount?: number;
  readonly runningCount?: number;
  /** Its newest event (DescribeServices, `events`) reporting that a task could not be placed, if any. */
  readonly placementFailure?: { readonly at: number; readonly message: string };
}

/** An EC2 instance as Auto Scaling and ECS report it. */
export interface InstanceView {
  readonly instanceId: string;
  /** The managed group the instance belongs to; undefined when it is in none of them. */
  readonly groupName?: string;
  readonly lifecycleState?: string;
  /**
   * Whether `lifecycleState` was read from Auto Scaling in this invocation. A state taken from an
   * event (possibly late or duplicated) is read again before anything is deregistered.
   */
  readonly stateRead?: boolean;
  /** Its registrations in the cluster that are not INACTIVE, as far as read. */
  readonly containerInstances: readonly ContainerInstanceView[];
  /**
   * Whether `containerInstances` is every registration the instance has now (a lookup by its
   * instance id in this invocation). Releases are judged only on such a read: a registration
   * the agent made since the drain started must not be left behind.
   */
  readonly registrationsComplete?: boolean;
  /**
   * A moment at or before the start of the lifecycle action, when the caller knows one (the
   * lifecycle action event's time, a Spot warning before any action existed).
   */
  readonly hookClockFrom?: number;
  /**
   * When the view comes from a lifecycle action event: the event's time. A registration the
   * controller parked or set ACTIVE again after it shows that the event describes a wait that is
   * over (a late or duplicated copy), whatever a read of Auto Scaling says.
   */
  readonly eventTime?: number;
}

/** Auto Scaling's part of an InstanceView: an instance of a group, as DescribeAutoScalingInstances (or the group's listing) reports it. */
export type GroupInstance = Required<Pick<InstanceView, 'instanceId' | 'groupName' | 'lifecycleState'>>;

/** A resource of a container instance as ECS reports it (API and events alike). */
export interface ResourceAmount {
  readonly name?: string;
  readonly integerValue?: number;
}

/**
 * Remaining CPU and memory equal to registered: no task holds any (ECS API reference,
 * ContainerInstance.remainingResources). Undefined when either list is missing.
 */
export function resourcesReleased(registered?: readonly ResourceAmount[], remaining?: readonly ResourceAmount[]): boolean | undefined {
  if (!Array.isArray(registered) || !Array.isArray(remaining)) return undefined;
  const value = (list: readonly ResourceAmount[], name: string) => list.find(r => r?.name === name)?.integerValue;
  return ['CPU', 'MEMORY'].every(name => value(registered, name) === value(remaining, name));
}

/**
 * The registrations of each of `instanceIds` among `registrations`: INACTIVE ones, and ones on no
 * known EC2 instance, left out (ECS lists them for a while after deregistration).
 */
export function registrationsByInstance(
  instanceIds: readonly string[], registrations: readonly ContainerInstanceView[],
): Map<string, ContainerInstanceView[]> {
  const result = new Map<string, ContainerInstanceView[]>(instanceIds.map(id => [id, []]));
  for (const ci of registrations) {
    if (ci.status === 'INACTIVE' || !ci.ec2InstanceId) continue;
    result.get(ci.ec2InstanceId)?.push(ci);
  }
  return result;
}

/**
 * Names shared by the construct (which writes them into the template) and the drain controller
 * (which reads them at run time). One module, so the two can never disagree.
 */

/** Environment variables of the drain controller function. */
export const ENV = {
  /** Name of the ECS cluster whose container instances the controller drains. */
  CLUSTER_NAME: 'DRAIN_CLUSTER_NAME',
  /** Names of the managed Auto Scaling groups, as a JSON array of strings. */
  AUTO_SCALING_GROUP_NAMES: 'DRAIN_AUTO_SCALING_GROUP_NAMES',
  /** Name of the termination lifecycle hook the construct adds to each managed group. */
  LIFECYCLE_HOOK_NAME: 'DRAIN_LIFECYCLE_HOOK_NAME',
  /** Seconds a drain may take before it is forced. */
  DRAIN_TIMEOUT_SECONDS: 'DRAIN_TIMEOUT_SECONDS',
  /** The lifecycle hook's heartbeat timeout, in seconds. */
  HEARTBEAT_TIMEOUT_SECONDS: 'DRAIN_HEARTBEAT_TIMEOUT_SECONDS',
  /** 'true' or 'false': force-deregister the container instance at the deadline. */
  FORCE_DEREGISTER_ON_TIMEOUT: 'DRAIN_FORCE_DEREGISTER_ON_TIMEOUT',
  /** 'true' or 'false': set DRAINING as soon as a Spot interruption warning arrives. */
  DRAIN_ON_SPOT_INTERRUPTION: 'DRAIN_ON_SPOT_INTERRUPTION',
  /** CloudWatch namespace of the metrics the controller emits. */
  METRICS_NAMESPACE: 'DRAIN_METRICS_NAMESPACE',
  /** Name or ARN of the event bus the controller publishes its drain events to. */
  EVENT_BUS_NAME: 'DRAIN_EVENT_BUS_NAME',
  /** Seconds before a drain's deadline at which the tasks still running are stopped; unset: never. */
  STOP_TASKS_BEFORE_DEADLINE_SECONDS: 'DRAIN_STOP_TASKS_BEFORE_DEADLINE_SECONDS',
  /** Seconds a drain waits before the reconcile pass reads why it waits, and between two such reads. */
  DIAGNOSE_DRAINS_AFTER_SECONDS: 'DRAIN_DIAGNOSE_DRAINS_AFTER_SECONDS',
} as const;

/**
 * The ECS custom attribute the controller keeps on a container instance it drains, so that any
 * invocation can pick the drain up without a database. Names allow letters, digits, hyphens,
 * underscores, forward and back slashes and periods, up to 128 characters; values also colons,
 * at signs and spaces (ECS API reference, Attribute).
 */
export const ATTRIBUTE = {
  /**
   * The drain record (`deadline:<epoch s> started:<epoch s> hook:<epoch s>`) or, for a
   * registration kept for the warm pool, `parked:<epoch s>`. Its presence marks what the
   * controller owns. One attribute, because ECS allows only 10 custom attributes per container
   * instance and users have their own (ECS_INSTANCE_ATTRIBUTES).
   */
  DRAIN: 'ecs-drain-hook.drain',
} as const;

/**
 * Time the controller keeps after a drain's deadline to force it and complete the lifecycle
 * action: the hooks' heartbeat timeout is the drain timeout plus this (at most 2 hours), and the
 * controller's heartbeats keep the hook from expiring before deadline + this.
 */
export const COMPLETION_MARGIN_SECONDS = 300;

/**
 * How long an event may wait to reach the controller: the rules' target retry policy gives up a
 * delivery to the event queue after this, and the queue keeps a message this long. Older news is
 * the reconcile pass's (it runs every minute).
 */
export const EVENT_MAX_AGE_SECONDS = 3600;

/** CloudWatch metrics the controller emits in embedded metric format. */
export const METRIC = {
  DEFAULT_NAMESPACE: 'EcsDrainHook',
  /** Dimension every metric carries. */
  DIMENSION_CLUSTER: 'ClusterName',
  DRAINS_STARTED: 'DrainsStarted',
  DRAINS_COMPLETED: 'DrainsCompleted',
  DRAINS_FORCED: 'DrainsForced',
  DRAIN_DURATION: 'DrainDuration',
  /** Drains whose record could not be written (e.g. the instance has 10 custom attributes already). */
  DRAINS_WITHOUT_RECORD: 'DrainsWithoutRecord',
  ERRORS: 'Errors',
  /** Drain events EventBridge did not take (a failed call, or an entry it refused). */
  EVENTS_NOT_PUBLISHED: 'DrainEventsNotPublished',
  /** Drains waiting for a cause that will not resolve itself (a standalone task, a replacement ECS cannot place, an agent disconnected), each reconcile pass. */
  DRAINS_BLOCKED: 'DrainsBlocked',
} as const;

/**
 * The drain events the controller publishes on EventBridge: its own source (a source may not
 * start with `aws.`: EventBridge user guide, "Sending events with PutEvents"), one detail type
 * per transition of a drain.
 */
export const DRAIN_EVENT = {
  SOURCE: 'cdk-ecs-drain-hook',
  STARTED: 'ECS Drain Started',
  WAITING: 'ECS Drain Waiting',
  COMPLETED: 'ECS Drain Completed',
  FORCED: 'ECS Drain Forced',
  PARKED: 'ECS Drain Parked',
  WITHOUT_RECORD: 'ECS Drain Without Record',
} as const;

/** Event sources and detail types the controller subscribes to (EventBridge event reference). */
export const EVENT = {
  AUTOSCALING_SOURCE: 'aws.autoscaling',
  LIFECYCLE_ACTION: 'EC2 Instance-terminate Lifecycle Action',
  ECS_SOURCE: 'aws.ecs',
  CONTAINER_INSTANCE_STATE_CHANGE: 'ECS Container Instance State Change',
  TASK_STATE_CHANGE: 'ECS Task State Change',
  EC2_SOURCE: 'aws.ec2',
  SPOT_INTERRUPTION: 'EC2 Spot Instance Interruption Warning',
  SCHEDULE_SOURCE: 'aws.events',
  SCHEDULED_EVENT: 'Scheduled Event',
} as const;

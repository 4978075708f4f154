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
} as const;

/**
 * ECS custom attributes the controller keeps on a container instance it drains, so that any
 * invocation can pick the drain up without a database. Attribute names and values allow
 * letters, numbers, hyphens, underscores, periods, at signs, slashes, colons and spaces, up to
 * 128 characters (ECS API reference, Attribute).
 */
export const ATTRIBUTE = {
  /**
   * The drain record: `deadline:<epoch s> started:<epoch s> registrations:<n>`. Its presence marks
   * a drain the controller owns. One attribute, because ECS allows only 10 custom attributes per
   * container instance and users have their own.
   */
  DRAIN: 'ecs-drain-hook.drain',
  /** Epoch seconds of the last lifecycle heartbeat the controller sent. */
  HEARTBEAT: 'ecs-drain-hook.heartbeat',
} as const;

/** CloudWatch metrics the controller emits in embedded metric format. */
export const METRIC = {
  DEFAULT_NAMESPACE: 'EcsDrainHook',
  /** Dimension every metric carries. */
  DIMENSION_CLUSTER: 'ClusterName',
  DRAINS_STARTED: 'DrainsStarted',
  DRAINS_COMPLETED: 'DrainsCompleted',
  DRAINS_FORCED: 'DrainsForced',
  DRAIN_DURATION: 'DrainDuration',
  ERRORS: 'Errors',
} as const;

/** Event sources and detail types the controller subscribes to (EventBridge event reference). */
export const EVENT = {
  AUTOSCALING_SOURCE: 'aws.autoscaling',
  LIFECYCLE_ACTION: 'EC2 Instance-terminate Lifecycle Action',
  ECS_SOURCE: 'aws.ecs',
  CONTAINER_INSTANCE_STATE_CHANGE: 'ECS Container Instance State Change',
  EC2_SOURCE: 'aws.ec2',
  SPOT_INTERRUPTION: 'EC2 Spot Instance Interruption Warning',
  SCHEDULE_SOURCE: 'aws.events',
  SCHEDULED_EVENT: 'Scheduled Event',
} as const;

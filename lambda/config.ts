import { ENV } from '../src/constants';

/** The controller's settings, read from the environment the construct writes. */
export interface ControllerConfig {
  readonly clusterName: string;
  readonly autoScalingGroupNames: ReadonlySet<string>;
  readonly lifecycleHookName: string;
  readonly drainTimeoutSeconds: number;
  readonly heartbeatTimeoutSeconds: number;
  readonly forceDeregisterOnTimeout: boolean;
  readonly drainOnSpotInterruption: boolean;
  readonly metricsNamespace: string;
  /** The event bus of the drain events (name or ARN); undefined: the account's default bus. */
  readonly eventBusName?: string;
  /** How long before a drain's deadline its tasks still meant to run are stopped; undefined: never. */
  readonly stopTasksBeforeDeadlineSeconds?: number;
  /** How long a drain waits before the reconcile pass reads why (and between two reads); see decide/, diagnosisDue. */
  readonly diagnoseDrainsAfterSeconds: number;
}

/** Reads and checks the configuration; a missing or malformed variable is a deployment bug. */
export function readConfig(env: NodeJS.ProcessEnv): ControllerConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
    return value;
  };
  const positiveNumber = (name: string): number => {
    const value = Number(required(name));
    if (!Number.isFinite(value) || value <= 0) throw new Error(`environment variable ${name} must be a positive number; got '${env[name]}'`);
    return value;
  };
  const flag = (name: string): boolean => {
    const value = required(name);
    if (value !== 'true' && value !== 'false') throw new Error(`environment variable ${name} must be 'true' or 'false'; got '${value}'`);
    return value === 'true';
  };
  const groupNamesError = () => new Error(
    `environment variable ${ENV.AUTO_SCALING_GROUP_NAMES} must be a JSON array of group names; got '${env[ENV.AUTO_SCALING_GROUP_NAMES]}'`,
  );
  let groupNames: unknown;
  try {
    groupNames = JSON.parse(required(ENV.AUTO_SCALING_GROUP_NAMES));
  } catch (error) {
    if (error instanceof SyntaxError) throw groupNamesError();
    throw error;
  }
  if (!Array.isArray(groupNames) || groupNames.some(n => typeof n !== 'string' || n === '')) throw groupNamesError();
  return {
    clusterName: required(ENV.CLUSTER_NAME),
    autoScalingGroupNames: new Set(groupNames as string[]),
    lifecycleHookName: required(ENV.LIFECYCLE_HOOK_NAME),
    drainTimeoutSeconds: positiveNumber(ENV.DRAIN_TIMEOUT_SECONDS),
    heartbeatTimeoutSeconds: positiveNumber(ENV.HEARTBEAT_TIMEOUT_SECONDS),
    forceDeregisterOnTimeout: flag(ENV.FORCE_DEREGISTER_ON_TIMEOUT),
    drainOnSpotInterruption: flag(ENV.DRAIN_ON_SPOT_INTERRUPTION),
    metricsNamespace: required(ENV.METRICS_NAMESPACE),
    eventBusName: env[ENV.EVENT_BUS_NAME] || undefined,
    stopTasksBeforeDeadlineSeconds: env[ENV.STOP_TASKS_BEFORE_DEADLINE_SECONDS] ? positiveNumber(ENV.STOP_TASKS_BEFORE_DEADLINE_SECONDS) : undefined,
    diagnoseDrainsAfterSeconds: positiveNumber(ENV.DIAGNOSE_DRAINS_AFTER_SECONDS),
  };
}

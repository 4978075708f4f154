/**
 * readConfig: the environment the construct writes, and clear errors naming the variable.
 */
import { readConfig } from '../../lambda/config';
import { ENV } from '../../src/constants';

function validEnv(): Record<string, string> {
  return {
    [ENV.CLUSTER_NAME]: 'my-cluster',
    [ENV.AUTO_SCALING_GROUP_NAMES]: '["asg-a","asg-b"]',
    [ENV.LIFECYCLE_HOOK_NAME]: 'my-drain-hook',
    [ENV.DRAIN_TIMEOUT_SECONDS]: '3600',
    [ENV.HEARTBEAT_TIMEOUT_SECONDS]: '600',
    [ENV.FORCE_DEREGISTER_ON_TIMEOUT]: 'true',
    [ENV.DRAIN_ON_SPOT_INTERRUPTION]: 'false',
    [ENV.METRICS_NAMESPACE]: 'EcsDrainHook',
    [ENV.EVENT_BUS_NAME]: 'drains',
    [ENV.DIAGNOSE_DRAINS_AFTER_SECONDS]: '600',
  };
}

/** Every variable but the optional ones: the event bus's (absent: the default bus) and the stop time's (absent: never). */
const REQUIRED = Object.values(ENV).filter(name => name !== ENV.EVENT_BUS_NAME && name !== ENV.STOP_TASKS_BEFORE_DEADLINE_SECONDS);

describe('readConfig', () => {
  test('reads a complete environment', () => {
    expect(readConfig(validEnv())).toEqual({
      clusterName: 'my-cluster',
      autoScalingGroupNames: new Set(['asg-a', 'asg-b']),
      lifecycleHookName: 'my-drain-hook',
      drainTimeoutSeconds: 3600,
      heartbeatTimeoutSeconds: 600,
      forceDeregisterOnTimeout: true,
      drainOnSpotInterruption: false,
      metricsNamespace: 'EcsDrainHook',
      eventBusName: 'drains',
      diagnoseDrainsAfterSeconds: 600,
    });
  });

  test('stops tasks before the deadline only when told how long before', () => {
    expect(readConfig(validEnv()).stopTasksBeforeDeadlineSeconds).toBeUndefined();
    expect(readConfig({ ...validEnv(), [ENV.STOP_TASKS_BEFORE_DEADLINE_SECONDS]: '600' }).stopTasksBeforeDeadlineSeconds).toBe(600);
    expect(() => readConfig({ ...validEnv(), [ENV.STOP_TASKS_BEFORE_DEADLINE_SECONDS]: 'soon' })).toThrow(/must be a positive number; got 'soon'/);
  });

  test('publishes to the default bus when no bus is named', () => {
    const env = validEnv();
    delete env[ENV.EVENT_BUS_NAME];
    expect(readConfig(env).eventBusName).toBeUndefined();
    expect(readConfig({ ...validEnv(), [ENV.EVENT_BUS_NAME]: '' }).eventBusName).toBeUndefined();
  });

  test.each(REQUIRED)('names %s when it is missing or empty', name => {
    const missing = validEnv();
    delete missing[name];
    expect(() => readConfig(missing)).toThrow(new RegExp(`${name} is not set`));
    expect(() => readConfig({ ...validEnv(), [name]: '' })).toThrow(new RegExp(`${name} is not set`));
  });

  test.each([
    [ENV.DRAIN_TIMEOUT_SECONDS, 'soon'],
    [ENV.DRAIN_TIMEOUT_SECONDS, '0'],
    [ENV.DRAIN_TIMEOUT_SECONDS, '-5'],
    [ENV.HEARTBEAT_TIMEOUT_SECONDS, 'Infinity'],
    [ENV.HEARTBEAT_TIMEOUT_SECONDS, ' '],
    [ENV.DIAGNOSE_DRAINS_AFTER_SECONDS, '0'],
    [ENV.FORCE_DEREGISTER_ON_TIMEOUT, 'yes'],
    [ENV.DRAIN_ON_SPOT_INTERRUPTION, 'TRUE'],
    [ENV.AUTO_SCALING_GROUP_NAMES, '"asg-a"'],
    [ENV.AUTO_SCALING_GROUP_NAMES, '[""]'],
    [ENV.AUTO_SCALING_GROUP_NAMES, '[1]'],
    [ENV.AUTO_SCALING_GROUP_NAMES, 'asg-a,asg-b'],
    [ENV.AUTO_SCALING_GROUP_NAMES, '["asg-a"'],
  ])('names %s when it is malformed (%j)', (name, value) => {
    expect(() => readConfig({ ...validEnv(), [name]: value })).toThrow(new RegExp(`environment variable ${name} .*${escape(value)}`));
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Small helpers of `EcsDrainHook`: the bounds and validation of its props, the timeouts derived
 * from them, how a group is told apart (the key of its hook's logical ID, its name in messages),
 * and text formatting. Internal: not exported from the package.
 */
import * as crypto from 'crypto';
import { Duration, Stack, Token, aws_autoscaling as autoscaling } from 'aws-cdk-lib';
import { COMPLETION_MARGIN_SECONDS } from './constants';

/** Time the controller keeps, after the drain timeout, to force and complete the action. */
const DRAIN_COMPLETION_MARGIN = Duration.seconds(COMPLETION_MARGIN_SECONDS);
const MIN_DRAIN_TIMEOUT = Duration.minutes(1);
/** Heartbeat timeout bounds (Auto Scaling API reference, PutLifecycleHook). */
const MAX_HEARTBEAT_TIMEOUT = Duration.hours(2);
/** Global timeout of a lifecycle action: min(48 h, 100 x heartbeat) (Auto Scaling user guide). */
const MAX_GLOBAL_TIMEOUT = Duration.hours(48);

/** LifecycleHookName: 1 to 255 characters of [A-Za-z0-9\-_\/] (Auto Scaling API reference, PutLifecycleHook). */
export const LIFECYCLE_HOOK_NAME_MAX_LENGTH = 255;
const LIFECYCLE_HOOK_NAME = /^[A-Za-z0-9\-_/]+$/;

export function validateLifecycleHookName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (name.length < 1 || name.length > LIFECYCLE_HOOK_NAME_MAX_LENGTH) {
    throw new Error(`lifecycleHookName must be between 1 and ${LIFECYCLE_HOOK_NAME_MAX_LENGTH} characters; got ${name.length}`);
  }
  if (!LIFECYCLE_HOOK_NAME.test(name)) {
    throw new Error(`lifecycleHookName may contain only letters, digits, '-', '_' and '/'; got '${name}'`);
  }
}

export function validateDrainTimeout(drainTimeout: Duration): void {
  const seconds = drainTimeout.toSeconds();
  if (Token.isUnresolved(seconds)) return;
  if (seconds < MIN_DRAIN_TIMEOUT.toSeconds()) {
    throw new Error(`drainTimeout must be at least 1 minute; got ${inHoursAndMinutes(seconds)}`);
  }
  const max = MAX_GLOBAL_TIMEOUT.toSeconds() - DRAIN_COMPLETION_MARGIN.toSeconds();
  if (seconds > max) {
    throw new Error(`drainTimeout must be at most ${inHoursAndMinutes(max)} (the lifecycle action's 48-hour global `
      + `timeout less ${inHoursAndMinutes(DRAIN_COMPLETION_MARGIN.toSeconds())} to finish); got ${inHoursAndMinutes(seconds)}`);
  }
}

/**
 * A duration measured within a drain (`stopTasksBeforeDeadline`, `diagnoseDrainsAfter`): at least
 * a minute (the reconcile pass's period), and less than the drain timeout (else it would act on
 * every drain at once, or never).
 */
export function validateWithinDrain(propName: string, duration: Duration, drainTimeout: Duration): void {
  const seconds = duration.toSeconds();
  const timeout = drainTimeout.toSeconds();
  if (Token.isUnresolved(seconds) || Token.isUnresolved(timeout)) return;
  if (seconds < 60) throw new Error(`${propName} must be at least 1 minute; got ${inHoursAndMinutes(seconds)}`);
  if (seconds >= timeout) {
    throw new Error(`${propName} must be less than drainTimeout (${inHoursAndMinutes(timeout)}); got ${inHoursAndMinutes(seconds)}`);
  }
}

/**
 * The hook's heartbeat timeout: the drain timeout plus the completion margin, so a drain within
 * two hours needs no heartbeat at all; longer drains get the maximum and the controller sends
 * heartbeats. The global timeout, min(48 h, 100 x heartbeat), then always outlasts the drain.
 */
export function heartbeatTimeoutFor(drainTimeout: Duration): Duration {
  const seconds = drainTimeout.toSeconds();
  if (Token.isUnresolved(seconds)) return MAX_HEARTBEAT_TIMEOUT;
  return Duration.seconds(Math.min(seconds + DRAIN_COMPLETION_MARGIN.toSeconds(), MAX_HEARTBEAT_TIMEOUT.toSeconds()));
}

/**
 * What identifies a group across edits of the app: its name when it is known at synthesis (an
 * imported group); otherwise its stack's name and its construct path within that stack, which is
 * what the group's own logical ID derives from (a group that moves is a new group anyway).
 * `readable` keeps the logical ID recognizable; the hash keeps apart groups whose readable parts
 * are alike.
 */
export function groupKey(group: autoscaling.IAutoScalingGroup): { readable: string; hash: string } {
  const stack = Stack.of(group);
  const withinStack = group.node.path.slice(stack.node.path.length + 1);
  const [kind, identity] = Token.isUnresolved(group.autoScalingGroupName)
    ? ['path', `${stack.stackName}/${withinStack}`]
    : ['name', group.autoScalingGroupName];
  const key = `${kind}:${identity}`;
  const readable = (kind === 'path' ? withinStack : identity).replace(/[^A-Za-z0-9]/g, '');
  const hash = crypto.createHash('sha256').update(key).digest('hex').slice(0, 8).toUpperCase();
  return { readable, hash };
}

/** Whether two groups have the same name known at synthesis (two imports of one group). */
export function sameResolvedName(a: autoscaling.IAutoScalingGroup, b: autoscaling.IAutoScalingGroup): boolean {
  const [nameA, nameB] = [a.autoScalingGroupName, b.autoScalingGroupName];
  return !Token.isUnresolved(nameA) && !Token.isUnresolved(nameB) && nameA === nameB;
}

/** A group in messages: its name when known at synthesis, its construct path otherwise. */
export function describeGroup(group: autoscaling.IAutoScalingGroup): string {
  return Token.isUnresolved(group.autoScalingGroupName) ? group.node.path : `'${group.autoScalingGroupName}'`;
}

/** "47 hours 55 minutes": exact, unlike Duration.toHumanString(), which rounds to two units. */
export function inHoursAndMinutes(totalSeconds: number): string {
  const parts: [number, string][] = [
    [Math.floor(totalSeconds / 3600), 'hour'],
    [Math.floor((totalSeconds % 3600) / 60), 'minute'],
    [totalSeconds % 60, 'second'],
  ];
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n} ${unit}${n === 1 ? '' : 's'}`).join(' ') || '0 seconds';
}

/** `text`, cut to `maxLength` characters with an ellipsis when longer. */
export function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}

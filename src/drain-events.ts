/**
 * The drain events of the construct's API: their types, the rules that catch them
 * (`EcsDrainHook.onDrainEvent`), and the notification of an operator (`notificationTopic`). The
 * controller publishes them (lambda/drain-events.ts).
 */
import {
  aws_events as events,
  aws_events_targets as targets,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DRAIN_EVENT } from './constants';

/** The drain events the controller publishes (their `detail-type`), one per transition of a drain. */
export enum DrainEventType {
  /** The controller set the instance's registrations DRAINING and recorded the drain. */
  STARTED = 'ECS Drain Started',
  /**
   * A drain that has waited `diagnoseDrainsAfter` waits for other causes than it was last
   * announced waiting for (`detail.waitReasons`); `detail.blocked` is true when one will not
   * resolve itself (a standalone task, a replacement ECS cannot place, a disconnected agent).
   */
  WAITING = 'ECS Drain Waiting',
  /** Every task stopped: the registrations were deregistered and the lifecycle action completed. */
  COMPLETED = 'ECS Drain Completed',
  /** The deadline passed: the registrations were deregistered with force (unless turned off) and the action completed. */
  FORCED = 'ECS Drain Forced',
  /** Every task stopped and the instance went back to its group's warm pool with its registration kept. */
  PARKED = 'ECS Drain Parked',
  /**
   * ECS refused the drain's record (the container instance holds the 10 custom attributes ECS
   * allows): the drain goes on, but only the hook's own timeout bounds it.
   */
  WITHOUT_RECORD = 'ECS Drain Without Record',
}

/** Options of `EcsDrainHook.onDrainEvent()`. */
export interface OnDrainEventOptions extends events.OnEventOptions {
  /**
   * The drain events the rule matches.
   *
   * @default - every drain event
   */
  readonly eventTypes?: DrainEventType[];
}

/** The events an operator must act on: a drain forced, or one without the record that bounds it. */
export const NOTIFIED_EVENT_TYPES: readonly DrainEventType[] = [DrainEventType.FORCED, DrainEventType.WITHOUT_RECORD];

/**
 * A rule on `eventBus` matching the drain events of `clusterName` (their `detail.cluster`), of the
 * types given (all by default), with the caller's own pattern merged in as `Rule.addEventPattern`
 * merges patterns.
 */
export function drainEventRule(
  scope: Construct, id: string, clusterName: string, eventBus: events.IEventBus | undefined, options: OnDrainEventOptions,
): events.Rule {
  const rule = new events.Rule(scope, id, {
    description: options.description ?? `Drain events of the ECS cluster ${clusterName}`,
    ruleName: options.ruleName,
    eventBus,
    crossStackScope: options.crossStackScope,
    targets: options.target ? [options.target] : [],
    eventPattern: {
      source: [DRAIN_EVENT.SOURCE],
      detailType: [...options.eventTypes ?? Object.values(DrainEventType)],
      detail: { cluster: [clusterName] },
    },
  });
  if (options.eventPattern) rule.addEventPattern(options.eventPattern);
  return rule;
}

/**
 * The notification of an operator: the drain events that need one, as a few readable lines
 * (an input transformer: EventBridge user guide, "Transforming target input").
 */
export function notificationTarget(topic: sns.ITopic, moment: 'ended' | 'waiting' = 'ended'): events.IRuleTarget {
  const field = (path: string) => events.EventField.fromPath(`$.detail.${path}`);
  const counted = moment === 'waiting' ? 'Tasks counted now' : 'Tasks counted when it ended';
  return new targets.SnsTopic(topic, {
    message: events.RuleTargetInput.fromMultilineText([
      `${events.EventField.detailType}: instance ${field('ec2InstanceId')} of group ${field('autoScalingGroupName')}, cluster ${field('cluster')}`,
      `Why: ${field('reason')}`,
      `Drain ${field('drainId')} started ${field('startedAt')}, deadline ${field('deadline')}`,
      `${counted}: ${field('tasksLeft.running')} running, ${field('tasksLeft.pending')} pending`,
    ].join('\n')),
  });
}

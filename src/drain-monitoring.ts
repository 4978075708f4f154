/**
 * Monitoring of an `EcsDrainHook`, apart from its wiring: the metrics the drain controller
 * publishes (which `EcsDrainHook.metric…()` return), the alarms of `createAlarms` and the dashboard
 * of `createDashboard`. Internal: not exported from the package. The alarms and the dashboard are
 * created in the drain hook's scope, so their construct paths and logical IDs are the drain hook's.
 */
import { Duration, aws_cloudwatch as cloudwatch, aws_lambda as lambda, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { METRIC } from './constants';
import { inHoursAndMinutes } from './helpers';

/** The controller's metrics of one drain hook's cluster, each with its default statistic. */
export class DrainMetrics {
  /**
   * @param owner the drain hook, named in errors
   * @param clusterName the value of the metrics' only dimension
   */
  constructor(private readonly owner: IConstruct, private readonly clusterName: string) {}

  public drainsStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.DRAINS_STARTED, { statistic: 'Sum', ...props });
  }

  public drainsCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.DRAINS_COMPLETED, { statistic: 'Sum', ...props });
  }

  public drainsForced(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.DRAINS_FORCED, { statistic: 'Sum', ...props });
  }

  public drainDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.DRAIN_DURATION, { statistic: 'Maximum', ...props });
  }

  public drainsWithoutRecord(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.DRAINS_WITHOUT_RECORD, { statistic: 'Sum', ...props });
  }

  public drainsBlocked(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.DRAINS_BLOCKED, { statistic: 'Maximum', ...props });
  }

  public errors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.ERRORS, { statistic: 'Sum', ...props });
  }

  /**
   * The controller publishes each metric with the `ClusterName` dimension only, and CloudWatch
   * identifies a metric by its full set of dimensions (CloudWatch user guide, "Dimensions"): a
   * metric with other dimensions would name one that never has data. So `dimensionsMap` is
   * refused rather than merged (or silently replaced).
   */
  private metric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (props.dimensionsMap !== undefined) {
      throw new Error(`EcsDrainHook ${this.owner.node.path}: the ${metricName} metric takes no dimensionsMap: the controller publishes it `
        + `with the ${METRIC.DIMENSION_CLUSTER} dimension only, which is set for you; other dimensions would name a metric without data`);
    }
    return new cloudwatch.Metric({
      ...props,
      namespace: METRIC.DEFAULT_NAMESPACE,
      metricName,
      dimensionsMap: { [METRIC.DIMENSION_CLUSTER]: this.clusterName },
    });
  }
}

/** What the alarms and the dashboard watch. */
export interface DrainMonitoringSources {
  readonly metrics: DrainMetrics;
  /** The function that handles the events. */
  readonly controller: lambda.IFunction;
  /** The function that runs the reconcile pass. */
  readonly reconciler: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** Named in the forced drains alarm's description. */
  readonly drainTimeout: Duration;
}

/** The alarms of `createAlarms`, in `scope` (the drain hook): failed invocations, dead letters, forced drains, blocked drains. */
export function createDrainAlarms(scope: Construct, sources: DrainMonitoringSources): cloudwatch.Alarm[] {
  const { metrics, controller, reconciler, deadLetterQueue, drainTimeout } = sources;
  const period = Duration.minutes(5);
  const atLeastOnce = {
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  return [
    new cloudwatch.Alarm(scope, 'FailedInvocationsAlarm', {
      ...atLeastOnce,
      alarmDescription: `The drain controller of ${scope.node.path} failed; Lambda retries, then the event goes to the dead-letter queue.`,
      // Both functions: the reconcile pass reports its errors without failing, so its Errors are timeouts or crashes.
      metric: new cloudwatch.MathExpression({
        expression: 'events + passes',
        usingMetrics: { events: controller.metricErrors({ period }), passes: reconciler.metricErrors({ period }) },
        label: 'Failed invocations',
        period,
      }),
    }),
    new cloudwatch.Alarm(scope, 'DeadLetterQueueAlarm', {
      ...atLeastOnce,
      alarmDescription: `Events the drain controller of ${scope.node.path} could not handle wait in its dead-letter queue.`,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
    }),
    new cloudwatch.Alarm(scope, 'ForcedDrainsAlarm', {
      ...atLeastOnce,
      alarmDescription: `A drain of ${scope.node.path} reached its ${inHoursAndMinutes(drainTimeout.toSeconds())} timeout and was forced.`,
      metric: metrics.drainsForced({ period }),
    }),
    new cloudwatch.Alarm(scope, 'BlockedDrainsAlarm', {
      ...atLeastOnce,
      // Two periods: a standalone task that ends on its own a minute later is not worth a page.
      evaluationPeriods: 2,
      alarmDescription: `A drain of ${scope.node.path} waits for a cause that will not resolve itself `
        + '(a standalone task, a replacement ECS cannot place, a disconnected agent): see its ECS Drain Waiting event or the controller\'s "drain waits" log.',
      metric: metrics.drainsBlocked({ period }),
    }),
  ];
}

/** The dashboard of `createDashboard`, in `scope` (the drain hook): drains, their duration, the controller. */
export function createDrainDashboard(scope: Construct, sources: DrainMonitoringSources): cloudwatch.Dashboard {
  const { metrics, controller, reconciler } = sources;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard');
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Drains',
      left: [metrics.drainsStarted(), metrics.drainsCompleted(), metrics.drainsForced()],
      right: [metrics.drainsBlocked()],
    }),
    new cloudwatch.GraphWidget({ title: 'Drain duration (seconds)', left: [metrics.drainDuration()] }),
    new cloudwatch.GraphWidget({
      title: 'Controller',
      left: [
        controller.metricInvocations(), controller.metricErrors(),
        reconciler.metricInvocations(), reconciler.metricErrors(), reconciler.metricThrottles(),
        metrics.errors(),
      ],
      right: [controller.metricDuration({ statistic: 'Maximum' }), reconciler.metricDuration({ statistic: 'Maximum' })],
    }),
  );
  return dashboard;
}

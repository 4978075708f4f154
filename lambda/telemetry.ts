/**
 * Structured logs (one JSON object per line, so CloudWatch Logs Insights can query every
 * field) and metrics in CloudWatch embedded metric format (EMF), which Lambda turns into
 * metrics without an API call.
 */
import { METRIC } from '../src/constants';

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** Fields that identify what a line is about; every line of an instance carries them. */
export interface LogFields {
  readonly instanceId?: string;
  readonly containerInstanceArn?: string;
  readonly groupName?: string;
  readonly [key: string]: unknown;
}

export type MetricName =
  | typeof METRIC.DRAINS_STARTED
  | typeof METRIC.DRAINS_COMPLETED
  | typeof METRIC.DRAINS_FORCED
  | typeof METRIC.DRAIN_DURATION
  | typeof METRIC.DRAINS_WITHOUT_RECORD
  | typeof METRIC.ERRORS
  | typeof METRIC.EVENTS_NOT_PUBLISHED
  | typeof METRIC.DRAINS_BLOCKED;

export class Telemetry {
  constructor(
    private readonly cluster: string,
    private readonly namespace: string,
    private readonly now: () => number,
    private readonly write: (line: string) => void = line => console.log(line),
  ) {}

  log(level: Level, message: string, fields: LogFields = {}): void {
    this.write(JSON.stringify({ level, message, cluster: this.cluster, ...fields }));
  }

  /** One EMF record; `value` in seconds for DrainDuration, a count otherwise. */
  metric(name: MetricName, value: number, fields: LogFields = {}): void {
    this.write(JSON.stringify({
      _aws: {
        Timestamp: this.now(),
        CloudWatchMetrics: [{
          Namespace: this.namespace,
          Dimensions: [[METRIC.DIMENSION_CLUSTER]],
          Metrics: [{ Name: name, Unit: name === METRIC.DRAIN_DURATION ? 'Seconds' : 'Count' }],
        }],
      },
      [METRIC.DIMENSION_CLUSTER]: this.cluster,
      [name]: value,
      ...fields,
    }));
  }
}

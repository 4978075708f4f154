/**
 * What scenarios assert on: a timeline per EC2 instance, call statistics, and mutating calls
 * made on container instances an operator drained (which the controller must leave alone).
 */
export interface InstanceTimeline {
  launchedAt: number;
  terminatingAt?: number;
  drainingAt?: number;
  lastTaskStoppedAt?: number;
  deregisteredAt?: number;
  forced?: boolean;
  lifecycleCompletedAt?: number;
  completedBy?: 'api' | 'timeout';
  terminatedAt?: number;
  /** Tasks (ARNs) not yet STOPPED when EC2 terminated the instance. */
  tasksAliveAtTermination: string[];
}

export interface EmulatorStats {
  /** Calls per `service:Operation`, throttled and failed ones included. */
  calls: Record<string, number>;
  throttled: Record<string, number>;
  injectedErrors: Record<string, number>;
  totalCalls: number;
  totalThrottled: number;
  totalInjectedErrors: number;
  /** Calls IAM refused, per `service:Operation`. */
  denied: Record<string, number>;
  totalDenied: number;
  /** The first refused calls (at most DENIED_SAMPLES), for diagnosis. */
  deniedRequests: DeniedRequest[];
}

export interface DeniedRequest {
  readonly at: number;
  readonly action: string;
  readonly resource: string;
  readonly principal: string;
  readonly invocationId?: string;
  readonly message: string;
}

/** How many refused calls `stats.deniedRequests` keeps. */
export const DENIED_SAMPLES = 20;

export interface UntouchedViolation {
  at: number;
  operation: string;
  containerInstanceArn: string;
  ec2InstanceId: string;
  invocationId?: string;
}

export class Observer {
  readonly timelines = new Map<string, InstanceTimeline>();
  readonly stats: EmulatorStats = {
    calls: {},
    throttled: {},
    injectedErrors: {},
    totalCalls: 0,
    totalThrottled: 0,
    totalInjectedErrors: 0,
    denied: {},
    totalDenied: 0,
    deniedRequests: [],
  };
  readonly untouchedViolations: UntouchedViolation[] = [];

  timeline(instanceId: string, launchedAt = 0): InstanceTimeline {
    let timeline = this.timelines.get(instanceId);
    if (!timeline) {
      timeline = { launchedAt, tasksAliveAtTermination: [] };
      this.timelines.set(instanceId, timeline);
    }
    return timeline;
  }

  countCall(key: string): void {
    this.stats.calls[key] = (this.stats.calls[key] ?? 0) + 1;
    this.stats.totalCalls++;
  }

  countThrottled(key: string): void {
    this.stats.throttled[key] = (this.stats.throttled[key] ?? 0) + 1;
    this.stats.totalThrottled++;
  }

  countDenied(key: string, request: DeniedRequest): void {
    this.stats.denied[key] = (this.stats.denied[key] ?? 0) + 1;
    this.stats.totalDenied++;
    if (this.stats.deniedRequests.length < DENIED_SAMPLES) this.stats.deniedRequests.push(request);
  }

  countInjectedError(key: string): void {
    this.stats.injectedErrors[key] = (this.stats.injectedErrors[key] ?? 0) + 1;
    this.stats.totalInjectedErrors++;
  }
}

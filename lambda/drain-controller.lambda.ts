/**
 * Lambda entrypoint of the drain controller. Builds the clients once per execution
 * environment; everything else lives in controller.ts (flow), decide/ (decisions) and
 * aws.ts (API calls).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { ClusterApi } from './aws';
import { readConfig } from './config';
import { DrainController, InvocationSummary, QueueBatchResponse } from './controller';
import { parseTrigger } from './events';
import { Telemetry } from './telemetry';

// Large scale-ins meet the per-account token buckets of ECS (komoju/barcelona#762) and Auto
// Scaling. The reconcile pass batches its calls and is patient: its ECS calls retry with
// exponential back-off (standard mode: adaptive mode's client-side rate limiter lets it lose
// ECS's read bucket to the event path); its Auto Scaling calls, of which it makes nearly all (one
// completion per drain: the scarcest bucket of a large scale-in), pace themselves to what the
// bucket allows (adaptive mode). The event path handles batches from the queue, a few at a time
// (the event source mapping's maximum concurrency): it tries a call twice, then leaves the
// instances to the pass, which reads for all of them at once.
const PATIENT = { maxAttempts: 10, retryMode: 'standard' } as const;
const PACED = { maxAttempts: 10, retryMode: 'adaptive' } as const;
const BRISK = { maxAttempts: 2, retryMode: 'standard' } as const;
// Drain events go out at the end of an invocation, after its drains: a few attempts cost nothing
// a drain waits for (drain-events.ts).
const PUBLISHING = { maxAttempts: 3, retryMode: 'standard' } as const;
const events = new EventBridgeClient(PUBLISHING);

const config = readConfig(process.env);
const telemetry = new Telemetry(config.clusterName, config.metricsNamespace, () => Date.now());
const reconciler = new DrainController(config,
  new ClusterApi(new ECSClient(PATIENT), new AutoScalingClient(PACED), config.clusterName).publishingWith(events), telemetry);
// A refused deregistration right after the last task stopped is asked again every second for 5 s, then
// after 2 s more: ECS catches up with a task that just stopped within seconds.
const responder = new DrainController(config,
  new ClusterApi(new ECSClient(BRISK), new AutoScalingClient(BRISK), config.clusterName).publishingWith(events), telemetry, () => Date.now(), {
    deferOnThrottling: true, retryRefusedDeregistrationMs: [1000, 1000, 1000, 1000, 1000, 2000],
  });

export async function handler(
  event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<InvocationSummary | QueueBatchResponse> {
  const controller = parseTrigger(event).kind === 'reconcile' ? reconciler : responder;
  return controller.handle(event, () => context?.getRemainingTimeInMillis() ?? Infinity);
}

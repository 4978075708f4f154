/**
 * Lambda entrypoint of the drain controller. Builds the clients once per execution
 * environment; everything else lives in controller.ts (flow), decide.ts (decisions) and
 * aws.ts (API calls).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import { ClusterApi } from './aws';
import { readConfig } from './config';
import { DrainController, InvocationSummary } from './controller';
import { Telemetry } from './telemetry';

// Large scale-ins meet ECS's per-account token buckets (komoju/barcelona#762): adaptive
// retries slow the client down instead of failing the drain.
const RETRY = { maxAttempts: 10, retryMode: 'adaptive' } as const;

const config = readConfig(process.env);
const api = new ClusterApi(new ECSClient(RETRY), new AutoScalingClient(RETRY), config.clusterName);
const controller = new DrainController(config, api, new Telemetry(config.clusterName, config.metricsNamespace, () => Date.now()));

export async function handler(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<InvocationSummary> {
  return controller.handle(event, () => context?.getRemainingTimeInMillis() ?? Infinity);
}

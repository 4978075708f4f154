/**
 * Reads a synthesized cloud assembly (what `cdk synth` writes to cdk.out/) and "deploys" it:
 * the ECS clusters, Auto Scaling groups and lifecycle hooks go into the emulator; the Lambda
 * functions and EventBridge rules become a model the Lambda and EventBridge runtimes run.
 *
 * Cloud assembly schema: aws-cdk `cloud-assembly-schema` (manifest.json `artifacts`, type
 * `aws:cloudformation:stack` with `properties.templateFile`, `cdk:cloud-assembly` for stages,
 * `cdk:asset-manifest` with `files[hash].source.path`).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { RoleSpec, StackRoles } from './iam-roles';
import { SIM_ACCOUNT, SIM_REGION, Template, TemplateResolver } from './intrinsics';
import { checkTargetInput } from './target-input';

export interface ClusterSpec { readonly stackName: string; readonly logicalId: string; readonly name: string }

export interface AutoScalingGroupSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
}

export type LifecycleTransition = 'autoscaling:EC2_INSTANCE_TERMINATING' | 'autoscaling:EC2_INSTANCE_LAUNCHING';

export interface LifecycleHookSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly groupName: string;
  readonly hookName: string;
  readonly transition: LifecycleTransition;
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: 'CONTINUE' | 'ABANDON';
}

/**
 * AWS::AutoScaling::WarmPool (CloudFormation template reference): PoolState defaults to Stopped,
 * MinSize to 0; no MaxGroupPreparedCapacity means the group's MaxSize counts.
 */
export interface WarmPoolSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly groupName: string;
  readonly poolState: 'Stopped' | 'Running' | 'Hibernated';
  readonly minSize: number;
  readonly maxGroupPreparedCapacity?: number;
  /** InstanceReusePolicy.ReuseOnScaleIn, default false. */
  readonly reuseOnScaleIn: boolean;
}

/** Lambda's asynchronous invocation settings (AWS::Lambda::EventInvokeConfig). */
export interface InvokeConfigSpec {
  /** 0..2; Lambda's default is 2 (Lambda developer guide, "Asynchronous invocation"). */
  readonly maximumRetryAttempts: number;
  /** 60..21600; default 6 hours. */
  readonly maximumEventAgeSeconds: number;
  /** ARN of the on-failure destination, if any. */
  readonly onFailureDestination?: string;
}

export interface FunctionSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** `file.export`, resolved against `codeDirectory`. */
  readonly handler: string;
  readonly runtime: string;
  /** Lambda's default timeout is 3 s, memory 128 MB (AWS::Lambda::Function reference). */
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly environment: Record<string, string>;
  /** Absolute path of the function's asset directory inside the assembly. */
  readonly codeDirectory: string;
  /**
   * What names the code in the template: `Code.S3Key` (the asset's hash), else the resource's
   * `aws:asset:path`. The same key is the same code, as it is for CloudFormation.
   */
  readonly codeKey: string;
  readonly invokeConfig: InvokeConfigSpec;
  /** The execution role (`Role`) and every identity-based policy attached to it. */
  readonly role: RoleSpec;
  /**
   * `ReservedConcurrentExecutions`: at most this many run at once, and no other function can use
   * them; undefined: the function shares the account's unreserved concurrency.
   */
  readonly reservedConcurrentExecutions?: number;
}

export interface RuleTargetSpec {
  readonly id: string;
  readonly arn: string;
  /** Set when the target is a function of the assembly. */
  readonly functionName?: string;
  /** Set when the target is an Amazon SQS queue (its ARN: `arn:aws:sqs:<region>:<account>:<name>`). */
  readonly queueArn?: string;
  /** Set when the target is an Amazon SNS topic (its ARN: `arn:aws:sns:<region>:<account>:<name>`). */
  readonly topicArn?: string;
  /** A constant JSON input replacing the event (target `Input`). */
  readonly input?: unknown;
  /** `Input` as the template writes it: the message body a queue or topic target receives instead of the event. */
  readonly inputText?: string;
  /** `InputPath`: the part of the event (a JSON path) sent instead of the whole event (runtime/target-input.ts). */
  readonly inputPath?: string;
  /** `InputTransformer`: variables from JSON paths of the event, filled into a template (runtime/target-input.ts). */
  readonly inputTransformer?: InputTransformerSpec;
  /**
   * The target's `RetryPolicy` (AWS::Events::Rule RetryPolicy): how often and how long EventBridge
   * retries a delivery that failed with a retriable error. Undefined: EventBridge's defaults, 185
   * attempts over 24 hours (EventBridge user guide, "How EventBridge retries delivering events").
   */
  readonly retryPolicy?: { readonly maximumRetryAttempts: number; readonly maximumEventAgeSeconds: number };
  /** `DeadLetterConfig.Arn`: the SQS queue that receives events EventBridge gave up on. */
  readonly deadLetterArn?: string;
}

/**
 * AWS::SQS::Queue, a standard queue (CloudFormation template reference): `VisibilityTimeout`
 * defaults to 30 s, `MessageRetentionPeriod` to 345,600 s (4 days), `DelaySeconds` to 0;
 * `RedrivePolicy` names the dead-letter queue and `maxReceiveCount`. `Ref` is the queue URL,
 * `Fn::GetAtt` gives `Arn` and `QueueName` (intrinsics.ts). `SqsManagedSseEnabled` and the other
 * encryption settings change nothing the emulator models. Values are kept as written: the SQS
 * runtime refuses what CreateQueue would refuse (sqs.ts).
 */
export interface QueueSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly visibilityTimeoutSeconds: number;
  readonly messageRetentionSeconds: number;
  readonly delaySeconds: number;
  readonly redrivePolicy?: { readonly deadLetterTargetArn: string; readonly maxReceiveCount: number };
}

/** AWS::SQS::QueuePolicy: one resource-based policy set on each queue of `Queues` (queue URLs). */
export interface QueuePolicySpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly queueUrls: readonly string[];
  readonly document: unknown;
}

/**
 * AWS::Lambda::EventSourceMapping of an Amazon SQS queue (Lambda developer guide, "Lambda
 * parameters for Amazon SQS event source mappings"): `BatchSize` defaults to 10,
 * `MaximumBatchingWindowInSeconds` to 0, `Enabled` to true; `ScalingConfig.MaximumConcurrency`
 * and `FunctionResponseTypes` are optional. Kept as written: the deployment refuses what
 * CreateEventSourceMapping refuses (sqs-event-source.ts).
 */
export interface EventSourceMappingSpec {
  readonly stackName: string;
  readonly logicalId: string;
  /** The mapping's UUID (what `Ref` returns), derived from its stack, logical ID and queue. */
  readonly uuid: string;
  readonly eventSourceArn: string;
  readonly functionName: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly maximumConcurrency?: number;
  readonly functionResponseTypes: readonly string[];
  readonly enabled: boolean;
}

/** AWS::Events::Rule InputTransformer (keys and paths checked when the template is read). */
export interface InputTransformerSpec {
  readonly inputPathsMap: Readonly<Record<string, string>>;
  readonly inputTemplate: string;
}

/** AWS::Events::EventBus: a custom bus (`Name` is required; `Ref` is the name, `Arn` `...:event-bus/<name>`). */
export interface EventBusSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

/**
 * AWS::SNS::Topic, a standard topic (CloudFormation template reference): `Ref` and `TopicArn` are
 * its ARN. FIFO topics and server-side encryption (`KmsMasterKeyId`) are refused as not modelled:
 * EventBridge could publish to an encrypted topic only if the key policy lets it (user guide,
 * "Using resource-based policies for Amazon EventBridge", Amazon SNS permissions), which the
 * emulator does not evaluate.
 */
export interface TopicSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

/** AWS::SNS::TopicPolicy: one resource-based policy set on each topic of `Topics` (topic ARNs). */
export interface TopicPolicySpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly topicArns: readonly string[];
  readonly document: unknown;
}

export interface RuleSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /**
   * The bus whose events the rule matches (`EventBusName`, a name or an ARN in the template, kept as
   * the name); undefined: the default bus.
   */
  readonly eventBusName?: string;
  readonly eventPattern?: Record<string, unknown>;
  readonly scheduleExpression?: string;
  readonly enabled: boolean;
  readonly targets: RuleTargetSpec[];
}

/**
 * A resource of a stack as CloudFormation compares it in a stack update: its type and its
 * properties (intrinsics resolved, so a reference to a renamed resource is a change too).
 */
export interface ResourceSpec {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Record<string, unknown>;
  /** `aws:asset:path` metadata: where a template without `Code.S3Key` names its code. */
  readonly assetPath?: string;
}

/** Everything the simulation deploys from one assembly. */
export interface CloudModel {
  readonly directory: string;
  readonly stacks: string[];
  /** Every resource of every stack (conditions applied), for stack updates. */
  readonly resources: ResourceSpec[];
  readonly clusters: ClusterSpec[];
  readonly autoScalingGroups: AutoScalingGroupSpec[];
  readonly lifecycleHooks: LifecycleHookSpec[];
  readonly warmPools: WarmPoolSpec[];
  readonly functions: FunctionSpec[];
  readonly rules: RuleSpec[];
  readonly queues: QueueSpec[];
  readonly queuePolicies: QueuePolicySpec[];
  readonly eventSourceMappings: EventSourceMappingSpec[];
  readonly eventBuses: EventBusSpec[];
  readonly topics: TopicSpec[];
  readonly topicPolicies: TopicPolicySpec[];
}

/** The part of the emulator's world API a deployment uses (sim/README.md, the contract). */
export interface DeployTarget {
  createCluster(name: string): unknown;
  createEventBus(name: string): unknown;
  createAutoScalingGroup(group: { name: string; minSize: number; maxSize: number; desiredCapacity: number }): unknown;
  putLifecycleHook(hook: {
    groupName: string;
    hookName: string;
    transition: LifecycleTransition;
    heartbeatTimeoutSeconds: number;
    defaultResult: 'CONTINUE' | 'ABANDON';
  }): unknown;
  putWarmPool(pool: ReturnType<typeof warmPoolOptions>): unknown;
}

interface StackArtifact { readonly stackName: string; readonly template: Template; readonly assetPaths: Map<string, string> }

/** Reads every stack of the assembly in `directory` (nested stage assemblies included). */
export function loadAssembly(directory: string): CloudModel {
  const root = path.resolve(directory);
  const model: CloudModel = {
    directory: root,
    stacks: [],
    resources: [],
    clusters: [],
    autoScalingGroups: [],
    lifecycleHooks: [],
    warmPools: [],
    functions: [],
    rules: [],
    queues: [],
    queuePolicies: [],
    eventSourceMappings: [],
    eventBuses: [],
    topics: [],
    topicPolicies: [],
  };
  for (const stack of readStacks(root)) {
    model.stacks.push(stack.stackName);
    addStack(model, stack);
  }
  return model;
}

/**
 * Creates the model's clusters, groups, hooks, warm pools and event buses in the emulator. Two
 * hooks of the same group and name fail the deployment: the second create finds the first (the
 * resource handler contract's AlreadyExists, see stack-update.ts); so do two buses of one name. A
 * rule on a bus that neither exists nor is created fails too (PutRule answers
 * ResourceNotFoundException: "Event bus <name> does not exist.").
 */
export function deployToEmulator(model: CloudModel, target: DeployTarget): void {
  for (const cluster of model.clusters) target.createCluster(cluster.name);
  const buses = new Map<string, EventBusSpec>();
  for (const bus of model.eventBuses) {
    const first = buses.get(bus.name);
    if (first) {
      throw new Error(`${bus.stackName}: ${bus.logicalId} (AWS::Events::EventBus): Event bus ${bus.name} already exists `
        + `(created as ${first.logicalId}) (HandlerErrorCode: AlreadyExists)`);
    }
    buses.set(bus.name, bus);
    target.createEventBus(bus.name);
  }
  for (const rule of model.rules) {
    if (rule.eventBusName !== undefined && !buses.has(rule.eventBusName)) {
      throw new Error(`${rule.stackName}: ${rule.logicalId} (AWS::Events::Rule): Event bus ${rule.eventBusName} does not exist. (HandlerErrorCode: NotFound)`);
    }
  }
  for (const group of model.autoScalingGroups) {
    target.createAutoScalingGroup({
      name: group.name, minSize: group.minSize, maxSize: group.maxSize, desiredCapacity: group.desiredCapacity,
    });
  }
  const created = new Map<string, LifecycleHookSpec>();
  for (const hook of model.lifecycleHooks) {
    const key = `${hook.groupName}/${hook.hookName}`;
    const first = created.get(key);
    if (first) {
      throw new Error(`${hook.stackName}: ${hook.logicalId} (AWS::AutoScaling::LifecycleHook): lifecycle hook ${hook.hookName} of `
        + `${hook.groupName} already exists (created as ${first.logicalId}) (HandlerErrorCode: AlreadyExists)`);
    }
    created.set(key, hook);
    target.putLifecycleHook(hookOptions(hook));
  }
  for (const pool of model.warmPools) target.putWarmPool(warmPoolOptions(pool));
}

/** What PutLifecycleHook is called with for the hook. */
export function hookOptions(hook: LifecycleHookSpec) {
  return {
    groupName: hook.groupName,
    hookName: hook.hookName,
    transition: hook.transition,
    heartbeatTimeoutSeconds: hook.heartbeatTimeoutSeconds,
    defaultResult: hook.defaultResult,
  };
}

/** What PutWarmPool is called with for the pool. */
export function warmPoolOptions(pool: WarmPoolSpec) {
  return {
    groupName: pool.groupName,
    poolState: pool.poolState,
    minSize: pool.minSize,
    maxGroupPreparedCapacity: pool.maxGroupPreparedCapacity,
    reuseOnScaleIn: pool.reuseOnScaleIn,
  };
}

function readStacks(directory: string): StackArtifact[] {
  const manifest = readJson(path.join(directory, 'manifest.json'));
  const artifacts: Record<string, any> = manifest.artifacts ?? {};
  const assetPaths = new Map<string, string>();
  for (const artifact of Object.values(artifacts)) {
    if (artifact.type !== 'cdk:asset-manifest') continue;
    const assets = readJson(path.join(directory, artifact.properties.file));
    for (const file of Object.values<any>(assets.files ?? {})) {
      for (const destination of Object.values<any>(file.destinations ?? {})) {
        assetPaths.set(destination.objectKey, path.join(directory, file.source.path));
      }
    }
  }
  const stacks: StackArtifact[] = [];
  for (const [id, artifact] of Object.entries(artifacts)) {
    if (artifact.type === 'cdk:cloud-assembly') {
      stacks.push(...readStacks(path.join(directory, artifact.properties.directoryName)));
    } else if (artifact.type === 'aws:cloudformation:stack') {
      const template = readJson(path.join(directory, artifact.properties.templateFile));
      stacks.push({ stackName: artifact.properties.stackName ?? id, template, assetPaths: withMetadataPaths(template, directory, assetPaths) });
    }
  }
  return stacks;
}

/**
 * Maps S3 object keys to asset directories. A resource's `aws:asset:path` metadata (written when
 * the `aws:cdk:enable-asset-metadata` context is on, as the CDK CLI sets it) wins; otherwise the
 * stack's asset manifest links the template's `Code.S3Key` to the staged directory.
 */
function withMetadataPaths(template: Template, directory: string, fromManifest: Map<string, string>): Map<string, string> {
  const paths = new Map(fromManifest);
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (typeof assetPath === 'string') paths.set(`logical:${logicalId}`, path.join(directory, assetPath));
  }
  return paths;
}

function addStack(model: CloudModel, stack: StackArtifact): void {
  const resolver = new TemplateResolver(stack.stackName, stack.template);
  const resources = Object.entries(stack.template.Resources ?? {})
    .filter(([, r]) => r.Condition === undefined || resolver.condition(r.Condition));
  const roles = new StackRoles(resolver, resources);
  const invokeConfigs = new Map<string, InvokeConfigSpec>();
  for (const [, resource] of resources.filter(([, r]) => r.Type === 'AWS::Lambda::EventInvokeConfig')) {
    const p = resolver.resolve(resource.Properties ?? {});
    invokeConfigs.set(functionNameOf(String(p.FunctionName)), {
      maximumRetryAttempts: p.MaximumRetryAttempts !== undefined ? Number(p.MaximumRetryAttempts) : 2,
      maximumEventAgeSeconds: p.MaximumEventAgeInSeconds !== undefined ? Number(p.MaximumEventAgeInSeconds) : 21600,
      onFailureDestination: p.DestinationConfig?.OnFailure?.Destination,
    });
  }

  for (const [logicalId, resource] of resources) {
    const p = resolver.resolve(resource.Properties ?? {});
    const base = { stackName: stack.stackName, logicalId };
    const assetPath = resource.Metadata?.['aws:asset:path'];
    model.resources.push({ ...base, type: resource.Type, properties: p, ...(typeof assetPath === 'string' ? { assetPath } : {}) });
    switch (resource.Type) {
      case 'AWS::ECS::Cluster':
        model.clusters.push({ ...base, name: resolver.physicalName(logicalId) });
        break;
      case 'AWS::AutoScaling::AutoScalingGroup': {
        const minSize = Number(p.MinSize);
        model.autoScalingGroups.push({
          ...base,
          name: resolver.physicalName(logicalId),
          minSize,
          maxSize: Number(p.MaxSize),
          desiredCapacity: p.DesiredCapacity !== undefined ? Number(p.DesiredCapacity) : minSize,
        });
        break;
      }
      case 'AWS::AutoScaling::LifecycleHook':
        model.lifecycleHooks.push({
          ...base,
          groupName: String(p.AutoScalingGroupName),
          hookName: resolver.physicalName(logicalId),
          transition: String(p.LifecycleTransition) as LifecycleTransition,
          // PutLifecycleHook: HeartbeatTimeout defaults to 3600 s, DefaultResult to ABANDON.
          heartbeatTimeoutSeconds: p.HeartbeatTimeout !== undefined ? Number(p.HeartbeatTimeout) : 3600,
          defaultResult: p.DefaultResult === 'CONTINUE' ? 'CONTINUE' : 'ABANDON',
        });
        break;
      case 'AWS::AutoScaling::WarmPool':
        model.warmPools.push({
          ...base,
          groupName: String(p.AutoScalingGroupName),
          // Passed as written: putWarmPool refuses a value the API does not allow, as deploying would.
          poolState: p.PoolState ?? 'Stopped',
          minSize: p.MinSize !== undefined ? Number(p.MinSize) : 0,
          maxGroupPreparedCapacity: p.MaxGroupPreparedCapacity !== undefined && Number(p.MaxGroupPreparedCapacity) !== -1
            ? Number(p.MaxGroupPreparedCapacity) : undefined,
          reuseOnScaleIn: p.InstanceReusePolicy?.ReuseOnScaleIn === true || p.InstanceReusePolicy?.ReuseOnScaleIn === 'true',
        });
        break;
      case 'AWS::Lambda::Function': {
        const name = resolver.physicalName(logicalId);
        const codeDirectory = stack.assetPaths.get(`logical:${logicalId}`) ?? stack.assetPaths.get(p.Code?.S3Key);
        if (!codeDirectory) {
          // Inline code (ZipFile) or an asset the assembly does not hold: nothing the simulation can run.
          continue;
        }
        model.functions.push({
          ...base,
          name,
          arn: resolver.attribute(logicalId, 'Arn'),
          handler: String(p.Handler),
          runtime: String(p.Runtime),
          timeoutSeconds: p.Timeout !== undefined ? Number(p.Timeout) : 3,
          memorySize: p.MemorySize !== undefined ? Number(p.MemorySize) : 128,
          environment: stringValues(p.Environment?.Variables ?? {}),
          codeDirectory,
          codeKey: p.Code?.S3Key !== undefined ? String(p.Code.S3Key) : String(assetPath),
          invokeConfig: invokeConfigs.get(name) ?? { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600 },
          role: roles.forFunction(name, p.Role),
          reservedConcurrentExecutions: p.ReservedConcurrentExecutions !== undefined ? Number(p.ReservedConcurrentExecutions) : undefined,
        });
        break;
      }
      case 'AWS::Events::Rule': {
        const eventBusName = resolver.ruleBusName(logicalId);
        model.rules.push({
          ...base,
          name: resolver.physicalName(logicalId),
          arn: resolver.attribute(logicalId, 'Arn'),
          ...(eventBusName !== undefined ? { eventBusName } : {}),
          eventPattern: typeof p.EventPattern === 'string' ? JSON.parse(p.EventPattern) : p.EventPattern,
          scheduleExpression: p.ScheduleExpression,
          enabled: (p.State ?? 'ENABLED') === 'ENABLED',
          targets: (p.Targets ?? []).map((t: any) => ruleTarget(stack.stackName, logicalId, t)),
        });
        break;
      }
      case 'AWS::Events::EventBus':
        model.eventBuses.push({ ...base, name: resolver.physicalName(logicalId), arn: resolver.attribute(logicalId, 'Arn') });
        break;
      case 'AWS::SNS::Topic': {
        const where = `${stack.stackName}: ${logicalId} (AWS::SNS::Topic)`;
        if (p.FifoTopic === true || p.FifoTopic === 'true') throw new Error(`${where}: FIFO topics are not modelled by the emulator`);
        if (p.KmsMasterKeyId !== undefined) {
          throw new Error(`${where}: server-side encryption (KmsMasterKeyId) is not modelled by the emulator: EventBridge needs the key policy `
            + 'to allow it, which the emulator does not evaluate');
        }
        model.topics.push({ ...base, name: resolver.physicalName(logicalId), arn: resolver.attribute(logicalId, 'Arn') });
        break;
      }
      case 'AWS::SNS::TopicPolicy':
        model.topicPolicies.push({ ...base, topicArns: [p.Topics ?? []].flat().map(String), document: p.PolicyDocument });
        break;
      case 'AWS::SQS::Queue': {
        if (p.FifoQueue === true || p.FifoQueue === 'true') {
          throw new Error(`${stack.stackName}: ${logicalId} (AWS::SQS::Queue): FIFO queues are not modelled by the emulator`);
        }
        const redrive = typeof p.RedrivePolicy === 'string' ? JSON.parse(p.RedrivePolicy) : p.RedrivePolicy;
        model.queues.push({
          ...base,
          name: resolver.physicalName(logicalId),
          arn: resolver.attribute(logicalId, 'Arn'),
          url: resolver.attribute(logicalId, 'QueueUrl'),
          visibilityTimeoutSeconds: p.VisibilityTimeout !== undefined ? Number(p.VisibilityTimeout) : 30,
          messageRetentionSeconds: p.MessageRetentionPeriod !== undefined ? Number(p.MessageRetentionPeriod) : 345_600,
          delaySeconds: p.DelaySeconds !== undefined ? Number(p.DelaySeconds) : 0,
          ...(redrive?.deadLetterTargetArn !== undefined ? {
            redrivePolicy: { deadLetterTargetArn: String(redrive.deadLetterTargetArn), maxReceiveCount: Number(redrive.maxReceiveCount) },
          } : {}),
        });
        break;
      }
      case 'AWS::SQS::QueuePolicy':
        model.queuePolicies.push({ ...base, queueUrls: [p.Queues ?? []].flat().map(String), document: p.PolicyDocument });
        break;
      case 'AWS::Lambda::EventSourceMapping': {
        const eventSourceArn = String(p.EventSourceArn);
        if (!eventSourceArn.startsWith('arn:aws:sqs:')) {
          throw new Error(`${stack.stackName}: ${logicalId} (AWS::Lambda::EventSourceMapping): only Amazon SQS event sources are modelled by the emulator; got ${eventSourceArn}`);
        }
        model.eventSourceMappings.push({
          ...base,
          uuid: uuidOf(`${stack.stackName}/${logicalId}/${eventSourceArn}`),
          eventSourceArn,
          functionName: functionNameOf(String(p.FunctionName)),
          batchSize: p.BatchSize !== undefined ? Number(p.BatchSize) : 10,
          maximumBatchingWindowSeconds: p.MaximumBatchingWindowInSeconds !== undefined ? Number(p.MaximumBatchingWindowInSeconds) : 0,
          ...(p.ScalingConfig?.MaximumConcurrency !== undefined ? { maximumConcurrency: Number(p.ScalingConfig.MaximumConcurrency) } : {}),
          functionResponseTypes: [p.FunctionResponseTypes ?? []].flat().map(String),
          enabled: p.Enabled === undefined || p.Enabled === true || p.Enabled === 'true',
        });
        break;
      }
    }
  }
}

/**
 * A rule's target. One whose ARN is an SQS queue or an SNS topic keeps its `RetryPolicy` and
 * `DeadLetterConfig` (AWS::Events::Rule Target reference). `Input`, `InputPath` and
 * `InputTransformer` are checked as PutTargets checks them (runtime/target-input.ts); what the
 * emulator does not model of them is refused rather than ignored.
 */
function ruleTarget(stackName: string, ruleId: string, t: any): RuleTargetSpec {
  const arn = String(t.Arn);
  const queueArn = arn.startsWith('arn:aws:sqs:') ? arn : undefined;
  const topicArn = arn.startsWith('arn:aws:sns:') ? arn : undefined;
  const transformer = checkTargetInput(`${stackName}: ${ruleId} (AWS::Events::Rule): target ${t.Id}`, t);
  const retry = t.RetryPolicy;
  return {
    id: String(t.Id),
    arn,
    functionName: arn.includes(':function:') ? functionNameOf(arn) : undefined,
    ...(queueArn ? { queueArn } : {}),
    ...(topicArn ? { topicArn } : {}),
    input: t.Input !== undefined ? JSON.parse(t.Input) : undefined,
    ...(t.Input !== undefined ? { inputText: String(t.Input) } : {}),
    ...(t.InputPath !== undefined ? { inputPath: String(t.InputPath) } : {}),
    ...(transformer ? { inputTransformer: transformer } : {}),
    ...(retry !== undefined ? {
      retryPolicy: {
        // AWS::Events::Rule RetryPolicy: each unset field keeps EventBridge's default.
        maximumRetryAttempts: retry.MaximumRetryAttempts !== undefined ? Number(retry.MaximumRetryAttempts) : 185,
        maximumEventAgeSeconds: retry.MaximumEventAgeInSeconds !== undefined ? Number(retry.MaximumEventAgeInSeconds) : 86_400,
      },
    } : {}),
    ...(t.DeadLetterConfig?.Arn !== undefined ? { deadLetterArn: String(t.DeadLetterConfig.Arn) } : {}),
  };
}

/** A UUID-shaped identifier derived from `text` (the same text, the same identifier). */
function uuidOf(text: string): string {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A function name, from a name, a function ARN or a qualified ARN. */
export function functionNameOf(nameOrArn: string): string {
  const match = /:function:([^:]+)/.exec(nameOrArn);
  return match ? match[1] : nameOrArn;
}

function stringValues(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)]));
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf-8'));
}

/** The account and region the simulated deployment lives in. */
export const SIM_ENVIRONMENT = { account: SIM_ACCOUNT, region: SIM_REGION } as const;

/**
 * A CloudFormation stack update from the deployed assembly to the next one, as `cdk deploy` run
 * again makes it: each stack of the new assembly is compared with the deployed one by logical ID
 * and its change set applied. Every rule names the AWS page it comes from.
 *
 * - The change set (CloudFormation user guide, "Update CloudFormation stacks using change sets":
 *   each resource change has an Action Add, Modify or Remove and, for Modify, whether it is a
 *   Replacement): a resource whose logical ID is new is added, one whose logical ID is gone is
 *   removed, one whose type and properties (intrinsics resolved, so a reference to a replaced
 *   resource counts) or code asset differ is modified. Whether a Modify replaces comes from the
 *   properties the CloudFormation template reference marks "Update requires: Replacement"
 *   (REPLACEMENT_PROPERTIES); types not listed there are reported as in-place.
 * - Order ("Understand update behaviors of stack resources"): a replacement and an addition create
 *   the new resource first; the old one, and every removed one, is deleted in the cleanup phase,
 *   after every create and update succeeded. The emulator applies an update in one instant of
 *   virtual time: no event can fall between its phases. Within a phase CloudFormation runs
 *   independent resources in parallel; the emulator makes the creates, then the updates, each in
 *   template order (which of two competing reservations Lambda refuses is not determined in AWS).
 * - Creates fail on what already exists: "Resource type handler contract" (CloudFormation CLI) has
 *   a create handler fail with AlreadyExists when the resource exists ("Contract tests",
 *   contract_create_create), whoever holds it: another logical ID of the stack, one this very
 *   update removes (it still exists while the creates run), or something made outside
 *   CloudFormation. An update of a resource that no longer exists fails with NotFound ("Resource
 *   type development troubleshooting": update handlers are not upserts).
 * - A failed update rolls back. The emulator makes it all-or-nothing: every change is checked
 *   before any is made; on a failure nothing changes and the stack reports
 *   UPDATE_ROLLBACK_COMPLETE with the first failure's reason (a new stack: ROLLBACK_COMPLETE, and
 *   it is gone, as `cdk deploy` deletes such a stack before it creates it again).
 * - Stacks are deployed one after the other in the assembly's order; the first that fails stops
 *   the rest (they are NOT_UPDATED), as `cdk deploy` stops. A stack the new assembly no longer
 *   has stays as it is (`cdk deploy` deletes no stack; `cdk destroy` does).
 * - Changing a resource's type under the same logical ID is refused before the update starts
 *   (CloudFormation validates the template; the stack is not touched): a thrown error.
 *
 * Per type:
 * - AWS::AutoScaling::LifecycleHook ("AWS::AutoScaling::LifecycleHook" reference):
 *   AutoScalingGroupName and LifecycleHookName require replacement; the other properties update in
 *   place through PutLifecycleHook, which overwrites the hook's settings (actions already under way
 *   keep the timeouts they started with: the API reference says nothing of them). A delete is
 *   DeleteLifecycleHook: its outstanding actions are completed first (ABANDON for launching,
 *   CONTINUE for terminating instances), see emulator/autoscaling-world.ts.
 * - AWS::Lambda::Function, AWS::Lambda::EventInvokeConfig and the execution role's policies: see
 *   lambda.ts (new configuration for invocations that start after the update, new environments
 *   when a version setting or the code changed) and lambda-concurrency.ts (a reservation goes
 *   through the quota check of the first deployment; a refusal fails the update). Role policies are
 *   IAM's: requests are authorized against the role's policies as they are when the request is made
 *   (simulation.ts). A created function whose name exists fails (Lambda's CreateFunction answers
 *   ResourceConflictException: "Function already exist").
 * - AWS::Events::Rule: added, changed (pattern, schedule, targets, state) and deleted rules take
 *   effect at the update; an unchanged schedule keeps its timing (eventbridge.ts). Name and
 *   EventBusName require replacement; a rule's name is unique on its bus (PutRule on a name the bus
 *   has updates that rule, so CloudFormation's create fails AlreadyExists); a rule on a bus that
 *   will not exist fails (ResourceNotFoundException: "Event bus <name> does not exist.").
 * - AWS::Events::EventBus: an added bus is created (CreateEventBus: ResourceAlreadyExistsException
 *   for a name that exists); Name requires replacement; a removed or replaced bus is deleted at
 *   cleanup, after the rules. Other properties (policy, KMS key, dead-letter config) are not
 *   modelled and change nothing.
 * - AWS::SNS::Topic (sns.ts): an added topic is created (CreateTopic of a name that exists returns
 *   that topic, so CloudFormation's create fails AlreadyExists), TopicName requires replacement, a
 *   removed or replaced one is deleted at cleanup (its messages stay readable); other properties
 *   change nothing the emulator models. AWS::SNS::TopicPolicy: as AWS::SQS::QueuePolicy, on topics.
 * - AWS::ECS::Cluster, AWS::AutoScaling::AutoScalingGroup, AWS::AutoScaling::WarmPool: added ones
 *   are created (AlreadyExists as above). Modifying or removing one is not modelled (instances,
 *   capacity, update policies): such an update is refused with a StackUpdateNotModelled error
 *   before anything changes, rather than pretending.
 * - AWS::SQS::Queue (sqs.ts): an added queue is created (a queue of that name existing:
 *   AlreadyExists; dead-letter queues before the queues that name them); QueueName (and FifoQueue,
 *   not modelled) require replacement; other properties update in place (SetQueueAttributes: later
 *   receives use the new visibility timeout, the new retention period applies to the messages in
 *   the queue); a removed or replaced queue is deleted at cleanup with its messages.
 * - AWS::SQS::QueuePolicy: set on its queues (SetQueueAttributes `Policy`); a change sets the new
 *   document (and removes it from queues no longer listed); a removed one is taken off at cleanup.
 * - AWS::Lambda::EventSourceMapping (sqs-event-source.ts): EventSourceArn requires replacement
 *   (a new mapping, a new UUID); the other properties update in place (UpdateEventSourceMapping).
 *   Creates and updates go through CreateEventSourceMapping's checks against the resources as the
 *   update leaves them (the function's timeout and role, the queue's visibility timeout and policy);
 *   a refusal rolls the stack back. A create finding a mapping of the same queue and function
 *   (also one this update removes: it still exists during the creates) fails with
 *   ResourceConflictException. Removed and replaced mappings are deleted at cleanup, before
 *   functions and queues.
 * - Every other type (roles, policies, permissions, log groups ...) is only reported: the
 *   emulator models nothing of it beyond what the types above read from it.
 */
import type { AwsEmulator, LifecycleHookOptions } from '../emulator';
import {
  AutoScalingGroupSpec, CloudModel, ClusterSpec, EventBusSpec, EventSourceMappingSpec, FunctionSpec, hookOptions, LifecycleHookSpec, QueuePolicySpec,
  QueueSpec, ResourceSpec, RuleSpec, TopicPolicySpec, TopicSpec, warmPoolOptions, WarmPoolSpec,
} from './assembly';
import { EventBridge } from './eventbridge';
import { LambdaRuntime, PreparedFunction } from './lambda';
import { LambdaDeploymentError, ReservationChange } from './lambda-concurrency';
import { Sns } from './sns';
import { Sqs, SqsError } from './sqs';
import { checkEventSourceMapping, EventSourceMappingRefusal, roleContext, rolePrincipal, SqsEventSources } from './sqs-event-source';
import { decideAccess, ResourcePolicy } from '../emulator/iam/resource-policy';

export type ChangeAction = 'Add' | 'Modify' | 'Remove';

/** One resource change of a stack's change set. */
export interface ResourceChange {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly action: ChangeAction;
  /** Modify only: the change replaces the resource (a new physical resource, the old one deleted at cleanup). */
  readonly replacement: boolean;
  /** Modify: the top-level properties that differ (`Code` for a function's code asset). */
  readonly changedProperties?: readonly string[];
}

export type StackStatus =
  | 'CREATE_COMPLETE' | 'ROLLBACK_COMPLETE' | 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE' | 'NO_CHANGES' | 'NOT_UPDATED';

export interface StackUpdateStackResult {
  readonly stackName: string;
  readonly status: StackStatus;
  readonly reason?: string;
  readonly changes: readonly ResourceChange[];
}

export interface StackUpdateResult {
  /** UPDATE_ROLLBACK_COMPLETE when a stack failed (and was rolled back), else UPDATE_COMPLETE. */
  readonly status: 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE';
  /** The failed stack's reason: the first resource that failed and why. */
  readonly reason?: string;
  /** The changes of every stack that was updated or attempted. */
  readonly changes: readonly ResourceChange[];
  readonly stacks: readonly StackUpdateStackResult[];
}

/** An update the emulator does not model: refused before anything changed. */
export class StackUpdateNotModelled extends Error {
  constructor(message: string) {
    super(`the emulator does not model ${message}`);
    this.name = 'StackUpdateNotModelled';
  }
}

/** CloudFormation's refusal of the whole update before it starts (template validation); nothing changed. */
export class StackUpdateValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** What the update needs of the emulator: the template loader's world API, and reads to check against. */
export type StackUpdateWorld = Pick<AwsEmulator,
  | 'createCluster' | 'createAutoScalingGroup' | 'putLifecycleHook' | 'putWarmPool' | 'deleteLifecycleHook'
  | 'hasCluster' | 'hasAutoScalingGroup' | 'hasWarmPool' | 'lifecycleHooks' | 'checkLifecycleHook' | 'checkWarmPool'
  | 'createEventBus' | 'deleteEventBus' | 'hasEventBus'>;

export interface StackUpdateParts {
  readonly world: StackUpdateWorld;
  readonly lambda: LambdaRuntime;
  readonly eventBridge: EventBridge;
  readonly sqs: Sqs;
  readonly sns: Sns;
  readonly eventSources: SqsEventSources;
}

/**
 * Properties that require replacement, per type (CloudFormation template reference, each
 * property's "Update requires").
 */
export const REPLACEMENT_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::AutoScaling::LifecycleHook': ['AutoScalingGroupName', 'LifecycleHookName'],
  'AWS::AutoScaling::AutoScalingGroup': ['AutoScalingGroupName', 'InstanceId'],
  'AWS::AutoScaling::WarmPool': ['AutoScalingGroupName'],
  'AWS::ECS::Cluster': ['ClusterName'],
  'AWS::Lambda::Function': ['FunctionName', 'PackageType'],
  'AWS::Lambda::EventInvokeConfig': ['FunctionName', 'Qualifier'],
  'AWS::Lambda::Permission': ['Action', 'EventSourceToken', 'FunctionName', 'FunctionUrlAuthType', 'Principal', 'PrincipalOrgID', 'SourceAccount', 'SourceArn'],
  'AWS::Events::Rule': ['Name', 'EventBusName'],
  'AWS::IAM::Role': ['RoleName', 'Path'],
  'AWS::IAM::ManagedPolicy': ['ManagedPolicyName', 'Path'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::SQS::Queue': ['QueueName', 'FifoQueue'],
  'AWS::Lambda::EventSourceMapping': [
    'EventSourceArn', 'StartingPosition', 'StartingPositionTimestamp', 'SelfManagedEventSource', 'Topics', 'Queues',
    'AmazonManagedKafkaEventSourceConfig', 'SelfManagedKafkaEventSourceConfig',
  ],
  'AWS::SNS::Topic': ['TopicName', 'FifoTopic'],
  'AWS::SNS::TopicPolicy': [],
  'AWS::Events::EventBus': ['Name', 'EventSourceName'],
};

/** The types whose modification or removal the emulator refuses (see the module comment). */
const NOT_UPDATABLE = ['AWS::ECS::Cluster', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::AutoScaling::WarmPool'];
const SIZE_PROPERTIES = ['MinSize', 'MaxSize', 'DesiredCapacity'];

/** The change set of one stack: `before` is what is deployed, `after` the new template's resources. */
export function computeChanges(stackName: string, before: readonly ResourceSpec[], after: readonly ResourceSpec[]): ResourceChange[] {
  const deployed = new Map(before.filter(r => r.stackName === stackName).map(r => [r.logicalId, r]));
  const next = after.filter(r => r.stackName === stackName);
  const changes: ResourceChange[] = [];
  for (const resource of next) {
    const old = deployed.get(resource.logicalId);
    const base = { stackName, logicalId: resource.logicalId, type: resource.type };
    if (!old) {
      changes.push({ ...base, action: 'Add', replacement: false });
      continue;
    }
    if (old.type !== resource.type) {
      throw new StackUpdateValidationError(`${stackName}: update of resource type is not permitted: ${resource.logicalId} `
        + `would change from ${old.type} to ${resource.type}`);
    }
    const changed = changedProperties(old, resource);
    if (changed.length === 0) continue;
    const replacing = REPLACEMENT_PROPERTIES[resource.type] ?? [];
    changes.push({ ...base, action: 'Modify', replacement: changed.some(p => replacing.includes(p)), changedProperties: changed });
  }
  const kept = new Set(next.map(r => r.logicalId));
  for (const old of deployed.values()) {
    if (!kept.has(old.logicalId)) changes.push({ stackName, logicalId: old.logicalId, type: old.type, action: 'Remove', replacement: false });
  }
  return changes;
}

function changedProperties(old: ResourceSpec, next: ResourceSpec): string[] {
  const names = new Set([...Object.keys(old.properties), ...Object.keys(next.properties)]);
  const changed = [...names].filter(name => canonical(old.properties[name]) !== canonical(next.properties[name]));
  // A template without Code.S3Key names its code by the asset path (each asset its own directory).
  if (old.type === 'AWS::Lambda::Function' && old.assetPath !== next.assetPath && !changed.includes('Code')) changed.push('Code');
  return changed.sort();
}

/**
 * Updates the deployed `current` model to `next`, stack by stack. Returns the result and the model
 * now deployed. Throws StackUpdateNotModelled / StackUpdateValidationError (and a bundle that does
 * not load) before anything changed.
 */
export function updateStacks(current: CloudModel, next: CloudModel, parts: StackUpdateParts): { result: StackUpdateResult; model: CloudModel } {
  // Every stack's change set first: an update the emulator cannot model is refused as a whole.
  const planned = next.stacks.map(stackName => ({ stackName, changes: computeChanges(stackName, current.resources, next.resources) }));
  for (const { changes } of planned) refuseNotModelled(changes);

  let model = current;
  const stacks: StackUpdateStackResult[] = [];
  let failure: { stackName: string; reason: string } | undefined;
  for (const { stackName, changes } of planned) {
    const isNew = !current.stacks.includes(stackName);
    if (failure) {
      stacks.push({ stackName, status: 'NOT_UPDATED', changes });
      continue;
    }
    if (changes.length === 0) {
      if (isNew) model = withStack(model, next, stackName);
      stacks.push({ stackName, status: isNew ? 'CREATE_COMPLETE' : 'NO_CHANGES', changes });
      continue;
    }
    const outcome = new StackPlan(slice(model, stackName), slice(next, stackName), parts).apply();
    if (outcome.failure) {
      failure = { stackName, reason: outcome.failure };
      stacks.push({ stackName, status: isNew ? 'ROLLBACK_COMPLETE' : 'UPDATE_ROLLBACK_COMPLETE', reason: outcome.failure, changes });
    } else {
      model = withStack(model, next, stackName);
      stacks.push({ stackName, status: isNew ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE', changes });
    }
  }
  return {
    result: {
      status: failure ? 'UPDATE_ROLLBACK_COMPLETE' : 'UPDATE_COMPLETE',
      ...(failure ? { reason: `${failure.stackName}: ${failure.reason}` } : {}),
      changes: stacks.filter(s => s.status !== 'NOT_UPDATED').flatMap(s => s.changes),
      stacks,
    },
    model,
  };
}

function refuseNotModelled(changes: readonly ResourceChange[]): void {
  for (const change of changes) {
    if (!NOT_UPDATABLE.includes(change.type) || change.action === 'Add') continue;
    const what = `${change.stackName}/${change.logicalId} (${change.type})`;
    if (change.action === 'Remove') throw new StackUpdateNotModelled(`removing ${what}: delete it with the stack, or keep it`);
    const sizes = change.changedProperties?.filter(p => SIZE_PROPERTIES.includes(p)) ?? [];
    const detail = sizes.length > 0 ? `a change of its size (${sizes.join(', ')})` : `a change of ${change.changedProperties?.join(', ')}`;
    throw new StackUpdateNotModelled(`updating ${what}: ${detail}${change.replacement ? ', which replaces it' : ''}`);
  }
}

/** A failed resource operation: the update rolls back with this reason. */
class ResourceFailed extends Error {
  constructor(logicalId: string, type: string, code: string, message: string) {
    super(`${logicalId} (${type}): Resource handler returned message: "${message}" (HandlerErrorCode: ${code})`);
  }
}

/**
 * One stack's update: checked completely (`check`), then applied (`commit`: creates, updates,
 * cleanup), or, on the first failure, nothing.
 */
class StackPlan {
  private readonly creates: Array<() => void> = [];
  private readonly updates: Array<() => void> = [];
  /**
   * Deletions, in reverse order of reference: rules (they target functions and queues), mappings
   * (they name functions and queues), functions, hooks, queue policies, queues.
   */
  private readonly cleanup = {
    rules: [] as Array<() => void>,
    mappings: [] as Array<() => void>,
    functions: [] as Array<() => void>,
    hooks: [] as Array<() => void>,
    policies: [] as Array<() => void>,
    queues: [] as Array<() => void>,
    topics: [] as Array<() => void>,
    buses: [] as Array<() => void>,
  };
  private readonly prepared: PreparedFunction[] = [];
  /** What exists once the creates ran, as far as the checks need to know. */
  private readonly newClusters = new Set<string>();
  private readonly newGroups = new Set<string>();
  private readonly newHooks = new Set<string>();
  private readonly newFunctions = new Set<string>();
  private readonly newRules = new Set<string>();
  private readonly newQueues = new Set<string>();
  private readonly newTopics = new Set<string>();
  private readonly newBuses = new Set<string>();

  constructor(
    private readonly before: CloudModel,
    private readonly after: CloudModel,
    private readonly parts: StackUpdateParts,
  ) {}

  /** The reason it failed, or nothing: then every change is made. */
  apply(): { failure?: string } {
    try {
      this.check();
    } catch (error) {
      for (const p of this.prepared) this.parts.lambda.discardPrepared(p);
      if (error instanceof ResourceFailed) return { failure: error.message };
      throw error;
    }
    const { rules, mappings, functions, hooks, policies, queues, topics, buses } = this.cleanup;
    const deletions = [...rules, ...mappings, ...functions, ...hooks, ...policies, ...queues, ...topics, ...buses];
    for (const step of [...this.creates, ...this.updates, ...deletions]) step();
    return {};
  }

  private check(): void {
    // In the order references run: groups and clusters, their warm pools and hooks, functions, rules.
    this.checkClusters();
    this.checkGroups();
    this.checkWarmPools();
    this.checkHooks();
    this.checkFunctions();
    this.checkQueues();
    this.checkQueuePolicies();
    this.checkMappings();
    this.checkTopics();
    this.checkTopicPolicies();
    this.checkEventBuses();
    this.checkRules();
  }

  private checkEventBuses(): void {
    const { world } = this.parts;
    const type = 'AWS::Events::EventBus';
    const deployed = byLogicalId(this.before.eventBuses);
    for (const bus of this.after.eventBuses) {
      const old = deployed.get(bus.logicalId);
      if (old && old.name === bus.name) continue;
      if (world.hasEventBus(bus.name) || this.newBuses.has(bus.name)) {
        throw new ResourceFailed(bus.logicalId, type, 'AlreadyExists', `Event bus ${bus.name} already exists.`);
      }
      this.serviceCheck(bus.logicalId, type, () => {
        if (bus.name === 'default' || !/^[/.\-_A-Za-z0-9]{1,256}$/.test(bus.name)) throw new Error(`Event bus name ${bus.name} is not valid.`);
      });
      this.newBuses.add(bus.name);
      this.creates.push(() => world.createEventBus(bus.name));
      if (old) this.cleanup.buses.push(() => deleteBus(world, old.name));
    }
    for (const old of removed(this.before.eventBuses, this.after.eventBuses)) this.cleanup.buses.push(() => deleteBus(world, old.name));
  }

  /** Whether a bus exists once the update is made (the default bus always does). */
  private busAfter(name: string): boolean {
    if (name === 'default' || this.after.eventBuses.some(b => b.name === name)) return true;
    const removedHere = this.before.eventBuses.some(b => b.name === name);
    return !removedHere && this.parts.world.hasEventBus(name);
  }

  private checkTopics(): void {
    const { sns } = this.parts;
    const type = 'AWS::SNS::Topic';
    const deployed = byLogicalId(this.before.topics);
    for (const topic of this.after.topics) {
      const old = deployed.get(topic.logicalId);
      if (old && old.arn === topic.arn) continue;
      if (sns.hasTopic(topic.arn) || this.newTopics.has(topic.arn)) {
        throw new ResourceFailed(topic.logicalId, type, 'AlreadyExists', `Topic ${topic.name} already exists`);
      }
      this.newTopics.add(topic.arn);
      this.creates.push(() => sns.createTopic(topic));
      if (old) this.cleanup.topics.push(() => sns.deleteTopic(old.arn));
    }
    for (const old of removed(this.before.topics, this.after.topics)) this.cleanup.topics.push(() => sns.deleteTopic(old.arn));
  }

  private checkTopicPolicies(): void {
    const { sns } = this.parts;
    const type = 'AWS::SNS::TopicPolicy';
    const deployed = byLogicalId(this.before.topicPolicies);
    for (const policy of this.after.topicPolicies) {
      const old = deployed.get(policy.logicalId);
      if (old && canonical(old) === canonical(policy)) continue;
      let parsed: ReturnType<Sns['checkPolicy']> | undefined;
      this.serviceCheck(policy.logicalId, type, () => { parsed = sns.checkPolicy(`${policy.stackName}/${policy.logicalId}`, policy.document); });
      for (const arn of policy.topicArns) {
        if (!sns.hasTopic(arn) && !this.newTopics.has(arn)) throw new ResourceFailed(policy.logicalId, type, 'NotFound', `Topic does not exist: ${arn}`);
      }
      (old ? this.updates : this.creates).push(() => policy.topicArns.forEach(arn => sns.setPolicy(arn, parsed)));
      if (old) {
        const dropped = old.topicArns.filter(arn => !policy.topicArns.includes(arn));
        this.cleanup.policies.push(() => dropped.forEach(arn => clearTopicPolicy(sns, arn)));
      }
    }
    for (const old of removed(this.before.topicPolicies, this.after.topicPolicies)) {
      this.cleanup.policies.push(() => old.topicArns.forEach(arn => clearTopicPolicy(sns, arn)));
    }
  }

  private checkQueues(): void {
    const { sqs } = this.parts;
    const type = 'AWS::SQS::Queue';
    const deployed = byLogicalId(this.before.queues);
    const afterArns = new Set(this.after.queues.map(q => q.arn));
    const sqsFailure = (queue: QueueSpec, check: () => void) => {
      try {
        check();
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        throw new ResourceFailed(queue.logicalId, type, 'InvalidRequest', `${error.message} (Service: Sqs, Status Code: 400)`);
      }
    };
    const creates: QueueSpec[] = [];
    for (const queue of this.after.queues) {
      const old = deployed.get(queue.logicalId);
      if (!old || old.arn !== queue.arn) {
        if (sqs.hasQueue(queue.arn) || this.newQueues.has(queue.arn)) {
          throw new ResourceFailed(queue.logicalId, type, 'AlreadyExists', `Queue ${queue.name} already exists`);
        }
        sqsFailure(queue, () => sqs.checkQueue(queue, afterArns));
        this.newQueues.add(queue.arn);
        creates.push(queue);
        if (old) this.cleanup.queues.push(() => deleteQueue(sqs, old.arn));
      } else if (canonical(old) !== canonical(queue)) {
        if (!sqs.hasQueue(queue.arn)) throw new ResourceFailed(queue.logicalId, type, 'NotFound', `The specified queue does not exist: ${queue.url}`);
        sqsFailure(queue, () => sqs.checkQueue(queue, afterArns));
        this.updates.push(() => sqs.updateQueue(queue));
      }
    }
    // Dead-letter queues first: a queue's redrive policy needs its target to exist.
    for (const queue of queueDependencyOrder(creates)) this.creates.push(() => sqs.createQueue(queue));
    for (const old of removed(this.before.queues, this.after.queues)) this.cleanup.queues.push(() => deleteQueue(sqs, old.arn));
  }

  /** The queues (by ARN) a policy is set on, once the update's queues exist. */
  private policyTargets(policy: QueuePolicySpec): string[] {
    const { sqs } = this.parts;
    return policy.queueUrls.map(url => {
      const arn = this.after.queues.find(q => q.url === url)?.arn ?? sqs.arnOfUrl(url);
      if (!arn || (!sqs.hasQueue(arn) && !this.newQueues.has(arn))) {
        throw new ResourceFailed(policy.logicalId, 'AWS::SQS::QueuePolicy', 'NotFound', `The specified queue does not exist: ${url}`);
      }
      return arn;
    });
  }

  private checkQueuePolicies(): void {
    const { sqs } = this.parts;
    const deployed = byLogicalId(this.before.queuePolicies);
    for (const policy of this.after.queuePolicies) {
      const old = deployed.get(policy.logicalId);
      if (old && canonical(old) === canonical(policy)) continue;
      const parsed = sqs.checkPolicy(`${policy.stackName}/${policy.logicalId}`, policy.document);
      const targets = this.policyTargets(policy);
      const step = () => {
        for (const arn of targets) sqs.setPolicy(arn, parsed);
      };
      // A policy on a queue this update creates is set once the queue exists.
      (old ? this.updates : this.creates).push(step);
      if (old) {
        const dropped = old.queueUrls.filter(url => !policy.queueUrls.includes(url));
        this.cleanup.policies.push(() => dropped.forEach(url => clearPolicy(sqs, url)));
      }
    }
    for (const old of removed(this.before.queuePolicies, this.after.queuePolicies)) {
      this.cleanup.policies.push(() => old.queueUrls.forEach(url => clearPolicy(sqs, url)));
    }
  }

  /** The resource-based policy a queue will have once the update is made. */
  private queuePolicyAfter(queueArn: string): ResourcePolicy | undefined {
    const { sqs } = this.parts;
    const url = this.after.queues.find(q => q.arn === queueArn)?.url ?? sqs.spec(queueArn)?.url;
    const policy = [...this.after.queuePolicies].reverse().find(p => url !== undefined && p.queueUrls.includes(url));
    if (policy) return sqs.checkPolicy(`${policy.stackName}/${policy.logicalId}`, policy.document);
    const removedHere = this.before.queuePolicies.some(p => url !== undefined && p.queueUrls.includes(url));
    return removedHere ? undefined : sqs.policy(queueArn);
  }

  private checkMappings(): void {
    const { sqs, eventSources } = this.parts;
    const type = 'AWS::Lambda::EventSourceMapping';
    const deployed = byLogicalId(this.before.eventSourceMappings);
    // The mappings that exist while the creates and updates run: every deployed one (also those this
    // update removes or replaces), then the new ones as they are made.
    const existing: EventSourceMappingSpec[] = [...eventSources.specs()];
    for (const spec of this.after.eventSourceMappings) {
      const old = deployed.get(spec.logicalId);
      const inPlace = old !== undefined && old.uuid === spec.uuid;
      if (inPlace && canonical(old) === canonical(spec)) continue;
      if (inPlace && !eventSources.has(spec.uuid)) {
        throw new ResourceFailed(spec.logicalId, type, 'NotFound', `The resource you requested does not exist. (Event source mapping ${spec.uuid})`);
      }
      const fn = this.after.functions.find(f => f.name === spec.functionName) ?? this.parts.lambda.specOf(spec.functionName);
      const queue = this.after.queues.find(q => q.arn === spec.eventSourceArn) ?? sqs.spec(spec.eventSourceArn);
      const policy = this.queuePolicyAfter(spec.eventSourceArn);
      try {
        checkEventSourceMapping(spec, {
          fn,
          queue,
          otherMappings: existing.filter(m => m.uuid !== spec.uuid),
          roleMayCall: action => fn !== undefined && decideAccess(rolePrincipal(fn), {
            action: `sqs:${action}`, resource: spec.eventSourceArn, context: { 'aws:SecureTransport': 'true', ...roleContext(fn) },
          }, policy, fn.role.policies) === 'allow',
        });
      } catch (error) {
        if (!(error instanceof EventSourceMappingRefusal)) throw error;
        throw new ResourceFailed(spec.logicalId, type, error.handlerErrorCode, error.handlerMessage);
      }
      if (inPlace) {
        this.updates.push(() => eventSources.update(spec));
        continue;
      }
      existing.push(spec);
      this.creates.push(() => eventSources.add(spec));
      if (old) this.cleanup.mappings.push(() => removeMapping(eventSources, old.uuid));
    }
    for (const old of removed(this.before.eventSourceMappings, this.after.eventSourceMappings)) {
      this.cleanup.mappings.push(() => removeMapping(eventSources, old.uuid));
    }
  }

  private checkClusters(): void {
    const { world } = this.parts;
    for (const cluster of added(this.before.clusters, this.after.clusters)) {
      if (world.hasCluster(cluster.name) || this.newClusters.has(cluster.name)) {
        throw new ResourceFailed(cluster.logicalId, 'AWS::ECS::Cluster', 'AlreadyExists', `Cluster ${cluster.name} already exists`);
      }
      this.newClusters.add(cluster.name);
      this.creates.push(() => world.createCluster(cluster.name));
    }
  }

  private checkGroups(): void {
    const { world } = this.parts;
    const type = 'AWS::AutoScaling::AutoScalingGroup';
    for (const group of added(this.before.autoScalingGroups, this.after.autoScalingGroups)) {
      if (world.hasAutoScalingGroup(group.name) || this.newGroups.has(group.name)) {
        throw new ResourceFailed(group.logicalId, type, 'AlreadyExists', `AutoScalingGroup by this name already exists - A group with the name ${group.name} already exists`);
      }
      if (group.desiredCapacity < group.minSize || group.desiredCapacity > group.maxSize) {
        throw new ResourceFailed(group.logicalId, type, 'InvalidRequest',
          `DesiredCapacity ${group.desiredCapacity} is outside MinSize ${group.minSize} .. MaxSize ${group.maxSize}`);
      }
      this.newGroups.add(group.name);
      const { name, minSize, maxSize, desiredCapacity } = group;
      this.creates.push(() => world.createAutoScalingGroup({ name, minSize, maxSize, desiredCapacity }));
    }
  }

  private checkWarmPools(): void {
    const { world } = this.parts;
    const type = 'AWS::AutoScaling::WarmPool';
    for (const pool of added(this.before.warmPools, this.after.warmPools)) {
      const options = warmPoolOptions(pool);
      this.requireGroup(pool.logicalId, type, pool.groupName);
      if (!this.newGroups.has(pool.groupName) && world.hasWarmPool(pool.groupName)) {
        throw new ResourceFailed(pool.logicalId, type, 'AlreadyExists', `The Auto Scaling group ${pool.groupName} already has a warm pool`);
      }
      this.serviceCheck(pool.logicalId, type, () => world.checkWarmPool(options));
      this.creates.push(() => world.putWarmPool(options));
    }
  }

  private checkHooks(): void {
    const { world } = this.parts;
    const type = 'AWS::AutoScaling::LifecycleHook';
    const deployed = byLogicalId(this.before.lifecycleHooks);
    const existing = (group: string) => (world.hasAutoScalingGroup(group) ? world.lifecycleHooks(group).map(h => h.name) : []);
    for (const hook of this.after.lifecycleHooks) {
      const old = deployed.get(hook.logicalId);
      const options: LifecycleHookOptions = hookOptions(hook);
      const key = hookKey(hook);
      if (!old || hookKey(old) !== key) {
        // Add, or replacement: the new hook is created first.
        this.requireGroup(hook.logicalId, type, hook.groupName);
        this.serviceCheck(hook.logicalId, type, () => world.checkLifecycleHook(options));
        if (existing(hook.groupName).includes(hook.hookName) || this.newHooks.has(key)) {
          throw new ResourceFailed(hook.logicalId, type, 'AlreadyExists',
            `Lifecycle hook ${hook.hookName} of Auto Scaling group ${hook.groupName} already exists`);
        }
        this.newHooks.add(key);
        this.creates.push(() => world.putLifecycleHook(options));
        if (old) this.cleanup.hooks.push(() => deleteHook(world, old));
      } else if (canonical(hookOptions(old)) !== canonical(options)) {
        // In place: PutLifecycleHook overwrites the settings; the hook must still be there.
        if (!existing(hook.groupName).includes(hook.hookName)) {
          throw new ResourceFailed(hook.logicalId, type, 'NotFound', `Lifecycle hook ${hook.hookName} of Auto Scaling group ${hook.groupName} not found`);
        }
        this.serviceCheck(hook.logicalId, type, () => world.checkLifecycleHook(options));
        this.updates.push(() => world.putLifecycleHook(options));
      }
    }
    for (const old of removed(this.before.lifecycleHooks, this.after.lifecycleHooks)) this.cleanup.hooks.push(() => deleteHook(world, old));
  }

  private checkFunctions(): void {
    const { lambda } = this.parts;
    const type = 'AWS::Lambda::Function';
    const deployed = byLogicalId(this.before.functions);
    // Checked in the order they are made: the creates' reservations, then the updates'.
    const reservations: ReservationChange[] = [];
    const updatedReservations: ReservationChange[] = [];
    const toLoad: Array<{ spec: FunctionSpec; step: (prepared: PreparedFunction) => void }> = [];
    for (const fn of this.after.functions) {
      const old = deployed.get(fn.logicalId);
      if (!old || old.name !== fn.name) {
        if (lambda.hasFunction(fn.name) || this.newFunctions.has(fn.name)) {
          throw new ResourceFailed(fn.logicalId, type, 'AlreadyExists', `Function already exist: ${fn.name}`);
        }
        this.newFunctions.add(fn.name);
        reservations.push({ functionName: fn.name, reserved: fn.reservedConcurrentExecutions });
        toLoad.push({ spec: fn, step: prepared => this.creates.push(() => lambda.deployPrepared(prepared)) });
        if (old) this.cleanup.functions.push(() => lambda.removeFunction(old.name));
        continue;
      }
      if (canonical(functionSettings(old)) === canonical(functionSettings(fn))) continue;
      if (!lambda.hasFunction(fn.name)) throw new ResourceFailed(fn.logicalId, type, 'NotFound', `Function not found: ${fn.arn}`);
      if (old.reservedConcurrentExecutions !== fn.reservedConcurrentExecutions) {
        updatedReservations.push({ functionName: fn.name, reserved: fn.reservedConcurrentExecutions });
      }
      if (canonical(versionSettings(old)) !== canonical(versionSettings(fn))) {
        toLoad.push({ spec: fn, step: prepared => this.updates.push(() => lambda.updateFunction(fn, prepared)) });
      } else {
        this.updates.push(() => lambda.updateFunction(fn));
      }
    }
    try {
      lambda.checkReservationChanges([...reservations, ...updatedReservations]);
    } catch (error) {
      if (!(error instanceof LambdaDeploymentError)) throw error;
      const failed = this.after.functions.find(f => f.name === error.functionName);
      throw new ResourceFailed(failed?.logicalId ?? error.functionName, type, 'InvalidRequest', error.lambdaMessage);
    }
    for (const { spec, step } of toLoad) {
      const prepared = lambda.prepareFunction(spec);
      this.prepared.push(prepared);
      step(prepared);
    }
    for (const old of removed(this.before.functions, this.after.functions)) this.cleanup.functions.push(() => lambda.removeFunction(old.name));
  }

  private checkRules(): void {
    const { eventBridge } = this.parts;
    const type = 'AWS::Events::Rule';
    const deployed = byLogicalId(this.before.rules);
    for (const rule of this.after.rules) {
      const old = deployed.get(rule.logicalId);
      const bus = rule.eventBusName ?? 'default';
      if (!this.busAfter(bus)) throw new ResourceFailed(rule.logicalId, type, 'NotFound', `Event bus ${bus} does not exist.`);
      const key = `${bus}/${rule.name}`;
      if (!old || old.name !== rule.name || old.eventBusName !== rule.eventBusName) {
        if (eventBridge.hasRule(rule.name, rule.eventBusName) || this.newRules.has(key)) {
          throw new ResourceFailed(rule.logicalId, type, 'AlreadyExists', `Rule ${rule.name} already exists on EventBus ${bus}`);
        }
        this.newRules.add(key);
        this.creates.push(() => eventBridge.addRule(rule));
        if (old) this.cleanup.rules.push(() => eventBridge.removeRule(old.name, old.eventBusName));
      } else if (canonical(old) !== canonical(rule)) {
        if (!eventBridge.hasRule(rule.name, rule.eventBusName)) {
          throw new ResourceFailed(rule.logicalId, type, 'NotFound', `Rule ${rule.name} does not exist on EventBus ${bus}`);
        }
        this.updates.push(() => eventBridge.updateRule(rule));
      }
    }
    for (const old of removed(this.before.rules, this.after.rules)) this.cleanup.rules.push(() => eventBridge.removeRule(old.name, old.eventBusName));
  }

  private requireGroup(logicalId: string, type: string, groupName: string): void {
    if (this.parts.world.hasAutoScalingGroup(groupName) || this.newGroups.has(groupName)) return;
    throw new ResourceFailed(logicalId, type, 'NotFound', `AutoScalingGroup name not found - AutoScalingGroup ${groupName} not found`);
  }

  /** Runs a check of the emulator's API; its refusal is the resource's failure (InvalidRequest). */
  private serviceCheck(logicalId: string, type: string, check: () => void): void {
    try {
      check();
    } catch (error) {
      throw new ResourceFailed(logicalId, type, 'InvalidRequest', (error as Error).message);
    }
  }
}

/** DeleteQueue in the cleanup; a queue already gone has nothing left to delete. */
function deleteQueue(sqs: Sqs, arn: string): void {
  if (sqs.hasQueue(arn)) sqs.deleteQueue(arn);
}

/** DeleteEventBus in the cleanup; a bus already gone has nothing left to delete. */
function deleteBus(world: StackUpdateWorld, name: string): void {
  if (world.hasEventBus(name)) world.deleteEventBus(name);
}

/** The topic's policy removed, if the topic is still there. */
function clearTopicPolicy(sns: Sns, arn: string): void {
  if (sns.hasTopic(arn)) sns.setPolicy(arn, undefined);
}

/** The policy of the queue at `url` removed, if the queue is still there. */
function clearPolicy(sqs: Sqs, url: string): void {
  const arn = sqs.arnOfUrl(url);
  if (arn) sqs.setPolicy(arn, undefined);
}

function removeMapping(eventSources: SqsEventSources, uuid: string): void {
  if (eventSources.has(uuid)) eventSources.remove(uuid);
}

/** Queues in an order where each dead-letter queue among them comes before the queues that name it. */
export function queueDependencyOrder(queues: readonly QueueSpec[]): QueueSpec[] {
  const byArn = new Map(queues.map(q => [q.arn, q]));
  const ordered: QueueSpec[] = [];
  const placed = new Set<string>();
  const place = (queue: QueueSpec, path: Set<string>) => {
    if (placed.has(queue.arn) || path.has(queue.arn)) return;
    path.add(queue.arn);
    const dlq = queue.redrivePolicy && byArn.get(queue.redrivePolicy.deadLetterTargetArn);
    if (dlq) place(dlq, path);
    placed.add(queue.arn);
    ordered.push(queue);
  };
  for (const queue of queues) place(queue, new Set());
  return ordered;
}

/** DeleteLifecycleHook in the cleanup; a hook already gone (deleted outside CloudFormation) has nothing left to delete. */
function deleteHook(world: StackUpdateWorld, hook: LifecycleHookSpec): void {
  if (world.hasAutoScalingGroup(hook.groupName)) world.deleteLifecycleHook(hook.groupName, hook.hookName);
}

/**
 * What a function's configuration is, compared across assemblies: everything but where the
 * assembly keeps the code (`codeKey` names the code).
 */
function functionSettings(fn: FunctionSpec): Omit<FunctionSpec, 'codeDirectory'> {
  const { codeDirectory: _ignored, ...settings } = fn;
  return settings;
}

/**
 * The settings UpdateFunctionConfiguration and UpdateFunctionCode change ($LATEST's version
 * settings, "Lambda function versions"), whose change means new execution environments.
 */
function versionSettings(fn: FunctionSpec): unknown {
  return [fn.handler, fn.runtime, fn.timeoutSeconds, fn.memorySize, fn.environment, fn.codeKey, fn.role.arn];
}

function hookKey(hook: LifecycleHookSpec): string {
  return `${hook.groupName}/${hook.hookName}`;
}

type Spec = ClusterSpec | AutoScalingGroupSpec | WarmPoolSpec | LifecycleHookSpec | FunctionSpec | RuleSpec | QueueSpec | QueuePolicySpec
  | EventSourceMappingSpec | EventBusSpec | TopicSpec | TopicPolicySpec;

function byLogicalId<T extends Spec>(specs: readonly T[]): Map<string, T> {
  return new Map(specs.map(spec => [spec.logicalId, spec]));
}

function added<T extends Spec>(before: readonly T[], after: readonly T[]): T[] {
  const deployed = byLogicalId(before);
  return after.filter(spec => !deployed.has(spec.logicalId));
}

function removed<T extends Spec>(before: readonly T[], after: readonly T[]): T[] {
  const kept = byLogicalId(after);
  return before.filter(spec => !kept.has(spec.logicalId));
}

/** The part of a model that belongs to one stack. */
function slice(model: CloudModel, stackName: string): CloudModel {
  const of = <T extends { stackName: string }>(items: readonly T[]) => items.filter(item => item.stackName === stackName);
  return {
    directory: model.directory,
    stacks: model.stacks.filter(s => s === stackName),
    resources: of(model.resources),
    clusters: of(model.clusters),
    autoScalingGroups: of(model.autoScalingGroups),
    lifecycleHooks: of(model.lifecycleHooks),
    warmPools: of(model.warmPools),
    functions: of(model.functions),
    rules: of(model.rules),
    queues: of(model.queues),
    queuePolicies: of(model.queuePolicies),
    eventSourceMappings: of(model.eventSourceMappings),
    eventBuses: of(model.eventBuses),
    topics: of(model.topics),
    topicPolicies: of(model.topicPolicies),
  };
}

/** `model` with the stack as `next` has it (added at the end if it is new). */
function withStack(model: CloudModel, next: CloudModel, stackName: string): CloudModel {
  const replace = <T extends { stackName: string }>(mine: readonly T[], theirs: readonly T[]) =>
    [...mine.filter(item => item.stackName !== stackName), ...theirs.filter(item => item.stackName === stackName)];
  return {
    directory: next.directory,
    stacks: model.stacks.includes(stackName) ? model.stacks : [...model.stacks, stackName],
    resources: replace(model.resources, next.resources),
    clusters: replace(model.clusters, next.clusters),
    autoScalingGroups: replace(model.autoScalingGroups, next.autoScalingGroups),
    lifecycleHooks: replace(model.lifecycleHooks, next.lifecycleHooks),
    warmPools: replace(model.warmPools, next.warmPools),
    functions: replace(model.functions, next.functions),
    rules: replace(model.rules, next.rules),
    queues: replace(model.queues, next.queues),
    queuePolicies: replace(model.queuePolicies, next.queuePolicies),
    eventSourceMappings: replace(model.eventSourceMappings, next.eventSourceMappings),
    eventBuses: replace(model.eventBuses, next.eventBuses),
    topics: replace(model.topics, next.topics),
    topicPolicies: replace(model.topicPolicies, next.topicPolicies),
  };
}

/** JSON with object keys sorted: equal values, equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v)) ?? 'undefined';
}

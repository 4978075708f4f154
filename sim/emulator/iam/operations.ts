/**
 * What IAM authorizes for each operation the emulator serves: the action, the resource ARN(s) and
 * the service's condition keys, from the Service Authorization Reference:
 * - "Actions, resources, and condition keys for Amazon Elastic Container Service" (ECS): the
 *   resource type of each action (`cluster`, `container-instance`, `task`, `service`) and, for the actions
 *   that list it, the condition key `ecs:cluster` (the ARN of the request's cluster);
 * - "Actions, resources, and condition keys for Amazon EC2 Auto Scaling": `autoScalingGroup` for
 *   the group's writes; no resource type at all for `Describe*`, which then authorize on `*`.
 *
 * One precision the reference does not state: `ListTasks` without `containerInstance` names no
 * container instance, and IAM authorizes it on resource `*` (cdklabs/construct-hub#1207 shows the
 * AccessDeniedException "... ecs:ListTasks on resource: *"; widdix/complete-aws-iam-reference#74:
 * a grant on container instances does not allow a cluster-wide listing). The same holds here for
 * any request that names no resource of its action's type.
 *
 * Calls naming several resources (DescribeContainerInstances, UpdateContainerInstancesState,
 * DescribeTasks, DescribeServices, PutAttributes, DeleteAttributes) are authorized for each of them.
 *
 * - "Actions, resources, and condition keys for Amazon EventBridge": `events:PutEvents` on resource
 *   type `event-bus` (`arn:aws:events:<region>:<account>:event-bus/<name>`), with the condition keys
 *   `events:source`, `events:detail-type` and `events:eventBusInvocation` (the reference also lists
 *   `aws:ResourceTag/${TagKey}`: the emulator's buses have no tags, so it is absent). PutEvents is
 *   authorized per entry (see EVENTS_AUTHORIZATION): its rule takes one entry, not the request.
 *
 * Every operation the emulator serves needs an entry: test/sim/iam-operations.test.ts fails for a
 * served operation without one, and the server refuses such a call (counted as denied).
 */
import type { ContextKeys } from './policy';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

export interface AuthorizationScope {
  readonly region: string;
  readonly accountId: string;
  /** The group's ARN (it holds a generated id), or undefined when no such group exists. */
  autoScalingGroupArn(name: string): string | undefined;
  /** The group an instance belongs to, or undefined. */
  groupOfInstance(instanceId: string): string | undefined;
}

/** What one request asks IAM for. */
export interface AuthorizationRequest {
  /** `service:Operation`. */
  readonly action: string;
  /** Each is authorized separately; `['*']` when the request names none. */
  readonly resources: readonly string[];
  /** Service-specific condition keys (global ones are added by the authorizer). */
  readonly context: ContextKeys;
  /**
   * False for actions without a resource type: AWS then leaves "on resource: ..." out of the
   * refusal (cattle-ops/terraform-aws-gitlab-runner#1316, hashicorp/nomad-autoscaler#952).
   */
  readonly namesResource: boolean;
}

type Resolved = Omit<AuthorizationRequest, 'action'>;
export type EcsAuthorizationRule = (input: Json, scope: AuthorizationScope) => Resolved;
export type AutoScalingAuthorizationRule = (params: ReadonlyMap<string, string>, scope: AuthorizationScope) => Resolved;
export type EventsAuthorizationRule = (input: Json, scope: AuthorizationScope) => Resolved;

/** The ARNs an ECS request is about, built the way ECS builds them from names and ids. */
class EcsRequest {
  readonly clusterName: string;
  readonly clusterArn: string;

  constructor(input: Json, private readonly scope: AuthorizationScope) {
    // Without `cluster`, ECS uses the default cluster (API reference, every cluster parameter).
    const cluster = typeof input.cluster === 'string' && input.cluster !== '' ? input.cluster : 'default';
    this.clusterName = cluster.replace(/^arn:[^:]*:ecs:[^:]*:[^:]*:cluster\//, '');
    this.clusterArn = cluster.startsWith('arn:') ? cluster : this.arn(`cluster/${cluster}`);
  }

  containerInstance(ref: unknown): string | undefined {
    return this.child('container-instance', ref);
  }

  task(ref: unknown): string | undefined {
    return this.child('task', ref);
  }

  service(ref: unknown): string | undefined {
    return this.child('service', ref);
  }

  /** `ecs:cluster`: "Filters access by the ARN of an Amazon ECS cluster". */
  get clusterContext(): ContextKeys {
    return { 'ecs:cluster': this.clusterArn };
  }

  private child(type: string, ref: unknown): string | undefined {
    if (typeof ref !== 'string' || ref === '') return undefined;
    return ref.startsWith('arn:') ? ref : this.arn(`${type}/${this.clusterName}/${ref}`);
  }

  private arn(resource: string): string {
    return `arn:aws:ecs:${this.scope.region}:${this.scope.accountId}:${resource}`;
  }
}

/** The resources named, or `*` when none is (see the module comment). */
function named(arns: readonly (string | undefined)[]): string[] {
  const present = [...new Set(arns.filter((a): a is string => a !== undefined))];
  return present.length > 0 ? present : ['*'];
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Resource type `cluster`, no `ecs:cluster` key. */
const onCluster: EcsAuthorizationRule = (input, scope) => ({
  resources: [new EcsRequest(input, scope).clusterArn], context: {}, namesResource: true,
});

/** Resource type `container-instance` (or `task`), with `ecs:cluster`. */
const inCluster = (refs: (input: Json, ecs: EcsRequest) => (string | undefined)[]): EcsAuthorizationRule => (input, scope) => {
  const ecs = new EcsRequest(input, scope);
  return { resources: named(refs(input, ecs)), context: ecs.clusterContext, namesResource: true };
};

export const ECS_AUTHORIZATION: Readonly<Record<string, EcsAuthorizationRule>> = {
  RegisterContainerInstance: onCluster,
  DeregisterContainerInstance: onCluster,
  ListContainerInstances: onCluster,
  ListAttributes: onCluster,
  DescribeContainerInstances: inCluster((input, ecs) => list(input.containerInstances).map(r => ecs.containerInstance(r))),
  UpdateContainerInstancesState: inCluster((input, ecs) => list(input.containerInstances).map(r => ecs.containerInstance(r))),
  UpdateContainerAgent: inCluster((input, ecs) => [ecs.containerInstance(input.containerInstance)]),
  // With `containerInstance`, that container instance; without one, `*` (module comment).
  ListTasks: inCluster((input, ecs) => [ecs.containerInstance(input.containerInstance)]),
  DescribeTasks: inCluster((input, ecs) => list(input.tasks).map(r => ecs.task(r))),
  StopTask: inCluster((input, ecs) => [ecs.task(input.task)]),
  // Resource type `service` (arn:aws:ecs:<region>:<account>:service/<cluster>/<name>), each one named, with `ecs:cluster`.
  DescribeServices: inCluster((input, ecs) => list(input.services).map(r => ecs.service(r))),
  // The attributes' targets (container instances: the only target type ECS accepts).
  PutAttributes: inCluster((input, ecs) => list(input.attributes).map(a => ecs.containerInstance((a as Json)?.targetId))),
  DeleteAttributes: inCluster((input, ecs) => list(input.attributes).map(a => ecs.containerInstance((a as Json)?.targetId))),
};

/** No resource type: IAM authorizes on `*`. */
const noResourceType: AutoScalingAuthorizationRule = () => ({ resources: ['*'], context: {}, namesResource: false });

/**
 * Resource type `autoScalingGroup`. A group that does not exist has no ARN to show; it is
 * authorized by name with any id, so the caller sees the service's own answer (ValidationError)
 * when a name-scoped grant allows it.
 */
const onGroup = (groupName: (params: ReadonlyMap<string, string>, scope: AuthorizationScope) => string | undefined): AutoScalingAuthorizationRule =>
  (params, scope) => {
    const name = groupName(params, scope);
    const arn = name === undefined ? undefined
      : scope.autoScalingGroupArn(name)
        ?? `arn:aws:autoscaling:${scope.region}:${scope.accountId}:autoScalingGroup:*:autoScalingGroupName/${name}`;
    return { resources: named([arn]), context: {}, namesResource: true };
  };

const byGroupName = onGroup(params => params.get('AutoScalingGroupName'));

export const AUTOSCALING_AUTHORIZATION: Readonly<Record<string, AutoScalingAuthorizationRule>> = {
  DescribeAutoScalingGroups: noResourceType,
  DescribeAutoScalingInstances: noResourceType,
  // Like the other Describe* actions, DescribeWarmPool lists no resource type (Service
  // Authorization Reference, Amazon EC2 Auto Scaling): '*'.
  DescribeWarmPool: noResourceType,
  CompleteLifecycleAction: byGroupName,
  RecordLifecycleActionHeartbeat: byGroupName,
  // autoscaling:DeleteLifecycleHook: resource type autoScalingGroup, like the other hook actions.
  DeleteLifecycleHook: byGroupName,
  SetDesiredCapacity: byGroupName,
  TerminateInstanceInAutoScalingGroup: onGroup((params, scope) => {
    const instanceId = params.get('InstanceId');
    return instanceId === undefined ? undefined : scope.groupOfInstance(instanceId);
  }),
};

/** The default bus when an entry names none (PutEventsRequestEntry, EventBusName: "If you omit this, the default event bus is used"). */
export const DEFAULT_EVENT_BUS = 'default';

/** The ARN of the bus an entry's `EventBusName` names (a name or an ARN; none: the default bus). */
export function eventBusArn(eventBusName: unknown, scope: Pick<AuthorizationScope, 'region' | 'accountId'>): string {
  const name = typeof eventBusName === 'string' && eventBusName !== '' ? eventBusName : DEFAULT_EVENT_BUS;
  return name.startsWith('arn:') ? name : `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/${name}`;
}

/**
 * EventBridge authorizes PutEvents entry by entry: each result entry carries its own
 * `AccessDeniedException`, `NotAuthorizedForSourceException` or `NotAuthorizedForDetailTypeException`
 * (API reference, PutEventsResultEntry), and "if an individual entry within a request fails,
 * EventBridge continues processing the rest of the entries" (user guide, "Sending events with
 * PutEvents", Handling failures). So the rule's input is one entry: its bus is the resource, its
 * `Source` and `DetailType` are `events:source` and `events:detail-type` (absent from the context
 * when the entry has none), and `events:eventBusInvocation` is false (the event comes from the API,
 * not from another bus: "Filters access by whether the event was generated via API or cross-account
 * bus invocation").
 */
export const EVENTS_AUTHORIZATION: Readonly<Record<string, EventsAuthorizationRule>> = {
  PutEvents: (entry, scope) => {
    const context: Record<string, string> = { 'events:eventBusInvocation': 'false' };
    if (typeof entry.Source === 'string') context['events:source'] = entry.Source;
    if (typeof entry.DetailType === 'string') context['events:detail-type'] = entry.DetailType;
    return { resources: [eventBusArn(entry.EventBusName, scope)], context, namesResource: true };
  },
};

/**
 * ECS operations over JSON 1.1, one handler per action, shapes from the ECS API reference
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/). Handlers take the parsed JSON
 * body and return the JSON answer or throw ApiError.
 */
import { SimClock } from '../clock';
import { BackgroundChurn } from './background-churn';
import { customAttributeCount, MAX_CUSTOM_ATTRIBUTES, validateAttribute } from './ecs-attributes';
import { containerOf, EcsWorld, LATEST_AGENT_VERSION, resources, versionInfo } from './ecs-world';
import { ApiError, ecsErrors } from './errors';
import { AnyTask, Cluster, ContainerInstance, Service } from './model';
import { decodePageToken, encodePageToken } from './paging';
import { ContainerInstanceView, StaleReads, TaskView } from './stale-reads';
import { EcsStaleReadOperation } from './unkind';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;

export interface CallContext {
  invocationId?: string;
}

/** Called before every mutating call on a registration (`detail`: the status or attribute a write sets). */
export type OwnershipCheck = (
  ci: ContainerInstance, operation: string, context: CallContext, detail?: { status?: string; attribute?: { name: string; value?: string } },
) => void;

/** ECS API reference, ContainerInstance.status: registrations in these cannot be updated. */
const NOT_UPDATABLE = ['REGISTERING', 'REGISTRATION_FAILED', 'DEREGISTERING'];

export class EcsApi {
  private readonly handlers: Record<string, (input: Json, context: CallContext) => Json> = {
    RegisterContainerInstance: i => this.registerContainerInstance(i),
    DescribeContainerInstances: i => this.describeContainerInstances(i),
    UpdateContainerInstancesState: (i, c) => this.updateContainerInstancesState(i, c),
    DeregisterContainerInstance: (i, c) => this.deregisterContainerInstance(i, c),
    UpdateContainerAgent: (i, c) => this.updateContainerAgent(i, c),
    ListContainerInstances: i => this.listContainerInstances(i),
    ListTasks: i => this.listTasks(i),
    DescribeTasks: i => this.describeTasks(i),
    StopTask: (i, c) => this.stopTask(i, c),
    PutAttributes: (i, c) => this.putAttributes(i, c),
    DeleteAttributes: (i, c) => this.deleteAttributes(i, c),
    ListAttributes: i => this.listAttributes(i),
    DescribeServices: i => this.describeServices(i),
  };

  constructor(
    private readonly ecs: EcsWorld,
    private readonly clock: SimClock,
    private readonly checkOwnership: OwnershipCheck,
    /** Option staleReads: which instant each read answers for; undefined: always now. */
    private readonly staleReads?: StaleReads,
    /** Option backgroundChurn: stops its Fargate tasks (StopTask). */
    private readonly churn?: BackgroundChurn,
  ) {}

  supports(operation: string): boolean {
    return operation in this.handlers;
  }

  /** Every operation served (each needs an IAM rule, sim/emulator/iam/operations.ts). */
  get operations(): string[] {
    return Object.keys(this.handlers);
  }

  handle(operation: string, input: Json, context: CallContext): Json {
    const handler = this.handlers[operation];
    if (!handler) throw new ApiError('UnknownOperationException', `Operation ${operation} is not supported by the emulator.`);
    return this.ecs.batch(() => handler(input, context));
  }

  // ---- container instances ----------------------------------------------------------------

  /**
   * With `containerInstanceArn` it is the agent's re-registration after a restart
   * (amazon-ecs-agent, agent/app/agent.go, reregisterContainerInstance).
   */
  private registerContainerInstance(input: Json): Json {
    const cluster = this.ecs.cluster(input.cluster);
    if (input.containerInstanceArn !== undefined) {
      const existing = this.ecs.findContainerInstance(cluster, String(input.containerInstanceArn));
      if (!existing) throw ecsErrors.invalidParameter('The referenced container instance was not found.');
      this.ecs.reregisterContainerInstance(existing);
      return { containerInstance: this.describe(existing) };
    }
    let identity: Json = {};
    try {
      identity = input.instanceIdentityDocument ? JSON.parse(input.instanceIdentityDocument) : {};
    } catch {
      throw ecsErrors.invalidParameter('instanceIdentityDocument is not valid JSON.');
    }
    if (typeof identity.instanceId !== 'string') {
      throw ecsErrors.client('instanceIdentityDocument must contain instanceId.');
    }
    const total = (name: string) => (input.totalResources as Json[] | undefined)?.find(r => r.name === name)?.integerValue;
    const ci = this.ecs.registerContainerInstance({
      cluster: cluster.name,
      ec2InstanceId: identity.instanceId,
      cpu: total('CPU'),
      memory: total('MEMORY'),
      instanceType: identity.instanceType,
      availabilityZone: identity.availabilityZone,
      attributes: input.attributes,
    });
    return { containerInstance: this.describe(ci) };
  }

  private describeContainerInstances(input: Json): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const refs = this.requireList(input.containerInstances, 'containerInstances', 100);
    const at = this.readTime('DescribeContainerInstances');
    const containerInstances: Json[] = [];
    const failures: Json[] = [];
    for (const ref of refs) {
      const ci = this.ecs.findContainerInstance(cluster, ref);
      // A stale answer does not know a registration made after its instant yet.
      const view = ci && this.ecs.instanceAsOf(ci, at);
      if (ci && view) containerInstances.push(this.describe(ci, (input.include ?? []).includes('TAGS'), view));
      else failures.push({ arn: this.containerInstanceArn(cluster, ref), reason: 'MISSING' });
    }
    return { containerInstances, failures };
  }

  /**
   * ECS API reference, UpdateContainerInstancesState: up to 10 instances, ACTIVE or DRAINING. "A
   * container instance can't be changed to DRAINING until it has reached an ACTIVE status. If the
   * instance is in any other status, an error will be received." and (request `status`) "If a
   * container instance is in REGISTERING, DEREGISTERING, or REGISTRATION_FAILED state you can
   * describe the container instance but can't update the container instance state." Whether that
   * error is an exception or a `failures` entry is not documented: the emulator fails the whole
   * call (InvalidParameterException, no instance changed), which is the harder case for a caller
   * that batches. Deregistered (INACTIVE) and unknown ones stay failures, as ECS answers them.
   */
  private updateContainerInstancesState(input: Json, context: CallContext): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const refs = this.requireList(input.containerInstances, 'containerInstances', 10);
    if (input.status !== 'ACTIVE' && input.status !== 'DRAINING') {
      throw ecsErrors.invalidParameter('Container instance status can only be updated to ACTIVE or DRAINING.');
    }
    for (const ref of refs) {
      const ci = this.ecs.findContainerInstance(cluster, ref);
      if (ci && NOT_UPDATABLE.includes(ci.status)) {
        throw ecsErrors.invalidParameter(`Container instance ${ci.arn} is ${ci.status}: only ACTIVE or DRAINING container instances can be updated.`);
      }
    }
    const containerInstances: Json[] = [];
    const failures: Json[] = [];
    for (const ref of refs) {
      const ci = this.ecs.findContainerInstance(cluster, ref);
      if (!ci) {
        failures.push({ arn: this.containerInstanceArn(cluster, ref), reason: 'MISSING' });
      } else if (ci.status === 'INACTIVE') {
        failures.push({ arn: ci.arn, reason: 'INACTIVE', detail: 'The container instance is deregistered.' });
      } else {
        this.checkOwnership(ci, 'UpdateContainerInstancesState', context, { status: input.status });
        this.ecs.setStatus(ci, input.status);
        containerInstances.push(this.describe(ci));
      }
    }
    return { containerInstances, failures };
  }

  private deregisterContainerInstance(input: Json, context: CallContext): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const ci = this.requireContainerInstance(cluster, input.containerInstance);
    this.checkOwnership(ci, 'DeregisterContainerInstance', context);
    this.ecs.deregister(ci, input.force === true);
    return { containerInstance: this.describe(ci) };
  }

  /** ECS API reference, UpdateContainerAgent: its documented errors. */
  private updateContainerAgent(input: Json, context: CallContext): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const ci = this.requireContainerInstance(cluster, input.containerInstance);
    this.checkOwnership(ci, 'UpdateContainerAgent', context);
    if (ci.status === 'INACTIVE' || !ci.agentConnected) {
      throw ecsErrors.client('The container instance agent is not connected.');
    }
    const inProgress = ci.agentUpdateStatus && !['UPDATED', 'FAILED'].includes(ci.agentUpdateStatus);
    if (inProgress) {
      throw new ApiError('UpdateInProgressException', 'There is already a current Amazon ECS container agent update in progress on the container instance.');
    }
    if (ci.agentVersion === LATEST_AGENT_VERSION) {
      throw new ApiError('NoUpdateAvailableException', 'There is no update available for this Amazon ECS container agent.');
    }
    this.ecs.startAgentUpdate(ci);
    return { containerInstance: this.describe(ci) };
  }

  /**
   * ECS API reference, ListContainerInstances. `filter` is the cluster query language; the forms
   * supported are `ec2InstanceId == 'i-…'`, `ec2InstanceId in ['i-1', 'i-2']` (quotes optional)
   * and `attribute:NAME exists` (ECS developer guide, "Create expressions to define container
   * instances": the `exists` operator, subject `attribute:attribute-name`).
   * Without `status`, every status but INACTIVE is listed.
   */
  private listContainerInstances(input: Json): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const validStatuses = ['ACTIVE', 'DRAINING', 'REGISTERING', 'DEREGISTERING', 'REGISTRATION_FAILED'];
    if (input.status !== undefined && !validStatuses.includes(input.status)) {
      throw ecsErrors.invalidParameter(`Invalid status: ${input.status}`);
    }
    let candidates: ContainerInstance[];
    const attribute = input.filter ? parseAttributeExistsFilter(input.filter) : undefined;
    if (attribute !== undefined) {
      candidates = cluster.containerInstances.filter(ci => ci.attributes.has(attribute));
    } else if (input.filter) {
      const ids = parseEc2InstanceFilter(input.filter);
      candidates = ids.flatMap(id => this.ecs.containerInstancesOf(id)).filter(ci => ci.cluster === cluster);
      candidates.sort((a, b) => a.registrationIndex - b.registrationIndex);
    } else {
      candidates = cluster.containerInstances;
    }
    const at = this.readTime('ListContainerInstances');
    const matches = (ci: ContainerInstance) => {
      const status = at === undefined ? ci.status : this.ecs.statusAsOf(ci, at);
      return status !== undefined && (input.status ? status === input.status : status !== 'INACTIVE');
    };
    const page = this.pageOf(candidates, matches, input.maxResults, input.nextToken);
    return { containerInstanceArns: page.items.map(ci => ci.arn), nextToken: page.nextToken };
  }

  // ---- tasks ------------------------------------------------------------------------------

  /**
   * ECS API reference, ListTasks: desiredStatus defaults to RUNNING; PENDING returns nothing;
   * STOPPED tasks stay listed for at least an hour. Without `containerInstance` the cluster's
   * Fargate tasks (background churn) are listed after its EC2 ones; `launchType` filters by it.
   */
  private listTasks(input: Json): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const desired = input.desiredStatus ?? 'RUNNING';
    if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desired)) throw ecsErrors.invalidParameter(`Invalid desiredStatus: ${desired}`);
    if (input.launchType !== undefined && !['EC2', 'FARGATE', 'EXTERNAL'].includes(input.launchType)) {
      throw ecsErrors.invalidParameter(`Invalid launchType: ${input.launchType}`);
    }
    let source: Iterable<AnyTask>;
    if (input.containerInstance) {
      const ci = this.ecs.findContainerInstance(cluster, input.containerInstance);
      source = ci ? ci.tasks : [];
    } else {
      source = cluster.fargateTasks.size > 0 ? chain<AnyTask>(cluster.tasks.values(), cluster.fargateTasks.values()) : cluster.tasks.values();
    }
    const at = this.readTime('ListTasks');
    const matches = (task: AnyTask) => {
      if (input.launchType && task.launchType !== input.launchType) return false;
      if (at === undefined) {
        if (task.desiredStatus !== desired || !this.ecs.isListed(task)) return false;
      } else if (!this.ecs.listedAsOf(task, desired, at)) {
        return false;
      }
      if (input.serviceName && (task.launchType === 'FARGATE' || task.service?.name !== input.serviceName)) return false;
      if (input.startedBy && task.startedBy !== input.startedBy) return false;
      if (input.family && !task.taskDefinitionArn.includes(`/${input.family}:`)) return false;
      return true;
    };
    const page = this.pageOf(desired === 'PENDING' ? [] : source, matches, input.maxResults, input.nextToken);
    return { taskArns: page.items.map(t => t.arn), nextToken: page.nextToken };
  }

  private describeTasks(input: Json): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const refs = this.requireList(input.tasks, 'tasks', 100);
    const at = this.readTime('DescribeTasks');
    const tasks: Json[] = [];
    const failures: Json[] = [];
    for (const ref of refs) {
      const task = this.ecs.findTask(cluster, ref);
      const view = task && this.ecs.taskAsOf(task, at);
      if (task && view) tasks.push(this.describeTask(task, view));
      else failures.push({ arn: ref, reason: 'MISSING' });
    }
    return { tasks, failures };
  }

  private stopTask(input: Json, context: CallContext): Json {
    const cluster = this.ecs.cluster(input.cluster);
    if (typeof input.task !== 'string') throw ecsErrors.invalidParameter('task must be specified.');
    const task = this.ecs.findTask(cluster, input.task);
    if (!task) throw ecsErrors.invalidParameter('The referenced task was not found.');
    if (task.launchType === 'FARGATE') {
      this.churn?.stopFargateTask(task, 'UserInitiated', input.reason ?? 'Task stopped by user');
      return { task: this.describeTask(task) };
    }
    this.checkOwnership(task.containerInstance, 'StopTask', context);
    // A StopTask call: a cause of a container instance event (ECS developer guide, "Amazon ECS container instance state change events").
    this.ecs.stopTask(task, 'UserInitiated', input.reason ?? 'Task stopped by user', 'task-placed-or-stopped');
    return { task: this.describeTask(task) };
  }

  // ---- services ---------------------------------------------------------------------------

  /**
   * ECS API reference, DescribeServices: up to 10 services of one cluster, each by name or ARN;
   * `include: ['TAGS']` adds their tags (the emulator's services have none). A service the cluster
   * does not have is a failure with reason MISSING (ECS developer guide, "Amazon ECS API failure
   * reasons": the specified service wasn't found). Answers for now: the option staleReads does not
   * cover this operation.
   */
  private describeServices(input: Json): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const refs = this.requireList(input.services, 'services', 10);
    const withTags = Array.isArray(input.include) && input.include.includes('TAGS');
    const services: Json[] = [];
    const failures: Json[] = [];
    for (const ref of refs) {
      const service = typeof ref === 'string' ? this.ecs.findService(cluster, ref) : undefined;
      if (service) services.push(this.describeService(service, withTags));
      else failures.push({ arn: this.serviceArn(cluster, String(ref)), reason: 'MISSING' });
    }
    return { services, failures };
  }

  // ---- attributes -------------------------------------------------------------------------

  /**
   * ECS API reference, PutAttributes: up to 10 attributes per call and 10 custom ones per resource
   * (AttributeLimitExceededException). Built-in `ecs.*` attributes do not count; setting a name
   * the resource already has replaces its value and adds none. Checked for every target before
   * anything is written: a call that fails changes nothing.
   */
  private putAttributes(input: Json, context: CallContext): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const attributes = this.requireList(input.attributes, 'attributes', 10) as unknown as Json[];
    const targets = attributes.map(attribute => {
      this.validateAttribute(attribute);
      return this.attributeTarget(cluster, attribute);
    });
    for (const ci of new Set(targets)) {
      const added = attributes.filter((_, i) => targets[i] === ci).map(a => a.name as string);
      if (customAttributeCount(ci.attributes.keys(), added) > MAX_CUSTOM_ATTRIBUTES) {
        throw new ApiError('AttributeLimitExceededException', `You can apply up to ${MAX_CUSTOM_ATTRIBUTES} custom attributes for each resource.`);
      }
    }
    attributes.forEach((attribute, i) => {
      this.checkOwnership(targets[i], 'PutAttributes', context, { attribute: { name: attribute.name as string, value: attribute.value as string | undefined } });
      this.ecs.putAttribute(targets[i], attribute.name, attribute.value);
    });
    return { attributes: attributes.map((a, i) => this.attributeJson(targets[i], a.name, a.value)) };
  }

  private deleteAttributes(input: Json, context: CallContext): Json {
    const cluster = this.ecs.cluster(input.cluster);
    const attributes = this.requireList(input.attributes, 'attributes', 10) as unknown as Json[];
    const targets = attributes.map(attribute => this.attributeTarget(cluster, attribute));
    attributes.forEach((attribute, i) => {
      this.checkOwnership(targets[i], 'DeleteAttributes', context);
      this.ecs.deleteAttribute(targets[i], attribute.name);
    });
    return { attributes: attributes.map((a, i) => this.attributeJson(targets[i], a.name, a.value)) };
  }

  private listAttributes(input: Json): Json {
    const cluster = this.ecs.cluster(input.cluster);
    if (input.targetType !== 'container-instance') throw ecsErrors.invalidParameter('targetType must be container-instance.');
    const found: Json[] = [];
    for (const ci of cluster.containerInstances) {
      if (ci.status === 'INACTIVE') continue;
      for (const [name, value] of ci.attributes) {
        if (input.attributeName && name !== input.attributeName) continue;
        if (input.attributeValue !== undefined && value !== input.attributeValue) continue;
        found.push(this.attributeJson(ci, name, value));
      }
    }
    const page = this.page(found, input.maxResults, input.nextToken);
    return { attributes: page.items, nextToken: page.nextToken };
  }

  private validateAttribute(attribute: Json): void {
    validateAttribute(attribute?.name, attribute?.value);
    if (attribute.targetType !== undefined && attribute.targetType !== 'container-instance') {
      throw ecsErrors.invalidParameter('targetType must be container-instance.');
    }
  }

  private attributeTarget(cluster: Cluster, attribute: Json): ContainerInstance {
    if (typeof attribute.targetId !== 'string') throw ecsErrors.invalidParameter('targetId must be specified.');
    const ci = this.ecs.findContainerInstance(cluster, attribute.targetId);
    if (!ci || ci.status === 'INACTIVE') {
      throw new ApiError('TargetNotFoundException', `Could not find ${attribute.targetId}.`);
    }
    return ci;
  }

  private attributeJson(ci: ContainerInstance, name: string, value: string | undefined): Json {
    return { name, value, targetType: 'container-instance', targetId: ci.arn };
  }

  // ---- shapes -----------------------------------------------------------------------------

  /** ECS API reference, ContainerInstance data type; `view`: the fields as a (stale) read sees them. */
  private describe(ci: ContainerInstance, withTags = false, view: ContainerInstanceView = this.ecs.instanceView(ci)): Json {
    return {
      containerInstanceArn: ci.arn,
      ec2InstanceId: ci.ec2InstanceId,
      version: view.version,
      versionInfo: versionInfo(view),
      remainingResources: resources(view.remainingCpu, view.remainingMemory),
      registeredResources: resources(ci.registeredCpu, ci.registeredMemory),
      status: view.status,
      statusReason: view.statusReason,
      agentConnected: view.agentConnected,
      runningTasksCount: view.runningTasksCount,
      pendingTasksCount: view.pendingTasksCount,
      agentUpdateStatus: view.agentUpdateStatus,
      attributes: view.attributes.map(([name, value]) => ({ name, value })),
      registeredAt: ci.registeredAt / 1000,
      attachments: [],
      ...(withTags ? { tags: [] } : {}),
    };
  }

  /**
   * ECS API reference, Task data type; `view`: the fields as a (stale) read sees them. A Fargate
   * task has no containerInstanceArn.
   */
  private describeTask(task: AnyTask, view: TaskView = this.ecs.taskView(task)): Json {
    const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
    return {
      taskArn: task.arn,
      clusterArn: task.cluster.arn,
      containerInstanceArn: task.launchType === 'EC2' ? task.containerInstance.arn : undefined,
      taskDefinitionArn: task.taskDefinitionArn,
      group: task.group,
      startedBy: task.startedBy,
      lastStatus: view.lastStatus,
      desiredStatus: view.desiredStatus,
      launchType: task.launchType,
      cpu: String(task.cpu),
      memory: String(task.memory),
      createdAt: seconds(task.createdAt),
      startedAt: seconds(view.startedAt),
      stoppingAt: seconds(view.stoppingAt),
      stoppedAt: seconds(view.stoppedAt),
      stopCode: view.stopCode,
      stoppedReason: view.stoppedReason,
      availabilityZone: task.launchType === 'EC2' ? task.containerInstance.attributes.get('ecs.availability-zone') : task.availabilityZone,
      containers: [containerOf(task, view.lastStatus)],
      // ECS API reference, Task.version: the version the task's last state change event carried.
      version: view.version,
    };
  }

  /**
   * ECS API reference, Service data type: the fields the emulator models. runningCount and
   * pendingCount: its tasks in RUNNING and PENDING (tasks told to stop are no longer counted);
   * desiredCount of a DAEMON service: the tasks its scheduler keeps (one per ACTIVE container
   * instance with room). `events`: the service event messages, newest first (ServiceEvent).
   */
  private describeService(service: Service, withTags: boolean): Json {
    const o = service.options;
    let runningCount = 0;
    let pendingCount = 0;
    for (const task of service.activeTasks) {
      if (task.lastStatus === 'RUNNING') runningCount++;
      else if (task.lastStatus === 'PENDING') pendingCount++;
    }
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: service.cluster.arn,
      status: 'ACTIVE',
      launchType: 'EC2',
      schedulingStrategy: o.daemon ? 'DAEMON' : 'REPLICA',
      desiredCount: o.daemon ? service.activeTasks.size : o.desiredCount,
      runningCount,
      pendingCount,
      // The task definition the service's tasks carry (ecs-world.ts, createTask).
      taskDefinition: service.arn.replace(/:service\/.*$/, `:task-definition/${service.name}:1`),
      deploymentConfiguration: { minimumHealthyPercent: o.minimumHealthyPercent, maximumPercent: o.maximumPercent },
      createdAt: service.createdAt / 1000,
      events: service.events.map(e => ({ id: e.id, createdAt: e.createdAt / 1000, message: e.message })),
      ...(withTags ? { tags: [] } : {}),
    };
  }

  /** The instant a read answers for (option staleReads); undefined: now. */
  private readTime(operation: EcsStaleReadOperation): number | undefined {
    return this.staleReads?.readTime('ecs', operation);
  }

  // ---- helpers ----------------------------------------------------------------------------

  private requireList(value: unknown, name: string, max: number): string[] {
    if (!Array.isArray(value) || value.length === 0) throw ecsErrors.invalidParameter(`${name} must not be empty.`);
    if (value.length > max) throw ecsErrors.invalidParameter(`${name} can have at most ${max} elements.`);
    return value as string[];
  }

  private requireContainerInstance(cluster: Cluster, ref: unknown): ContainerInstance {
    if (typeof ref !== 'string') throw ecsErrors.invalidParameter('containerInstance must be specified.');
    const ci = this.ecs.findContainerInstance(cluster, ref);
    if (!ci) throw ecsErrors.invalidParameter('The referenced container instance was not found.');
    return ci;
  }

  private containerInstanceArn(cluster: Cluster, ref: string): string {
    if (ref.startsWith('arn:')) return ref;
    return cluster.arn.replace(/:cluster\/.*$/, `:container-instance/${cluster.name}/${ref}`);
  }

  private serviceArn(cluster: Cluster, ref: string): string {
    if (ref.startsWith('arn:')) return ref;
    return cluster.arn.replace(/:cluster\/.*$/, `:service/${cluster.name}/${ref}`);
  }

  /** maxResults 1–100 (default 100), opaque nextToken (ECS API reference, List* actions). */
  private page<T>(items: T[], maxResults: unknown, nextToken: unknown): { items: T[]; nextToken?: string } {
    return this.pageOf(items, () => true, maxResults, nextToken);
  }

  /**
   * The page `page` would cut from the items of `source` that match, found without building that
   * list: it reads the source only up to the page's end and one match beyond (which decides
   * whether there is a next page). A cluster-wide listing of 25,000 tasks then costs each page
   * its offset, not the whole cluster and an array of every match.
   */
  private pageOf<T>(source: Iterable<T>, matches: (item: T) => boolean, maxResults: unknown, nextToken: unknown): { items: T[]; nextToken?: string } {
    const size = maxResults === undefined ? 100 : Number(maxResults);
    if (!Number.isInteger(size) || size < 1 || size > 100) throw ecsErrors.invalidParameter('maxResults must be between 1 and 100.');
    const offset = nextToken === undefined ? 0 : decodePageToken(nextToken, () => ecsErrors.invalidParameter('Invalid nextToken.'));
    const end = offset + size;
    const items: T[] = [];
    let index = 0;
    for (const item of source) {
      if (!matches(item)) continue;
      if (index >= end) return { items, nextToken: encodePageToken(end, this.clock.now()) };
      if (index >= offset) items.push(item);
      index++;
    }
    return { items };
  }
}

/** The items of one iterable, then another's. */
function* chain<T>(first: Iterable<T>, second: Iterable<T>): Iterable<T> {
  yield* first;
  yield* second;
}

/** The attribute name of a cluster query `attribute:NAME exists`, or undefined for any other query. */
export function parseAttributeExistsFilter(filter: string): string | undefined {
  // Attribute names: letters, digits, hyphens, underscores, periods, slashes, backslashes (ECS API reference, Attribute).
  return /^\s*attribute:([\w.\-/\\]+)\s+exists\s*$/.exec(filter)?.[1];
}

/** The two ec2InstanceId forms of the cluster query the controller uses; anything else is InvalidParameterException. */
export function parseEc2InstanceFilter(filter: string): string[] {
  const single = /^\s*ec2InstanceId\s*==\s*['"]?([\w-]+)['"]?\s*$/.exec(filter);
  if (single) return [single[1]];
  const list = /^\s*ec2InstanceId\s+in\s*\[([^\]]*)\]\s*$/.exec(filter);
  if (list) {
    return list[1].split(',').map(s => s.trim().replace(/^['"]|['"]$/g, '')).filter(s => s.length > 0);
  }
  throw ecsErrors.invalidParameter(`Unsupported filter expression: ${filter}`);
}

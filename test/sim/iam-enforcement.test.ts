/**
 * IAM enforced by the emulator, through the real SDK clients: the principal is the drain
 * controller's role as the synthesized example template defines it (sim/runtime/iam-roles.ts).
 * Refusals in the wire shapes AWS uses: ECS `AccessDeniedException` (JSON 1.1, HTTP 400), Auto
 * Scaling `AccessDenied` (Query, Sender, HTTP 403), message `User: <assumed role> is not
 * authorized to perform: <action> on resource: <resource> because no identity-based policy allows
 * the <action> action` (cdklabs/construct-hub#1207, chime/terraform-aws-alternat#188,
 * hashicorp/nomad-autoscaler#952).
 */
import {
  AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListContainerInstancesCommand,
  ListTasksCommand, PutAttributesCommand, StopTaskCommand, UpdateContainerAgentCommand, UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { failure, Harness, startHarness } from './harness';
import { IamPrincipal } from '../../sim/emulator';
import { parsePolicy } from '../../sim/emulator/iam/policy';
import { CloudModel, deployToEmulator, FunctionSpec, loadAssembly } from '../../sim/runtime/assembly';
import { principalOf } from '../../sim/runtime/iam-roles';
import { synthesizeExample } from '../e2e/support';

const ACCOUNT = '123456789012';
const CONTROLLER = 'controller#1';

let model: CloudModel;
let controller: FunctionSpec;

beforeAll(() => {
  model = loadAssembly(synthesizeExample());
  controller = model.functions[0];
}, 60_000);

/** SDK clients whose requests carry `x-sim-invocation: id`, as a Lambda invocation's do. */
function clientsOf(endpoint: string, id: string): { ecs: ECSClient; autoScaling: AutoScalingClient } {
  const config = { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' }, maxAttempts: 1 };
  const ecs = new ECSClient(config);
  const autoScaling = new AutoScalingClient(config);
  const tag = (request: unknown) => { (request as { headers: Record<string, string> }).headers['x-sim-invocation'] = id; };
  ecs.middlewareStack.add(next => async args => { tag(args.request); return next(args); }, { step: 'build' });
  autoScaling.middlewareStack.add(next => async args => { tag(args.request); return next(args); }, { step: 'build' });
  return { ecs, autoScaling };
}

describe('the drain controller role from the synthesized template', () => {
  let h: Harness;
  let ecs: ECSClient;
  let autoScaling: AutoScalingClient;
  let cluster: string;
  let group: string;
  let hook: string;
  let principal: IamPrincipal;
  let instances: string[];
  let arns: string[];
  const others: Record<string, IamPrincipal> = {};

  beforeEach(async () => {
    h = await startHarness();
    deployToEmulator(model, h.emulator);
    cluster = model.clusters[0].name;
    group = model.autoScalingGroups[0].name;
    hook = model.lifecycleHooks[0].hookName;
    principal = principalOf(controller.role, controller.name, ACCOUNT);
    h.emulator.identify = id => (id === CONTROLLER ? principal : others[id]);
    ({ ecs, autoScaling } = clientsOf(h.endpoint, CONTROLLER));
    instances = [0, 1, 2].map(() => h.emulator.launchInstance(group, { cluster }));
    arns = instances.map(id => h.emulator.containerInstanceArns(id)[0]);
    h.emulator.createService(cluster, { name: 'web', desiredCount: 3, startSeconds: 1 });
    h.advance(10_000);
  });

  afterEach(() => {
    ecs.destroy();
    autoScaling.destroy();
    h.close();
  });

  test('the principal is the assumed role of the function, its policies the role\'s inline and AWS::IAM::Policy ones', () => {
    expect(principal.arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${controller.role.name}/${controller.name}`);
    expect(principal.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${controller.role.name}`);
    expect(controller.role.policies.flatMap(p => p.statements.map(s => s.sid)).filter(Boolean)).toEqual(expect.arrayContaining([
      'DrainContainerInstancesOfTheCluster', 'ListTasksOfTheCluster', 'ReadTasksOfTheCluster', 'ListAndDeregisterInTheCluster',
      'CompleteLifecycleActionsOfManagedGroups', 'ReadAutoScalingState',
    ]));
  });

  test('allows every call the controller makes, cluster-wide ListTasks included', async () => {
    await ecs.send(new ListContainerInstancesCommand({ cluster, filter: `ec2InstanceId in [${instances.join(',')}]` }));
    await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }));
    await ecs.send(new UpdateContainerInstancesStateCommand({ cluster, containerInstances: arns.slice(0, 2), status: 'DRAINING' }));
    await ecs.send(new PutAttributesCommand({
      cluster, attributes: arns.map(arn => ({ name: 'drain', value: '1', targetType: 'container-instance', targetId: arn })),
    }));
    await ecs.send(new ListTasksCommand({ cluster, containerInstance: arns[0], desiredStatus: 'STOPPED' }));
    const all = await ecs.send(new ListTasksCommand({ cluster }));
    expect(all.taskArns).toHaveLength(3);
    await ecs.send(new DescribeTasksCommand({ cluster, tasks: all.taskArns }));
    await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
    await autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: instances }));
    h.emulator.scaleIn(group, 1);
    const victim = instances.find(id => h.emulator.lifecycleState(id) === 'Terminating:Wait')!;
    await autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: group, LifecycleHookName: hook, InstanceId: victim }));
    await ecs.send(new DeregisterContainerInstanceCommand({ cluster, containerInstance: h.emulator.containerInstanceArns(victim)[0], force: true }));
    await autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: group, LifecycleHookName: hook, InstanceId: victim, LifecycleActionResult: 'CONTINUE',
    }));
    expect(h.emulator.stats.totalDenied).toBe(0);
    expect(h.emulator.lifecycleState(victim)).toBe('Terminating:Proceed');
  });

  test('ECS: an action the role does not grant → AccessDeniedException, HTTP 400, and the task keeps running', async () => {
    const [taskArn] = (await ecs.send(new ListTasksCommand({ cluster }))).taskArns!;
    const err = await failure(ecs.send(new StopTaskCommand({ cluster, task: taskArn })));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toBe(`User: ${principal.arn} is not authorized to perform: ecs:StopTask on resource: ${taskArn} `
      + 'because no identity-based policy allows the ecs:StopTask action');
    const [task] = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks!;
    expect(task).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
  });

  test('ECS: a grant on one resource refuses another (UpdateContainerAgent on a container instance)', async () => {
    const err = await failure(ecs.send(new UpdateContainerAgentCommand({ cluster, containerInstance: arns[0] })));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toContain(`perform: ecs:UpdateContainerAgent on resource: ${arns[0]} because`);
  });

  test('ECS: the cluster condition refuses a listing of another cluster (on resource *)', async () => {
    h.emulator.createCluster('other');
    const err = await failure(ecs.send(new ListTasksCommand({ cluster: 'other' })));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toBe(`User: ${principal.arn} is not authorized to perform: ecs:ListTasks on resource: * `
      + 'because no identity-based policy allows the ecs:ListTasks action');
  });

  test('Auto Scaling: an action the role does not grant → AccessDenied, HTTP 403, and the group is unchanged', async () => {
    const described = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
    const groupArn = described.AutoScalingGroups![0].AutoScalingGroupARN;
    const err = await failure(autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: 0 })));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(`User: ${principal.arn} is not authorized to perform: autoscaling:SetDesiredCapacity on resource: ${groupArn} `
      + 'because no identity-based policy allows the autoscaling:SetDesiredCapacity action');
    const after = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
    expect(after.AutoScalingGroups![0].DesiredCapacity).toBe(3);
    expect(instances.map(id => h.emulator.lifecycleState(id))).toEqual(['InService', 'InService', 'InService']);

    const terminate = await failure(autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({
      InstanceId: instances[0], ShouldDecrementDesiredCapacity: true,
    })));
    expect(terminate.name).toBe('AccessDenied');
    expect(h.emulator.lifecycleState(instances[0])).toBe('InService');
  });

  test('Auto Scaling: CompleteLifecycleAction on a group the role does not manage is refused', async () => {
    h.emulator.createAutoScalingGroup({ name: 'not-managed', minSize: 0, maxSize: 2, desiredCapacity: 0 });
    h.emulator.putLifecycleHook({ groupName: 'not-managed', hookName: hook, heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
    const stranger = h.emulator.launchInstance('not-managed', {});
    h.emulator.scaleIn('not-managed', 1);
    const err = await failure(autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: 'not-managed', LifecycleHookName: hook, InstanceId: stranger, LifecycleActionResult: 'CONTINUE',
    })));
    expect(err.name).toBe('AccessDenied');
    expect(err.message).toMatch(/autoscaling:CompleteLifecycleAction on resource: arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/not-managed because/);
    expect(h.emulator.lifecycleState(stranger)).toBe('Terminating:Wait');
  });

  test('refused calls are counted per operation, the first ones kept with action, resource and invocation', async () => {
    const [taskArn] = (await ecs.send(new ListTasksCommand({ cluster }))).taskArns!;
    await failure(ecs.send(new StopTaskCommand({ cluster, task: taskArn })));
    await failure(ecs.send(new StopTaskCommand({ cluster, task: taskArn })));
    await failure(autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: 0 })));
    const stats = h.emulator.stats;
    expect(stats.denied).toEqual({ 'ecs:StopTask': 2, 'autoscaling:SetDesiredCapacity': 1 });
    expect(stats.totalDenied).toBe(3);
    expect(stats.deniedRequests[0]).toMatchObject({ action: 'ecs:StopTask', resource: taskArn, principal: principal.arn, invocationId: CONTROLLER });
    // A refused call is still a call (counted, as throttled ones are).
    expect(stats.calls['ecs:StopTask']).toBe(2);
  });

  test('a request without the invocation header acts as the administrator: not checked', async () => {
    const [taskArn] = (await ecs.send(new ListTasksCommand({ cluster }))).taskArns!;
    await h.ecs.send(new StopTaskCommand({ cluster, task: taskArn }));
    await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: 2 }));
    expect(h.emulator.stats.totalDenied).toBe(0);
    const [task] = (await h.ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks!;
    expect(task.desiredStatus).toBe('STOPPED');
  });

  describe('other principals', () => {
    /** Clients of an invocation whose role has only `statements`. */
    function principalWith(id: string, statements: Record<string, unknown>[]) {
      others[id] = {
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/test-role/${id}`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/test-role`,
        policies: [parsePolicy(id, { Version: '2012-10-17', Statement: statements })],
      };
      return clientsOf(h.endpoint, id);
    }

    test('a call naming several container instances needs all of them; refused, it changes none', async () => {
      const { ecs: client, autoScaling: unused } = principalWith('one-instance', [{ Effect: 'Allow', Action: 'ecs:UpdateContainerInstancesState', Resource: arns[0] }]);
      const eventsBefore = h.events.length;
      const err = await failure(client.send(new UpdateContainerInstancesStateCommand({ cluster, containerInstances: [arns[0], arns[1]], status: 'DRAINING' })));
      expect(err.name).toBe('AccessDeniedException');
      expect(err.message).toContain(`ecs:UpdateContainerInstancesState on resource: ${arns[1]} because`);
      const described = await h.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }));
      expect(described.containerInstances!.map(ci => ci.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE']);
      expect(h.events.length).toBe(eventsBefore);
      await client.send(new UpdateContainerInstancesStateCommand({ cluster, containerInstances: [arns[0]], status: 'DRAINING' }));
      [client, unused].forEach(c => c.destroy());
    });

    test('an explicit deny wins over an allow, in its own words', async () => {
      const { ecs: client, autoScaling: unused } = principalWith('denied', [
        { Effect: 'Allow', Action: 'ecs:*', Resource: '*' },
        { Effect: 'Deny', Action: 'ecs:DeregisterContainerInstance', Resource: '*' },
      ]);
      const err = await failure(client.send(new DeregisterContainerInstanceCommand({ cluster, containerInstance: arns[0], force: true })));
      expect(err.message).toBe(`User: ${others.denied.arn} is not authorized to perform: ecs:DeregisterContainerInstance on resource: `
        + `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${cluster} with an explicit deny in an identity-based policy`);
      await client.send(new ListContainerInstancesCommand({ cluster }));
      [client, unused].forEach(c => c.destroy());
    });

    test('an Auto Scaling action without resource types is refused without "on resource"', async () => {
      const { ecs: unused, autoScaling: client } = principalWith('ecsOnly', [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }]);
      const err = await failure(client.send(new DescribeAutoScalingGroupsCommand({})));
      expect(err.name).toBe('AccessDenied');
      expect(err.message).toBe(`User: ${others.ecsOnly.arn} is not authorized to perform: autoscaling:DescribeAutoScalingGroups `
        + 'because no identity-based policy allows the autoscaling:DescribeAutoScalingGroups action');
      [client, unused].forEach(c => c.destroy());
    });
  });
});

describe('order of admission', () => {
  test('throttling comes first: a refused call spends a token like any other', async () => {
    const h = await startHarness({ throttling: { capacity: 1, refillPerSecond: 0.001 } });
    try {
      h.emulator.createCluster('c');
      h.emulator.identify = () => ({
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/r/f`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/r`,
        policies: [parsePolicy('none', { Statement: [{ Effect: 'Allow', Action: 'autoscaling:*', Resource: '*' }] })],
      });
      const { ecs: client, autoScaling: unused } = clientsOf(h.endpoint, 'f#1');
      expect((await failure(client.send(new ListContainerInstancesCommand({ cluster: 'c' })))).name).toBe('AccessDeniedException');
      expect((await failure(client.send(new ListContainerInstancesCommand({ cluster: 'c' })))).name).toBe('ThrottlingException');
      expect(h.emulator.stats).toMatchObject({ totalDenied: 1, totalThrottled: 1 });
      [client, unused].forEach(c => c.destroy());
    } finally {
      h.close();
    }
  });
});

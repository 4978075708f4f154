/**
 * What the emulator asks IAM for each operation it serves: the action, the resource ARNs and the
 * condition keys of the Service Authorization Reference ("Actions, resources, and condition keys
 * for Amazon Elastic Container Service" / "... for Amazon EC2 Auto Scaling").
 */
import { SimClock } from '../../sim/clock';
import { AwsEmulator } from '../../sim/emulator';
import { Authorizer } from '../../sim/emulator/iam/authorizer';
import { parsePolicy } from '../../sim/emulator/iam/policy';

const ACCOUNT = '123456789012';
const ECS = `arn:aws:ecs:us-east-1:${ACCOUNT}`;
const CLUSTER = `${ECS}:cluster/prod`;
const ci = (id: string) => `${ECS}:container-instance/prod/${id}`;
const task = (id: string) => `${ECS}:task/prod/${id}`;

let emulator: AwsEmulator;
let groupArn: string;
let instanceId: string;

beforeEach(() => {
  emulator = new AwsEmulator({ clock: new SimClock(), seed: 3, throttling: false });
  emulator.createCluster('prod');
  groupArn = emulator.createAutoScalingGroup({ name: 'web', minSize: 0, maxSize: 10, desiredCapacity: 0 });
  instanceId = emulator.launchInstance('web', { cluster: 'prod' });
});

afterEach(() => emulator.close());

test('every operation the emulator serves has an authorization rule', () => {
  const served = emulator.servedOperations;
  const missing = [
    ...served.ecs.filter(op => emulator.authorizationRequest('ecs', op, {}) === undefined).map(op => `ecs:${op}`),
    ...served.autoscaling.filter(op => emulator.authorizationRequest('autoscaling', op, new Map()) === undefined).map(op => `autoscaling:${op}`),
    // EventBridge PutEvents is authorized per entry: the rule's input is one entry.
    ...served.events.filter(op => emulator.authorizationRequest('events', op, {}) === undefined).map(op => `events:${op}`),
  ];
  expect(missing).toEqual([]);
  expect(served.ecs.length).toBeGreaterThanOrEqual(12);
  expect(served.autoscaling.length).toBeGreaterThanOrEqual(6);
});

describe('ECS', () => {
  const request = (operation: string, input: Record<string, unknown>) => emulator.authorizationRequest('ecs', operation, input);
  const inCluster = { 'ecs:cluster': CLUSTER };

  test('ListTasks with a container instance: that container instance, with ecs:cluster', () => {
    expect(request('ListTasks', { cluster: 'prod', containerInstance: 'abc' })).toEqual({
      action: 'ecs:ListTasks', resources: [ci('abc')], context: inCluster, namesResource: true,
    });
    expect(request('ListTasks', { cluster: CLUSTER, containerInstance: ci('abc') })).toMatchObject({ resources: [ci('abc')], context: inCluster });
  });

  test('ListTasks without a container instance: resource * (cdklabs/construct-hub#1207), still with ecs:cluster', () => {
    expect(request('ListTasks', { cluster: 'prod', desiredStatus: 'STOPPED' })).toEqual({
      action: 'ecs:ListTasks', resources: ['*'], context: inCluster, namesResource: true,
    });
  });

  test('no cluster parameter: the default cluster', () => {
    expect(request('ListTasks', {})).toMatchObject({ context: { 'ecs:cluster': `${ECS}:cluster/default` } });
    expect(request('ListContainerInstances', {})).toMatchObject({ resources: [`${ECS}:cluster/default`] });
  });

  test.each(['DeregisterContainerInstance', 'ListContainerInstances', 'ListAttributes', 'RegisterContainerInstance'])(
    '%s: the cluster, no ecs:cluster key', operation => {
      expect(request(operation, { cluster: 'prod', containerInstance: 'abc' })).toEqual({
        action: `ecs:${operation}`, resources: [CLUSTER], context: {}, namesResource: true,
      });
    });

  test('DescribeServices: every service ARN (names completed with the cluster), with ecs:cluster', () => {
    const service = (name: string) => `${ECS}:service/prod/${name}`;
    expect(request('DescribeServices', { cluster: 'prod', services: ['web', service('api')] })).toEqual({
      action: 'ecs:DescribeServices', resources: [service('web'), service('api')], context: inCluster, namesResource: true,
    });
  });

  test('DescribeTasks: every task ARN (ids completed with the cluster), with ecs:cluster', () => {
    expect(request('DescribeTasks', { cluster: 'prod', tasks: ['t1', task('t2')] })).toEqual({
      action: 'ecs:DescribeTasks', resources: [task('t1'), task('t2')], context: inCluster, namesResource: true,
    });
  });

  test('StopTask: the task; UpdateContainerAgent: the container instance', () => {
    expect(request('StopTask', { cluster: 'prod', task: 't1' })).toMatchObject({ resources: [task('t1')], context: inCluster });
    expect(request('UpdateContainerAgent', { cluster: 'prod', containerInstance: 'abc' })).toMatchObject({ resources: [ci('abc')], context: inCluster });
  });

  test('DescribeContainerInstances with 100 and UpdateContainerInstancesState with 10: each container instance', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => `id${i}`);
    expect(request('DescribeContainerInstances', { cluster: 'prod', containerInstances: hundred })?.resources).toEqual(hundred.map(ci));
    const ten = hundred.slice(0, 10);
    expect(request('UpdateContainerInstancesState', { cluster: 'prod', containerInstances: ten, status: 'DRAINING' }))
      .toEqual({ action: 'ecs:UpdateContainerInstancesState', resources: ten.map(ci), context: inCluster, namesResource: true });
  });

  test('PutAttributes and DeleteAttributes: the targets of the attributes', () => {
    const attributes = [
      { name: 'a', value: '1', targetType: 'container-instance', targetId: ci('x') },
      { name: 'b', value: '2', targetType: 'container-instance', targetId: 'y' },
      { name: 'c', value: '3', targetType: 'container-instance', targetId: ci('x') },
    ];
    for (const operation of ['PutAttributes', 'DeleteAttributes']) {
      expect(request(operation, { cluster: 'prod', attributes })).toEqual({
        action: `ecs:${operation}`, resources: [ci('x'), ci('y')], context: inCluster, namesResource: true,
      });
    }
  });

  test('a request naming none of its resources is authorized on *', () => {
    expect(request('DescribeContainerInstances', { cluster: 'prod' })).toMatchObject({ resources: ['*'] });
  });
});

describe('Auto Scaling', () => {
  const request = (action: string, params: Record<string, string>) =>
    emulator.authorizationRequest('autoscaling', action, new Map(Object.entries(params)));

  test.each(['DescribeAutoScalingGroups', 'DescribeAutoScalingInstances'])('%s: no resource type, so *, not named in a refusal', action => {
    expect(request(action, { 'AutoScalingGroupNames.member.1': 'web' })).toEqual({
      action: `autoscaling:${action}`, resources: ['*'], context: {}, namesResource: false,
    });
  });

  test.each(['CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat', 'SetDesiredCapacity'])('%s: the group ARN (with its id)', action => {
    expect(groupArn).toMatch(/:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/web$/);
    expect(request(action, { AutoScalingGroupName: 'web', LifecycleHookName: 'h', InstanceId: instanceId })).toEqual({
      action: `autoscaling:${action}`, resources: [groupArn], context: {}, namesResource: true,
    });
  });

  test('TerminateInstanceInAutoScalingGroup: the group of the instance', () => {
    expect(request('TerminateInstanceInAutoScalingGroup', { InstanceId: instanceId, ShouldDecrementDesiredCapacity: 'true' }))
      .toMatchObject({ resources: [groupArn] });
    expect(request('TerminateInstanceInAutoScalingGroup', { InstanceId: 'i-unknown' })).toMatchObject({ resources: ['*'] });
  });

  test('a group that does not exist is authorized by its name', () => {
    expect(request('CompleteLifecycleAction', { AutoScalingGroupName: 'gone' })).toMatchObject({
      resources: [`arn:aws:autoscaling:us-east-1:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/gone`],
    });
  });
});

describe('Authorizer', () => {
  const scope = { region: 'us-east-1', accountId: ACCOUNT, autoScalingGroupArn: () => undefined, groupOfInstance: () => undefined };
  const principal = {
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/r/f`,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/r`,
    policies: [parsePolicy('p', { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })],
  };

  test('an operation without a rule is refused, loudly, even under an allow-all policy', () => {
    const authorizer = new Authorizer(scope);
    authorizer.identify = () => principal;
    expect(authorizer.authorize('req#1', 'ecs', 'RunTask', () => ({}))).toMatchObject({
      decision: 'no-rule', action: 'ecs:RunTask', message: expect.stringContaining('no IAM authorization rule for ecs:RunTask'),
    });
  });

  test('without a principal resolver, or without an invocation, nothing is checked', () => {
    const authorizer = new Authorizer(scope);
    expect(authorizer.authorize('req#1', 'ecs', 'RunTask', () => ({}))).toBeUndefined();
    authorizer.identify = () => principal;
    expect(authorizer.authorize(undefined, 'ecs', 'RunTask', () => ({}))).toBeUndefined();
  });

  test('an invocation nobody knows is an error, not an administrator', () => {
    const authorizer = new Authorizer(scope);
    authorizer.identify = () => undefined;
    expect(() => authorizer.authorize('req#9', 'ecs', 'ListTasks', () => ({}))).toThrow(/no known principal/);
  });

  test('global keys: aws:PrincipalArn is the role, aws:PrincipalAccount and aws:RequestedRegion', () => {
    const authorizer = new Authorizer(scope);
    authorizer.identify = () => ({
      ...principal,
      policies: [parsePolicy('p', {
        Statement: [{
          Effect: 'Allow',
          Action: 'ecs:ListTasks',
          Resource: '*',
          Condition: { ArnEquals: { 'aws:PrincipalArn': principal.roleArn }, StringEquals: { 'aws:PrincipalAccount': ACCOUNT, 'aws:RequestedRegion': 'us-east-1' } },
        }],
      })],
    });
    expect(authorizer.authorize('req#1', 'ecs', 'ListTasks', () => ({ cluster: 'prod' }))).toBeUndefined();
  });
});

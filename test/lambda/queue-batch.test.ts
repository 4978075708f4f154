/**
 * Events from the construct's SQS queue: one invocation for a batch of them (Lambda developer
 * guide, "Using Lambda with Amazon SQS"), read with shared, batched calls, and a partial batch
 * response naming only the messages whose instance failed ("Implementing partial batch responses").
 */
import { CompleteLifecycleActionCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DeregisterContainerInstanceCommand, DescribeContainerInstancesCommand, ListContainerInstancesCommand, PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import {
  autoScalingMock, ciArn, drainRecord, ecsMock, GROUP, harness, lifecycleEvent, parseInstanceFilter, queueBatch, stageWorld, taskArn,
  taskStoppedEvent,
} from './fixtures';

const IDS = ['i-00000000000000001', 'i-00000000000000002', 'i-00000000000000003'];

describe('a batch of lifecycle actions', () => {
  beforeEach(() => stageWorld({
    instances: IDS.map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState: 'Terminating:Wait' })),
    containerInstances: IDS.map(id => ({ arn: ciArn(`ci-${id}`), ec2InstanceId: id, status: 'ACTIVE', running: 2 })),
  }));

  test('starts every drain with one listing, one describe, one DRAINING call and one record write', async () => {
    const h = harness();
    const result = await h.controller.handle(queueBatch(...IDS.map(id => lifecycleEvent(id))));

    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => parseInstanceFilter(c.args[0].input.filter).sort())).toEqual([IDS]);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(1);
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances!.length)).toEqual([3]);
    expect(ecsMock.commandCalls(PutAttributesCommand).map(c => c.args[0].input.attributes!.length)).toEqual([3]);
    expect(result).toMatchObject({ trigger: 'queue', outcomes: { draining: 3 }, errors: 0, batchItemFailures: [] });
  });

  test('copies of one event in a batch start one drain', async () => {
    const h = harness();
    const result = await h.controller.handle(queueBatch(lifecycleEvent(IDS[0]), lifecycleEvent(IDS[0])));

    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances)).toEqual([[ciArn(`ci-${IDS[0]}`)]]);
    expect(ecsMock.commandCalls(PutAttributesCommand)).toHaveLength(1);
    expect(result).toMatchObject({ outcomes: { draining: 1 }, batchItemFailures: [] });
  });

  test('a message that is not an event is ignored with one line, and not delivered again', async () => {
    const h = harness();
    const result = await h.controller.handle(queueBatch('not json', lifecycleEvent(IDS[0])));

    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'info', message: 'event ignored: queue message body is not JSON' }));
    expect(result).toMatchObject({ outcomes: { draining: 1 }, batchItemFailures: [] });
  });
});

describe('a batch of stopped tasks', () => {
  const [a, b, c] = IDS;

  beforeEach(() => stageWorld({
    instances: IDS.map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState: 'Terminating:Wait' })),
    containerInstances: [
      // a and b: their last task stopped; c still runs one
      { arn: ciArn('a'), ec2InstanceId: a, status: 'DRAINING', attributes: drainRecord(300), tasks: [{ arn: taskArn('a1'), lastStatus: 'STOPPED' }] },
      { arn: ciArn('b'), ec2InstanceId: b, status: 'DRAINING', attributes: drainRecord(300), tasks: [{ arn: taskArn('b1'), lastStatus: 'STOPPED' }] },
      { arn: ciArn('c'), ec2InstanceId: c, status: 'DRAINING', attributes: drainRecord(300), running: 1, tasks: [{ arn: taskArn('c1'), lastStatus: 'RUNNING' }] },
    ],
  }));

  test('reads the registrations of all once, asks Auto Scaling once for those empty, and releases them', async () => {
    const h = harness();
    const result = await h.controller.handle(queueBatch(
      taskStoppedEvent(ciArn('a')), taskStoppedEvent(ciArn('b')), taskStoppedEvent(ciArn('c')), taskStoppedEvent(ciArn('a')),
    ));

    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand).map(call => call.args[0].input.containerInstances!.sort())).toEqual([
      [ciArn('a'), ciArn('b'), ciArn('c')].sort(),
    ]);
    const asked = autoScalingMock.commandCalls(DescribeAutoScalingInstancesCommand).map(call => call.args[0].input.InstanceIds!.sort());
    expect(asked).toEqual([[a, b].sort()]);
    const listed = ecsMock.commandCalls(ListContainerInstancesCommand).map(call => parseInstanceFilter(call.args[0].input.filter).sort());
    expect(listed).toEqual([[a, b].sort()]);
    const deregistered = ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(call => call.args[0].input.containerInstance);
    expect(deregistered.sort()).toEqual([ciArn('a'), ciArn('b')].sort());
    const completed = autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(call => call.args[0].input.InstanceId);
    expect(completed.sort()).toEqual([a, b].sort());
    expect(result).toMatchObject({ outcomes: { drained: 2 }, errors: 0, batchItemFailures: [] });
  });

  test('names for delivery again only the messages of the instance whose release failed', async () => {
    ecsMock.on(DeregisterContainerInstanceCommand, { containerInstance: ciArn('b') })
      .rejects(Object.assign(new Error('We encountered an internal error'), { name: 'ServerException', $fault: 'server' }));
    const h = harness();
    const result = await h.controller.handle(queueBatch(taskStoppedEvent(ciArn('a')), taskStoppedEvent(ciArn('b')), taskStoppedEvent(ciArn('b'))));

    expect(result).toMatchObject({ outcomes: { drained: 1 }, errors: 1, batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
  });

  test('a throttled shared read leaves the whole batch to the reconcile pass: nothing is delivered again', async () => {
    ecsMock.on(DescribeContainerInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const h = harness({}, undefined, { deferOnThrottling: true });
    const result = await h.controller.handle(queueBatch(taskStoppedEvent(ciArn('a')), taskStoppedEvent(ciArn('b'))));

    expect(result).toMatchObject({ deferred: 2, errors: 0, batchItemFailures: [] });
  });

  test('without deferOnThrottling, a failed shared read names every message of its group, and only those', async () => {
    // The stopped tasks' describe fails; the lifecycle action's own lookup does not.
    ecsMock.on(DescribeContainerInstancesCommand, { containerInstances: [ciArn('a'), ciArn('b')] })
      .rejects(Object.assign(new Error('We encountered an internal error'), { name: 'ServerException' }));
    const h = harness();
    const result = await h.controller.handle(queueBatch(taskStoppedEvent(ciArn('a')), lifecycleEvent(a), taskStoppedEvent(ciArn('b'))));

    expect(result).toMatchObject({ batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm2' }] });
  });
});

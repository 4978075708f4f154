/**
 * The drain of one terminating instance, driven by its lifecycle action event: lookup, DRAINING
 * (ECS's answer is the fresh read), drain record, "drained" check, deregistration, completion,
 * deadline, heartbeat and races.
 */
import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  PutAttributesCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import {
  autoScalingMock, callSequence, ciArn, drainRecord, drainRecordValue, ecsClientException, ecsMock, FakeContainerInstance, GROUP, harness, HOOK,
  INSTANCE, lifecycleEvent, mutatingCalls, noActiveLifecycleAction, NOW, stageWorld, taskArn,
} from './fixtures';
import { ATTRIBUTE, METRIC } from '../../src/constants';

const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');
const TERMINATING = { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' };

function stageTerminating(ci: Partial<FakeContainerInstance> = {}): void {
  stageWorld({
    instances: [TERMINATING],
    containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(60), ...ci }],
  });
}

/** The mutating calls other than the (idempotent) DRAINING a lifecycle action event always sends. */
function changesBeyondDraining() {
  return mutatingCalls().filter(c => c.command !== 'UpdateContainerInstancesStateCommand');
}

const completeInput = {
  AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: INSTANCE, LifecycleActionResult: 'CONTINUE',
};

beforeEach(() => stageWorld());

describe('lookup of the container instances of an EC2 instance', () => {
  test('queries the cluster with the ec2InstanceId filter and sets every listed registration DRAINING at once', async () => {
    // GIVEN two live registrations and an INACTIVE old one (which ECS does not list) of the terminating instance
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [
        { arn: ciArn('new'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 },
        { arn: ciArn('older'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
        { arn: ciArn('gone'), ec2InstanceId: INSTANCE, status: 'INACTIVE' },
      ],
    });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN the query used the filter, only the live registrations are drained, in one call
    expect(ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input)).toEqual([
      { cluster: 'my-cluster', filter: `ec2InstanceId in [${INSTANCE}]`, maxResults: 100, nextToken: undefined },
    ]);
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input)).toEqual([
      { cluster: 'my-cluster', containerInstances: [ciArn('new'), ciArn('older')], status: 'DRAINING' },
    ]);
    expect(summary).toEqual({ trigger: 'lifecycle-action', outcomes: { draining: 1 }, errors: 0, deferred: 0 });
  });

  test('trusts the event and ECS\'s answer: no Auto Scaling read and no DescribeContainerInstances', async () => {
    // GIVEN a terminating instance with one ACTIVE registration with tasks
    stageTerminating({ status: 'ACTIVE', running: 2, attributes: {} });
    const h = harness();

    // WHEN its lifecycle action arrives
    await h.controller.handle(lifecycleEvent());

    // THEN list, DRAINING, record: three calls in all
    expect(callSequence()).toEqual(['ListContainerInstances', 'UpdateContainerInstancesState', 'PutAttributes']);
    expect(autoScalingMock.commandCalls(DescribeAutoScalingInstancesCommand)).toHaveLength(0);
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand)).toHaveLength(0);
  });
});

describe('an instance that is not in the cluster', () => {
  test('completes the lifecycle action at once with CONTINUE, by InstanceId and the hook name', async () => {
    // GIVEN a terminating instance with no container instance
    stageWorld({ instances: [TERMINATING] });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN the listing finds nothing and the action is completed: two calls in all
    expect(callSequence()).toEqual(['ListContainerInstances', 'CompleteLifecycleAction']);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input)).toEqual([completeInput]);
    expect(summary.outcomes).toEqual({ 'not-registered': 1 });
  });

  test('counts an instance whose only registration is INACTIVE as not registered', async () => {
    // GIVEN an instance that was deregistered already
    stageTerminating({ status: 'INACTIVE' });
    const h = harness();

    // WHEN its lifecycle action arrives
    await h.controller.handle(lifecycleEvent());

    // THEN the INACTIVE registration is ignored and the action completed without deregistering
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand)).toHaveLength(0);
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand)).toHaveLength(0);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
  });

  test('completes at once when the listed registration left the cluster before DRAINING (ECS answers a failure)', async () => {
    // GIVEN ECS lists the registration, but answers the DRAINING call with a MISSING failure for it
    stageTerminating({ status: 'ACTIVE', running: 1, attributes: {} });
    ecsMock.on(UpdateContainerInstancesStateCommand).resolves({ containerInstances: [], failures: [{ arn: CI, reason: 'MISSING' }] });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN the failure is logged, nothing is recorded, and the action is completed
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', containerInstanceArn: CI, reason: 'MISSING' }));
    expect(changesBeyondDraining().map(c => c.command)).toEqual(['CompleteLifecycleActionCommand']);
    expect(summary).toMatchObject({ outcomes: { 'not-registered': 1 }, errors: 0 });
  });
});

describe('starting a drain', () => {
  test('sets DRAINING and records deadline, start and registration count in the one drain attribute', async () => {
    // GIVEN an ACTIVE container instance with tasks and no drain record
    stageTerminating({ status: 'ACTIVE', running: 3, attributes: {} });
    const h = harness();

    // WHEN its lifecycle action arrives
    await h.controller.handle(lifecycleEvent());

    // THEN DRAINING is set, and the deadline is NOW + drain timeout, in epoch seconds
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input)).toEqual([
      { cluster: 'my-cluster', containerInstances: [CI], status: 'DRAINING' },
    ]);
    expect(ecsMock.commandCalls(PutAttributesCommand).map(c => c.args[0].input)).toEqual([{
      cluster: 'my-cluster',
      attributes: [{ name: ATTRIBUTE.DRAIN, value: drainRecordValue(NOW / 1000 + 3600, NOW / 1000, 1), targetType: 'container-instance', targetId: CI }],
    }]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand)).toHaveLength(0);
  });

  test('records the number of registrations drained together on each of them', async () => {
    // GIVEN two ACTIVE registrations of the terminating instance
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [
        { arn: ciArn('a'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
        { arn: ciArn('b'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
      ],
    });
    const h = harness();

    // WHEN its lifecycle action arrives
    await h.controller.handle(lifecycleEvent());

    // THEN both carry the same record saying registrations:2, written in one call
    const value = drainRecordValue(NOW / 1000 + 3600, NOW / 1000, 2);
    expect(ecsMock.commandCalls(PutAttributesCommand).map(c => c.args[0].input.attributes)).toEqual([[
      { name: ATTRIBUTE.DRAIN, value, targetType: 'container-instance', targetId: ciArn('a') },
      { name: ATTRIBUTE.DRAIN, value, targetType: 'container-instance', targetId: ciArn('b') },
    ]]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
  });

  test('reads the failures array of UpdateContainerInstancesState, logs each failure, and drains what ECS answered', async () => {
    // GIVEN two registrations, and ECS answering the DRAINING call with a failure for one of them
    stageWorld({
      instances: [TERMINATING],
      containerInstances: [
        { arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
        { arn: ciArn('gone'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 },
      ],
    });
    ecsMock.on(UpdateContainerInstancesStateCommand).resolves({
      containerInstances: [{ containerInstanceArn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', runningTasksCount: 1, pendingTasksCount: 0 }],
      failures: [{ arn: ciArn('gone'), reason: 'MISSING', detail: 'gone meanwhile' }],
    });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN the failure is one warn line naming the container instance, the other one is recorded, and the invocation succeeds
    expect(h.logs()).toContainEqual(expect.objectContaining({
      level: 'warn', containerInstanceArn: ciArn('gone'), reason: 'MISSING', detail: 'gone meanwhile', cluster: 'my-cluster',
    }));
    expect(ecsMock.commandCalls(PutAttributesCommand).flatMap(c => c.args[0].input.attributes!.map(a => a.targetId))).toEqual([CI]);
    expect(summary).toEqual({ trigger: 'lifecycle-action', outcomes: { draining: 1 }, errors: 0, deferred: 0 });
  });

  test('a failure of another reason than MISSING or INACTIVE is read again: a registration still running tasks keeps the instance waiting', async () => {
    // GIVEN one registration with a running task, and ECS refusing DRAINING for an unexpected reason
    stageWorld({ instances: [TERMINATING], containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 1 }] });
    ecsMock.on(UpdateContainerInstancesStateCommand).resolves({ failures: [{ arn: CI, reason: 'AGENT_BUSY', detail: 'try later' }] });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN the registration is described (and DRAINING asked again, as it is still ACTIVE),
    // found running, and the action is not completed
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand).length).toBeGreaterThanOrEqual(1);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('a duplicate event sets DRAINING again (idempotent) but does not rewrite the record of a drain already started', async () => {
    // GIVEN a DRAINING container instance with a drain record
    stageTerminating({ running: 1 });
    const h = harness();

    // WHEN the lifecycle action is delivered again
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN only the DRAINING call, which changes nothing
    expect(mutatingCalls().map(c => c.command)).toEqual(['UpdateContainerInstancesStateCommand']);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([]);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });
});

describe('when is an instance drained', () => {
  test.each([
    ['running tasks', { running: 2, pending: 0 }],
    ['pending tasks', { running: 0, pending: 1 }],
  ])('is not drained while it has %s, and the tasks are not even listed', async (_name, counts) => {
    // GIVEN a draining container instance with tasks by its counts
    stageTerminating(counts);
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN it is left draining
    expect(summary.outcomes).toEqual({ draining: 1 });
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
    expect(changesBeyondDraining()).toEqual([]);
  });

  test.each(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING'])(
    'is not drained when its counts are 0 but a task is still %s',
    async lastStatus => {
      // GIVEN counts of 0, and a task whose lastStatus is not STOPPED yet (aws/aws-cdk#13506)
      stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus }, { arn: taskArn('t2'), lastStatus: 'STOPPED' }] });
      const h = harness();

      // WHEN its lifecycle action arrives
      const summary = await h.controller.handle(lifecycleEvent());

      // THEN the tasks were read with desiredStatus STOPPED, and it is not released
      expect(ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input)).toEqual([
        { cluster: 'my-cluster', containerInstance: CI, desiredStatus: 'STOPPED', nextToken: undefined },
      ]);
      expect(ecsMock.commandCalls(DescribeTasksCommand)[0].args[0].input.tasks).toEqual([taskArn('t1'), taskArn('t2')]);
      expect(summary.outcomes).toEqual({ draining: 1 });
      expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand)).toHaveLength(0);
      expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(0);
    },
  );

  test('is drained when every task is STOPPED: deregisters without force, then completes with CONTINUE', async () => {
    // GIVEN counts of 0 and only STOPPED tasks
    stageTerminating({ tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN deregister (force=false) comes before CompleteLifecycleAction, and the record is not rewritten
    expect(callSequence()).toEqual([
      'ListContainerInstances', 'UpdateContainerInstancesState', 'ListTasks', 'DescribeTasks', 'DeregisterContainerInstance', 'CompleteLifecycleAction',
    ]);
    expect(changesBeyondDraining()).toEqual([
      { command: 'DeregisterContainerInstanceCommand', input: { cluster: 'my-cluster', containerInstance: CI, force: false } },
      { command: 'CompleteLifecycleActionCommand', input: completeInput },
    ]);
    expect(summary.outcomes).toEqual({ drained: 1 });
    expect(h.metricValues(METRIC.DRAINS_COMPLETED)).toEqual([1]);
    expect(h.metricValues(METRIC.DRAIN_DURATION)).toEqual([60]);
  });

  test('an ACTIVE instance whose tasks all STOPPED is set DRAINING, recorded and released in the same invocation', async () => {
    // GIVEN an ACTIVE container instance with counts 0 and one STOPPED task, and no drain record
    stageTerminating({ status: 'ACTIVE', attributes: {}, tasks: [{ arn: taskArn('t1'), lastStatus: 'STOPPED' }] });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN it goes all the way: list, DRAINING (ECS's answer is the read), record, tasks, deregister, complete
    expect(callSequence()).toEqual([
      'ListContainerInstances', 'UpdateContainerInstancesState', 'PutAttributes', 'ListTasks', 'DescribeTasks',
      'DeregisterContainerInstance', 'CompleteLifecycleAction',
    ]);
    expect(summary.outcomes).toEqual({ drained: 1 });
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
    expect(h.metricValues(METRIC.DRAINS_COMPLETED)).toEqual([1]);
    expect(h.metricValues(METRIC.DRAIN_DURATION)).toEqual([0]);
  });
});

describe('deregistration', () => {
  test('falls back to force=true when the deregistration without force fails', async () => {
    // GIVEN a drained instance whose deregistration without force is refused
    stageTerminating();
    ecsMock.on(DeregisterContainerInstanceCommand, { force: false }).rejects(ecsClientException('The container instance has tasks'));
    const h = harness();

    // WHEN its lifecycle action arrives
    await h.controller.handle(lifecycleEvent());

    // THEN force=true follows, then completion
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.force)).toEqual([false, true]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', message: 'container instance deregistered with force', instanceId: INSTANCE }));
  });

  test('counts an instance that another invocation deregistered (describe says INACTIVE) as deregistered', async () => {
    // GIVEN deregistration fails and the container instance turns out INACTIVE on a second look
    stageTerminating();
    ecsMock.on(DeregisterContainerInstanceCommand).rejects(ecsClientException('The referenced container instance is not active'));
    ecsMock.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [{ containerInstanceArn: CI, status: 'INACTIVE' }] });
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN the only describe is that second look, no force retry, the action is completed, and no error
    expect(ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances)).toEqual([[CI]]);
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand).map(c => c.args[0].input.force)).toEqual([false]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand)).toHaveLength(1);
    expect(summary).toMatchObject({ outcomes: { drained: 1 }, errors: 0 });
  });
});

describe('the drain deadline', () => {
  test('when it has passed, force-deregisters with tasks still running and completes', async () => {
    // GIVEN a drain started 2 hours ago with a 1 hour timeout, tasks still running
    stageTerminating({ running: 4, attributes: drainRecord(7200) });
    const h = harness();

    // WHEN the lifecycle action is looked at
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN deregister with force, complete, and DrainsForced; no task is read
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
    expect(changesBeyondDraining()).toEqual([
      { command: 'DeregisterContainerInstanceCommand', input: { cluster: 'my-cluster', containerInstance: CI, force: true } },
      { command: 'CompleteLifecycleActionCommand', input: completeInput },
    ]);
    expect(summary.outcomes).toEqual({ forced: 1 });
    expect(h.metricValues(METRIC.DRAINS_FORCED)).toEqual([1]);
    expect(h.metricValues(METRIC.DRAIN_DURATION)).toEqual([7200]);
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', outcome: 'forced', instanceId: INSTANCE, groupName: GROUP }));
  });

  test('with forceDeregisterOnTimeout=false, completes without deregistering', async () => {
    // GIVEN the same overdue drain, and force turned off
    stageTerminating({ running: 4, attributes: drainRecord(7200) });
    const h = harness({ forceDeregisterOnTimeout: false });

    // WHEN the lifecycle action is looked at
    await h.controller.handle(lifecycleEvent());

    // THEN only the completion
    expect(changesBeyondDraining()).toEqual([{ command: 'CompleteLifecycleActionCommand', input: completeInput }]);
    expect(h.metricValues(METRIC.DRAINS_FORCED)).toEqual([1]);
  });

  test('is not passed one second before it', async () => {
    // GIVEN a drain whose deadline is one second away
    stageTerminating({ running: 4, attributes: drainRecord(3599) });
    const h = harness();

    // WHEN the lifecycle action is looked at
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN still draining
    expect(summary.outcomes).toEqual({ draining: 1 });
    expect(changesBeyondDraining()).toEqual([]);
  });
});

describe('lifecycle heartbeats', () => {
  const SHORT_HOOK = { heartbeatTimeoutSeconds: 600, drainTimeoutSeconds: 3600 };

  test('are sent when the hook times out before the deadline and half of its timeout passed since the drain started', async () => {
    // GIVEN a 10 minute hook, a 1 hour drain started 5 minutes ago
    stageTerminating({ running: 1, attributes: drainRecord(300) });
    const h = harness(SHORT_HOOK);

    // WHEN the instance is looked at
    await h.controller.handle(lifecycleEvent());

    // THEN a heartbeat is sent and its time recorded
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand).map(c => c.args[0].input)).toEqual([
      { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: INSTANCE },
    ]);
    expect(ecsMock.commandCalls(PutAttributesCommand).flatMap(c => c.args[0].input.attributes)).toEqual([
      { name: ATTRIBUTE.HEARTBEAT, value: String(NOW / 1000), targetType: 'container-instance', targetId: CI },
    ]);
  });

  test('are sent again once half the timeout passed since the last heartbeat', async () => {
    // GIVEN the last heartbeat 5 minutes ago, of a drain started 40 minutes ago
    stageTerminating({ running: 1, attributes: drainRecord(2400, 3600, 300) });
    const h = harness(SHORT_HOOK);

    // WHEN the instance is looked at
    await h.controller.handle(lifecycleEvent());

    // THEN a heartbeat is sent
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand)).toHaveLength(1);
  });

  test.each([
    ['less than half the hook timeout passed since the last heartbeat', SHORT_HOOK, drainRecord(2400, 3600, 299)],
    ['less than half the hook timeout passed since the drain started', SHORT_HOOK, drainRecord(299)],
    ['the hook outlives the drain deadline', { heartbeatTimeoutSeconds: 7200, drainTimeoutSeconds: 3600 }, drainRecord(3500)],
    ['the hook, beaten half its timeout ago, lasts until the deadline anyway', SHORT_HOOK, drainRecord(3300, 3600, 300)],
  ])('are not sent when %s', async (_name, overrides, attributes) => {
    // GIVEN a draining instance
    stageTerminating({ running: 1, attributes });
    const h = harness(overrides);

    // WHEN the instance is looked at
    await h.controller.handle(lifecycleEvent());

    // THEN no heartbeat
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand)).toHaveLength(0);
    expect(changesBeyondDraining()).toEqual([]);
  });

  test('a heartbeat answered "no active lifecycle action" is no error', async () => {
    // GIVEN the lifecycle action is already over
    stageTerminating({ running: 1, attributes: drainRecord(300) });
    autoScalingMock.on(RecordLifecycleActionHeartbeatCommand).rejects(noActiveLifecycleAction(INSTANCE));
    const h = harness(SHORT_HOOK);

    // WHEN the instance is looked at
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN it is logged as such and the invocation succeeds
    expect(summary.errors).toBe(0);
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'lifecycle heartbeat sent', answer: 'no-active-action', instanceId: INSTANCE }));
  });
});

describe('races with other invocations', () => {
  test('"No active Lifecycle Action found" on completion counts as done', async () => {
    // GIVEN a drained instance whose action another invocation completed
    stageTerminating();
    autoScalingMock.on(CompleteLifecycleActionCommand).rejects(noActiveLifecycleAction(INSTANCE));
    const h = harness();

    // WHEN its lifecycle action is looked at
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN no error
    expect(summary).toMatchObject({ outcomes: { drained: 1 }, errors: 0 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'lifecycle action was already over', instanceId: INSTANCE }));
    expect(h.metricValues(METRIC.ERRORS)).toEqual([]);
  });

  test('another ValidationError on completion is an error', async () => {
    // GIVEN Auto Scaling refuses the completion for another reason
    stageTerminating();
    autoScalingMock.on(CompleteLifecycleActionCommand).rejects(Object.assign(noActiveLifecycleAction(INSTANCE), { message: 'Rate exceeded' }));
    const h = harness();

    // WHEN / THEN the invocation fails so Lambda retries
    await expect(h.controller.handle(lifecycleEvent())).rejects.toThrow(/1 instance\(s\) could not be handled/);
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
  });

  test('a late duplicate event, after the container instance was deregistered, only completes again: "no active action" is no error', async () => {
    // GIVEN the drain already finished: the registration is INACTIVE and the lifecycle action is over
    stageWorld({
      instances: [{ ...TERMINATING, lifecycleState: 'Terminating:Proceed' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'INACTIVE', attributes: drainRecord(600) }],
    });
    autoScalingMock.on(CompleteLifecycleActionCommand).rejects(noActiveLifecycleAction(INSTANCE));
    const h = harness();

    // WHEN a duplicate lifecycle event arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN nothing in ECS changes, and the completion's answer is logged as "already over"
    expect(callSequence()).toEqual(['ListContainerInstances', 'CompleteLifecycleAction']);
    expect(summary).toMatchObject({ outcomes: { 'not-registered': 1 }, errors: 0 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'lifecycle action was already over', instanceId: INSTANCE }));
  });

  test('a deleted cluster has no registrations: the action is completed instead of waiting out the hook', async () => {
    // GIVEN ECS answers ClusterNotFoundException
    stageTerminating({ running: 2 });
    ecsMock.on(ListContainerInstancesCommand).rejects(Object.assign(new Error('Cluster not found.'), { name: 'ClusterNotFoundException' }));
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN released as not registered
    expect(callSequence()).toEqual(['ListContainerInstances', 'CompleteLifecycleAction']);
    expect(summary).toMatchObject({ outcomes: { 'not-registered': 1 }, errors: 0 });
  });

  test('a completion answered "AutoScalingGroup name not found" (group deleted) counts as done', async () => {
    // GIVEN a drained instance whose group was deleted meanwhile
    stageTerminating();
    autoScalingMock.on(CompleteLifecycleActionCommand).rejects(Object.assign(noActiveLifecycleAction(INSTANCE), {
      message: `AutoScalingGroup name not found - AutoScalingGroup ${GROUP} not found`,
    }));
    const h = harness();

    // WHEN its lifecycle action arrives
    const summary = await h.controller.handle(lifecycleEvent());

    // THEN no error
    expect(summary).toMatchObject({ outcomes: { drained: 1 }, errors: 0 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'lifecycle action was already over', instanceId: INSTANCE }));
  });

  test('a failing listing rejects the invocation (Lambda retries) and is logged with the instance', async () => {
    // GIVEN ECS throttles the listing
    stageTerminating();
    ecsMock.on(ListContainerInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const h = harness();

    // WHEN / THEN
    await expect(h.controller.handle(lifecycleEvent())).rejects.toThrow('Rate exceeded');
    expect(h.logs()).toContainEqual(expect.objectContaining({
      level: 'error', message: 'could not handle the event', trigger: 'lifecycle-action', instanceId: INSTANCE, groupName: GROUP,
    }));
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
    expect(mutatingCalls()).toEqual([]);
  });
});

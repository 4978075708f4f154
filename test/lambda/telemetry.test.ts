/**
 * Structured logs and EMF metrics, and what happens when one instance's work fails.
 */
import { CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { ListContainerInstancesCommand, PutAttributesCommand } from '@aws-sdk/client-ecs';
import {
  autoScalingMock, ciArn, drainRecord, ecsMock, GROUP, harness, lifecycleEvent, NAMESPACE, NOW, scheduledEvent, stageWorld,
} from './fixtures';
import { Telemetry } from '../../lambda/telemetry';
import { METRIC } from '../../src/constants';

const A = 'i-0000000000000000a';
const B = 'i-0000000000000000b';
const C = 'i-0000000000000000c';

/** Three terminating instances, all drained. */
function stageThreeDrained(): void {
  stageWorld({
    instances: [A, B, C].map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState: 'Terminating:Wait' })),
    containerInstances: [A, B, C].map(id => ({ arn: ciArn(`ci-${id}`), ec2InstanceId: id, status: 'DRAINING', attributes: drainRecord(60) })),
  });
}

beforeEach(() => stageWorld());

describe('Telemetry', () => {
  test('writes log lines as one JSON object with level, message and cluster', () => {
    const lines: string[] = [];
    new Telemetry('c1', 'Ns', () => NOW, l => lines.push(l)).log('warn', 'hello', { instanceId: 'i-1', groupName: 'g' });
    expect(lines.map(l => JSON.parse(l))).toEqual([{ level: 'warn', message: 'hello', cluster: 'c1', instanceId: 'i-1', groupName: 'g' }]);
  });

  test('writes EMF records with the _aws.CloudWatchMetrics shape and the cluster dimension', () => {
    const lines: string[] = [];
    const telemetry = new Telemetry('c1', 'Ns', () => NOW, l => lines.push(l));
    telemetry.metric(METRIC.DRAIN_DURATION, 12.5, { instanceId: 'i-1' });
    telemetry.metric(METRIC.ERRORS, 1);
    expect(lines.map(l => JSON.parse(l))).toEqual([
      {
        _aws: { Timestamp: NOW, CloudWatchMetrics: [{ Namespace: 'Ns', Dimensions: [['ClusterName']], Metrics: [{ Name: 'DrainDuration', Unit: 'Seconds' }] }] },
        ClusterName: 'c1',
        DrainDuration: 12.5,
        instanceId: 'i-1',
      },
      {
        _aws: { Timestamp: NOW, CloudWatchMetrics: [{ Namespace: 'Ns', Dimensions: [['ClusterName']], Metrics: [{ Name: 'Errors', Unit: 'Count' }] }] },
        ClusterName: 'c1',
        Errors: 1,
      },
    ]);
  });
});

describe('the controller\'s telemetry', () => {
  test('every line of a reconcile pass is JSON, log lines carry level/message/cluster, and lines about an instance carry its id and group', async () => {
    // GIVEN three drained instances
    stageThreeDrained();
    const h = harness();

    // WHEN the schedule fires
    await h.controller.handle(scheduledEvent());

    // THEN
    expect(h.lines.length).toBeGreaterThan(0);
    for (const line of h.lines) expect(() => JSON.parse(line)).not.toThrow();
    for (const log of h.logs()) {
      expect(log).toMatchObject({ level: expect.stringMatching(/^(debug|info|warn|error)$/), message: expect.any(String), cluster: 'my-cluster' });
      if ('instanceId' in log) expect(log.groupName).toBe(GROUP);
    }
    const about = (id: string) => h.logs().filter(l => l.instanceId === id).map(l => l.message);
    expect(about(A)).toEqual(expect.arrayContaining(['container instance deregistered', 'lifecycle action completed', 'no task is left that is not STOPPED']));
    for (const record of h.metrics()) {
      expect(record).toMatchObject({
        _aws: { Timestamp: NOW, CloudWatchMetrics: [{ Namespace: NAMESPACE, Dimensions: [['ClusterName']], Metrics: [{ Name: expect.any(String) }] }] },
        ClusterName: 'my-cluster',
      });
      const name = (record._aws as any).CloudWatchMetrics[0].Metrics[0].Name as string;
      expect(typeof record[name]).toBe('number');
    }
    expect(h.metricValues(METRIC.DRAINS_COMPLETED)).toEqual([1, 1, 1]);
  });

  test('an error on one instance is logged with its id and counted, the others are still handled, and a pass reports it without failing', async () => {
    // GIVEN three drained instances, and Auto Scaling failing to complete B's action
    stageThreeDrained();
    autoScalingMock.on(CompleteLifecycleActionCommand, { InstanceId: B }).rejects(Object.assign(new Error('Internal failure'), { name: 'InternalFailure' }));
    const h = harness();

    // WHEN the schedule fires
    const summary = await h.controller.handle(scheduledEvent());

    // THEN the pass does not fail (the next one repeats it) but reports the error
    expect(summary).toMatchObject({ trigger: 'reconcile', errors: 1 });
    // AND B's error is logged with its id, the Errors metric emitted, and A and C completed
    expect(h.logs().filter(l => l.level === 'error')).toEqual([{
      level: 'error',
      message: 'could not release',
      cluster: 'my-cluster',
      instanceId: B,
      groupName: GROUP,
      error: { name: 'InternalFailure', message: 'Internal failure' },
    }]);
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
    expect(h.metrics().find(m => METRIC.ERRORS in m)).toMatchObject({ instanceId: B });
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.InstanceId).sort()).toEqual([A, B, C]);
    expect(h.metricValues(METRIC.DRAINS_COMPLETED)).toEqual([1, 1]);
  });

  test('an error before any instance could be handled (reading the groups) is logged as JSON and counted; the pass reports it', async () => {
    // GIVEN Auto Scaling is down
    autoScalingMock.on(DescribeAutoScalingGroupsCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' }));
    const h = harness();

    // WHEN the schedule fires
    await expect(h.controller.handle(scheduledEvent())).resolves.toMatchObject({ errors: 1 });

    // THEN one error line and the Errors metric
    expect(h.logs().filter(l => l.level === 'error')).toEqual([expect.objectContaining({
      cluster: 'my-cluster', error: { name: 'ServiceUnavailable', message: 'Service unavailable' }, trigger: 'reconcile',
    })]);
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
  });

  test('a failed drain record of a lifecycle action is logged with the instance id and rejects', async () => {
    // GIVEN an ACTIVE container instance and PutAttributes failing
    stageWorld({
      instances: [{ instanceId: A, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
      containerInstances: [{ arn: ciArn('a'), ec2InstanceId: A, status: 'ACTIVE', running: 1 }],
    });
    ecsMock.on(PutAttributesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const h = harness();

    // WHEN its lifecycle action arrives
    await expect(h.controller.handle(lifecycleEvent(A))).rejects.toThrow();

    // THEN the error line names the instance, and the Errors metric is emitted
    expect(h.logs().filter(l => l.level === 'error')).toEqual([expect.objectContaining({
      instanceId: A, error: { name: 'ThrottlingException', message: 'Rate exceeded' },
    })]);
    expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
  });

  describe('throttling of event-driven invocations (deferOnThrottling)', () => {
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    test('a throttled lifecycle action ends quietly and leaves the drain to the reconcile pass', async () => {
      // GIVEN ECS throttling the lookup, and a controller that defers on throttling
      ecsMock.on(ListContainerInstancesCommand).rejects(throttled());
      const h = harness({}, undefined, { deferOnThrottling: true });

      // WHEN a lifecycle action arrives
      const summary = await h.controller.handle(lifecycleEvent(A));

      // THEN no error: one info line, counted as deferred, no Errors metric
      expect(summary).toMatchObject({ errors: 0, deferred: 1 });
      expect(h.logs()).toContainEqual(expect.objectContaining({
        level: 'info', message: 'throttled: the reconcile pass takes this over within a minute', instanceId: A,
      }));
      expect(h.metricValues(METRIC.ERRORS)).toEqual([]);
    });

    test('a throttled completion of one instance is deferred, not an error', async () => {
      // GIVEN a drained instance whose completion is throttled
      stageThreeDrained();
      autoScalingMock.on(CompleteLifecycleActionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
      const h = harness({}, undefined, { deferOnThrottling: true });

      // WHEN its lifecycle action arrives
      const summary = await h.controller.handle(lifecycleEvent(A));

      // THEN deferred
      expect(summary).toMatchObject({ errors: 0, deferred: 1 });
    });

    test('without the option, throttling fails the invocation (Lambda retries it)', async () => {
      ecsMock.on(ListContainerInstancesCommand).rejects(throttled());
      const h = harness();
      await expect(h.controller.handle(lifecycleEvent(A))).rejects.toThrow('Rate exceeded');
      expect(h.metricValues(METRIC.ERRORS)).toEqual([1]);
    });
  });
});

/**
 * Conformance of late redeliveries: the bus's `redeliveries` fault (runtime/eventbridge.ts) on the
 * events the emulated world emits, through the real @aws-sdk clients, and the Lambda queue's
 * `duplicateRate` (runtime/lambda.ts). AWS documents at-least-once delivery: EventBridge ("Event
 * delivery from AWS services"), ECS ("Handling Amazon ECS events": at least once, maybe out of
 * order, duplicates share detail.version), Auto Scaling lifecycle events on a best-effort basis
 * (event reference), Lambda's asynchronous queue ("your function may receive the same event
 * multiple times, even if no error occurs", Lambda API reference, Invoke). Off by default.
 */
import { CompleteLifecycleActionCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { createClusterAndGroup, Harness, launchRegistered, startHarness } from './harness';
import { RuleSpec } from '../../sim/runtime/assembly';
import { BusEvent, EventBridge, EventBridgeFaults } from '../../sim/runtime/eventbridge';
import { stubAssembly } from '../e2e/stub-functions';
import { withSimulation } from '../e2e/support';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

interface Delivery {
  readonly at: number;
  readonly event: BusEvent;
}

/** An emulator whose events go to a bus with one rule (every aws.ecs and aws.autoscaling event) and a recording target. */
async function withBus(faults: EventBridgeFaults | undefined, seed = 5): Promise<{ h: Harness; bus: EventBridge; deliveries: Delivery[] }> {
  const h = await startHarness({ seed });
  const deliveries: Delivery[] = [];
  const bus = new EventBridge({
    clock: h.clock,
    seed,
    faults,
    invokeFunction: (_name, payload) => {
      deliveries.push({ at: h.clock.now(), event: payload as BusEvent });
    },
  });
  const rule: RuleSpec = {
    stackName: 'Test',
    logicalId: 'Rule',
    name: 'everything',
    arn: 'arn:aws:events:us-east-1:123456789012:rule/everything',
    eventPattern: { source: ['aws.ecs', 'aws.autoscaling'] },
    enabled: true,
    targets: [{ id: 'fn', arn: 'arn:aws:lambda:us-east-1:123456789012:function:fn', functionName: 'fn' }],
  };
  bus.addRule(rule);
  h.emulator.onEvent = event => bus.putEvent(event);
  createClusterAndGroup(h);
  h.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'drain', heartbeatTimeoutSeconds: 300, defaultResult: 'CONTINUE' });
  return { h, bus, deliveries };
}

function copiesOf(deliveries: Delivery[], id: string): Delivery[] {
  return deliveries.filter(d => d.event.id === id);
}

const lifecycle = (d: Delivery) => d.event['detail-type'] === 'EC2 Instance-terminate Lifecycle Action';

describe('EventBridge redeliveries', () => {
  test('off by default: each event delivered once, within a second', async () => {
    const { h, bus, deliveries } = await withBus(undefined);
    try {
      launchRegistered(h, 2);
      await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 1 }));
      h.advance(30 * MINUTE);
      const ids = new Set(deliveries.map(d => d.event.id));
      expect(deliveries).toHaveLength(ids.size);
      expect(bus.stats.redelivered).toBe(0);
    } finally {
      h.close();
    }
  });

  test('ECS events: a copy 1-3 minutes later, the same event (same id, same detail.version)', async () => {
    const { h, bus, deliveries } = await withBus({ redeliveries: { 'aws.ecs': { rate: 1, delaysMs: [[MINUTE, 3 * MINUTE]] } } });
    try {
      const { arns } = launchRegistered(h, 1);
      await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: arns, status: 'DRAINING' }));
      h.advance(5 * MINUTE);
      const ecs = deliveries.filter(d => d.event.source === 'aws.ecs');
      const ids = [...new Set(ecs.map(d => d.event.id))];
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) {
        const [first, late] = copiesOf(deliveries, id);
        expect(copiesOf(deliveries, id)).toHaveLength(2);
        expect(late.at - first.at).toBeGreaterThanOrEqual(MINUTE - SECOND);
        expect(late.at - first.at).toBeLessThanOrEqual(3 * MINUTE);
        expect(late.event).toEqual(first.event);
      }
      expect(bus.stats.redeliveredBySource).toEqual({ 'aws.ecs': ids.length });
      // Auto Scaling events are not named: not redelivered.
      expect(bus.stats.redelivered).toBe(ids.length);
    } finally {
      h.close();
    }
  });

  test('a warm pool group\'s lifecycle event: copies after the action ended, the last one after the instance is back in service', async () => {
    const { h, deliveries } = await withBus({
      redeliveries: { 'aws.autoscaling': { rate: 1, delaysMs: [[MINUTE, 3 * MINUTE], [20 * MINUTE, 30 * MINUTE]] } },
    });
    try {
      h.emulator.putWarmPool({ groupName: 'asg', reuseOnScaleIn: true });
      const { ids } = launchRegistered(h, 2);
      await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 1 }));
      await h.autoScaling.send(new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'asg', LifecycleHookName: 'drain', InstanceId: ids[0], LifecycleActionResult: 'CONTINUE',
      }));
      const completedAt = h.clock.now();
      h.advance(5 * MINUTE);
      expect(h.emulator.lifecycleState(ids[0])).toBe('Warmed:Stopped');
      await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 2 }));
      h.advance(MINUTE);
      const inServiceAt = h.emulator.timeline(ids[0]).warmPoolVisits[0].inServiceAt!;
      expect(h.emulator.lifecycleState(ids[0])).toBe('InService');
      h.advance(30 * MINUTE);
      const copies = deliveries.filter(lifecycle);
      expect(copies).toHaveLength(3);
      expect(new Set(copies.map(d => d.event.id)).size).toBe(1);
      expect(copies[0].event.detail).toMatchObject({ EC2InstanceId: ids[0], Origin: 'AutoScalingGroup', Destination: 'WarmPool' });
      expect(copies[1].at).toBeGreaterThan(completedAt);
      expect(copies[2].at).toBeGreaterThan(inServiceAt);
    } finally {
      h.close();
    }
  });

  test('`*` covers every source not named; a rate below 1 redelivers some deliveries; the same seed, the same times', async () => {
    const run = async () => {
      const { h, deliveries } = await withBus({ redeliveries: { '*': { rate: 0.5, delaysMs: [[MINUTE, 2 * MINUTE]] } } }, 9);
      try {
        const { arns } = launchRegistered(h, 6);
        await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: arns, status: 'DRAINING' }));
        await h.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'asg', DesiredCapacity: 0 }));
        h.advance(5 * MINUTE);
        return deliveries.map(d => `${d.at} ${d.event.id}`);
      } finally {
        h.close();
      }
    };
    const first = await run();
    const ids = first.map(line => line.split(' ')[1]);
    const twice = new Set(ids.filter((id, i) => ids.indexOf(id) !== i));
    expect(twice.size).toBeGreaterThan(0);
    expect(twice.size).toBeLessThan(new Set(ids).size);
    expect(await run()).toEqual(first);
  });
});

describe('Lambda asynchronous queue: duplicateRate', () => {
  const assembly = () => stubAssembly([{ id: 'Fn' }]);

  test('off by default: one invocation per event', async () => {
    await withSimulation(assembly(), {}, async sim => {
      for (let i = 0; i < 20; i++) sim.lambda.invokeAsync('Stub-Fn', { n: i });
      await sim.runFor(5 * MINUTE);
      expect(sim.lambda.invocations).toHaveLength(20);
      expect(sim.lambda.duplicatedEvents).toBe(0);
    });
  });

  test('each event handed over once more, within the delay, as a request of its own', async () => {
    await withSimulation(assembly(), { lambdaFaults: { duplicateRate: 1, duplicateDelayMs: [MINUTE, 2 * MINUTE] } }, async sim => {
      for (let i = 0; i < 5; i++) sim.lambda.invokeAsync('Stub-Fn', { n: i });
      await sim.runFor(5 * MINUTE);
      expect(sim.lambda.invocations).toHaveLength(10);
      expect(sim.lambda.duplicatedEvents).toBe(5);
      for (let i = 0; i < 5; i++) {
        const runs = sim.lambda.invocations.filter(r => (r.event as { n: number }).n === i);
        expect(runs).toHaveLength(2);
        expect(runs[0].requestId).not.toBe(runs[1].requestId);
        expect(runs[1].startedAt - runs[0].startedAt).toBeGreaterThanOrEqual(MINUTE - SECOND);
        expect(runs.every(r => r.outcome === 'success')).toBe(true);
      }
    });
  });
});

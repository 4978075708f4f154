/**
 * The one-minute reconcile pass: what it reads, what it leaves alone, and how it stays bounded,
 * fair and cheap at scale.
 */
import {
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
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
  allCalls, autoScalingMock, callSequence, ciArn, CLUSTER, CONFIG, drainRecord, drainRecordValue, ecsMock, FakeContainerInstance, FakeInstance, GROUP,
  harness, INSTANCE, mutatingCalls, NOW, pageToken, parkedMarker, parseInstanceFilter, scheduledEvent, stageWorld, taskArn,
} from './fixtures';
import { ClusterApi, LIMITS } from '../../lambda/aws';
import { Tally } from '../../lambda/drainer';
import {
  BATCH_SIZE, ClusterTaskReads, PassMemory, RESERVED_TIME_MS, ReconcilePass, ROUND_PAUSE_MS, ROUNDS_FROM_WAITING,
  TASK_LISTING_MAX_AGE_MS, TASK_LISTING_MIN_INTERVAL_MS,
} from '../../lambda/reconcile';
import { Telemetry } from '../../lambda/telemetry';
import { ATTRIBUTE, METRIC } from '../../src/constants';

const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');
const NOW_S = NOW / 1000;

function ids(count: number, prefix = 0): string[] {
  return Array.from({ length: count }, (_, i) => `i-${String(prefix + i).padStart(17, '0')}`);
}

function waiting(instanceIds: readonly string[], lifecycleState = 'Terminating:Wait'): FakeInstance[] {
  return instanceIds.map(instanceId => ({ instanceId, groupName: GROUP, lifecycleState }));
}

/** One DRAINING, recorded registration per instance; `extra` overrides each. */
function draining(
  instanceIds: readonly string[], extra: (id: string, i: number) => Partial<FakeContainerInstance> = () => ({}),
): FakeContainerInstance[] {
  return instanceIds.map((id, i) => ({ arn: ciArn(`ci-${id}`), ec2InstanceId: id, status: 'DRAINING', running: 1, attributes: drainRecord(60), ...extra(id, i) }));
}

/** A remaining-time function in which every AWS call costs `msPerCall` of the invocation's time. */
function budget(totalMs: number, msPerCall: number): () => number {
  return () => totalMs - msPerCall * allCalls().length;
}

beforeEach(() => stageWorld());

describe('what the pass reads', () => {
  test('follows every page of DescribeAutoScalingGroups and processes only instances waiting in the hook', async () => {
    // GIVEN the two instances the pages show waiting do wait in the hook (Auto Scaling completes their actions)
    stageWorld({
      instances: [
        { instanceId: 'i-00000000000000002', groupName: GROUP, lifecycleState: 'Terminating:Wait' },
        { instanceId: 'i-00000000000000004', groupName: GROUP, lifecycleState: 'Warmed:Terminating:Wait' },
      ],
    });
    autoScalingMock.on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({
        AutoScalingGroups: [{
          AutoScalingGroupName: GROUP,
          Instances: [{ InstanceId: 'i-00000000000000001', LifecycleState: 'InService' }, { InstanceId: 'i-00000000000000002', LifecycleState: 'Terminating:Wait' }],
        } as never],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        AutoScalingGroups: [{
          AutoScalingGroupName: GROUP,
          Instances: [{ InstanceId: 'i-00000000000000003', LifecycleState: 'Pending' }, { InstanceId: 'i-00000000000000004', LifecycleState: 'Warmed:Terminating:Wait' }],
        } as never],
      });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent());
    expect(autoScalingMock.commandCalls(DescribeAutoScalingGroupsCommand).map(c => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    const listings = ecsMock.commandCalls(ListContainerInstancesCommand).map(c => c.args[0].input);
    expect(listings[0]).toEqual({ cluster: CLUSTER, status: 'DRAINING', maxResults: 100, nextToken: undefined });
    expect(listings[1]).toEqual({ cluster: CLUSTER, status: 'ACTIVE', filter: `attribute:${ATTRIBUTE.DRAIN} exists`, maxResults: 100, nextToken: undefined });
    expect(listings.slice(2).map(l => parseInstanceFilter(l.filter).sort())).toEqual([['i-00000000000000002', 'i-00000000000000004']]);
    expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.InstanceId).sort()).toEqual([
      'i-00000000000000002', 'i-00000000000000004',
    ]);
    expect(summary).toEqual({ trigger: 'reconcile', outcomes: { 'not-registered': 2 }, errors: 0, deferred: 0 });
  });

  test('when nothing waits: one Auto Scaling read, one DRAINING listing and one of marked ACTIVE registrations (parked ones back in service), nothing else', async () => {
    stageWorld({ instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }] });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent());
    expect(callSequence()).toEqual(['DescribeAutoScalingGroups', 'ListContainerInstances', 'ListContainerInstances']);
    expect(summary).toEqual({ trigger: 'reconcile', outcomes: {}, errors: 0, deferred: 0 });
  });

  test('heals a lost lifecycle event: starts the drain, with a heartbeat first recorded (the hook\'s clock is not known)', async () => {
    stageWorld({ instances: waiting([INSTANCE]), containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }] });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent());
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances)).toEqual([[CI]]);
    expect(callSequence().slice(-3)).toEqual(['PutAttributes', 'RecordLifecycleActionHeartbeat', 'PutAttributes']);
    expect(ecsMock.commandCalls(PutAttributesCommand).map(c => c.args[0].input.attributes![0].value)).toEqual([
      drainRecordValue(NOW_S + 3600, NOW_S), drainRecordValue(NOW_S + 3600, NOW_S, NOW_S),
    ]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toEqual([1]);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('a late record needs no heartbeat when the same function saw the instance in service a pass earlier', async () => {
    // GIVEN an instance in service at the first pass, whose lifecycle event is then lost
    stageWorld({ instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }], containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }] });
    const h = harness();
    await h.controller.handle(scheduledEvent());
    stageWorld({ instances: waiting([INSTANCE]), containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 2 }] });

    // WHEN the next pass, a minute later, finds it waiting
    h.clock.now = NOW + 60_000;
    await h.controller.handle(scheduledEvent());

    // THEN the record's hook clock is the first pass's sighting, and no heartbeat is sent
    expect(ecsMock.commandCalls(PutAttributesCommand).map(c => c.args[0].input.attributes![0].value)).toEqual([
      drainRecordValue(NOW_S + 60 + 3600, NOW_S + 60, NOW_S),
    ]);
    expect(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand)).toHaveLength(0);
  });

  test('a recorded drain whose registrations still run tasks costs nothing beyond the shared reads', async () => {
    stageWorld({ instances: waiting(ids(250)), containerInstances: draining(ids(250)) });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent());
    expect(summary).toEqual({ trigger: 'reconcile', outcomes: {}, errors: 0, deferred: 0 });
    // Three pages of DRAINING registrations, one (empty) listing of marked ACTIVE ones.
    expect(ecsMock.commandCalls(ListContainerInstancesCommand)).toHaveLength(4);
    const described = ecsMock.commandCalls(DescribeContainerInstancesCommand).map(c => c.args[0].input.containerInstances!.length);
    expect(described.sort((a, b) => a - b)).toEqual([50, 100, 100]);
    expect(allCalls()).toHaveLength(8);
  });

  test('an instance with a newer ACTIVE registration is not released: releases are judged on a lookup by instance id', async () => {
    stageWorld({
      instances: waiting([INSTANCE]),
      containerInstances: [
        { arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(60), tasks: [{ arn: taskArn('t'), lastStatus: 'STOPPED' }] },
        { arn: ciArn('newer'), ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 3 },
      ],
    });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent());
    expect(ecsMock.commandCalls(UpdateContainerInstancesStateCommand).map(c => c.args[0].input.containerInstances)).toEqual([[ciArn('newer')]]);
    expect(ecsMock.commandCalls(DeregisterContainerInstanceCommand)).toHaveLength(0);
    expect(summary.outcomes).toEqual({ draining: 1 });
  });

  test('an instance whose registration holds 10 custom attributes does not hold back the others of its batch', async () => {
    // GIVEN 30 lost lifecycle events: ACTIVE registrations; the 7th holds the 10 custom attributes ECS allows
    const all = ids(30);
    const full = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`team.label${i}`, `v${i}`]));
    stageWorld({
      instances: waiting(all),
      containerInstances: all.map((id, i) => ({ arn: ciArn(`ci-${id}`), ec2InstanceId: id, status: 'ACTIVE', running: 1, attributes: i === 6 ? full : {} })),
    });
    const h = harness();

    // WHEN the pass runs
    const summary = await h.controller.handle(scheduledEvent());

    // THEN every other instance is recorded (the refused batch was written again one by one), the full one is counted, none is an error
    const recorded = new Set(ecsMock.commandCalls(PutAttributesCommand)
      .filter(c => c.args[0].input.attributes!.length === 1)
      .map(c => c.args[0].input.attributes![0].targetId));
    expect(recorded.size).toBeGreaterThanOrEqual(9);
    expect(h.metricValues(METRIC.DRAINS_WITHOUT_RECORD)).toEqual([1]);
    expect(h.metricValues(METRIC.DRAINS_STARTED)).toHaveLength(29);
    expect(summary).toMatchObject({ outcomes: { draining: 30 }, errors: 0 });
  });
});

describe('warm pools', () => {
  test('a drained instance in Warmed:Pending:Wait is parked and released, not deregistered', async () => {
    stageWorld({
      instances: waiting([INSTANCE], 'Warmed:Pending:Wait'),
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: drainRecord(60), tasks: [{ arn: taskArn('t'), lastStatus: 'STOPPED' }] }],
    });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent());
    // (DescribeAutoScalingGroups lists no Warmed:* instance; DescribeWarmPool does)
    expect(callSequence().slice(0, 2)).toEqual(['DescribeAutoScalingGroups', 'DescribeWarmPool']);
    expect(mutatingCalls().map(c => c.command)).toEqual(['PutAttributesCommand', 'CompleteLifecycleActionCommand']);
    expect(ecsMock.commandCalls(PutAttributesCommand)[0].args[0].input.attributes![0].value).toBe(`parked:${NOW_S}`);
    expect(summary.outcomes).toEqual({ drained: 1 });
  });

  test('a parked registration whose instance is back in service (its ECS event lost) is set ACTIVE again', async () => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', attributes: parkedMarker() }],
    });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent());
    expect(mutatingCalls().map(c => c.command)).toEqual(['UpdateContainerInstancesStateCommand', 'PutAttributesCommand']);
    expect(summary.outcomes).toEqual({ reactivated: 1 });
  });
});

describe('reactivation markers', () => {
  test.each([
    ['kept while a late copy of the lifecycle event may still come', 60 * 60, false],
    ['removed once no late copy can come any more (two event ages)', 2 * 60 * 60 + 60, true],
  ])('on an ACTIVE registration: %s', async (_name, ageSeconds, removed) => {
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 3, attributes: { [ATTRIBUTE.DRAIN]: `reactivated:${NOW_S - ageSeconds}` } }],
    });
    const h = harness();
    await h.controller.handle(scheduledEvent());
    expect(mutatingCalls()).toEqual(removed
      ? [{ command: 'DeleteAttributesCommand', input: { cluster: CLUSTER, attributes: [{ name: ATTRIBUTE.DRAIN, targetType: 'container-instance', targetId: CI }] } }]
      : []);
  });
});

describe('a parked marker left on an ACTIVE registration', () => {
  test('is removed by the next pass: the pass that set the registration ACTIVE again ended before it removed the marker', async () => {
    // GIVEN an instance back in service whose registration is ACTIVE again, with tasks, but still parked
    stageWorld({
      instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'InService' }],
      containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'ACTIVE', running: 3, attributes: parkedMarker() }],
    });
    const h = harness();

    // WHEN a pass runs
    const summary = await h.controller.handle(scheduledEvent());

    // THEN the parked marker is replaced by a reactivation marker, nothing else changes: left, it would
    // have a later DRAINING of the instance (an operator's maintenance) taken for a return from the pool and undone
    expect(mutatingCalls()).toEqual([
      { command: 'PutAttributesCommand', input: { cluster: CLUSTER, attributes: [{ name: ATTRIBUTE.DRAIN, value: `reactivated:${NOW_S}`, targetType: 'container-instance', targetId: CI }] } },
    ]);
    expect(summary.outcomes).toEqual({ reactivated: 1 });
  });
});

describe('a bounded pass', () => {
  test('with too little time left for one batch, takes nothing on and says so', async () => {
    stageWorld({ instances: waiting(ids(150)) });
    const h = harness();
    const summary = await h.controller.handle(scheduledEvent(), () => RESERVED_TIME_MS);
    expect(summary.deferred).toBe(150);
    expect(mutatingCalls()).toEqual([]);
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', deferred: 150 }));
  });

  test('measures its batches and starts none it could not finish in the time left', async () => {
    // GIVEN 300 lost lifecycle events, and calls costing 100 ms each of a 40 s budget
    stageWorld({ instances: waiting(ids(300)), containerInstances: ids(300).map(id => ({ arn: ciArn(`ci-${id}`), ec2InstanceId: id, status: 'ACTIVE', running: 1 })) });
    const h = harness();
    const remaining = budget(40_000, 100);

    // WHEN the pass runs
    const summary = await h.controller.handle(scheduledEvent(), remaining);

    // THEN it stopped with at least the reserve left, deferring whole batches
    expect(remaining()).toBeGreaterThanOrEqual(RESERVED_TIME_MS - 100 * 60);
    expect(summary.deferred % BATCH_SIZE).toBe(0);
    expect(summary.deferred).toBeGreaterThan(0);
    expect((summary.outcomes.draining ?? 0) + summary.deferred).toBe(300);
  });

  test('times batches that ran side by side as sharing the buckets: it does not stop at a third of its time', async () => {
    // GIVEN 600 drained instances, and an API that answers one call at a time, 50 ms each (a
    // saturated bucket: three batches in flight each take three times as long as one alone)
    jest.useFakeTimers({ now: NOW });
    try {
      const all = ids(600);
      stageWorld({ instances: waiting(all), containerInstances: draining(all, () => ({ running: 0 })) });
      let freeAt = 0;
      const oneAtATime = <T extends object>(target: T): T => new Proxy(target, {
        get: (object, key) => {
          const value = Reflect.get(object, key);
          if (typeof value !== 'function') return value;
          if (key === 'bounded') return (signal: AbortSignal) => oneAtATime(value.call(object, signal));
          return async (...args: unknown[]) => {
            freeAt = Math.max(Date.now(), freeAt) + 50;
            await new Promise(resolve => setTimeout(resolve, freeAt - Date.now()));
            return value.apply(object, args);
          };
        },
      });
      const h = harness();
      // The mocked clients answer consistently: no read settle (ErrorPolicy.readSettleMs).
      const pass = new ReconcilePass(CONFIG, oneAtATime(h.api), new Telemetry(CLUSTER, 'EcsDrainHook', () => Date.now(), () => undefined), () => Date.now(),
        new PassMemory(), 0);
      const tally = new Tally('reconcile');
      const deadline = Date.now() + 90_000;

      // WHEN it runs with 90 s left (about 10 s of calls per batch, alone)
      let done = false;
      const run = pass.run(tally, () => deadline - Date.now()).then(() => { done = true; });
      while (!done) await jest.advanceTimersByTimeAsync(500);
      await run;

      // THEN more than the three batches of the first measurement were released (timed whole,
      // 3 x 30 s + the reserve would not fit in 90 s), and it ended with time to spare
      const released = autoScalingMock.commandCalls(CompleteLifecycleActionCommand).length;
      expect(released).toBeGreaterThan(3 * BATCH_SIZE);
      expect(released + tally.summary().deferred).toBe(600);
      expect(deadline - Date.now()).toBeGreaterThan(0);
    } finally {
      jest.useRealTimers();
    }
  });

  test('aborts the calls in flight at the hard limit: the pass ends before the function times out', async () => {
    // GIVEN a cluster whose first read never answers (a hung connection)
    jest.useFakeTimers();
    try {
      const hanging = new HangingApi();
      const pass = new ReconcilePass(CONFIG, hanging as unknown as ClusterApi, new Telemetry(CLUSTER, 'EcsDrainHook', () => NOW, () => undefined), () => NOW,
        new PassMemory(), 0);
      const tally = new Tally('reconcile');
      let left = 60_000;

      // WHEN the pass runs with a minute left
      const done = pass.run(tally, () => left).then(() => 'ended', error => `failed: ${(error as Error).name}`);
      left = 0;
      await jest.advanceTimersByTimeAsync(55_000);

      // THEN the read was aborted at the hard limit (5 s before the timeout) and the pass ended without an error
      await expect(done).resolves.toBe('ended');
      expect(hanging.aborted).toBe(true);
      expect(tally.summary()).toMatchObject({ errors: 0 });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('rounds', () => {
  /** Runs a pass under fake timers with `budgetMs` of invocation time; returns how many rounds it made. */
  async function rounds(waitingCount: number, budgetMs: number): Promise<number> {
    jest.useFakeTimers({ now: NOW });
    try {
      const all = ids(waitingCount);
      stageWorld({ instances: waiting(all), containerInstances: draining(all) });
      const h = harness();
      const deadline = Date.now() + budgetMs;
      let done = false;
      const pass = h.controller.handle(scheduledEvent(), () => deadline - Date.now()).then(() => { done = true; });
      while (!done) await jest.advanceTimersByTimeAsync(1000);
      await pass;
      return autoScalingMock.commandCalls(DescribeAutoScalingGroupsCommand).length;
    } finally {
      jest.useRealTimers();
    }
  }

  test(`with ${ROUNDS_FROM_WAITING} or more instances waiting, a pass goes round again every ${ROUND_PAUSE_MS / 1000} s while it has time`, async () => {
    const made = await rounds(ROUNDS_FROM_WAITING, 60_000);
    // 60 s less the reserve, less a round's own time and the pause: several rounds, never one that could overrun
    expect(made).toBeGreaterThan(3);
    expect(made).toBeLessThanOrEqual(Math.ceil((60_000 - RESERVED_TIME_MS) / ROUND_PAUSE_MS));
  });

  test('with fewer instances waiting, one round', async () => {
    expect(await rounds(ROUNDS_FROM_WAITING - 1, 60_000)).toBe(1);
  });
});

describe('a fair pass', () => {
  test('does the most urgent work first: overdue drains listed last are forced before drains are started', async () => {
    // GIVEN 200 lost lifecycle events listed first, and 50 overdue drains listed last, with time for about one batch
    const fresh = ids(200);
    const overdue = ids(50, 1000);
    stageWorld({
      instances: waiting([...fresh, ...overdue]),
      containerInstances: [
        ...fresh.map(id => ({ arn: ciArn(`ci-${id}`), ec2InstanceId: id, status: 'ACTIVE', running: 1 })),
        ...draining(overdue, () => ({ attributes: drainRecord(7200) })),
      ],
    });
    const h = harness();

    // WHEN the pass runs short of time
    const summary = await h.controller.handle(scheduledEvent(), budget(RESERVED_TIME_MS + 12_000, 50));

    // THEN every overdue drain was forced, and the pass deferred the rest
    expect(summary.outcomes.forced).toBe(50);
    expect(new Set(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input.InstanceId))).toEqual(new Set(overdue));
    expect(summary.deferred).toBeGreaterThan(0);
  });

  test('what a pass leaves is the next pass\'s first work, and every instance is reached within a few passes', async () => {
    // GIVEN 250 drains ending at once (empty by their counts), listed in one order, and time for about one batch per pass
    const all = ids(250);
    stageWorld({ instances: waiting(all), containerInstances: draining(all, id => ({ running: 0, tasks: [{ arn: taskArn(`t-${id}`), lastStatus: 'STOPPED' }] })) });
    const released: string[][] = [];

    // WHEN three passes run, a minute apart
    for (let pass = 0; pass < 3; pass++) {
      const before = autoScalingMock.commandCalls(CompleteLifecycleActionCommand).length;
      const h = harness({}, NOW + pass * 60_000);
      await h.controller.handle(scheduledEvent(), budget(RESERVED_TIME_MS + 15_000 + 50 * allCalls().length, 50));
      released.push(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).slice(before).map(c => c.args[0].input.InstanceId!));
    }

    // THEN each pass released a different part, and together all of them
    expect(released.every(r => r.length > 0)).toBe(true);
    expect(new Set(released.flat()).size).toBe(released.flat().length);
    expect(new Set(released.flat())).toEqual(new Set(all));
  });

  test('a heartbeat due is sent before drains that are merely empty are looked at', async () => {
    const beats = ids(3, 500);
    const empty = ids(150);
    const h = harness();
    stageWorld({
      instances: waiting([...empty, ...beats]),
      containerInstances: [
        ...draining(empty, id => ({ running: 0, tasks: [{ arn: taskArn(`t-${id}`), lastStatus: 'STOPPED' }] })),
        ...draining(beats, () => ({ attributes: drainRecord(600, 3600, null) })),
      ],
    });
    await h.controller.handle(scheduledEvent(), budget(RESERVED_TIME_MS + 12_000, 50));
    expect(new Set(autoScalingMock.commandCalls(RecordLifecycleActionHeartbeatCommand).map(c => c.args[0].input.InstanceId))).toEqual(new Set(beats));
  });
});

describe('a cheap pass', () => {
  test(`lists the tasks of each container instance when at most ${LIMITS.perInstanceTaskListings} need reading`, async () => {
    const all = ids(LIMITS.perInstanceTaskListings);
    stageWorld({ instances: waiting(all), containerInstances: draining(all, id => ({ running: 0, tasks: [{ arn: taskArn(`t-${id}`), lastStatus: 'STOPPED' }] })) });
    const summary = await harness().controller.handle(scheduledEvent());
    expect(ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input.containerInstance).sort()).toEqual(all.map(id => ciArn(`ci-${id}`)).sort());
    expect(summary.outcomes).toEqual({ drained: all.length });
  });

  test('lists the cluster\'s stopping tasks once per pass, shared by all its batches, however many there are', async () => {
    // GIVEN 250 drains ending at once (three batches), two STOPPED tasks each, one still STOPPING with
    // its resources already shown as free (aws/containers-roadmap#575): only the task read tells
    const all = ids(250);
    stageWorld({
      releaseResourcesAt: 'desired-stopped',
      instances: waiting(all),
      containerInstances: draining(all, (id, i) => ({
        running: 0,
        tasks: [{ arn: taskArn(`a-${id}`), lastStatus: 'STOPPED' }, { arn: taskArn(`b-${id}`), lastStatus: i === 7 ? 'STOPPING' : 'STOPPED' }],
      })),
    });
    const h = harness();

    // WHEN the pass runs
    const summary = await h.controller.handle(scheduledEvent());

    // THEN one cluster-wide listing (5 pages of 100 tasks), each task described once, and only the stopping one's instance waits
    const listings = ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input);
    expect(listings.map(l => l.containerInstance)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(listings.map(l => l.nextToken)).toEqual([undefined, pageToken(100), pageToken(200), pageToken(300), pageToken(400)]);
    expect(ecsMock.commandCalls(DescribeTasksCommand).flatMap(c => c.args[0].input.tasks!)).toHaveLength(500);
    expect(summary.outcomes).toEqual({ drained: 249, draining: 1 });
  });

  test(`never has more than ${LIMITS.concurrency} deregistrations or completions in flight`, async () => {
    const all = ids(100);
    stageWorld({ instances: waiting(all), containerInstances: draining(all, id => ({ running: 0, tasks: [{ arn: taskArn(`t-${id}`), lastStatus: 'STOPPED' }] })) });
    let inFlight = 0;
    let peak = 0;
    const slow = async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise(resolve => setImmediate(resolve));
      inFlight--;
      return {};
    };
    ecsMock.on(DeregisterContainerInstanceCommand).callsFake(slow);
    autoScalingMock.on(CompleteLifecycleActionCommand).callsFake(slow);
    const summary = await harness().controller.handle(scheduledEvent());
    expect(summary.outcomes).toEqual({ drained: 100 });
    expect(peak).toBeLessThanOrEqual(LIMITS.concurrency);
  });

  test('writes the records of many drains in calls of 10', async () => {
    const all = ids(35);
    stageWorld({ instances: waiting(all), containerInstances: all.map(id => ({ arn: ciArn(`ci-${id}`), ec2InstanceId: id, status: 'ACTIVE', running: 1 })) });
    await harness().controller.handle(scheduledEvent());
    const firstWrites = ecsMock.commandCalls(PutAttributesCommand).slice(0, 4).map(c => c.args[0].input.attributes!.length);
    expect(firstWrites).toEqual([10, 10, 10, 5]);
    expect(ecsMock.commandCalls(PutAttributesCommand).flatMap(c => c.args[0].input.attributes!).every(a => a.name === ATTRIBUTE.DRAIN)).toBe(true);
  });
});

describe('ClusterTaskReads', () => {
  function setUp(stoppedEach = 2, stoppingOn: string[] = [], settleMs = 0) {
    const all = ids(30);
    stageWorld({
      containerInstances: all.map(id => ({
        arn: ciArn(`ci-${id}`),
        ec2InstanceId: id,
        status: 'DRAINING',
        tasks: Array.from({ length: stoppedEach }, (_, t) => ({ arn: taskArn(`${t}-${id}`), lastStatus: stoppingOn.includes(id) && t === 0 ? 'STOPPING' : 'STOPPED' })),
      })),
    });
    const clock = { now: NOW };
    const since = new Map<string, number>();
    const sleeps: number[] = [];
    const sleep = async (ms: number) => { sleeps.push(ms); clock.now += ms; };
    const reads = new ClusterTaskReads(harness().api, () => clock.now, arn => since.get(arn), sleep, settleMs);
    return { arns: all.map(id => ciArn(`ci-${id}`)), clock, since, reads, sleeps };
  }
  const listings = () => ecsMock.commandCalls(ListTasksCommand).filter(c => c.args[0].input.nextToken === undefined).length;
  const described = () => ecsMock.commandCalls(DescribeTasksCommand).flatMap(c => c.args[0].input.tasks!).length;

  test('a listing taken before an instance was seen empty by its counts never answers for it (it may miss a task)', async () => {
    const { arns, clock, since, reads, sleeps } = setUp();
    arns.forEach(arn => since.set(arn, NOW - 1000));
    await reads.read(arns);
    expect(listings()).toBe(1);
    // an instance seen empty after that listing: listed again, once the minimum interval has passed
    clock.now = NOW + 2000;
    since.set(arns[0], NOW + 1000);
    await reads.read([arns[0], ...arns.slice(1, 25)]);
    expect(listings()).toBe(2);
    expect(sleeps).toEqual([TASK_LISTING_MIN_INTERVAL_MS - 2000]);
  });

  test('with a read settle, a listing answers only for instances seen empty at least that long before it was taken (reads may be stale)', async () => {
    const { arns, clock, since, reads } = setUp(2, [], 5000);
    arns.forEach(arn => since.set(arn, NOW - 6000));
    await reads.read(arns);
    expect(listings()).toBe(1);
    // seen empty 1 s before that listing: the listing may show an earlier moment than those counts
    since.set(arns[0], NOW - 1000);
    clock.now = NOW + TASK_LISTING_MIN_INTERVAL_MS;
    await reads.read(arns.slice(0, 25));
    expect(listings()).toBe(2);
  });

  test('a listing answers later batches for instances seen empty before it, and STOPPED tasks are never described again', async () => {
    const { arns, clock, since, reads } = setUp(2, [ids(30)[3]]);
    arns.forEach(arn => since.set(arn, NOW - 1000));
    const first = await reads.read(arns);
    expect(first.get(arns[3])).toHaveLength(1);
    expect(described()).toBe(60);
    clock.now = NOW + 5000;
    await reads.read(arns.slice(0, 25).filter((_, i) => i !== 3));
    expect(listings()).toBe(1);
    // the stopping one, asked again after the listing's maximum age: listed again, only its stopping task described
    clock.now = NOW + 5000 + TASK_LISTING_MAX_AGE_MS;
    await reads.read(arns.slice(0, 25));
    expect(listings()).toBe(2);
    expect(described()).toBe(61);
  });

  test('tasks seen STOPPED by one pass are not described by the next one of the same environment (PassMemory)', async () => {
    const { arns, since } = setUp();
    arns.forEach(arn => since.set(arn, NOW - 1000));
    const memory = new PassMemory();
    const pass = (now: number) => new ClusterTaskReads(harness().api, () => now, arn => since.get(arn), async () => {}, 0, memory.stoppedTasks());
    await pass(NOW).read(arns);
    expect(described()).toBe(60);
    const second = await pass(NOW + 60_000).read(arns);
    expect(listings()).toBe(2);
    expect(described()).toBe(60);
    expect([...second.values()].every(tasks => tasks.length === 0)).toBe(true);
    // a new environment remembers nothing: it describes them again
    const fresh = new ClusterTaskReads(harness().api, () => NOW + 120_000, arn => since.get(arn), async () => {}, 0, new PassMemory().stoppedTasks());
    await fresh.read(arns);
    expect(described()).toBe(120);
  });

  test('instances fewer than the last cluster-wide listing had pages are listed one by one, their STOPPED tasks not described again', async () => {
    const { arns, clock, since, reads } = setUp(99);
    arns.forEach(arn => since.set(arn, NOW - 1000));
    await reads.read(arns);
    const clusterWide = () => ecsMock.commandCalls(ListTasksCommand).filter(c => c.args[0].input.containerInstance === undefined);
    expect(clusterWide().filter(c => c.args[0].input.nextToken === undefined)).toHaveLength(1);
    expect(clusterWide()).toHaveLength(30); // 2,970 tasks, 100 a page
    expect(described()).toBe(2970);
    // two instances seen empty after that listing: 2 < 30 pages, so two listings of their own
    clock.now = NOW + 10_000;
    since.set(arns[0], NOW + 5000);
    since.set(arns[1], NOW + 5000);
    const answer = await reads.read(arns.slice(0, 25));
    expect(clusterWide()).toHaveLength(30);
    expect(ecsMock.commandCalls(ListTasksCommand).filter(c => c.args[0].input.containerInstance !== undefined)
      .map(c => c.args[0].input.containerInstance).sort()).toEqual([arns[0], arns[1]].sort());
    expect(described()).toBe(2970);
    expect([...answer.values()].every(tasks => tasks.length === 0)).toBe(true);
  });
});

/** A ClusterApi whose every read hangs until its abort signal fires. */
class HangingApi {
  aborted = false;
  private signal?: AbortSignal;
  private parent?: HangingApi;
  bounded(signal: AbortSignal): HangingApi {
    signal.addEventListener('abort', () => { this.aborted = true; });
    const api = new HangingApi();
    api.signal = signal;
    api.parent = this;
    return api;
  }
  instancesOfGroups(): Promise<never> {
    return new Promise((_, reject) => this.signal!.addEventListener('abort', () => {
      this.parent!.aborted = true;
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    }));
  }
}

/**
 * Conformance of the Lambda runtime's concurrency with the Lambda developer guide: the account's
 * concurrent executions limit ("Lambda quotas"), reserved concurrency and the unreserved pool
 * ("Configuring reserved concurrency"), and what happens to asynchronous events that cannot run
 * ("How Lambda handles errors and retries with asynchronous invocation": throttled events go back
 * to the queue and are retried from 1 second to 5 minutes apart until the maximum event age;
 * "Capturing records of Lambda asynchronous invocations": the failure record's condition).
 */
import { peakOverlap, stubAssembly } from './stub-functions';
import { withSimulation } from './support';
import { Simulation } from '../../sim/runtime/simulation';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Nothing queued and nothing running: every event accepted so far ran or was given up on. */
const quiet = (sim: Simulation) => () => sim.lambda.queuedEvents === 0 && sim.lambda.running === 0;

test('the account limit: of 40 events at once with a limit of 10, never more than 10 run, all run, the rest are throttled', async () => {
  await withSimulation(stubAssembly([{ id: 'Fn' }]), { lambdaAccountConcurrencyLimit: 10 }, async sim => {
    for (let i = 0; i < 40; i++) sim.lambda.invokeAsync('Stub-Fn', { sleepMs: 5 * SECOND });
    await sim.runUntil(quiet(sim), 60 * MINUTE);

    const runs = sim.lambda.invocations;
    expect(runs).toHaveLength(40);
    expect(runs.every(r => r.outcome === 'success' && r.attempt === 1)).toBe(true);
    expect(peakOverlap(runs)).toBe(10);
    const stats = sim.lambda.stats('Stub-Fn');
    // Each of the 30 that found no concurrency was throttled at least once, and counted.
    expect(stats.throttles).toBeGreaterThanOrEqual(30);
    expect(stats.throttles).toBe(sim.lambda.throttled.length);
    expect(new Set(sim.lambda.throttled.map(t => t.requestId)).size).toBeGreaterThanOrEqual(30);
    expect(stats.peakConcurrency).toBe(10);
    // One execution environment per concurrent invocation, reused when idle.
    expect(stats.environments).toBe(10);
    expect(sim.lambda.failures).toEqual([]);
  });
});

test('the default account limit is 1,000 concurrent executions, all unreserved', async () => {
  await withSimulation(stubAssembly([{ id: 'Fn' }]), {}, async sim => {
    expect(sim.lambda.concurrencyLimits).toEqual({ account: 1000, unreserved: 1000 });
  });
});

test('reserved concurrency: the function never runs more than its reservation and keeps it while the others share the rest', async () => {
  const dir = stubAssembly([{ id: 'Reserved', reservedConcurrentExecutions: 5 }, { id: 'B' }, { id: 'C' }]);
  await withSimulation(dir, { lambdaAccountConcurrencyLimit: 110 }, async sim => {
    expect(sim.lambda.concurrencyLimits).toEqual({ account: 110, unreserved: 105 });
    const startedAt = sim.clock.now();
    // The unreserved functions flood first; the reserved one comes last.
    for (let i = 0; i < 100; i++) sim.lambda.invokeAsync('Stub-B', { sleepMs: 5 * SECOND });
    for (let i = 0; i < 100; i++) sim.lambda.invokeAsync('Stub-C', { sleepMs: 5 * SECOND });
    for (let i = 0; i < 30; i++) sim.lambda.invokeAsync('Stub-Reserved', { sleepMs: 5 * SECOND });
    await sim.runUntil(quiet(sim), 60 * MINUTE);

    const runsOf = (...names: string[]) => sim.lambda.invocations.filter(r => names.includes(r.functionName));
    expect(sim.lambda.invocations).toHaveLength(230);
    expect(sim.lambda.invocations.every(r => r.outcome === 'success' && r.attempt === 1)).toBe(true);
    expect(peakOverlap(runsOf('Stub-Reserved'))).toBe(5);
    expect(peakOverlap(runsOf('Stub-B', 'Stub-C'))).toBe(105);
    expect(peakOverlap(sim.lambda.invocations)).toBe(110);
    // The reservation is the function's own: its first five ran at once, with the pool full.
    const firstSecond = runsOf('Stub-Reserved').filter(r => r.startedAt < startedAt + SECOND);
    expect(firstSecond).toHaveLength(5);
    for (const name of ['Stub-Reserved', 'Stub-B', 'Stub-C']) expect(sim.lambda.stats(name).throttles).toBeGreaterThan(0);
  });
});

test('scaling rate: a function adds at most 1,000 execution environments at once, then 1,000 per 10 seconds', async () => {
  await withSimulation(stubAssembly([{ id: 'Fn' }]), { lambdaAccountConcurrencyLimit: 3000 }, async sim => {
    const deployedAt = sim.clock.now();
    for (let i = 0; i < 2500; i++) sim.lambda.invokeAsync('Stub-Fn', { sleepMs: MINUTE });
    await sim.runUntil(quiet(sim), 60 * MINUTE);

    const starts = sim.lambda.invocations.map(r => r.startedAt).sort((a, b) => a - b);
    expect(starts).toHaveLength(2500);
    expect(sim.lambda.invocations.every(r => r.outcome === 'success' && r.attempt === 1)).toBe(true);
    // No invocation ended before a minute: every start took a new environment but the first (deployed idle).
    starts.forEach((at, k) => expect(k + 1).toBeLessThanOrEqual(1 + 1000 + Math.floor((at - deployedAt) / 10)));
    // 1,499 environments beyond the first 1,001 need at least 14.99 s of refill.
    expect(starts[2499] - deployedAt).toBeGreaterThanOrEqual(14_990);
    // Within the account limit, so the function did scale past 1,000, throttled on the way.
    expect(peakOverlap(sim.lambda.invocations)).toBe(2500);
    expect(sim.lambda.stats('Stub-Fn')).toMatchObject({ environments: 2500, peakConcurrency: 2500 });
    expect(sim.lambda.stats('Stub-Fn').throttles).toBeGreaterThan(0);
  });
});

test('a throttled event is retried from 1 second to at most 5 minutes apart, and throttles do not use up its retry attempts', async () => {
  // The limit must leave 100 unreserved (see the deployment test below).
  const dir = stubAssembly([{ id: 'Fn', reservedConcurrentExecutions: 1, maximumRetryAttempts: 2 }]);
  await withSimulation(dir, { lambdaAccountConcurrencyLimit: 101 }, async sim => {
    const holder = sim.lambda.invokeAsync('Stub-Fn', { sleepMs: 890 * SECOND });
    await sim.runFor(SECOND);
    const waiting = sim.lambda.invokeAsync('Stub-Fn', { fail: true });
    await sim.runUntil(quiet(sim), 60 * MINUTE);

    const throttles = sim.lambda.throttled.filter(t => t.requestId === waiting);
    const holderRun = sim.lambda.invocations.find(r => r.requestId === holder)!;
    // Thrown back until the holder ended: 1, 2, 4 ... 256 seconds, then capped at 5 minutes.
    expect(throttles.length).toBeGreaterThanOrEqual(10);
    expect(throttles.every(t => t.at < holderRun.endedAt!)).toBe(true);
    for (let k = 1; k < throttles.length; k++) {
      const gap = throttles[k].at - throttles[k - 1].at;
      const nominal = Math.min(2 ** (k - 1) * SECOND, 5 * MINUTE);
      // Jitter of up to 10 %, never outside the documented 1 s .. 5 min.
      expect(gap).toBeGreaterThanOrEqual(Math.max(SECOND, 0.9 * nominal) - 1);
      expect(gap).toBeLessThanOrEqual(Math.min(5 * MINUTE, 1.1 * nominal) + 1);
    }
    expect(Math.max(...throttles.slice(1).map((t, k) => t.at - throttles[k].at))).toBeGreaterThan(4 * MINUTE);

    // Then it ran and failed three times: its function-error retries were all still there.
    const attempts = sim.lambda.invocations.filter(r => r.requestId === waiting);
    expect(attempts.map(r => [r.attempt, r.outcome])).toEqual([[1, 'error'], [2, 'error'], [3, 'error']]);
    expect(attempts[0].startedAt).toBeGreaterThanOrEqual(holderRun.endedAt!);
    expect(attempts[1].startedAt - attempts[0].endedAt!).toBe(MINUTE);
    expect(attempts[2].startedAt - attempts[1].endedAt!).toBe(2 * MINUTE);
    expect(sim.lambda.failures).toEqual([expect.objectContaining({
      requestContext: expect.objectContaining({ requestId: waiting, condition: 'RetriesExhausted', approximateInvokeCount: 3 }),
      responsePayload: { errorType: 'Error', errorMessage: 'boom' },
    })]);
    expect(sim.lambda.stats('Stub-Fn').throttles).toBe(throttles.length);
  });
});

test('an event that outlives MaximumEventAgeInSeconds goes to the failure destination as EventAgeExceeded', async () => {
  const dir = stubAssembly([
    { id: 'Throttled', reservedConcurrentExecutions: 1, maximumEventAgeSeconds: 60 },
    { id: 'Failing', maximumEventAgeSeconds: 60, maximumRetryAttempts: 2 },
  ]);
  await withSimulation(dir, { lambdaAccountConcurrencyLimit: 101 }, async sim => {
    const holder = sim.lambda.invokeAsync('Stub-Throttled', { sleepMs: 5 * MINUTE });
    await sim.runFor(SECOND);
    const enqueuedAt = sim.clock.now();
    const throttled = sim.lambda.invokeAsync('Stub-Throttled', {});
    // A function error's first retry comes a minute later: past this event's age.
    const failing = sim.lambda.invokeAsync('Stub-Failing', { fail: true });
    await sim.runUntil(quiet(sim), 60 * MINUTE);

    expect(sim.lambda.invocations.filter(r => r.requestId === throttled)).toEqual([]);
    expect(sim.lambda.invocations.find(r => r.requestId === holder)?.outcome).toBe('success');
    const byRequest = new Map(sim.lambda.failures.map(f => [f.requestContext.requestId, f]));
    expect(byRequest.get(throttled)).toEqual(expect.objectContaining({
      timestamp: new Date(enqueuedAt + MINUTE).toISOString(),
      requestContext: expect.objectContaining({ condition: 'EventAgeExceeded', approximateInvokeCount: 0 }),
      requestPayload: {},
    }));
    // Never run: there is no response to report.
    expect(byRequest.get(throttled)?.responsePayload).toBeUndefined();
    expect(byRequest.get(failing)).toEqual(expect.objectContaining({
      timestamp: new Date(enqueuedAt + MINUTE).toISOString(),
      requestContext: expect.objectContaining({ condition: 'EventAgeExceeded', approximateInvokeCount: 1 }),
      responsePayload: { errorType: 'Error', errorMessage: 'boom' },
    }));
    expect(sim.lambda.invocations.filter(r => r.requestId === failing)).toHaveLength(1);
  });
});

test('reserved concurrency 0: events go to the failure destination without running or retrying', async () => {
  await withSimulation(stubAssembly([{ id: 'Off', reservedConcurrentExecutions: 0 }]), {}, async sim => {
    const requestId = sim.lambda.invokeAsync('Stub-Off', { any: 'thing' });
    await sim.runUntil(quiet(sim), 60 * MINUTE);

    expect(sim.lambda.invocations).toEqual([]);
    expect(sim.lambda.failures).toEqual([expect.objectContaining({
      requestContext: expect.objectContaining({ requestId, condition: 'ZeroReservedConcurrency', approximateInvokeCount: 0 }),
      requestPayload: { any: 'thing' },
    })]);
    expect(sim.lambda.failures[0].responsePayload).toBeUndefined();
  });
});

describe('deployment: reservations must leave at least 100 of the account limit unreserved', () => {
  test('reserving all but 100 deploys', async () => {
    await withSimulation(stubAssembly([{ id: 'Big', reservedConcurrentExecutions: 900 }]), {}, async sim => {
      expect(sim.lambda.concurrencyLimits).toEqual({ account: 1000, unreserved: 100 });
    });
  });

  test.each([
    ['one function reserving 901 of 1,000', [901], 1000, 'Stub-F0', 100],
    ['two functions reserving 500 + 401 of 1,000', [500, 401], 1000, 'Stub-F1', 100],
    ['any reservation in an account whose whole limit is 50', [1], 50, 'Stub-F0', 50],
  ])('%s fails with Lambda\'s error', async (_, reservations, limit, refused, minimum) => {
    const dir = stubAssembly(reservations.map((reserved, i) => ({ id: `F${i}`, reservedConcurrentExecutions: reserved })));
    await expect(Simulation.start({ assemblyDirectory: dir, lambdaAccountConcurrencyLimit: limit })).rejects.toThrow(
      `${refused}: Resource handler returned message: "Specified ReservedConcurrentExecutions for function decreases `
      + `account's UnreservedConcurrentExecution below its minimum value of [${minimum}]."`);
  });

  test('a negative reservation fails validation', async () => {
    const dir = stubAssembly([{ id: 'F0', reservedConcurrentExecutions: -1 }]);
    await expect(Simulation.start({ assemblyDirectory: dir })).rejects.toThrow(/Stub-F0: .*Member must have value greater than or equal to 0/);
  });
});

/**
 * The Lambda entrypoint module: configuration from the environment, clients built at import,
 * logs to stdout, and the summary returned.
 */
import { CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { autoScalingMock, GROUP, HOOK, INSTANCE, lifecycleEvent, stageWorld } from './fixtures';
import { ENV } from '../../src/constants';

const ENVIRONMENT = {
  [ENV.CLUSTER_NAME]: 'my-cluster',
  [ENV.AUTO_SCALING_GROUP_NAMES]: JSON.stringify([GROUP]),
  [ENV.LIFECYCLE_HOOK_NAME]: HOOK,
  [ENV.DRAIN_TIMEOUT_SECONDS]: '3600',
  [ENV.HEARTBEAT_TIMEOUT_SECONDS]: '3600',
  [ENV.FORCE_DEREGISTER_ON_TIMEOUT]: 'true',
  [ENV.DRAIN_ON_SPOT_INTERRUPTION]: 'true',
  [ENV.METRICS_NAMESPACE]: 'EcsDrainHook',
  [ENV.DIAGNOSE_DRAINS_AFTER_SECONDS]: '600',
};

type Entrypoint = typeof import('../../lambda/drain-controller.lambda');
/** The module, loaded now (its configuration is read at load time), in this file's registry, so its clients are the mocked ones. */
const load = (): Entrypoint => jest.requireActual<Entrypoint>('../../lambda/drain-controller.lambda');

const saved = { ...process.env };
let log: jest.SpyInstance;

beforeEach(() => {
  stageWorld({ instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }] });
  Object.assign(process.env, ENVIRONMENT);
  log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => {
  log.mockRestore();
  process.env = { ...saved };
});

test('the handler, imported with the environment set, drains through the mocked clients and returns the summary', async () => {
  // GIVEN the module imported with its environment (the SDK clients it builds are mocked)
  const { handler } = load();

  // WHEN invoked with a lifecycle action of an instance that is not in the cluster
  const summary = await handler(lifecycleEvent(), { getRemainingTimeInMillis: () => 900_000 });

  // THEN it completes the action and returns the summary, logging JSON to stdout
  expect(summary).toEqual({ trigger: 'lifecycle-action', outcomes: { 'not-registered': 1 }, errors: 0, deferred: 0 });
  expect(autoScalingMock.commandCalls(CompleteLifecycleActionCommand).map(c => c.args[0].input)).toEqual([
    { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: INSTANCE, LifecycleActionResult: 'CONTINUE' },
  ]);
  const lines = log.mock.calls.map(([line]) => JSON.parse(line as string));
  expect(lines).toContainEqual(expect.objectContaining({ level: 'info', cluster: 'my-cluster', instanceId: INSTANCE, outcome: 'not-registered' }));
});

test('the handler works without a Lambda context', async () => {
  const { handler } = load();
  await expect(handler({ source: 'nobody' })).resolves.toEqual({ trigger: 'ignored', outcomes: {}, errors: 0, deferred: 0 });
});

test('importing the module without its environment fails, naming the variable', async () => {
  // GIVEN no cluster name
  delete process.env[ENV.CLUSTER_NAME];
  // WHEN / THEN a fresh import throws
  jest.isolateModules(() => {
    expect(load).toThrow(`${ENV.CLUSTER_NAME} is not set`);
  });
});

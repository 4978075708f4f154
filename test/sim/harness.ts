/**
 * Starts an AwsEmulator on loopback with real SDK clients pointed at it, and moves virtual time.
 * Not a test file itself (no .test.ts suffix).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SimClock } from '../../sim/clock';
import { AwsEmulator, AwsEmulatorOptions, EmittedEvent, LaunchOptions } from '../../sim/emulator';

export interface Harness {
  clock: SimClock;
  emulator: AwsEmulator;
  ecs: ECSClient;
  autoScaling: AutoScalingClient;
  events: EmittedEvent[];
  /** Where the emulator listens, for more clients. */
  endpoint: string;
  /** Runs every timer due within `ms` of virtual time and leaves the clock exactly `ms` later. */
  advance(ms: number): void;
  close(): void;
}

export async function startHarness(options: Partial<AwsEmulatorOptions> = {}): Promise<Harness> {
  const clock = new SimClock();
  const events: EmittedEvent[] = [];
  const emulator = new AwsEmulator({ clock, seed: 7, throttling: false, onEvent: e => events.push(e), ...options });
  const { endpoint } = await emulator.listen();
  const common = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy' },
    maxAttempts: 1,
  };
  const ecs = new ECSClient(common);
  const autoScaling = new AutoScalingClient(common);
  return {
    clock,
    emulator,
    ecs,
    autoScaling,
    events,
    endpoint,
    advance(ms: number) {
      const target = clock.now() + ms;
      clock.at(target, () => undefined);
      while (clock.now() < target || (clock.nextAt() ?? Infinity) <= target) {
        if (!clock.advance()) break;
      }
    },
    close() {
      ecs.destroy();
      autoScaling.destroy();
      emulator.close();
    },
  };
}

/** The cluster 'main' and an empty Auto Scaling group 'asg' (0 to 10 instances) most tests start from. */
export function createClusterAndGroup(h: Harness): void {
  h.emulator.createCluster('main');
  h.emulator.createAutoScalingGroup({ name: 'asg', minSize: 0, maxSize: 10, desiredCapacity: 0 });
}

/** Launches `count` instances into 'asg', registered with 'main': their ids and their (first) registrations. */
export function launchRegistered(h: Harness, count: number, options: LaunchOptions = {}): { ids: string[]; arns: string[] } {
  const ids = Array.from({ length: count }, () => h.emulator.launchInstance('asg', { cluster: 'main', ...options }));
  return { ids, arns: ids.map(id => h.emulator.containerInstanceArns(id)[0]) };
}

/** Awaits a promise expected to reject and returns the error. */
export async function failure(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

/**
 * stopTasksBeforeDeadline: at a drain's stop time the controller stops what still runs on it
 * (StopTask, with a reason naming the drain), then forces only at the deadline, as before.
 */
import { ListTasksCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { ciArn, CONFIG, drainRecord, ecsMock, GROUP, harness, INSTANCE, scheduledEvent, stageWorld } from './fixtures';

const CI = ciArn('b54a2a04046f4d79a2a34b8d8fc37e1c');
const STOP_BEFORE = 600;

/** A recorded drain with `running` standalone tasks, started `startedSecondsAgo` before NOW. */
function stageDrain(startedSecondsAgo: number, running = 2): void {
  stageWorld({
    instances: [{ instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait' }],
    containerInstances: [{ arn: CI, ec2InstanceId: INSTANCE, status: 'DRAINING', running, attributes: drainRecord(startedSecondsAgo) }],
  });
}

const stopped = () => ecsMock.commandCalls(StopTaskCommand).map(c => c.args[0].input);

describe('the stop time of a drain', () => {
  test('past it, every task still meant to run is stopped, with a reason naming the drain and its deadline', async () => {
    stageDrain(CONFIG.drainTimeoutSeconds - STOP_BEFORE + 1);
    const h = harness({ stopTasksBeforeDeadlineSeconds: STOP_BEFORE });
    const summary = await h.controller.handle(scheduledEvent());

    expect(ecsMock.commandCalls(ListTasksCommand).map(c => c.args[0].input)).toContainEqual(expect.objectContaining({
      containerInstance: CI, desiredStatus: 'RUNNING',
    }));
    expect(stopped()).toHaveLength(2);
    for (const input of stopped()) {
      expect(input.reason).toMatch(new RegExp(`^cdk-ecs-drain-hook: drain of ${INSTANCE} \\(group ${GROUP}\\) stops what still runs before its deadline 20`));
      expect(input.reason!.length).toBeLessThanOrEqual(255);
    }
    expect(summary).toMatchObject({ outcomes: { draining: 1 }, errors: 0 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', message: 'stopped the tasks still running before the drain\'s deadline', tasks: 2 }));
  });

  test('once stopped, the next pass stops nothing more (their desired status is STOPPED)', async () => {
    stageDrain(CONFIG.drainTimeoutSeconds - STOP_BEFORE + 1);
    const h = harness({ stopTasksBeforeDeadlineSeconds: STOP_BEFORE });
    await h.controller.handle(scheduledEvent());
    ecsMock.resetHistory();
    await h.controller.handle(scheduledEvent());
    expect(stopped()).toHaveLength(0);
  });

  test('before it, or without the setting, nothing is stopped', async () => {
    stageDrain(CONFIG.drainTimeoutSeconds - STOP_BEFORE - 60);
    await harness({ stopTasksBeforeDeadlineSeconds: STOP_BEFORE }).controller.handle(scheduledEvent());
    expect(stopped()).toHaveLength(0);

    stageDrain(CONFIG.drainTimeoutSeconds - 1);
    await harness().controller.handle(scheduledEvent());
    expect(stopped()).toHaveLength(0);
  });
});

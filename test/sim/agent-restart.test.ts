/**
 * An agent that starts again without its checkpoint registers a second container instance for the
 * same EC2 instance (aws/amazon-ecs-agent#73) and leaves the containers of the first one behind
 * (aws/amazon-ecs-agent#125): both registrations are listed, only the new one has an agent and
 * gets tasks. The chaos scenario `re-registration` rests on this.
 */
import { DescribeContainerInstancesCommand, ListContainerInstancesCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { createClusterAndGroup, Harness, launchRegistered, startHarness } from './harness';

describe('agent restart without its checkpoint', () => {
  let h: Harness;
  let instanceId: string;
  let first: string;

  beforeEach(async () => {
    h = await startHarness();
    createClusterAndGroup(h);
    ({ ids: [instanceId], arns: [first] } = launchRegistered(h, 1));
  });

  afterEach(() => h.close());

  test('registers a second, ACTIVE container instance that gets tasks; the first loses its agent and keeps its status', async () => {
    // GIVEN a service on the instance, whose registration an operator drains
    h.emulator.createService('main', { name: 'web', desiredCount: 2, stopTimeoutSeconds: 10 });
    h.advance(10_000);
    await h.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'main', containerInstances: [first], status: 'DRAINING' }));
    h.advance(60_000);

    // WHEN the agent registers anew
    const second = h.emulator.registerAgentAnew(instanceId);

    // THEN both registrations are the instance's, the new one ACTIVE with the service's tasks on it
    const listed = await h.ecs.send(new ListContainerInstancesCommand({ cluster: 'main', filter: `ec2InstanceId == ${instanceId}` }));
    expect(listed.containerInstanceArns!.sort()).toEqual([first, second].sort());
    const described = await h.ecs.send(new DescribeContainerInstancesCommand({ cluster: 'main', containerInstances: [first, second] }));
    const byArn = new Map(described.containerInstances!.map(ci => [ci.containerInstanceArn, ci]));
    expect(byArn.get(first)).toMatchObject({ status: 'DRAINING', agentConnected: false, ec2InstanceId: instanceId });
    expect(byArn.get(second)).toMatchObject({ status: 'ACTIVE', agentConnected: true, ec2InstanceId: instanceId, runningTasksCount: 2 });
    expect(h.emulator.registration(second)).toMatchObject({ status: 'ACTIVE', agentConnected: true, runningTasksCount: 2 });
  });

  test('is refused for an instance that is not running in a cluster', () => {
    const unregistered = h.emulator.launchInstance('asg', {});
    expect(() => h.emulator.registerAgentAnew(unregistered)).toThrow(/not a running instance of a cluster/);
  });
});

import { CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp, DRAIN_EVENTS_TOPIC, EXAMPLE_STACK_NAME, ExampleStack, OPERATORS_TOPIC } from './integ.drain-hook';
import { danglingReferences, terminationHooksByGroup } from './template-checks';
import { DRAIN_EVENT, ENV } from '../src/constants';

// The example app's template, at both ends of the peer range: test/compat/ runs this file
// against aws-cdk-lib 2.120.0 and constructs 10.0.5.

describe('the example app (test/integ.drain-hook.ts)', () => {
  const app = buildExampleApp();
  const stack = app.node.findChild(EXAMPLE_STACK_NAME) as ExampleStack;
  const template = Template.fromStack(stack);
  const resolve = (value: unknown) => Stack.of(stack).resolve(value);

  test('its group has exactly one termination lifecycle hook: the drain hook\'s', () => {
    const hooks = terminationHooksByGroup(template.toJSON());
    expect([...hooks.keys()]).toEqual([JSON.stringify(resolve(stack.autoScalingGroup.autoScalingGroupName))]);
    expect([...hooks.values()][0]).toEqual([{
      AutoScalingGroupName: resolve(stack.autoScalingGroup.autoScalingGroupName),
      LifecycleHookName: stack.drainHook.lifecycleHookName,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      DefaultResult: 'CONTINUE',
      HeartbeatTimeout: 3900,
    }]);
  });

  test('aws-cdk\'s drain hook is gone without a trace, and the synthesis output says so', () => {
    // Only the example's own topics of drain events are left (aws-cdk's hook brings a topic of its own).
    const topics = Object.values(template.findResources('AWS::SNS::Topic')).map((t: any) => t.Properties.TopicName);
    expect(topics.sort()).toEqual([DRAIN_EVENTS_TOPIC, OPERATORS_TOPIC].sort());
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    // the only functions left are the drain hook's two (events and the reconcile pass)
    const ours = [stack.drainHook.function, stack.drainHook.reconcileFunction].map(fn => stack.getLogicalId(fn.node.defaultChild as CfnElement));
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).sort()).toEqual(ours.sort());
    expect(danglingReferences(template.toJSON())).toEqual([]);
    expect(Annotations.fromStack(stack).findInfo(`/${EXAMPLE_STACK_NAME}/DrainHook`,
      Match.stringLikeRegexp(`Removed aws-cdk's own drain hook from Auto Scaling group ${EXAMPLE_STACK_NAME}/Instances `))).toHaveLength(1);
  });

  test('ECS managed draining is off on the capacity provider', () => {
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({ ManagedDraining: 'DISABLED', ManagedTerminationProtection: 'DISABLED' }),
    });
  });

  test('one drain controller on Node.js 24 (arm64) with the cluster and the group in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          [ENV.CLUSTER_NAME]: resolve(stack.cluster.clusterName),
          [ENV.LIFECYCLE_HOOK_NAME]: stack.drainHook.lifecycleHookName,
          [ENV.DRAIN_TIMEOUT_SECONDS]: '3600',
        }),
      },
    });
  });

  test('five triggers: lifecycle actions of the hook, DRAINING container instances, stopped tasks, a one-minute schedule, Spot warnings', () => {
    // And the three rules on the drain events: every event to a topic; forced and blocked drains to the operators.
    template.resourceCountIs('AWS::Events::Rule', 8);
    const drainEventRules = Object.values(template.findResources('AWS::Events::Rule')).filter((r: any) => r.Properties.EventPattern?.source?.[0] === DRAIN_EVENT.SOURCE);
    expect(drainEventRules).toHaveLength(3);
    const groupName = resolve(stack.autoScalingGroup.autoScalingGroupName);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: { AutoScalingGroupName: [groupName], LifecycleHookName: [stack.drainHook.lifecycleHookName] } }),
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  test('ECS writes only on the cluster\'s container instances, Auto Scaling writes only on the group', () => {
    const statements = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('DrainHook'))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
    const writes = (action: string) => statements.filter(s => [s.Action].flat().includes(action)).map(s => JSON.stringify(s.Resource));
    expect(writes('ecs:UpdateContainerInstancesState')).toEqual([expect.stringMatching(/container-instance\/",\{"Ref":"Cluster[0-9A-F]+"\},"\/\*"/)]);
    expect(writes('autoscaling:CompleteLifecycleAction')).toEqual([expect.stringMatching(/autoScalingGroupName\/",\{"Ref":"InstancesASG[0-9A-F]+"\}/)]);
  });
});

import {
  CfnResource,
  App, Duration, Stack, Token,
  aws_autoscaling as autoscaling,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_events as events,
  aws_events_targets as targets,
  aws_logs as logs,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { DrainEventType, EcsDrainHook, EcsDrainHookProps } from '../src';
import { DRAIN_EVENT, ENV } from '../src/constants';

interface Fixture {
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly group: autoscaling.AutoScalingGroup;
}

function fixture(): Fixture {
  const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, clusterName: 'prod' });
  const group = newGroup(stack, vpc, 'Group');
  return { stack, vpc, cluster, group };
}

function newGroup(stack: Stack, vpc: ec2.IVpc, id: string): autoscaling.AutoScalingGroup {
  return new autoscaling.AutoScalingGroup(stack, id, {
    vpc,
    instanceType: new ec2.InstanceType('t3.micro'),
    machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
  });
}

function hook(f: Fixture, props: Partial<EcsDrainHookProps> = {}): EcsDrainHook {
  return new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster, autoScalingGroups: [f.group], ...props });
}

describe('EcsDrainHook', () => {
  test('adds a termination lifecycle hook with CONTINUE and a heartbeat derived from the drain timeout', () => {
    // GIVEN
    const f = fixture();
    // WHEN
    const drain = hook(f, { drainTimeout: Duration.minutes(30) });
    // THEN
    Template.fromStack(f.stack).hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      AutoScalingGroupName: { Ref: Match.stringLikeRegexp('^Group') },
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      DefaultResult: 'CONTINUE',
      HeartbeatTimeout: 35 * 60, // drain timeout + 5 minutes to finish
      LifecycleHookName: drain.lifecycleHookName,
      NotificationTargetARN: Match.absent(),
    });
  });

  test('caps the heartbeat timeout at 2 hours for longer drains', () => {
    const f = fixture();
    const drain = hook(f, { drainTimeout: Duration.hours(6) });
    expect(drain.heartbeatTimeout.toSeconds()).toBe(7200);
    Template.fromStack(f.stack).hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 7200 });
  });

  test('defaults: one hour drain, force on timeout, drain on Spot, one-month logs', () => {
    const f = fixture();
    hook(f);
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.DRAIN_TIMEOUT_SECONDS]: '3600',
          [ENV.HEARTBEAT_TIMEOUT_SECONDS]: '3900',
          [ENV.FORCE_DEREGISTER_ON_TIMEOUT]: 'true',
          [ENV.DRAIN_ON_SPOT_INTERRUPTION]: 'true',
          [ENV.CLUSTER_NAME]: { Ref: Match.stringLikeRegexp('^Cluster') },
        }),
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.resourceCountIs('AWS::Events::Rule', 5);
  });

  test('two functions of the same code (events, reconcile pass) on a pinned Node.js runtime of 22 or newer, with the construct path in their descriptions', () => {
    const f = fixture();
    hook(f);
    const functions = Object.values(Template.fromStack(f.stack).findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(2);
    for (const { Properties: props } of functions) {
      expect(props.Runtime).toMatch(/^nodejs(\d+)\.x$/);
      expect(Number(/^nodejs(\d+)\.x$/.exec(props.Runtime)![1])).toBeGreaterThanOrEqual(22);
      expect(props.Description).toContain('Stack/Drain');
      expect(props.Handler).toBe('index.handler');
    }
    expect(functions[0].Properties.Code).toEqual(functions[1].Properties.Code);
    expect(functions[0].Properties.Environment).toEqual(functions[1].Properties.Environment);
  });

  test('the reconcile pass reserves no concurrency and is over within its minute: a one-minute timeout, no retries, a minute of event age, no dead letters', () => {
    const f = fixture();
    const drain = hook(f);
    const template = Template.fromStack(f.stack);
    const reconciler = f.stack.resolve((drain.reconcileFunction.node.defaultChild as CfnResource).logicalId);
    const responder = f.stack.resolve((drain.function.node.defaultChild as CfnResource).logicalId);
    // Any reservation fails to deploy in an account whose quota is under 100 (Lambda keeps 100 unreserved).
    for (const fn of [reconciler, responder]) expect(template.toJSON().Resources[fn].Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(template.toJSON().Resources[reconciler].Properties.Timeout).toBe(60);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: reconciler }, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, DestinationConfig: Match.absent(),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [reconciler, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });

  test('passes the managed group names as a JSON list', () => {
    const f = fixture();
    const other = newGroup(f.stack, f.vpc, 'Other');
    const drain = hook(f);
    drain.addAutoScalingGroup(other);
    const env = Object.values(Template.fromStack(f.stack).findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;
    expect(env[ENV.AUTO_SCALING_GROUP_NAMES]).toEqual({
      'Fn::Join': ['', ['["', { Ref: expect.stringMatching(/^Group/) }, '","', { Ref: expect.stringMatching(/^Other/) }, '"]']],
    });
    Template.fromStack(f.stack).resourceCountIs('AWS::AutoScaling::LifecycleHook', 2);
  });

  test('routes lifecycle actions of the managed groups and this hook, DRAINING events and stopped EC2 tasks of this cluster, a one-minute schedule and Spot warnings', () => {
    const f = fixture();
    const drain = hook(f);
    const template = Template.fromStack(f.stack);
    const queueArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrainEventQueue'), 'Arn'] };
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        'detail': { AutoScalingGroupName: [{ Ref: Match.stringLikeRegexp('^Group') }], LifecycleHookName: [drain.lifecycleHookName] },
      },
      Targets: [Match.objectLike({ Arn: queueArn, DeadLetterConfig: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecs'],
        'detail-type': ['ECS Container Instance State Change'],
        'detail': { clusterArn: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] }], status: ['DRAINING'] },
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        'detail': { clusterArn: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] }], lastStatus: ['STOPPED'], containerInstanceArn: [{ exists: true }] },
      },
      Targets: [Match.objectLike({ Arn: queueArn })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrainReconciler'), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
    });
  });

  test('drainOnSpotInterruption: false removes the Spot rule and tells the controller', () => {
    const f = fixture();
    hook(f, { drainOnSpotInterruption: false, forceDeregisterOnTimeout: false, logRetention: logs.RetentionDays.ONE_WEEK });
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('AWS::Events::Rule', 4);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.DRAIN_ON_SPOT_INTERRUPTION]: 'false', [ENV.FORCE_DEREGISTER_ON_TIMEOUT]: 'false' }) },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('the rules deliver to an encrypted event queue the event function reads in batches, a few at a time; what fails lands in the dead-letter queue', () => {
    const f = fixture();
    const drain = hook(f);
    const template = Template.fromStack(f.stack);
    const queue = f.stack.resolve((drain.eventQueue.node.defaultChild as CfnResource).logicalId);
    const deadLetters = f.stack.resolve((drain.deadLetterQueue.node.defaultChild as CfnResource).logicalId);
    const fn = f.stack.resolve((drain.function.node.defaultChild as CfnResource).logicalId);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      // Lambda refuses a visibility timeout below the function's timeout (60 s): six times it.
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 3600,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetters, 'Arn'] }, maxReceiveCount: 3 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      FunctionName: { Ref: fn },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(template.toJSON().Resources[fn].Properties.Timeout).toBe(60);
    // Every event rule targets the queue, with the dead-letter queue for deliveries that fail.
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(r => r.Properties.EventPattern);
    expect(rules).toHaveLength(4);
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([expect.objectContaining({
        Arn: { 'Fn::GetAtt': [queue, 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [deadLetters, 'Arn'] } },
      })]);
    }
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
  });

  describe('IAM', () => {
    function statements(f: Fixture): any[] {
      const policies = Template.fromStack(f.stack).findResources('AWS::IAM::Policy');
      return Object.entries(policies)
        .filter(([id]) => id.startsWith('DrainController'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    }
    const actionsOf = (s: any): string[] => [s.Action].flat();
    const WRITE_ACTIONS = [
      'ecs:UpdateContainerInstancesState', 'ecs:DeregisterContainerInstance', 'ecs:PutAttributes',
      'autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat',
    ];

    test('allows what the controller calls', () => {
      const f = fixture();
      hook(f);
      const allowed = statements(f).flatMap(actionsOf);
      expect(allowed).toEqual(expect.arrayContaining([
        'ecs:UpdateContainerInstancesState', 'ecs:DescribeContainerInstances', 'ecs:DeregisterContainerInstance',
        'ecs:ListContainerInstances', 'ecs:ListTasks', 'ecs:DescribeTasks', 'ecs:PutAttributes', 'ecs:DeleteAttributes',
        'autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat',
        'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeWarmPool',
      ]));
    });

    test('no write action on a * resource and no * action', () => {
      const f = fixture();
      hook(f);
      for (const statement of statements(f)) {
        expect(actionsOf(statement).some(a => a.includes('*'))).toBe(false);
        if (statement.Resource === '*') {
          expect(actionsOf(statement).filter(a => WRITE_ACTIONS.includes(a))).toEqual([]);
        }
      }
    });

    test('a * resource is either an Auto Scaling Describe* (no resource-level permissions) or scoped to the cluster by ecs:cluster', () => {
      const f = fixture();
      hook(f);
      const onStar = statements(f).filter(s => s.Resource === '*');
      expect(onStar.length).toBeGreaterThan(0);
      for (const statement of onStar) {
        const actions = actionsOf(statement);
        if (actions.every(a => a.startsWith('autoscaling:Describe'))) continue;
        expect(statement.Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'Arn'] } } });
      }
    });

    // A cluster-wide ListTasks (no containerInstance) is authorized on '*'
    // (cdklabs/construct-hub#1207); a grant on container instances alone refuses it.
    test('ListTasks is allowed on * under ArnEquals ecs:cluster = the cluster', () => {
      const f = fixture();
      hook(f);
      const listTasks = statements(f).filter(s => actionsOf(s).includes('ecs:ListTasks'));
      expect(listTasks).toEqual([expect.objectContaining({
        Effect: 'Allow',
        Resource: '*',
        Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'Arn'] } } },
      })]);
    });

    test('ECS writes are scoped to this cluster, Auto Scaling writes to the managed groups', () => {
      const f = fixture();
      hook(f);
      const all = statements(f);
      const drain = all.find(s => actionsOf(s).includes('ecs:UpdateContainerInstancesState'));
      expect(JSON.stringify(drain.Resource)).toContain(':container-instance/');
      expect(JSON.stringify(drain.Resource)).toContain('Cluster');
      const deregister = all.find(s => actionsOf(s).includes('ecs:DeregisterContainerInstance'));
      expect(JSON.stringify(deregister.Resource)).toMatch(/Cluster[0-9A-Z]+","Arn"/);
      const complete = all.find(s => actionsOf(s).includes('autoscaling:CompleteLifecycleAction'));
      expect(JSON.stringify(complete.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/');
      expect(JSON.stringify(complete.Resource)).toMatch(/"Ref":"Group[0-9A-Z]+"/);
    });
  });

  describe('imported resources', () => {
    test('works with an imported cluster and an imported group', () => {
      const stack = new Stack(new App(), 'Imported', { env: { account: '111111111111', region: 'eu-west-1' } });
      const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', {
        clusterName: 'legacy', vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'] }),
      });
      const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'legacy-asg');
      new EcsDrainHook(stack, 'Drain', { cluster, autoScalingGroups: [group] });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { AutoScalingGroupName: 'legacy-asg' });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.CLUSTER_NAME]: 'legacy', [ENV.AUTO_SCALING_GROUP_NAMES]: '["legacy-asg"]' }) },
      });
      const ecsRule = Object.values(template.findResources('AWS::Events::Rule'))
        .find(r => r.Properties.EventPattern?.source?.[0] === 'aws.ecs');
      expect(JSON.stringify(ecsRule?.Properties.EventPattern.detail.clusterArn)).toContain(':ecs:eu-west-1:111111111111:cluster/legacy');
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
            Resource: [{ 'Fn::Join': ['', Match.arrayWith([':autoscaling:eu-west-1:111111111111:autoScalingGroup:*:autoScalingGroupName/legacy-asg'])] }],
          })]),
        },
      });
    });

    test('works with a group behind an AsgCapacityProvider and warns when ECS managed draining is on', () => {
      const f = fixture();
      const provider = new ecs.AsgCapacityProvider(f.stack, 'Provider', { autoScalingGroup: f.group, enableManagedTerminationProtection: false });
      f.cluster.addAsgCapacityProvider(provider);
      hook(f);
      Annotations.fromStack(f.stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp('managed instance draining on'));
      Template.fromStack(f.stack).hasResourceProperties('AWS::AutoScaling::LifecycleHook', { LifecycleHookName: Match.stringLikeRegexp('Drain') });
    });

    test('no managed-draining warning when the capacity provider turns it off', () => {
      const f = fixture();
      const provider = new ecs.AsgCapacityProvider(f.stack, 'Provider', {
        autoScalingGroup: f.group, enableManagedTerminationProtection: false, enableManagedDraining: false,
      });
      f.cluster.addAsgCapacityProvider(provider);
      hook(f);
      Annotations.fromStack(f.stack).hasNoWarning('/Stack/Drain', Match.anyValue());
    });

    test('warns when a drained group returns instances to its warm pool on scale-in (ECS does not support it)', () => {
      const f = fixture();
      hook(f);
      f.group.addWarmPool({ reuseOnScaleIn: true });
      Annotations.fromStack(f.stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp('ReuseOnScaleIn.*does not support'));
    });

    test('does not warn for a warm pool without ReuseOnScaleIn', () => {
      const f = fixture();
      hook(f);
      f.group.addWarmPool({});
      expect(Annotations.fromStack(f.stack).findWarning('/Stack/Drain', Match.stringLikeRegexp('ReuseOnScaleIn'))).toEqual([]);
    });

    test('warns when aws-cdk\'s own drain hook is kept on the group (removeCdkDrainHook: false), with advice that compiles', () => {
      const f = fixture();
      const provider = new ecs.AsgCapacityProvider(f.stack, 'Provider', {
        autoScalingGroup: f.group, enableManagedTerminationProtection: false, enableManagedDraining: false,
      });
      f.cluster.addAsgCapacityProvider(provider);
      hook(f, { removeCdkDrainHook: false });
      const warnings = Annotations.fromStack(f.stack).findWarning('/Stack/Drain', Match.stringLikeRegexp("aws-cdk's own drain hook"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0].entry.data).toContain('Leave removeCdkDrainHook at its default (true)');
      expect(warnings[0].entry.data).not.toContain('taskDrainTime');
    });
  });

  describe('validation', () => {
    test.each([
      [Duration.seconds(59), 'drainTimeout must be at least 1 minute; got 59 seconds'],
      [Duration.hours(48), 'drainTimeout must be at most 47 hours 55 minutes (the lifecycle action\'s 48-hour global timeout less 5 minutes to finish); got 48 hours'],
      [Duration.days(3), 'drainTimeout must be at most 47 hours 55 minutes (the lifecycle action\'s 48-hour global timeout less 5 minutes to finish); got 72 hours'],
    ])('drainTimeout %s is rejected', (drainTimeout, message) => {
      const f = fixture();
      expect(() => hook(f, { drainTimeout })).toThrow(message);
    });

    test.each([
      // The heartbeat is the drain timeout plus 5 minutes to finish, capped at 2 hours.
      [Duration.minutes(1), 60, 360],
      [Duration.hours(47), 47 * 3600, 7200],
    ])('drainTimeout %s is accepted', (drainTimeout, drainSeconds, heartbeatSeconds) => {
      const f = fixture();
      expect(() => hook(f, { drainTimeout })).not.toThrow();
      // Accepted as given, not clamped to the bounds: the hook and the function carry it.
      const template = Template.fromStack(f.stack);
      template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 1);
      template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: heartbeatSeconds });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [ENV.DRAIN_TIMEOUT_SECONDS]: String(drainSeconds),
            [ENV.HEARTBEAT_TIMEOUT_SECONDS]: String(heartbeatSeconds),
          }),
        },
      });
    });

    test('an unresolved drainTimeout is not validated and gets the maximum heartbeat', () => {
      const f = fixture();
      const drain = hook(f, { drainTimeout: Duration.seconds(Token.asNumber({ Ref: 'DrainSeconds' })) });
      expect(drain.heartbeatTimeout.toSeconds()).toBe(7200);
    });

    test('the same group added twice is rejected with its name', () => {
      const f = fixture();
      const drain = hook(f);
      expect(() => drain.addAutoScalingGroup(f.group)).toThrow(/Auto Scaling group Stack\/Group is already managed by EcsDrainHook Stack\/Drain/);
    });

    test('the same imported group name added twice is rejected with its name', () => {
      const f = fixture();
      const a = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(f.stack, 'A', 'workers');
      const b = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(f.stack, 'B', 'workers');
      expect(() => hook(f, { autoScalingGroups: [a, b] })).toThrow("Auto Scaling group 'workers' is already managed by EcsDrainHook Stack/Drain");
    });

    test('no group at all fails synthesis', () => {
      const f = fixture();
      new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster });
      expect(() => Template.fromStack(f.stack)).toThrow('EcsDrainHook Stack/Drain has no Auto Scaling group: pass autoScalingGroups or call addAutoScalingGroup()');
    });

    test('a group added later satisfies the validation', () => {
      const f = fixture();
      const drain = new EcsDrainHook(f.stack, 'Drain', { cluster: f.cluster });
      drain.addAutoScalingGroup(f.group);
      expect(() => Template.fromStack(f.stack)).not.toThrow();
      // The group added later is drained like one passed to the constructor: its hook, and its name for the function.
      const template = Template.fromStack(f.stack);
      template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 1);
      template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
        AutoScalingGroupName: { Ref: Match.stringLikeRegexp('^Group') },
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        LifecycleHookName: drain.lifecycleHookName,
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [ENV.AUTO_SCALING_GROUP_NAMES]: { 'Fn::Join': ['', ['["', { Ref: Match.stringLikeRegexp('^Group') }, '"]']] },
          }),
        },
      });
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({
          'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
          'detail': { AutoScalingGroupName: [{ Ref: Match.stringLikeRegexp('^Group') }], LifecycleHookName: [drain.lifecycleHookName] },
        }),
      });
    });
  });

  describe('operations', () => {
    test('no alarm and no dashboard unless asked for', () => {
      const f = fixture();
      const drain = hook(f);
      const template = Template.fromStack(f.stack);
      template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
      expect(drain.alarms).toEqual([]);
      expect(drain.dashboard).toBeUndefined();
    });

    test('createAlarms: failed invocations, dead-letter queue depth, forced drains and blocked drains', () => {
      const f = fixture();
      const drain = hook(f, { createAlarms: true });
      const template = Template.fromStack(f.stack);
      expect(drain.alarms).toHaveLength(4);
      // Blocked for two periods in a row: a standalone task ending on its own a minute later pages nobody
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'EcsDrainHook',
        MetricName: 'DrainsBlocked',
        Statistic: 'Maximum',
        EvaluationPeriods: 2,
        Threshold: 1,
        Dimensions: [{ Name: 'ClusterName', Value: { Ref: Match.stringLikeRegexp('^Cluster') } }],
      });
      // Errors of both functions, summed
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'events + passes' }),
          Match.objectLike({ Id: 'events', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/Lambda', MetricName: 'Errors' }) }) }),
          Match.objectLike({ Id: 'passes', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/Lambda', MetricName: 'Errors' }) }) }),
        ]),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'EcsDrainHook', MetricName: 'DrainsForced', Dimensions: [{ Name: 'ClusterName', Value: { Ref: Match.stringLikeRegexp('^Cluster') } }],
      });
    });

    test('the alarms take actions (the README wires them to an SNS topic)', () => {
      const f = fixture();
      const drain = hook(f, { createAlarms: true });
      const pager = new sns.Topic(f.stack, 'Pager');
      drain.alarms.forEach(alarm => alarm.addAlarmAction(new cloudwatchActions.SnsAction(pager)));
      const alarms = Object.values(Template.fromStack(f.stack).findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(4);
      for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Pager/) }]);
    });

    test('createDashboard: one dashboard of drains and the controller', () => {
      const f = fixture();
      const drain = hook(f, { createDashboard: true });
      expect(drain.dashboard).toBeDefined();
      const body = JSON.stringify(Template.fromStack(f.stack).findResources('AWS::CloudWatch::Dashboard'));
      for (const name of ['DrainsStarted', 'DrainsCompleted', 'DrainsForced', 'DrainDuration', 'Invocations']) expect(body).toContain(name);
    });
  });

  describe('stopTasksBeforeDeadline', () => {
    function stopStatements(f: Fixture): any[] {
      return Object.entries(Template.fromStack(f.stack).findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith('DrainController'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
        .filter((st: any) => [st.Action].flat().includes('ecs:StopTask'));
    }

    test('tells the controller, and lets it stop the cluster\'s tasks only', () => {
      const f = fixture();
      hook(f, { stopTasksBeforeDeadline: Duration.minutes(10) });
      Template.fromStack(f.stack).allResourcesProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.STOP_TASKS_BEFORE_DEADLINE_SECONDS]: '600' }) },
      });
      expect(stopStatements(f)).toEqual([{
        Sid: 'StopTasksOfTheCluster',
        Effect: 'Allow',
        Action: 'ecs:StopTask',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-west-1:111111111111:task/', { Ref: expect.stringMatching(/^Cluster/) }, '/*']] },
        Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'Arn'] } } },
      }]);
    });

    test('without it, no StopTask and nothing told', () => {
      const f = fixture();
      hook(f);
      expect(stopStatements(f)).toEqual([]);
      const variables = Object.values(Template.fromStack(f.stack).findResources('AWS::Lambda::Function')).map((fn: any) => fn.Properties.Environment.Variables);
      for (const v of variables) expect(v[ENV.STOP_TASKS_BEFORE_DEADLINE_SECONDS]).toBeUndefined();
    });

    test.each([
      [Duration.seconds(30), Duration.hours(1), /at least 1 minute; got 30 seconds/],
      [Duration.hours(1), Duration.hours(1), /less than drainTimeout \(1 hour\); got 1 hour/],
      [Duration.hours(2), Duration.hours(1), /less than drainTimeout/],
    ])('refuses %s before a drain timeout of %s', (before, drainTimeout, message) => {
      const f = fixture();
      expect(() => hook(f, { stopTasksBeforeDeadline: before, drainTimeout })).toThrow(message);
    });
  });

  describe('diagnoseDrainsAfter', () => {
    const variables = (f: Fixture) => Object.values(Template.fromStack(f.stack).findResources('AWS::Lambda::Function'))
      .map((fn: any) => fn.Properties.Environment.Variables[ENV.DIAGNOSE_DRAINS_AFTER_SECONDS]);

    test('tells both functions (10 minutes by default, the drain timeout when that is shorter), and lets the controller read the cluster\'s services only', () => {
      const f = fixture();
      hook(f);
      expect(variables(f)).toEqual(['600', '600']);
      const statements = Object.entries(Template.fromStack(f.stack).findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith('DrainController'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
        .filter((st: any) => [st.Action].flat().includes('ecs:DescribeServices'));
      expect(statements).toEqual([{
        Sid: 'ReadServicesOfTheCluster',
        Effect: 'Allow',
        Action: 'ecs:DescribeServices',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-west-1:111111111111:service/', { Ref: expect.stringMatching(/^Cluster/) }, '/*']] },
      }]);
      const short = fixture();
      hook(short, { drainTimeout: Duration.minutes(5) });
      expect(variables(short)).toEqual(['300', '300']);
      const chosen = fixture();
      hook(chosen, { diagnoseDrainsAfter: Duration.minutes(2) });
      expect(variables(chosen)).toEqual(['120', '120']);
    });

    test.each([
      [Duration.seconds(30), Duration.hours(1), /diagnoseDrainsAfter must be at least 1 minute; got 30 seconds/],
      [Duration.hours(1), Duration.hours(1), /diagnoseDrainsAfter must be less than drainTimeout \(1 hour\); got 1 hour/],
    ])('refuses %s with a drain timeout of %s', (after, drainTimeout, message) => {
      expect(() => hook(fixture(), { diagnoseDrainsAfter: after, drainTimeout })).toThrow(message);
    });
  });

  describe('drain events', () => {
    function policyStatements(f: Fixture): any[] {
      return Object.entries(Template.fromStack(f.stack).findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith('DrainController'))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    }
    const publishing = (f: Fixture) => policyStatements(f).filter(s => [s.Action].flat().includes('events:PutEvents'));

    test('are published to the default bus, by a role allowed that bus and the library\'s own source only', () => {
      const f = fixture();
      hook(f);
      expect(publishing(f)).toEqual([{
        Sid: 'PublishDrainEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:111111111111:event-bus/default']] },
        Condition: { StringEquals: { 'events:source': DRAIN_EVENT.SOURCE } },
      }]);
      const variables = Object.values(Template.fromStack(f.stack).findResources('AWS::Lambda::Function')).map((fn: any) => fn.Properties.Environment.Variables);
      for (const v of variables) expect(v[ENV.EVENT_BUS_NAME]).toBeUndefined();
    });

    test('go to the bus of eventBus, named to the controller by its ARN', () => {
      const f = fixture();
      const bus = new events.EventBus(f.stack, 'Bus');
      const drain = hook(f, { eventBus: bus });
      expect(drain.eventBus).toBe(bus);
      expect(publishing(f).map(s => s.Resource)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^Bus/), 'Arn'] }]);
      Template.fromStack(f.stack).allResourcesProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.EVENT_BUS_NAME]: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Bus'), 'Arn'] } }) },
      });
    });

    test('onDrainEvent() makes a rule on the drain events\' bus for this cluster\'s drains, of every type by default', () => {
      const f = fixture();
      const bus = new events.EventBus(f.stack, 'Bus');
      const drain = hook(f, { eventBus: bus });
      const topic = new sns.Topic(f.stack, 'Topic');
      const rule = drain.onDrainEvent('AllDrains', { target: new targets.SnsTopic(topic) });
      expect(rule).toBeInstanceOf(events.Rule);
      Template.fromStack(f.stack).hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: Match.stringLikeRegexp('^Bus') },
        EventPattern: {
          'source': [DRAIN_EVENT.SOURCE],
          'detail-type': Object.values(DrainEventType),
          'detail': { cluster: [{ Ref: Match.stringLikeRegexp('^Cluster') }] },
        },
        Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Topic') } })],
      });
    });

    test('onDrainEvent() matches the types asked for, and merges a pattern of the caller\'s', () => {
      const f = fixture();
      const drain = hook(f);
      drain.onDrainEvent('ForcedOfOneGroup', { eventTypes: [DrainEventType.FORCED], eventPattern: { detail: { autoScalingGroupName: ['workers'] } } });
      Template.fromStack(f.stack).hasResourceProperties('AWS::Events::Rule', {
        EventBusName: Match.absent(),
        EventPattern: {
          'source': [DRAIN_EVENT.SOURCE],
          'detail-type': ['ECS Drain Forced'],
          'detail': { cluster: [{ Ref: Match.stringLikeRegexp('^Cluster') }], autoScalingGroupName: ['workers'] },
        },
      });
    });

    test('the detail types are the ones the controller publishes', () => {
      expect(new Set(Object.values(DrainEventType))).toEqual(new Set(Object.entries(DRAIN_EVENT).filter(([k]) => k !== 'SOURCE').map(([, v]) => v)));
    });

    test('notificationTopic: forced drains, drains without record and blocked drains reach the topic as readable lines, and EventBridge may publish to it', () => {
      const f = fixture();
      const topic = new sns.Topic(f.stack, 'Topic');
      hook(f, { notificationTopic: topic });
      const template = Template.fromStack(f.stack);
      const rules = Object.values(template.findResources('AWS::Events::Rule'))
        .filter((r: any) => r.Properties.EventPattern?.source?.[0] === DRAIN_EVENT.SOURCE) as any[];
      expect(rules).toHaveLength(2);
      // Waiting events only when a cause will not resolve itself
      expect(rules[1].Properties.EventPattern).toEqual({
        'source': [DRAIN_EVENT.SOURCE], 'detail-type': ['ECS Drain Waiting'], 'detail': { cluster: [{ Ref: expect.stringMatching(/^Cluster/) }], blocked: [true] },
      });
      expect(rules[1].Properties.Targets[0].InputTransformer.InputTemplate).toContain('Tasks counted now');
      expect(rules[0].Properties.EventPattern['detail-type']).toEqual(['ECS Drain Forced', 'ECS Drain Without Record']);
      const [target] = rules[0].Properties.Targets;
      expect(target.Arn).toEqual({ Ref: expect.stringMatching(/^Topic/) });
      expect(target.InputTransformer.InputPathsMap).toMatchObject({ 'detail-ec2InstanceId': '$.detail.ec2InstanceId', 'detail-reason': '$.detail.reason' });
      expect(target.InputTransformer.InputTemplate).toContain('Why: <detail-reason>');
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: [Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })] },
      });
    });

    test('no notification rule without a topic', () => {
      const f = fixture();
      hook(f);
      const rules = Object.values(Template.fromStack(f.stack).findResources('AWS::Events::Rule')) as any[];
      expect(rules.filter(r => r.Properties.EventPattern?.source?.[0] === DRAIN_EVENT.SOURCE)).toEqual([]);
    });
  });

  describe('metrics', () => {
    test.each([
      ['metricDrainsStarted', 'DrainsStarted', 'Sum'],
      ['metricDrainsCompleted', 'DrainsCompleted', 'Sum'],
      ['metricDrainsForced', 'DrainsForced', 'Sum'],
      ['metricDrainDuration', 'DrainDuration', 'Maximum'],
      ['metricDrainsWithoutRecord', 'DrainsWithoutRecord', 'Sum'],
      ['metricDrainsBlocked', 'DrainsBlocked', 'Maximum'],
      ['metricErrors', 'Errors', 'Sum'],
    ] as const)('%s reads %s in the controller\'s namespace by cluster', (method, metricName, statistic) => {
      const f = fixture();
      const drain = hook(f);
      const metric = drain[method]({ period: Duration.minutes(5) });
      expect(metric.namespace).toBe('EcsDrainHook');
      expect(metric.metricName).toBe(metricName);
      expect(metric.statistic).toBe(statistic);
      expect(metric.period.toMinutes()).toBe(5);
      expect(f.stack.resolve(metric.dimensions)).toEqual({ ClusterName: { Ref: expect.stringMatching(/^Cluster/) } });
    });

    test.each(['metricDrainsStarted', 'metricDrainsCompleted', 'metricDrainsForced', 'metricDrainDuration', 'metricDrainsWithoutRecord', 'metricErrors'] as const)(
      '%s refuses a dimensionsMap instead of silently replacing it', method => {
        const f = fixture();
        const drain = hook(f);
        expect(() => drain[method]({ dimensionsMap: { AutoScalingGroupName: 'workers' } }))
          .toThrow(/takes no dimensionsMap: the controller publishes it with the ClusterName dimension only/);
      });
  });
});

/**
 * `Simulation.update`: a CloudFormation stack update from one hand-written cloud assembly to the
 * next, as `cdk deploy` run again makes it (sim/runtime/stack-update.ts cites each rule):
 * - AWS::AutoScaling::LifecycleHook: in-place updates keep outstanding actions; a replacement
 *   creates the new hook first and deletes the old one at cleanup, and DeleteLifecycleHook
 *   completes its outstanding actions (CONTINUE for terminating, ABANDON for launching
 *   instances); a create that finds the group and name taken fails with AlreadyExists and the
 *   whole update rolls back;
 * - AWS::Lambda::Function: a changed function serves later invocations with its new environment
 *   and code, in new execution environments; a reservation above the account's allowance rolls
 *   the update back; a deleted function's queued events are dropped;
 * - AWS::Events::Rule: an added rule routes events at once; an unchanged schedule keeps its timing;
 * - what the emulator does not model is refused before anything changes.
 * Everything runs in virtual time.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { withSimulation } from './support';
import { Simulation } from '../../sim/runtime/simulation';
import { StackUpdateNotModelled } from '../../sim/runtime/stack-update';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const dirs: string[] = [];
afterAll(() => dirs.forEach(dir => fs.rmSync(dir, { recursive: true, force: true })));

/** Logs its code's version and two variables (read when it starts), sleeps `event.sleepMs`, returns. */
const code = (version: string) => `
exports.handler = async event => {
  const seen = \`${version} GREETING=\${process.env.GREETING} ONLY_V1=\${process.env.ONLY_V1 ?? '-'}\`;
  await new Promise(resolve => setTimeout(resolve, event.sleepMs ?? 0));
  console.log(seen);
  return seen;
};`;

/** Writes one stack `App` with these resources and function assets (directory name → handler code). */
function assembly(resources: Record<string, unknown>, assets: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-update-'));
  dirs.push(dir);
  for (const [asset, source] of Object.entries(assets)) {
    fs.mkdirSync(path.join(dir, asset));
    fs.writeFileSync(path.join(dir, asset, 'index.js'), source);
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '36.0.0',
    artifacts: { App: { type: 'aws:cloudformation:stack', properties: { templateFile: 'App.template.json' } } },
  }));
  fs.writeFileSync(path.join(dir, 'App.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

const GROUP = { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { AutoScalingGroupName: 'asg', MinSize: '0', MaxSize: '10' } };

function hook(props: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::AutoScaling::LifecycleHook',
    Properties: {
      AutoScalingGroupName: { Ref: 'Group' },
      LifecycleHookName: 'drain',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: 3600,
      DefaultResult: 'CONTINUE',
      ...props,
    },
  };
}

const ROLE = { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } };

function fn(asset: string, props: Record<string, unknown> = {}) {
  return {
    Type: 'AWS::Lambda::Function',
    Metadata: { 'aws:asset:path': asset },
    Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Timeout: 900, Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, ...props },
  };
}

/** Launches `count` instances into 'asg' and scales in by one: the oldest waits in the drain hook. */
function waitingInstance(sim: Simulation, count = 2): { waiting: string; others: string[] } {
  const ids = Array.from({ length: count }, () => sim.emulator.launchInstance('asg'));
  sim.emulator.scaleIn('asg', 1);
  expect(sim.emulator.lifecycleState(ids[0])).toBe('Terminating:Wait');
  return { waiting: ids[0], others: ids.slice(1) };
}

const quiet = (sim: Simulation) => () => sim.lambda.queuedEvents === 0 && sim.lambda.running === 0;

describe('AWS::AutoScaling::LifecycleHook', () => {
  test('an in-place update (HeartbeatTimeout) overwrites the settings and keeps the outstanding action', async () => {
    await withSimulation(assembly({ Group: GROUP, Hook: hook() }), {}, async sim => {
      const { waiting } = waitingInstance(sim);
      await sim.runFor(MINUTE);

      const result = sim.update(assembly({ Group: GROUP, Hook: hook({ HeartbeatTimeout: 7200 }) }));
      expect(result).toMatchObject({
        status: 'UPDATE_COMPLETE',
        changes: [{ stackName: 'App', logicalId: 'Hook', type: 'AWS::AutoScaling::LifecycleHook', action: 'Modify', replacement: false }],
      });
      expect(sim.emulator.lifecycleHooks('asg')).toEqual([expect.objectContaining({ name: 'drain', heartbeatTimeoutSeconds: 7200 })]);
      expect(sim.emulator.lifecycleState(waiting)).toBe('Terminating:Wait');
      expect(sim.emulator.timeline(waiting).completedBy).toBeUndefined();
      // The same action is still there to complete.
      expect(sim.emulator.completeLifecycleAction(waiting, 'drain')).toBe(true);
      expect(sim.emulator.timeline(waiting).completedBy).toBe('api');
    });
  });

  test('a new logical ID for the same group and name: the create finds it (AlreadyExists), the update rolls back, nothing changed', async () => {
    const first = assembly({ Group: GROUP, LifecycleHook1: hook() });
    await withSimulation(first, {}, async sim => {
      const { waiting } = waitingInstance(sim);
      const modelBefore = sim.model;

      const result = sim.update(assembly({ Group: GROUP, LifecycleHook2: hook({ HeartbeatTimeout: 600 }) }));
      expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(result.reason).toMatch(/^App: LifecycleHook2 \(AWS::AutoScaling::LifecycleHook\): .*already exists.*\(HandlerErrorCode: AlreadyExists\)$/);
      expect(result.changes).toEqual([
        expect.objectContaining({ logicalId: 'LifecycleHook2', action: 'Add' }),
        expect.objectContaining({ logicalId: 'LifecycleHook1', action: 'Remove' }),
      ]);
      expect(result.stacks).toEqual([expect.objectContaining({ stackName: 'App', status: 'UPDATE_ROLLBACK_COMPLETE' })]);
      // Nothing changed: the old hook with its settings, its action outstanding, the model as it was.
      expect(sim.emulator.lifecycleHooks('asg')).toEqual([expect.objectContaining({ name: 'drain', heartbeatTimeoutSeconds: 3600 })]);
      expect(sim.emulator.lifecycleState(waiting)).toBe('Terminating:Wait');
      expect(sim.emulator.timeline(waiting).completedBy).toBeUndefined();
      expect(sim.model).toBe(modelBefore);
      // Deploying what is deployed is no change.
      expect(sim.update(first)).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [], stacks: [{ status: 'NO_CHANGES' }] });
    });
  });

  test('a hook created outside CloudFormation blocks a create of the same name', async () => {
    await withSimulation(assembly({ Group: GROUP, Hook: hook() }), {}, async sim => {
      sim.emulator.putLifecycleHook({ groupName: 'asg', hookName: 'manual', heartbeatTimeoutSeconds: 60 });
      const result = sim.update(assembly({ Group: GROUP, Hook: hook(), Manual: hook({ LifecycleHookName: 'manual' }) }));
      expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(result.reason).toContain('Manual (AWS::AutoScaling::LifecycleHook)');
      expect(result.reason).toContain('AlreadyExists');
      expect(sim.emulator.lifecycleHooks('asg').map(h => [h.name, h.heartbeatTimeoutSeconds])).toEqual([['drain', 3600], ['manual', 60]]);
    });
  });

  test('a renamed hook is replaced: the new one created, the old one deleted at cleanup, its waiting instance continued (hook-deleted)', async () => {
    await withSimulation(assembly({ Group: GROUP, Hook: hook() }), {}, async sim => {
      const { waiting, others } = waitingInstance(sim);
      await sim.runFor(MINUTE);

      const result = sim.update(assembly({ Group: GROUP, Hook: hook({ LifecycleHookName: 'drain-v2' }) }));
      expect(result).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [{ logicalId: 'Hook', action: 'Modify', replacement: true }] });
      expect(sim.emulator.lifecycleHooks('asg').map(h => h.name)).toEqual(['drain-v2']);
      // DeleteLifecycleHook: the terminating instance's action was completed with CONTINUE.
      expect(sim.emulator.timeline(waiting)).toMatchObject({ completedBy: 'hook-deleted', lifecycleCompletedAt: sim.clock.now() });
      expect(sim.emulator.lifecycleState(waiting)).toBe('Terminating:Proceed');
      await sim.runFor(MINUTE);
      expect(sim.emulator.lifecycleState(waiting)).toBeUndefined();
      expect(sim.emulator.timeline(waiting).terminatedAt).toBeDefined();
      // The next scale-in waits in the new hook.
      sim.emulator.scaleIn('asg', 1);
      expect(sim.emulator.lifecycleState(others[0])).toBe('Terminating:Wait');
      expect(sim.emulator.completeLifecycleAction(others[0], 'drain-v2')).toBe(true);
    });
  });

  test('a removed hook: outstanding terminating actions are completed with CONTINUE, launching ones with ABANDON', async () => {
    const launchHook = hook({ LifecycleHookName: 'warm-up', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', DefaultResult: 'ABANDON' });
    await withSimulation(assembly({ Group: GROUP, Drain: hook(), WarmUp: launchHook }), {}, async sim => {
      const serving = sim.emulator.launchInstance('asg');
      expect(sim.emulator.lifecycleState(serving)).toBe('Pending:Wait');
      sim.emulator.completeLifecycleAction(serving, 'warm-up', 'CONTINUE');
      expect(sim.emulator.lifecycleState(serving)).toBe('InService');
      const launching = sim.emulator.launchInstance('asg');
      sim.emulator.scaleIn('asg', 1);
      expect(sim.emulator.lifecycleState(serving)).toBe('Terminating:Wait');
      expect(sim.emulator.lifecycleState(launching)).toBe('Pending:Wait');

      const result = sim.update(assembly({ Group: GROUP }));
      expect(result).toMatchObject({
        status: 'UPDATE_COMPLETE',
        changes: [{ logicalId: 'Drain', action: 'Remove' }, { logicalId: 'WarmUp', action: 'Remove' }],
      });
      expect(sim.emulator.lifecycleHooks('asg')).toEqual([]);
      expect(sim.emulator.timeline(serving)).toMatchObject({ completedBy: 'hook-deleted' });
      expect(sim.emulator.timeline(launching).launchWait).toMatchObject({ completedBy: 'hook-deleted', result: 'ABANDON' });
      await sim.runFor(MINUTE);
      expect(sim.emulator.lifecycleState(serving)).toBeUndefined();
      expect(sim.emulator.lifecycleState(launching)).toBeUndefined();
      expect(sim.model.lifecycleHooks).toEqual([]);
    });
  });
});

describe('AWS::Lambda::Function', () => {
  const v1 = () => assembly({
    Role: ROLE,
    Fn: fn('asset.v1', { FunctionName: 'greeter', Environment: { Variables: { GREETING: 'v1', ONLY_V1: 'yes' } } }),
  }, { 'asset.v1': code('code-v1') });
  const v2 = () => assembly({
    Role: ROLE,
    Fn: fn('asset.v2', { FunctionName: 'greeter', Environment: { Variables: { GREETING: 'v2' } } }),
  }, { 'asset.v2': code('code-v2') });

  test('a changed environment and code serve invocations that start after the update; the one in flight finishes on what it started with', async () => {
    await withSimulation(v1(), {}, async sim => {
      sim.lambda.invokeAsync('greeter', { sleepMs: 2 * MINUTE });
      await sim.runFor(10 * SECOND);
      expect(sim.lambda.running).toBe(1);
      const environmentsBefore = sim.lambda.stats('greeter').environments;

      const result = sim.update(v2());
      expect(result).toMatchObject({
        status: 'UPDATE_COMPLETE',
        changes: [{ logicalId: 'Fn', type: 'AWS::Lambda::Function', action: 'Modify', replacement: false }],
      });
      expect(result.changes[0].changedProperties).toEqual(['Code', 'Environment']);
      // Lambda provisions the new configuration at the update.
      expect(sim.lambda.stats('greeter').environments).toBe(environmentsBefore + 1);
      sim.lambda.invokeAsync('greeter', {});
      await sim.runUntil(quiet(sim), 10 * MINUTE);
      sim.lambda.invokeAsync('greeter', {});
      await sim.runUntil(quiet(sim), 10 * MINUTE);

      const logs = sim.lambda.invocations.map(i => [i.outcome, i.logs]);
      expect(logs).toEqual([
        ['success', ['code-v1 GREETING=v1 ONLY_V1=yes']],
        ['success', ['code-v2 GREETING=v2 ONLY_V1=-']],
        ['success', ['code-v2 GREETING=v2 ONLY_V1=-']],
      ]);
      // The environment of the first invocation (the old configuration) was not reused.
      expect(sim.lambda.stats('greeter')).toMatchObject({ invocations: 3, environments: environmentsBefore + 1 });
      expect(sim.model.functions[0].environment).toEqual({ GREETING: 'v2' });
    });
  });

  test('a reservation raised above what the account allows is refused by Lambda: the update rolls back, nothing of it is made', async () => {
    const template = (reserved: number, extra: Record<string, unknown> = {}) => assembly({
      Role: ROLE,
      Fn: fn('asset.v1', { FunctionName: 'greeter', ReservedConcurrentExecutions: reserved, Environment: { Variables: { GREETING: 'v1' } } }),
      ...extra,
    }, { 'asset.v1': code('code-v1') });
    await withSimulation(template(100), { lambdaAccountConcurrencyLimit: 1000 }, async sim => {
      expect(sim.lambda.concurrencyLimits).toEqual({ account: 1000, unreserved: 900 });
      const rule = {
        Type: 'AWS::Events::Rule',
        Properties: { Name: 'added', EventPattern: { source: ['aws.autoscaling'] }, Targets: [{ Id: 'Fn', Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } }] },
      };
      const result = sim.update(template(950, { Added: rule }));
      expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(result.reason).toContain('Fn (AWS::Lambda::Function)');
      expect(result.reason).toContain("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].");
      expect(sim.lambda.concurrencyLimits).toEqual({ account: 1000, unreserved: 900 });
      expect(sim.eventBridge.hasRule('added')).toBe(false);
      expect(sim.model.functions[0].reservedConcurrentExecutions).toBe(100);

      // Within the allowance it is applied, in place: the environments stay.
      const environments = sim.lambda.stats('greeter').environments;
      expect(sim.update(template(900)).status).toBe('UPDATE_COMPLETE');
      expect(sim.lambda.concurrencyLimits).toEqual({ account: 1000, unreserved: 100 });
      expect(sim.lambda.stats('greeter').environments).toBe(environments);
    });
  });

  test("a removed function's reservation is still held while the creates run: a create that needs it is refused", async () => {
    const reserved = (id: string, n: number) => fn(`asset.${id}`, { ReservedConcurrentExecutions: n });
    const before = assembly({ Role: ROLE, Old: reserved('old', 500) }, { 'asset.old': code('old') });
    await withSimulation(before, { lambdaAccountConcurrencyLimit: 1000 }, async sim => {
      const result = sim.update(assembly({ Role: ROLE, New: reserved('new', 500) }, { 'asset.new': code('new') }));
      expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(result.reason).toContain('New (AWS::Lambda::Function)');
      expect(sim.lambda.hasFunction('App-Old')).toBe(true);
      expect(sim.lambda.hasFunction('App-New')).toBe(false);
      // Released first (an update of its own), the reservation can be taken.
      expect(sim.update(assembly({ Role: ROLE, Old: fn('asset.old') }, { 'asset.old': code('old') })).status).toBe('UPDATE_COMPLETE');
      expect(sim.update(assembly({ Role: ROLE, New: reserved('new', 500) }, { 'asset.new': code('new') })).status).toBe('UPDATE_COMPLETE');
      expect(sim.lambda.concurrencyLimits).toEqual({ account: 1000, unreserved: 500 });
    });
  });

  test('a removed function: its queued events are dropped, the change is a Remove', async () => {
    const both = assembly({ Role: ROLE, Keep: fn('asset.keep'), Gone: fn('asset.gone') }, { 'asset.keep': code('keep'), 'asset.gone': code('gone') });
    await withSimulation(both, {}, async sim => {
      const requestId = sim.lambda.invokeAsync('App-Gone', {});
      expect(sim.lambda.queuedEvents).toBe(1);
      const result = sim.update(assembly({ Role: ROLE, Keep: fn('asset.keep') }, { 'asset.keep': code('keep') }));
      expect(result).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [{ logicalId: 'Gone', action: 'Remove' }] });
      expect(sim.lambda.queuedEvents).toBe(0);
      expect(sim.lambda.droppedEvents).toEqual([{ requestId, functionName: 'App-Gone', at: sim.clock.now() }]);
      expect(sim.lambda.hasFunction('App-Gone')).toBe(false);
      await sim.runFor(MINUTE);
      expect(sim.lambda.invocations).toEqual([]);
    });
  });

  test("a changed role policy: requests of an invocation are authorized against the role's policies as they are now", async () => {
    const withPolicy = (name: string) => assembly({
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, Policies: [{ PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'autoscaling:DescribeAutoScalingGroups', Resource: '*' }] } }] } },
      Fn: fn('asset.v1', { FunctionName: 'greeter' }),
    }, { 'asset.v1': code('code-v1') });
    await withSimulation(withPolicy('first'), {}, async sim => {
      const requestId = sim.lambda.invokeAsync('greeter', { sleepMs: MINUTE });
      await sim.runFor(10 * SECOND);
      const environments = sim.lambda.stats('greeter').environments;
      expect(sim.emulator.identify!(`${requestId}#1`)?.policies.map(p => p.name)).toEqual(['first']);
      const result = sim.update(withPolicy('second'));
      expect(result).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [{ logicalId: 'Role', type: 'AWS::IAM::Role', action: 'Modify' }] });
      expect(sim.emulator.identify!(`${requestId}#1`)?.policies.map(p => p.name)).toEqual(['second']);
      // Not a version setting: no new environment.
      expect(sim.lambda.stats('greeter').environments).toBe(environments);
    });
  });
});

describe('AWS::Events::Rule', () => {
  const target = [{ Id: 'Fn', Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] } }];
  const scheduled = { Type: 'AWS::Events::Rule', Properties: { Name: 'every-5', ScheduleExpression: 'rate(5 minutes)', Targets: target } };
  const onTermination = {
    Type: 'AWS::Events::Rule',
    Properties: {
      Name: 'on-termination',
      EventPattern: { 'source': ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'] },
      Targets: target,
    },
  };
  const app = (rules: Record<string, unknown>) => assembly({
    Group: GROUP, Hook: hook(), Role: ROLE, Fn: fn('asset.v1', { FunctionName: 'greeter' }), ...rules,
  }, { 'asset.v1': code('code-v1') });

  test('an added rule routes events from the update on; the unchanged schedule keeps its timing', async () => {
    await withSimulation(app({ Every5: scheduled }), {}, async sim => {
      const startedAt = sim.clock.now();
      sim.emulator.launchInstance('asg');
      sim.emulator.launchInstance('asg');
      await sim.runFor(2 * MINUTE);

      const result = sim.update(app({ Every5: scheduled, OnTermination: onTermination }));
      expect(result).toMatchObject({ status: 'UPDATE_COMPLETE', changes: [{ logicalId: 'OnTermination', type: 'AWS::Events::Rule', action: 'Add' }] });
      sim.emulator.scaleIn('asg', 1);
      await sim.runFor(9 * MINUTE);

      const events = sim.lambda.invocations.map(i => i.event as { 'detail-type': string; 'time': string });
      expect(events.filter(e => e['detail-type'] === 'EC2 Instance-terminate Lifecycle Action')).toHaveLength(1);
      // Scheduled events at +5 and +10 minutes from the start, not from the update.
      expect(events.filter(e => e['detail-type'] === 'Scheduled Event').map(e => Date.parse(e.time) - startedAt)).toEqual([5 * MINUTE, 10 * MINUTE]);
    });
  });

  test('a removed rule routes nothing from the update on', async () => {
    await withSimulation(app({ OnTermination: onTermination }), {}, async sim => {
      sim.emulator.launchInstance('asg');
      sim.update(app({}));
      sim.emulator.scaleIn('asg', 1);
      await sim.runFor(MINUTE);
      expect(sim.lambda.invocations).toEqual([]);
      expect(sim.eventBridge.hasRule('on-termination')).toBe(false);
    });
  });
});

describe('what the emulator does not model', () => {
  test("a change of a group's size, or its removal, is refused before anything changes", async () => {
    await withSimulation(assembly({ Group: GROUP, Hook: hook() }), {}, async sim => {
      const bigger = { ...GROUP, Properties: { ...GROUP.Properties, MaxSize: '20' } };
      expect(() => sim.update(assembly({ Group: bigger, Hook: hook({ HeartbeatTimeout: 600 }) })))
        .toThrow(new StackUpdateNotModelled('updating App/Group (AWS::AutoScaling::AutoScalingGroup): a change of its size (MaxSize)'));
      expect(() => sim.update(assembly({}))).toThrow(StackUpdateNotModelled);
      expect(sim.emulator.lifecycleHooks('asg')).toEqual([expect.objectContaining({ name: 'drain', heartbeatTimeoutSeconds: 3600 })]);
    });
  });

  test('an added group and cluster are created, with their hooks', async () => {
    await withSimulation(assembly({ Group: GROUP }), {}, async sim => {
      const result = sim.update(assembly({
        Group: GROUP,
        Cluster: { Type: 'AWS::ECS::Cluster', Properties: { ClusterName: 'second' } },
        Group2: { ...GROUP, Properties: { ...GROUP.Properties, AutoScalingGroupName: 'asg-2' } },
        Hook2: { ...hook(), Properties: { ...hook().Properties, AutoScalingGroupName: { Ref: 'Group2' } } },
      }));
      expect(result.status).toBe('UPDATE_COMPLETE');
      expect(result.changes.map(c => [c.logicalId, c.action])).toEqual([['Cluster', 'Add'], ['Group2', 'Add'], ['Hook2', 'Add']]);
      expect(sim.emulator.hasCluster('second')).toBe(true);
      expect(sim.emulator.lifecycleHooks('asg-2').map(h => h.name)).toEqual(['drain']);
    });
  });
});

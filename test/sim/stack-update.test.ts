/**
 * The change set of a stack update, by logical ID (CloudFormation user guide, "Update
 * CloudFormation stacks using change sets": Add, Modify, Remove, and whether a Modify replaces),
 * from two hand-written cloud assemblies read as the simulation reads them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadAssembly } from '../../sim/runtime/assembly';
import { computeChanges, StackUpdateValidationError } from '../../sim/runtime/stack-update';

const dirs: string[] = [];
afterAll(() => dirs.forEach(dir => fs.rmSync(dir, { recursive: true, force: true })));

/** One stack `App` with these resources; `assets` names asset directories to create. */
function assembly(resources: Record<string, unknown>, assets: string[] = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-update-changes-'));
  dirs.push(dir);
  for (const asset of assets) {
    fs.mkdirSync(path.join(dir, asset));
    fs.writeFileSync(path.join(dir, asset, 'index.js'), 'exports.handler = async () => "ok";');
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '36.0.0',
    artifacts: { App: { type: 'aws:cloudformation:stack', properties: { templateFile: 'App.template.json' } } },
  }));
  fs.writeFileSync(path.join(dir, 'App.template.json'), JSON.stringify({ Resources: resources }));
  return loadAssembly(dir);
}

const group = { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { AutoScalingGroupName: 'asg', MinSize: '0', MaxSize: '4' } };
const hook = (props: Record<string, unknown> = {}) => ({
  Type: 'AWS::AutoScaling::LifecycleHook',
  Properties: {
    AutoScalingGroupName: { Ref: 'Group' },
    LifecycleHookName: 'drain',
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    HeartbeatTimeout: 300,
    ...props,
  },
});
const role = { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } };
const fn = (asset: string) => ({
  Type: 'AWS::Lambda::Function',
  Metadata: { 'aws:asset:path': asset },
  Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Role: { 'Fn::GetAtt': ['Role', 'Arn'] } },
});

test('nothing changed: an empty change set', () => {
  const before = assembly({ Group: group, Hook: hook() });
  const after = assembly({ Group: group, Hook: hook() });
  expect(computeChanges('App', before.resources, after.resources)).toEqual([]);
});

test('a new logical ID is an Add, a vanished one a Remove, even with the same physical name', () => {
  const before = assembly({ Group: group, Hook1: hook() });
  const after = assembly({ Group: group, Hook2: hook() });
  expect(computeChanges('App', before.resources, after.resources)).toEqual([
    { stackName: 'App', logicalId: 'Hook2', type: 'AWS::AutoScaling::LifecycleHook', action: 'Add', replacement: false },
    { stackName: 'App', logicalId: 'Hook1', type: 'AWS::AutoScaling::LifecycleHook', action: 'Remove', replacement: false },
  ]);
});

test('AWS::AutoScaling::LifecycleHook: HeartbeatTimeout updates in place, LifecycleHookName and AutoScalingGroupName replace', () => {
  const before = assembly({ Group: group, Hook: hook() });
  const changes = (props: Record<string, unknown>) => computeChanges('App', before.resources, assembly({ Group: group, Hook: hook(props) }).resources);
  expect(changes({ HeartbeatTimeout: 600 })).toEqual([expect.objectContaining({
    logicalId: 'Hook', action: 'Modify', replacement: false, changedProperties: ['HeartbeatTimeout'],
  })]);
  expect(changes({ LifecycleHookName: 'drain-v2' })).toEqual([expect.objectContaining({ action: 'Modify', replacement: true })]);
  expect(changes({ AutoScalingGroupName: 'other' })).toEqual([expect.objectContaining({ action: 'Modify', replacement: true })]);
});

test('a reference is compared resolved: a hook on a renamed group is modified with it', () => {
  const before = assembly({ Group: group, Hook: hook() });
  const after = assembly({ Group: { ...group, Properties: { ...group.Properties, AutoScalingGroupName: 'asg-2' } }, Hook: hook() });
  expect(computeChanges('App', before.resources, after.resources)).toEqual([
    expect.objectContaining({ logicalId: 'Group', action: 'Modify', replacement: true, changedProperties: ['AutoScalingGroupName'] }),
    expect.objectContaining({ logicalId: 'Hook', action: 'Modify', replacement: true, changedProperties: ['AutoScalingGroupName'] }),
  ]);
});

test('a function whose asset changes is modified (Code), in place', () => {
  const before = assembly({ Role: role, Fn: fn('asset.v1') }, ['asset.v1']);
  const after = assembly({ Role: role, Fn: fn('asset.v2') }, ['asset.v2']);
  expect(computeChanges('App', before.resources, after.resources)).toEqual([
    expect.objectContaining({ logicalId: 'Fn', action: 'Modify', replacement: false, changedProperties: ['Code'] }),
  ]);
  expect(before.functions[0].codeKey).toBe('asset.v1');
});

test('a changed resource type under the same logical ID is refused before the update starts', () => {
  const before = assembly({ Group: group, Thing: hook() });
  const after = assembly({ Group: group, Thing: { Type: 'AWS::SQS::Queue', Properties: {} } });
  expect(() => computeChanges('App', before.resources, after.resources)).toThrow(StackUpdateValidationError);
});

test('hooks and warm pools carry their stack and logical ID', () => {
  const model = assembly({ Group: group, Hook: hook() });
  expect(model.lifecycleHooks).toEqual([expect.objectContaining({ stackName: 'App', logicalId: 'Hook', groupName: 'asg', hookName: 'drain' })]);
});

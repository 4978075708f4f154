/**
 * A lifecycle hook's identity must survive every ordinary edit of the app. CloudFormation replaces a
 * resource whose logical ID moves or whose AutoScalingGroupName or LifecycleHookName changes
 * (CloudFormation resource reference, AWS::AutoScaling::LifecycleHook), and deleting a hook completes
 * its outstanding terminating actions with CONTINUE (Auto Scaling API reference, DeleteLifecycleHook):
 * every instance draining in it is terminated with its tasks.
 */
import { App, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { EcsDrainHook, EcsDrainHookProps } from '../src';

type Hooks = Map<string, { group: string; properties: Record<string, unknown> }>;

interface AppShape {
  /** Group construct ids, in the order given to the construct. */
  readonly groups: readonly string[];
  /** Groups added afterwards with addAutoScalingGroup(). */
  readonly added?: readonly string[];
  /** Imported groups (by name), given to the construct after the others. */
  readonly imported?: readonly string[];
  /** The construct id prefix of the imports. */
  readonly importedAs?: string;
  /** Where the construct lives: its scope's id under the stack (none: the stack itself) and its own id. */
  readonly scope?: string;
  readonly id?: string;
  readonly props?: Partial<EcsDrainHookProps>;
}

/** Synthesizes the app and returns its lifecycle hooks by logical ID, with the group each is on. */
function hooksOf(shape: AppShape): Hooks {
  const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, clusterName: 'prod' });
  const groups = new Map<string, autoscaling.IAutoScalingGroup>();
  for (const id of ['First', 'Middle', 'Last', 'Fourth']) {
    groups.set(id, new autoscaling.AutoScalingGroup(stack, id, {
      vpc, instanceType: new ec2.InstanceType('t3.micro'), machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
    }));
  }
  for (const name of shape.imported ?? []) groups.set(name, autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, `${shape.importedAs ?? 'Imported'}-${name}`, name));
  const scope: Construct = shape.scope ? new Construct(stack, shape.scope) : stack;
  const drain = new EcsDrainHook(scope, shape.id ?? 'Drain', {
    cluster,
    autoScalingGroups: [...shape.groups, ...shape.imported ?? []].map(id => groups.get(id)!),
    ...shape.props,
  });
  for (const id of shape.added ?? []) drain.addAutoScalingGroup(groups.get(id)!);
  const resources = Template.fromStack(stack).findResources('AWS::AutoScaling::LifecycleHook');
  const hooks: Hooks = new Map();
  for (const [logicalId, resource] of Object.entries(resources)) {
    const group = resource.Properties.AutoScalingGroupName;
    hooks.set(logicalId, { group: typeof group === 'string' ? group : group.Ref, properties: resource.Properties });
  }
  return hooks;
}

/** What CloudFormation would do to the hooks going from `before` to `after`. */
function changes(before: Hooks, after: Hooks) {
  const replacedOrDeleted: string[] = [];
  const created: string[] = [];
  for (const [logicalId, hook] of before) {
    const next = after.get(logicalId);
    if (!next) {
      replacedOrDeleted.push(`${logicalId} deleted (was on ${hook.group})`);
    } else if (next.group !== hook.group || next.properties.LifecycleHookName !== hook.properties.LifecycleHookName) {
      replacedOrDeleted.push(`${logicalId} replaced (${hook.group} -> ${next.group})`);
    }
  }
  for (const logicalId of after.keys()) if (!before.has(logicalId)) created.push(logicalId);
  // Hooks of groups that stay managed, whatever their logical ID: they must be the same resources.
  const groupsAfter = new Set([...after.values()].map(h => h.group));
  const movedOfKeptGroups = [...before].filter(([logicalId, hook]) => groupsAfter.has(hook.group)
    && (after.get(logicalId)?.group !== hook.group || JSON.stringify(after.get(logicalId)?.properties) !== JSON.stringify(hook.properties)));
  return { replacedOrDeleted, created, movedOfKeptGroups: movedOfKeptGroups.map(([id, h]) => `${id} on ${h.group}`) };
}

describe('a group\'s lifecycle hook keeps its logical ID and properties across edits of the group list', () => {
  const three: AppShape = { groups: ['First', 'Middle', 'Last'] };

  test.each<[string, AppShape, number]>([
    ['the middle group removed', { groups: ['First', 'Last'] }, 1],
    ['the first group removed', { groups: ['Middle', 'Last'] }, 1],
    ['the groups reordered', { groups: ['Last', 'First', 'Middle'] }, 0],
    ['a group added at the front', { groups: ['Fourth', 'First', 'Middle', 'Last'] }, 0],
    ['a group added with addAutoScalingGroup()', { groups: ['First', 'Middle', 'Last'], added: ['Fourth'] }, 0],
    ['a group moved from the list to addAutoScalingGroup()', { groups: ['Middle', 'Last'], added: ['First'] }, 0],
  ])('%s: only the hooks of groups no longer managed go', (_, edit, removedGroups) => {
    const { replacedOrDeleted, movedOfKeptGroups } = changes(hooksOf(three), hooksOf(edit));

    expect(movedOfKeptGroups).toEqual([]);
    expect(replacedOrDeleted).toHaveLength(removedGroups);
  });

  test('imported groups are keyed by their name: a new construct id for the import keeps the hook', () => {
    const before = hooksOf({ groups: ['First'], imported: ['legacy-ecs-instances'] });
    const after = hooksOf({ groups: ['Last', 'First'], imported: ['legacy-ecs-instances'], importedAs: 'Legacy' });

    expect(changes(before, after).movedOfKeptGroups).toEqual([]);
  });

  test('no two hooks share a logical ID, and each group has exactly one', () => {
    const hooks = hooksOf({ groups: ['First', 'Middle', 'Last'], added: ['Fourth'], imported: ['a-b', 'ab'] });

    expect(hooks.size).toBe(6);
    expect(new Set([...hooks.values()].map(h => h.group)).size).toBe(6);
  });
});

describe('the hook name', () => {
  test('pinned with lifecycleHookName, the hooks stay the same resources when the construct is renamed or moved', () => {
    const pinned = { lifecycleHookName: 'ecs-drain' };
    const before = hooksOf({ groups: ['First', 'Last'], props: pinned });
    const after = hooksOf({ groups: ['First', 'Last'], scope: 'Platform', id: 'Drainer', props: pinned });

    expect(changes(before, after)).toEqual({ replacedOrDeleted: [], created: [], movedOfKeptGroups: [] });
    for (const hook of after.values()) expect(hook.properties.LifecycleHookName).toBe('ecs-drain');
  });

  test('derived from the construct\'s path when not pinned: a rename gives every hook a new name', () => {
    const before = hooksOf({ groups: ['First'] });
    const after = hooksOf({ groups: ['First'], id: 'Drainer' });

    const [name] = [...before.values()].map(h => h.properties.LifecycleHookName);
    const [renamed] = [...after.values()].map(h => h.properties.LifecycleHookName);
    expect(renamed).not.toEqual(name);
    expect(changes(before, after).replacedOrDeleted).toHaveLength(1);
  });

  test.each([
    ['', 'between 1 and 255 characters'],
    ['x'.repeat(256), 'between 1 and 255 characters'],
    ['has space', 'letters, digits'],
    ['colon:name', 'letters, digits'],
  ])('an invalid name %j is refused at construction', (name, message) => {
    expect(() => hooksOf({ groups: ['First'], props: { lifecycleHookName: name } })).toThrow(message);
  });
});

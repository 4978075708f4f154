/**
 * A template's AWS::AutoScaling::WarmPool is deployed into the emulator with its group, with the
 * CloudFormation defaults (PoolState Stopped, MinSize 0, no MaxGroupPreparedCapacity).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DescribeWarmPoolCommand } from '@aws-sdk/client-auto-scaling';
import { startHarness } from './harness';
import { deployToEmulator, loadAssembly } from '../../sim/runtime/assembly';

function writeAssembly(resources: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warm-pool-assembly-'));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '36.0.0',
    artifacts: { App: { type: 'aws:cloudformation:stack', properties: { templateFile: 'App.template.json' } } },
  }));
  fs.writeFileSync(path.join(dir, 'App.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

describe('AWS::AutoScaling::WarmPool in a cloud assembly', () => {
  const group = (name: string) => ({ Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { AutoScalingGroupName: name, MinSize: '0', MaxSize: '4' } });

  test('is loaded with its properties and defaults and created by deployToEmulator', async () => {
    const dir = writeAssembly({
      Reused: group('reused'),
      Plain: group('plain'),
      ReusedPool: {
        Type: 'AWS::AutoScaling::WarmPool',
        Properties: {
          AutoScalingGroupName: { Ref: 'Reused' },
          PoolState: 'Hibernated',
          MinSize: 1,
          MaxGroupPreparedCapacity: 3,
          InstanceReusePolicy: { ReuseOnScaleIn: true },
        },
      },
      PlainPool: { Type: 'AWS::AutoScaling::WarmPool', Properties: { AutoScalingGroupName: { Ref: 'Plain' } } },
    });
    const model = loadAssembly(dir);
    fs.rmSync(dir, { recursive: true });
    expect(model.warmPools).toEqual([
      { stackName: 'App', logicalId: 'ReusedPool', groupName: 'reused', poolState: 'Hibernated', minSize: 1, maxGroupPreparedCapacity: 3, reuseOnScaleIn: true },
      { stackName: 'App', logicalId: 'PlainPool', groupName: 'plain', poolState: 'Stopped', minSize: 0, maxGroupPreparedCapacity: undefined, reuseOnScaleIn: false },
    ]);
    const h = await startHarness();
    try {
      deployToEmulator(model, h.emulator);
      const reused = await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'reused' }));
      expect(reused.WarmPoolConfiguration).toEqual({
        PoolState: 'Hibernated', MinSize: 1, MaxGroupPreparedCapacity: 3, InstanceReusePolicy: { ReuseOnScaleIn: true },
      });
      const plain = await h.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'plain' }));
      expect(plain.WarmPoolConfiguration).toEqual({ PoolState: 'Stopped', MinSize: 0, InstanceReusePolicy: { ReuseOnScaleIn: false } });
    } finally {
      h.close();
    }
  });
});

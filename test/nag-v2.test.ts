import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag-v2';
import { buildExampleApp, EXAMPLE_STACK_NAME } from './integ.drain-hook';
import { clusterWideListTasks, drainHookStack, NAG_STACK_NAME, unscopedStopTask } from './nag-fixtures';

// cdk-nag 2.x is an Aspect that reports findings as errors and warnings in the synthesis output
// (cdk-nag v2 README). Runs at both ends of the peer range: test/compat/ maps cdk-nag-v2 to a
// cdk-nag 2.x that supports aws-cdk-lib 2.120.0.

/** cdk-nag's errors and warnings, as `cdk synth` would print them: "<rule>[finding] at <path>". */
function nagV2Findings(app: App, stackName: string): string[] {
  Aspects.of(app).add(new AwsSolutionsChecks({ reports: false }));
  const messages = app.synth().getStackByName(stackName).messages;
  return messages
    .filter(m => m.level === 'error' || m.level === 'warning')
    .flatMap(m => {
      const rule = /^AwsSolutions-[A-Za-z0-9]+(\[[^\]]*\])?/.exec(String(m.entry.data));
      return rule ? [`${rule[0]} at ${m.id}`] : [];
    });
}

describe('cdk-nag v2 (AwsSolutionsChecks as an Aspect)', () => {
  test('no error or warning on the example app', () => {
    expect(nagV2Findings(buildExampleApp(), EXAMPLE_STACK_NAME)).toEqual([]);
  });

  test('no error or warning on the drain hook\'s resources, alarms and dashboard included', () => {
    const { app } = drainHookStack();
    expect(nagV2Findings(app, NAG_STACK_NAME)).toEqual([]);
  });

  test('a grant that moves to * with an ecs:cluster condition is acknowledged with its reason', () => {
    const { app, stack } = drainHookStack([clusterWideListTasks]);
    expect(nagV2Findings(app, NAG_STACK_NAME)).toEqual([]);
    const suppressions = Object.values(app.synth().getStackByName(stack.stackName).template.Resources as Record<string, any>)
      .flatMap(r => r.Metadata?.cdk_nag?.rules_to_suppress ?? [])
      .filter((r: any) => r.applies_to?.includes('Resource::*'));
    expect(suppressions.map((r: any) => r.reason)).toEqual([expect.stringContaining(
      'ecs:ListTasks (statement ListTasksOfTheCluster): on * only where ArnEquals ecs:cluster = arn:<AWS::Partition>:ecs:eu-west-1:111111111111:cluster/prod;')]);
  });

  test('a wildcard grant nothing justifies is still reported', () => {
    const { app } = drainHookStack([unscopedStopTask]);
    expect(nagV2Findings(app, NAG_STACK_NAME)).toEqual(['AwsSolutions-IAM5[Resource::*] at /NagFixture/Drain/ControllerRole/DefaultPolicy/Resource']);
  });
});

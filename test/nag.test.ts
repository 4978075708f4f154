import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildExampleApp, EXAMPLE_STACK_NAME } from './integ.drain-hook';
import { clusterWideListTasks, drainHookStack, unscopedStopTask } from './nag-fixtures';

const outdir = () => mkdtempSync(join(tmpdir(), 'nag-'));

/** cdk-nag v3's violations of a synthesized stack, as "<rule> on <construct path>". */
function nagV3Findings(app: App, stack: Stack): string[] {
  app.synth();
  const report = new AwsSolutionsChecks(app).validateScope(stack);
  return report.violations.flatMap(v => v.violatingResources.map(r => `${v.ruleName} on ${r.constructPath ?? r.resourceLogicalId}`));
}

// cdk-nag v3 is a policy-validation plugin: violations are read from the pack's report, not
// from annotations (cdk-nag MIGRATION.md, "Validation Output").
describe('cdk-nag AwsSolutions on the example app', () => {
  test('has no unacknowledged finding', () => {
    // GIVEN
    const app = buildExampleApp(outdir());
    const stack = app.node.findChild(EXAMPLE_STACK_NAME) as Stack;
    // WHEN (synthesis first, as in `cdk synth`: construct validations run before policy plugins)
    app.synth();
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    // THEN
    const findings = report.violations.flatMap(v => v.violatingResources.map(r => `${v.ruleName} on ${r.constructPath ?? r.resourceLogicalId}`));
    expect(findings).toEqual([]);
  });

  test('the acknowledgements are what hides the drain hook\'s findings (without synthesis they are not written yet)', () => {
    const app = buildExampleApp(outdir());
    const stack = app.node.findChild(EXAMPLE_STACK_NAME) as Stack;
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const drainHookFindings = report.violations
      .filter(v => v.violatingResources.some(r => r.constructPath?.includes('/DrainHook/')))
      .map(v => v.ruleName);
    expect(drainHookFindings).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::/)]));
  });

  test('a grant that moves to * with an ecs:cluster condition is acknowledged; a wildcard nothing justifies is reported', () => {
    const moved = drainHookStack([clusterWideListTasks]);
    expect(nagV3Findings(moved.app, moved.stack)).toEqual([]);
    const unscoped = drainHookStack([unscopedStopTask]);
    expect(nagV3Findings(unscoped.app, unscoped.stack)).toEqual(['AwsSolutions-IAM5[Resource::*] on NagFixture/Drain/ControllerRole/DefaultPolicy/Resource']);
  });
});

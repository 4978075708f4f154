/**
 * Checks on a synthesized template shared by the tests that remove or add resources.
 */

const PSEUDO_PARAMETER = /^AWS::/;

/** `Ref`, `Fn::GetAtt` and `DependsOn` targets that are neither a resource, a parameter nor a pseudo parameter. */
export function danglingReferences(template: { Resources?: Record<string, any>; Parameters?: Record<string, unknown> }): string[] {
  const known = new Set([...Object.keys(template.Resources ?? {}), ...Object.keys(template.Parameters ?? {})]);
  const dangling = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) { value.forEach(visit); return; }
    if (value === null || typeof value !== 'object') return;
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string' && !known.has(v.Ref) && !PSEUDO_PARAMETER.test(v.Ref)) dangling.add(`Ref ${v.Ref}`);
    const getAtt = v['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && !known.has(getAtt[0])) dangling.add(`Fn::GetAtt ${getAtt[0]}`);
    Object.values(v).forEach(visit);
  };
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    visit(resource.Properties);
    for (const target of [resource.DependsOn ?? []].flat()) if (!known.has(target)) dangling.add(`DependsOn ${target} (from ${id})`);
  }
  return [...dangling].sort();
}

/** The termination lifecycle hooks of the template, by the group they are on (rendered as JSON). */
export function terminationHooksByGroup(template: { Resources?: Record<string, any> }): Map<string, any[]> {
  const byGroup = new Map<string, any[]>();
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::AutoScaling::LifecycleHook') continue;
    if (resource.Properties.LifecycleTransition !== 'autoscaling:EC2_INSTANCE_TERMINATING') continue;
    const group = JSON.stringify(resource.Properties.AutoScalingGroupName);
    byGroup.set(group, [...byGroup.get(group) ?? [], resource.Properties]);
  }
  return byGroup;
}

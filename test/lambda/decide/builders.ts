/**
 * Builders shared by the decision module's tests: a container instance, a waiting instance, a plan.
 */
import { ContainerInstanceView, InstancePlan, InstanceView, NOTHING } from '../../../lambda/decide';
import { GROUP, INSTANCE } from '../fixtures';

/** A DRAINING registration with one running task, unless `overrides` say otherwise. */
export function ci(id: string, overrides: Partial<ContainerInstanceView> = {}): ContainerInstanceView {
  return { containerInstanceArn: `arn:ci/${id}`, status: 'DRAINING', runningTasksCount: 1, pendingTasksCount: 0, ...overrides };
}

/** The instance waiting in Terminating:Wait with these registrations. */
export function waiting(...containerInstances: ContainerInstanceView[]): InstanceView {
  return { instanceId: INSTANCE, groupName: GROUP, lifecycleState: 'Terminating:Wait', containerInstances };
}

/** A draining plan that asks for nothing, with `overrides`. */
export function plan(overrides: Partial<InstancePlan> = {}): InstancePlan {
  return { ...NOTHING, outcome: 'draining', reason: 'waiting', ...overrides };
}

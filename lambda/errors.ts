/**
 * What an error from ECS, Auto Scaling or the SDK means for a drain. Pure functions of the error
 * (its `name`, for Auto Scaling's query protocol also its `Code`, and its message): no AWS calls,
 * no decisions (aws.ts and drainer.ts act on these answers).
 *
 * - Already over (isNoActiveLifecycleAction): Auto Scaling no longer holds the instance in the
 *   hook. The completion or heartbeat is not an error: the controller's work on the instance is done.
 * - Gone (isClusterNotFound, isGoneFailureReason, isGoneRegistration): the cluster or the
 *   registration left, so there is nothing left to drain there; its instance is released like one
 *   that never registered.
 * - Refused as asked (isClientError): ECS will not carry out this request as asked. A deregistration
 *   without force so refused means ECS still counts a task: the instance waits for a later look; a
 *   forced one so refused counts as done if the registration is gone. In a batched write it is
 *   item-specific.
 * - Item-specific (isItemSpecific): ECS refuses one item of a batch for good (a quota, a missing
 *   target): the batch is written again one item at a time, so that the others go through.
 * - Passing (isThrottling): a later try may succeed: where the policy says so, the instance is
 *   deferred to the reconcile pass instead of failed. Throttling, access denied and server errors
 *   are never item-specific: written again one item at a time they would fail the same way, times
 *   the batch size.
 * - Out of time (isAbort, abortError): a bounded pass aborted its calls and waits; the instances
 *   it did not finish are left for the next pass.
 *
 * describeError makes any of them a log field.
 */

/** The error's `name` (the SDK sets it to the service's error code), when it has one. */
export function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown })?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * Auto Scaling answers ValidationError "No active Lifecycle Action found with instance ID …"
 * when the action was already completed or has expired, and "AutoScalingGroup name not found"
 * once the group was deleted (with its instances and their actions): for the controller, that
 * is done (CompleteLifecycleAction and RecordLifecycleActionHeartbeat; ValidationError is one of
 * the Auto Scaling API reference's common errors).
 */
export function isNoActiveLifecycleAction(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; message?: string };
  return (e?.name === 'ValidationError' || e?.Code === 'ValidationError')
    && /no active lifecycle action|autoscalinggroup name not found/i.test(e.message ?? '');
}

/**
 * A deleted cluster has no container instances (ClusterNotFoundException, ListContainerInstances
 * reference): its instances are then released like ones that never registered, instead of waiting
 * out the hook.
 */
export function isClusterNotFound(error: unknown): boolean {
  return errorName(error) === 'ClusterNotFoundException';
}

/**
 * A per-item failure in a successful UpdateContainerInstancesState answer that says the
 * registration left the cluster: MISSING or INACTIVE (ECS developer guide, API failure reasons).
 * Any other reason is not taken as gone: the registration is read again, so that one still
 * running tasks keeps its instance waiting.
 */
export function isGoneFailureReason(reason: string | undefined): boolean {
  return reason === 'MISSING' || reason === 'INACTIVE';
}

/**
 * What a describe after a refused forced deregistration tells: a registration ECS no longer
 * returns, or returns INACTIVE, was deregistered already (another invocation may have raced this
 * one).
 */
export function isGoneRegistration(registration: { readonly status?: string } | undefined): boolean {
  return registration === undefined || registration.status === 'INACTIVE';
}

/**
 * ECS's answer to a request it will not carry out as asked: ClientException or
 * InvalidParameterException (4xx other than throttling and access). DeregisterContainerInstance
 * answers so without force while it still counts a task on the instance (DeregisterContainerInstance
 * reference).
 */
export function isClientError(error: unknown): boolean {
  const name = errorName(error);
  return name === 'ClientException' || name === 'InvalidParameterException';
}

/**
 * ECS refusing one item for good (a quota, an invalid or missing target), as opposed to a
 * passing failure (throttling, a server error) that a later try may overcome. A batch that holds
 * one target with ECS's 10 custom attributes already is refused as a whole with
 * AttributeLimitExceededException, one naming a target that does not exist with
 * TargetNotFoundException (PutAttributes and DeleteAttributes references).
 */
export function isItemSpecific(error: unknown): boolean {
  const name = errorName(error);
  return name === 'AttributeLimitExceededException' || name === 'TargetNotFoundException' || isClientError(error);
}

/** ECS answers ThrottlingException, Auto Scaling Throttling (their API references). */
export function isThrottling(error: unknown): boolean {
  const name = errorName(error);
  return name === 'ThrottlingException' || name === 'Throttling';
}

/** The SDK rejects a call whose abort signal fired with an AbortError. */
export function isAbort(error: unknown): boolean {
  return errorName(error) === 'AbortError';
}

/** What an aborted wait rejects with: the SDK's AbortError for an aborted call, so isAbort treats both alike. */
export function abortError(): Error {
  return Object.assign(new Error('The wait was aborted: the pass ran out of time'), { name: 'AbortError' });
}

/** An error as a log field: its name and message, without the SDK's large metadata. */
export function describeError(error: unknown): { name: string; message: string } {
  const e = error as { name?: unknown; message?: unknown };
  return { name: typeof e?.name === 'string' ? e.name : 'Error', message: typeof e?.message === 'string' ? e.message : String(error) };
}

/**
 * The error classifiers, over errors shaped as the SDK builds them from the services' answers:
 * ECS's JSON errors as its modeled exception classes (or ECSServiceException for an unmodeled
 * code such as ThrottlingException), Auto Scaling's query errors as AutoScalingServiceException
 * with the code as `name` and the answer's Type and Code copied on, and an aborted call as the
 * SDK's HTTP handler rejects it.
 */
import { AutoScalingServiceException } from '@aws-sdk/client-auto-scaling';
import {
  AccessDeniedException,
  AttributeLimitExceededException,
  ClientException,
  ClusterNotFoundException,
  ECSServiceException,
  InvalidParameterException,
  ServerException,
  TargetNotFoundException,
} from '@aws-sdk/client-ecs';
import { noActiveLifecycleAction } from './fixtures';
import {
  abortError,
  describeError,
  errorName,
  isAbort,
  isClientError,
  isClusterNotFound,
  isGoneFailureReason,
  isGoneRegistration,
  isItemSpecific,
  isNoActiveLifecycleAction,
  isThrottling,
} from '../../lambda/errors';

const metadata = { httpStatusCode: 400, requestId: '8f5b3e7c-1f0e-4a8e-9a53-4c1b2f0d6e21', attempts: 1, totalRetryDelay: 0 };

/** An Auto Scaling error as the SDK deserializes a query protocol ErrorResponse. */
function autoScalingError(code: string, message: string, httpStatusCode = 400): AutoScalingServiceException {
  return Object.assign(new AutoScalingServiceException({
    name: code, $fault: 'client', $metadata: { ...metadata, httpStatusCode }, message,
  }), { Type: 'Sender', Code: code, Error: { Type: 'Sender', Code: code, Message: message } });
}

/** An ECS error whose code the SDK has no class for. */
function ecsError(name: string, message: string, httpStatusCode = 400): ECSServiceException {
  return new ECSServiceException({ name, $fault: 'client', $metadata: { ...metadata, httpStatusCode }, message });
}

const ECS = {
  client: new ClientException({ $metadata: metadata, message: 'The specified container instance has tasks running on it: use force to deregister it.' }),
  invalidParameter: new InvalidParameterException({ $metadata: metadata, message: 'Invalid identifier: Unexpected number of separators' }),
  clusterNotFound: new ClusterNotFoundException({ $metadata: metadata, message: 'Cluster not found.' }),
  attributeLimit: new AttributeLimitExceededException({ $metadata: metadata, message: 'You can apply up to 10 custom attributes per resource.' }),
  targetNotFound: new TargetNotFoundException({ $metadata: metadata, message: 'Could not find the target container instance.' }),
  accessDenied: new AccessDeniedException({ $metadata: metadata, message: 'User: arn:aws:sts::123456789012:assumed-role/drain/fn is not authorized to perform: ecs:PutAttributes' }),
  server: new ServerException({ $metadata: { ...metadata, httpStatusCode: 500 }, message: 'Service Unavailable. Please try again later.' }),
  throttling: ecsError('ThrottlingException', 'Rate exceeded'),
};

const AUTO_SCALING = {
  noActiveAction: noActiveLifecycleAction('i-0123456789abcdef0'),
  noActiveActionAsRead: autoScalingError('ValidationError', 'No active Lifecycle Action found with instance ID i-0123456789abcdef0'),
  groupNotFound: autoScalingError('ValidationError', 'AutoScalingGroup name not found - AutoScalingGroup my-ecs-asg not found'),
  otherValidation: autoScalingError('ValidationError', '1 validation error detected: Value null at \'lifecycleActionResult\' failed to satisfy constraint'),
  throttling: autoScalingError('Throttling', 'Rate exceeded'),
};

/** How the SDK's HTTP handler rejects a call whose abort signal fired. */
const SDK_ABORT = Object.assign(new Error('Request aborted'), { name: 'AbortError' });

/** Every error above but those named, for "nothing else is" checks. */
function allBut(...kept: unknown[]): unknown[] {
  return [...Object.values(ECS), ...Object.values(AUTO_SCALING), SDK_ABORT, new TypeError('x is undefined'), undefined, 'a string']
    .filter(error => !kept.includes(error));
}

describe('errorName', () => {
  test('is the code the SDK puts in `name`, and undefined for what has none', () => {
    expect(errorName(ECS.attributeLimit)).toBe('AttributeLimitExceededException');
    expect(errorName(ECS.throttling)).toBe('ThrottlingException');
    expect(errorName(AUTO_SCALING.throttling)).toBe('Throttling');
    expect(errorName(SDK_ABORT)).toBe('AbortError');
    expect(errorName(undefined)).toBeUndefined();
    expect(errorName('a string')).toBeUndefined();
    expect(errorName({ name: 42 })).toBeUndefined();
  });
});

describe('isNoActiveLifecycleAction: the lifecycle action is over, so the completion or heartbeat is done', () => {
  test.each([
    ['the fixtures\' refusal', AUTO_SCALING.noActiveAction],
    ['a refusal as the SDK reads it (Type and Code copied on)', AUTO_SCALING.noActiveActionAsRead],
    ['a deleted group', AUTO_SCALING.groupNotFound],
  ])('%s is', (_, error) => {
    expect(isNoActiveLifecycleAction(error)).toBe(true);
  });

  test.each([
    [{ name: 'ValidationError', message: 'No active Lifecycle Action found with instance ID i-1' }, true],
    [{ Code: 'ValidationError', message: 'no active lifecycle action found' }, true],
    [{ name: 'ValidationError', message: 'Rate exceeded' }, false],
    [{ name: 'Throttling', message: 'No active Lifecycle Action found' }, false],
    [{ name: 'ValidationError' }, false],
    [{ name: 'ValidationError', message: 'AutoScalingGroup name not found - AutoScalingGroup my-ecs-asg not found' }, true],
    [undefined, false],
    ['a string', false],
  ])('isNoActiveLifecycleAction(%j) is %s', (error, expected) => {
    expect(isNoActiveLifecycleAction(error)).toBe(expected);
  });

  test('another ValidationError, and any other error, is not', () => {
    for (const error of allBut(AUTO_SCALING.noActiveAction, AUTO_SCALING.noActiveActionAsRead, AUTO_SCALING.groupNotFound)) {
      expect(isNoActiveLifecycleAction(error)).toBe(false);
    }
  });
});

describe('gone: nothing left to drain there', () => {
  test('isClusterNotFound is ClusterNotFoundException only', () => {
    expect(isClusterNotFound(ECS.clusterNotFound)).toBe(true);
    for (const error of allBut(ECS.clusterNotFound)) expect(isClusterNotFound(error)).toBe(false);
  });

  test.each([
    ['MISSING', true],
    ['INACTIVE', true],
    ['DRAINING', false],
    ['ACTIVE', false],
    [undefined, false],
  ])('a failure reason %s in an UpdateContainerInstancesState answer is gone: %s', (reason, expected) => {
    expect(isGoneFailureReason(reason)).toBe(expected);
  });

  test.each([
    [undefined, true],
    [{ status: 'INACTIVE' }, true],
    [{ status: 'DEREGISTERING' }, false],
    [{ status: 'DRAINING' }, false],
    [{}, false],
  ])('a registration described as %j is gone: %s', (registration, expected) => {
    expect(isGoneRegistration(registration)).toBe(expected);
  });
});

describe('refused as asked, item-specific, passing', () => {
  test('isClientError is ClientException or InvalidParameterException', () => {
    expect(isClientError(ECS.client)).toBe(true);
    expect(isClientError(ECS.invalidParameter)).toBe(true);
    for (const error of allBut(ECS.client, ECS.invalidParameter)) expect(isClientError(error)).toBe(false);
  });

  test('isItemSpecific: the attribute quota, a missing target and the client errors are; written one at a time, the others still go through', () => {
    const itemSpecific = [ECS.attributeLimit, ECS.targetNotFound, ECS.client, ECS.invalidParameter];
    for (const error of itemSpecific) expect(isItemSpecific(error)).toBe(true);
    for (const error of allBut(...itemSpecific)) expect(isItemSpecific(error)).toBe(false);
  });

  test('access denied, throttling and server errors are not item-specific: one at a time, they would fail alike', () => {
    expect(isItemSpecific(ECS.accessDenied)).toBe(false);
    expect(isItemSpecific(ECS.throttling)).toBe(false);
    expect(isItemSpecific(ECS.server)).toBe(false);
  });

  test('isThrottling is ECS\'s ThrottlingException or Auto Scaling\'s Throttling only', () => {
    expect(isThrottling(ECS.throttling)).toBe(true);
    expect(isThrottling(AUTO_SCALING.throttling)).toBe(true);
    for (const error of allBut(ECS.throttling, AUTO_SCALING.throttling)) expect(isThrottling(error)).toBe(false);
  });
});

describe('out of time', () => {
  test('isAbort is the SDK\'s AbortError, and the aborted wait\'s error alike', () => {
    expect(isAbort(SDK_ABORT)).toBe(true);
    expect(isAbort(abortError())).toBe(true);
    for (const error of allBut(SDK_ABORT)) expect(isAbort(error)).toBe(false);
  });

  test('an aborted wait\'s error is an Error that is nothing else', () => {
    const error = abortError();
    expect(error).toBeInstanceOf(Error);
    expect(isThrottling(error) || isItemSpecific(error) || isNoActiveLifecycleAction(error)).toBe(false);
  });
});

describe('describeError', () => {
  test('keeps name and message only', () => {
    expect(describeError(Object.assign(new TypeError('bad'), { $metadata: { big: true } }))).toEqual({ name: 'TypeError', message: 'bad' });
    expect(describeError('plain')).toEqual({ name: 'Error', message: 'plain' });
    expect(describeError(undefined)).toEqual({ name: 'Error', message: 'undefined' });
  });

  test('drops the SDK\'s metadata and the copied answer of a service error', () => {
    expect(describeError(AUTO_SCALING.throttling)).toEqual({ name: 'Throttling', message: 'Rate exceeded' });
    expect(describeError(ECS.attributeLimit)).toEqual({ name: 'AttributeLimitExceededException', message: 'You can apply up to 10 custom attributes per resource.' });
  });
});

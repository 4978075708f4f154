/**
 * An error the emulated API answers with. `code` is what the SDK surfaces as `err.name`;
 * `fault` picks the HTTP status (client → 400, server → 500, unless `status` says otherwise)
 * and, for the Query protocol, the `<Type>` element (Sender / Receiver).
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fault: 'client' | 'server' = 'client',
    private readonly status?: number,
  ) {
    super(message);
    this.name = code;
  }

  get httpStatus(): number {
    return this.status ?? (this.fault === 'client' ? 400 : 500);
  }
}

// ECS error codes (ECS API reference, "Common Errors" and each action's "Errors" section).
export const ecsErrors = {
  clusterNotFound: () => new ApiError('ClusterNotFoundException', 'Cluster not found.'),
  invalidParameter: (message: string) => new ApiError('InvalidParameterException', message),
  client: (message: string) => new ApiError('ClientException', message),
  server: () => new ApiError('ServerException', 'Service unavailable. Please try again later.', 'server'),
  throttling: () => new ApiError('ThrottlingException', 'Rate exceeded'),
  // ECS API reference, Common Errors: AccessDeniedException, HTTP 400 (cdklabs/construct-hub#1207).
  accessDenied: (message: string) => new ApiError('AccessDeniedException', message),
};

// Auto Scaling (Query protocol) error codes (Auto Scaling API reference, "Common Errors").
export const autoScalingErrors = {
  validation: (message: string) => new ApiError('ValidationError', message),
  internal: () => new ApiError('InternalFailure', 'An internal error occurred.', 'server'),
  throttling: () => new ApiError('Throttling', 'Rate exceeded'),
  // What the Query API answers an IAM refusal with: AccessDenied, Sender, HTTP 403
  // (hashicorp/nomad-autoscaler#952: "StatusCode: 403, ... api error AccessDenied: User: ...").
  accessDenied: (message: string) => new ApiError('AccessDenied', message, 'client', 403),
};

// EventBridge (JSON 1.1) error codes: PutEvents "Errors" (InternalException, HTTP 500) and "Common
// Errors" of the EventBridge API reference (AccessDeniedException and ThrottlingException, HTTP 400).
// A request that breaks the model's constraints (entry count, the total entry size) is answered
// `ValidationException`, HTTP 400, as AWS answers it (the Common Errors page calls the code
// ValidationError; the SDK reads whatever `__type` says).
export const eventsErrors = {
  validation: (message: string) => new ApiError('ValidationException', message),
  internal: () => new ApiError('InternalException', 'An internal error occurred.', 'server'),
  throttling: () => new ApiError('ThrottlingException', 'Rate exceeded'),
  accessDenied: (message: string) => new ApiError('AccessDeniedException', message),
};

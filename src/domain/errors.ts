/**
 * One error base class for everything a client can be told. Each subclass's `name` is the ECS error
 * name that goes on the wire as `__type`, so the API layer maps errors without a lookup table.
 * Anything that is not a BerthError is a bug and becomes a ServerException (HTTP 500).
 */
export abstract class BerthError extends Error {
  /** HTTP status the API answers with; ECS sends every client fault as 400. */
  readonly statusCode: number = 400;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The caller may not do this (ECS's name for it); an agent reporting a task its host does not hold. */
export class AccessDeniedException extends BerthError {
  override readonly name = 'AccessDeniedException';
}
export class ClientException extends BerthError {
  override readonly name = 'ClientException';
}
export class InvalidParameterException extends BerthError {
  override readonly name = 'InvalidParameterException';
}
export class ClusterNotFoundException extends BerthError {
  override readonly name = 'ClusterNotFoundException';
}
export class ClusterContainsTasksException extends BerthError {
  override readonly name = 'ClusterContainsTasksException';
}
export class ClusterContainsServicesException extends BerthError {
  override readonly name = 'ClusterContainsServicesException';
}
export class ClusterContainsContainerInstancesException extends BerthError {
  override readonly name = 'ClusterContainsContainerInstancesException';
}
export class ConflictException extends BerthError {
  override readonly name = 'ConflictException';
}
export class ResourceNotFoundException extends BerthError {
  override readonly name = 'ResourceNotFoundException';
}
export class ResourceInUseException extends BerthError {
  override readonly name = 'ResourceInUseException';
}
export class LimitExceededException extends BerthError {
  override readonly name = 'LimitExceededException';
}
export class UpdateInProgressException extends BerthError {
  override readonly name = 'UpdateInProgressException';
}
export class ServiceNotFoundException extends BerthError {
  override readonly name = 'ServiceNotFoundException';
}
export class ServiceDeploymentNotFoundException extends BerthError {
  override readonly name = 'ServiceDeploymentNotFoundException';
}
export class ServiceNotActiveException extends BerthError {
  override readonly name = 'ServiceNotActiveException';
}
export class TaskSetNotFoundException extends BerthError {
  override readonly name = 'TaskSetNotFoundException';
}
export class UnsupportedFeatureException extends BerthError {
  override readonly name = 'UnsupportedFeatureException';
}
/**
 * The common AWS error for "slow down": sent when an item stays contended after all retries. SDKs
 * retry it by themselves with backoff, which is what contention needs.
 */
export class ThrottlingException extends BerthError {
  override readonly name = 'ThrottlingException';
}
/** Protocol-level: the body is not JSON or a member has the wrong JSON type. */
export class SerializationException extends BerthError {
  override readonly name = 'SerializationException';
}
/** Protocol-level: X-Amz-Target names no operation Berth serves. */
export class UnknownOperationException extends BerthError {
  override readonly name = 'UnknownOperationException';
}

/**
 * A conditional write lost a race (the item's version moved). Not a client error: use cases retry
 * on it, and if retries run out it surfaces as ThrottlingException, never as a lost update.
 */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(readonly key: string, options?: { cause?: unknown }) {
    super(`concurrent update of ${key}`, options);
  }
}
/** EventBridge Scheduler's error for bad input (its API answers it with HTTP 400). */
export class ValidationException extends BerthError {
  override readonly name = 'ValidationException';
}
/** UpdateContainerAgent: the agent runs the newest version there is (ECS's answer; Berth's agents update with their package). */
export class NoUpdateAvailableException extends BerthError {
  override readonly name = 'NoUpdateAvailableException';
}
/** UpdateContainerAgent: the container instance never reported its agent version. */
export class MissingVersionException extends BerthError {
  override readonly name = 'MissingVersionException';
}
/** PutAttributes / DeleteAttributes: the target (a container instance) does not exist. */
export class TargetNotFoundException extends BerthError {
  override readonly name = 'TargetNotFoundException';
}
/** PutAttributes: more custom attributes on a resource than ECS allows. */
export class AttributeLimitExceededException extends BerthError {
  override readonly name = 'AttributeLimitExceededException';
}

/**
 * Errors from below the use cases that are the client's to handle, not bugs: today DynamoDB's
 * throttling (a provisioned table above its capacity, docs/cost.md), after the SDK's own retries.
 * Both APIs answer it as AWS services do, ThrottlingException (ECS: HTTP 400; Scheduler: 429), which
 * SDKs retry with backoff; anything else goes on as it was thrown.
 */
import { isDynamoDbThrottle } from '../adapters/dynamodb/conditional-writes';
import { ThrottlingException } from '../domain/errors';

export function asClientError(error: unknown): unknown {
  return isDynamoDbThrottle(error) ? new ThrottlingException('Rate exceeded', { cause: error }) : error;
}

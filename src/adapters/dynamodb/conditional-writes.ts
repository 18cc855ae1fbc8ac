import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import { BerthError, VersionConflictError } from '../../domain/errors';

/** A plain conditional write that lost: its condition failed, or it met a running transaction on the item. */
export const isLostRace = (error: unknown) => error instanceof ConditionalCheckFailedException || error instanceof TransactionConflictException;

/** Translates a lost conditional write into the domain's conflict error; other errors pass through. */
export async function conditionally<T>(key: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isLostRace(error)) throw new VersionConflictError(key, { cause: error });
    throw error;
  }
}

/** For writes whose lost race is an answer, not an error: true when written, false when it lost. */
export async function wroteUnlessLost(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isLostRace(error)) return false;
    throw error;
  }
}

/**
 * Which items of a cancelled transaction failed their condition (indexes into TransactItems); an
 * empty list when it was cancelled by a conflicting transaction (Code TransactionConflict), which
 * callers treat as a lost race too. Undefined when the error is no cancellation at all.
 */
export function failedConditions(error: unknown): number[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const reasons = error.CancellationReasons ?? [];
  return reasons.flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
}

export const epochSeconds = (epochMs: number) => Math.floor(epochMs / 1000);

/** DynamoDB's error names for "slow down": a provisioned table or index above its capacity, an account or partition limit. */
const THROTTLES = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/**
 * DynamoDB throttled a call after the SDK's own retries. Not a bug: callers get ECS's
 * ThrottlingException (HTTP 400, which SDKs retry with backoff), not a ServerException.
 */
export const isDynamoDbThrottle = (error: unknown) => error instanceof Error && !(error instanceof BerthError) && THROTTLES.has(error.name);

import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { VersionConflictError } from '../../domain/errors';

/** Translates a lost conditional write into the domain's conflict error; other errors pass through. */
export async function conditionally<T>(key: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new VersionConflictError(key, { cause: error });
    throw error;
  }
}

/** Which items of a cancelled transaction failed their condition (indexes into TransactItems). */
export function failedConditions(error: unknown): number[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const reasons = error.CancellationReasons ?? [];
  return reasons.flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
}

export const epochSeconds = (epochMs: number) => Math.floor(epochMs / 1000);

/**
 * List pagination tokens. A token carries the DynamoDB key to continue from plus the partition it
 * belongs to; decoding checks that partition against the one the request is allowed to read, so a
 * token edited by hand (or replayed against another cluster, account or region) is rejected instead of
 * reading someone else's items.
 */
import { InvalidParameterException } from '../../domain/errors';

type Key = Record<string, string>;

export function encodePageToken(partition: string, key: Key): string {
  return Buffer.from(JSON.stringify({ p: partition, k: key })).toString('base64url');
}

export function decodePageToken(
  token: string | undefined,
  partition: string,
  partitionAttribute: string,
  keyAttributes: readonly string[],
): Key | undefined {
  if (token === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  const { p, k } = (decoded ?? {}) as { p?: unknown; k?: unknown };
  if (p !== partition || typeof k !== 'object' || k === null) throw invalidToken();
  const key = k as Record<string, unknown>;
  const names = Object.keys(key).sort();
  const expected = [...keyAttributes].sort();
  if (
    key[partitionAttribute] !== partition ||
    names.length !== expected.length ||
    names.some((name, index) => name !== expected[index]) ||
    !Object.values(key).every((v) => typeof v === 'string')
  ) {
    throw invalidToken();
  }
  return key as Key;
}

const invalidToken = () => new InvalidParameterException('Invalid nextToken: it does not belong to this request.');

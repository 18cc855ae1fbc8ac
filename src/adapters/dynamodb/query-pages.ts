import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { InvalidParameterException } from '../../domain/errors';
import { decodePageToken, encodePageToken } from './page-token';

type Item = Record<string, unknown>;

export interface PageRequest {
  readonly maxResults: number;
  readonly nextToken?: string;
}
export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/**
 * Reads one API page from a Query: items the `accept` filter rejects do not count toward maxResults,
 * so a filtered list still fills its pages. The token continues after the last item returned.
 */
export async function queryPage(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  keyAttributes: readonly string[],
  partition: { readonly attribute: string; readonly value: string },
  page: PageRequest,
  accept: (item: Item) => boolean = () => true,
): Promise<Page<Item>> {
  let startKey: Record<string, string> | undefined = decodePageToken(
    page.nextToken,
    partition.value,
    partition.attribute,
    keyAttributes,
  );
  const fromToken = startKey !== undefined;
  const items: Item[] = [];
  for (let first = true; ; first = false) {
    let result;
    try {
      result = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: Math.max(page.maxResults, 25) }));
    } catch (error) {
      // DynamoDB rejects a start key outside the query's key range: the token was edited by hand.
      if (first && fromToken && (error as Error).name === 'ValidationException') {
        throw new InvalidParameterException('Invalid nextToken.');
      }
      throw error;
    }
    const found = result.Items ?? [];
    for (let index = 0; index < found.length; index++) {
      if (!accept(found[index])) continue;
      items.push(found[index]);
      if (items.length === page.maxResults) {
        const more = index < found.length - 1 || result.LastEvaluatedKey !== undefined;
        return { items, nextToken: more ? tokenAfter(found[index]) : undefined };
      }
    }
    if (!result.LastEvaluatedKey) return { items };
    startKey = result.LastEvaluatedKey as Record<string, string>;
  }

  function tokenAfter(item: Item) {
    const key = Object.fromEntries(keyAttributes.map((name) => [name, String(item[name])]));
    return encodePageToken(partition.value, key);
  }
}

/** Every item a Query matches, page after page (for reads that need all of them, not an API page). */
export async function* queryItems(doc: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<Item> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    yield* result.Items ?? [];
    startKey = result.LastEvaluatedKey;
  } while (startKey);
}

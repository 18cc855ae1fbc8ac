/**
 * What the benchmarks count of Berth's table: the kind of an item from its key (docs/data-model.md),
 * an item's stored size, and the write request items inside a document client command (a
 * transaction or a batch is several). Shared by lifecycle.bench.ts and saturation.bench.ts.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { itemAttributeBytes } from './stats';

export type Doc = Record<string, unknown>;

/** Kind of a table item from its key (docs/data-model.md). */
export function itemKind(pk: string, sk: string): string {
  if (sk.startsWith('TASK#')) return 'task';
  if (sk === 'CLUSTER') return 'cluster';
  if (sk.startsWith('INSTANCE#')) return 'container-instance';
  if (sk.startsWith('RUNTASK#')) return 'run-task-token';
  if (pk.startsWith('ASSIGN#')) return 'assignment';
  if (pk.startsWith('UNPLACED#')) return 'unplaced';
  if (pk.startsWith('TDFAMILY#')) return 'task-definition';
  return 'other';
}

/** An item's size by DynamoDB's rule, from the document client's (unmarshalled) form. */
export const docBytes = (item: Doc) => itemAttributeBytes(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true }));

export interface WriteRequest {
  readonly op: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  readonly key: { readonly pk: string; readonly sk: string };
  /** Put only: the item written. */
  readonly item?: Doc;
}

/** The write request items of a document client command, or undefined for anything but a write. */
export function writeRequestsOf(command: string, input: Doc): WriteRequest[] | undefined {
  const keyed = (op: WriteRequest['op'], key: Doc, item?: Doc): WriteRequest => ({ op, key: { pk: String(key.pk), sk: String(key.sk) }, item });
  switch (command) {
    case 'PutItem':
      return [keyed('Put', input.Item as Doc, input.Item as Doc)];
    case 'UpdateItem':
      return [keyed('Update', input.Key as Doc)];
    case 'DeleteItem':
      return [keyed('Delete', input.Key as Doc)];
    case 'TransactWriteItems':
      return (input.TransactItems as Doc[]).map((entry) => {
        const [op, body] = Object.entries(entry)[0] as [WriteRequest['op'], Doc];
        return op === 'Put' ? keyed('Put', body.Item as Doc, body.Item as Doc) : keyed(op, body.Key as Doc);
      });
    case 'BatchWriteItem':
      return Object.values(input.RequestItems as Record<string, Doc[]>).flatMap((requests) =>
        requests.map((request) =>
          request.PutRequest
            ? keyed('Put', (request.PutRequest as Doc).Item as Doc, (request.PutRequest as Doc).Item as Doc)
            : keyed('Delete', (request.DeleteRequest as Doc).Key as Doc),
        ),
      );
    default:
      return undefined;
  }
}

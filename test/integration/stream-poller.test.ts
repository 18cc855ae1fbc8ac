/**
 * The local stream poller on DynamoDB Local: the runtime's own writes wake it (wakeOnWrites), so it
 * reads at once rather than at its next poll, and it still reads every record from the stream, each
 * item's in commit order, once. The poll stays the safety net: for writes nobody told it of, and for
 * a wake that comes while it is reading. Each test has its own table; the poller's idle pause is
 * made an hour long where only a wake may explain a record's arrival.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';
import { ensureTable } from '../../src/adapters/dynamodb/create-table';
import type { StreamRecord } from '../../src/app/stream-processor';
import { StreamPoller, wakeOnWrites } from '../../src/local/stream-poller';
import { waitFor } from '../support/wait-for';

const HOUR_MS = 3_600_000;
/** Generous bounds for a loaded machine: only a poller that missed a wake (an hour's pause) exceeds them. */
const BOUND_MS = 60_000;
const TEST_TIMEOUT_MS = 120_000;
let tableCount = 0;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Seen {
  readonly pk: string;
  readonly v: number;
}

/** A fresh table, a document client on it, and a poller recording every record it hands over. */
async function setUp(options: { idleDelayMs: number; maxIdleDelayMs?: number }) {
  const endpoint = inject('dynamoDbEndpoint');
  const doc = createLocalDocumentClient(endpoint);
  cleanups.push(() => doc.destroy());
  const tableName = `stream-poller-${process.pid}-${Date.now()}-${tableCount++}`;
  const streamArn = await ensureTable(doc, tableName);
  const seen: Seen[] = [];
  const poller = new StreamPoller({
    endpoint,
    streamArn,
    ...options,
    handle: async (records: StreamRecord[]) => {
      for (const record of records) {
        const item = unmarshall(record.dynamodb!.NewImage as Record<string, AttributeValue>);
        seen.push({ pk: String(item.pk), v: Number(item.v) });
      }
      return { batchItemFailures: [] };
    },
  });
  cleanups.push(() => poller.stop());
  const put = (client: DynamoDBDocumentClient, pk: string, v: number) =>
    client.send(new PutCommand({ TableName: tableName, Item: { pk, sk: 'ITEM', v } }));
  /** Starts the poller on a stream that already has a shard, and waits until it has read it once. */
  const start = async () => {
    await put(doc, 'first', 0);
    poller.start();
    await waitFor('the first record', () => seen.some((s) => s.pk === 'first'), BOUND_MS);
  };
  return { doc, tableName, poller, seen, put, start };
}

describe('StreamPoller woken by the runtime\'s writes', () => {
  it('reads at once after each write (its idle poll an hour away) and hands over every record once, each item\'s in commit order', async () => {
    const { doc, poller, seen, put, start } = await setUp({ idleDelayMs: HOUR_MS, maxIdleDelayMs: HOUR_MS });
    await start();
    wakeOnWrites(doc, () => poller.wake());
    const items = ['a', 'b', 'c'];
    // Each item's versions one after another, the items at once: records interleave in the stream.
    await Promise.all(items.map(async (pk) => {
      for (let v = 1; v <= 5; v++) await put(doc, pk, v);
    }));
    await waitFor('all 15 records', () => seen.filter((s) => s.pk !== 'first').length >= 15, BOUND_MS);
    for (const pk of items) expect(seen.filter((s) => s.pk === pk).map((s) => s.v)).toEqual([1, 2, 3, 4, 5]);
    expect(seen).toHaveLength(16);
  }, TEST_TIMEOUT_MS);

  it('does not lose a wake that comes while it is reading: the next idle pause is skipped', async () => {
    const { doc, poller, seen, put, start } = await setUp({ idleDelayMs: HOUR_MS, maxIdleDelayMs: HOUR_MS });
    await start();
    // The write and its wake land while a read is in flight and finds nothing: without remembering
    // the wake, the poller would now pause for an hour with the record unread.
    const unwoken = createLocalDocumentClient(inject('dynamoDbEndpoint'));
    cleanups.push(() => unwoken.destroy());
    let armed = true;
    (poller as unknown as { client: { middlewareStack: { add(m: never, o: object): void } } }).client.middlewareStack.add(
      ((next: (args: unknown) => Promise<{ output: { Records?: unknown[] } }>, context: { commandName?: string }) => async (args: unknown) => {
        const result = await next(args);
        if (armed && context.commandName === 'GetRecordsCommand' && (result.output.Records ?? []).length === 0) {
          armed = false;
          await put(unwoken, 'late', 1);
          poller.wake();
        }
        return result;
      }) as never,
      { step: 'initialize', name: 'writeDuringRead' },
    );
    // Anything that ends the current pause makes the poller read again; wake() is such a thing.
    poller.wake();
    await waitFor('the record written during a read', () => seen.some((s) => s.pk === 'late'), BOUND_MS);
    expect(armed).toBe(false);
  }, TEST_TIMEOUT_MS);

  it('stops without waiting out its idle pause when stopped while reading', async () => {
    const { poller, start } = await setUp({ idleDelayMs: HOUR_MS, maxIdleDelayMs: HOUR_MS });
    await start();
    let stopping: Promise<void> | undefined;
    (poller as unknown as { client: { middlewareStack: { add(m: never, o: object): void } } }).client.middlewareStack.add(
      ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        const result = await next(args);
        // stop() lands while this read is in flight: there is no pause for it to end yet.
        if (context.commandName === 'GetRecordsCommand') stopping ??= poller.stop();
        return result;
      }) as never,
      { step: 'initialize', name: 'stopDuringRead' },
    );
    poller.wake();
    let stopped = false;
    await waitFor('stop() during a read', () => stopping !== undefined, BOUND_MS);
    void stopping!.then(() => (stopped = true));
    await waitFor('the poller to stop', () => stopped, BOUND_MS);
  }, TEST_TIMEOUT_MS);

  it('still reads, by its poll, what it was not told of (another client\'s writes)', async () => {
    const { seen, put, start } = await setUp({ idleDelayMs: 20, maxIdleDelayMs: 200 });
    await start();
    const other = createLocalDocumentClient(inject('dynamoDbEndpoint'));
    cleanups.push(() => other.destroy());
    for (let v = 1; v <= 3; v++) await put(other, 'other', v);
    await waitFor('the other client\'s records', () => seen.filter((s) => s.pk === 'other').length >= 3, BOUND_MS);
    expect(seen.filter((s) => s.pk === 'other').map((s) => s.v)).toEqual([1, 2, 3]);
  }, TEST_TIMEOUT_MS);
});

describe('wakeOnWrites', () => {
  it('wakes after each successful write (put, update, transaction), not after reads or a failed write', async () => {
    const endpoint = inject('dynamoDbEndpoint');
    const doc = createLocalDocumentClient(endpoint);
    cleanups.push(() => doc.destroy());
    const TableName = `stream-poller-wakes-${process.pid}-${Date.now()}`;
    await ensureTable(doc, TableName);
    let wakes = 0;
    wakeOnWrites(doc, () => wakes++);
    const Key = { pk: 'x', sk: 'ITEM' };
    await doc.send(new GetCommand({ TableName, Key }));
    expect(wakes).toBe(0);
    await doc.send(new PutCommand({ TableName, Item: { ...Key, v: 1 } }));
    expect(wakes).toBe(1);
    await doc.send(new UpdateCommand({ TableName, Key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': 2 } }));
    expect(wakes).toBe(2);
    await doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName, Item: { pk: 'y', sk: 'ITEM', v: 1 } } }] }));
    expect(wakes).toBe(3);
    await expect(
      doc.send(new PutCommand({ TableName, Item: { ...Key, v: 3 }, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(wakes).toBe(3);
  }, TEST_TIMEOUT_MS);
});

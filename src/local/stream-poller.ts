/**
 * What Lambda's DynamoDB event source mapping does in AWS, for DynamoDB Local: reads the table's
 * stream shard by shard, hands batches to the same handler the Lambda runs (records in Lambda's event
 * shape, eventSourceARN filled in), retries from a reported batch item failure, and checkpoints the
 * last handled sequence number per shard in a file so a restart neither skips nor repeats much (a
 * crash between handling and checkpointing repeats records; the handler is idempotent).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type Shard,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { BatchResult, StreamRecord } from '../app/stream-processor';
import { LOCAL_CREDENTIALS, LOCAL_DYNAMODB_REGION, LOCAL_SIGNER } from '../adapters/dynamodb/document-client';

export interface StreamPollerOptions {
  readonly endpoint: string;
  readonly streamArn: string;
  readonly handle: (records: StreamRecord[]) => Promise<BatchResult>;
  /** File for per-shard checkpoints; none keeps them in memory only. */
  readonly checkpointFile?: string;
  readonly batchSize?: number;
  /**
   * Lanes a batch is split into and handled concurrently, like Lambda's ParallelizationFactor: the
   * records of one partition (a cluster: its tasks, services and instances) always go to the same
   * lane, in order, so a task's changes are handled one after another in commit order, and one
   * cluster's placements are decided one after another (each sees the hosts the previous one
   * took; concurrent placements would each pick the same "emptiest" host and break a spread).
   * Different clusters run concurrently. Default 4.
   */
  readonly parallelism?: number;
  /**
   * Whether a record must keep its partition's order (see `parallelism`). Records for which this is
   * false for every record of their item in a batch go to a lane by item instead (still in commit
   * order within the item), so one busy cluster's bookkeeping steps need not queue behind each other.
   * Default: every record keeps its partition's order.
   */
  readonly partitionOrdered?: (record: _Record) => boolean;
  /**
   * Pause after a read that found nothing; it doubles with every further empty read, up to
   * maxIdleDelayMs, and starts again from here after records or a wake(). Defaults 50 and 500 ms:
   * the runtime wakes the poller on each of its own writes (wakeOnWrites), so the poll is the safety
   * net for writes it is not told of (another client of the table, TTL deletions), not the path.
   */
  readonly idleDelayMs?: number;
  readonly maxIdleDelayMs?: number;
  readonly logger?: Pick<Console, 'error'>;
}

type Checkpoints = Record<string, string>;

export class StreamPoller {
  private readonly client: DynamoDBStreamsClient;
  private readonly checkpoints: Checkpoints;
  private readonly finishedShards = new Set<string>();
  private streamArn: string;
  /** Set by follow(): the loop drops what it knows of the old stream. */
  private followed = false;
  private running = false;
  private loop?: Promise<void>;
  /** Ends any pause (stop, follow). */
  private interrupt?: () => void;
  /** Ends an idle pause only (wake): a pause after a failure stays, so writes cannot make a hot retry loop. */
  private nudge?: () => void;
  /** Bumped by wake(): a wake that came while the poller was reading is not lost (see run()). */
  private wakes = 0;

  constructor(private readonly options: StreamPollerOptions) {
    this.streamArn = options.streamArn;
    this.client = new DynamoDBStreamsClient({
      endpoint: options.endpoint,
      region: LOCAL_DYNAMODB_REGION,
      credentials: LOCAL_CREDENTIALS,
      signer: LOCAL_SIGNER,
    });
    this.checkpoints = options.checkpointFile && existsSync(options.checkpointFile)
      ? (JSON.parse(readFileSync(options.checkpointFile, 'utf8')) as Checkpoints)
      : {};
  }

  /**
   * Reads another stream from its start (the table was created again: an in-memory DynamoDB Local
   * restarted empty). The old stream's checkpoints mean nothing there.
   */
  follow(streamArn: string): void {
    this.streamArn = streamArn;
    for (const shard of Object.keys(this.checkpoints)) delete this.checkpoints[shard];
    this.finishedShards.clear();
    this.followed = true;
    this.interrupt?.();
  }

  /**
   * New records are (probably) in the stream: read it now instead of after the idle pause. The
   * runtime calls this after each of its own successful writes (wakeOnWrites); the records are still
   * read from the stream, in order, as without it. A wake during a read makes the next idle pause
   * return at once, so a record committed just after a read that found nothing waits for no poll.
   */
  wake(): void {
    this.wakes++;
    this.nudge?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.interrupt?.();
    await this.loop;
    this.client.destroy();
  }

  private async run(): Promise<void> {
    const iterators = new Map<string, string>();
    let shards: Shard[] = [];
    let shardsReadAt = 0;
    const firstIdleDelay = this.options.idleDelayMs ?? 50;
    let idleDelay = firstIdleDelay;
    while (this.running) {
      let handledAny = false;
      const wakesBefore = this.wakes;
      if (this.followed) {
        this.followed = false;
        iterators.clear();
        shardsReadAt = 0;
      }
      try {
        // New shards appear only every so often: look for them once a second, not on every read.
        if (Date.now() - shardsReadAt > 1_000) {
          shards = await this.shards();
          shardsReadAt = Date.now();
        }
        for (const shard of shards) {
          const id = shard.ShardId!;
          if (this.finishedShards.has(id)) continue;
          // A child shard waits until its parent is drained, so records stay in commit order.
          if (shard.ParentShardId && shards.some((s) => s.ShardId === shard.ParentShardId) && !this.finishedShards.has(shard.ParentShardId)) {
            continue;
          }
          const iterator = iterators.get(id) ?? (await this.iteratorFor(id, this.checkpoints[id]));
          const result = await this.client.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: this.options.batchSize ?? 100 }),
          );
          const records = result.Records ?? [];
          if (records.length > 0) {
            handledAny = true;
            const failedAt = await this.deliver(id, records);
            if (failedAt !== undefined) {
              // Start again at the failed record, after a pause.
              iterators.set(id, await this.iteratorFor(id, failedAt, 'AT_SEQUENCE_NUMBER'));
              await this.pause(500, false);
              continue;
            }
            this.checkpoint(id, records[records.length - 1].dynamodb!.SequenceNumber!);
          }
          if (result.NextShardIterator) iterators.set(id, result.NextShardIterator);
          else {
            this.finishedShards.add(id);
            iterators.delete(id);
          }
        }
      } catch (error) {
        // Iterators are taken again from the checkpoints: after an expiry, and after any failure (a
        // DynamoDB Local that died and came back does not know the iterators it handed out).
        iterators.clear();
        if (!(error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) && this.running) {
          this.options.logger?.error('stream poller: ', error);
          await this.pause(500, false);
        }
      }
      if (handledAny || this.wakes !== wakesBefore) {
        idleDelay = firstIdleDelay;
        continue;
      }
      await this.pause(idleDelay, true);
      idleDelay = Math.min(idleDelay * 2, Math.max(firstIdleDelay, this.options.maxIdleDelayMs ?? 500));
    }
  }

  private async shards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await this.client.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  private async iteratorFor(shardId: string, sequenceNumber: string | undefined, type = 'AFTER_SEQUENCE_NUMBER') {
    const { ShardIterator } = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ShardIteratorType: sequenceNumber ? (type as 'AFTER_SEQUENCE_NUMBER') : 'TRIM_HORIZON',
        SequenceNumber: sequenceNumber,
      }),
    );
    return ShardIterator!;
  }

  /**
   * Hands records to the handler, in lanes by item (see `parallelism`); returns the sequence number to
   * retry from, if one failed: the earliest failure of any lane (what other lanes handled after it is
   * handed over again, and the handler is idempotent).
   */
  private async deliver(shardId: string, records: _Record[]): Promise<string | undefined> {
    const lanes = splitIntoLanes(records, this.options.parallelism ?? 4, this.options.partitionOrdered);
    const results = await Promise.all(
      lanes.map((lane) => this.options.handle(lane.map((record) => toLambdaRecord(record, this.streamArn)))),
    );
    const failures = new Set(results.flatMap((result) => result.batchItemFailures.slice(0, 1).map((f) => f.itemIdentifier)));
    if (failures.size === 0) return undefined;
    const index = records.findIndex((r) => failures.has(r.dynamodb?.SequenceNumber ?? r.eventID ?? ''));
    if (index < 0) return [...failures][0];
    // Everything before the earliest failed record was handled: checkpoint it.
    if (index > 0) this.checkpoint(shardId, records[index - 1].dynamodb!.SequenceNumber!);
    return records[index].dynamodb!.SequenceNumber!;
  }

  private checkpoint(shardId: string, sequenceNumber: string) {
    this.checkpoints[shardId] = sequenceNumber;
    const file = this.options.checkpointFile;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(this.checkpoints));
    renameSync(`${file}.tmp`, file);
  }

  /**
   * Waits `ms`; stop() and follow() end the wait early, and so does wake() when `wakeable`. One that
   * came while the loop was reading (no pause to end then) means no wait at all.
   */
  private pause(ms: number, wakeable: boolean) {
    if (!this.running || this.followed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.interrupt = this.nudge = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.interrupt = end;
      this.nudge = wakeable ? end : undefined;
    });
  }
}

/** The document client commands that change the table (and so put records in its stream). */
const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

/**
 * Calls `wake` after every successful write made through this client (a DynamoDB or document client):
 * in local mode the runtime's own writes are what the stream poller waits for, so it can read at
 * once instead of at its next poll. A failed write changed nothing, so it wakes nothing.
 */
export function wakeOnWrites(
  client: { middlewareStack: { add(middleware: never, options: { step: 'initialize'; name: string }): void } },
  wake: () => void,
): void {
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown) => {
      const result = await next(args);
      if (WRITE_COMMANDS.has(context.commandName ?? '')) wake();
      return result;
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'berthStreamPollerWake' });
}

/**
 * Splits a batch into at most `lanes` batches, each partition's records in one of them in their
 * order (lanes by a hash of the partition key; an empty lane is dropped). An item none of whose
 * records in the batch is `partitionOrdered` goes by a hash of its whole key instead: its records
 * stay together and in order, and may run beside its partition's other records.
 */
export function splitIntoLanes(
  records: readonly _Record[],
  lanes: number,
  partitionOrdered: (record: _Record) => boolean = () => true,
): _Record[][] {
  const count = Math.max(1, Math.floor(lanes));
  if (count === 1) return records.length ? [[...records]] : [];
  const partitionOf = (record: _Record) => JSON.stringify(record.dynamodb?.Keys?.pk ?? null);
  const itemOf = (record: _Record) => JSON.stringify([record.dynamodb?.Keys?.pk ?? null, record.dynamodb?.Keys?.sk ?? null]);
  const ordered = new Set(records.filter(partitionOrdered).map(itemOf));
  const split: _Record[][] = Array.from({ length: count }, () => []);
  for (const record of records) {
    const item = itemOf(record);
    const key = ordered.has(item) ? partitionOf(record) : item;
    let hash = 0;
    for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
    split[Math.abs(hash) % count].push(record);
  }
  return split.filter((lane) => lane.length > 0);
}

/** A Streams API record in the shape Lambda hands to a DynamoDB-triggered function. */
export function toLambdaRecord(record: _Record, streamArn: string): StreamRecord & Record<string, unknown> {
  const dynamodb = record.dynamodb!;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime:
        dynamodb.ApproximateCreationDateTime instanceof Date
          ? dynamodb.ApproximateCreationDateTime.getTime() / 1000
          : (dynamodb.ApproximateCreationDateTime as number | undefined),
      Keys: dynamodb.Keys,
      NewImage: normalizeImage(dynamodb.NewImage),
      OldImage: normalizeImage(dynamodb.OldImage),
      SequenceNumber: dynamodb.SequenceNumber,
      SizeBytes: dynamodb.SizeBytes,
      StreamViewType: dynamodb.StreamViewType,
    } as StreamRecord['dynamodb'],
  };
}

type Image = Record<string, unknown> | undefined;

/**
 * DynamoDB Local's stream writes an empty map attribute as `{}` instead of `{"M": {}}` (DynamoDB
 * itself does not); left alone, one such record would fail unmarshalling on every retry and block the
 * shard. Repairs it, at any depth, so the handler sees what Lambda would hand it.
 */
export function normalizeImage(image: Image): Image {
  if (!image) return image;
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, normalizeValue(value)]));
}

function normalizeValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const attribute = value as Record<string, unknown>;
  if (Object.keys(attribute).length === 0) return { M: {} };
  if (attribute.M) return { M: normalizeImage(attribute.M as Record<string, unknown>) };
  if (attribute.L) return { L: (attribute.L as unknown[]).map(normalizeValue) };
  return attribute;
}

/**
 * EventBridge Scheduler's schedules and schedule groups in the single table (docs/data-model.md):
 *   group     pk <group ARN>  sk GROUP              gsi1 SCHEDGROUPS#<account>#<region> / name
 *   schedule  pk <group ARN>  sk SCHEDULE#<name>    gsi1 SCHEDULES#<account>#<region> / <name>#<group>
 *   due entry pk SCHEDULEDUE  sk <fire time, 15 digits>#<schedule ARN>
 *   retry     pk SCHEDULEDUE  sk <retry time, 15 digits>#<schedule ARN>#retry#<scheduled time>
 * A schedule's checkpoint (`nextScheduledAt`, the next firing not yet done) and its due entry are
 * written in the same transaction, conditional on the schedule's version, so the runner's queue of
 * due entries always agrees with the schedules, and a restart neither loses nor repeats a firing.
 */
import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Scope } from '../../domain/arns';
import { InvalidParameterException, ValidationException, VersionConflictError } from '../../domain/errors';
import type { ScheduleGroupRecord, ScheduleRecord, SchedulerTag } from '../../domain/schedule';
import { conditionally, failedConditions } from './conditional-writes';
import { scopeTag } from './keys';
import { queryItems, queryPage, type Page, type PageRequest } from './query-pages';
import { TABLE_SCHEMA } from './table-schema';

export const groupKey = (groupArn: string) => ({ pk: groupArn, sk: 'GROUP' });
export const SCHEDULE_SK_PREFIX = 'SCHEDULE#';
export const scheduleKey = (groupArn: string, name: string) => ({ pk: groupArn, sk: `${SCHEDULE_SK_PREFIX}${name}` });
export const groupListPartition = (scope: Scope) => `SCHEDGROUPS#${scopeTag(scope)}`;
export const scheduleListPartition = (scope: Scope) => `SCHEDULES#${scopeTag(scope)}`;
export const DUE_PARTITION = 'SCHEDULEDUE';
const dueSortKey = (fireAtMs: number, scheduleArn: string) => `${String(fireAtMs).padStart(15, '0')}#${scheduleArn}`;
const retryKey = (retry: PendingRetry) => ({
  pk: DUE_PARTITION,
  sk: `${dueSortKey(retry.retryAt, retry.record.Arn)}#retry#${retry.scheduledAt}`,
});

export interface StoredSchedule {
  readonly record: ScheduleRecord;
  readonly groupArn: string;
  readonly version: number;
  /** The checkpoint: the scheduled time of the next firing not yet done (none: nothing to run). */
  readonly nextScheduledAt?: number;
  /** When that firing happens (its point in the flexible window). */
  readonly nextFireAt?: number;
}
export interface StoredScheduleGroup {
  readonly record: ScheduleGroupRecord;
  readonly tags: SchedulerTag[];
  readonly version: number;
}
/** A due entry: one schedule's next firing. */
export interface DueFiring {
  readonly scheduleArn: string;
  readonly groupArn: string;
  readonly name: string;
  readonly scheduledAt: number;
  readonly fireAt: number;
}
/**
 * A failed firing waiting for its next attempt. It carries the schedule as it was when it fired, so
 * it runs (like Scheduler's retries) whatever happens to the schedule meanwhile.
 */
export interface PendingRetry {
  readonly record: ScheduleRecord;
  readonly groupArn: string;
  readonly scheduledAt: number;
  /** The attempt this retry is (2: the first retry). */
  readonly attempt: number;
  readonly retryAt: number;
  readonly firstAttemptAt: number;
}
export type DueEntry = ({ readonly kind: 'firing' } & DueFiring) | ({ readonly kind: 'retry' } & PendingRetry);
export interface NextFiring {
  readonly scheduledAt: number;
  readonly fireAt: number;
}

const toSchedule = (item: Record<string, unknown>): StoredSchedule => ({
  record: item.doc as ScheduleRecord,
  groupArn: item.pk as string,
  version: item.version as number,
  nextScheduledAt: item.nextScheduledAt as number | undefined,
  nextFireAt: item.nextFireAt as number | undefined,
});
const toGroup = (item: Record<string, unknown>): StoredScheduleGroup => ({
  record: item.doc as ScheduleGroupRecord,
  tags: (item.tags as SchedulerTag[] | undefined) ?? [],
  version: item.version as number,
});

export class ScheduleRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getGroup(groupArn: string): Promise<StoredScheduleGroup | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: groupKey(groupArn), ConsistentRead: true }));
    return Item ? toGroup(Item) : undefined;
  }

  /** Creates the group; false when it exists already. */
  async createGroup(scope: Scope, record: ScheduleGroupRecord, tags: SchedulerTag[]): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...groupKey(record.Arn),
            kind: 'schedule-group',
            doc: record,
            tags,
            version: 1,
            gsi1pk: groupListPartition(scope),
            gsi1sk: record.Name,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async updateGroupTags(groupArn: string, tags: SchedulerTag[], expectedVersion: number): Promise<void> {
    await conditionally(groupArn, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: groupKey(groupArn),
          UpdateExpression: 'SET tags = :tags, #version = :next',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':tags': tags, ':next': expectedVersion + 1, ':expected': expectedVersion },
        }),
      ),
    );
  }

  /** Marks the group DELETING (so no schedule can join it), before its schedules are removed. */
  async markGroupDeleting(record: ScheduleGroupRecord, expectedVersion: number, nowMs: number): Promise<void> {
    await conditionally(record.Arn, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: groupKey(record.Arn),
          UpdateExpression: 'SET #doc = :doc, #version = :next REMOVE gsi1pk, gsi1sk',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#doc': 'doc', '#version': 'version' },
          ExpressionAttributeValues: {
            ':doc': { ...record, State: 'DELETING', LastModificationDate: nowMs },
            ':next': expectedVersion + 1,
            ':expected': expectedVersion,
          },
        }),
      ),
    );
  }

  async deleteGroupItem(groupArn: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: groupKey(groupArn) }));
  }

  async listGroups(scope: Scope, namePrefix: string | undefined, page: PageRequest): Promise<Page<StoredScheduleGroup>> {
    const partition = groupListPartition(scope);
    const result = await asValidation(() =>
      queryPage(
        this.doc,
        {
          TableName: this.tableName,
          IndexName: TABLE_SCHEMA.listIndex.name,
          KeyConditionExpression: namePrefix ? 'gsi1pk = :p AND begins_with(gsi1sk, :prefix)' : 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': partition, ...(namePrefix ? { ':prefix': namePrefix } : {}) },
        },
        ['pk', 'sk', 'gsi1pk', 'gsi1sk'],
        { attribute: 'gsi1pk', value: partition },
        page,
      ),
    );
    return { items: result.items.map(toGroup), nextToken: result.nextToken };
  }

  async getSchedule(groupArn: string, name: string): Promise<StoredSchedule | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: scheduleKey(groupArn, name), ConsistentRead: true }),
    );
    return Item ? toSchedule(Item) : undefined;
  }

  /**
   * Creates a schedule in an ACTIVE group. Returns 'exists' when the name is taken, 'no-group' when
   * the group is gone or being deleted.
   */
  async createSchedule(scope: Scope, groupArn: string, record: ScheduleRecord, next: NextFiring | undefined): Promise<'created' | 'exists' | 'no-group'> {
    const items = [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...this.scheduleItem(scope, groupArn, record, next), version: 1 },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        ConditionCheck: {
          TableName: this.tableName,
          Key: groupKey(groupArn),
          ConditionExpression: '#doc.#state = :active',
          ExpressionAttributeNames: { '#doc': 'doc', '#state': 'State' },
          ExpressionAttributeValues: { ':active': 'ACTIVE' },
        },
      },
      ...(next ? [this.putDue(groupArn, record, next)] : []),
    ];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return 'created';
    } catch (error) {
      const failed = failedConditions(error);
      if (!failed) throw error;
      if (failed.includes(0)) return 'exists';
      if (failed.includes(1)) return 'no-group';
      throw new VersionConflictError(record.Arn, { cause: error });
    }
  }

  /** Replaces the schedule and its checkpoint if nobody changed it since `stored` was read. */
  async updateSchedule(scope: Scope, stored: StoredSchedule, record: ScheduleRecord, next: NextFiring | undefined): Promise<void> {
    await this.transact(record.Arn, [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...this.scheduleItem(scope, stored.groupArn, record, next), version: stored.version + 1 },
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': stored.version },
        },
      },
      ...this.moveDue(stored, record, next),
    ]);
  }

  /** Deletes the schedule; `retry`, if given, is queued in the same transaction. */
  async deleteSchedule(stored: StoredSchedule, retry?: PendingRetry): Promise<void> {
    await this.transact(stored.record.Arn, [
      ...(retry ? [this.putRetry(retry)] : []),
      {
        Delete: {
          TableName: this.tableName,
          Key: scheduleKey(stored.groupArn, stored.record.Name),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': stored.version },
        },
      },
      ...this.moveDue(stored, stored.record, undefined),
    ]);
  }

  /** Moves the checkpoint past a firing that was run or skipped; a failed one's retry is queued with it. */
  async advance(stored: StoredSchedule, next: NextFiring | undefined, retry?: PendingRetry): Promise<void> {
    await this.transact(stored.record.Arn, [
      ...(retry ? [this.putRetry(retry)] : []),
      {
        Update: {
          TableName: this.tableName,
          Key: scheduleKey(stored.groupArn, stored.record.Name),
          UpdateExpression: next
            ? 'SET nextScheduledAt = :scheduled, nextFireAt = :fire, #version = :next'
            : 'SET #version = :next REMOVE nextScheduledAt, nextFireAt',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: {
            ':expected': stored.version,
            ':next': stored.version + 1,
            ...(next ? { ':scheduled': next.scheduledAt, ':fire': next.fireAt } : {}),
          },
        },
      },
      ...this.moveDue(stored, stored.record, next),
    ]);
  }

  async listSchedules(
    scope: Scope,
    filter: { groupArn?: string; namePrefix?: string; state?: string },
    page: PageRequest,
  ): Promise<Page<StoredSchedule>> {
    const accept = (item: Record<string, unknown>) => !filter.state || (item.doc as ScheduleRecord).State === filter.state;
    const prefix = filter.namePrefix ?? '';
    const result = await asValidation(() =>
      filter.groupArn
        ? queryPage(
            this.doc,
            {
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
              ExpressionAttributeValues: { ':p': filter.groupArn, ':prefix': `${SCHEDULE_SK_PREFIX}${prefix}` },
              ConsistentRead: true,
            },
            ['pk', 'sk'],
            { attribute: 'pk', value: filter.groupArn },
            page,
            accept,
          )
        : queryPage(
            this.doc,
            {
              TableName: this.tableName,
              IndexName: TABLE_SCHEMA.listIndex.name,
              KeyConditionExpression: prefix ? 'gsi1pk = :p AND begins_with(gsi1sk, :prefix)' : 'gsi1pk = :p',
              ExpressionAttributeValues: { ':p': scheduleListPartition(scope), ...(prefix ? { ':prefix': prefix } : {}) },
            },
            ['pk', 'sk', 'gsi1pk', 'gsi1sk'],
            { attribute: 'gsi1pk', value: scheduleListPartition(scope) },
            page,
            accept,
          ),
    );
    return { items: result.items.map(toSchedule), nextToken: result.nextToken };
  }

  /** Every schedule of a group (to delete them with it). */
  async *schedulesOfGroup(groupArn: string): AsyncGenerator<StoredSchedule> {
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':p': groupArn, ':prefix': SCHEDULE_SK_PREFIX },
      ConsistentRead: true,
    })) {
      yield toSchedule(item);
    }
  }

  /**
   * Ends a retry (it ran, or gave up) and queues the next one, if any; VersionConflictError when the
   * retry was already ended by someone else.
   */
  async finishRetry(done: PendingRetry, next: PendingRetry | undefined): Promise<void> {
    await this.transact(done.record.Arn, [
      { Delete: { TableName: this.tableName, Key: retryKey(done), ConditionExpression: 'attribute_exists(pk)' } },
      ...(next ? [this.putRetry(next)] : []),
    ]);
  }

  /** Due firings and retries whose time is at or before `nowMs`, earliest first. */
  async dueEntries(nowMs: number, limit = 100): Promise<DueEntry[]> {
    const found: DueEntry[] = [];
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p AND sk <= :until',
      // '$' sorts after '#', so every entry of the last due millisecond is included.
      ExpressionAttributeValues: { ':p': DUE_PARTITION, ':until': `${String(nowMs).padStart(15, '0')}$` },
      ConsistentRead: true,
    })) {
      if (item.kind === 'schedule-retry') {
        found.push({
          kind: 'retry',
          record: item.doc as ScheduleRecord,
          groupArn: item.groupArn as string,
          scheduledAt: item.scheduledAt as number,
          attempt: item.attempt as number,
          retryAt: item.retryAt as number,
          firstAttemptAt: item.firstAttemptAt as number,
        });
        if (found.length >= limit) break;
        continue;
      }
      found.push({
        kind: 'firing',
        scheduleArn: item.scheduleArn as string,
        groupArn: item.groupArn as string,
        name: item.name as string,
        scheduledAt: item.scheduledAt as number,
        fireAt: item.fireAt as number,
      });
      if (found.length >= limit) break;
    }
    return found;
  }

  private scheduleItem(scope: Scope, groupArn: string, record: ScheduleRecord, next: NextFiring | undefined) {
    return {
      ...scheduleKey(groupArn, record.Name),
      kind: 'schedule',
      doc: record,
      gsi1pk: scheduleListPartition(scope),
      gsi1sk: `${record.Name}#${record.GroupName}`,
      ...(next ? { nextScheduledAt: next.scheduledAt, nextFireAt: next.fireAt } : {}),
    };
  }

  private putRetry(retry: PendingRetry) {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...retryKey(retry),
          kind: 'schedule-retry',
          doc: retry.record,
          groupArn: retry.groupArn,
          scheduledAt: retry.scheduledAt,
          attempt: retry.attempt,
          retryAt: retry.retryAt,
          firstAttemptAt: retry.firstAttemptAt,
        },
      },
    };
  }

  private putDue(groupArn: string, record: ScheduleRecord, next: NextFiring) {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          pk: DUE_PARTITION,
          sk: dueSortKey(next.fireAt, record.Arn),
          kind: 'schedule-due',
          scheduleArn: record.Arn,
          groupArn,
          name: record.Name,
          scheduledAt: next.scheduledAt,
          fireAt: next.fireAt,
        },
      },
    };
  }

  /** The due-entry writes that take a schedule from its stored checkpoint to `next`. */
  private moveDue(stored: StoredSchedule, record: ScheduleRecord, next: NextFiring | undefined) {
    const unchanged = next && stored.nextFireAt === next.fireAt && stored.nextScheduledAt === next.scheduledAt;
    const writes: Record<string, unknown>[] = [];
    if (stored.nextFireAt !== undefined && !unchanged) {
      writes.push({ Delete: { TableName: this.tableName, Key: { pk: DUE_PARTITION, sk: dueSortKey(stored.nextFireAt, record.Arn) } } });
    }
    if (next && !unchanged) writes.push(this.putDue(stored.groupArn, record, next));
    return writes;
  }

  private async transact(key: string, items: Record<string, unknown>[]): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
    } catch (error) {
      if (failedConditions(error)) throw new VersionConflictError(key, { cause: error });
      throw error;
    }
  }
}

/** The shared page-token reader answers in ECS's words; Scheduler calls a bad token a ValidationException. */
async function asValidation<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InvalidParameterException) throw new ValidationException(error.message);
    throw error;
  }
}


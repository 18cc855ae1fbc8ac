import { GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Scope } from '../../domain/arns';
import { VersionConflictError } from '../../domain/errors';
import type { Tag, TaskDefinitionRecord, TaskDefinitionStatus } from '../../domain/records';
import { conditionally, epochSeconds, failedConditions } from './conditional-writes';
import {
  familyKey,
  familyListPartition,
  familyPartition,
  revisionKey,
  revisionListPartition,
  revisionListSortKey,
} from './keys';
import { queryItems, queryPage, type Page, type PageRequest } from './query-pages';
import { TABLE_SCHEMA } from './table-schema';

export interface StoredFamily {
  readonly latestRevision: number;
  readonly activeRevisionCount: number;
  readonly version: number;
}
export interface StoredTaskDefinition {
  readonly record: TaskDefinitionRecord;
  readonly tags: Tag[];
  readonly version: number;
}

const toStored = (item: Record<string, unknown>): StoredTaskDefinition => ({
  record: item.doc as TaskDefinitionRecord,
  tags: (item.tags as Tag[] | undefined) ?? [],
  version: item.version as number,
});

/**
 * Task definition families and their revisions. The family item holds the revision counter, so two
 * concurrent registrations of one family cannot both take the same revision number.
 */
export class TaskDefinitionRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getFamily(scope: Scope, family: string): Promise<StoredFamily | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: familyKey(scope, family), ConsistentRead: true }),
    );
    return Item
      ? {
          latestRevision: Item.latestRevision as number,
          activeRevisionCount: Item.activeRevisionCount as number,
          version: Item.version as number,
        }
      : undefined;
  }

  /** Stores revision `record.revision`; `family` is what was read before (undefined: a new family). */
  async register(scope: Scope, record: TaskDefinitionRecord, tags: Tag[], family: StoredFamily | undefined): Promise<void> {
    // The revision counter is guarded by the family's version; the active count only ever moves by
    // ADD (here and in deregister), so a deregistration racing this registration is never lost.
    const familyUpdate = {
      Update: {
        TableName: this.tableName,
        Key: familyKey(scope, record.family),
        UpdateExpression:
          'SET #kind = :kind, #family = :family, latestRevision = :revision, gsi1pk = :gpk, gsi1sk = :family ADD activeRevisionCount :one, #version :one',
        ConditionExpression: family ? '#version = :expected' : 'attribute_not_exists(pk)',
        ExpressionAttributeNames: { '#version': 'version', '#kind': 'kind', '#family': 'family' },
        ExpressionAttributeValues: {
          ':kind': 'task-definition-family',
          ':family': record.family,
          ':revision': record.revision,
          ':gpk': familyListPartition(scope),
          ':one': 1,
          ...(family ? { ':expected': family.version } : {}),
        },
      },
    };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            familyUpdate,
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...revisionKey(scope, record.family, record.revision),
                  kind: 'task-definition',
                  version: 1,
                  doc: record,
                  tags,
                  status: record.status,
                  gsi1pk: revisionListPartition(scope),
                  gsi1sk: revisionListSortKey(record.family, record.revision),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (failedConditions(error)) throw new VersionConflictError(record.taskDefinitionArn, { cause: error });
      throw error;
    }
  }

  async getRevision(scope: Scope, family: string, revision: number): Promise<StoredTaskDefinition | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: revisionKey(scope, family, revision), ConsistentRead: true }),
    );
    return Item ? toStored(Item) : undefined;
  }

  /** The newest ACTIVE revision of a family: what `family` alone refers to. */
  async latestActive(scope: Scope, family: string): Promise<StoredTaskDefinition | undefined> {
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :rev)',
      FilterExpression: '#status = :active',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':p': familyPartition(scope, family), ':rev': 'REV#', ':active': 'ACTIVE' },
      ScanIndexForward: false,
      ConsistentRead: true,
    })) {
      return toStored(item);
    }
    return undefined;
  }

  /** Marks a revision INACTIVE and takes it off the family's active count, atomically. */
  async deregister(scope: Scope, stored: StoredTaskDefinition, deregisteredAt: number): Promise<TaskDefinitionRecord> {
    const record: TaskDefinitionRecord = { ...stored.record, status: 'INACTIVE', deregisteredAt };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: revisionKey(scope, record.family, record.revision),
                UpdateExpression: 'SET #doc = :doc, #status = :inactive, #version = :next',
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#doc': 'doc', '#status': 'status', '#version': 'version' },
                ExpressionAttributeValues: {
                  ':doc': record,
                  ':inactive': 'INACTIVE',
                  ':next': stored.version + 1,
                  ':expected': stored.version,
                },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: familyKey(scope, record.family),
                UpdateExpression: 'ADD activeRevisionCount :minusOne',
                ExpressionAttributeValues: { ':minusOne': -1 },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (failedConditions(error)) throw new VersionConflictError(record.taskDefinitionArn, { cause: error });
      throw error;
    }
    return record;
  }

  /**
   * DeleteTaskDefinitions: an INACTIVE revision becomes DELETE_IN_PROGRESS (conditional on the version
   * read, so a racing delete or tag change decides again) and expires with the table's TTL: DynamoDB
   * removes it after `expiresAtMs`. Nothing else refers to the item (tasks keep their own copy).
   */
  async requestDeletion(scope: Scope, stored: StoredTaskDefinition, at: number, expiresAtMs: number): Promise<TaskDefinitionRecord> {
    const record: TaskDefinitionRecord = { ...stored.record, status: 'DELETE_IN_PROGRESS', deleteRequestedAt: at };
    await conditionally(record.taskDefinitionArn, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: revisionKey(scope, record.family, record.revision),
          UpdateExpression: `SET #doc = :doc, #status = :deleting, #version = :next, ${TABLE_SCHEMA.ttlAttribute} = :expires`,
          ConditionExpression: '#version = :expected AND #status = :inactive',
          ExpressionAttributeNames: { '#doc': 'doc', '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: {
            ':doc': record,
            ':deleting': 'DELETE_IN_PROGRESS',
            ':inactive': 'INACTIVE',
            ':next': stored.version + 1,
            ':expected': stored.version,
            ':expires': epochSeconds(expiresAtMs),
          },
        }),
      ),
    );
    return record;
  }

  async putTags(scope: Scope, stored: StoredTaskDefinition, tags: Tag[]): Promise<void> {
    await conditionally(stored.record.taskDefinitionArn, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: revisionKey(scope, stored.record.family, stored.record.revision),
          UpdateExpression: 'SET tags = :tags, #version = :next',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':tags': tags, ':next': stored.version + 1, ':expected': stored.version },
        }),
      ),
    );
  }

  async listRevisions(
    scope: Scope,
    filter: { family?: string; status: TaskDefinitionStatus; descending: boolean },
    page: PageRequest,
  ): Promise<Page<string>> {
    const partition = revisionListPartition(scope);
    const result = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: TABLE_SCHEMA.listIndex.name,
        KeyConditionExpression: filter.family ? 'gsi1pk = :p AND begins_with(gsi1sk, :family)' : 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': partition, ...(filter.family ? { ':family': `${filter.family}#` } : {}) },
        ScanIndexForward: !filter.descending,
      },
      ['pk', 'sk', 'gsi1pk', 'gsi1sk'],
      { attribute: 'gsi1pk', value: partition },
      page,
      (item) => item.status === filter.status,
    );
    return { items: result.items.map((item) => (item.doc as TaskDefinitionRecord).taskDefinitionArn), nextToken: result.nextToken };
  }

  async listFamilies(
    scope: Scope,
    filter: { prefix?: string; status: 'ACTIVE' | 'INACTIVE' | 'ALL' },
    page: PageRequest,
  ): Promise<Page<string>> {
    const partition = familyListPartition(scope);
    const result = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: TABLE_SCHEMA.listIndex.name,
        KeyConditionExpression: filter.prefix ? 'gsi1pk = :p AND begins_with(gsi1sk, :prefix)' : 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': partition, ...(filter.prefix ? { ':prefix': filter.prefix } : {}) },
      },
      ['pk', 'sk', 'gsi1pk', 'gsi1sk'],
      { attribute: 'gsi1pk', value: partition },
      page,
      (item) =>
        filter.status === 'ALL' || (filter.status === 'ACTIVE') === (Number(item.activeRevisionCount) > 0),
    );
    return { items: result.items.map((item) => item.family as string), nextToken: result.nextToken };
  }
}

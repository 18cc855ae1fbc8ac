import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Scope } from '../../domain/arns';
import { EMPTY_COUNTS, type ClusterCounts, type ClusterRecord, type LaunchType } from '../../domain/records';
import { conditionally, epochSeconds, failedConditions } from './conditional-writes';
import { VersionConflictError } from '../../domain/errors';
import { clusterKey, clusterListPartition } from './keys';
import { queryPage, type Page, type PageRequest } from './query-pages';
import { TABLE_SCHEMA } from './table-schema';

export interface StoredCluster {
  readonly record: ClusterRecord;
  readonly version: number;
  readonly counts: ClusterCounts;
}

const COUNT_NAMES = Object.keys(EMPTY_COUNTS) as (keyof ClusterCounts)[];

export type CountDeltas = Partial<Record<keyof ClusterCounts, number>>;

/** The counters a task moves between when it enters or leaves the pending or running bucket. */
export function taskCountDeltas(
  launchType: LaunchType,
  from: 'pending' | 'running' | undefined,
  to: 'pending' | 'running' | undefined,
  tasks = 1,
): CountDeltas {
  const deltas: CountDeltas = {};
  const kind = launchType === 'FARGATE' ? 'Fargate' : launchType === 'EXTERNAL' ? 'External' : 'EC2';
  const add = (bucket: 'pending' | 'running', amount: number) => {
    deltas[`${bucket}TasksCount`] = (deltas[`${bucket}TasksCount`] ?? 0) + amount;
    deltas[`${bucket}${kind}TasksCount`] = (deltas[`${bucket}${kind}TasksCount`] ?? 0) + amount;
  };
  if (from === to) return deltas;
  if (from) add(from, -tasks);
  if (to) add(to, tasks);
  return deltas;
}

export class ClusterRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(clusterArn: string): Promise<StoredCluster | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: clusterKey(clusterArn), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const counts = Object.fromEntries(COUNT_NAMES.map((name) => [name, Number(Item[name] ?? 0)])) as unknown as ClusterCounts;
    return { record: Item.doc as ClusterRecord, version: Item.version as number, counts };
  }

  /**
   * Creates the cluster, or brings an INACTIVE one of the same name back (ECS reuses the ARN).
   * `replacing` is the version of the inactive item being replaced.
   */
  async create(scope: Scope, record: ClusterRecord, replacing?: number, guards: readonly object[] = []): Promise<void> {
    await this.write(record.clusterArn, guards, 'Put', {
      TableName: this.tableName,
      Item: {
        ...clusterKey(record.clusterArn),
        kind: 'cluster',
        doc: record,
        version: (replacing ?? 0) + 1,
        ...EMPTY_COUNTS,
        ...this.listing(scope, record),
      },
      ConditionExpression:
        replacing === undefined ? 'attribute_not_exists(pk)' : '#version = :replacing AND #doc.#status = :inactive',
      ExpressionAttributeNames:
        replacing === undefined ? undefined : { '#version': 'version', '#doc': 'doc', '#status': 'status' },
      ExpressionAttributeValues: replacing === undefined ? undefined : { ':replacing': replacing, ':inactive': 'INACTIVE' },
    });
  }

  /** Replaces the cluster's record if nobody changed it since `expectedVersion` was read. */
  async update(scope: Scope, record: ClusterRecord, expectedVersion: number, guards: readonly object[] = []): Promise<void> {
    const listing = this.listing(scope, record);
    await this.write(record.clusterArn, guards, 'Update', {
      TableName: this.tableName,
      Key: clusterKey(record.clusterArn),
      UpdateExpression: listing.gsi1pk
        ? 'SET #doc = :doc, #version = :next, gsi1pk = :gpk, gsi1sk = :gsk'
        : 'SET #doc = :doc, #version = :next REMOVE gsi1pk, gsi1sk',
      ConditionExpression: '#version = :expected',
      ExpressionAttributeNames: { '#doc': 'doc', '#version': 'version' },
      ExpressionAttributeValues: {
        ':doc': record,
        ':next': expectedVersion + 1,
        ':expected': expectedVersion,
        ...(listing.gsi1pk ? { ':gpk': listing.gsi1pk, ':gsk': listing.gsi1sk } : {}),
      },
    });
  }

  /**
   * One conditional write of the cluster item; with `guards` (transaction items, e.g. the capacity
   * providers being associated, src/adapters/dynamodb/capacity-provider-repository.ts) in one
   * transaction with them, so the cluster changes only if every guard holds.
   */
  private async write(clusterArn: string, guards: readonly object[], kind: 'Put' | 'Update', input: Record<string, unknown>) {
    if (!guards.length) {
      const command = kind === 'Put' ? new PutCommand(input as never) : new UpdateCommand(input as never);
      await conditionally(clusterArn, () => this.doc.send(command as never));
      return;
    }
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [{ [kind]: input }, ...guards] as never }));
    } catch (error) {
      if (failedConditions(error)) throw new VersionConflictError(clusterArn, { cause: error });
      throw error;
    }
  }

  /**
   * Marks the cluster INACTIVE. The condition repeats the emptiness check because task counters move
   * without bumping the version: a RunTask that lands between the caller's read and this write makes
   * it fail, and the caller's retry then sees the task.
   */
  async deactivate(scope: Scope, record: ClusterRecord, expectedVersion: number, expiresAtMs: number): Promise<void> {
    await conditionally(record.clusterArn, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: clusterKey(record.clusterArn),
          UpdateExpression: `SET #doc = :doc, #version = :next, ${TABLE_SCHEMA.ttlAttribute} = :expires REMOVE gsi1pk, gsi1sk`,
          ConditionExpression:
            '#version = :expected AND pendingTasksCount = :zero AND runningTasksCount = :zero AND activeServicesCount = :zero AND registeredContainerInstancesCount = :zero',
          ExpressionAttributeNames: { '#doc': 'doc', '#version': 'version' },
          ExpressionAttributeValues: {
            ':doc': { ...record, status: 'INACTIVE' },
            ':next': expectedVersion + 1,
            ':expected': expectedVersion,
            ':expires': epochSeconds(expiresAtMs),
            ':zero': 0,
          },
        }),
      ),
    );
  }

  async list(scope: Scope, page: PageRequest): Promise<Page<string>> {
    const partition = clusterListPartition(scope);
    const result = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: TABLE_SCHEMA.listIndex.name,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': partition },
        ProjectionExpression: 'pk, sk, gsi1pk, gsi1sk',
      },
      ['pk', 'sk', 'gsi1pk', 'gsi1sk'],
      { attribute: 'gsi1pk', value: partition },
      page,
    );
    return { items: result.items.map((item) => item.pk as string), nextToken: result.nextToken };
  }

  private listing(scope: Scope, record: ClusterRecord) {
    return record.status === 'INACTIVE'
      ? {}
      : { gsi1pk: clusterListPartition(scope), gsi1sk: record.clusterName };
  }
}

/**
 * A TransactWriteItems entry that moves the cluster's task counters; fails if the cluster is not
 * ACTIVE, or if one of `capacityProviders` is no longer associated with it (a concurrent
 * PutClusterCapacityProviders removed it after the caller read the cluster).
 */
export function clusterCountsUpdate(
  tableName: string,
  clusterArn: string,
  deltas: CountDeltas,
  capacityProviders: readonly string[] = [],
) {
  const names = Object.keys(deltas).filter((name) => deltas[name as keyof ClusterCounts] !== 0);
  const add = names.map((name, index) => `${name} :d${index}`).join(', ');
  return {
    Update: {
      TableName: tableName,
      Key: clusterKey(clusterArn),
      UpdateExpression: names.length ? `ADD ${add}` : 'SET #doc.#status = #doc.#status',
      ConditionExpression: ['#doc.#status = :active', ...capacityProviders.map((_, i) => `contains(#doc.#providers, :cp${i})`)].join(
        ' AND ',
      ),
      ExpressionAttributeNames: {
        '#doc': 'doc',
        '#status': 'status',
        ...(capacityProviders.length ? { '#providers': 'capacityProviders' } : {}),
      },
      ExpressionAttributeValues: {
        ':active': 'ACTIVE',
        ...Object.fromEntries(capacityProviders.map((name, i) => [`:cp${i}`, name])),
        ...Object.fromEntries(names.map((name, index) => [`:d${index}`, deltas[name as keyof ClusterCounts]])),
      },
    },
  };
}

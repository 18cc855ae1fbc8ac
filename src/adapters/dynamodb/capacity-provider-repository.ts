import { GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Scope } from '../../domain/arns';
import type { CapacityProviderRecord } from '../../domain/capacity-provider';
import { VersionConflictError } from '../../domain/errors';
import { epochSeconds, failedConditions, wroteUnlessLost } from './conditional-writes';
import { autoScalingGroupClaimKey, capacityProviderKey, capacityProvidersPartition } from './keys';
import { queryItems } from './query-pages';
import { TABLE_SCHEMA } from './table-schema';

/** Berth's managed scaling metric of a provider in one cluster, as the capacity sweep last computed it. */
export interface ProviderMetric {
  readonly clusterArn: string;
  readonly capacityProviderReservation: number;
  readonly computedAt: number;
}

export interface StoredCapacityProvider {
  readonly record: CapacityProviderRecord;
  readonly version: number;
  /** By cluster ARN; written by the sweep without bumping `version` (nothing a user set changed). */
  readonly metrics: Readonly<Record<string, ProviderMetric>>;
}

export type CreateProviderOutcome = 'created' | 'name-taken' | 'group-taken';

/**
 * Auto Scaling group capacity providers, one item each in the account+region's partition, with a
 * claim item per Auto Scaling group written in the same transaction, so two providers can never
 * claim one group, however they race. Every write is conditional on the version read.
 */
export class CapacityProviderRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(scope: Scope, name: string): Promise<StoredCapacityProvider | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: capacityProviderKey(scope, name), ConsistentRead: true }),
    );
    return Item ? toStored(Item) : undefined;
  }

  /** Every provider of the account+region (ACTIVE and recently INACTIVE), by name. */
  async all(scope: Scope): Promise<StoredCapacityProvider[]> {
    const found: StoredCapacityProvider[] = [];
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': capacityProvidersPartition(scope) },
      ConsistentRead: true,
    })) {
      found.push(toStored(item));
    }
    return found;
  }

  /** Creates the provider (or replaces an INACTIVE one of the same name, at `replacing`) and claims its group. */
  async create(scope: Scope, record: CapacityProviderRecord, replacing?: number): Promise<CreateProviderOutcome> {
    const items = [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...capacityProviderKey(scope, record.name), kind: 'capacity-provider', doc: record, version: (replacing ?? 0) + 1 },
          ConditionExpression: replacing === undefined ? 'attribute_not_exists(pk)' : '#version = :replacing AND #doc.#status = :inactive',
          ...(replacing === undefined
            ? {}
            : {
                ExpressionAttributeNames: { '#version': 'version', '#doc': 'doc', '#status': 'status' },
                ExpressionAttributeValues: { ':replacing': replacing, ':inactive': 'INACTIVE' },
              }),
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: { ...autoScalingGroupClaimKey(scope, record.autoScalingGroupProvider.autoScalingGroupArn), kind: 'asg-claim', name: record.name },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
      return 'created';
    } catch (error) {
      const failed = failedConditions(error);
      if (!failed) throw error;
      if (failed.includes(0)) return 'name-taken';
      if (failed.includes(1)) return 'group-taken';
      throw new VersionConflictError(record.capacityProviderArn, { cause: error });
    }
  }

  /** Replaces the record if nobody changed it since `expectedVersion` was read. */
  async update(scope: Scope, record: CapacityProviderRecord, expectedVersion: number): Promise<void> {
    const written = await wroteUnlessLost(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: capacityProviderKey(scope, record.name),
          UpdateExpression: 'SET #doc = :doc, #version = :next',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#doc': 'doc', '#version': 'version' },
          ExpressionAttributeValues: { ':doc': record, ':next': expectedVersion + 1, ':expected': expectedVersion },
        }),
      ),
    );
    if (!written) throw new VersionConflictError(record.capacityProviderArn);
  }

  /** Marks the provider INACTIVE (describable until `expiresAtMs`) and frees its group, if unchanged since `expectedVersion`. */
  async deactivate(scope: Scope, record: CapacityProviderRecord, expectedVersion: number, expiresAtMs: number): Promise<void> {
    const items = [
      {
        Update: {
          TableName: this.tableName,
          Key: capacityProviderKey(scope, record.name),
          UpdateExpression: `SET #doc = :doc, #version = :next, ${TABLE_SCHEMA.ttlAttribute} = :expires REMOVE #metrics`,
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#doc': 'doc', '#version': 'version', '#metrics': 'metrics' },
          ExpressionAttributeValues: { ':doc': record, ':next': expectedVersion + 1, ':expected': expectedVersion, ':expires': epochSeconds(expiresAtMs) },
        },
      },
      { Delete: { TableName: this.tableName, Key: autoScalingGroupClaimKey(scope, record.autoScalingGroupProvider.autoScalingGroupArn) } },
    ];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
    } catch (error) {
      if (failedConditions(error)) throw new VersionConflictError(record.capacityProviderArn, { cause: error });
      throw error;
    }
  }

  /**
   * The transaction item a cluster write carries when it associates the provider: it holds only
   * while the provider is ACTIVE at `version`, and bumps the version, so a DeleteCapacityProvider that
   * read the provider before the association fails its own conditional write and decides again.
   */
  associationGuard(scope: Scope, name: string, version: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: capacityProviderKey(scope, name),
        UpdateExpression: 'SET #version = :next',
        ConditionExpression: '#version = :expected AND #doc.#status = :active',
        ExpressionAttributeNames: { '#version': 'version', '#doc': 'doc', '#status': 'status' },
        ExpressionAttributeValues: { ':next': version + 1, ':expected': version, ':active': 'ACTIVE' },
      },
    };
  }

  /** Records the sweep's metrics (one per cluster the provider serves); a provider deleted meanwhile is left alone. */
  async recordMetrics(scope: Scope, name: string, metrics: readonly ProviderMetric[]): Promise<void> {
    await wroteUnlessLost(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: capacityProviderKey(scope, name),
          UpdateExpression: 'SET #metrics = :metrics',
          ConditionExpression: '#doc.#status = :active',
          ExpressionAttributeNames: { '#doc': 'doc', '#status': 'status', '#metrics': 'metrics' },
          ExpressionAttributeValues: { ':metrics': Object.fromEntries(metrics.map((m) => [m.clusterArn, m])), ':active': 'ACTIVE' },
        }),
      ),
    );
  }
}

const toStored = (item: Record<string, unknown>): StoredCapacityProvider => ({
  record: item.doc as CapacityProviderRecord,
  version: item.version as number,
  metrics: (item.metrics as Record<string, ProviderMetric> | undefined) ?? {},
});

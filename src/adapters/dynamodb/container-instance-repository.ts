import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../../domain/errors';
import { clusterCountsUpdate } from './cluster-repository';
import { clusterArn, parseArn, type Scope } from '../../domain/arns';
import { FARGATE_POOL_NAME, type ContainerInstanceRecord, type ResourceAmounts } from '../../domain/container-instance';
import { conditionally, failedConditions } from './conditional-writes';
import { connectedAgentsPartition, fargatePoolPartition, INSTANCE_SK_PREFIX, instanceKey, lastPolledSortKey } from './keys';
import { TABLE_SCHEMA } from './table-schema';
import { queryItems, queryPage, type Page, type PageRequest } from './query-pages';

export interface StoredContainerInstance {
  readonly record: ContainerInstanceRecord;
  readonly version: number;
  readonly remaining: ResourceAmounts;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  /** When the agent last polled (epoch ms), written at most every few seconds (src/domain/agent-liveness.ts). */
  readonly lastPolledAt?: number;
}

/** The item key of a container instance, from its ARN (cluster partition or Fargate pool). */
export function containerInstanceKey(containerInstanceArn: string) {
  const parsed = parseArn(containerInstanceArn);
  if (!parsed || parsed.resourceType !== 'container-instance' || parsed.path.length !== 2) {
    throw new Error(`not a container instance ARN: ${containerInstanceArn}`);
  }
  const scope: Scope = { account: parsed.account, region: parsed.region, partition: parsed.partition };
  const [cluster, id] = parsed.path;
  const partition = cluster === FARGATE_POOL_NAME ? fargatePoolPartition(scope) : clusterArn(scope, cluster);
  return instanceKey(partition, id);
}

/** The index entry that lists a connected agent among its region's, by when it last polled. */
function connectedAgentEntry(containerInstanceArn: string, lastPolledAt: number) {
  const parsed = parseArn(containerInstanceArn)!;
  return {
    gsi1pk: connectedAgentsPartition({ account: parsed.account, region: parsed.region, partition: parsed.partition }),
    gsi1sk: lastPolledSortKey(lastPolledAt),
  };
}

export const toStoredInstance = (item: Record<string, unknown>): StoredContainerInstance => ({
  record: item.doc as ContainerInstanceRecord,
  version: item.version as number,
  remaining: { cpu: Number(item.remainingCpu), memory: Number(item.remainingMemory) },
  runningTasksCount: Number(item.runningTasksCount ?? 0),
  pendingTasksCount: Number(item.pendingTasksCount ?? 0),
  ...(item.lastPolledAt !== undefined ? { lastPolledAt: Number(item.lastPolledAt) } : {}),
});

/**
 * When the item last changed (epoch ms): its record's own updatedAt, or the last move of capacity
 * and task counts (`countsUpdatedAt`, stamped by the task write that moved them), whichever is later.
 */
export const instanceUpdatedAt = (item: Record<string, unknown>): number =>
  Math.max((item.doc as ContainerInstanceRecord).updatedAt, Number(item.countsUpdatedAt ?? -Infinity));

/**
 * Remaining cpu/memory and task counts are attributes beside the record, moved with conditional ADDs
 * (reserve only if enough is left), so placements on one host never lose an update and need no
 * read-modify-write of the whole instance. Those ADDs also bump `version`, as ECS counts every
 * reported change; edits of the record itself are conditional on it and retry.
 */
export class ContainerInstanceRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Registers the host; a cluster's instance count moves in the same transaction. */
  async create(record: ContainerInstanceRecord): Promise<'created' | 'cluster-inactive'> {
    const put = {
      TableName: this.tableName,
      Item: {
        ...containerInstanceKey(record.containerInstanceArn),
        kind: 'container-instance',
        version: 1,
        doc: record,
        remainingCpu: record.registeredResources.cpu,
        remainingMemory: record.registeredResources.memory,
        runningTasksCount: 0,
        pendingTasksCount: 0,
        lastPolledAt: record.registeredAt,
        ...connectedAgentEntry(record.containerInstanceArn, record.registeredAt),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    if (!record.clusterArn) {
      await conditionally(record.containerInstanceArn, () => this.doc.send(new PutCommand(put)));
      return 'created';
    }
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            clusterCountsUpdate(this.tableName, record.clusterArn, { registeredContainerInstancesCount: 1 }),
            { Put: put },
          ],
        }),
      );
      return 'created';
    } catch (error) {
      const failed = failedConditions(error);
      if (failed?.includes(0)) return 'cluster-inactive';
      if (failed) throw new VersionConflictError(record.containerInstanceArn, { cause: error });
      throw error;
    }
  }

  /** Marks the host INACTIVE; its cluster's instance count drops in the same transaction. */
  async deregister(record: ContainerInstanceRecord, expectedVersion: number): Promise<void> {
    const update = {
      Update: {
        TableName: this.tableName,
        Key: containerInstanceKey(record.containerInstanceArn),
        // No longer an agent the liveness sweep looks after.
        UpdateExpression: 'SET #doc = :doc, #version = :next REMOVE gsi1pk, gsi1sk',
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#doc': 'doc', '#version': 'version' },
        ExpressionAttributeValues: { ':doc': record, ':next': expectedVersion + 1, ':expected': expectedVersion },
      },
    };
    const items: Record<string, unknown>[] = [update];
    // A cluster with a registered instance cannot be INACTIVE, so its counter can always move.
    if (record.clusterArn) {
      items.push(clusterCountsUpdate(this.tableName, record.clusterArn, { registeredContainerInstancesCount: -1 }));
    }
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
    } catch (error) {
      if (failedConditions(error)) throw new VersionConflictError(record.containerInstanceArn, { cause: error });
      throw error;
    }
  }

  async get(containerInstanceArn: string): Promise<StoredContainerInstance | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: containerInstanceKey(containerInstanceArn), ConsistentRead: true }),
    );
    return Item ? toStoredInstance(Item) : undefined;
  }

  async update(record: ContainerInstanceRecord, expectedVersion: number): Promise<void> {
    await conditionally(record.containerInstanceArn, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: containerInstanceKey(record.containerInstanceArn),
          UpdateExpression: 'SET #doc = :doc, #version = :next',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#doc': 'doc', '#version': 'version' },
          ExpressionAttributeValues: { ':doc': record, ':next': expectedVersion + 1, ':expected': expectedVersion },
        }),
      ),
    );
  }

  /**
   * The agent of a connected instance polled: records when. It moves no version (nothing a user sees
   * changed) and holds only while the instance is connected and not deregistered; false otherwise, so
   * the caller reconnects it with a versioned write.
   */
  async heartbeat(containerInstanceArn: string, now: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: containerInstanceKey(containerInstanceArn),
          UpdateExpression: 'SET lastPolledAt = :now, gsi1pk = :gpk, gsi1sk = :gsk',
          ConditionExpression: 'attribute_exists(pk) AND #doc.agentConnected = :true AND #doc.#status <> :inactive',
          ExpressionAttributeNames: { '#doc': 'doc', '#status': 'status' },
          ExpressionAttributeValues: {
            ':now': now,
            ':gpk': connectedAgentEntry(containerInstanceArn, now).gsi1pk,
            ':gsk': lastPolledSortKey(now),
            ':true': true,
            ':inactive': 'INACTIVE',
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Writes a change of `agentConnected` (conditional on the version read). Connecting records the poll
   * and lists the instance among the connected agents; disconnecting unlists it and holds only if the
   * agent has not polled since `silentSince` (a heartbeat moves no version, so the version alone
   * would not see it).
   */
  async setAgentConnected(
    record: ContainerInstanceRecord,
    expectedVersion: number,
    at: { now: number; silentSince?: number },
  ): Promise<void> {
    const names = { '#doc': 'doc', '#version': 'version' };
    const values = { ':doc': record, ':next': expectedVersion + 1, ':expected': expectedVersion };
    const input = record.agentConnected
      ? {
          UpdateExpression: 'SET #doc = :doc, #version = :next, lastPolledAt = :now, gsi1pk = :gpk, gsi1sk = :gsk',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeValues: {
            ...values,
            ':now': at.now,
            ':gpk': connectedAgentEntry(record.containerInstanceArn, at.now).gsi1pk,
            ':gsk': lastPolledSortKey(at.now),
          },
        }
      : {
          UpdateExpression: 'SET #doc = :doc, #version = :next REMOVE gsi1pk, gsi1sk',
          ConditionExpression: '#version = :expected AND (attribute_not_exists(lastPolledAt) OR lastPolledAt < :silentSince)',
          ExpressionAttributeValues: { ...values, ':silentSince': at.silentSince ?? at.now },
        };
    await conditionally(record.containerInstanceArn, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: containerInstanceKey(record.containerInstanceArn),
          ExpressionAttributeNames: names,
          ...input,
        }),
      ),
    );
  }

  /**
   * Connected instances of an account+region whose agent last polled before `before`. The index is
   * eventually consistent: callers re-read each one before acting on it.
   */
  async silentAgents(scope: Scope, before: number): Promise<string[]> {
    const arns: string[] = [];
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      IndexName: TABLE_SCHEMA.listIndex.name,
      KeyConditionExpression: 'gsi1pk = :p AND gsi1sk < :before',
      ExpressionAttributeValues: { ':p': connectedAgentsPartition(scope), ':before': lastPolledSortKey(before) },
      ProjectionExpression: '#doc.containerInstanceArn',
      ExpressionAttributeNames: { '#doc': 'doc' },
    })) {
      arns.push((item.doc as { containerInstanceArn: string }).containerInstanceArn);
    }
    return arns;
  }

  /** All instances of a partition (a cluster, or the Fargate pool) for placement. */
  async all(partition: string): Promise<StoredContainerInstance[]> {
    const found: StoredContainerInstance[] = [];
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':p': partition, ':prefix': INSTANCE_SK_PREFIX },
      ConsistentRead: true,
    })) {
      found.push(toStoredInstance(item));
    }
    return found;
  }

  async list(partition: string, page: PageRequest, accept: (i: StoredContainerInstance) => boolean): Promise<Page<StoredContainerInstance>> {
    const result = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': partition, ':prefix': INSTANCE_SK_PREFIX },
        ConsistentRead: true,
      },
      ['pk', 'sk'],
      { attribute: 'pk', value: partition },
      page,
      (item) => accept(toStoredInstance(item)),
    );
    return { items: result.items.map(toStoredInstance), nextToken: result.nextToken };
  }
}

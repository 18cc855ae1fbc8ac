/**
 * Services in the single table: one item per service in its cluster's partition, holding the service
 * record, its deployments and its last 100 events. One item means a service and its deployments change
 * together in one conditional write (what UpdateService and a scheduler pass both need); its size is
 * bounded (100 events, the live deployments and a few INACTIVE ones kept as rollback targets).
 *
 * Every write is conditional on `version`. `changedBy` says who wrote last ('api' or 'scheduler'):
 * the stream wakes a service's loop for API changes only, so the scheduler's own writes never wake it.
 */
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../../domain/errors';
import type { DeploymentRecord, ServiceRecord } from '../../domain/service';
import type { ServiceDeploymentRecord, ServiceRevisionRecord } from '../../domain/service-deployment';
import type { ServiceEvent } from '../../domain/service-messages';
import type { TaskSetRecord } from '../../domain/task-set';
import { clusterCountsUpdate } from './cluster-repository';
import { conditionally, epochSeconds, failedConditions } from './conditional-writes';
import { SERVICE_SK_PREFIX, serviceDeploymentKey, serviceDeploymentPrefix, serviceKey, serviceRevisionKey } from './keys';
import { queryPage, type Page, type PageRequest } from './query-pages';
import { TABLE_SCHEMA } from './table-schema';

export type ServiceWriter = 'api' | 'scheduler';

export interface StoredService {
  readonly record: ServiceRecord;
  readonly deployments: readonly DeploymentRecord[];
  /** Newest first, at most 100. */
  readonly events: readonly ServiceEvent[];
  readonly version: number;
  /** CreateService idempotency: a digest of the creating request. */
  readonly requestDigest?: string;
  /** The newest service deployment (its own item keeps it after a newer one replaces it here). */
  readonly serviceDeployment?: ServiceDeploymentRecord;
  /** EXTERNAL services: their task sets (at most 5, so they live in the service item and change with it). */
  readonly taskSets?: readonly TaskSetRecord[];
}

/**
 * History items written in the same transaction as a service item change: service deployments (each
 * only over an older version of itself) and new service revisions (immutable, put only if absent).
 */
export interface HistoryWrites {
  readonly serviceDeployments?: readonly ServiceDeploymentRecord[];
  readonly revisions?: readonly ServiceRevisionRecord[];
}

export type CreateServiceOutcome = 'created' | 'exists' | 'cluster-changed';

/** A TransactWriteItems entry failing unless the service is still at `version` (a scheduler pass's guard). */
export type ServiceGuard = ReturnType<ServiceRepository['guard']>;

const toStored = (item: Record<string, unknown>): StoredService => ({
  record: item.doc as ServiceRecord,
  deployments: (item.deployments as DeploymentRecord[] | undefined) ?? [],
  events: (item.events as ServiceEvent[] | undefined) ?? [],
  version: item.version as number,
  requestDigest: item.requestDigest as string | undefined,
  serviceDeployment: item.serviceDeployment as ServiceDeploymentRecord | undefined,
  ...(item.taskSets ? { taskSets: item.taskSets as TaskSetRecord[] } : {}),
});

/** The service name in a service ARN (service/<cluster>/<name>). */
const nameOf = (serviceArn: string) => serviceArn.slice(serviceArn.lastIndexOf('/') + 1);

export class ServiceRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(clusterArn: string, serviceName: string): Promise<StoredService | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: serviceKey(clusterArn, serviceName), ConsistentRead: true }),
    );
    return Item ? toStored(Item) : undefined;
  }

  /**
   * Creates the service with the cluster's activeServicesCount + 1 in one transaction (the cluster
   * must be ACTIVE), or replaces an INACTIVE service of the same name at `replacing` (ECS reuses the ARN).
   */
  async create(service: StoredService, replacing?: number, history: HistoryWrites = {}): Promise<CreateServiceOutcome> {
    const { record } = service;
    const items: Record<string, unknown>[] = [
      clusterCountsUpdate(this.tableName, record.clusterArn, { activeServicesCount: 1 }),
      {
        Put: {
          TableName: this.tableName,
          Item: this.item(service, 'api'),
          ConditionExpression:
            replacing === undefined ? 'attribute_not_exists(pk)' : '#version = :replacing AND #doc.#status = :inactive',
          ...(replacing === undefined
            ? {}
            : {
                ExpressionAttributeNames: { '#version': 'version', '#doc': 'doc', '#status': 'status' },
                ExpressionAttributeValues: { ':replacing': replacing, ':inactive': 'INACTIVE' },
              }),
        },
      },
      ...this.historyItems(history),
    ];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
      return 'created';
    } catch (error) {
      const failed = failedConditions(error);
      if (!failed) throw error;
      if (failed.includes(0)) return 'cluster-changed';
      if (failed.includes(1)) return 'exists';
      throw new VersionConflictError(record.serviceArn, { cause: error });
    }
  }

  /**
   * Replaces the service item if it is still at `expectedVersion`; `service.version` is the new one.
   * `activeServicesDelta` moves the cluster's counter in the same transaction (DeleteService: -1).
   * `expiresAtMs` sets the TTL of an INACTIVE service.
   */
  async update(
    service: StoredService,
    expectedVersion: number,
    writer: ServiceWriter,
    options: { activeServicesDelta?: number; expiresAtMs?: number; history?: HistoryWrites } = {},
  ): Promise<void> {
    const put = {
      TableName: this.tableName,
      Item: { ...this.item(service, writer), ...(options.expiresAtMs ? { [TABLE_SCHEMA.ttlAttribute]: epochSeconds(options.expiresAtMs) } : {}) },
      ConditionExpression: '#version = :expected',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':expected': expectedVersion },
    };
    const history = this.historyItems(options.history ?? {});
    if (!options.activeServicesDelta && history.length === 0) {
      await conditionally(service.record.serviceArn, () => this.doc.send(new PutCommand(put)));
      return;
    }
    const counter = options.activeServicesDelta
      ? [clusterCountsUpdate(this.tableName, service.record.clusterArn, { activeServicesCount: options.activeServicesDelta })]
      : [];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [{ Put: put }, ...counter, ...history] as never }));
    } catch (error) {
      if (failedConditions(error)) throw new VersionConflictError(service.record.serviceArn, { cause: error });
      throw error;
    }
  }

  /**
   * A scheduler pass takes the service by moving its version on (nothing else changes): a pass that
   * read the older version can no longer write, so at most one pass acts for a service at a time.
   * Returns the version the pass now holds.
   */
  async claim(clusterArn: string, serviceName: string, version: number): Promise<number> {
    await conditionally(`${clusterArn}/${serviceName}`, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: serviceKey(clusterArn, serviceName),
          UpdateExpression: 'SET #version = :next, #doc.#version = :next, changedBy = :scheduler',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version', '#doc': 'doc' },
          ExpressionAttributeValues: { ':next': version + 1, ':expected': version, ':scheduler': 'scheduler' },
        }),
      ),
    );
    return version + 1;
  }

  /** A ConditionCheck for transactions that must happen only while the service is at `version`. */
  guard(clusterArn: string, serviceName: string, version: number) {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: serviceKey(clusterArn, serviceName),
        ConditionExpression: '#version = :held',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':held': version },
      },
    };
  }

  /** One API page of a cluster's services (name order); `accept` filters while paging. */
  async list(clusterArn: string, page: PageRequest, accept: (service: ServiceRecord) => boolean): Promise<Page<ServiceRecord>> {
    const result = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': clusterArn, ':prefix': SERVICE_SK_PREFIX },
        ProjectionExpression: 'pk, sk, #doc',
        ExpressionAttributeNames: { '#doc': 'doc' },
        ConsistentRead: true,
      },
      ['pk', 'sk'],
      { attribute: 'pk', value: clusterArn },
      page,
      (item) => accept(item.doc as ServiceRecord),
    );
    return { items: result.items.map((item) => item.doc as ServiceRecord), nextToken: result.nextToken };
  }

  /** One service deployment, as last written. */
  async serviceDeployment(clusterArn: string, serviceName: string, id: string): Promise<ServiceDeploymentRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: serviceDeploymentKey(clusterArn, serviceName, id), ConsistentRead: true }),
    );
    return Item?.doc as ServiceDeploymentRecord | undefined;
  }

  async serviceRevision(clusterArn: string, serviceName: string, revisionId: string): Promise<ServiceRevisionRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: serviceRevisionKey(clusterArn, serviceName, revisionId), ConsistentRead: true }),
    );
    return Item?.doc as ServiceRevisionRecord | undefined;
  }

  /** One API page of a service's deployments, newest first; `accept` filters while paging. */
  async listServiceDeployments(
    clusterArn: string,
    serviceName: string,
    page: PageRequest,
    accept: (sd: ServiceDeploymentRecord) => boolean,
  ): Promise<Page<ServiceDeploymentRecord>> {
    const result = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': clusterArn, ':prefix': serviceDeploymentPrefix(serviceName) },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      ['pk', 'sk'],
      { attribute: 'pk', value: clusterArn },
      page,
      (item) => accept(item.doc as ServiceDeploymentRecord),
    );
    return { items: result.items.map((item) => item.doc as ServiceDeploymentRecord), nextToken: result.nextToken };
  }

  private historyItems(history: HistoryWrites): Record<string, unknown>[] {
    // The service item's version condition (same transaction) orders these writes; the item's own
    // condition keeps a late write from taking it back to an older version.
    const deployments = (history.serviceDeployments ?? []).map((sd) => ({
      Put: {
        TableName: this.tableName,
        Item: { ...serviceDeploymentKey(sd.clusterArn, nameOf(sd.serviceArn), sd.id), kind: 'service-deployment', version: sd.version, doc: sd },
        ConditionExpression: 'attribute_not_exists(pk) OR #version < :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': sd.version },
      },
    }));
    const revisions = (history.revisions ?? []).map((rev) => ({
      Put: {
        TableName: this.tableName,
        Item: {
          ...serviceRevisionKey(rev.clusterArn, nameOf(rev.serviceArn), rev.serviceRevisionArn.slice(rev.serviceRevisionArn.lastIndexOf('/') + 1)),
          kind: 'service-revision',
          doc: rev,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }));
    return [...deployments, ...revisions];
  }

  private item(service: StoredService, writer: ServiceWriter) {
    return {
      ...serviceKey(service.record.clusterArn, service.record.serviceName),
      kind: 'service',
      version: service.version,
      doc: { ...service.record, version: service.version },
      deployments: service.deployments,
      events: service.events,
      changedBy: writer,
      ...(service.requestDigest ? { requestDigest: service.requestDigest } : {}),
      ...(service.serviceDeployment ? { serviceDeployment: service.serviceDeployment } : {}),
      ...(service.taskSets ? { taskSets: service.taskSets } : {}),
    };
  }
}

/**
 * The service loop's own item, one per service, beside the service in its cluster's partition
 * (`sk` SERVICELOOP#<name>, kind `service-loop`, which the stream processor ignores: writing it wakes
 * nothing). It holds:
 *   - `generation`: the execution that acts for the service (execution names end in it); a newer
 *     generation takes over by raising it, and an older one that sees it raised ends;
 *   - `token`: the task token of the execution's waiting state, while it waits;
 *   - `woken`: a wake-up arrived that no pass has read yet (so the next wait ends at once).
 * Every write is conditional; a lost race is the answer, not an error.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServiceAddress } from '../../app/service-scheduler';
import { wroteUnlessLost } from './conditional-writes';

export const SERVICE_LOOP_SK_PREFIX = 'SERVICELOOP#';
export const serviceLoopKey = (clusterArn: string, serviceName: string) => ({ pk: clusterArn, sk: `${SERVICE_LOOP_SK_PREFIX}${serviceName}` });

export interface ServiceLoopItem {
  readonly generation: number;
  readonly token?: string;
  readonly woken: boolean;
}

/** What a wake-up found: no loop yet, or the loop (with the token it took, if one was waiting). */
export type WakeOutcome =
  | { readonly loop: false }
  | { readonly loop: true; readonly token?: string; readonly generation: number; readonly alreadyWoken: boolean };

/** Why a wait could not begin. */
export type ParkOutcome = 'parked' | 'woken' | 'superseded';

export class ServiceLoopStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get({ clusterArn, serviceName }: ServiceAddress): Promise<ServiceLoopItem | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: serviceLoopKey(clusterArn, serviceName), ConsistentRead: true }),
    );
    return Item ? { generation: Item.generation as number, token: Item.token as string | undefined, woken: Item.woken === true } : undefined;
  }

  /** The first generation of a service's loop; false if one exists already. */
  async create({ clusterArn, serviceName }: ServiceAddress, serviceArn: string): Promise<boolean> {
    return wroteUnlessLost(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...serviceLoopKey(clusterArn, serviceName), kind: 'service-loop', serviceArn, generation: 1, woken: true },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  /** Moves the loop to the next generation, if `from` is still current (a restart of a dead loop). */
  async advance({ clusterArn, serviceName }: ServiceAddress, from: number): Promise<boolean> {
    return wroteUnlessLost(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: serviceLoopKey(clusterArn, serviceName),
          UpdateExpression: 'SET generation = :next, woken = :true REMOVE #token',
          ConditionExpression: 'generation = :from',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':next': from + 1, ':from': from, ':true': true },
        }),
      ),
    );
  }

  /**
   * The start of a pass: generation `generation` acts (it raises the item's generation to its own if
   * lower: a hand-over), and the wake-ups so far are about to be read, so `woken` is cleared and a
   * token left by a wait that timed out is dropped. False: a newer generation acts; this one must end.
   */
  async adopt({ clusterArn, serviceName }: ServiceAddress, serviceArn: string, generation: number): Promise<boolean> {
    return wroteUnlessLost(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: serviceLoopKey(clusterArn, serviceName),
          UpdateExpression: 'SET generation = :g, woken = :false, kind = :kind, serviceArn = :arn REMOVE #token',
          ConditionExpression: 'attribute_not_exists(generation) OR generation <= :g',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':g': generation, ':false': false, ':kind': 'service-loop', ':arn': serviceArn },
        }),
      ),
    );
  }

  /**
   * Stores the waiting state's task token, unless a wake-up came since the pass began ('woken': do
   * not wait) or a newer generation acts ('superseded').
   */
  async park({ clusterArn, serviceName }: ServiceAddress, generation: number, token: string): Promise<ParkOutcome> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: serviceLoopKey(clusterArn, serviceName),
          UpdateExpression: 'SET #token = :token',
          ConditionExpression: 'generation = :g AND woken = :false',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': token, ':g': generation, ':false': false },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'parked';
    } catch (error) {
      // Only a failed condition tells the item (the loop item never joins a transaction).
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item as { generation?: { N?: string } } | undefined;
      return Number(old?.generation?.N) === generation ? 'woken' : 'superseded';
    }
  }

  /**
   * A wake-up: marks the loop woken and takes the waiting token, in one write, so of a burst of
   * wake-ups exactly one finds the token (and completes the wait) and the rest only leave `woken`.
   */
  async wake({ clusterArn, serviceName }: ServiceAddress): Promise<WakeOutcome> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: serviceLoopKey(clusterArn, serviceName),
          UpdateExpression: 'SET woken = :true REMOVE #token',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':true': true },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return {
        loop: true,
        token: Attributes?.token as string | undefined,
        generation: Attributes?.generation as number,
        alreadyWoken: Attributes?.woken === true,
      };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { loop: false };
      throw error;
    }
  }

  /**
   * The ARNs of every service, in every account and region of the table, that still needs a loop
   * (ACTIVE or DRAINING). A Scan: for the local runtime's restart only, on a small table.
   */
  async servicesNeedingLoop(): Promise<string[]> {
    const arns: string[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'kind = :service AND #doc.#status <> :inactive',
          ProjectionExpression: '#doc.serviceArn',
          ExpressionAttributeNames: { '#doc': 'doc', '#status': 'status' },
          ExpressionAttributeValues: { ':service': 'service', ':inactive': 'INACTIVE' },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) arns.push((item.doc as { serviceArn: string }).serviceArn);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return arns;
  }
}

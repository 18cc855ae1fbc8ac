import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../../domain/errors';
import { capacityKindOf } from '../../domain/placement';
import type { TaskRecord } from '../../domain/records';
import type { StampedTask } from '../../domain/update-time';
import { clusterCountsUpdate, type CountDeltas } from './cluster-repository';
import { conditionally, epochSeconds, failedConditions } from './conditional-writes';
import { taskIdOfArn, type Scope } from '../../domain/arns';
import { containerInstanceKey } from './container-instance-repository';
import { assignmentPartition, runTaskTokenKey, TASK_SK_PREFIX, taskKey, unplacedPartition } from './keys';
import { queryItems, queryPage, type Page, type PageRequest } from './query-pages';
import { TABLE_SCHEMA } from './table-schema';
import { reservationOf, taskItem, taskOfItem } from './task-item';

export interface StoredTask {
  readonly record: TaskRecord;
  readonly version: number;
}

/** What a RunTask clientToken remembers: a digest of the request and the tasks it started. */
export interface RunTaskTokenRecord {
  readonly requestDigest: string;
  readonly taskArns: string[];
}

/** A host's share of a task change: capacity and task counts moved atomically with the task. */
export interface InstanceChange {
  readonly containerInstanceArn: string;
  readonly cpu?: number;
  readonly memory?: number;
  readonly pendingTasks?: number;
  readonly runningTasks?: number;
  /** Reserving: fail unless the host is ACTIVE with at least -cpu/-memory left. */
  readonly requireCapacity?: boolean;
}

/** One lifecycle step of a task and everything that must move with it, written as one transaction. */
export interface TaskChange {
  /** Stamped with the time of this write: events take their time from it. */
  readonly task: StampedTask;
  readonly expectedVersion: number;
  readonly clusterDeltas?: CountDeltas;
  readonly instance?: InstanceChange;
  /** The agent's to-do entry for the task's host. */
  readonly assignment?: 'put' | 'delete';
  /** The "waiting for capacity" entry. */
  readonly unplaced?: { readonly scope: Scope; readonly action: 'put' | 'delete' };
  /** A condition that must hold too (a scheduler pass's hold on its service). */
  readonly guard?: TransactGuard;
}

/** A ConditionCheck entry of a TransactWriteItems call. */
export interface TransactGuard {
  readonly ConditionCheck: Record<string, unknown>;
}

export interface TaskPointer {
  readonly clusterArn: string;
  readonly taskId: string;
  /** For waiting tasks: the kind of capacity they wait for (EC2, FARGATE, FARGATE_SPOT). */
  readonly capacity?: string;
  /** For waiting tasks: when they began to wait (epoch ms). */
  readonly since?: number;
}

export type CreateTasksOutcome = 'created' | 'cluster-changed' | 'token-exists' | 'capacity-changed';

/** How many tasks `remember` keeps (the oldest go first): enough for every task in flight on a busy host. */
const RECENTLY_COMMITTED_TASKS = 2_000;

export class TaskRepository {
  /**
   * The newest version of each task this process saw committed (stream images, its own writes), for
   * the agents' reports: a read-modify-write that may start from it and trusts it only through its
   * conditional write (a stale copy loses the condition and the report reads afresh). Nothing else
   * reads it: a copy may be behind what other writers committed since.
   */
  private readonly recentlyCommitted = new Map<string, StoredTask>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Keeps a committed version (a newer one than kept, unless the task is STOPPED: nothing reports on it). */
  remember(stored: StoredTask): void {
    const key = recentKey(stored.record.clusterArn, taskIdOfArn(stored.record.taskArn));
    const kept = this.recentlyCommitted.get(key);
    if (kept && kept.version >= stored.version) return;
    this.recentlyCommitted.delete(key);
    if (stored.record.lastStatus === 'STOPPED') return;
    if (this.recentlyCommitted.size >= RECENTLY_COMMITTED_TASKS) this.recentlyCommitted.delete(this.recentlyCommitted.keys().next().value!);
    this.recentlyCommitted.set(key, stored);
  }

  /** The kept copy, if any: possibly stale, so only for a write conditional on its version. */
  recentlyCommittedCopy(clusterArn: string, taskId: string): StoredTask | undefined {
    return this.recentlyCommitted.get(recentKey(clusterArn, taskId));
  }

  forget(clusterArn: string, taskId: string): void {
    this.recentlyCommitted.delete(recentKey(clusterArn, taskId));
  }

  /**
   * Writes new tasks, the cluster's counters, the capacity reserved for tasks placed at birth (one
   * conditional ADD per host: it fails unless the host is still ACTIVE with that much left) with
   * their agents' assignments, and (when given) the clientToken record in one transaction: either
   * RunTask happened completely or not at all.
   */
  async create(
    clusterArn: string,
    tasks: readonly StampedTask[],
    deltas: CountDeltas,
    token?: { clientToken: string; record: RunTaskTokenRecord; expiresAtMs: number },
    reservations: readonly InstanceChange[] = [],
    guard?: TransactGuard,
  ): Promise<CreateTasksOutcome> {
    const providers = [...new Set(tasks.flatMap((task) => (task.capacityProviderName ? [task.capacityProviderName] : [])))];
    const items = [
      clusterCountsUpdate(this.tableName, clusterArn, deltas, providers),
      ...tasks.map((task) => ({
        Put: {
          TableName: this.tableName,
          Item: this.item(task),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })),
      ...tasks.flatMap((task) => (task.reservation ? [{ Put: this.assignmentPut(task, task.reservation.containerInstanceArn) }] : [])),
      // The hosts' capacity moved with the tasks' creation, so their change carries its time.
      ...reservations.map((reservation) => this.instanceUpdate(reservation, Math.max(...tasks.map((t) => t.updatedAt)))),
      ...(token
        ? [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...runTaskTokenKey(clusterArn, token.clientToken),
                  kind: 'run-task-token',
                  version: 1,
                  ...token.record,
                  [TABLE_SCHEMA.ttlAttribute]: epochSeconds(token.expiresAtMs),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ]
        : []),
      ...(guard ? [guard] : []),
    ];
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
      return 'created';
    } catch (error) {
      const failed = failedConditions(error);
      if (!failed) throw error;
      if (failed.includes(0)) return 'cluster-changed';
      // Items end with: reservations, then the token, then the guard (a guard's failure is a lost race).
      const tail = guard ? 1 : 0;
      const tokenAt = token ? items.length - 1 - tail : -1;
      if (failed.includes(tokenAt)) return 'token-exists';
      const reservationsFrom = items.length - tail - (token ? 1 : 0) - reservations.length;
      if (failed.some((index) => index >= reservationsFrom && index < reservationsFrom + reservations.length)) return 'capacity-changed';
      throw new VersionConflictError(clusterArn, { cause: error });
    }
  }

  async getRunTaskToken(clusterArn: string, clientToken: string): Promise<RunTaskTokenRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: runTaskTokenKey(clusterArn, clientToken), ConsistentRead: true }),
    );
    return Item ? { requestDigest: Item.requestDigest as string, taskArns: Item.taskArns as string[] } : undefined;
  }

  async get(clusterArn: string, taskId: string): Promise<StoredTask | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: taskKey(clusterArn, taskId), ConsistentRead: true }),
    );
    return Item ? { record: taskOfItem(Item), version: Item.version as number } : undefined;
  }

  /** Reads up to 100 tasks of one cluster by id, consistently; missing ids are simply absent. */
  async getMany(clusterArn: string, taskIds: readonly string[]): Promise<Map<string, StoredTask>> {
    const found = new Map<string, StoredTask>();
    let keys: Record<string, unknown>[] = [...new Set(taskIds)].map((id) => taskKey(clusterArn, id));
    while (keys.length > 0) {
      const result = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[this.tableName] ?? []) {
        const record = taskOfItem(item);
        found.set(taskIdOfArn(record.taskArn), { record, version: item.version as number });
      }
      keys = (result.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
    return found;
  }

  /** Writes a lifecycle step; any failed condition (stale version, no capacity) is a VersionConflictError. */
  async applyChange(change: TaskChange): Promise<void> {
    const { task } = change;
    const items: Record<string, unknown>[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: this.item(task, task.expiresAt),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': change.expectedVersion },
        },
      },
    ];
    if (change.clusterDeltas && Object.values(change.clusterDeltas).some((d) => d)) {
      items.push(clusterCountsUpdate(this.tableName, task.clusterArn, change.clusterDeltas));
    }
    if (change.instance) items.push(this.instanceUpdate(change.instance, task.updatedAt));
    const hostArn = task.reservation?.containerInstanceArn ?? change.instance?.containerInstanceArn;
    if (change.assignment && hostArn) {
      const key = { pk: assignmentPartition(hostArn), sk: task.taskArn };
      items.push(
        change.assignment === 'put' ? { Put: this.assignmentPut(task, hostArn) } : { Delete: { TableName: this.tableName, Key: key } },
      );
    }
    if (change.guard) items.push({ ...change.guard });
    if (change.unplaced) {
      const key = { pk: unplacedPartition(change.unplaced.scope), sk: task.taskArn };
      items.push(
        change.unplaced.action === 'put'
          ? {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...key,
                  kind: 'unplaced',
                  clusterArn: task.clusterArn,
                  taskId: taskIdOfArn(task.taskArn),
                  capacity: capacityKindOf(task),
                  // When the wait began, so a sweep can end a wait past its bound without reading the task.
                  since: task.createdAt,
                },
              },
            }
          : { Delete: { TableName: this.tableName, Key: key } },
      );
    }
    if (items.length === 1) {
      await conditionally(task.taskArn, () => this.doc.send(new PutCommand(items[0].Put as never)));
      return;
    }
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
    } catch (error) {
      if (failedConditions(error)) throw new VersionConflictError(task.taskArn, { cause: error });
      throw error;
    }
  }

  private assignmentPut(task: TaskRecord, hostArn: string) {
    return {
      TableName: this.tableName,
      Item: { pk: assignmentPartition(hostArn), sk: task.taskArn, kind: 'assignment', clusterArn: task.clusterArn, taskId: taskIdOfArn(task.taskArn) },
    };
  }

  /** `at`: the time of the task's write, which is also when the host's capacity and counts moved. */
  private instanceUpdate(change: InstanceChange, at: number) {
    const adds: [string, number][] = (
      [
        ['remainingCpu', change.cpu ?? 0],
        ['remainingMemory', change.memory ?? 0],
        ['pendingTasksCount', change.pendingTasks ?? 0],
        ['runningTasksCount', change.runningTasks ?? 0],
      ] as [string, number][]
    ).filter(([, delta]) => delta !== 0);
    // ECS bumps a container instance's version on every change it reports, resources included.
    adds.push(['version', 1]);
    const values: Record<string, unknown> = Object.fromEntries(adds.map(([name, delta]) => [`:${name}`, delta]));
    values[':at'] = at;
    let condition = 'attribute_exists(pk)';
    const names: Record<string, string> = {};
    if (change.requireCapacity) {
      condition += ' AND remainingCpu >= :needCpu AND remainingMemory >= :needMemory AND #doc.#status = :active';
      Object.assign(values, { ':needCpu': -(change.cpu ?? 0), ':needMemory': -(change.memory ?? 0), ':active': 'ACTIVE' });
      Object.assign(names, { '#doc': 'doc', '#status': 'status' });
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: containerInstanceKey(change.containerInstanceArn),
        UpdateExpression: `ADD ${adds.map(([name]) => `${name} :${name}`).join(', ')} SET countsUpdatedAt = :at`,
        ConditionExpression: condition,
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
      },
    };
  }

  /** The tasks placed on a host (what its agent must run or stop). */
  async assignedTo(containerInstanceArn: string): Promise<TaskPointer[]> {
    return this.pointers(assignmentPartition(containerInstanceArn));
  }

  /** Tasks of an account+region waiting for capacity. */
  async unplaced(scope: Scope): Promise<TaskPointer[]> {
    return this.pointers(unplacedPartition(scope));
  }

  private async pointers(partition: string): Promise<TaskPointer[]> {
    const found: TaskPointer[] = [];
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': partition },
      ConsistentRead: true,
    })) {
      found.push({
        clusterArn: item.clusterArn as string,
        taskId: item.taskId as string,
        capacity: item.capacity as string | undefined,
        since: item.since as number | undefined,
      });
    }
    return found;
  }

  async list(clusterArn: string, page: PageRequest, accept: (task: TaskRecord) => boolean): Promise<Page<TaskRecord>> {
    const result = await queryPage(
      this.doc,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':p': clusterArn, ':prefix': TASK_SK_PREFIX },
        ConsistentRead: true,
      },
      ['pk', 'sk'],
      { attribute: 'pk', value: clusterArn },
      page,
      (item) => accept(taskOfItem(item)),
    );
    return { items: result.items.map(taskOfItem), nextToken: result.nextToken };
  }

  /** Active tasks of a group per availability zone, for spreading a group across zones. */
  async groupTasksPerZone(clusterArn: string, group: string): Promise<Record<string, number>> {
    const perZone: Record<string, number> = {};
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
      FilterExpression: '#doc.#group = :group AND attribute_exists(#doc.#zone) AND #doc.#last <> :stopped',
      ProjectionExpression: '#doc.#zone',
      ExpressionAttributeNames: { '#doc': 'doc', '#group': 'group', '#zone': 'availabilityZone', '#last': 'lastStatus' },
      ExpressionAttributeValues: { ':p': clusterArn, ':prefix': TASK_SK_PREFIX, ':group': group, ':stopped': 'STOPPED' },
      ConsistentRead: true,
    })) {
      const zone = (item.doc as { availabilityZone: string }).availabilityZone;
      perZone[zone] = (perZone[zone] ?? 0) + 1;
    }
    return perZone;
  }

  /**
   * The groups of the cluster's tasks that hold a host (not STOPPED), per host: what spread,
   * distinctInstance and task:group expressions count. One consistent query over the cluster's tasks.
   */
  async groupsPerInstance(clusterArn: string): Promise<Map<string, Record<string, number>>> {
    const perInstance = new Map<string, Record<string, number>>();
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
      FilterExpression: 'attribute_exists(#doc.#reservation) AND #doc.#last <> :stopped',
      // The whole (small) reservation: its host is stored relative to the account (task-item.ts).
      ProjectionExpression: '#doc.#group, #doc.#reservation',
      ExpressionAttributeNames: { '#doc': 'doc', '#group': 'group', '#reservation': 'reservation', '#last': 'lastStatus' },
      ExpressionAttributeValues: { ':p': clusterArn, ':prefix': TASK_SK_PREFIX, ':stopped': 'STOPPED' },
      ConsistentRead: true,
    })) {
      const { group, reservation } = item.doc as { group: string; reservation: Record<string, unknown> };
      const { containerInstanceArn } = reservationOf(reservation, clusterArn, {});
      const groups = perInstance.get(containerInstanceArn) ?? {};
      groups[group] = (groups[group] ?? 0) + 1;
      perInstance.set(containerInstanceArn, groups);
    }
    return perInstance;
  }

  /** Every task of a group in the cluster, STOPPED ones included (a service's tasks: group `service:<name>`). */
  async inGroup(clusterArn: string, group: string): Promise<StoredTask[]> {
    const found: StoredTask[] = [];
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
      FilterExpression: '#doc.#group = :group',
      ExpressionAttributeNames: { '#doc': 'doc', '#group': 'group' },
      ExpressionAttributeValues: { ':p': clusterArn, ':prefix': TASK_SK_PREFIX, ':group': group },
      ConsistentRead: true,
    })) {
      found.push({ record: taskOfItem(item), version: item.version as number });
    }
    return found;
  }

  /** True when some task of the cluster that matches `accept` exists (stops at the first). */
  async any(clusterArn: string, accept: (task: TaskRecord) => boolean): Promise<boolean> {
    for await (const item of queryItems(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':p': clusterArn, ':prefix': TASK_SK_PREFIX },
      ConsistentRead: true,
    })) {
      if (accept(taskOfItem(item))) return true;
    }
    return false;
  }

  /** The item in its compact stored form (task-item.ts): under 1 KB, so a write costs one unit. */
  private item(task: TaskRecord, expiresAtMs?: number) {
    return taskItem(task, expiresAtMs);
  }
}

const recentKey = (clusterArn: string, taskId: string) => `${clusterArn}\n${taskId}`;

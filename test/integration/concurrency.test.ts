/**
 * Races through the real ECS SDK (and so through the use cases and their optimistic retries) against
 * DynamoDB Local: concurrent calls must neither lose updates nor double-apply them.
 */
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterRepository } from '../../src/adapters/dynamodb/cluster-repository';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';
import { TaskRepository } from '../../src/adapters/dynamodb/task-repository';
import { handleEcsRequest } from '../../src/api/ecs-protocol';
import { deleteCluster } from '../../src/app/clusters';
import type { BerthContext, RequestContext } from '../../src/app/context';
import { tagResource } from '../../src/app/tagging';
import { runTask } from '../../src/app/tasks';
import { clusterArn as clusterArnOf, type Scope } from '../../src/domain/arns';
import type { ClusterRecord } from '../../src/domain/records';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const scope = { account: ACCOUNT, region: REGION };
const FAMILY = 'racer';
// Fargate tasks are created without a host (they wait for capacity), so these races stay about the
// cluster item; EC2 tasks would be placed, or refused, at RunTask (test/e2e/unplaceable-tasks.test.ts).
const ON_FARGATE = { launchType: 'FARGATE' as const, networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } } };

let berth: Harness;
let ecs: ECSClient;
beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'nginx', memory: 64 }],
    }),
  );
});
afterAll(() => berth?.close());

/** Promise.allSettled, with each rejection reduced to its error name (ServerException = a bug). */
async function settle<T>(calls: Promise<T>[]) {
  const results = await Promise.allSettled(calls);
  return results.map((result) =>
    result.status === 'fulfilled'
      ? { ok: true as const, value: result.value }
      : { ok: false as const, error: (result.reason as Error).name, message: (result.reason as Error).message },
  );
}

/**
 * A copy of `target` whose `method` stops before its first call until released: lets a test hold one
 * use case between its read and its conditional write while another one runs to completion.
 */
function pauseFirstCall<T extends object>(target: T, method: keyof T & string) {
  let arrived!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const original = target[method] as (...args: unknown[]) => Promise<unknown>;
  let first = true;
  const paused = Object.create(target, {
    [method]: {
      value: async (...args: unknown[]) => {
        if (first) {
          first = false;
          arrived();
          await released;
        }
        return original.apply(target, args);
      },
    },
  }) as T;
  return { paused, reached, release };
}

const useCaseContext = (overrides: Partial<RequestContext> = {}): RequestContext => ({ ...berth.context, scope, ...overrides });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function listAllTasks(cluster: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster, nextToken, maxResults: 100 }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

describe('concurrent writers', () => {
  it('10 concurrent RegisterTaskDefinition calls of one family take revisions 1..10, once each', async () => {
    const family = 'concurrent-family';
    const results = await settle(
      Array.from({ length: 10 }, (_, i) =>
        berth.ecs().send(
          new RegisterTaskDefinitionCommand({
            family,
            containerDefinitions: [{ name: 'app', image: `nginx:${i}`, memory: 64 }],
          }),
        ),
      ),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const registered = results.flatMap((r) => (r.ok ? [r.value.taskDefinition!] : []));
    expect(registered.map((td) => td.revision).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Each revision holds the definition of the call that got it.
    for (const td of registered) {
      const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:${td.revision}` }));
      expect(described.taskDefinition?.containerDefinitions?.[0].image).toBe(td.containerDefinitions?.[0].image);
    }
    const listed = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
    expect(listed.taskDefinitionArns).toHaveLength(10);
    expect(await berth.context.taskDefinitions.getFamily(scope, family)).toMatchObject({
      latestRevision: 10,
      activeRevisionCount: 10,
    });
  });

  it('10 concurrent RunTask calls of 10 tasks on one cluster count exactly 100 pending tasks', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'busy' }));
    const results = await settle(
      Array.from({ length: 10 }, () =>
        berth.ecs().send(new RunTaskCommand({ cluster: 'busy', taskDefinition: FAMILY, ...ON_FARGATE, count: 10 })),
      ),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const started = results.flatMap((r) => (r.ok ? r.value.tasks!.map((t) => t.taskArn!) : []));
    expect(started).toHaveLength(100);
    expect(new Set(started).size).toBe(100);

    const { clusters } = await ecs.send(new DescribeClustersCommand({ clusters: ['busy'], include: ['STATISTICS'] }));
    expect(clusters?.[0]).toMatchObject({ pendingTasksCount: 100, runningTasksCount: 0 });
    expect(clusters?.[0].statistics).toContainEqual({ name: 'pendingFargateTasksCount', value: '100' });
    expect((await listAllTasks('busy')).sort()).toEqual([...started].sort());
  });

  it('concurrent StopTask calls on one task all succeed; the first stop wins and the version moves once', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'stopper' }));
    const run = await ecs.send(new RunTaskCommand({ cluster: 'stopper', taskDefinition: FAMILY, ...ON_FARGATE }));
    const taskArn = run.tasks![0].taskArn!;
    const before = (await ecs.send(new DescribeTasksCommand({ cluster: 'stopper', tasks: [taskArn] }))).tasks![0];
    expect(before.version).toBe(1);

    const results = await settle(
      Array.from({ length: 10 }, (_, i) =>
        berth.ecs().send(new StopTaskCommand({ cluster: 'stopper', task: taskArn, reason: `stop #${i}` })),
      ),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const answers = results.flatMap((r) => (r.ok ? [r.value.task!] : []));

    const after = (await ecs.send(new DescribeTasksCommand({ cluster: 'stopper', tasks: [taskArn] }))).tasks![0];
    expect(after).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated', version: 2 });
    expect(after.stoppedReason).toMatch(/^stop #\d$/);
    // Every caller is told the same, winning, stop.
    for (const answer of answers) {
      expect(answer).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: after.stoppedReason, version: 2 });
    }
  });

  it('DeleteCluster racing RunTask never leaves an INACTIVE cluster with tasks', async () => {
    const outcomes = { deleted: 0, ran: 0 };
    for (let round = 0; round < 10; round++) {
      const name = `race-${round}`;
      const arn = clusterArnOf(scope, name);
      await ecs.send(new CreateClusterCommand({ clusterName: name }));
      // Alternate which request goes first, and let the delete trail by a growing few milliseconds so
      // that it also lands inside RunTask's read-then-write window, not only before it.
      const deleteCall = async () => {
        await sleep(round % 2 ? 0 : round * 2);
        return berth.ecs().send(new DeleteClusterCommand({ cluster: name }));
      };
      const runCall = () => berth.ecs().send(new RunTaskCommand({ cluster: name, taskDefinition: FAMILY, ...ON_FARGATE, count: 3 }));
      const calls: Promise<unknown>[] = [];
      if (round % 2) {
        calls[0] = deleteCall();
        calls[1] = runCall();
      } else {
        calls[1] = runCall();
        calls[0] = deleteCall();
      }
      const [deletion, run] = await settle(calls);
      const stored = (await berth.context.clusters.get(arn))!;
      const anyTask = await berth.context.tasks.any(arn, () => true);
      const state = { round, deletion, run, status: stored.record.status, counts: stored.counts, anyTask };

      // Exactly one of the two wins, and the loser fails with the error ECS gives.
      expect(deletion.ok !== run.ok, JSON.stringify(state)).toBe(true);
      if (deletion.ok) {
        outcomes.deleted++;
        expect(run, JSON.stringify(state)).toMatchObject({ ok: false, error: 'ClusterNotFoundException' });
        expect(stored.record.status).toBe('INACTIVE');
        expect(anyTask, JSON.stringify(state)).toBe(false);
        expect(stored.counts.pendingTasksCount + stored.counts.runningTasksCount).toBe(0);
      } else {
        outcomes.ran++;
        expect(deletion, JSON.stringify(state)).toMatchObject({ ok: false, error: 'ClusterContainsTasksException' });
        expect(stored.record.status).toBe('ACTIVE');
        expect(stored.counts.pendingTasksCount).toBe(3);
        expect(await listAllTasks(name)).toHaveLength(3);
      }
    }
    // Not asserted (timing decides), but shown when a run looks suspicious.
    console.info(`DeleteCluster/RunTask race outcomes: ${JSON.stringify(outcomes)}`);
  });

  it('concurrent TagResource calls with different keys all land (no lost update)', async () => {
    const cluster = await ecs.send(new CreateClusterCommand({ clusterName: 'tagged', tags: [{ key: 'base', value: '0' }] }));
    const run = await ecs.send(new RunTaskCommand({ cluster: 'tagged', taskDefinition: FAMILY, ...ON_FARGATE }));
    const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: FAMILY }));
    const resources = [cluster.cluster!.clusterArn!, run.tasks![0].taskArn!, td.taskDefinition!.taskDefinitionArn!];

    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    const results = await settle(
      resources.flatMap((resourceArn) =>
        keys.map((key) => berth.ecs().send(new TagResourceCommand({ resourceArn, tags: [{ key, value: key.toUpperCase() }] }))),
      ),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);

    for (const resourceArn of resources) {
      const { tags } = await ecs.send(new ListTagsForResourceCommand({ resourceArn }));
      const expected = keys.map((key) => ({ key, value: key.toUpperCase() }));
      if (resourceArn === cluster.cluster!.clusterArn) expected.push({ key: 'base', value: '0' });
      const byKey = (a: { key?: string }, b: { key?: string }) => a.key!.localeCompare(b.key!);
      expect([...(tags ?? [])].sort(byKey), resourceArn).toEqual(expected.sort(byKey));
    }
  });

  it('RunTask with one clientToken sent 5 times at once starts one set of tasks, and every answer names them', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'idempotent' }));
    const request = { cluster: 'idempotent', taskDefinition: FAMILY, ...ON_FARGATE, count: 3, clientToken: 'same-token-1', startedBy: 'me' };
    const results = await settle(Array.from({ length: 5 }, () => berth.ecs().send(new RunTaskCommand(request))));
    expect(results.filter((r) => !r.ok)).toEqual([]);

    const answers = results.flatMap((r) => (r.ok ? [r.value.tasks!.map((t) => t.taskArn!).sort()] : []));
    expect(answers[0]).toHaveLength(3);
    for (const answer of answers) expect(answer).toEqual(answers[0]);

    expect((await listAllTasks('idempotent')).sort()).toEqual(answers[0]);
    const { clusters } = await ecs.send(new DescribeClustersCommand({ clusters: ['idempotent'] }));
    expect(clusters?.[0].pendingTasksCount).toBe(3);

    // A later replay still answers with the same tasks and starts nothing.
    const replay = await ecs.send(new RunTaskCommand(request));
    expect(replay.tasks!.map((t) => t.taskArn!).sort()).toEqual(answers[0]);
    expect(await listAllTasks('idempotent')).toHaveLength(3);
  });
});

describe('interleavings held open between read and write (use cases)', () => {
  it('RunTask that read an ACTIVE cluster before DeleteCluster committed fails with ClusterNotFoundException and writes nothing', async () => {
    const name = 'held-run';
    const arn = clusterArnOf(scope, name);
    await ecs.send(new CreateClusterCommand({ clusterName: name }));
    const held = pauseFirstCall(berth.context.tasks, 'create');
    const running = runTask(useCaseContext({ tasks: held.paused }), {
      cluster: name,
      taskDefinition: FAMILY,
      ...ON_FARGATE,
      count: 3,
      clientToken: 'held-token',
    });
    running.catch(() => undefined);
    await held.reached;

    const deleted = await deleteCluster(useCaseContext(), { cluster: name });
    expect(deleted.cluster.status).toBe('INACTIVE');
    held.release();

    await expect(running).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
    const stored = (await berth.context.clusters.get(arn))!;
    expect(stored.record.status).toBe('INACTIVE');
    expect(stored.counts.pendingTasksCount + stored.counts.runningTasksCount).toBe(0);
    expect(await berth.context.tasks.any(arn, () => true)).toBe(false);
    expect(await berth.context.tasks.getRunTaskToken(arn, 'held-token')).toBeUndefined();
  });

  it('DeleteCluster that read zero tasks before RunTask committed fails with ClusterContainsTasksException', async () => {
    const name = 'held-delete';
    const arn = clusterArnOf(scope, name);
    await ecs.send(new CreateClusterCommand({ clusterName: name }));
    const held = pauseFirstCall(berth.context.clusters, 'deactivate');
    const deleting = deleteCluster(useCaseContext({ clusters: held.paused }), { cluster: name });
    deleting.catch(() => undefined);
    await held.reached;

    const ran = await runTask(useCaseContext(), { cluster: name, taskDefinition: FAMILY, ...ON_FARGATE, count: 3 });
    expect(ran.tasks).toHaveLength(3);
    held.release();

    await expect(deleting).rejects.toMatchObject({ name: 'ClusterContainsTasksException' });
    const stored = (await berth.context.clusters.get(arn))!;
    expect(stored.record.status).toBe('ACTIVE');
    expect(stored.counts.pendingTasksCount).toBe(3);
    expect((await listAllTasks(name)).sort()).toEqual(ran.tasks.map((t) => t.taskArn).sort());
  });

  it('TagResource that read the tags before another TagResource committed retries and keeps both tags', async () => {
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'held-tags' }));
    const resourceArn = created.cluster!.clusterArn!;
    const held = pauseFirstCall(berth.context.clusters, 'update');
    const slow = tagResource(useCaseContext({ clusters: held.paused }), { resourceArn, tags: [{ key: 'slow', value: '1' }] });
    slow.catch(() => undefined);
    await held.reached;
    await tagResource(useCaseContext(), { resourceArn, tags: [{ key: 'fast', value: '1' }] });
    held.release();
    await slow;
    const { tags } = await ecs.send(new ListTagsForResourceCommand({ resourceArn }));
    expect(tags?.map((t) => t.key).sort()).toEqual(['fast', 'slow']);
  });
});

describe('heavy contention on one item', () => {
  // A writer that loses every race: before each of its conditional writes another writer really
  // commits a change to the same cluster, so its retries (src/app/optimistic.ts) run out.
  it('a TagResource whose retries run out answers ThrottlingException, not ServerException, and loses nothing', async () => {
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'always-loses' }));
    const resourceArn = created.cluster!.clusterArn!;
    const clusters = berth.context.clusters;
    let rivals = 0;
    const losing = Object.create(clusters, {
      update: {
        value: async (where: Scope, record: ClusterRecord, expectedVersion: number) => {
          const current = (await clusters.get(record.clusterArn))!;
          const rival = { key: `rival-${++rivals}`, value: 'won' };
          await clusters.update(where, { ...current.record, tags: [...current.record.tags, rival] }, current.version);
          return clusters.update(where, record, expectedVersion);
        },
      },
    }) as ClusterRepository;
    const context: BerthContext = { ...berth.context, clusters: losing };
    const logged: unknown[] = [];
    const response = await handleEcsRequest(
      context,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AmazonEC2ContainerServiceV20141113.TagResource',
        },
        body: JSON.stringify({ resourceArn, tags: [{ key: 'loser', value: 'x' }] }),
        requestId: 'always-loses',
      },
      { error: (_message, error) => logged.push(error) },
    );
    expect(rivals).toBeGreaterThan(1);
    // Every rival write stands and the losing tag is not half-applied.
    const { tags } = await ecs.send(new ListTagsForResourceCommand({ resourceArn }));
    expect(tags?.map((t) => t.key).sort()).toEqual(Array.from({ length: rivals }, (_, i) => `rival-${i + 1}`).sort());
    expect({ status: response.statusCode, type: JSON.parse(response.body).__type, logged: logged.length }).toEqual({
      status: 400,
      type: 'ThrottlingException',
      logged: 0,
    });
  });

  // errors.ts: when optimistic retries run out a conflict "surfaces as ThrottlingException,
  // never as a lost update". A 500 ServerException (an unhandled VersionConflictError) breaks that.
  it('20 concurrent TagResource calls on one cluster: each lands or fails with ThrottlingException, never a ServerException', async () => {
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'contended' }));
    const resourceArn = created.cluster!.clusterArn!;
    const keys = Array.from({ length: 20 }, (_, i) => `key${String(i).padStart(2, '0')}`);
    const results = await settle(
      keys.map((key) => berth.ecs().send(new TagResourceCommand({ resourceArn, tags: [{ key, value: 'v' }] }))),
    );
    const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
    expect(errors.filter((name) => name !== 'ThrottlingException')).toEqual([]);
    const landed = keys.filter((_, i) => results[i].ok);
    const { tags } = await ecs.send(new ListTagsForResourceCommand({ resourceArn }));
    expect(tags?.map((t) => t.key).sort()).toEqual(landed);
  });
});

/**
 * DynamoDB (the service) cancels a transaction with reason TransactionConflict when another
 * transaction holds one of its items, and rejects a plain write to such an item with
 * TransactionConflictException. DynamoDB Local serializes everything and never does either, so these
 * tests inject exactly one such answer in front of DynamoDB Local: nothing was written, so the use case
 * should retry and succeed, as it does for a lost condition.
 */
describe('transaction conflicts as DynamoDB reports them (injected once)', () => {
  let doc: DynamoDBDocumentClient;
  beforeAll(() => {
    doc = createLocalDocumentClient(inject('dynamoDbEndpoint'));
  });
  afterAll(() => doc?.destroy());

  /** A document client that answers the first command matching `fails` with `error`, unsent. */
  function failingOnce(fails: (command: unknown) => boolean, error: (command: any) => Error) {
    let injected = 0;
    const client = Object.create(doc, {
      send: {
        value: (command: any, ...rest: unknown[]) => {
          if (injected === 0 && fails(command)) {
            injected++;
            return Promise.reject(error(command));
          }
          return (doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
        },
      },
    }) as DynamoDBDocumentClient;
    return { client, injected: () => injected };
  }

  it('RunTask retries when its transaction is cancelled for a TransactionConflict on the cluster item', async () => {
    const name = 'tx-conflict-run';
    await ecs.send(new CreateClusterCommand({ clusterName: name }));
    const faulty = failingOnce(
      (command) => command instanceof TransactWriteCommand,
      (command) =>
        new TransactionCanceledException({
          message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]',
          $metadata: {},
          CancellationReasons: command.input.TransactItems.map((_: unknown, index: number) =>
            index === 0 ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
          ),
        }),
    );
    const tasks = new TaskRepository(faulty.client, berth.tableName);
    const result = runTask(useCaseContext({ tasks }), { cluster: name, taskDefinition: FAMILY, ...ON_FARGATE, count: 2 });
    await expect(result).resolves.toMatchObject({ tasks: [expect.anything(), expect.anything()] });
    expect(faulty.injected()).toBe(1);
    expect(await listAllTasks(name)).toHaveLength(2);
    const { clusters } = await ecs.send(new DescribeClustersCommand({ clusters: [name] }));
    expect(clusters?.[0].pendingTasksCount).toBe(2);
  });

  it('DeleteCluster retries when its write meets TransactionConflictException (a RunTask transaction in flight)', async () => {
    const name = 'tx-conflict-delete';
    await ecs.send(new CreateClusterCommand({ clusterName: name }));
    const faulty = failingOnce(
      (command) => command instanceof UpdateCommand,
      () => new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} }),
    );
    const clusters = new ClusterRepository(faulty.client, berth.tableName);
    const result = deleteCluster(useCaseContext({ clusters }), { cluster: name });
    await expect(result).resolves.toMatchObject({ cluster: { status: 'INACTIVE' } });
    expect(faulty.injected()).toBe(1);
  });
});

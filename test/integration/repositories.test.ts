/**
 * The DynamoDB repositories against DynamoDB Local: optimistic versions, the atomic RunTask write,
 * counter bookkeeping and list pagination. Every "nothing happened" claim is checked against a full
 * consistent scan of the suite's table, not only through the repository that was called.
 */
import {
  CreateClusterCommand,
  DeregisterTaskDefinitionCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { taskCountDeltas } from '../../src/adapters/dynamodb/cluster-repository';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';
import { clusterKey, taskKey } from '../../src/adapters/dynamodb/keys';
import { clusterArn as clusterArnOf, taskDefinitionArn, type Scope } from '../../src/domain/arns';
import { InvalidParameterException, VersionConflictError } from '../../src/domain/errors';
import { newTask } from '../../src/domain/new-task';
import { EMPTY_COUNTS, type ClusterRecord, type LaunchType, type TaskDefinitionRecord, type TaskRecord } from '../../src/domain/records';
import type { StampedTask } from '../../src/domain/update-time';
import { registerHost } from '../support/hosts';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const scope: Scope = { account: ACCOUNT, region: REGION };

let berth: Harness;
let doc: DynamoDBDocumentClient;
beforeAll(async () => {
  berth = await startHarness();
  doc = createLocalDocumentClient(inject('dynamoDbEndpoint'));
});
afterAll(async () => {
  doc?.destroy();
  await berth?.close();
});

const repos = () => berth.context;

/** Every item of the suite's table, in key order: the ground truth for "nothing was written". */
async function snapshot(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: berth.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const keyOf = (item: Record<string, unknown>) => `${item.pk as string}\u0000${item.sk as string}`;
  return items.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

async function rawItem(key: { pk: string; sk: string }) {
  const { Item } = await doc.send(new GetCommand({ TableName: berth.tableName, Key: key, ConsistentRead: true }));
  return Item;
}

const clusterRecord = (where: Scope, name: string): ClusterRecord => ({
  clusterArn: clusterArnOf(where, name),
  clusterName: name,
  status: 'ACTIVE',
  settings: [{ name: 'containerInsights', value: 'disabled' }],
  capacityProviders: [],
  defaultCapacityProviderStrategy: [],
  tags: [],
  createdAt: 1_700_000_000_000,
});

let clusterSerial = 0;
async function newCluster(prefix = 'repo'): Promise<ClusterRecord> {
  const record = clusterRecord(scope, `${prefix}-${++clusterSerial}`);
  await repos().clusters.create(scope, record);
  return record;
}

const TASK_DEFINITION: TaskDefinitionRecord = {
  taskDefinitionArn: taskDefinitionArn(scope, 'repo-td', 1),
  family: 'repo-td',
  revision: 1,
  status: 'ACTIVE',
  containerDefinitions: [{ name: 'app', image: 'nginx', memory: 128, essential: true }],
  compatibilities: ['EC2'],
  registeredAt: 1_700_000_000_000,
  registeredBy: `arn:aws:iam::${ACCOUNT}:root`,
};

let taskSerial = 0;
/** A fresh PROVISIONING task of `cluster`; ids are hex, unique and increasing within the run. */
function taskOf(cluster: ClusterRecord, options: { launchType?: LaunchType; startedBy?: string; id?: string } = {}): StampedTask {
  const serial = ++taskSerial;
  const id = options.id ?? serial.toString(16).padStart(32, '0');
  return newTask({
    scope,
    clusterName: cluster.clusterName,
    clusterArn: cluster.clusterArn,
    taskId: id,
    containerIds: ['00000000-0000-4000-8000-' + serial.toString(16).padStart(12, '0')],
    attachmentId: '00000000-0000-4000-8000-000000000000',
    now: 1_700_000_000_000,
    taskDefinition: TASK_DEFINITION,
    target: { launchType: options.launchType ?? 'FARGATE' },
    group: 'family:repo-td',
    startedBy: options.startedBy,
    tags: [],
  });
}

const taskIdOf = (task: TaskRecord) => task.taskArn.slice(task.taskArn.lastIndexOf('/') + 1);

/** The counter deltas RunTask would write for these new (PROVISIONING = pending) tasks. */
function pendingDeltas(tasks: readonly TaskRecord[]) {
  const deltas: Record<string, number> = {};
  for (const task of tasks) {
    for (const [name, delta] of Object.entries(taskCountDeltas(task.launchType, undefined, 'pending'))) {
      deltas[name] = (deltas[name] ?? 0) + (delta ?? 0);
    }
  }
  return deltas;
}

async function countsOf(cluster: ClusterRecord) {
  return (await repos().clusters.get(cluster.clusterArn))!.counts;
}

describe('optimistic versions', () => {
  it('rejects a stale cluster update with VersionConflictError and leaves the item as the winner wrote it', async () => {
    const cluster = await newCluster();
    const read = (await repos().clusters.get(cluster.clusterArn))!;
    expect(read.version).toBe(1);

    await repos().clusters.update(scope, { ...read.record, tags: [{ key: 'winner', value: 'yes' }] }, read.version);
    const afterWinner = await rawItem(clusterKey(cluster.clusterArn));
    expect(afterWinner).toMatchObject({ version: 2, doc: { tags: [{ key: 'winner', value: 'yes' }] } });

    const stale = repos().clusters.update(scope, { ...read.record, tags: [{ key: 'loser', value: 'yes' }] }, read.version);
    await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
    await expect(stale).rejects.toMatchObject({ key: cluster.clusterArn });
    expect(await rawItem(clusterKey(cluster.clusterArn))).toEqual(afterWinner);

    // A stale deactivate is refused the same way, and the cluster stays ACTIVE and listed.
    await expect(repos().clusters.deactivate(scope, read.record, read.version, Date.now() + 60_000)).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect(await rawItem(clusterKey(cluster.clusterArn))).toEqual(afterWinner);
  });

  it('rejects creating a cluster over an existing one, and re-creating an inactive one from a stale version', async () => {
    const cluster = await newCluster();
    await expect(repos().clusters.create(scope, cluster)).rejects.toBeInstanceOf(VersionConflictError);
    // Replacing needs the item to be INACTIVE at the given version.
    await expect(repos().clusters.create(scope, cluster, 1)).rejects.toBeInstanceOf(VersionConflictError);
    const before = await rawItem(clusterKey(cluster.clusterArn));
    expect(before).toMatchObject({ version: 1, doc: { status: 'ACTIVE' } });

    await repos().clusters.deactivate(scope, cluster, 1, Date.now() + 60_000);
    await expect(repos().clusters.create(scope, cluster, 1)).rejects.toBeInstanceOf(VersionConflictError);
    expect(await rawItem(clusterKey(cluster.clusterArn))).toMatchObject({ version: 2, doc: { status: 'INACTIVE' } });
    await repos().clusters.create(scope, cluster, 2);
    expect(await rawItem(clusterKey(cluster.clusterArn))).toMatchObject({ version: 3, doc: { status: 'ACTIVE' } });
  });

  it('refuses to deactivate a cluster whose counters are not zero, even at the current version', async () => {
    const cluster = await newCluster();
    const tasks = [taskOf(cluster)];
    expect(await repos().tasks.create(cluster.clusterArn, tasks, pendingDeltas(tasks))).toBe('created');
    const stored = (await repos().clusters.get(cluster.clusterArn))!;
    await expect(
      repos().clusters.deactivate(scope, stored.record, stored.version, Date.now() + 60_000),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect((await repos().clusters.get(cluster.clusterArn))!.record.status).toBe('ACTIVE');
  });

  it('rejects a stale task update (plain and with counter deltas) and leaves the task and counters unchanged', async () => {
    const cluster = await newCluster();
    const task = taskOf(cluster);
    expect(await repos().tasks.create(cluster.clusterArn, [task], pendingDeltas([task]))).toBe('created');
    const read = (await repos().tasks.get(cluster.clusterArn, taskIdOf(task)))!;
    expect(read.version).toBe(1);

    await repos().tasks.applyChange({ task: { ...task, lastStatus: 'PENDING', version: 2 }, expectedVersion: read.version });
    const afterWinner = await rawItem(taskKey(cluster.clusterArn, taskIdOf(task)));
    // The item's version is the record's (the stored form keeps it once, beside the doc: task-item.ts).
    expect(afterWinner).toMatchObject({ version: 2, doc: { lastStatus: 'PENDING' } });
    const clusterBefore = await rawItem(clusterKey(cluster.clusterArn));

    const plain = repos().tasks.applyChange({ task: { ...task, desiredStatus: 'STOPPED', version: 2 }, expectedVersion: read.version });
    await expect(plain).rejects.toBeInstanceOf(VersionConflictError);
    await expect(plain).rejects.toMatchObject({ key: task.taskArn });

    // The transactional path (task + cluster counters) must fail as a whole.
    const withDeltas = repos().tasks.applyChange({
      task: { ...task, lastStatus: 'RUNNING', version: 2 },
      expectedVersion: read.version,
      clusterDeltas: taskCountDeltas('FARGATE', 'pending', 'running'),
    });
    await expect(withDeltas).rejects.toBeInstanceOf(VersionConflictError);

    expect(await rawItem(taskKey(cluster.clusterArn, taskIdOf(task)))).toEqual(afterWinner);
    expect(await rawItem(clusterKey(cluster.clusterArn))).toEqual(clusterBefore);
    expect(await countsOf(cluster)).toMatchObject({ pendingTasksCount: 1, runningTasksCount: 0 });
  });

  it('rejects a stale task definition write (registration, tags, deregistration) and leaves family and revision unchanged', async () => {
    const td = repos().taskDefinitions;
    const family = `stale-${++clusterSerial}`;
    const revision = (n: number): TaskDefinitionRecord => ({
      ...TASK_DEFINITION,
      family,
      revision: n,
      taskDefinitionArn: taskDefinitionArn(scope, family, n),
    });

    await td.register(scope, revision(1), [], undefined);
    // A second "first registration" of the family lost the race for the family item.
    await expect(td.register(scope, revision(1), [], undefined)).rejects.toBeInstanceOf(VersionConflictError);

    const familyV1 = (await td.getFamily(scope, family))!;
    expect(familyV1).toEqual({ latestRevision: 1, activeRevisionCount: 1, version: 1 });
    await td.register(scope, revision(2), [], familyV1);
    const snapshotAfterWinner = await snapshot();
    // Registering from the stale family read (it would take revision 2 again) is refused.
    await expect(td.register(scope, revision(2), [{ key: 'loser' }], familyV1)).rejects.toBeInstanceOf(VersionConflictError);
    // ...even with a revision number nobody holds: the family version alone decides.
    await expect(td.register(scope, revision(3), [], familyV1)).rejects.toBeInstanceOf(VersionConflictError);
    expect(await snapshot()).toEqual(snapshotAfterWinner);
    expect(await td.getRevision(scope, family, 3)).toBeUndefined();

    const rev1 = (await td.getRevision(scope, family, 1))!;
    await td.putTags(scope, rev1, [{ key: 'winner', value: '1' }]);
    const taggedSnapshot = await snapshot();
    await expect(td.putTags(scope, rev1, [{ key: 'loser', value: '1' }])).rejects.toBeInstanceOf(VersionConflictError);
    // Deregistering from the stale read must not move the family's active count either.
    await expect(td.deregister(scope, rev1, 1_700_000_000_000)).rejects.toBeInstanceOf(VersionConflictError);
    expect(await snapshot()).toEqual(taggedSnapshot);
    expect(await td.getRevision(scope, family, 1)).toMatchObject({ version: 2, tags: [{ key: 'winner', value: '1' }] });
    expect(await td.getFamily(scope, family)).toEqual({ latestRevision: 2, activeRevisionCount: 2, version: 2 });
  });
});

describe('TaskRepository.create', () => {
  const token = (clientToken: string, taskArns: string[]) => ({
    clientToken,
    record: { requestDigest: 'digest', taskArns },
    expiresAtMs: Date.now() + 60_000,
  });

  it('writes the tasks, the cluster counters and the clientToken together', async () => {
    const cluster = await newCluster();
    const tasks = [taskOf(cluster), taskOf(cluster, { launchType: 'EC2' }), taskOf(cluster)];
    const outcome = await repos().tasks.create(
      cluster.clusterArn,
      tasks,
      pendingDeltas(tasks),
      token('tok-1', tasks.map((t) => t.taskArn)),
    );
    expect(outcome).toBe('created');

    const stored = await repos().tasks.getMany(cluster.clusterArn, tasks.map(taskIdOf));
    expect([...stored.values()].map((s) => s.record).sort((a, b) => a.taskArn.localeCompare(b.taskArn))).toEqual(
      [...tasks].sort((a, b) => a.taskArn.localeCompare(b.taskArn)),
    );
    expect([...stored.values()].every((s) => s.version === 1)).toBe(true);
    expect(await countsOf(cluster)).toEqual({
      ...EMPTY_COUNTS,
      pendingTasksCount: 3,
      pendingFargateTasksCount: 2,
      pendingEC2TasksCount: 1,
    });
    expect(await repos().tasks.getRunTaskToken(cluster.clusterArn, 'tok-1')).toEqual({
      requestDigest: 'digest',
      taskArns: tasks.map((t) => t.taskArn),
    });
    // The cluster record itself is untouched: counters move without bumping its version.
    expect((await repos().clusters.get(cluster.clusterArn))!.version).toBe(1);
  });

  it("writes nothing and answers 'cluster-changed' when the cluster is INACTIVE", async () => {
    const cluster = await newCluster();
    await repos().clusters.deactivate(scope, cluster, 1, Date.now() + 60_000);
    const before = await snapshot();
    const tasks = [taskOf(cluster), taskOf(cluster)];
    const outcome = await repos().tasks.create(
      cluster.clusterArn,
      tasks,
      pendingDeltas(tasks),
      token('tok-inactive', tasks.map((t) => t.taskArn)),
    );
    expect(outcome).toBe('cluster-changed');
    expect(await snapshot()).toEqual(before);
    expect(await repos().tasks.getRunTaskToken(cluster.clusterArn, 'tok-inactive')).toBeUndefined();
    expect(await countsOf(cluster)).toEqual(EMPTY_COUNTS);
  });

  it("writes nothing and answers 'cluster-changed' when a task's capacity provider is no longer the cluster's", async () => {
    const cluster = await newCluster(); // associates no capacity provider
    const before = await snapshot();
    const tasks = [{ ...taskOf(cluster), capacityProviderName: 'FARGATE_SPOT' }];
    expect(await repos().tasks.create(cluster.clusterArn, tasks, pendingDeltas(tasks))).toBe('cluster-changed');
    expect(await snapshot()).toEqual(before);
  });

  it("writes nothing and answers 'cluster-changed' when the cluster does not exist", async () => {
    const ghost = clusterRecord(scope, 'never-created');
    const before = await snapshot();
    const tasks = [taskOf(ghost)];
    expect(await repos().tasks.create(ghost.clusterArn, tasks, pendingDeltas(tasks), token('t', []))).toBe('cluster-changed');
    expect(await snapshot()).toEqual(before);
  });

  it("writes nothing and answers 'token-exists' when the clientToken was already used", async () => {
    const cluster = await newCluster();
    const first = [taskOf(cluster)];
    expect(
      await repos().tasks.create(cluster.clusterArn, first, pendingDeltas(first), token('tok-dup', first.map((t) => t.taskArn))),
    ).toBe('created');
    const before = await snapshot();

    const second = [taskOf(cluster), taskOf(cluster)];
    const outcome = await repos().tasks.create(
      cluster.clusterArn,
      second,
      pendingDeltas(second),
      token('tok-dup', second.map((t) => t.taskArn)),
    );
    expect(outcome).toBe('token-exists');
    expect(await snapshot()).toEqual(before);
    expect((await repos().tasks.getMany(cluster.clusterArn, second.map(taskIdOf))).size).toBe(0);
    expect(await countsOf(cluster)).toMatchObject({ pendingTasksCount: 1, pendingFargateTasksCount: 1 });
    expect((await repos().tasks.getRunTaskToken(cluster.clusterArn, 'tok-dup'))!.taskArns).toEqual(first.map((t) => t.taskArn));
  });

  it('fails as a whole when one of the tasks already exists', async () => {
    const cluster = await newCluster();
    const existing = taskOf(cluster);
    expect(await repos().tasks.create(cluster.clusterArn, [existing], pendingDeltas([existing]))).toBe('created');
    const before = await snapshot();
    const batch = [taskOf(cluster), { ...existing, startedBy: 'duplicate' }];
    await expect(
      repos().tasks.create(cluster.clusterArn, batch, pendingDeltas(batch), token('tok-x', batch.map((t) => t.taskArn))),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect(await snapshot()).toEqual(before);
  });
});

describe('cluster counters follow TaskRepository.update deltas', () => {
  it('moves pending -> running -> stopped, per launch type, in step with the task', async () => {
    const cluster = await newCluster();
    const fargate = taskOf(cluster, { launchType: 'FARGATE' });
    const ec2 = taskOf(cluster, { launchType: 'EC2' });
    expect(await repos().tasks.create(cluster.clusterArn, [fargate, ec2], pendingDeltas([fargate, ec2]))).toBe('created');
    expect(await countsOf(cluster)).toEqual({ ...EMPTY_COUNTS, pendingTasksCount: 2, pendingFargateTasksCount: 1, pendingEC2TasksCount: 1 });

    // A change within one bucket (PROVISIONING -> PENDING) moves nothing.
    await repos().tasks.applyChange({ task: { ...fargate, lastStatus: 'PENDING', version: 2 }, expectedVersion: 1, clusterDeltas: taskCountDeltas('FARGATE', 'pending', 'pending') });
    expect(await countsOf(cluster)).toEqual({ ...EMPTY_COUNTS, pendingTasksCount: 2, pendingFargateTasksCount: 1, pendingEC2TasksCount: 1 });

    await repos().tasks.applyChange({ task: { ...fargate, lastStatus: 'RUNNING', version: 3 }, expectedVersion: 2, clusterDeltas: taskCountDeltas('FARGATE', 'pending', 'running') });
    expect(await countsOf(cluster)).toEqual({
      ...EMPTY_COUNTS,
      pendingTasksCount: 1,
      pendingEC2TasksCount: 1,
      runningTasksCount: 1,
      runningFargateTasksCount: 1,
    });

    await repos().tasks.applyChange({ task: { ...ec2, lastStatus: 'RUNNING', version: 2 }, expectedVersion: 1, clusterDeltas: taskCountDeltas('EC2', 'pending', 'running') });
    await repos().tasks.applyChange({
      task: { ...fargate, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 4, expiresAt: Date.now() + 60_000 },
      expectedVersion: 3,
      clusterDeltas: taskCountDeltas('FARGATE', 'running', undefined),
    });
    expect(await countsOf(cluster)).toEqual({ ...EMPTY_COUNTS, runningTasksCount: 1, runningEC2TasksCount: 1 });
    expect(await repos().tasks.get(cluster.clusterArn, taskIdOf(fargate))).toMatchObject({ version: 4, record: { lastStatus: 'STOPPED' } });
    expect(await rawItem(taskKey(cluster.clusterArn, taskIdOf(fargate)))).toHaveProperty('expiresAt');

    await repos().tasks.applyChange({
      task: { ...ec2, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 3 },
      expectedVersion: 2,
      clusterDeltas: taskCountDeltas('EC2', 'running', undefined),
    });
    expect(await countsOf(cluster)).toEqual(EMPTY_COUNTS);
  });

  it('counts launches of 10 tasks into the right per-launch-type counters', async () => {
    const cluster = await newCluster();
    const tasks = Array.from({ length: 10 }, (_, i) => taskOf(cluster, { launchType: i % 2 ? 'EXTERNAL' : 'FARGATE' }));
    expect(await repos().tasks.create(cluster.clusterArn, tasks, pendingDeltas(tasks))).toBe('created');
    expect(await countsOf(cluster)).toEqual({
      ...EMPTY_COUNTS,
      pendingTasksCount: 10,
      pendingFargateTasksCount: 5,
      pendingExternalTasksCount: 5,
    });
  });
});

describe('list pagination', () => {
  const decode = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p: string; k: Record<string, string> };
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('rejects a ListTasks token of one cluster used for another, and hand-edited tokens', async () => {
    const a = await newCluster('pages');
    const b = await newCluster('pages');
    for (const cluster of [a, b]) {
      const tasks = [taskOf(cluster), taskOf(cluster), taskOf(cluster)];
      expect(await repos().tasks.create(cluster.clusterArn, tasks, pendingDeltas(tasks))).toBe('created');
    }
    const all = () => true;
    const first = await repos().tasks.list(a.clusterArn, { maxResults: 1 }, all);
    expect(first.items).toHaveLength(1);
    expect(first.nextToken).toBeDefined();
    // The token works where it came from...
    expect((await repos().tasks.list(a.clusterArn, { maxResults: 10, nextToken: first.nextToken }, all)).items).toHaveLength(2);
    // ...and nowhere else.
    await expect(repos().tasks.list(b.clusterArn, { maxResults: 10, nextToken: first.nextToken }, all)).rejects.toBeInstanceOf(
      InvalidParameterException,
    );

    const { p, k } = decode(first.nextToken!);
    expect(p).toBe(a.clusterArn);
    const forged = [
      // Re-pointed at cluster b but still continuing from a's key.
      encode({ p: b.clusterArn, k }),
      // Continuing from b's key under a's partition claim.
      encode({ p, k: { ...k, pk: b.clusterArn } }),
      // Extra, non-string or missing key parts.
      encode({ p, k: { ...k, sk: 7 } }),
      encode({ p, k: null }),
      encode({ p }),
      encode(['not', 'a', 'token']),
      'not-base64-json!',
    ];
    for (const token of forged) {
      await expect(repos().tasks.list(a.clusterArn, { maxResults: 10, nextToken: token }, all), token).rejects.toBeInstanceOf(
        InvalidParameterException,
      );
    }
    await expect(repos().tasks.list(b.clusterArn, { maxResults: 10, nextToken: encode({ p: b.clusterArn, k }) }, all)).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('rejects a ListTasks token of another cluster through the ECS API with InvalidParameterException', async () => {
    const ecs = berth.ecs();
    await ecs.send(new CreateClusterCommand({ clusterName: 'api-a' }));
    await ecs.send(new CreateClusterCommand({ clusterName: 'api-b' }));
    // EC2 tasks are placed at RunTask: each cluster gets a host.
    await registerHost(ecs, 'api-a');
    await registerHost(ecs, 'api-b');
    await ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'api-td', containerDefinitions: [{ name: 'app', image: 'nginx', memory: 64 }] }),
    );
    await ecs.send(new RunTaskCommand({ cluster: 'api-a', taskDefinition: 'api-td', count: 3 }));
    await ecs.send(new RunTaskCommand({ cluster: 'api-b', taskDefinition: 'api-td', count: 3 }));
    const first = await ecs.send(new ListTasksCommand({ cluster: 'api-a', maxResults: 1 }));
    expect(first.nextToken).toBeDefined();
    await expect(ecs.send(new ListTasksCommand({ cluster: 'api-b', maxResults: 1, nextToken: first.nextToken }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    const edited = encode({ ...decode(first.nextToken!), p: clusterArnOf(scope, 'api-b') });
    await expect(ecs.send(new ListTasksCommand({ cluster: 'api-b', nextToken: edited }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('rejects cluster and task definition list tokens outside their account and region', async () => {
    const here = berth.context;
    const elsewhere: Scope = { account: ACCOUNT, region: 'eu-central-1' };
    for (const name of ['tok-1', 'tok-2']) {
      await here.clusters.create(elsewhere, clusterRecord(elsewhere, name));
    }
    const clusters = await here.clusters.list(elsewhere, { maxResults: 1 });
    expect(clusters.nextToken).toBeDefined();
    await expect(here.clusters.list(scope, { maxResults: 1, nextToken: clusters.nextToken })).rejects.toBeInstanceOf(
      InvalidParameterException,
    );

    for (const n of [1, 2]) {
      await here.taskDefinitions.register(
        elsewhere,
        { ...TASK_DEFINITION, family: 'far', revision: n, taskDefinitionArn: taskDefinitionArn(elsewhere, 'far', n) },
        [],
        n === 1 ? undefined : await here.taskDefinitions.getFamily(elsewhere, 'far'),
      );
    }
    const revisions = await here.taskDefinitions.listRevisions(elsewhere, { status: 'ACTIVE', descending: false }, { maxResults: 1 });
    expect(revisions.nextToken).toBeDefined();
    await expect(
      here.taskDefinitions.listRevisions(scope, { status: 'ACTIVE', descending: false }, { maxResults: 1, nextToken: revisions.nextToken }),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    // A revisions token is not a families token either.
    await expect(
      here.taskDefinitions.listFamilies(elsewhere, { status: 'ALL' }, { maxResults: 1, nextToken: revisions.nextToken }),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('fills every ListTasks page under a startedBy filter: 30 tasks, 15 matching, pages of 5, none lost or repeated', async () => {
    const cluster = await newCluster('filtered');
    // Ids in random order so matches and non-matches interleave in key order.
    const tasks = Array.from({ length: 30 }, (_, i) =>
      taskOf(cluster, { startedBy: i % 2 ? 'beta' : 'alpha', id: randomHexId() }),
    );
    for (let i = 0; i < tasks.length; i += 10) {
      const batch = tasks.slice(i, i + 10);
      expect(await repos().tasks.create(cluster.clusterArn, batch, pendingDeltas(batch))).toBe('created');
    }
    const expected = tasks.filter((t) => t.startedBy === 'alpha').map((t) => t.taskArn).sort();
    expect(expected).toHaveLength(15);

    const ecs = berth.ecs();
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(
        new ListTasksCommand({ cluster: cluster.clusterName, startedBy: 'alpha', maxResults: 5, nextToken }),
      );
      pages.push(page.taskArns ?? []);
      nextToken = page.nextToken;
      expect(pages.length).toBeLessThanOrEqual(4);
    } while (nextToken);

    // Full pages until done; at most one trailing empty page when the last match was not the last item.
    const sizes = pages.map((page) => page.length);
    expect(sizes.slice(0, 3)).toEqual([5, 5, 5]);
    expect(sizes.slice(3).every((size) => size === 0)).toBe(true);
    const listed = pages.flat();
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(expected);

    // The other half, and the whole, page the same way.
    const beta = await collect({ cluster: cluster.clusterName, startedBy: 'beta', maxResults: 5 });
    expect(beta.sort()).toEqual(tasks.filter((t) => t.startedBy === 'beta').map((t) => t.taskArn).sort());
    const everything = await collect({ cluster: cluster.clusterName, maxResults: 7 });
    expect(everything.sort()).toEqual(tasks.map((t) => t.taskArn).sort());
  });

  it('fills pages when matches are sparse and spread over several DynamoDB query pages', async () => {
    const cluster = await newCluster('sparse');
    const tasks = Array.from({ length: 60 }, (_, i) => taskOf(cluster, { startedBy: i % 12 === 5 ? 'rare' : 'common', id: randomHexId() }));
    for (let i = 0; i < tasks.length; i += 10) {
      const batch = tasks.slice(i, i + 10);
      expect(await repos().tasks.create(cluster.clusterArn, batch, pendingDeltas(batch))).toBe('created');
    }
    const all = await repos().tasks.list(cluster.clusterArn, { maxResults: 2 }, (task) => task.startedBy === 'rare');
    expect(all.items).toHaveLength(2);
    const rest: TaskRecord[] = [];
    let token = all.nextToken;
    while (token) {
      const page = await repos().tasks.list(cluster.clusterArn, { maxResults: 2, nextToken: token }, (task) => task.startedBy === 'rare');
      rest.push(...page.items);
      if (page.nextToken) expect(page.items).toHaveLength(2);
      token = page.nextToken;
    }
    expect([...all.items, ...rest].map((t) => t.taskArn).sort()).toEqual(
      tasks.filter((t) => t.startedBy === 'rare').map((t) => t.taskArn).sort(),
    );
  });

  async function collect(input: { cluster: string; startedBy?: string; maxResults: number }): Promise<string[]> {
    const ecs = berth.ecs();
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(new ListTasksCommand({ ...input, nextToken }));
      if (page.nextToken) expect(page.taskArns).toHaveLength(input.maxResults);
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(new Set(arns).size).toBe(arns.length);
    return arns;
  }
});

function randomHexId(): string {
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}

describe('a task definition family’s active count', () => {
  it('survives a deregistration landing between a registration’s read and its write', async () => {
    const own = await startHarness();
    try {
      const ecs = own.ecs();
      const register = () =>
        ecs.send(new RegisterTaskDefinitionCommand({ family: 'racy', containerDefinitions: [{ name: 'c', image: 'x', memory: 64 }] }));
      await register();
      const repo = own.context.taskDefinitions;
      const familyRead = await repo.getFamily(scope, 'racy');
      // The deregistration commits after that read...
      await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'racy:1' }));
      // ...and the registration then writes what it decided on the old read.
      const td = (await repo.getRevision(scope, 'racy', 1))!.record;
      await repo.register(scope, { ...td, revision: 2, status: 'ACTIVE', taskDefinitionArn: td.taskDefinitionArn.replace(':1', ':2') }, [], familyRead);
      expect((await repo.getFamily(scope, 'racy'))?.activeRevisionCount).toBe(1);
      await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'racy:2' }));
      expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ status: 'INACTIVE' }))).families).toEqual(['racy']);
    } finally {
      await own.close();
    }
  });
});

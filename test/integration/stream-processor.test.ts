/**
 * The stream processor against DynamoDB Local: task and host items are made by the real use cases
 * (through the ECS SDK), the records are the table's own stream records in Lambda's event shape (or
 * Lambda-shaped records built from real items, marshalled as DynamoDB sends them), and events go to a
 * recording publisher. Duplicates, reordering and publisher failures must neither lose an event nor
 * move a task twice.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeClustersCommand,
  DescribeTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLocalDocumentClient, LOCAL_CREDENTIALS, LOCAL_DYNAMODB_REGION } from '../../src/adapters/dynamodb/document-client';
import { ensureTable } from '../../src/adapters/dynamodb/create-table';
import { taskKey } from '../../src/adapters/dynamodb/keys';
import { taskOfItem } from '../../src/adapters/dynamodb/task-item';
import { interruptSpotCapacity } from '../../src/app/agent-reports';
import type { BerthEvent, EventPublisher } from '../../src/app/event-publisher';
import { processStreamRecords, type StreamProcessorDeps, type StreamRecord } from '../../src/app/stream-processor';
import { runServicePass } from '../../src/app/service-scheduler';
import { placeWaitingTasks } from '../../src/app/task-engine';
import { eventId } from '../../src/domain/task-events';
import type { AssignmentsChanged } from '../../src/domain/agent-channel';
import { toLambdaRecord } from '../../src/local/stream-poller';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const SCOPE = { account: ACCOUNT, region: REGION };
const CLUSTER = 'stream';
const FAMILY = 'web';
const SUBNETS = { awsvpcConfiguration: { subnets: ['subnet-0123'] } };
const SOURCE = 'test.berth.ecs';

// ---------------------------------------------------------------------------------------------
// Test doubles and helpers
// ---------------------------------------------------------------------------------------------

/** Records every published event; `failWhen` makes a publish throw before anything is recorded. */
class RecordingPublisher implements EventPublisher {
  readonly events: BerthEvent[] = [];
  calls = 0;
  failWhen?: (events: readonly BerthEvent[], call: number) => boolean;

  async publish(events: readonly BerthEvent[]): Promise<void> {
    this.calls++;
    if (this.failWhen?.(events, this.calls)) throw new Error('PutEvents failed: ServiceUnavailable');
    this.events.push(...events.map((e) => structuredClone(e)));
  }

  taskEvents(taskArn?: string) {
    return this.events.filter((e) => e['detail-type'] === 'ECS Task State Change' && (!taskArn || e.resources[0] === taskArn));
  }
}

type LambdaRecord = StreamRecord & { dynamodb: NonNullable<StreamRecord['dynamodb']> };

/** Reads the table's stream the way the Lambda event source mapping would, in commit order. */
class StreamReader {
  private readonly seen = new Set<string>();
  constructor(
    private readonly client: DynamoDBStreamsClient,
    private readonly streamArn: string,
  ) {}

  async all(): Promise<LambdaRecord[]> {
    const { StreamDescription } = await this.client.send(new DescribeStreamCommand({ StreamArn: this.streamArn }));
    const records: _Record[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      let { ShardIterator: iterator } = await this.client.send(
        new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      for (let page = 0; iterator && page < 100; page++) {
        const result = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...(result.Records ?? []));
        if (!result.Records?.length) break;
        iterator = result.NextShardIterator;
      }
    }
    records.sort((a, b) => (BigInt(a.dynamodb!.SequenceNumber!) < BigInt(b.dynamodb!.SequenceNumber!) ? -1 : 1));
    return records.map((r) => toLambdaRecord(r, this.streamArn) as LambdaRecord);
  }

  /** Records not handed out before, in order. */
  async fresh(): Promise<LambdaRecord[]> {
    const fresh = (await this.all()).filter((r) => !this.seen.has(r.dynamodb.SequenceNumber!));
    for (const r of fresh) this.seen.add(r.dynamodb.SequenceNumber!);
    return fresh;
  }
}

const newImage = (r: StreamRecord) =>
  r.dynamodb?.NewImage ? unmarshall(r.dynamodb.NewImage as Record<string, AttributeValue>) : undefined;
const oldImage = (r: StreamRecord) =>
  r.dynamodb?.OldImage ? unmarshall(r.dynamodb.OldImage as Record<string, AttributeValue>) : undefined;
const isTaskRecord = (taskArn: string) => (r: StreamRecord) =>
  newImage(r)?.kind === 'task' && taskOfItem(newImage(r)!).taskArn === taskArn;
const versionOf = (r: StreamRecord) => newImage(r)!.version as number;
const taskIdOf = (taskArn: string) => taskArn.slice(taskArn.lastIndexOf('/') + 1);

interface Fixture {
  berth: Harness;
  ecs: ECSClient;
  doc: DynamoDBDocumentClient;
  streams: DynamoDBStreamsClient;
  reader: StreamReader;
  publisher: RecordingPublisher;
  deps: StreamProcessorDeps;
  errors: unknown[][];
  clusterArn: string;
}

let f: Fixture;

async function setup(options: Parameters<typeof startHarness>[0] = {}): Promise<Fixture> {
  const endpoint = inject('dynamoDbEndpoint');
  const berth = await startHarness(options);
  const ecs = berth.ecs();
  const doc = createLocalDocumentClient(endpoint);
  // The table exists already: this only answers its stream ARN.
  const streamArn = await ensureTable(doc, berth.tableName);
  const streams = new DynamoDBStreamsClient({ endpoint, region: LOCAL_DYNAMODB_REGION, credentials: LOCAL_CREDENTIALS });
  const reader = new StreamReader(streams, streamArn);
  const publisher = new RecordingPublisher();
  const errors: unknown[][] = [];
  const deps: StreamProcessorDeps = {
    context: berth.context,
    publisher,
    eventSource: SOURCE,
    logger: { error: (...args: unknown[]) => errors.push(args), warn: () => {} },
    // The harness's API serves from the same context, as the local runtime's does.
    sharesContextWithApi: true,
  };
  const { cluster } = await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ['FARGATE', 'FARGATE_SPOT'] }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      // Service tasks start all at once: no image digest resolution (seed 002) waits on a first task.
      containerDefinitions: [{ name: 'app', image: 'nginx', essential: true, versionConsistency: 'disabled' }],
    }),
  );
  // Setup records (cluster, task definition) are not under test.
  await reader.fresh();
  return { berth, ecs, doc, streams, reader, publisher, deps, errors, clusterArn: cluster!.clusterArn! };
}

async function teardown(fixture: Fixture | undefined) {
  fixture?.streams.destroy();
  fixture?.doc.destroy();
  await fixture?.berth.close();
}

beforeEach(async () => {
  f = await setup();
});

afterEach(async () => {
  await teardown(f);
});

async function runTasks(count = 1, spot = false): Promise<string[]> {
  const { tasks, failures } = await f.ecs.send(
    new RunTaskCommand({
      cluster: CLUSTER,
      taskDefinition: FAMILY,
      count,
      networkConfiguration: SUBNETS,
      ...(spot ? { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] } : { launchType: 'FARGATE' }),
    }),
  );
  expect(failures).toEqual([]);
  return tasks!.map((t) => t.taskArn!);
}

async function registerFargateHost(providers = 'FARGATE', zone = 'us-east-1b', cpu = 1024, memory = 2048): Promise<string> {
  const { containerInstance } = await f.ecs.send(
    new RegisterContainerInstanceCommand({
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: cpu },
        { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
      ],
      attributes: [
        { name: 'berth.fargate-capacity', value: providers },
        { name: 'ecs.availability-zone', value: zone },
      ],
      // As Berth's agent sends it (an empty versionInfo is a separate test below).
      versionInfo: { agentVersion: 'berth-agent/0.1.0', agentHash: 'berth', dockerVersion: 'test' },
    }),
  );
  return containerInstance!.containerInstanceArn!;
}

async function storedTask(taskArn: string) {
  const stored = await f.berth.context.tasks.get(f.clusterArn, taskIdOf(taskArn));
  expect(stored).toBeDefined();
  return stored!;
}

/** The raw item, as the table holds it. */
async function rawTaskItem(taskArn: string) {
  const { Item } = await f.doc.send(new GetCommand({ TableName: f.berth.tableName, Key: taskKey(f.clusterArn, taskIdOf(taskArn)), ConsistentRead: true }));
  return Item!;
}

/** A MODIFY record as Lambda delivers it, built from two real items. */
function recordFromItems(before: Record<string, unknown> | undefined, after: Record<string, unknown>, sequenceNumber: string, createdAtSeconds: number): LambdaRecord {
  const options = { removeUndefinedValues: true };
  return {
    eventID: `synthetic-${sequenceNumber}`,
    eventName: before ? 'MODIFY' : 'INSERT',
    dynamodb: {
      ApproximateCreationDateTime: createdAtSeconds,
      SequenceNumber: sequenceNumber,
      NewImage: marshall(after, options) as Record<string, unknown>,
      ...(before ? { OldImage: marshall(before, options) as Record<string, unknown> } : {}),
    },
  };
}

/** Hands every new stream record to the processor until the stream is quiet (the local poller's job). */
async function drain(limit = 40): Promise<LambdaRecord[]> {
  const handled: LambdaRecord[] = [];
  for (let round = 0; round < limit; round++) {
    const batch = await f.reader.fresh();
    if (batch.length === 0) return handled;
    const result = await processStreamRecords(f.deps, batch);
    expect(result, String(f.errors.at(-1)?.[1] ?? '')).toEqual({ batchItemFailures: [] });
    handled.push(...batch);
  }
  throw new Error('the stream did not settle');
}

async function clusterCounts() {
  const { clusters } = await f.ecs.send(new DescribeClustersCommand({ clusters: [CLUSTER] }));
  return { pending: clusters![0].pendingTasksCount, running: clusters![0].runningTasksCount };
}

/** The agent's report, as Berth's agent sends it: raw JSON naming the host that holds the task. */
async function agentReports(taskArn: string, status: 'ACTIVATING' | 'RUNNING' | 'STOPPED') {
  const containerInstance = (await storedTask(taskArn)).record.reservation?.containerInstanceArn;
  const response = await f.berth.raw(
    'SubmitTaskStateChange',
    JSON.stringify({
      cluster: CLUSTER,
      task: taskArn,
      containerInstance,
      status,
      containers: [{ containerName: 'app', status, runtimeId: 'rt-1', ...(status === 'STOPPED' ? { exitCode: 0 } : {}) }],
    }),
  );
  expect(response.status, JSON.stringify(response.json)).toBe(200);
}

/** Every task event of a task: ids derived from ARN + version, versions strictly increasing. */
function expectWellFormedTaskEvents(taskArn: string) {
  const events = f.publisher.taskEvents(taskArn);
  for (const event of events) {
    expect(event.id).toBe(eventId(taskArn, event.detail.version as number));
    expect(event.source).toBe(SOURCE);
    expect(event.resources).toEqual([taskArn]);
  }
  const versions = events.map((e) => e.detail.version as number);
  return versions;
}

// ---------------------------------------------------------------------------------------------

describe('processStreamRecords: duplicates', () => {
  it('a duplicated record publishes the same event id twice and advances the task only once', async () => {
    const [taskArn] = await runTasks();
    const records = (await f.reader.fresh()).filter(isTaskRecord(taskArn));
    expect(records.map((r) => [r.eventName, versionOf(r)])).toEqual([['INSERT', 1]]);
    const [insert] = records;

    const result = await processStreamRecords(f.deps, [insert, insert]);

    expect(result).toEqual({ batchItemFailures: [] });
    const events = f.publisher.taskEvents(taskArn);
    expect(events).toHaveLength(2);
    expect(events[0].id).toBe(eventId(taskArn, 1));
    expect(events[1]).toEqual(events[0]);
    expect(events[0].detail).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', version: 1 });
    // One step: PROVISIONING -> PENDING at version 2, and exactly one new stream record for it.
    const stored = await storedTask(taskArn);
    expect(stored.version).toBe(2);
    expect(stored.record.lastStatus).toBe('PENDING');
    const next = (await f.reader.fresh()).filter(isTaskRecord(taskArn));
    expect(next.map((r) => [r.eventName, versionOf(r)])).toEqual([['MODIFY', 2]]);
    expect(oldImage(next[0])!.version).toBe(1);
  });

  it('a whole batch delivered twice changes nothing the second time', async () => {
    await registerFargateHost();
    const [taskArn] = await runTasks();
    await drain();
    const before = await rawTaskItem(taskArn);
    const all = (await f.reader.all()).filter(isTaskRecord(taskArn));
    const published = f.publisher.events.length;

    expect(await processStreamRecords(f.deps, all)).toEqual({ batchItemFailures: [] });

    expect(await rawTaskItem(taskArn)).toEqual(before);
    expect(await f.reader.fresh()).toEqual([]);
    // Republished: the same ids as the first time, no new ones.
    const again = f.publisher.events.slice(published);
    const first = f.publisher.events.slice(0, published).filter((e) => e.resources[0] === taskArn);
    expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(again).toEqual(first);
  });
});

describe('processStreamRecords: reordering', () => {
  it('an older record after a newer one changes nothing and publishes only its own version\'s id', async () => {
    const host = await registerFargateHost();
    const [taskArn] = await runTasks();
    const [insert] = (await f.reader.fresh()).filter(isTaskRecord(taskArn));
    await processStreamRecords(f.deps, [insert]); // -> PENDING and placed in one write (v2)
    const [placed] = (await f.reader.fresh()).filter(isTaskRecord(taskArn));
    expect([versionOf(insert), versionOf(placed)]).toEqual([1, 2]);
    expect(newImage(placed)!.doc.lastStatus).toBe('PENDING');
    expect(taskOfItem(newImage(placed)!).reservation).toMatchObject({ containerInstanceArn: host, cpu: 256, memory: 512 });

    const itemBefore = await rawTaskItem(taskArn);
    const hostBefore = await f.berth.context.containerInstances.get(host);
    f.publisher.events.length = 0;

    // The newest first (nothing to do: the agent moves a placed PENDING task), then the older one.
    expect(await processStreamRecords(f.deps, [placed, insert])).toEqual({ batchItemFailures: [] });

    // Each record republishes its own version's id, nothing more.
    expect(f.publisher.taskEvents(taskArn).map((e) => [e.id, e.detail.version])).toEqual([
      [eventId(taskArn, 2), 2],
      [eventId(taskArn, 1), 1],
    ]);
    expect(await rawTaskItem(taskArn)).toEqual(itemBefore);
    const hostAfter = await f.berth.context.containerInstances.get(host);
    expect(hostAfter).toEqual(hostBefore); // reserved once, not twice
    expect(hostAfter!.remaining).toEqual({ cpu: 1024 - 256, memory: 2048 - 512 });
    expect(await f.reader.fresh()).toEqual([]);
  });

  it('replaying a whole lifecycle backwards changes nothing; each record publishes the id of its own version', async () => {
    const host = await registerFargateHost();
    const [taskArn] = await runTasks();
    await drain();
    await agentReports(taskArn, 'ACTIVATING');
    await agentReports(taskArn, 'RUNNING');
    await drain();
    await f.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: 'done' }));
    await drain();
    await agentReports(taskArn, 'STOPPED');
    await drain();
    const final = await storedTask(taskArn);
    expect(final.record.lastStatus).toBe('STOPPED');

    const lifecycle = (await f.reader.all()).filter(isTaskRecord(taskArn));
    const statuses = lifecycle.map((r) => newImage(r)!.doc.lastStatus);
    expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual([
      'PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED',
    ]);
    expect(lifecycle.map(versionOf)).toEqual(lifecycle.map((_, i) => i + 1));
    // Forward: one event per status or desired-status change, versions increasing, ids from versions.
    const forward = expectWellFormedTaskEvents(taskArn);
    expect(forward).toEqual([...forward].sort((a, b) => a - b));
    expect(new Set(forward).size).toBe(forward.length);

    const itemBefore = await rawTaskItem(taskArn);
    const hostBefore = await f.berth.context.containerInstances.get(host);
    f.publisher.events.length = 0;
    const backwards = [...lifecycle].reverse();
    expect(await processStreamRecords(f.deps, backwards)).toEqual({ batchItemFailures: [] });

    const replayed = f.publisher.taskEvents(taskArn);
    expect(replayed.map((e) => e.detail.version)).toEqual([...forward].reverse());
    for (const event of replayed) expect(event.id).toBe(eventId(taskArn, event.detail.version as number));
    expect(await rawTaskItem(taskArn)).toEqual(itemBefore);
    expect(await f.berth.context.containerInstances.get(host)).toEqual(hostBefore);
    expect(hostBefore!.remaining).toEqual({ cpu: 1024, memory: 2048 });
    expect(await clusterCounts()).toEqual({ pending: 0, running: 0 });
    expect(f.errors).toEqual([]);
  });

  it('Lambda-shaped records built from real items (marshalled) are handled like the stream\'s own', async () => {
    const [taskArn] = await runTasks();
    const [insert] = (await f.reader.fresh()).filter(isTaskRecord(taskArn));
    const v1 = await rawTaskItem(taskArn);
    expect(marshall(v1, { removeUndefinedValues: true })).toEqual(insert.dynamodb.NewImage);

    const synthetic = recordFromItems(undefined, v1, '100000000000000000001', insert.dynamodb.ApproximateCreationDateTime!);
    await processStreamRecords(f.deps, [synthetic]);
    const fromSynthetic = f.publisher.taskEvents(taskArn)[0];
    const v2 = await rawTaskItem(taskArn);
    expect(v2.version).toBe(2);

    // The real record of the same change: same event, and the task is not moved again.
    await processStreamRecords(f.deps, [insert]);
    expect(f.publisher.taskEvents(taskArn)[1]).toEqual(fromSynthetic);
    expect(await rawTaskItem(taskArn)).toEqual(v2);

    // An older image delivered after the task moved on: its own id, no change.
    const stale = recordFromItems(v1, v2, '100000000000000000002', 1_700_000_000);
    await processStreamRecords(f.deps, [stale]); // the real v2 record: places nothing (no capacity)
    const olderAfterNewer = recordFromItems(undefined, v1, '100000000000000000003', 1_700_000_001);
    f.publisher.events.length = 0;
    await processStreamRecords(f.deps, [olderAfterNewer]);
    expect(f.publisher.taskEvents(taskArn).map((e) => e.id)).toEqual([eventId(taskArn, 1)]);
    expect(await rawTaskItem(taskArn)).toEqual(v2);
  });
});

describe('processStreamRecords: publisher failures', () => {
  it('a batch publishes its events once, in record order; a throwing publisher fails the batch at its first record with no task moved; a retry succeeds', async () => {
    const taskArns = await runTasks(3);
    const batch = await f.reader.fresh();
    const taskRecords = taskArns.map((arn) => batch.find(isTaskRecord(arn))!);
    expect(taskRecords.every(Boolean)).toBe(true);
    const order = taskRecords
      .map((r) => ({ arn: taskOfItem(newImage(r)!).taskArn, index: batch.indexOf(r), seq: r.dynamodb.SequenceNumber! }))
      .sort((a, b) => a.index - b.index);

    // EventBridge fails for the second task's event: the batch's one publish fails as a whole.
    f.publisher.failWhen = (events) => events.some((e) => e.resources[0] === order[1].arn);
    const callsBefore = f.publisher.calls;
    const failed = await processStreamRecords(f.deps, batch);

    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: batch[0].dynamodb.SequenceNumber }] });
    expect(f.publisher.calls - callsBefore).toBe(1);
    expect(f.errors).toHaveLength(1);
    expect(f.publisher.taskEvents()).toEqual([]);
    // Nothing was done with any record: no task moved.
    for (const { arn } of order) expect((await storedTask(arn)).version).toBe(1);

    // The retry (Lambda resends the batch): one publish with every event in record order, each task moved once.
    f.publisher.failWhen = undefined;
    const retryCallsBefore = f.publisher.calls;
    expect(await processStreamRecords(f.deps, batch)).toEqual({ batchItemFailures: [] });
    expect(f.publisher.calls - retryCallsBefore).toBe(1);
    expect(f.publisher.taskEvents().map((e) => e.resources[0])).toEqual(order.map((o) => o.arn));
    for (const { arn } of order) {
      const stored = await storedTask(arn);
      expect([stored.record.lastStatus, stored.version]).toEqual(['PENDING', 2]);
      expect(f.publisher.taskEvents(arn).map((e) => e.id)).toEqual([eventId(arn, 1)]);
    }

    // And the rest of the stream brings all three to a consistent state.
    await drain();
    expect(await clusterCounts()).toEqual({ pending: 3, running: 0 });
    expect((await f.berth.context.tasks.unplaced(SCOPE)).map((p) => p.taskId).sort()).toEqual(taskArns.map(taskIdOf).sort());
    await registerFargateHost('FARGATE', 'us-east-1b', 1024, 2048);
    await drain();
    for (const arn of taskArns) expect((await storedTask(arn)).record.reservation).toBeDefined();
    for (const arn of taskArns) await f.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await drain();
    const { tasks } = await f.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns }));
    expect(tasks!.map((t) => t.lastStatus)).toEqual(['STOPPED', 'STOPPED', 'STOPPED']);
    expect(tasks!.map((t) => t.stopCode)).toEqual(['UserInitiated', 'UserInitiated', 'UserInitiated']);
    expect(await clusterCounts()).toEqual({ pending: 0, running: 0 });
    for (const arn of taskArns) {
      const versions = expectWellFormedTaskEvents(arn);
      expect(versions.at(-1)).toBe((await storedTask(arn)).version);
    }
  });

  it('a failure on the first record reports it and leaves every task untouched', async () => {
    const [taskArn] = await runTasks();
    const batch = (await f.reader.fresh()).filter(isTaskRecord(taskArn));
    f.publisher.failWhen = () => true;
    expect(await processStreamRecords(f.deps, batch)).toEqual({ batchItemFailures: [{ itemIdentifier: batch[0].dynamodb.SequenceNumber }] });
    expect((await storedTask(taskArn)).version).toBe(1);
    expect(await f.reader.fresh()).toEqual([]);
    f.publisher.failWhen = undefined;
    expect(await processStreamRecords(f.deps, batch)).toEqual({ batchItemFailures: [] });
    expect((await storedTask(taskArn)).version).toBe(2);
  });

  it("the host's agent is told of its new task before the batch's events are published, and again when a failed publish retries the batch", async () => {
    const host = await registerFargateHost();
    const [taskArn] = await runTasks();
    // PROVISIONING -> PENDING, placed on the host in the same write.
    await processStreamRecords(f.deps, await f.reader.fresh());
    const batch = (await f.reader.fresh()).filter(isTaskRecord(taskArn));
    expect(batch.map((r) => taskOfItem(newImage(r)!).reservation?.containerInstanceArn)).toEqual([host]);
    const log: string[] = [];
    const notified: AssignmentsChanged[] = [];
    const deps: StreamProcessorDeps = {
      ...f.deps,
      publisher: { publish: async (events) => (log.push(`publish ${events.length}`), f.publisher.publish(events)) },
      agentNotifier: { notify: async (message) => void (log.push(`notify ${message.containerInstanceArn}`), notified.push(message)) },
    };
    f.publisher.failWhen = () => true;
    expect(await processStreamRecords(deps, batch)).toEqual({ batchItemFailures: [{ itemIdentifier: batch[0].dynamodb.SequenceNumber }] });
    f.publisher.failWhen = undefined;
    expect(await processStreamRecords(deps, batch)).toEqual({ batchItemFailures: [] });
    // The fetch the notification starts overlaps the publish; the retry notifies again (at least once).
    expect(log).toEqual([`notify ${host}`, 'publish 1', `notify ${host}`, 'publish 1']);
    // Each carries the task as that change committed it, with its container definitions: no fetch needed.
    const committed = taskOfItem(newImage(batch[0])!);
    expect(notified[0].assignment).toEqual({ task: committed, containers: [expect.objectContaining({ name: expect.any(String), image: expect.any(String) })] });
    expect(notified[0].assignment!.task).toMatchObject({ lastStatus: 'PENDING', desiredStatus: 'RUNNING', reservation: { containerInstanceArn: host } });
    expect(f.publisher.taskEvents(taskArn).map((e) => e.detail.lastStatus)).toEqual(['PROVISIONING', 'PENDING']);
  });

  it("the first record's hosts are read beside the batch's publish; a later record reads after the placements before it", async () => {
    const host = await registerFargateHost('FARGATE', 'us-east-1b', 512, 1024); // room for two tasks, not three
    const taskArns = await runTasks(3);
    const batch = (await f.reader.fresh()).filter((r) => newImage(r)?.kind === 'task');
    expect(batch).toHaveLength(3);
    const log: string[] = [];
    const seenCpu: number[][] = [];
    const instances = f.berth.context.containerInstances;
    const deps: StreamProcessorDeps = {
      ...f.deps,
      context: {
        ...f.berth.context,
        // The real repository, telling when the engine reads hosts, and what they had left.
        containerInstances: Object.create(instances, {
          all: {
            value: async (partition: string) => {
              log.push('read');
              const hosts = await instances.all(partition);
              seenCpu.push(hosts.map((h) => h.remaining.cpu));
              return hosts;
            },
          },
        }),
      },
      publisher: { publish: async (events) => (log.push(`publish ${events.length}`), f.publisher.publish(events)) },
    };
    expect(await processStreamRecords(deps, batch)).toEqual({ batchItemFailures: [] });
    // One read per placement, as before; each later one sees the shares taken before it.
    expect(log).toEqual(['read', 'publish 3', 'read', 'read']);
    expect(seenCpu).toEqual([[512], [256], [0]]);
    const inBatchOrder = batch.map((r) => taskOfItem(newImage(r)!).taskArn);
    expect([...inBatchOrder].sort()).toEqual([...taskArns].sort());
    const placed = await Promise.all(inBatchOrder.map(async (arn) => (await storedTask(arn)).record.reservation?.containerInstanceArn));
    expect(placed).toEqual([host, host, undefined]);
    expect(await f.berth.context.tasks.unplaced(SCOPE)).toEqual([{ clusterArn: f.clusterArn, taskId: taskIdOf(inBatchOrder[2]), capacity: 'FARGATE', since: expect.any(Number) }]);
  });

  it('a publisher failing mid-lifecycle (the Spot interruption warning) is retried without losing the event', async () => {
    const host = await registerFargateHost('FARGATE_SPOT');
    const [taskArn] = await runTasks(1, true);
    await drain();
    await agentReports(taskArn, 'ACTIVATING');
    await agentReports(taskArn, 'RUNNING');
    await drain();
    await interruptSpotCapacity({ ...f.berth.context, scope: SCOPE }, { containerInstanceArn: host });
    const batch = await f.reader.fresh();
    f.publisher.failWhen = (events) => events.some((e) => e.detail.stopCode === 'SpotInterruption');
    const failed = await processStreamRecords(f.deps, batch);
    expect(batch.some((r) => isTaskRecord(taskArn)(r) && newImage(r)!.doc.stopCode === 'SpotInterruption')).toBe(true);
    // The batch's one publish failed: the batch is retried from its first record.
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: batch[0].dynamodb.SequenceNumber }] });
    expect((await storedTask(taskArn)).record.lastStatus).toBe('RUNNING');
    f.publisher.failWhen = undefined;
    expect(await processStreamRecords(f.deps, batch)).toEqual({ batchItemFailures: [] });
    const warning = f.publisher.taskEvents(taskArn).find((e) => e.detail.stopCode === 'SpotInterruption');
    expect(warning?.detail).toMatchObject({
      desiredStatus: 'STOPPED',
      lastStatus: 'RUNNING',
      stoppedReason: 'Your Spot Task was interrupted.',
      stopCode: 'SpotInterruption',
      capacityProviderName: 'FARGATE_SPOT',
    });
    expect((await storedTask(taskArn)).record.lastStatus).toBe('DEACTIVATING');
  });
});

describe("agent reports from the version the agent was notified of", () => {
  /** Counts the consistent task reads the reports make (the repository's own get, on this harness only). */
  function countTaskReads() {
    const tasks = f.berth.context.tasks;
    const get = tasks.get.bind(tasks);
    const counter = { reads: 0 };
    tasks.get = async (...args) => (counter.reads++, get(...args));
    return { counter, restore: () => void (tasks.get = get) };
  }

  const report = (taskArn: string, host: string, status: string) =>
    f.berth.raw('SubmitTaskStateChange', JSON.stringify({ cluster: CLUSTER, task: taskArn, containerInstance: host, status, containers: [{ containerName: 'app', status, runtimeId: 'rt-1' }] }));

  it('ACTIVATING and RUNNING on the notified version write without a read of the task', async () => {
    const host = await registerFargateHost();
    const [taskArn] = await runTasks();
    await drain(); // PENDING committed and handed to the processor: the version the agent is notified of.
    const { counter, restore } = countTaskReads();
    try {
      expect((await report(taskArn, host, 'ACTIVATING')).status).toBe(200);
      expect((await report(taskArn, host, 'RUNNING')).status).toBe(200);
      expect(counter.reads).toBe(0);
    } finally {
      restore();
    }
    expect((await storedTask(taskArn)).record.lastStatus).toBe('RUNNING');
    await drain();
    expect(await clusterCounts()).toEqual({ pending: 0, running: 1 });
  });

  it('a copy gone stale (the task was stopped since) loses its condition and the report is decided on a fresh read', async () => {
    const host = await registerFargateHost();
    const [taskArn] = await runTasks();
    await drain();
    // Stopped after the agent was notified, and the stop not yet through the stream: the copy is stale.
    await f.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: 'changed my mind' }));
    const { counter, restore } = countTaskReads();
    let response;
    try {
      response = await report(taskArn, host, 'ACTIVATING');
    } finally {
      restore();
    }
    expect(counter.reads).toBeGreaterThan(0);
    // Decided as without the copy: on the copy it would have moved to ACTIVATING; on the fresh task,
    // desired STOPPED, it does not (the report's container details are kept, as before).
    expect(response.status).toBe(200);
    const stored = (await storedTask(taskArn)).record;
    expect([stored.lastStatus, stored.desiredStatus]).toEqual(['PENDING', 'STOPPED']);
  });
});

describe('waiting for capacity', () => {
  it('a task that cannot be placed stays PENDING with an unplaced marker, and placeWaitingTasks places it once capacity registers', async () => {
    const [taskArn] = await runTasks();
    await drain();
    const waiting = await storedTask(taskArn);
    expect(waiting.record.lastStatus).toBe('PENDING');
    expect(waiting.version).toBe(2);
    expect(waiting.record.reservation).toBeUndefined();
    expect(await f.berth.context.tasks.unplaced(SCOPE)).toEqual([{ clusterArn: f.clusterArn, taskId: taskIdOf(taskArn), capacity: 'FARGATE', since: expect.any(Number) }]);
    expect(await placeWaitingTasks(f.berth.context, SCOPE)).toBe(0);
    expect((await storedTask(taskArn)).version).toBe(2);

    const host = await registerFargateHost('FARGATE', 'us-east-1c');
    expect(await placeWaitingTasks(f.berth.context, SCOPE)).toBe(1);

    const placed = await storedTask(taskArn);
    expect(placed.version).toBe(3);
    expect(placed.record.lastStatus).toBe('PENDING');
    expect(placed.record.reservation).toEqual({ containerInstanceArn: host, cpu: 256, memory: 512 });
    expect(placed.record.availabilityZone).toBe('us-east-1c');
    expect(placed.record.containerInstanceArn).toBeUndefined(); // Fargate hosts are not the user's
    expect(await f.berth.context.tasks.unplaced(SCOPE)).toEqual([]);
    expect(await f.berth.context.tasks.assignedTo(host)).toEqual([{ clusterArn: f.clusterArn, taskId: taskIdOf(taskArn) }]);
    const stored = await f.berth.context.containerInstances.get(host);
    expect(stored).toMatchObject({ remaining: { cpu: 768, memory: 1536 }, pendingTasksCount: 1, runningTasksCount: 0 });

    // Nothing left to place; the stream's own trigger (the host's INSERT) finds nothing either.
    expect(await placeWaitingTasks(f.berth.context, SCOPE)).toBe(0);
    await drain();
    expect((await storedTask(taskArn)).version).toBe(3);
  });

  it('through the stream: the new host\'s record places the waiting task; FARGATE_SPOT waits for a Spot host', async () => {
    const [onDemand] = await runTasks();
    const [spot] = await runTasks(1, true);
    await drain();
    expect((await f.berth.context.tasks.unplaced(SCOPE)).map((p) => p.taskId).sort()).toEqual([taskIdOf(onDemand), taskIdOf(spot)].sort());

    const fargateHost = await registerFargateHost('FARGATE');
    await drain();
    expect((await storedTask(onDemand)).record.reservation?.containerInstanceArn).toBe(fargateHost);
    expect((await storedTask(spot)).record.reservation).toBeUndefined();
    expect(await f.berth.context.tasks.unplaced(SCOPE)).toEqual([{ clusterArn: f.clusterArn, taskId: taskIdOf(spot), capacity: 'FARGATE_SPOT', since: expect.any(Number) }]);

    const spotHost = await registerFargateHost('FARGATE_SPOT');
    await drain();
    expect((await storedTask(spot)).record.reservation?.containerInstanceArn).toBe(spotHost);
    expect(await f.berth.context.tasks.unplaced(SCOPE)).toEqual([]);
    // No container instance events for Fargate capacity hosts (ECS sends none for Fargate), neither for
    // their registration nor for the reservations; the task events are there.
    expect(f.publisher.events.filter((e) => e['detail-type'] === 'ECS Container Instance State Change')).toEqual([]);
    expect(f.publisher.events.filter((e) => e['detail-type'] === 'ECS Task State Change' && e.resources[0] === spot).map((e) => e.detail.lastStatus)).toContain('PENDING');
  });

  it('a stopped task\'s released capacity places the next waiting task', async () => {
    const host = await registerFargateHost('FARGATE', 'us-east-1b', 256, 512); // room for one task
    const [first, second] = await runTasks(2);
    await drain();
    const placedFirst = (await storedTask(first)).record.reservation ? first : second;
    const waiting = placedFirst === first ? second : first;
    expect((await storedTask(waiting)).record.reservation).toBeUndefined();

    await f.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: placedFirst }));
    await drain();
    expect((await storedTask(placedFirst)).record.lastStatus).toBe('STOPPED');
    expect((await storedTask(waiting)).record.reservation?.containerInstanceArn).toBe(host);
    expect(await f.berth.context.tasks.unplaced(SCOPE)).toEqual([]);
  });

  it('tasks of one group spread across availability zones (placement\'s documented order)', async () => {
    // Placement's documented order: the AZ with the fewest tasks of the group first, then most memory.
    const big = await registerFargateHost('FARGATE', 'us-east-1a', 4096, 8192);
    const small = await registerFargateHost('FARGATE', 'us-east-1b', 1024, 2048);
    const [one, two] = await runTasks(2);
    await drain();
    const zones = [(await storedTask(one)).record.availabilityZone, (await storedTask(two)).record.availabilityZone];
    const hosts = [(await storedTask(one)).record.reservation?.containerInstanceArn, (await storedTask(two)).record.reservation?.containerInstanceArn];
    expect(hosts.sort()).toEqual([big, small].sort());
    expect(zones.sort()).toEqual(['us-east-1a', 'us-east-1b']);
  });
});

describe('event times', () => {
  // A fixed past instant: DynamoDB Local's stream stamps records with the real time, rounded down to
  // the minute, so an event time equal to one of these can only have come from the record.
  const T = Date.parse('2020-01-01T00:00:00.000Z');

  it.each([
    { name: 'writes 1 ms apart', clocks: { run: T, stop: T + 1, engine: T + 2 }, expected: [T, T + 1, T + 2] },
    { name: 'the StopTask writer\'s clock is behind RunTask\'s', clocks: { run: T + 500, stop: T, engine: T }, expected: [T + 500, T + 501, T + 502] },
  ])('two events of one task less than a second apart ($name): different, ordered time and updatedAt, to the ms', async ({ clocks, expected }) => {
    await teardown(f);
    let now = T;
    f = await setup({ clock: () => now });
    await registerFargateHost();
    await drain();
    now = clocks.run;
    const [taskArn] = await runTasks();
    now = clocks.stop;
    await f.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    now = clocks.engine;
    const handled = await drain();

    const events = f.publisher.taskEvents(taskArn);
    expect(events.map((e) => [e.detail.lastStatus, e.detail.desiredStatus, e.detail.version])).toEqual([
      ['PROVISIONING', 'RUNNING', 1],
      ['PROVISIONING', 'STOPPED', 2],
      ['STOPPED', 'STOPPED', 3],
    ]);
    const iso = expected.map((ms) => new Date(ms).toISOString());
    expect(events.map((e) => e.time)).toEqual(iso);
    expect(events.map((e) => e.detail.updatedAt)).toEqual(iso);
    // One now per write: the last step's stoppedAt is that write's time, and no later than updatedAt.
    expect(Date.parse(events[2].detail.stoppedAt as string)).toBeLessThanOrEqual(Date.parse(events[2].detail.updatedAt as string));
    // The committed record carries the same time.
    expect((await storedTask(taskArn)).record.updatedAt).toBe(expected[2]);
    // The stream's own times are another matter (real time, DynamoDB Local's rounded to the minute).
    const streamTimes = handled.filter(isTaskRecord(taskArn)).map((r) => r.dynamodb.ApproximateCreationDateTime! * 1000);
    expect(streamTimes.length).toBeGreaterThanOrEqual(3);
    for (const time of streamTimes) expect(expected).not.toContain(time);
  });
});

describe('container instance events', () => {
  it('the event of a reservation carries the time of the write that reserved, not of the registration or the stream', async () => {
    await teardown(f);
    const registeredAt = Date.parse('2020-01-01T00:00:00.000Z');
    let now = registeredAt;
    f = await setup({ clock: () => now });
    // An EC2 container instance of the cluster (Fargate capacity hosts have no container instance events).
    const { containerInstance } = await f.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: CLUSTER,
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 },
        ],
        versionInfo: { agentVersion: 'berth-agent/0.1.0', agentHash: 'berth', dockerVersion: 'test' },
      }),
    );
    const host = containerInstance!.containerInstanceArn!;
    await drain();
    now = registeredAt + 250;
    const { tasks, failures } = await f.ecs.send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: FAMILY, launchType: 'EC2', networkConfiguration: SUBNETS }),
    );
    expect(failures).toEqual([]);
    const taskArn = tasks![0].taskArn!;
    const handled = await drain();
    const reservation = handled.find((r) => newImage(r)?.kind === 'container-instance' && versionOf(r) === 2)!;
    expect(reservation).toBeDefined();
    const event = f.publisher.events.find((e) => e.resources[0] === host && e.detail.version === 2)!;
    expect(event.detail.remainingResources).toContainEqual(expect.objectContaining({ name: 'MEMORY', integerValue: 2048 - 512 }));
    // The placing write (RunTask's: an EC2 task is placed at birth, version 1 with its host) moved the host's capacity.
    const placed = await storedTask(taskArn);
    expect(placed.record.reservation?.containerInstanceArn).toBe(host);
    const placedAt = placed.record.createdAt;
    expect(placedAt).toBe(registeredAt + 250);
    expect(event.time).toBe(new Date(placedAt).toISOString());
    expect(event.detail.updatedAt).toBe(event.time);
    expect(reservation.dynamodb.ApproximateCreationDateTime! * 1000).not.toBe(placedAt);
  });
});

describe('local mode: DynamoDB Local\'s own stream records', () => {
  // DynamoDB Local's stream renders an empty map attribute as `{}` instead of `{"M":{}}` (an empty
  // list is fine: `{"L":[]}`). The local poller hands those images on as they are; a record that
  // cannot be handled is retried forever and blocks every record after it.
  it('a host registered without versionInfo (an empty map) does not poison the stream', async () => {
    // An EC2 container instance of the cluster: Fargate capacity hosts have no container instance events.
    const { containerInstance } = await f.ecs.send(
      new RegisterContainerInstanceCommand({
        cluster: f.clusterArn,
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 },
        ],
      }),
    );
    const batch = await f.reader.fresh();
    expect(await processStreamRecords(f.deps, batch), String(f.errors.at(-1)?.[1] ?? '')).toEqual({ batchItemFailures: [] });
    const hostEvents = f.publisher.events.filter((e) => e['detail-type'] === 'ECS Container Instance State Change');
    expect(hostEvents.map((e) => e.resources[0])).toEqual([containerInstance!.containerInstanceArn]);
    expect(hostEvents[0].detail.versionInfo).toEqual({});
  });

  it('a task definition with an empty map (dockerLabels: {}) does not poison the stream', async () => {
    await f.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'labels',
        containerDefinitions: [{ name: 'app', image: 'nginx', memory: 64, dockerLabels: {} }],
      }),
    );
    const batch = await f.reader.fresh();
    expect(batch.length).toBeGreaterThan(0);
    expect(await processStreamRecords(f.deps, batch), String(f.errors.at(-1)?.[1] ?? '')).toEqual({ batchItemFailures: [] });
  });
});

describe('service and deployment events', () => {
  // A fixed past instant, as above: an event time equal to one of these came from the service item.
  const T = Date.parse('2020-01-01T00:00:00.000Z');
  let now = T;
  const serviceEvents = () =>
    f.publisher.events.filter((e) => e['detail-type'] === 'ECS Service Action' || e['detail-type'] === 'ECS Deployment State Change');
  const names = () => serviceEvents().map((e) => `${e['detail-type']}: ${e.detail.eventName}`);
  const serviceRecords = async () => (await f.reader.all()).filter((r) => newImage(r)?.kind === 'service');

  beforeEach(async () => {
    await teardown(f);
    now = T;
    f = await setup({ clock: () => now });
  });

  async function createService(serviceName: string, desiredCount = 1) {
    const { service } = await f.ecs.send(
      new CreateServiceCommand({ cluster: CLUSTER, serviceName, taskDefinition: FAMILY, desiredCount, launchType: 'FARGATE', networkConfiguration: SUBNETS }),
    );
    return { serviceArn: service!.serviceArn!, deploymentId: service!.deployments![0].id! };
  }

  /** One scheduler pass at `at`, then the stream (what the loop and the poller do between them). */
  async function pass(serviceArn: string, at: number) {
    now = at;
    const result = await runServicePass(f.berth.context, serviceArn);
    await drain();
    return result;
  }

  it('a service reaching a steady state: deployment IN_PROGRESS, then COMPLETED and SERVICE_STEADY_STATE, timed by the item, the same ids on redelivery', async () => {
    await registerFargateHost();
    await drain();
    const { serviceArn, deploymentId } = await createService('api');
    await drain();
    expect(names()).toEqual(['ECS Deployment State Change: SERVICE_DEPLOYMENT_IN_PROGRESS', 'ECS Service Action: SERVICE_DEPLOYMENT_IN_PROGRESS']);

    const { started } = await pass(serviceArn, T + 1_000);
    expect(started).toHaveLength(1);
    now = T + 2_000;
    await agentReports(started![0], 'ACTIVATING');
    await agentReports(started![0], 'RUNNING');
    await drain();
    await pass(serviceArn, T + 3_000);

    const stored = (await f.berth.context.services.get(f.clusterArn, 'api'))!;
    expect(stored.deployments[0]).toMatchObject({ id: deploymentId, rolloutState: 'COMPLETED', updatedAt: T + 3_000 });
    expect(names()).toEqual([
      'ECS Deployment State Change: SERVICE_DEPLOYMENT_IN_PROGRESS',
      'ECS Service Action: SERVICE_DEPLOYMENT_IN_PROGRESS',
      'ECS Deployment State Change: SERVICE_DEPLOYMENT_COMPLETED',
      'ECS Service Action: SERVICE_DEPLOYMENT_COMPLETED',
      'ECS Service Action: SERVICE_STEADY_STATE',
    ]);
    const at = new Date(T + 3_000).toISOString();
    const [, , completed, , steady] = serviceEvents();
    for (const event of serviceEvents()) {
      expect(event).toMatchObject({ source: SOURCE, account: ACCOUNT, region: REGION, resources: [serviceArn] });
    }
    expect(completed).toMatchObject({ time: at });
    expect(completed.detail).toEqual({
      eventType: 'INFO',
      eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
      clusterArn: f.clusterArn,
      deploymentId,
      updatedAt: at,
      reason: `ECS deployment ${deploymentId} completed.`,
    });
    expect(steady).toMatchObject({ time: at, detail: { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE', clusterArn: f.clusterArn, createdAt: at } });
    const steadyEvent = stored.events.find((e) => e.message === '(service api) has reached a steady state.')!;
    expect(steady.id).toBe(eventId(serviceArn, `service-event#${steadyEvent.id}`));

    // Every service record delivered again: the same events, the same ids, nothing more.
    const ids = serviceEvents().map((e) => e.id);
    f.publisher.events.length = 0;
    expect(await processStreamRecords(f.deps, await serviceRecords())).toEqual({ batchItemFailures: [] });
    expect(serviceEvents().map((e) => e.id)).toEqual(ids);
    expect(f.errors).toEqual([]);
  });

  it('scale-in: TASKS_STOPPED names the stopped task; the user\'s desiredCount is no SERVICE_DESIRED_COUNT_UPDATED', async () => {
    await registerFargateHost();
    const { serviceArn } = await createService('api', 2);
    await drain();
    const { started } = await pass(serviceArn, T + 1_000);
    for (const taskArn of started!) {
      await agentReports(taskArn, 'ACTIVATING');
      await agentReports(taskArn, 'RUNNING');
    }
    await drain();
    await pass(serviceArn, T + 2_000);
    f.publisher.events.length = 0;

    now = T + 3_000;
    await f.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'api', desiredCount: 1 }));
    await drain();
    expect(names()).toEqual([]); // a user's change: no event of its own
    await pass(serviceArn, T + 4_000);
    const stoppedTask = (await Promise.all(started!.map(storedTask))).find((t) => t.record.desiredStatus === 'STOPPED')!;
    expect(names()).toEqual(['ECS Service Action: TASKS_STOPPED']);
    expect(serviceEvents()[0]).toMatchObject({
      time: new Date(T + 4_000).toISOString(),
      detail: { eventType: 'INFO', eventName: 'TASKS_STOPPED', clusterArn: f.clusterArn, createdAt: new Date(T + 4_000).toISOString(), taskArns: [stoppedTask.record.taskArn] },
    });
  });

  it('the circuit breaker trips and rolls back: deployment FAILED (ERROR, ECS\'s text), the rollback IN_PROGRESS, then COMPLETED', async () => {
    await registerFargateHost();
    const { service } = await f.ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'api',
        taskDefinition: FAMILY,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: SUBNETS,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true, thresholdConfiguration: { type: 'COUNT', value: 1 } } },
      }),
    );
    const serviceArn = service!.serviceArn!;
    const first = service!.deployments![0].id!;
    await drain();
    const { started } = await pass(serviceArn, T + 1_000);
    await agentReports(started![0], 'ACTIVATING');
    await agentReports(started![0], 'RUNNING');
    await drain();
    await pass(serviceArn, T + 2_000); // the first deployment COMPLETED

    now = T + 3_000;
    const { service: updated } = await f.ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'api', forceNewDeployment: true }));
    const second = updated!.deployments!.find((d) => d.status === 'PRIMARY')!.id!;
    await drain();
    const { started: failing } = await pass(serviceArn, T + 4_000);
    expect(failing).toHaveLength(1);
    now = T + 5_000;
    await agentReports(failing![0], 'STOPPED'); // stopped without ever running: a stage-1 failure
    await drain();
    f.publisher.events.length = 0;
    await pass(serviceArn, T + 6_000);

    const at = new Date(T + 6_000).toISOString();
    const deploymentEvents = f.publisher.events.filter((e) => e['detail-type'] === 'ECS Deployment State Change');
    expect(deploymentEvents.map((e) => e.detail)).toEqual([
      { eventType: 'ERROR', eventName: 'SERVICE_DEPLOYMENT_FAILED', clusterArn: f.clusterArn, deploymentId: second, updatedAt: at, reason: 'ECS deployment circuit breaker: task failed to start.' },
      { eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', clusterArn: f.clusterArn, deploymentId: first, updatedAt: at, reason: `ECS deployment circuit breaker: rolling back to deploymentId ${first}.` },
      { eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', clusterArn: f.clusterArn, deploymentId: first, updatedAt: at, reason: `ECS deployment ${first} completed.` },
    ]);
    const stored = (await f.berth.context.services.get(f.clusterArn, 'api'))!;
    expect(stored.deployments.find((d) => d.id === first)).toMatchObject({ status: 'PRIMARY', rolloutState: 'COMPLETED' });
    expect(stored.deployments.find((d) => d.id === second)).toMatchObject({ rolloutState: 'FAILED' });
  });

  it('a service task that gives up waiting for capacity: SERVICE_TASK_PLACEMENT_FAILURE with the missing resource', async () => {
    const { serviceArn } = await createService('api');
    await drain();
    const { started } = await pass(serviceArn, T + 1_000); // no host: the task waits PENDING
    expect((await storedTask(started![0])).record.lastStatus).toBe('PENDING');
    f.publisher.events.length = 0;
    now = T + 2_000;
    await placeWaitingTasks(f.berth.context, SCOPE, { maxWaitMs: 0 });
    await drain();
    const failures = serviceEvents().filter((e) => e.detail.eventName === 'SERVICE_TASK_PLACEMENT_FAILURE');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      'detail-type': 'ECS Service Action',
      resources: [serviceArn],
      time: new Date(T + 2_000).toISOString(),
      // A Fargate task: RESOURCE:FARGATE, as ECS's example of this event.
      detail: { eventType: 'ERROR', clusterArn: f.clusterArn, reason: 'RESOURCE:FARGATE', taskArns: [started![0]], createdAt: new Date(T + 2_000).toISOString() },
    });
  });
});

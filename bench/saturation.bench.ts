/**
 * Berth saturation benchmark: how many task lifecycles per second Berth local sustains, and what each
 * one costs in DynamoDB, stream, event and CPU work, with hundreds of short tasks in flight.
 *
 * Berth local (in memory) with the embedded agent offering a Fargate pool far larger than the run needs
 * ("a host with ample capacity"); the task's one container runs `true`, so a task stops by itself as
 * soon as it runs (essential container exited). Phases:
 *
 * - warm-up (not measured): a burst of WARMUP tasks;
 * - one at a time: SEQUENTIAL tasks, each RunTask -> STOPPED before the next (latency without queueing);
 * - saturation: N tasks by RunTask count 10 from CALLERS callers at once, then wait until every one is
 *   STOPPED. Lifecycles/s is N / (first RunTask sent -> last STOPPED event).
 *
 * Counted per lifecycle over the saturation phase (everything Berth did in that window, the agent's
 * polls included): DynamoDB read and write calls by kind and by item kind, estimated WCU and RCU,
 * stream records and batches, events and publish calls, API requests by operation, CPU of this Node
 * process (client, API, stream processor, agent) and of the DynamoDB Local JVM. Then, on the same
 * JVM, raw PutItems of a real task item give the JVM CPU of one plain write: the ratio JVM CPU per
 * lifecycle / JVM CPU per PutItem is the lifecycle's cost in "plain writes", the floor to compare with.
 *
 * Measured and printed, never asserted. Run: `npx tsx bench/saturation.bench.ts` (part of `npm run
 * bench`); BERTH_BENCH_SATURATION_TASKS sets N (default 500), BERTH_BENCH_SATURATION_RUN_COUNT the tasks per RunTask (default 10).
 * BERTH_BENCH_SATURATION_CPU_PROFILE=FILE writes a V8 CPU profile of this process over the saturation phase
 * only (summarise it with `npx tsx bench/cpu-profile-summary.ts FILE`; the profiler adds Node CPU of its
 * own, so take the CPU figures from a run without it). Results: docs/benchmarks.md, docs/cost.md.
 */
import '../src/local/quiet-node-version-warning';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, platform, release, arch } from 'node:os';
import {
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { BerthEvent, EventPublisher } from '../src/app/event-publisher';
import type { ContainerRuntime } from '../src/agent/container-runtime';
import type { BatchResult, StreamRecord } from '../src/app/stream-processor';
import { createLocalDocumentClient } from '../src/adapters/dynamodb/document-client';
import { taskKey } from '../src/adapters/dynamodb/keys';
import { TABLE_SCHEMA } from '../src/adapters/dynamodb/table-schema';
import { taskOfItem } from '../src/adapters/dynamodb/task-item';
import { TASK_STATE_CHANGE } from '../src/domain/task-events';
import { LocalAgentChannel } from '../src/local/agent-channel-server';
import { DEFAULT_REGION, startBerthLocal, type BerthLocal } from '../src/local/berth-local';
import { formatMs, itemAttributeBytes, percentile, processCpuReader, runCalls, table, Tally, threadCpuReader } from './stats';
import { docBytes, itemKind, writeRequestsOf, type Doc } from './table-writes';

const N = Number(process.env.BERTH_BENCH_SATURATION_TASKS ?? 500);
const CALLERS = 4;
/** Tasks per RunTask in the saturation phase (BERTH_BENCH_SATURATION_RUN_COUNT; 1 = a caller starting tasks one by one). */
const RUN_COUNT = Number(process.env.BERTH_BENCH_SATURATION_RUN_COUNT ?? 10);
/** Tasks run before anything is measured; DynamoDB Local's JIT compilers take thousands of calls to settle. */
const WARMUP = Number(process.env.BERTH_BENCH_SATURATION_WARMUP ?? 40);
const SEQUENTIAL = Number(process.env.BERTH_BENCH_SATURATION_SEQUENTIAL ?? 20);
const RAW_PUTS = 1_000;
/** Generous: on a loaded shared machine 500 lifecycles have taken minutes. */
const WAIT_TIMEOUT_MS = 1_800_000;
const CLUSTER = 'saturation';
const CPU_PROFILE = process.env.BERTH_BENCH_SATURATION_CPU_PROFILE;

const tally = new Tally();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const load = () => loadavg().map((v) => v.toFixed(2)).join(' / ');

// ---------------------------------------------------------------------------------------------------
// What the bench observes: every DynamoDB call, stream batch, event and API request
// ---------------------------------------------------------------------------------------------------


interface TaskTiming {
  runAt: number;
  readonly committed: Map<string, number>;
  readonly published: Map<string, number>;
}
const timings = new Map<string, TaskTiming>();
const timingOf = (arn: string) => {
  let timing = timings.get(arn);
  if (!timing) timings.set(arn, (timing = { runAt: Number.NaN, committed: new Map(), published: new Map() }));
  return timing;
};

interface WriteItem {
  readonly op: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  readonly key: string;
  readonly kind: string;
  readonly putBytes?: number;
}
/** Write request items of the measured phase, for the WCU estimate (sizes partly from the stream). */
let phaseWrites: { item: WriteItem; tx: boolean; previousBytes?: number }[] = [];
const lastPutBytes = new Map<string, number>();
/** Largest image per item key seen in the stream: the size DynamoDB charges an Update/Delete for. */
const streamBytes = new Map<string, number>();
/** Estimated GSI write units and RCUs of the measured phase. */
let gsiUnits = new Tally();
let readUnits = new Tally();

const writeItemsOf = (command: string, input: Doc): WriteItem[] | undefined =>
  writeRequestsOf(command, input)?.map(({ op, key, item }) => ({
    op,
    key: `${key.pk}|${key.sk}`,
    kind: itemKind(key.pk, key.sk),
    putBytes: item ? docBytes(item) : undefined,
  }));

/** Read units of a read call's answer: 4 KB per unit per item (Query: summed), half for eventual reads. */
function readUnitsOf(command: string, input: Doc, output: Doc): number {
  const units = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
  const items = (list: unknown) => ((list as Doc[] | undefined) ?? []).map(docBytes);
  switch (command) {
    case 'GetItem':
      return units(output.Item ? docBytes(output.Item as Doc) : 0) * (input.ConsistentRead ? 1 : 0.5);
    case 'Query':
    case 'Scan':
      return units(items(output.Items).reduce((a, b) => a + b, 0)) * (input.ConsistentRead ? 1 : 0.5);
    case 'BatchGetItem':
      return Object.values((output.Responses as Record<string, Doc[]>) ?? {})
        .flatMap((list) => items(list))
        .reduce((sum, bytes) => sum + units(bytes), 0);
    case 'TransactGetItems':
      return items(((output.Responses as Doc[]) ?? []).map((r) => r.Item).filter(Boolean)).reduce((s, b) => s + 2 * units(b), 0);
    default:
      return 0;
  }
}

/** What a read call reads, by item kind (` task`, ` assignment`, ...), for the per-kind counts. */
function readTarget(command: string, input: Doc): string {
  if (command === 'GetItem') {
    const key = input.Key as Doc;
    return ` ${itemKind(String(key.pk), String(key.sk))}`;
  }
  if (command === 'Query') {
    const values = (input.ExpressionAttributeValues ?? {}) as Doc;
    const partition = String(values[':p'] ?? values[':pk'] ?? '');
    const prefix = String(values[':prefix'] ?? '');
    const kind = input.IndexName ? `${input.IndexName}` : itemKind(partition, prefix || 'x');
    return ` ${kind === 'other' ? partition.replace(/[#:].*$/, '') : kind}${input.FilterExpression ? ' (filtered)' : ''}`;
  }
  if (command === 'BatchGetItem') {
    const keys = Object.values(input.RequestItems as Record<string, { Keys: Doc[] }>)[0]?.Keys ?? [];
    return keys[0] ? ` ${itemKind(String(keys[0].pk), String(keys[0].sk))}` : '';
  }
  return '';
}

/**
 * Hops of the one-at-a-time phase, for "where the time goes": what happened when (performance.now()).
 * One task is in flight then, so each hop after a task's RunTask is that task's.
 */
const marks: { readonly what: string; readonly at: number }[] = [];
let tracing = false;
const mark = (what: string) => {
  if (tracing) marks.push({ what, at: performance.now() });
};

let measuring = false;
const waiters = new Set<() => void>();
const notify = () => {
  for (const waiter of [...waiters]) waiter();
};

/** Counts every call on Berth's document client; notes when a task status is committed. */
function countingMiddleware() {
  return (next: (args: { input: unknown }) => Promise<{ output: unknown }>, context: { commandName?: string }) =>
    async (args: { input: unknown }) => {
      const command = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      const input = args.input as Doc;
      const items = writeItemsOf(command, input);
      if (!items) {
        const what = readTarget(command, input);
        tally.add(`read.${command}${what}`);
        const result = await next(args);
        if (measuring) readUnits.add(`${command}${what}`, readUnitsOf(command, input, (result as { output: Doc }).output ?? {}));
        return result;
      }
      const tx = command === 'TransactWriteItems';
      tally.add(`write.call.${command}`);
      for (const item of items) tally.add(`write.item.${item.kind}`);
      let ok = false;
      try {
        const result = await next(args);
        ok = true;
        return result;
      } catch (error) {
        tally.add('write.failed');
        throw error;
      } finally {
        const now = performance.now();
        for (const item of items) {
          if (measuring) phaseWrites.push({ item, tx, previousBytes: lastPutBytes.get(item.key) });
          if (ok && item.putBytes !== undefined) lastPutBytes.set(item.key, item.putBytes);
        }
        if (ok) {
          const puts = tx
            ? (input.TransactItems as Doc[]).map((entry) => (entry.Put as Doc | undefined)?.Item as Doc | undefined)
            : [input.Item as Doc | undefined];
          for (const put of puts) {
            if (put?.kind !== 'task') continue;
            const doc = taskOfItem(put);
            const timing = timingOf(doc.taskArn);
            if (!timing.committed.has(doc.lastStatus)) {
              timing.committed.set(doc.lastStatus, now);
              if (tracing) marks.push({ what: `${doc.lastStatus} committed`, at: now });
            }
          }
        }
      }
    };
}

function countingPublisher(sink: EventPublisher): EventPublisher {
  return {
    async publish(events: readonly BerthEvent[]) {
      await sink.publish(events);
      const now = performance.now();
      tally.add('event.publish-calls');
      for (const event of events) {
        const isTask = event['detail-type'] === TASK_STATE_CHANGE;
        tally.add(`event.entry.${event['detail-type']}`);
        if (isTask) {
          const detail = event.detail as { taskArn: string; lastStatus: string };
          const timing = timingOf(detail.taskArn);
          if (!timing.published.has(detail.lastStatus)) timing.published.set(detail.lastStatus, now);
        }
      }
      notify();
    },
  };
}

/**
 * Index writes of one stream record under the index's projection (DynamoDB's rules: an index entry is
 * written when the item enters, leaves or changes its index keys, or changes a projected attribute;
 * a key change is a delete plus a put). Entry size: the projected attributes plus the keys.
 */
function indexWrites(oldImage: Doc | undefined, newImage: Doc | undefined): number[] {
  const { listIndex } = TABLE_SCHEMA;
  const inIndex = (image?: Doc) => image !== undefined && image[listIndex.partitionKey] !== undefined;
  const keyNames: string[] = [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey, listIndex.partitionKey, listIndex.sortKey];
  const projection = listIndex.projection as { type: string; attributes?: readonly string[] };
  const projected = (image: Doc) =>
    Object.fromEntries(
      Object.entries(image).filter(
        ([name]) => keyNames.includes(name) || projection.type === 'ALL' || (projection.type === 'INCLUDE' && projection.attributes!.includes(name)),
      ),
    );
  const entryBytes = (image: Doc) => itemAttributeBytes(projected(image)) + 100;
  const units = (image: Doc) => Math.max(1, Math.ceil(entryBytes(image) / 1024));
  const was = inIndex(oldImage);
  const is = inIndex(newImage);
  if (!was && !is) return [];
  if (!was) return [units(newImage!)];
  if (!is) return [units(oldImage!)];
  const keysMoved = keyNames.slice(2).some((name) => JSON.stringify(oldImage![name]) !== JSON.stringify(newImage![name]));
  if (keysMoved) return [units(oldImage!), units(newImage!)];
  const same = JSON.stringify(projected(oldImage!)) === JSON.stringify(projected(newImage!));
  return same ? [] : [Math.max(units(oldImage!), units(newImage!))];
}

function countingStreamHandler(handle: (records: StreamRecord[]) => Promise<BatchResult>) {
  return async (records: StreamRecord[]): Promise<BatchResult> => {
    tally.add('stream.batches');
    tally.add('stream.records', records.length);
    for (const record of records) {
      const status = (image?: Doc) => ((image?.doc as { M?: Record<string, { S?: string }> } | undefined)?.M?.lastStatus?.S);
      const now = status(record.dynamodb?.NewImage as Doc | undefined);
      if (now && now !== status(record.dynamodb?.OldImage as Doc | undefined)) mark(`stream record ${now} handed to the processor`);
      const keys = (record.dynamodb as { Keys?: Record<string, { S?: string }> } | undefined)?.Keys;
      const pk = keys?.pk?.S ?? '';
      const sk = keys?.sk?.S ?? '';
      const kind = itemKind(pk, sk);
      tally.add(`stream.record.${kind}`);
      const oldImage = record.dynamodb?.OldImage as Doc | undefined;
      const newImage = record.dynamodb?.NewImage as Doc | undefined;
      const bytes = Math.max(0, ...[oldImage, newImage].filter(Boolean).map((image) => itemAttributeBytes(image!)));
      streamBytes.set(`${pk}|${sk}`, Math.max(streamBytes.get(`${pk}|${sk}`) ?? 0, bytes));
      if (measuring) for (const units of indexWrites(oldImage, newImage)) gsiUnits.add(kind, units);
    }
    try {
      const result = await handle(records);
      if (result.batchItemFailures.length) tally.add('stream.failed-batches');
      return result;
    } finally {
      notify();
    }
  };
}

/**
 * API requests by operation (X-Amz-Target), the ECS client's and the embedded agent's alike: both call
 * Berth's HTTP server in this process. Counted where Node's HTTP servers emit 'request', because the
 * local runtime has no request seam; only this bench's process is patched.
 */
function countApiRequests() {
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (this: http.Server, event: string, ...args: unknown[]) {
    if (event === 'request') {
      const target = String((args[0] as http.IncomingMessage).headers['x-amz-target'] ?? 'other');
      const operation = target.replace(/^.*\./, '');
      tally.add(`api.${operation}`);
      if (operation === 'PollAssignments' || operation === 'SubmitTaskStateChange') {
        mark(`${operation} request received`);
        (args[1] as http.ServerResponse).once('finish', () => mark(`${operation} answered`));
      }
    }
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  } as typeof emit;
}

/**
 * DynamoDB Streams calls (the local stream poller's; it has its own client, which the runtime's
 * instrument seam does not reach): by command, and GetRecords by whether it returned records. They
 * cost DynamoDB Local CPU like table calls do. Counted on the client's send, patched in this bench's
 * process only.
 */
function countStreamCalls() {
  const send = DynamoDBStreamsClient.prototype.send;
  DynamoDBStreamsClient.prototype.send = async function (this: DynamoDBStreamsClient, ...args: unknown[]) {
    const command = (args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
    tally.add(`streams.call.${command}`);
    const output = await (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    if (command === 'GetRecords') {
      const records = (output as { Records?: unknown[] }).Records?.length ?? 0;
      tally.add(records ? 'streams.getrecords.with-records' : 'streams.getrecords.empty');
    }
    return output;
  } as typeof send;
}

/**
 * Agent channel notifications (docs/agent-channel.md): each is a WebSocket message in AWS; one that
 * carries its assignment needs no fetch (PollAssignments, counted with the API requests). Counted on the
 * local channel's notify, patched in this bench's process only.
 */
function countAgentNotifications() {
  const notify = LocalAgentChannel.prototype.notify;
  LocalAgentChannel.prototype.notify = function (this: LocalAgentChannel, ...args: Parameters<typeof notify>) {
    tally.add('agent.notifications');
    return notify.apply(this, args);
  };
}

/**
 * Marks the hops inside the runtime the bench has no seam for: the agent channel's notification and
 * the agent's process start (the embedded agent's runtime, patched on this instance only).
 */
function traceAgentHops(harness: BerthLocal) {
  const channel = harness.agentChannel;
  const notifyAgent = channel.notify.bind(channel);
  channel.notify = (message) => {
    mark('agent notified');
    return notifyAgent(message);
  };
  const runtime = (harness.agent as unknown as { options?: { runtime?: ContainerRuntime } } | undefined)?.options?.runtime;
  if (!runtime) return;
  const start = runtime.start.bind(runtime);
  runtime.start = async (...args) => {
    mark('process start begun');
    const container = await start(...args);
    mark('process started');
    return container;
  };
}

/**
 * DynamoDB Local's threads by what they do (HotSpot and Jetty thread names): the JIT compilers' share
 * is work a long-running JVM stops doing, request handling and SQLite are what each call costs.
 */
function jvmThreadGroup(name: string): string {
  if (/^C[12] CompilerThre/.test(name)) return 'JIT compilers (C1, C2)';
  if (/^qtp/.test(name)) return 'HTTP request threads (Jetty)';
  if (/^SQLiteQueue/.test(name)) return 'SQLite queue';
  if (/^(GC Thread|G1 |VM Thread)/.test(name)) return 'GC and VM';
  return 'other';
}

function waitUntil(check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (!check()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${WAIT_TIMEOUT_MS} ms waiting for ${what}`));
    }, WAIT_TIMEOUT_MS);
    const poll = setInterval(attempt, 100);
    const cleanup = () => {
      clearTimeout(timer);
      clearInterval(poll);
      waiters.delete(attempt);
    };
    waiters.add(attempt);
    attempt();
  });
}

/** Waits until no stream batch, write or event has happened for `quietMs`. */
async function waitQuiet(quietMs = 500, maxMs = 30_000) {
  const signature = () => `${tally.get('stream.records')}|${tally.sum('write.call.')}|${tally.sum('event.')}`;
  const started = performance.now();
  let last = signature();
  let since = started;
  while (performance.now() - since < quietMs && performance.now() - started < maxMs) {
    await sleep(50);
    const now = signature();
    if (now !== last) [last, since] = [now, performance.now()];
  }
}

// ---------------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------------

const problems: string[] = [];
const quietLogger = {
  info: () => undefined,
  warn: (...args: unknown[]) => problems.push(`warn: ${args.map(String).join(' ')}`),
  error: (...args: unknown[]) => problems.push(`error: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`),
};

async function main() {
  console.log('Berth saturation benchmark');
  console.log(`  date       ${new Date().toISOString()}`);
  console.log(`  node       ${process.version} (${platform()} ${release()} ${arch()}), ${cpus().length} x ${cpus()[0]?.model ?? '?'}`);
  console.log(`  load avg   ${load()} (1/5/15 min) at start; the machine may be shared with other work`);
  console.log(`  plan       ${WARMUP} warm-up, ${SEQUENTIAL} one at a time, N=${N} by RunTask count ${RUN_COUNT} from ${CALLERS} callers`);
  console.log(`  gsi1       projection ${JSON.stringify(TABLE_SCHEMA.listIndex.projection)}`);
  countApiRequests();
  countAgentNotifications();
  countStreamCalls();
  let harness: BerthLocal | undefined;
  let ecs: ECSClient | undefined;
  const stop = async () => {
    ecs?.destroy();
    const running = harness;
    harness = undefined;
    await running?.stop();
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().finally(() => process.exit(143)));
  try {
    harness = await startBerthLocal({
      inMemory: true,
      port: 0,
      logger: quietLogger,
      // Ample capacity: every task of the run fits at once (256 CPU units, 512 MiB each).
      fargatePool: { cpu: 256 * (N + WARMUP) * 4, memory: 512 * (N + WARMUP) * 4 },
      instrument: {
        documentClient: (doc) => doc.middlewareStack.add(countingMiddleware() as never, { step: 'initialize', name: 'berthSaturationCounter' }),
        publisher: countingPublisher,
        streamHandler: countingStreamHandler,
      },
    });
    const jvmCpuMs = processCpuReader(harness.dynamoDb.pid) ?? (() => Number.NaN);
    traceAgentHops(harness);
    const client = (ecs = new ECSClient({
      endpoint: harness.url,
      region: DEFAULT_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    }));
    await client.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const { taskDefinition } = await client.send(
      new RegisterTaskDefinitionCommand({
        family: 'saturation',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'main', image: 'busybox', command: ['true'] }],
      }),
    );
    const runInput = (count: number): RunTaskCommandInput => ({
      cluster: CLUSTER,
      taskDefinition: taskDefinition!.taskDefinitionArn!,
      launchType: 'FARGATE',
      count,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
    });
    /** Starts `total` tasks by RunTask count `count` from `callers` callers; resolves with their ARNs. */
    const launch = async (total: number, count: number, callers: number) => {
      const arns: string[] = [];
      await runCalls(
        async (index) => {
          const n = Math.min(count, total - index * count);
          const runAt = performance.now();
          const out = await client.send(new RunTaskCommand(runInput(n)));
          if (out.failures?.length || out.tasks?.length !== n) throw new Error(`RunTask failed: ${JSON.stringify(out.failures)}`);
          for (const task of out.tasks) {
            timingOf(task.taskArn!).runAt = runAt;
            arns.push(task.taskArn!);
          }
        },
        { calls: Math.ceil(total / count), concurrency: callers },
      );
      if (arns.length !== total) throw new Error(`only ${arns.length} of ${total} tasks started`);
      return arns;
    };
    const allStopped = (arns: readonly string[], what: string) =>
      waitUntil(() => arns.every((arn) => timings.get(arn)?.published.has('STOPPED')), what);

    const t0 = performance.now();
    await allStopped(await launch(WARMUP, RUN_COUNT, CALLERS), 'warm-up tasks STOPPED');
    await waitQuiet();
    console.log(`\nwarm-up: ${WARMUP} lifecycles in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const sequential: string[] = [];
    const beforeSequential = tally.snapshot();
    tracing = true;
    for (let i = 0; i < SEQUENTIAL; i++) {
      const [arn] = await launch(1, 1, 1);
      await allStopped([arn], `${arn} STOPPED`);
      sequential.push(arn);
      await waitQuiet(200);
    }

    tracing = false;
    const sequentialCounts = tally.snapshot().since(beforeSequential);

    // Saturation.
    const profiler = CPU_PROFILE ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const before = tally.snapshot();
    const jvmBefore = jvmCpuMs();
    const jvmThreads = threadCpuReader(harness.dynamoDb.pid, jvmThreadGroup);
    const jvmThreadsBefore = jvmThreads?.();
    const cpuBefore = process.cpuUsage();
    measuring = true;
    phaseWrites = [];
    gsiUnits = new Tally();
    readUnits = new Tally();
    const started = performance.now();
    const arns = await launch(N, RUN_COUNT, CALLERS);
    const accepted = performance.now();
    const progress = setInterval(() => {
      const stopped = arns.filter((arn) => timings.get(arn)?.published.has('STOPPED')).length;
      console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s: ${stopped}/${N} STOPPED (load ${load()})`);
    }, 30_000);
    await allStopped(arns, `${N} tasks STOPPED`).finally(() => clearInterval(progress));
    const lastStopped = Math.max(...arns.map((arn) => timings.get(arn)!.published.get('STOPPED')!));
    await waitQuiet();
    measuring = false;
    const counts = tally.snapshot().since(before);
    const cpu = process.cpuUsage(cpuBefore);
    const nodeMs = (cpu.user + cpu.system) / 1000;
    const jvmMs = jvmCpuMs() - jvmBefore;
    const jvmThreadsAfter = jvmThreads?.();
    const jvmByThread = new Tally();
    for (const [group, ms] of jvmThreadsAfter ?? []) jvmByThread.add(group, ms - (jvmThreadsBefore?.get(group) ?? 0));
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(CPU_PROFILE!, JSON.stringify(profile));
      profiler.disconnect();
      console.log(`\nCPU profile of the saturation phase: ${CPU_PROFILE} (the profiler's own overhead is in the Node CPU figure)`);
    }

    // Raw PutItem of a real (STOPPED) task item, on the same JVM, as the floor.
    const raw = createLocalDocumentClient(harness.dynamoDb.endpoint);
    const [prefix, cluster, id] = arns[0].split('/');
    const clusterArn = `${prefix.replace(/:task$/, ':cluster')}/${cluster}`;
    const { Item } = await raw.send(new GetCommand({ TableName: 'berth', Key: taskKey(clusterArn, id), ConsistentRead: true }));
    if (!Item) throw new Error('no task item to copy');
    const rawJvmBefore = jvmCpuMs();
    const rawStarted = performance.now();
    // Kind `copy` (as long as `task`): the stream processor leaves the copies alone.
    await runCalls((i) => raw.send(new PutCommand({ TableName: 'berth', Item: { ...Item, pk: 'RAWBENCH', sk: `RAW#${i}`, kind: 'copy' } })), {
      calls: RAW_PUTS,
      concurrency: 8,
    });
    const rawWallMs = performance.now() - rawStarted;
    const rawJvmPerPut = (jvmCpuMs() - rawJvmBefore) / RAW_PUTS;
    raw.destroy();

    report({ arns, sequential, sequentialCounts, jvmByThread, counts, started, accepted, lastStopped, nodeMs, jvmMs, rawJvmPerPut, rawWallMs, taskItemBytes: docBytes(Item) });
    if (problems.length) {
      console.log(`\n${problems.length} warnings/errors logged by Berth; the first ones:`);
      for (const problem of problems.slice(0, 5)) console.log(`  ${problem.slice(0, 300)}`);
    }
    console.log(`\nload avg   ${load()} (1/5/15 min) at end`);
  } finally {
    await stop();
  }
}

interface Report {
  arns: string[];
  sequential: string[];
  sequentialCounts: Tally;
  jvmByThread: Tally;
  counts: Tally;
  started: number;
  accepted: number;
  lastStopped: number;
  nodeMs: number;
  jvmMs: number;
  rawJvmPerPut: number;
  rawWallMs: number;
  taskItemBytes: number;
}

function report(r: Report) {
  const n = r.arns.length;
  const per = (value: number, digits = 2) => (value / n).toFixed(digits);
  const sorted = (values: number[]) => values.filter(Number.isFinite).sort((a, b) => a - b);
  const since = (arns: string[], status: string, how: 'committed' | 'published') =>
    sorted(arns.map((arn) => timings.get(arn)!).map((t) => (t[how].get(status) ?? Number.NaN) - t.runAt));
  const latencyRow = (name: string, values: number[]) => [
    name,
    String(values.length),
    formatMs(percentile(values, 50)),
    formatMs(percentile(values, 90)),
    formatMs(percentile(values, 99)),
    formatMs(values[values.length - 1]),
  ];
  const wallS = (r.lastStopped - r.started) / 1000;
  console.log(`\nSaturation: ${n} lifecycles, RunTask of all accepted in ${((r.accepted - r.started) / 1000).toFixed(1)} s, last STOPPED after ${wallS.toFixed(1)} s`);
  console.log(`  ==> ${(n / wallS).toFixed(1)} lifecycles/s (RunTask -> STOPPED event)`);
  console.log('\nLatency from RunTask sent (ms; "committed": in DynamoDB, "event": in the events file)');
  console.log(
    table(
      ['', 'N', 'p50', 'p90', 'p99', 'max'],
      [
        latencyRow('one at a time: RUNNING committed', since(r.sequential, 'RUNNING', 'committed')),
        latencyRow('one at a time: RUNNING event', since(r.sequential, 'RUNNING', 'published')),
        latencyRow('one at a time: STOPPED event', since(r.sequential, 'STOPPED', 'published')),
        latencyRow('saturation: RUNNING committed', since(r.arns, 'RUNNING', 'committed')),
        latencyRow('saturation: RUNNING event', since(r.arns, 'RUNNING', 'published')),
        latencyRow('saturation: STOPPED event', since(r.arns, 'STOPPED', 'published')),
      ],
    ),
  );

  console.log(`\nOne at a time, where the time goes (p50 over ${r.sequential.length} tasks; ms since RunTask sent, and since the hop before)`);
  console.log(table(['hop', 'N', 'p50 since RunTask', 'p50 since previous hop'], hopRows(r.sequential)));

  const c = r.counts;
  const rows: [string, string][] = [];
  const add = (name: string, value: number, digits = 2) => rows.push([name, per(value, digits)]);
  add('DynamoDB write calls', c.sum('write.call.'));
  for (const key of c.keys('write.call.')) add(`  ${key.slice(11)}`, c.get(key));
  add('  failed (condition/conflict)', c.get('write.failed'));
  add('write request items', c.sum('write.item.'));
  for (const key of c.keys('write.item.')) add(`  ${key.slice(11)}`, c.get(key));
  const wcu = writeUnits();
  add('WCU, table (estimate)', wcu.sum(''));
  for (const key of wcu.keys()) add(`  ${key}`, wcu.get(key));
  add('WCU, gsi1 (estimate)', gsiUnits.sum(''));
  for (const key of gsiUnits.keys()) add(`  ${key}`, gsiUnits.get(key));
  add('DynamoDB read calls', c.sum('read.'));
  for (const key of c.keys('read.')) add(`  ${key.slice(5)}`, c.get(key));
  add('RCU (estimate; a filtered Query is sized by what it returns, so low)', readUnits.sum(''));
  for (const key of readUnits.keys()) add(`  ${key}`, readUnits.get(key));
  add('stream records', c.get('stream.records'));
  for (const key of c.keys('stream.record.')) add(`  ${key.slice(14)}`, c.get(key));
  add('stream batches (Lambda invocations)', c.get('stream.batches'));
  add('  failed batches (retried)', c.get('stream.failed-batches'));
  add('events (PutEvents entries)', c.sum('event.entry.'));
  for (const key of c.keys('event.entry.')) add(`  ${key.slice(12)}`, c.get(key));
  add('event publish calls (PutEvents calls, at most 10 entries each)', c.get('event.publish-calls'));
  add('API requests', c.sum('api.'));
  for (const key of c.keys('api.')) add(`  ${key.slice(4)}`, c.get(key));
  add('agent channel notifications (WebSocket messages in AWS)', c.get('agent.notifications'));
  add('DynamoDB Streams calls (the local poller)', c.sum('streams.call.'));
  for (const key of c.keys('streams.call.')) add(`  ${key.slice(13)}`, c.get(key));
  add('  GetRecords that returned no records', c.get('streams.getrecords.empty'));
  add('Node CPU ms (client, API, processor, agent)', r.nodeMs, 1);
  add('JVM CPU ms (DynamoDB Local)', r.jvmMs, 1);
  for (const key of r.jvmByThread.keys()) add(`  ${key}`, r.jvmByThread.get(key), 1);
  console.log(`\nPer lifecycle (saturation phase totals / ${n}):`);
  console.log(table(['per lifecycle', 'count'], rows));
  const s = r.sequentialCounts;
  const perSequential = (value: number) => (value / Math.max(1, r.sequential.length)).toFixed(2);
  console.log(
    `\nOne at a time, per lifecycle (${r.sequential.length} tasks, with the bench's 200 ms quiet wait after each): ` +
      `DynamoDB calls ${perSequential(s.sum('write.call.') + s.sum('read.'))}, stream records ${perSequential(s.get('stream.records'))}, ` +
      `stream batches ${perSequential(s.get('stream.batches'))}, DynamoDB Streams calls ${perSequential(s.sum('streams.call.'))} (` +
      s.keys('streams.call.').map((key) => `${key.slice(13)} ${perSequential(s.get(key))}`).join(', ') +
      `; GetRecords with no records ${perSequential(s.get('streams.getrecords.empty'))})`,
  );
  const jvmPerLifecycle = r.jvmMs / n;
  console.log(
    `\nRaw PutItem of a task item (${r.taskItemBytes} bytes), ${RAW_PUTS} at 8 in flight on the same JVM: ` +
      `${r.rawJvmPerPut.toFixed(3)} JVM CPU ms each, ${((RAW_PUTS * 1000) / r.rawWallMs).toFixed(0)}/s`,
  );
  console.log(`  ==> JVM CPU per lifecycle / per raw PutItem: ${(jvmPerLifecycle / r.rawJvmPerPut).toFixed(1)}`);
  console.log(
    `\nFor docs/cost.md, per lifecycle: WCU ${per(wcu.sum('') + gsiUnits.sum(''))}, RCU ${per(readUnits.sum(''))}, ` +
      `stream batches ${per(c.get('stream.batches'))}, events ${per(c.sum('event.entry.'))}, ` +
      `PutEvents calls ${per(c.get('event.publish-calls'))}, API requests ${per(c.sum('api.'))}, ` +
      `agent notifications ${per(c.get('agent.notifications'))}`,
  );
}

/** The hops of a lifecycle up to RUNNING, in the order they happen. */
const HOPS = [
  'PROVISIONING committed',
  'stream record PROVISIONING handed to the processor',
  'PENDING committed',
  'stream record PENDING handed to the processor',
  'agent notified',
  'PollAssignments request received',
  'PollAssignments answered',
  'SubmitTaskStateChange request received',
  'ACTIVATING committed',
  'SubmitTaskStateChange answered',
  'process start begun',
  'process started',
  'RUNNING committed',
  'stream record RUNNING handed to the processor',
];

/** For each hop, its first mark after each task's RunTask (and after the hop before), as p50s. */
function hopRows(arns: readonly string[]): string[][] {
  const sinceRun = HOPS.map(() => [] as number[]);
  const sincePrevious = HOPS.map(() => [] as number[]);
  for (const arn of arns) {
    const runAt = timings.get(arn)!.runAt;
    let previous = runAt;
    HOPS.forEach((hop, i) => {
      const found = marks.find((m) => m.what === hop && m.at >= previous);
      if (!found) return;
      sinceRun[i].push(found.at - runAt);
      sincePrevious[i].push(found.at - previous);
      previous = found.at;
    });
  }
  const p50 = (values: number[]) => formatMs(percentile([...values].sort((a, b) => a - b), 50));
  return HOPS.map((hop, i) => [hop, String(sinceRun[i].length), p50(sinceRun[i]), p50(sincePrevious[i])]);
}

/**
 * Table write units of the measured writes by item kind: 1 per KB (rounded up) per item, 2 per KB in
 * a transaction; a Put is sized by the larger of the new item and the one it replaced, an
 * Update/Delete/ConditionCheck by the item's largest stream image. Failed writes count (DynamoDB
 * charges them).
 */
function writeUnits(): Tally {
  const units = new Tally();
  for (const { item, tx, previousBytes } of phaseWrites) {
    const bytes = item.op === 'Put' ? Math.max(item.putBytes ?? 0, previousBytes ?? 0) : (streamBytes.get(item.key) ?? 0);
    units.add(item.kind, Math.max(1, Math.ceil(bytes / 1024)) * (tx ? 2 : 1));
  }
  return units;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * Berth lifecycle benchmark: whole Fargate tasks on Berth local (in memory) with the embedded agent,
 * RunTask -> RUNNING -> StopTask -> STOPPED, first one task at a time, then 5 at a time. It measures
 *
 * - latency: RunTask -> RUNNING and StopTask -> STOPPED, both when the status is committed to
 *   DynamoDB (from then on DescribeTasks shows it) and when its event is in the events file;
 * - what one task costs in AWS terms: DynamoDB writes (-> WCUs), stream batches handed to the stream
 *   processor (-> Lambda invocations) and events published (-> PutEvents entries).
 *
 * It assembles Berth local itself, exactly as src/local/berth-local.ts does, so it can count: a
 * middleware on the one document client Berth uses sees every DynamoDB call (the ECS API, the stream
 * processor, the placement sweep); the stream handler is wrapped to count batches and records; the
 * event sink is wrapped to time and count events. Nothing is polled: the bench waits for each task's
 * RUNNING and STOPPED events as they are appended, then checks them once with DescribeTasks.
 *
 * Performance is measured and printed, never asserted. Run: `npm run bench`. Results: docs/benchmarks.md.
 */
import '../src/local/quiet-node-version-warning';
import { cpus, loadavg, platform, release, arch, totalmem } from 'node:os';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import type { BerthEvent, EventPublisher } from '../src/app/event-publisher';
import type { BatchResult, StreamRecord } from '../src/app/stream-processor';
import { TABLE_SCHEMA } from '../src/adapters/dynamodb/table-schema';
import { taskOfItem } from '../src/adapters/dynamodb/task-item';
import { TASK_STATE_CHANGE } from '../src/domain/task-events';
import { DEFAULT_REGION, startBerthLocal, type BerthLocal } from '../src/local/berth-local';
import {
  formatMs,
  itemAttributeBytes,
  percentile,
  processCpuReader,
  runCalls,
  Samples,
  summarize,
  table,
  Tally,
} from './stats';
import { docBytes, itemKind, writeRequestsOf, type Doc } from './table-writes';

/** Measured task lifecycles per phase. */
const N = 30;
const CONCURRENCY = 5;
/** Unmeasured lifecycles first (JIT of the JVM and of Node, first process spawns). */
const WARMUP_TASKS = 3;
/** The idle window that measures what Berth does with no task (the agent's long poll, the sweep). */
const IDLE_MS = 3_000;
/** After a task, wait until nothing has happened for this long (trailing stream records). */
const QUIET_MS = 200;
const WAIT_TIMEOUT_MS = 30_000;

const CLUSTER = 'lifecycle';
const FAMILY = 'lifecycle';
const RUN_PATH = ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING'] as const;
const STOP_PATH = ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'] as const;

// ---------------------------------------------------------------------------------------------------
// What the bench observes
// ---------------------------------------------------------------------------------------------------

type Phase = 'setup' | 'warm-up' | 'idle' | 'sequential' | `c=${number}`;
let phase: Phase = 'setup';
const tally = new Tally();

interface TaskTiming {
  runAt?: number;
  runAckAt?: number;
  stopAt?: number;
  stopAckAt?: number;
  /** performance.now() when a task item with this lastStatus was first written successfully. */
  readonly committed: Map<string, number>;
  /** performance.now() when the task's event with this lastStatus was appended (and fsynced). */
  readonly published: Map<string, number>;
  events: number;
  stoppedReason?: string;
}
const timings = new Map<string, TaskTiming>();
const timingOf = (taskArn: string) => {
  let timing = timings.get(taskArn);
  if (!timing) timings.set(taskArn, (timing = { committed: new Map(), published: new Map(), events: 0 }));
  return timing;
};

/** Every write request item, for the WCU estimate at the end (sizes come partly from the stream). */
interface WriteRecord {
  readonly phase: Phase;
  readonly key: string;
  readonly op: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  readonly tx: boolean;
  readonly ok: boolean;
  /** Put only: bytes of the new item and of the item it replaced, if Berth wrote that one too. */
  readonly putBytes?: number;
  readonly previousBytes?: number;
}
const writes: WriteRecord[] = [];
/** Largest image seen in the stream per item key: the size of Update/Delete/ConditionCheck items. */
const streamBytes = new Map<string, number>();
const lastPutBytes = new Map<string, number>();
const gsiKeys = new Set<string>();

/** A readable log of the writes of one task, to show what a lifecycle writes. */
let writeLog: string[] | undefined;
let shownWriteLog: string[] = [];

let inFlight = 0;
const waiters = new Set<() => void>();
const notify = () => {
  for (const waiter of [...waiters]) waiter();
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));


interface WriteItem {
  readonly op: WriteRecord['op'];
  readonly pk: string;
  readonly sk: string;
  readonly item?: Doc;
}
const writeItemsOf = (command: string, input: Doc): WriteItem[] | undefined =>
  writeRequestsOf(command, input)?.map(({ op, key, item }) => ({ op, pk: key.pk, sk: key.sk, item }));


interface TaskStatusFields {
  readonly lastStatus: string;
  readonly desiredStatus: string;
}
/** lastStatus, and desiredStatus where it says the task is on its way down. */
const statusOf = (task: TaskStatusFields) =>
  task.desiredStatus === 'STOPPED' && task.lastStatus !== 'STOPPED' ? `${task.lastStatus} (desired STOPPED)` : task.lastStatus;

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

/** Counts every call on Berth's document client; notes when a task status is committed. */
function countingMiddleware() {
  return (next: (args: { input: unknown }) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: { input: unknown }) => {
      const command = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      const input = args.input as Doc;
      const items = writeItemsOf(command, input);
      if (!items) {
        tally.add(READS.has(command) ? `read.${command}` : `control.${command}`);
        return next(args);
      }
      const tx = command === 'TransactWriteItems';
      tally.add(`write.call.${command}`);
      for (const item of items) {
        tally.add(`write.item.${itemKind(item.pk, item.sk)}`);
        tally.add(tx ? 'write.items-in-tx' : 'write.items-single');
      }
      const putBytes = items.map((item) => (item.item ? docBytes(item.item) : undefined));
      inFlight++;
      let ok = false;
      try {
        const output = await next(args);
        ok = true;
        return output;
      } catch (error) {
        tally.add('write.failed');
        tally.add(`write.failed.${(error as Error).name}`);
        throw error;
      } finally {
        inFlight--;
        const now = performance.now();
        items.forEach((item, index) => {
          const key = `${item.pk}|${item.sk}`;
          writes.push({ phase, key, op: item.op, tx, ok, putBytes: putBytes[index], previousBytes: lastPutBytes.get(key) });
          if (ok && putBytes[index] !== undefined) lastPutBytes.set(key, putBytes[index]!);
          if (ok && item.item?.kind === 'task') {
            const doc = taskOfItem(item.item);
            const timing = timingOf(doc.taskArn);
            if (!timing.committed.has(doc.lastStatus)) timing.committed.set(doc.lastStatus, now);
          }
        });
        if (writeLog) {
          const what = items
            .map((item) => {
              const status = item.item?.kind === 'task' ? ` ${statusOf(item.item.doc as TaskStatusFields)}` : '';
              return `${item.op} ${itemKind(item.pk, item.sk)}${status}`;
            })
            .join(', ');
          writeLog.push(`${tx ? `TransactWriteItems(${items.length})` : command}: ${what}${ok ? '' : ' -- failed'}`);
        }
        notify();
      }
    };
}

/** The event sink, timed: an event counts once it is appended to the events file. */
function countingPublisher(sink: EventPublisher): EventPublisher {
  return {
    async publish(events: readonly BerthEvent[]) {
      await sink.publish(events);
      const now = performance.now();
      tally.add('event.publish-calls');
      for (const event of events) {
        const taskEvent = event['detail-type'] === TASK_STATE_CHANGE;
        tally.add(taskEvent ? 'event.task' : 'event.container-instance');
        if (taskEvent) {
          const detail = event.detail as { taskArn: string; lastStatus: string; stoppedReason?: string };
          const timing = timingOf(detail.taskArn);
          timing.events++;
          if (!timing.published.has(detail.lastStatus)) timing.published.set(detail.lastStatus, now);
          timing.stoppedReason ??= detail.stoppedReason;
        }
        writeLog?.push(
          `  event: ${event['detail-type']}${taskEvent ? ` ${statusOf(event.detail as unknown as TaskStatusFields)}` : ''}`,
        );
      }
      notify();
    },
  };
}

/** Resolves with check()'s first defined value, re-checked on every write and event. */
function waitUntil<T>(check: () => T | undefined, what: string, timeoutMs = WAIT_TIMEOUT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      waiters.delete(attempt);
    };
    const attempt = () => {
      try {
        const value = check();
        if (value === undefined) return;
        done();
        resolve(value);
      } catch (error) {
        done();
        reject(error);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    waiters.add(attempt);
    attempt();
  });
}

/** Waits until no stream record, write or event has happened for `quietMs`. */
async function waitQuiet(quietMs = QUIET_MS, maxMs = 15_000): Promise<void> {
  const signature = () =>
    `${tally.get('stream.records')}|${tally.sum('write.call.')}|${tally.sum('event.')}|${inFlight}|${tally.get('stream.handling')}|${tally.get('stream.handled')}`;
  const started = performance.now();
  let last = signature();
  let since = started;
  while (performance.now() - since < quietMs && performance.now() - started < maxMs) {
    await sleep(20);
    const now = signature();
    if (now !== last) {
      last = now;
      since = performance.now();
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Berth local, assembled as in src/local/berth-local.ts
// ---------------------------------------------------------------------------------------------------

const problems: string[] = [];
const quietLogger = {
  info: () => undefined,
  warn: (...args: unknown[]) => problems.push(`warn: ${args.map(String).join(' ')}`),
  error: (...args: unknown[]) => problems.push(`error: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`),
};

/** Counts the stream batches and records the handler gets, and what they hold. */
function countingStreamHandler(
  handle: (records: StreamRecord[]) => Promise<BatchResult>,
): (records: StreamRecord[]) => Promise<BatchResult> {
  return async (records) => {
    tally.add('stream.batches');
    tally.add('stream.records', records.length);
    tally.add('stream.handling');
    for (const record of records) {
      const keys = (record.dynamodb as { Keys?: Record<string, { S?: string }> } | undefined)?.Keys;
      const pk = keys?.pk?.S ?? '';
      const sk = keys?.sk?.S ?? '';
      const key = `${pk}|${sk}`;
      tally.add(`stream.record.${itemKind(pk, sk)}`);
      const images = [record.dynamodb?.NewImage, record.dynamodb?.OldImage].filter(Boolean) as Record<string, unknown>[];
      const bytes = Math.max(0, ...images.map((image) => itemAttributeBytes(image)));
      streamBytes.set(key, Math.max(streamBytes.get(key) ?? 0, bytes));
      if (images.some((image) => image.gsi1pk !== undefined)) gsiKeys.add(key);
    }
    try {
      const result = await handle(records);
      if (result.batchItemFailures.length) tally.add('stream.failed-batches');
      return result;
    } finally {
      tally.add('stream.handled');
      notify();
    }
  };
}

/** Berth local exactly as `npm start` assembles it, with counters on its seams. */
function startHarness(): Promise<BerthLocal> {
  return startBerthLocal({
    inMemory: true,
    port: 0,
    logger: quietLogger,
    instrument: {
      documentClient: (doc) =>
        doc.middlewareStack.add(countingMiddleware() as never, { step: 'initialize', name: 'berthBenchCounter' }),
      publisher: countingPublisher,
      streamHandler: countingStreamHandler,
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------------

interface LifecycleSample {
  readonly taskArn: string;
  readonly runTaskMs: number;
  readonly runningCommittedMs: number;
  readonly runningEventMs: number;
  readonly stopTaskMs: number;
  readonly stoppedCommittedMs: number;
  readonly stoppedEventMs: number;
  readonly totalMs: number;
}

interface PhaseResult {
  readonly name: Phase;
  readonly samples: LifecycleSample[];
  readonly lifecycles: Samples;
  readonly counts: Tally;
  readonly wallMs: number;
  readonly nodeCpuMs: number;
  readonly jvmCpuMs: number;
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');

async function main() {
  const cpu = cpus();
  console.log('Berth lifecycle benchmark');
  console.log(`  date       ${new Date().toISOString()}`);
  console.log(`  node       ${process.version} (${platform()} ${release()} ${arch()})`);
  console.log(`  cpus       ${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`);
  console.log(`  memory     ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
  console.log(`  load avg   ${load()} (1/5/15 min) at start`);
  console.log(
    `  plan       ${WARMUP_TASKS} warm-up tasks, ${IDLE_MS / 1000} s idle, N=${N} tasks one at a time, ` +
      `N=${N} tasks ${CONCURRENCY} at a time`,
  );
  console.log('');

  const started = performance.now();
  let harness: BerthLocal | undefined;
  let ecs: ECSClient | undefined;
  const stop = async () => {
    ecs?.destroy();
    const running = harness;
    harness = undefined;
    await running?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = performance.now();
    harness = await startHarness();
    console.log(
      `Berth local up in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
        `(DynamoDB Local pid ${harness.dynamoDb.pid}, ${harness.url}, agent ${harness.agent?.containerInstanceArn})`,
    );
    const jvmCpuMs = processCpuReader(harness.dynamoDb.pid);
    ecs = new ECSClient({
      endpoint: harness.url,
      region: DEFAULT_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const client = ecs;

    await client.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const { taskDefinition } = await client.send(
      new RegisterTaskDefinitionCommand({
        family: FAMILY,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          {
            name: 'main',
            image: 'busybox',
            command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'],
            stopTimeout: 2,
          },
        ],
      }),
    );
    const runInput = {
      cluster: CLUSTER,
      taskDefinition: taskDefinition!.taskDefinitionArn!,
      launchType: 'FARGATE' as const,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
    };
    await waitQuiet();

    let describeChecks = 0;
    const describe = async (taskArn: string) => {
      describeChecks++;
      const { tasks, failures } = await client.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }));
      if (!tasks?.[0] || failures?.length) throw new Error(`DescribeTasks did not find ${taskArn}`);
      return tasks[0];
    };

    /** One whole lifecycle; resolves once STOPPED is committed, published and shown by DescribeTasks. */
    const lifecycle = async (): Promise<LifecycleSample> => {
      const runAt = performance.now();
      const out = await client.send(new RunTaskCommand(runInput));
      const runAckAt = performance.now();
      const taskArn = out.tasks?.[0]?.taskArn;
      if (!taskArn || out.failures?.length) throw new Error(`RunTask failed: ${JSON.stringify(out.failures)}`);
      const timing = timingOf(taskArn);
      Object.assign(timing, { runAt, runAckAt });
      await waitUntil(() => {
        if (timing.published.has('RUNNING')) return true;
        if (timing.published.has('STOPPED')) throw new Error(`${taskArn} stopped before RUNNING: ${timing.stoppedReason}`);
        return undefined;
      }, `${taskArn} RUNNING`);
      const running = await describe(taskArn);
      if (running.lastStatus !== 'RUNNING') throw new Error(`DescribeTasks says ${running.lastStatus} after the RUNNING event`);

      const stopAt = performance.now();
      await client.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn, reason: 'benchmark' }));
      const stopAckAt = performance.now();
      Object.assign(timing, { stopAt, stopAckAt });
      await waitUntil(() => (timing.published.has('STOPPED') ? true : undefined), `${taskArn} STOPPED`);
      const stopped = await describe(taskArn);
      if (stopped.lastStatus !== 'STOPPED') throw new Error(`DescribeTasks says ${stopped.lastStatus} after the STOPPED event`);
      return {
        taskArn,
        runTaskMs: runAckAt - runAt,
        runningCommittedMs: timing.committed.get('RUNNING')! - runAt,
        runningEventMs: timing.published.get('RUNNING')! - runAt,
        stopTaskMs: stopAckAt - stopAt,
        stoppedCommittedMs: timing.committed.get('STOPPED')! - stopAt,
        stoppedEventMs: timing.published.get('STOPPED')! - stopAt,
        totalMs: timing.published.get('STOPPED')! - runAt,
      };
    };

    const runPhase = async (name: Phase, concurrency: number, quietBetween: boolean): Promise<PhaseResult> => {
      phase = name;
      const samples: LifecycleSample[] = [];
      const lifecycles = new Samples();
      const before = tally.snapshot();
      const describesBefore = describeChecks;
      const jvmBefore = jvmCpuMs?.() ?? 0;
      const cpuBefore = process.cpuUsage();
      const phaseStarted = performance.now();
      await runCalls(
        async (index) => {
          if (quietBetween && index === 0 && name === 'sequential') writeLog = [];
          samples.push(await lifecycle());
          if (quietBetween) {
            await waitQuiet();
            if (writeLog && name === 'sequential') {
              shownWriteLog = writeLog;
              writeLog = undefined;
            }
          }
        },
        { calls: N, concurrency, into: lifecycles },
      );
      await waitQuiet();
      const wallMs = performance.now() - phaseStarted;
      const cpu = process.cpuUsage(cpuBefore);
      const counts = tally.snapshot().since(before);
      // The bench's own DescribeTasks checks are 1 GetItem (cluster) + 1 BatchGetItem each: not Berth's work.
      const checks = describeChecks - describesBefore;
      counts.add('read.GetItem', -checks);
      counts.add('read.BatchGetItem', -checks);
      for (const error of lifecycles.errors ? [lifecycles.firstError] : []) {
        console.log(`  ${name}: ${lifecycles.errors} failed lifecycles, first: ${(error as Error)?.message ?? String(error)}`);
      }
      console.log(`  ${name}: ${samples.length} lifecycles in ${(wallMs / 1000).toFixed(1)} s`);
      return {
        name,
        samples,
        lifecycles,
        counts,
        wallMs,
        nodeCpuMs: (cpu.user + cpu.system) / 1000,
        jvmCpuMs: (jvmCpuMs?.() ?? 0) - jvmBefore,
      };
    };

    // Warm-up: not measured.
    phase = 'warm-up';
    const tw = performance.now();
    await runCalls(lifecycle, { calls: WARMUP_TASKS });
    await waitQuiet();
    console.log(`Warm-up (${WARMUP_TASKS} lifecycles) done in ${((performance.now() - tw) / 1000).toFixed(1)} s`);

    // Idle: what Berth does with no task at all, per second.
    phase = 'idle';
    const idleBefore = tally.snapshot();
    await sleep(IDLE_MS);
    const idle = tally.snapshot().since(idleBefore);

    const sequential = await runPhase('sequential', 1, true);
    const concurrent = await runPhase(`c=${CONCURRENCY}`, CONCURRENCY, false);
    report([sequential, concurrent], idle);
    if (problems.length) {
      console.log(`\n${problems.length} warnings/errors logged by Berth; the first ones:`);
      for (const problem of problems.slice(0, 5)) console.log(`  ${problem.slice(0, 300)}`);
    }
    console.log(`\nload avg   ${load()} (1/5/15 min) at end`);
  } finally {
    const ts = performance.now();
    await stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    console.log(
      `Berth, its agent's tasks and DynamoDB Local stopped in ${((performance.now() - ts) / 1000).toFixed(1)} s; ` +
        `total ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
}

/**
 * Estimated write units of a phase's writes, by item kind: 1 per KB (rounded up) per item, 2 per KB
 * inside a transaction, plus 1 per KB on the GSI for items that carry its keys (projection ALL).
 * Failed writes count too: DynamoDB charges for them.
 */
function writeUnits(phaseName: Phase): Tally {
  const units = new Tally();
  for (const write of writes) {
    if (write.phase !== phaseName) continue;
    const [pk, sk] = write.key.split('|');
    const kind = itemKind(pk, sk);
    const bytes =
      write.op === 'Put'
        ? Math.max(write.putBytes ?? 0, write.previousBytes ?? 0)
        : write.op === 'Delete' || write.op === 'ConditionCheck' || write.op === 'Update'
          ? (streamBytes.get(write.key) ?? 0)
          : 0;
    const kb = Math.max(1, Math.ceil(bytes / 1024));
    units.add(`table.${kind}`, kb * (write.tx ? 2 : 1));
    // Only under an ALL projection does every write of a listed item rewrite its index copy;
    // bench/saturation.bench.ts sizes index writes by the projection, from the stream images.
    if (gsiKeys.has(write.key) && TABLE_SCHEMA.listIndex.projection.type === 'ALL') units.add(`gsi.${kind}`, kb);
    if (kind === 'task' && write.op === 'Put' && write.putBytes) units.add(`task-bytes.${write.putBytes}`);
  }
  return units;
}

function report(phases: readonly PhaseResult[], idle: Tally) {
  const ms = (values: number[]) => summarize(values, 0);
  console.log('\nLatency per task (ms). "committed": the status is in DynamoDB, so DescribeTasks shows it;');
  console.log('"event": its ECS Task State Change event is appended to the events file.');
  for (const p of phases) {
    const rows: [string, number[]][] = [
      ['RunTask call', p.samples.map((s) => s.runTaskMs)],
      ['RunTask -> RUNNING committed', p.samples.map((s) => s.runningCommittedMs)],
      ['RunTask -> RUNNING event', p.samples.map((s) => s.runningEventMs)],
      ['StopTask call', p.samples.map((s) => s.stopTaskMs)],
      ['StopTask -> STOPPED committed', p.samples.map((s) => s.stoppedCommittedMs)],
      ['StopTask -> STOPPED event', p.samples.map((s) => s.stoppedEventMs)],
      ['whole lifecycle (RunTask -> STOPPED event)', p.samples.map((s) => s.totalMs)],
    ];
    console.log(`\n${p.name === 'sequential' ? 'One task at a time' : `${CONCURRENCY} tasks at a time`} (${p.samples.length} tasks, ${p.lifecycles.errors} failed, ${(p.wallMs / 1000).toFixed(1)} s, ${((p.samples.length * 1000) / p.wallMs).toFixed(2)} tasks/s):`);
    console.log(
      table(
        ['', 'N', 'p50', 'p90', 'p99', 'mean', 'min', 'max'],
        rows.map(([name, values]) => {
          const s = ms(values);
          return [name, String(s.count), formatMs(s.p50Ms), formatMs(s.p90Ms), formatMs(s.p99Ms), formatMs(s.meanMs), formatMs(s.minMs), formatMs(s.maxMs)];
        }),
      ),
    );
    const arns = new Set(p.samples.map((s) => s.taskArn));
    const timed = [...timings.entries()].filter(([arn]) => arns.has(arn)).map(([, t]) => t);
    const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
    const statusRow = (status: string, from: 'runAt' | 'stopAt') => {
      const committed = timed.filter((t) => t.committed.has(status) && t[from] !== undefined).map((t) => t.committed.get(status)! - t[from]!);
      const lag = timed.filter((t) => t.committed.has(status) && t.published.has(status)).map((t) => t.published.get(status)! - t.committed.get(status)!);
      return [`${status}`, from === 'runAt' ? 'RunTask' : 'StopTask', formatMs(median(committed)), formatMs(median(lag)), formatMs(percentile([...lag].sort((a, b) => a - b), 99))];
    };
    console.log(`\n  median time of each status, ${p.name}:`);
    console.log(
      table(
        ['status', 'since', 'committed p50', 'event lag p50', 'event lag p99'],
        [...RUN_PATH.map((s) => statusRow(s, 'runAt')), ...STOP_PATH.map((s) => statusRow(s, 'stopAt'))],
      )
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n'),
    );
  }

  console.log('\nPer task (phase totals / tasks). A stream batch is one handler invocation (one Lambda invocation');
  console.log('in AWS); an event is one PutEvents entry. WCU: ceil(item KB) per item, doubled inside a transaction.');
  const perTask = (p: PhaseResult, value: number) => (p.samples.length ? (value / p.samples.length).toFixed(2) : '-');
  const keysOf = (prefix: string) => [...new Set(phases.flatMap((p) => p.counts.keys(prefix)))];
  const units = new Map(phases.map((p) => [p.name, writeUnits(p.name)]));
  const unitKeys = [...new Set(phases.flatMap((p) => [...units.get(p.name)!.keys('table.'), ...units.get(p.name)!.keys('gsi.')]))];
  const rows: [string, (p: PhaseResult) => number][] = [
    ['DynamoDB write calls', (p) => p.counts.sum('write.call.')],
    ...keysOf('write.call.').map((k): [string, (p: PhaseResult) => number] => [`  ${k.slice('write.call.'.length)}`, (p) => p.counts.get(k)]),
    ['  failed (condition/conflict)', (p) => p.counts.get('write.failed')],
    ['write request items', (p) => p.counts.sum('write.item.')],
    ...keysOf('write.item.').map((k): [string, (p: PhaseResult) => number] => [`  ${k.slice('write.item.'.length)}`, (p) => p.counts.get(k)]),
    ['  of them in transactions', (p) => p.counts.get('write.items-in-tx')],
    ['WCU (estimate)', (p) => units.get(p.name)!.sum('table.') + units.get(p.name)!.sum('gsi.')],
    ...unitKeys.map((k): [string, (p: PhaseResult) => number] => [`  ${k.replace('table.', '').replace(/^gsi\.(.*)$/, '$1 (GSI)')}`, (p) => units.get(p.name)!.get(k)]),
    ['stream records', (p) => p.counts.get('stream.records')],
    ...keysOf('stream.record.').map((k): [string, (p: PhaseResult) => number] => [`  ${k.slice('stream.record.'.length)}`, (p) => p.counts.get(k)]),
    ['stream batches (Lambda invocations)', (p) => p.counts.get('stream.batches')],
    ['  failed batches (retried)', (p) => p.counts.get('stream.failed-batches')],
    ['events (PutEvents entries)', (p) => p.counts.sum('event.task') + p.counts.sum('event.container-instance')],
    ['  ECS Task State Change', (p) => p.counts.get('event.task')],
    ['  ECS Container Instance State Change', (p) => p.counts.get('event.container-instance')],
    ['DynamoDB read calls (incl. agent long poll)', (p) => p.counts.sum('read.')],
    ...keysOf('read.').map((k): [string, (p: PhaseResult) => number] => [`  ${k.slice('read.'.length)}`, (p) => p.counts.get(k)]),
    ['Node CPU ms (client, API, processor, agent)', (p) => p.nodeCpuMs],
    ['JVM CPU ms (DynamoDB Local)', (p) => p.jvmCpuMs],
  ];
  console.log(table(['per task', ...phases.map((p) => p.name)], rows.map(([name, value]) => [name, ...phases.map((p) => perTask(p, value(p)))])));
  const eventsPerTask = phases.map((p) => {
    const arns = new Set(p.samples.map((s) => s.taskArn));
    const counts = [...timings.entries()].filter(([arn]) => arns.has(arn)).map(([, t]) => t.events);
    return `${p.name}: ${Math.min(...counts)}-${Math.max(...counts)}`;
  });
  console.log(`task events per task (min-max): ${eventsPerTask.join(', ')}`);
  const taskBytes = phases.flatMap((p) =>
    units.get(p.name)!.keys('task-bytes.').flatMap((k) => Array<number>(units.get(p.name)!.get(k)).fill(Number(k.slice(11)))),
  );
  const sortedBytes = taskBytes.sort((a, b) => a - b);
  console.log(
    `task item size written (bytes, DynamoDB sizing): min ${sortedBytes[0]}, p50 ${percentile(sortedBytes, 50)}, max ${sortedBytes[sortedBytes.length - 1]}`,
  );

  if (shownWriteLog.length) {
    console.log('\nOne task, one at a time: every DynamoDB write and event, in order');
    for (const line of shownWriteLog) console.log(`  ${line}`);
  }

  const perSecond = (value: number) => ((value * 1000) / IDLE_MS).toFixed(1);
  console.log(
    `\nIdle, no task (${IDLE_MS / 1000} s): ${perSecond(idle.sum('read.'))} read calls/s ` +
      `(${idle.keys('read.').map((k) => `${k.slice(5)} ${perSecond(idle.get(k))}`).join(', ')}), ` +
      `${perSecond(idle.sum('write.call.'))} write calls/s, ${perSecond(idle.get('stream.batches'))} stream batches/s, ` +
      `${perSecond(idle.sum('event.'))} events/s`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

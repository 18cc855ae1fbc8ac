/**
 * Berth API benchmark: RunTask and DescribeTasks through the real ECS SDK against Berth local (in
 * memory), next to raw DynamoDB calls on the same DynamoDB Local, so the ratio Berth/raw shows how
 * much of a call is DynamoDB and how much is Berth (HTTP, SDK, protocol, use case).
 *
 * DynamoDB Local is a JVM that keeps getting faster for thousands of calls (JIT), so measuring one
 * case after the other would favour whatever runs last. Instead every case is warmed up first and
 * then measured in interleaved rounds (the order reversed every other round), and each case's samples
 * are pooled over the rounds.
 *
 * Performance is measured and printed, never asserted. Run: `npm run bench`. Results: docs/benchmarks.md.
 */
import '../src/local/quiet-node-version-warning';
import { randomUUID } from 'node:crypto';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { startBerthLocal, DEFAULT_REGION, type BerthLocal } from '../src/local/berth-local';
import { createLocalDocumentClient } from '../src/adapters/dynamodb/document-client';
import { clusterKey, revisionKey, runTaskTokenKey, taskKey } from '../src/adapters/dynamodb/keys';
import { DEFAULT_TABLE_NAME } from '../src/adapters/dynamodb/table-schema';
import { handleEcsRequest } from '../src/api/ecs-protocol';
import { TARGET_PREFIX } from '../src/api/ecs-model';
import { describeTasks, runTask } from '../src/app/tasks';
import type { RequestContext } from '../src/app/context';
import { formatMs, formatRate, processCpuReader, ratio, runCalls, Samples, table } from './stats';

/** Measured calls per case (split over the rounds). */
const N = 200;
/** Measured calls of the in-process layer cases, which only split Berth's time into parts. */
const N_LAYERS = 100;
const ROUNDS = 5;
/** Unmeasured calls per case before measuring, after a first pass that warms up the JVM. */
const WARMUP = 20;
const WARMUP_PASSES = 2;
const CONCURRENCY = 8;
const TASKS_PER_RUN = 10;
const DESCRIBE_BATCH = 100;

const TABLE = DEFAULT_TABLE_NAME;
const CLUSTER = 'bench';
const FAMILY = 'bench';

interface Case {
  readonly name: string;
  readonly section: 'Berth via ECS SDK over HTTP' | 'Berth in-process (no HTTP, no SDK)' | 'raw DynamoDB document client';
  readonly call: (index: number) => Promise<unknown>;
  readonly concurrency: number;
  /** Tasks started or read per call, for the items/s column. */
  readonly itemsPerCall?: number;
  readonly calls: number;
  readonly samples: Samples;
}

/** Approximate DynamoDB item size: attribute names plus values, the way DynamoDB counts them. */
function itemBytes(value: unknown, name = ''): number {
  const own = Buffer.byteLength(name);
  if (value === null || value === undefined || typeof value === 'boolean') return own + 1;
  if (typeof value === 'string') return own + Buffer.byteLength(value);
  if (typeof value === 'number') return own + Math.ceil(String(value).length / 2) + 1;
  if (Array.isArray(value)) return own + 3 + value.reduce<number>((sum, v) => sum + 1 + itemBytes(v), 0);
  if (typeof value === 'object') {
    return own + 3 + Object.entries(value as Record<string, unknown>).reduce((sum, [k, v]) => sum + 1 + itemBytes(v, k), 0);
  }
  return own;
}


const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');

function printMachine() {
  const cpu = cpus();
  console.log('Berth API benchmark');
  console.log(`  date       ${new Date().toISOString()}`);
  console.log(`  node       ${process.version} (${platform()} ${release()} ${arch()})`);
  console.log(`  cpus       ${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`);
  console.log(`  memory     ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
  console.log(`  load avg   ${load()} (1/5/15 min) at start`);
  console.log(
    `  plan       N=${N} per case (in-process layers N=${N_LAYERS}) in ${ROUNDS} interleaved rounds, ` +
      `warm-up ${WARMUP_PASSES} x ${WARMUP} calls per case, concurrency 1 and ${CONCURRENCY}`,
  );
  console.log('');
}

async function main() {
  printMachine();
  const started = performance.now();
  let berth: BerthLocal | undefined;
  let ecs: ECSClient | undefined;
  let raw: DynamoDBDocumentClient | undefined;
  const stop = async () => {
    ecs?.destroy();
    raw?.destroy();
    const running = berth;
    berth = undefined;
    await running?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = performance.now();
    berth = await startBerthLocal({ inMemory: true, port: 0 });
    console.log(`Berth local up in ${((performance.now() - t0) / 1000).toFixed(1)} s (DynamoDB Local pid ${berth.dynamoDb.pid}, ${berth.url})`);
    const jvmCpuMs = processCpuReader(berth.dynamoDb.pid);

    // maxAttempts 1: every measured ECS call is exactly one HTTP request; failures are counted, not retried.
    ecs = new ECSClient({
      endpoint: berth.url,
      region: DEFAULT_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    // The client configuration Berth itself uses, as a separate instance (own connections).
    raw = createLocalDocumentClient(berth.dynamoDb.endpoint);
    const ctx: RequestContext = { ...berth.context, scope: { account: berth.context.account, region: DEFAULT_REGION } };

    // ---- Setup: a cluster, an EC2 task definition, 100 tasks to describe ----
    const { cluster } = await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const clusterArn = cluster!.clusterArn!;
    const { taskDefinition } = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: FAMILY,
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [
          { name: 'app', image: 'public.ecr.aws/docker/library/busybox:latest', memory: 128, essential: true },
        ],
      }),
    );
    const taskDefinitionArn = taskDefinition!.taskDefinitionArn!;
    // The ECS SDK fills in RunTask's clientToken (an idempotency token) when the caller gives none, so
    // over HTTP every RunTask carries one; the in-process cases pass one too, to do the same work.
    const runInput = { cluster: CLUSTER, taskDefinition: taskDefinitionArn, count: TASKS_PER_RUN, launchType: 'EC2' as const };
    const describeArns: string[] = [];
    while (describeArns.length < DESCRIBE_BATCH) {
      const out = await ecs.send(new RunTaskCommand(runInput));
      describeArns.push(...out.tasks!.map((task) => task.taskArn!));
    }
    const describeInput = { cluster: CLUSTER, tasks: describeArns.slice(0, DESCRIBE_BATCH) };

    // Raw items are clones of a real task item under other keys, so sizes and shapes match Berth's.
    const taskIdOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
    const taskKeys = describeInput.tasks.map((arn) => taskKey(clusterArn, taskIdOf(arn)));
    const { Item: template } = await raw.send(new GetCommand({ TableName: TABLE, Key: taskKeys[0], ConsistentRead: true }));
    if (!template) throw new Error('cannot read a task item for the raw baseline');
    const taskItemBytes = itemBytes(template);
    const rawPk = `BENCH#${randomUUID()}`;
    const rawItem = (sk: string) => ({ ...template, pk: rawPk, sk });
    const counterKey = { pk: rawPk, sk: 'COUNTER' };
    await raw.send(new PutCommand({ TableName: TABLE, Item: { ...counterKey, doc: { status: 'ACTIVE' }, pendingEc2: 0 } }));
    let sequence = 0;
    const nextSk = () => `ITEM#${String(sequence++).padStart(9, '0')}`;
    const conditionalPut = (Item: Record<string, unknown>) => ({
      Put: { TableName: TABLE, Item, ConditionExpression: 'attribute_not_exists(pk)' },
    });
    const tdKey = revisionKey(ctx.scope, FAMILY, taskDefinition!.revision!);
    const consistentGet = (Key: Record<string, unknown>) =>
      raw!.send(new GetCommand({ TableName: TABLE, Key, ConsistentRead: true }));
    const batchGet100 = async () => {
      let keys: Record<string, unknown>[] = taskKeys;
      let found = 0;
      while (keys.length) {
        const out = await raw!.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: keys, ConsistentRead: true } } }));
        found += out.Responses?.[TABLE]?.length ?? 0;
        keys = (out.UnprocessedKeys?.[TABLE]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
      if (found !== DESCRIBE_BATCH) throw new Error(`BatchGetItem found ${found} items`);
    };
    const elevenPuts = () =>
      raw!.send(new TransactWriteCommand({ TransactItems: Array.from({ length: 11 }, () => conditionalPut(rawItem(nextSk()))) }));
    // What RunTask with a clientToken does to DynamoDB: read cluster, token (absent), task definition
    // revision; then one transaction: ADD to the cluster counters, 10 task puts, the token put.
    const rawRunTask = async () => {
      const token = randomUUID();
      await consistentGet(clusterKey(clusterArn));
      await consistentGet(runTaskTokenKey(rawPk, token));
      await consistentGet(tdKey);
      const tasks = Array.from({ length: TASKS_PER_RUN }, () => rawItem(nextSk()));
      await raw!.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: TABLE,
                Key: counterKey,
                UpdateExpression: 'ADD pendingEc2 :d',
                ConditionExpression: '#doc.#status = :active',
                ExpressionAttributeNames: { '#doc': 'doc', '#status': 'status' },
                ExpressionAttributeValues: { ':active': 'ACTIVE', ':d': TASKS_PER_RUN },
              },
            },
            ...tasks.map(conditionalPut),
            conditionalPut({
              ...runTaskTokenKey(rawPk, token),
              kind: 'run-task-token',
              version: 1,
              requestDigest: 'f'.repeat(64),
              taskArns: describeInput.tasks.slice(0, TASKS_PER_RUN),
              expiresAt: Math.floor(Date.now() / 1000) + 86_400,
            }),
          ],
        }),
      );
    };
    // What DescribeTasks does: read the cluster, then one BatchGetItem of the tasks.
    const rawDescribe = async () => {
      await consistentGet(clusterKey(clusterArn));
      await batchGet100();
    };

    const ecsRunTask = async () => {
      const out = await ecs!.send(new RunTaskCommand(runInput));
      if (out.tasks?.length !== TASKS_PER_RUN) throw new Error(`RunTask started ${out.tasks?.length ?? 0} tasks`);
    };
    let describeResponseBytes = 0;
    const ecsDescribe = async () => {
      const out = await ecs!.send(new DescribeTasksCommand(describeInput));
      if (out.tasks?.length !== DESCRIBE_BATCH || out.failures?.length) {
        throw new Error(`DescribeTasks found ${out.tasks?.length ?? 0} tasks, ${out.failures?.length ?? 0} failures`);
      }
      describeResponseBytes ||= Buffer.byteLength(JSON.stringify(out.tasks));
    };
    const protocolCall = (operation: string, input: () => unknown) => async () => {
      const response = await handleEcsRequest(berth!.context, {
        method: 'POST',
        headers: { 'x-amz-target': `${TARGET_PREFIX}.${operation}`, 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify(input()),
        requestId: randomUUID(),
      });
      if (response.statusCode !== 200) throw new Error(`${operation}: ${response.statusCode} ${response.body}`);
    };

    const cases: Case[] = [];
    const add = (
      section: Case['section'],
      name: string,
      call: Case['call'],
      options: { concurrency?: number; itemsPerCall?: number; calls?: number } = {},
    ) =>
      cases.push({
        section,
        name,
        call,
        concurrency: options.concurrency ?? 1,
        itemsPerCall: options.itemsPerCall,
        calls: options.calls ?? N,
        samples: new Samples(),
      });
    const HTTP = 'Berth via ECS SDK over HTTP' as const;
    const LAYER = 'Berth in-process (no HTTP, no SDK)' as const;
    const RAW = 'raw DynamoDB document client' as const;
    const C = `c=${CONCURRENCY}`;
    add(HTTP, 'RunTask(10)', ecsRunTask, { itemsPerCall: TASKS_PER_RUN });
    add(HTTP, `RunTask(10) ${C}`, ecsRunTask, { concurrency: CONCURRENCY, itemsPerCall: TASKS_PER_RUN });
    add(HTTP, 'DescribeTasks(100)', ecsDescribe, { itemsPerCall: DESCRIBE_BATCH });
    add(HTTP, `DescribeTasks(100) ${C}`, ecsDescribe, { concurrency: CONCURRENCY, itemsPerCall: DESCRIBE_BATCH });
    add(HTTP, 'DescribeClusters(1)', () => ecs!.send(new DescribeClustersCommand({ clusters: [CLUSTER] })));
    add(LAYER, 'RunTask(10) protocol+use case', protocolCall('RunTask', () => ({ ...runInput, clientToken: randomUUID() })), {
      itemsPerCall: TASKS_PER_RUN,
      calls: N_LAYERS,
    });
    add(LAYER, 'RunTask(10) use case', () => runTask(ctx, { ...runInput, clientToken: randomUUID() }), {
      itemsPerCall: TASKS_PER_RUN,
      calls: N_LAYERS,
    });
    add(LAYER, 'DescribeTasks(100) protocol+use case', protocolCall('DescribeTasks', () => describeInput), {
      itemsPerCall: DESCRIBE_BATCH,
      calls: N_LAYERS,
    });
    add(LAYER, 'DescribeTasks(100) use case', () => describeTasks(ctx, describeInput), {
      itemsPerCall: DESCRIBE_BATCH,
      calls: N_LAYERS,
    });
    add(RAW, 'PutItem (1 task item)', () => raw!.send(new PutCommand({ TableName: TABLE, Item: rawItem(nextSk()) })));
    add(RAW, 'GetItem (consistent)', () => consistentGet(taskKeys[0]));
    add(RAW, 'BatchGetItem(100) (consistent)', batchGet100, { itemsPerCall: DESCRIBE_BATCH });
    add(RAW, `BatchGetItem(100) ${C}`, batchGet100, { concurrency: CONCURRENCY, itemsPerCall: DESCRIBE_BATCH });
    add(RAW, 'TransactWriteItems(11 puts)', elevenPuts, { itemsPerCall: TASKS_PER_RUN });
    add(RAW, `TransactWriteItems(11 puts) ${C}`, elevenPuts, { concurrency: CONCURRENCY, itemsPerCall: TASKS_PER_RUN });
    add(RAW, 'RunTask-equivalent (3 Get + Tx 12)', rawRunTask, { itemsPerCall: TASKS_PER_RUN });
    add(RAW, `RunTask-equivalent ${C}`, rawRunTask, { concurrency: CONCURRENCY, itemsPerCall: TASKS_PER_RUN });
    add(RAW, 'DescribeTasks-equivalent (Get + BatchGet 100)', rawDescribe, { itemsPerCall: DESCRIBE_BATCH });

    // ---- Warm-up, then interleaved measured rounds ----
    const tw = performance.now();
    for (let pass = 0; pass < WARMUP_PASSES; pass++) {
      for (const c of cases) await runCalls(c.call, { calls: WARMUP, concurrency: c.concurrency });
    }
    console.log(`Warm-up done in ${((performance.now() - tw) / 1000).toFixed(1)} s; measuring ${ROUNDS} rounds...`);
    for (let round = 0; round < ROUNDS; round++) {
      const tr = performance.now();
      const order = round % 2 === 0 ? cases : [...cases].reverse();
      for (const c of order) {
        await runCalls(c.call, {
          calls: Math.ceil(c.calls / ROUNDS),
          concurrency: c.concurrency,
          into: c.samples,
          jvmCpuMs,
        });
      }
      console.log(`  round ${round + 1}/${ROUNDS}: ${((performance.now() - tr) / 1000).toFixed(1)} s`);
    }
    for (const c of cases.filter((c) => c.samples.errors)) {
      console.log(`  ${c.name}: ${c.samples.errors} errors, first: ${String((c.samples.firstError as Error)?.message ?? c.samples.firstError)}`);
    }

    // ---- Report ----
    const summaryOf = new Map(cases.map((c) => [c.name, c.samples.summary()]));
    const s = (name: string) => summaryOf.get(name)!;
    const perCall = (ms: number, c: Case) => formatMs(ms / Math.max(1, c.samples.latenciesMs.length + c.samples.errors));
    console.log(`\nAll figures: latency per call; items = tasks started or read; CPU = CPU time per call of this Node`);
    console.log(`process (ECS client, Berth server, use cases) and of the DynamoDB Local JVM.`);
    for (const section of [HTTP, LAYER, RAW]) {
      console.log(`\n${section}:`);
      console.log(
        table(
          ['operation', 'N', 'conc', 'p50 ms', 'p99 ms', 'mean ms', 'calls/s', 'items/s', 'node CPU ms', 'JVM CPU ms', 'err'],
          cases
            .filter((c) => c.section === section)
            .map((c) => {
              const summary = s(c.name);
              return [
                c.name,
                String(summary.count + summary.errors),
                String(c.concurrency),
                formatMs(summary.p50Ms),
                formatMs(summary.p99Ms),
                formatMs(summary.meanMs),
                formatRate(summary.callsPerSecond),
                c.itemsPerCall ? formatRate(summary.callsPerSecond * c.itemsPerCall) : '',
                perCall(c.samples.nodeCpuMs, c),
                jvmCpuMs ? perCall(c.samples.jvmCpuMs, c) : '-',
                String(summary.errors),
              ];
            }),
        ),
      );
    }

    const comparisons: [string, string][] = [
      ['RunTask(10)', 'TransactWriteItems(11 puts)'],
      ['RunTask(10)', 'RunTask-equivalent (3 Get + Tx 12)'],
      [`RunTask(10) ${C}`, `TransactWriteItems(11 puts) ${C}`],
      [`RunTask(10) ${C}`, `RunTask-equivalent ${C}`],
      ['RunTask(10) use case', 'RunTask-equivalent (3 Get + Tx 12)'],
      ['DescribeTasks(100)', 'BatchGetItem(100) (consistent)'],
      ['DescribeTasks(100)', 'DescribeTasks-equivalent (Get + BatchGet 100)'],
      [`DescribeTasks(100) ${C}`, `BatchGetItem(100) ${C}`],
      ['DescribeTasks(100) use case', 'DescribeTasks-equivalent (Get + BatchGet 100)'],
      ['DescribeClusters(1)', 'GetItem (consistent)'],
    ];
    const caseOf = new Map(cases.map((c) => [c.name, c]));
    const cpuPerCall = (name: string, which: 'node' | 'jvm' | 'both') => {
      const c = caseOf.get(name)!;
      const calls = Math.max(1, c.samples.latenciesMs.length + c.samples.errors);
      const node = c.samples.nodeCpuMs / calls;
      const jvm = c.samples.jvmCpuMs / calls;
      return which === 'node' ? node : which === 'jvm' ? jvm : node + jvm;
    };
    console.log('\nRatio Berth/raw (latency and CPU: > 1 means Berth takes more; calls/s: < 1 means Berth does fewer).');
    console.log('CPU = Node + JVM CPU time per call, the figure least disturbed by other load on the machine.\n');
    console.log(
      table(
        ['Berth', 'raw baseline', 'p50 x', 'p99 x', 'calls/s x', 'CPU x'],
        comparisons.map(([berthName, rawName]) => {
          const b = s(berthName);
          const r = s(rawName);
          return [
            berthName,
            rawName,
            ratio(b.p50Ms, r.p50Ms).toFixed(2),
            ratio(b.p99Ms, r.p99Ms).toFixed(2),
            ratio(b.callsPerSecond, r.callsPerSecond).toFixed(2),
            jvmCpuMs ? ratio(cpuPerCall(berthName, 'both'), cpuPerCall(rawName, 'both')).toFixed(2) : '-',
          ];
        }),
      ),
    );

    const layers: [string, string, string][] = [
      ['DynamoDB calls only (raw equivalent)', 'RunTask-equivalent (3 Get + Tx 12)', 'DescribeTasks-equivalent (Get + BatchGet 100)'],
      ['+ use case (Berth code)', 'RunTask(10) use case', 'DescribeTasks(100) use case'],
      ['+ protocol (JSON, validate, toWire)', 'RunTask(10) protocol+use case', 'DescribeTasks(100) protocol+use case'],
      ['+ HTTP and ECS SDK (both ends)', 'RunTask(10)', 'DescribeTasks(100)'],
    ];
    console.log('\nWhere the time of one sequential call goes (each layer includes the ones above it):\n');
    console.log(
      table(
        ['layer', 'RunTask p50', 'node CPU', 'JVM CPU', 'DescribeTasks p50', 'node CPU', 'JVM CPU'],
        layers.map(([layer, run, describe]) => [
          layer,
          formatMs(s(run).p50Ms),
          formatMs(cpuPerCall(run, 'node')),
          jvmCpuMs ? formatMs(cpuPerCall(run, 'jvm')) : '-',
          formatMs(s(describe).p50Ms),
          formatMs(cpuPerCall(describe, 'node')),
          jvmCpuMs ? formatMs(cpuPerCall(describe, 'jvm')) : '-',
        ]),
      ),
    );
    console.log('(all in ms per call)');
    console.log(
      `\nSizes: task item ~${taskItemBytes} B in DynamoDB (${Buffer.byteLength(JSON.stringify(template))} B as JSON); ` +
        `DescribeTasks(100) response ~${Math.round(describeResponseBytes / 1024)} KiB of tasks as JSON.`,
    );
    console.log(`Load average at the end: ${load()} (1/5/15 min).`);
  } finally {
    const t1 = performance.now();
    await stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    console.log(
      `\nBerth and DynamoDB Local stopped in ${((performance.now() - t1) / 1000).toFixed(1)} s; total ${((performance.now() - started) / 1000).toFixed(1)} s.`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

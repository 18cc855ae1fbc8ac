/**
 * Berth API benchmark: RunTask and DescribeTasks through the real ECS SDK against Berth local (in
 * memory), next to raw DynamoDB calls on the same DynamoDB Local, so the ratio Berth/raw shows how
 * much of a call is DynamoDB and how much is Berth (HTTP, SDK, protocol, use case).
 *
 * Performance is measured and printed, never asserted. Run: `npm run bench`. Results: docs/benchmarks.md.
 */
import { cpus, totalmem, platform, release, arch } from 'node:os';
import { randomUUID } from 'node:crypto';
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
import { clusterKey, revisionKey, taskKey } from '../src/adapters/dynamodb/keys';
import { DEFAULT_TABLE_NAME } from '../src/adapters/dynamodb/table-schema';
import { handleEcsRequest } from '../src/api/ecs-protocol';
import { TARGET_PREFIX } from '../src/api/ecs-model';
import { describeTasks, runTask } from '../src/app/tasks';
import type { RequestContext } from '../src/app/context';
import { formatMs, formatRate, measure, ratio, table, type Summary } from './stats';

const N = 200;
const WARMUP = 20;
const CONCURRENCY = 8;
/** Layer breakdown runs (in-process use case, in-process protocol): fewer calls, they only split the time. */
const N_LAYERS = 100;
const TASKS_PER_RUN = 10;
const DESCRIBE_BATCH = 100;

const TABLE = DEFAULT_TABLE_NAME;
const CLUSTER = 'bench';
const FAMILY = 'bench';

interface Row {
  readonly name: string;
  readonly summary: Summary;
  readonly concurrency: number;
  /** Items (tasks) per call, for the items/s column. */
  readonly itemsPerCall?: number;
}

const rows: Row[] = [];
const byName = new Map<string, Row>();

async function bench(
  name: string,
  call: (index: number) => Promise<unknown>,
  options: { calls?: number; concurrency?: number; warmup?: number; itemsPerCall?: number } = {},
): Promise<Row> {
  const concurrency = options.concurrency ?? 1;
  const summary = await measure(call, {
    calls: options.calls ?? N,
    concurrency,
    warmup: options.warmup ?? WARMUP,
  });
  const row: Row = { name, summary, concurrency, itemsPerCall: options.itemsPerCall };
  rows.push(row);
  byName.set(name, row);
  const failed = summary.errors ? `  ERRORS ${summary.errors}: ${String((summary.firstError as Error)?.message ?? summary.firstError)}` : '';
  console.log(
    `  ${name.padEnd(44)} p50 ${formatMs(summary.p50Ms).padStart(6)} ms  p99 ${formatMs(summary.p99Ms).padStart(6)} ms  ` +
      `${formatRate(summary.callsPerSecond).padStart(6)} calls/s${failed}`,
  );
  return row;
}

/** Approximate DynamoDB item size: attribute names plus values, as DynamoDB counts them (close enough). */
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

function printMachine() {
  const cpu = cpus();
  console.log('Berth API benchmark');
  console.log(`  date       ${new Date().toISOString()}`);
  console.log(`  node       ${process.version} (${platform()} ${release()} ${arch()})`);
  console.log(`  cpus       ${cpu.length} x ${cpu[0]?.model ?? 'unknown'}`);
  console.log(`  memory     ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
  console.log(`  calls      N=${N} (layer split N=${N_LAYERS}), warm-up ${WARMUP} calls, concurrency 1 and ${CONCURRENCY}`);
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
    console.log(`Berth local up in ${((performance.now() - t0) / 1000).toFixed(1)} s (DynamoDB Local pid ${berth.dynamoDb.pid}, ${berth.url})\n`);

    // maxAttempts 1: every measured ECS call is exactly one HTTP request; failures are counted, not retried.
    ecs = new ECSClient({
      endpoint: berth.url,
      region: DEFAULT_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    // The same client configuration Berth itself uses, but a separate instance (own sockets).
    raw = createLocalDocumentClient(berth.dynamoDb.endpoint);
    const ctx: RequestContext = { ...berth.context, scope: { account: berth.context.account, region: DEFAULT_REGION } };

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
    const runInput = { cluster: CLUSTER, taskDefinition: taskDefinitionArn, count: TASKS_PER_RUN, launchType: 'EC2' as const };

    // ---- Berth through the ECS SDK over HTTP ----
    console.log('Berth (ECS SDK over HTTP):');
    const started100: string[] = [];
    await bench(
      'RunTask(10)',
      async () => {
        const out = await ecs!.send(new RunTaskCommand(runInput));
        if (out.tasks?.length !== TASKS_PER_RUN) throw new Error(`RunTask started ${out.tasks?.length ?? 0} tasks`);
        if (started100.length < DESCRIBE_BATCH) started100.push(...out.tasks.map((t) => t.taskArn!));
      },
      { itemsPerCall: TASKS_PER_RUN },
    );
    await bench(
      `RunTask(10) c=${CONCURRENCY}`,
      async () => {
        const out = await ecs!.send(new RunTaskCommand(runInput));
        if (out.tasks?.length !== TASKS_PER_RUN) throw new Error(`RunTask started ${out.tasks?.length ?? 0} tasks`);
      },
      { concurrency: CONCURRENCY, itemsPerCall: TASKS_PER_RUN },
    );
    const describeArns = started100.slice(0, DESCRIBE_BATCH);
    let describeResponseBytes = 0;
    await bench(
      'DescribeTasks(100)',
      async () => {
        const out = await ecs!.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: describeArns }));
        if (out.tasks?.length !== DESCRIBE_BATCH || out.failures?.length) {
          throw new Error(`DescribeTasks found ${out.tasks?.length ?? 0} tasks, ${out.failures?.length ?? 0} failures`);
        }
        describeResponseBytes ||= Buffer.byteLength(JSON.stringify(out.tasks));
      },
      { itemsPerCall: DESCRIBE_BATCH },
    );
    await bench(
      `DescribeTasks(100) c=${CONCURRENCY}`,
      () => ecs!.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: describeArns })),
      { concurrency: CONCURRENCY, itemsPerCall: DESCRIBE_BATCH },
    );
    await bench('DescribeClusters(1)', () => ecs!.send(new DescribeClustersCommand({ clusters: [CLUSTER] })));

    // ---- The same work without HTTP and the SDK: where Berth's time goes ----
    console.log('\nBerth in-process (no HTTP, no ECS SDK):');
    const protocolCall = (operation: string, input: unknown) => async () => {
      const response = await handleEcsRequest(berth!.context, {
        method: 'POST',
        headers: { 'x-amz-target': `${TARGET_PREFIX}.${operation}`, 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify(input),
        requestId: randomUUID(),
      });
      if (response.statusCode !== 200) throw new Error(`${operation}: ${response.statusCode} ${response.body}`);
      return response.body;
    };
    await bench('RunTask(10) protocol (JSON, validate, toWire)', protocolCall('RunTask', runInput), {
      calls: N_LAYERS,
      itemsPerCall: TASKS_PER_RUN,
    });
    await bench('RunTask(10) use case only', () => runTask(ctx, runInput), { calls: N_LAYERS, itemsPerCall: TASKS_PER_RUN });
    await bench(
      'DescribeTasks(100) protocol (JSON, validate, toWire)',
      protocolCall('DescribeTasks', { cluster: CLUSTER, tasks: describeArns }),
      { calls: N_LAYERS, itemsPerCall: DESCRIBE_BATCH },
    );
    await bench('DescribeTasks(100) use case only', () => describeTasks(ctx, { cluster: CLUSTER, tasks: describeArns }), {
      calls: N_LAYERS,
      itemsPerCall: DESCRIBE_BATCH,
    });

    // ---- Raw DynamoDB baselines, same DynamoDB Local, same table ----
    const taskIdOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
    const taskKeys = describeArns.map((arn) => taskKey(clusterArn, taskIdOf(arn)));
    const { Item: template } = await raw.send(new GetCommand({ TableName: TABLE, Key: taskKeys[0], ConsistentRead: true }));
    if (!template) throw new Error('cannot read a task item for the raw baseline');
    const taskItemBytes = itemBytes(template);
    // Raw items are real task items under other keys, so sizes and shapes match what Berth writes.
    const rawPk = `BENCH#${randomUUID()}`;
    const rawItem = (sk: string) => ({ ...template, pk: rawPk, sk });
    const counterKey = { pk: rawPk, sk: 'COUNTER' };
    await raw.send(new PutCommand({ TableName: TABLE, Item: { ...counterKey, doc: { status: 'ACTIVE' }, pendingEc2: 0 } }));
    let sequence = 0;
    const nextSk = () => `ITEM#${String(sequence++).padStart(8, '0')}`;
    const conditionalPut = () => ({
      Put: { TableName: TABLE, Item: rawItem(nextSk()), ConditionExpression: 'attribute_not_exists(pk)' },
    });
    // RunTask's transaction shape: one conditional ADD on a counter item + 10 conditional puts.
    const runTaskShapedTransaction = () =>
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
          ...Array.from({ length: TASKS_PER_RUN }, conditionalPut),
        ],
      });
    const elevenPuts = () => new TransactWriteCommand({ TransactItems: Array.from({ length: 11 }, conditionalPut) });
    const getCluster = () => raw!.send(new GetCommand({ TableName: TABLE, Key: clusterKey(clusterArn), ConsistentRead: true }));
    const tdKey = revisionKey(ctx.scope, FAMILY, taskDefinition!.revision!);
    const getTaskDefinition = () => raw!.send(new GetCommand({ TableName: TABLE, Key: tdKey, ConsistentRead: true }));
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

    console.log(`\nRaw DynamoDB (document client, same DynamoDB Local; task item ~${taskItemBytes} bytes):`);
    await bench('PutItem (1 task-sized item)', () => raw!.send(new PutCommand({ TableName: TABLE, Item: rawItem(nextSk()) })));
    await bench('GetItem (consistent)', () =>
      raw!.send(new GetCommand({ TableName: TABLE, Key: taskKeys[0], ConsistentRead: true })),
    );
    await bench('BatchGetItem(100) (consistent)', batchGet100, { itemsPerCall: DESCRIBE_BATCH });
    await bench(`BatchGetItem(100) c=${CONCURRENCY}`, batchGet100, { concurrency: CONCURRENCY, itemsPerCall: DESCRIBE_BATCH });
    await bench('TransactWriteItems(11 puts)', () => raw!.send(elevenPuts()), { itemsPerCall: TASKS_PER_RUN });
    await bench(`TransactWriteItems(11 puts) c=${CONCURRENCY}`, () => raw!.send(elevenPuts()), {
      concurrency: CONCURRENCY,
      itemsPerCall: TASKS_PER_RUN,
    });
    const rawRunTask = async () => {
      await getCluster();
      await getTaskDefinition();
      await raw!.send(runTaskShapedTransaction());
    };
    await bench('RunTask-equivalent (2 Get + Tx 1 upd+10 puts)', rawRunTask, { itemsPerCall: TASKS_PER_RUN });
    await bench(`RunTask-equivalent c=${CONCURRENCY}`, rawRunTask, { concurrency: CONCURRENCY, itemsPerCall: TASKS_PER_RUN });
    const rawDescribe = async () => {
      await getCluster();
      await batchGet100();
    };
    await bench('DescribeTasks-equivalent (Get + BatchGet 100)', rawDescribe, { itemsPerCall: DESCRIBE_BATCH });

    // ---- Report ----
    console.log('\nAll figures (latency per call; items = tasks started or read):\n');
    console.log(
      table(
        ['operation', 'N', 'conc', 'p50 ms', 'p99 ms', 'mean ms', 'calls/s', 'items/s', 'errors'],
        rows.map(({ name, summary, concurrency, itemsPerCall }) => [
          name,
          String(summary.count + summary.errors),
          String(concurrency),
          formatMs(summary.p50Ms),
          formatMs(summary.p99Ms),
          formatMs(summary.meanMs),
          formatRate(summary.callsPerSecond),
          itemsPerCall ? formatRate(summary.callsPerSecond * itemsPerCall) : '',
          String(summary.errors),
        ]),
      ),
    );

    const comparisons: [string, string][] = [
      ['RunTask(10)', 'TransactWriteItems(11 puts)'],
      ['RunTask(10)', 'RunTask-equivalent (2 Get + Tx 1 upd+10 puts)'],
      [`RunTask(10) c=${CONCURRENCY}`, `TransactWriteItems(11 puts) c=${CONCURRENCY}`],
      [`RunTask(10) c=${CONCURRENCY}`, `RunTask-equivalent c=${CONCURRENCY}`],
      ['RunTask(10) use case only', 'RunTask-equivalent (2 Get + Tx 1 upd+10 puts)'],
      ['DescribeTasks(100)', 'BatchGetItem(100) (consistent)'],
      ['DescribeTasks(100)', 'DescribeTasks-equivalent (Get + BatchGet 100)'],
      [`DescribeTasks(100) c=${CONCURRENCY}`, `BatchGetItem(100) c=${CONCURRENCY}`],
      ['DescribeTasks(100) use case only', 'DescribeTasks-equivalent (Get + BatchGet 100)'],
      ['DescribeClusters(1)', 'GetItem (consistent)'],
    ];
    console.log('\nRatio Berth/raw (latency > 1: Berth slower; throughput < 1: Berth fewer calls/s):\n');
    console.log(
      table(
        ['Berth', 'raw baseline', 'p50 x', 'p99 x', 'calls/s x'],
        comparisons.map(([berthName, rawName]) => {
          const b = byName.get(berthName)!.summary;
          const r = byName.get(rawName)!.summary;
          return [
            berthName,
            rawName,
            ratio(b.p50Ms, r.p50Ms).toFixed(2),
            ratio(b.p99Ms, r.p99Ms).toFixed(2),
            ratio(b.callsPerSecond, r.callsPerSecond).toFixed(2),
          ];
        }),
      ),
    );
    const p50 = (name: string) => byName.get(name)!.summary.p50Ms;
    console.log('\nWhere the time of one call goes (p50 differences, sequential):\n');
    console.log(
      table(
        ['layer', 'RunTask(10) ms', 'DescribeTasks(100) ms'],
        [
          [
            'DynamoDB calls (raw equivalent)',
            formatMs(p50('RunTask-equivalent (2 Get + Tx 1 upd+10 puts)')),
            formatMs(p50('DescribeTasks-equivalent (Get + BatchGet 100)')),
          ],
          [
            'use case (+ its DynamoDB calls)',
            formatMs(p50('RunTask(10) use case only')),
            formatMs(p50('DescribeTasks(100) use case only')),
          ],
          [
            'protocol: JSON parse, validate, toWire',
            formatMs(p50('RunTask(10) protocol (JSON, validate, toWire)') - p50('RunTask(10) use case only')),
            formatMs(p50('DescribeTasks(100) protocol (JSON, validate, toWire)') - p50('DescribeTasks(100) use case only')),
          ],
          [
            'HTTP + ECS SDK (sign, serialize, parse)',
            formatMs(p50('RunTask(10)') - p50('RunTask(10) protocol (JSON, validate, toWire)')),
            formatMs(p50('DescribeTasks(100)') - p50('DescribeTasks(100) protocol (JSON, validate, toWire)')),
          ],
          ['total via ECS SDK', formatMs(p50('RunTask(10)')), formatMs(p50('DescribeTasks(100)'))],
        ],
      ),
    );
    console.log(
      `\nSizes: task item ~${taskItemBytes} B in DynamoDB; DescribeTasks(100) response tasks ~${Math.round(describeResponseBytes / 1024)} KiB as JSON.`,
    );
  } finally {
    const t1 = performance.now();
    await stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    console.log(`\nBerth and DynamoDB Local stopped in ${((performance.now() - t1) / 1000).toFixed(1)} s; total ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

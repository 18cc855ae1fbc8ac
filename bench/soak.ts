/**
 * Soak: `npm run soak -- --minutes N [--workers W] [--interval-seconds S]`. Runs `npm start`'s own
 * entry point (bin/berth-local.ts, in memory, embedded agent) as a child process and drives a steady
 * mixed workload through the real ECS SDK from W workers: each loop registers a revision now and
 * then, runs a short Fargate task (a real process), describes and lists tasks, tags and stops a
 * longer one. Every interval it prints throughput, latency percentiles, errors, tasks finished,
 * and the resident memory and open file descriptors of the runtime's node process and of the
 * DynamoDB Local JVM (from /proc): the figures a leak moves. Printed, never asserted.
 *
 * Stopped tasks stay describable for an hour, so the table (and the in-memory JVM) grows with the
 * work done; the soak reports items kept so that growth is told apart from a leak.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import '../src/local/quiet-node-version-warning';
import { freePort } from '../src/local/dynamodb-local';
import { percentile } from './stats';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    workers: { type: 'string', default: '4' },
    'interval-seconds': { type: 'string', default: '60' },
  },
});
const minutes = Number(values.minutes);
const workers = Number(values.workers);
const intervalMs = Number(values['interval-seconds']) * 1000;

const port = await freePort();
const runtime = spawn(process.execPath, ['--import', 'tsx', 'bin/berth-local.ts', '--in-memory', '--port', String(port)], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
runtime.stdout!.on('data', (chunk) => (output += chunk));
runtime.stderr!.on('data', (chunk) => (output += chunk));
const stopRuntime = () => runtime.exitCode === null && runtime.kill('SIGTERM');
process.on('exit', stopRuntime);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const deadline = Date.now() + 90_000;
while (!output.includes('  Try: aws ecs')) {
  if (runtime.exitCode !== null || Date.now() > deadline) throw new Error(`berth-local did not start:\n${output}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const nodePid = runtime.pid!;
const jvmPid = Number(/DynamoDB Local: pid (\d+)/.exec(output)![1]);

const ecs = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'soak', secretAccessKey: 'soak' } });
const cluster = 'soak';
await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
const network = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
const register = (family: string, command: string[]) =>
  ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', command, stopTimeout: 2 }],
    }),
  );
await register('soak-short', ['true']);
await register('soak-long', ['sleep', '30']);

interface Window {
  latencies: number[];
  errors: number;
  firstError?: string;
}
let window: Window = { latencies: [], errors: 0 };
let tasksRun = 0;
const timed = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
  const started = performance.now();
  try {
    const result = await call();
    window.latencies.push(performance.now() - started);
    return result;
  } catch (error) {
    window.errors++;
    window.firstError ??= `${(error as Error).name}: ${(error as Error).message}`;
    return undefined;
  }
};

let running = true;
async function worker(id: number): Promise<void> {
  for (let loop = 0; running; loop++) {
    if (loop % 50 === 0) await timed(() => register('soak-short', ['true']));
    const short = await timed(() => ecs.send(new RunTaskCommand({ cluster, taskDefinition: 'soak-short', launchType: 'FARGATE', networkConfiguration: network })));
    const long = await timed(() => ecs.send(new RunTaskCommand({ cluster, taskDefinition: 'soak-long', launchType: 'FARGATE', networkConfiguration: network })));
    tasksRun += (short?.tasks?.length ?? 0) + (long?.tasks?.length ?? 0);
    const arns = [short?.tasks?.[0]?.taskArn, long?.tasks?.[0]?.taskArn].filter((arn): arn is string => !!arn);
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (arns.length) await timed(() => ecs.send(new DescribeTasksCommand({ cluster, tasks: arns })));
    await timed(() => ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING' })));
    const longArn = long?.tasks?.[0]?.taskArn;
    if (longArn) {
      await timed(() => ecs.send(new TagResourceCommand({ resourceArn: longArn, tags: [{ key: 'worker', value: String(id) }] })));
      await timed(() => ecs.send(new StopTaskCommand({ cluster, task: longArn, reason: 'soak' })));
    }
  }
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const cpuTicks = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const stoppedTasks = async () => {
  let count = 0;
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'STOPPED', nextToken }));
    count += page.taskArns?.length ?? 0;
    nextToken = page.nextToken;
  } while (nextToken);
  return count;
};

console.log(`Soak: ${minutes} min, ${workers} workers, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start.`);
console.log('minute  calls/s  p50 ms  p99 ms  errors  tasks run  stopped kept  node RSS MB  JVM RSS MB  node fds  JVM fds  node CPU%  JVM CPU%  load');
const loops = Array.from({ length: workers }, (_, id) => worker(id));
const started = Date.now();
let lastTicks = { node: cpuTicks(nodePid), jvm: cpuTicks(jvmPid), at: Date.now() };
const rows: number[][] = [];
while (Date.now() - started < minutes * 60_000) {
  await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, minutes * 60_000 - (Date.now() - started))));
  const current = window;
  window = { latencies: [], errors: 0 };
  const sorted = current.latencies.sort((a, b) => a - b);
  const now = Date.now();
  const ticks = { node: cpuTicks(nodePid), jvm: cpuTicks(jvmPid), at: now };
  // Clock ticks are 1/100 s on Linux: ticks per elapsed centisecond, as a percentage of one core.
  const cpuPercent = (used: number) => (used / ((ticks.at - lastTicks.at) / 10)) * 100;
  const row = [
    (now - started) / 60_000,
    sorted.length / ((now - lastTicks.at) / 1000),
    percentile(sorted, 50),
    percentile(sorted, 99),
    current.errors,
    tasksRun,
    await stoppedTasks(),
    rssMb(nodePid),
    rssMb(jvmPid),
    fds(nodePid),
    fds(jvmPid),
    cpuPercent(ticks.node - lastTicks.node),
    cpuPercent(ticks.jvm - lastTicks.jvm),
    loadavg()[0],
  ];
  lastTicks = ticks;
  rows.push(row);
  console.log(
    [row[0].toFixed(1), row[1].toFixed(1), row[2].toFixed(1), row[3].toFixed(1), row[4], row[5], row[6], row[7].toFixed(0), row[8].toFixed(0), row[9], row[10], row[11].toFixed(0), row[12].toFixed(0), row[13].toFixed(2)]
      .map((cell, index) => String(cell).padStart(index === 0 ? 6 : 8))
      .join('  '),
  );
  if (current.firstError) console.log(`        first error: ${current.firstError}`);
}
running = false;
await Promise.all(loops);

if (rows.length >= 2) {
  const first = rows[0];
  const last = rows[rows.length - 1];
  console.log(
    `Last interval against the first: calls/s x${(last[1] / first[1]).toFixed(2)}, p99 x${(last[3] / first[3]).toFixed(2)}, ` +
      `node RSS x${(last[7] / first[7]).toFixed(2)}, JVM RSS x${(last[8] / first[8]).toFixed(2)}, ` +
      `node fds ${first[9]} -> ${last[9]}, JVM fds ${first[10]} -> ${last[10]}, stopped tasks kept ${first[6]} -> ${last[6]}.`,
  );
}
ecs.destroy();
stopRuntime();
await new Promise((resolve) => runtime.once('exit', resolve));

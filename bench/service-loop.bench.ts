/**
 * What the service loop costs on Step Functions: state transitions (Standard workflows bill each one,
 * $0.025 per 1,000) per deployment and per steady service-hour, counted on Berth local (in memory,
 * embedded agent, real processes), which runs the very definition the stack deploys under
 * aws-local-stepfunctions. Every state an execution enters is one transition.
 *
 *   1. CreateService (desiredCount TASKS, 10 by default) until the deployment is COMPLETED and all RUNNING;
 *   2. UpdateService to a new task definition revision (a rolling deployment) until COMPLETED;
 *   3. a steady window: transitions while nothing changes, and the wait the steady plan asks for
 *      (Park's timeout), from which a steady hour follows: (3600 / wait) loops x transitions per loop.
 *
 * Beside the transitions, every DynamoDB write call Berth's document client makes (the engine's and
 * the agent's too: all the work a phase causes), counted per phase.
 *
 * Measured and printed, never asserted. Run: `npx tsx bench/service-loop.bench.ts`. Results: docs/benchmarks.md.
 */
import '../src/local/quiet-node-version-warning';
import { cpus, loadavg, platform, release, arch } from 'node:os';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { startBerthLocal } from '../src/local/berth-local';

const PORT = Number(process.env.BERTH_BENCH_PORT ?? 4611);
const STEADY_WINDOW_MS = Number(process.env.BERTH_BENCH_STEADY_MS ?? 60_000);
const PRICE_PER_TRANSITION = 0.025 / 1000;
const CLUSTER = 'bench';
const TASKS = Number(process.env.BERTH_BENCH_TASKS ?? 10);
const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
let writeCalls = 0;

const transitions: { execution: string; state: string; input: any; at: number }[] = [];

async function main() {
  const load = loadavg();
  const berth = await startBerthLocal({
    inMemory: true,
    port: PORT,
    logger: { info() {}, warn: console.warn, error: console.error },
    instrument: {
      serviceLoopState: (execution, state, input) => transitions.push({ execution, state, input, at: Date.now() }),
      documentClient: (doc) =>
        doc.middlewareStack.add(
          (next, context) => (args) => {
            if (WRITE_COMMANDS.has(String(context.commandName))) writeCalls++;
            return next(args);
          },
          { step: 'initialize', name: 'benchWriteCounter' },
        ),
    },
  });
  const ecs = new ECSClient({ endpoint: berth.url, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  try {
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    for (const marker of ['one', 'two']) {
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'bench',
          requiresCompatibilities: ['FARGATE'],
          networkMode: 'awsvpc',
          cpu: '256',
          memory: '512',
          containerDefinitions: [{ name: 'main', image: 'busybox', command: ['sh', '-c', `exec sleep 600 # ${marker}`] }],
        }),
      );
    }
    const network = { awsvpcConfiguration: { subnets: ['subnet-local'] } };

    const create = await phase(`CreateService, desiredCount ${TASKS}, to COMPLETED`, async () => {
      await ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'web', taskDefinition: 'bench:1', desiredCount: TASKS, launchType: 'FARGATE', networkConfiguration: network }));
      await completed(ecs, 'bench:1');
    });
    const roll = await phase('UpdateService to a new revision (rolling, 100%/200%), to COMPLETED', async () => {
      await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'web', taskDefinition: 'bench:2' }));
      await completed(ecs, 'bench:2');
    });
    // Let the tail of the roll (old tasks' last status steps) pass before the steady window.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const steady = await phase(`steady window (${STEADY_WINDOW_MS / 1000} s, nothing changes)`, () => new Promise((resolve) => setTimeout(resolve, STEADY_WINDOW_MS)));

    const parks = transitions.filter((t) => t.state === 'Park');
    // The steady plan's next look: the timeout of the last wait (Park's input carries it).
    const lastWait = Number(parks.at(-1)?.input?.Payload?.waitSeconds);
    const perLoop = 3; // Reconcile, Continue?, Park (see the counted sequence below)
    const perHour = (3600 / lastWait) * perLoop;
    const rows = [create, roll, steady].map((p) => ({ ...p, dollars: p.count * PRICE_PER_TRANSITION }));
    console.log(`\nmachine: ${cpus().length} x ${cpus()[0]?.model}, ${platform()} ${release()} ${arch()}, load avg at start ${load.map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);
    console.log('\n| phase | wall s | transitions | passes (Reconcile) | waits (Park) | $ at $0.025/1k | DynamoDB write calls |');
    console.log('|---|--:|--:|--:|--:|--:|--:|');
    for (const r of rows) console.log(`| ${r.name} | ${(r.ms / 1000).toFixed(1)} | ${r.count} | ${r.reconciles} | ${r.parks} | ${r.dollars.toFixed(7)} | ${r.writes} |`);
    console.log(`\nsteady plan's wait (Park timeout): ${lastWait} s -> ${perHour.toFixed(1)} transitions per steady service-hour = $${(perHour * PRICE_PER_TRANSITION).toFixed(7)}/service-hour, $${(perHour * 24 * 30 * PRICE_PER_TRANSITION).toFixed(5)}/service-month (30 d)`);
    console.log(`states entered, in order (first 30): ${transitions.slice(0, 30).map((t) => t.state).join(' > ')}`);
    console.log(`executions: ${[...new Set(transitions.map((t) => t.execution))].join(', ')}; Park entries total ${parks.length}`);
  } finally {
    ecs.destroy();
    await berth.stop();
  }
}

async function phase(name: string, run: () => Promise<unknown>) {
  const from = transitions.length;
  const writesBefore = writeCalls;
  const started = Date.now();
  await run();
  const seen = transitions.slice(from);
  return {
    name,
    ms: Date.now() - started,
    count: seen.length,
    reconciles: seen.filter((t) => t.state === 'Reconcile').length,
    parks: seen.filter((t) => t.state === 'Park').length,
    writes: writeCalls - writesBefore,
  };
}

async function completed(ecs: ECSClient, taskDefinition: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { services } = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['web'] }));
    const primary = services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY');
    const done = primary?.taskDefinition?.endsWith(taskDefinition) && primary.rolloutState === 'COMPLETED' && primary.runningCount === TASKS && services![0].deployments!.length === 1;
    if (done) return;
    if (Date.now() > deadline) throw new Error(`service did not complete ${taskDefinition}: ${JSON.stringify(services?.[0]?.deployments)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

await main();

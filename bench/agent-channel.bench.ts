/**
 * The agent channel against the old long poll, in one run on one local Berth (in memory, no embedded
 * agent): two in-process agents, each joined to its own cluster (EC2 launch type), one learning of
 * work through the agent channel (push), one through PollAssignments long polls (poll, 10 s waits as
 * berth-agent's default). It reports
 *
 * - RunTask -> RUNNING committed (the agent's RUNNING report answered, so DescribeTasks shows it), N
 *   tasks one at a time, alternating push and poll so both see the same machine load;
 * - what each agent costs while idle: DynamoDB read and write calls per agent-minute over an idle
 *   window with only that agent running, less the same window with no agent (the placement sweep);
 * - for push, notifications and fetches per task (each is a WebSocket message and an API call in AWS).
 *
 * Measured and printed, never asserted. Run: `npx tsx bench/agent-channel.bench.ts`. Results: docs/agent-channel.md.
 */
import '../src/local/quiet-node-version-warning';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { CreateClusterCommand, DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { BerthAgent } from '../src/agent/agent';
import { ControlPlaneClient } from '../src/agent/control-plane-client';
import { ProcessRuntime } from '../src/agent/process-runtime';
import { AGENT_CHANNEL_PATH } from '../src/domain/agent-channel';
import { startBerthLocal } from '../src/local/berth-local';
import { formatMs, summarize, table } from './stats';

const N = Number(process.env.N ?? 30);
const IDLE_MS = Number(process.env.IDLE_MS ?? 20_000);
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

type Mode = 'push' | 'poll';
let reads = 0;
let writes = 0;

/** The agent's client, timing its RUNNING reports and counting its fetches. */
class TimedClient extends ControlPlaneClient {
  readonly running = new Map<string, number>();
  fetches = 0;
  override async submitTask(input: Parameters<ControlPlaneClient['submitTask']>[0]): Promise<void> {
    await super.submitTask(input);
    if (input.status === 'RUNNING') this.running.set(input.task, performance.now());
  }
  override pollAssignments(...args: Parameters<ControlPlaneClient['pollAssignments']>) {
    this.fetches++;
    return super.pollAssignments(...args);
  }
}

async function main() {
  console.log('Berth agent channel benchmark: push (agent channel) vs poll (PollAssignments long poll)');
  console.log(`  date ${new Date().toISOString()}, ${cpus().length} cpus, load ${loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
  console.log(`  plan: idle windows of ${IDLE_MS / 1000} s (no agent, push only, poll only), then N=${N} tasks one at a time per mode, alternating`);
  const scratch = mkdtempSync(join(tmpdir(), 'berth-channel-bench-'));
  const berth = await startBerthLocal({
    inMemory: true,
    port: 0,
    agent: false,
    logger: { info() {}, warn() {}, error: console.error },
    instrument: {
      documentClient(doc) {
        doc.middlewareStack.add(
          (next, context) => async (args) => {
            const command = String(context.commandName ?? '').replace(/Command$/, '');
            if (READS.has(command)) reads++;
            else if (/Put|Update|Delete|TransactWrite|BatchWrite/.test(command)) writes++;
            return next(args);
          },
          { step: 'initialize', name: 'channelBenchCounter' },
        );
      },
    },
  });
  const ecs = new ECSClient({ endpoint: berth.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const agents: Partial<Record<Mode, { agent: BerthAgent; client: TimedClient }>> = {};
  const startAgent = async (mode: Mode, cluster: string = mode) => {
    const client = new TimedClient({ endpoint: berth.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const agent = new BerthAgent({
      client,
      runtime: new ProcessRuntime({ rootDir: join(scratch, mode) }),
      cluster,
      resources: { cpu: 4096, memory: 4096 },
      availabilityZone: 'us-east-1a',
      pollWaitSeconds: 10,
      ...(mode === 'push' ? { channel: { url: `${berth.url.replace('http', 'ws')}${AGENT_CHANNEL_PATH}` } } : {}),
    });
    await agent.start();
    return { agent, client };
  };
  const idle = async (what: string) => {
    await new Promise((resolve) => setTimeout(resolve, 1000)); // let connects and first fetches settle
    const [r, w] = [reads, writes];
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const minutes = IDLE_MS / 60_000;
    return { what, reads: (reads - r) / minutes, writes: (writes - w) / minutes };
  };
  try {
    // Idle agents join clusters of their own: a stopped agent's instance would otherwise still take tasks.
    for (const name of ['push', 'poll', 'push-idle', 'poll-idle']) await ecs.send(new CreateClusterCommand({ clusterName: name }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'sleeper',
        containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 128, memory: 64, command: ['sleep', '60'], stopTimeout: 1 }],
      }),
    );

    const baseline = await idle('no agent (the placement sweep)');
    const idlePush = await startAgent('push', 'push-idle');
    const pushIdle = await idle('push agent');
    await idlePush.agent.stop();
    const idlePoll = await startAgent('poll', 'poll-idle');
    const pollIdle = await idle('poll agent');
    await idlePoll.agent.stop();
    agents.push = await startAgent('push');
    agents.poll = await startAgent('poll');

    const latencies: Record<Mode, number[]> = { push: [], poll: [] };
    const sentBefore = berth.agentChannel.sent;
    const pushFetchesBefore = agents.push!.client.fetches;
    for (let i = 0; i < N + 2; i++) {
      for (const mode of ['push', 'poll'] as const) {
        const { client } = agents[mode]!;
        const runAt = performance.now();
        const { tasks } = await ecs.send(new RunTaskCommand({ cluster: mode, taskDefinition: 'sleeper', launchType: 'EC2' }));
        const taskArn = tasks![0].taskArn!;
        while (!client.running.has(taskArn)) await new Promise((resolve) => setTimeout(resolve, 5));
        if (i >= 2) latencies[mode].push(client.running.get(taskArn)! - runAt); // two warm-up rounds
        await ecs.send(new StopTaskCommand({ cluster: mode, task: taskArn }));
        for (;;) {
          const { tasks: [task] = [] } = await ecs.send(new DescribeTasksCommand({ cluster: mode, tasks: [taskArn] }));
          if (task?.lastStatus === 'STOPPED') break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }
    const tasksRun = N + 2;
    console.log('');
    console.log('RunTask -> RUNNING committed, one task at a time');
    console.log(
      table(
        ['mode', 'n', 'p50', 'p90', 'max'],
        (['push', 'poll'] as const).map((mode) => {
          const s = summarize(latencies[mode], 0);
          return [mode, String(s.count), formatMs(s.p50Ms), formatMs(s.p90Ms), formatMs(s.maxMs)];
        }),
      ),
    );
    console.log('');
    console.log('Idle cost per agent-minute (DynamoDB calls, less the no-agent baseline)');
    console.log(
      table(
        ['agent', 'reads/min', 'writes/min'],
        [pushIdle, pollIdle].map((m) => [m.what, (m.reads - baseline.reads).toFixed(1), (m.writes - baseline.writes).toFixed(1)]),
      ),
    );
    console.log(`  baseline (no agent): ${baseline.reads.toFixed(1)} reads/min, ${baseline.writes.toFixed(1)} writes/min`);
    console.log('');
    console.log(
      `push, per task (run + stop): ${((berth.agentChannel.sent - sentBefore) / tasksRun).toFixed(2)} notifications, ` +
        `${((agents.push!.client.fetches - pushFetchesBefore) / tasksRun).toFixed(2)} fetches (PollAssignments, waitSeconds 0)`,
    );
  } finally {
    for (const entry of Object.values(agents)) await entry?.agent.stop({ stopContainers: true, timeoutSeconds: 0 });
    ecs.destroy();
    await berth.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

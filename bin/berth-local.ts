#!/usr/bin/env -S node --import tsx
/**
 * `npm start`: the Berth control plane on this machine. Flags (or environment; relative paths are
 * resolved against the directory `npm start` was run from):
 *   --port N        (BERTH_PORT, default 4600)      --host H   (BERTH_HOST, default 127.0.0.1)
 *   --allow-remote  (BERTH_ALLOW_REMOTE=true) needed for a --host that is not loopback
 *   --data-dir D    (BERTH_DATA_DIR, default .berth) --in-memory (keep nothing)
 *   --account A     (BERTH_ACCOUNT_ID, default 000000000000)
 *   --region R      (BERTH_REGION, default us-east-1; a signed request's own region wins)
 *   --events-file F (BERTH_EVENTS_FILE, default <data-dir>/events.jsonl)
 *   --rules-file F  (BERTH_RULES_FILE, default <data-dir>/rules.json)
 *   --event-source S (BERTH_EVENT_SOURCE, default berth.ecs)
 *   --no-agent      do not run the embedded agent (tasks then wait for a `berth-agent` to join)
 *   --fargate-pool-cpu N, --fargate-pool-memory N (BERTH_FARGATE_POOL_CPU / _MEMORY: the embedded
 *                   agent's virtual Fargate capacity per region, CPU units / MiB; default 65536 / 491520)
 *   --capacity-wait-seconds N (BERTH_CAPACITY_WAIT_SECONDS, default 300: then a waiting task stops
 *                   with TaskFailedToStart)
 */
// First: it notes which process launched us before the rest loads (src/local/stop-with-launcher.ts).
import { stopWhenLauncherExits } from '../src/local/stop-with-launcher';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import '../src/local/quiet-node-version-warning';
import {
  DEFAULT_ACCOUNT,
  DEFAULT_DATA_DIRECTORY,
  DEFAULT_PORT,
  DEFAULT_REGION,
  startBerthLocal,
  type BerthLocal,
} from '../src/local/berth-local';
import { DataDirectoryInUseError } from '../src/local/data-directory-lock';
import { DEFAULT_FARGATE_POOL } from '../src/local/embedded-agent';
import { throttleSettings } from '../src/app/context-from-environment';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-remote': { type: 'boolean' },
    'data-dir': { type: 'string' },
    'in-memory': { type: 'boolean' },
    account: { type: 'string' },
    region: { type: 'string' },
    'events-file': { type: 'string' },
    'rules-file': { type: 'string' },
    'event-source': { type: 'string' },
    'no-agent': { type: 'boolean' },
    'fargate-pool-cpu': { type: 'string' },
    'fargate-pool-memory': { type: 'string' },
    'capacity-wait-seconds': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'usage: berth-local [--port 4600] [--host 127.0.0.1 [--allow-remote]] [--data-dir .berth] [--in-memory] [--account ID] [--region R]\n' +
      '                   [--events-file F] [--rules-file F] [--event-source berth.ecs] [--no-agent]\n' +
      '                   [--fargate-pool-cpu 65536] [--fargate-pool-memory 491520] [--capacity-wait-seconds 300]',
  );
  process.exit(0);
}

const env = process.env;
// Relative paths are the user's: `npm start` runs in the package root, INIT_CWD is where it was typed.
const userDirectory = env.INIT_CWD ?? process.cwd();
const userPath = (path: string | undefined) => (path === undefined ? undefined : resolve(userDirectory, path));
const port = Number(values.port ?? env.BERTH_PORT ?? DEFAULT_PORT);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`invalid port: ${values.port ?? env.BERTH_PORT}`);
const region = values.region ?? env.BERTH_REGION ?? DEFAULT_REGION;
const inMemory = values['in-memory'] ?? false;
/** A positive whole number from a flag or the environment, or undefined (the default applies). */
function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) fail(`${name} must be a positive whole number, got '${value}'`);
  return number;
}
const poolCpu = positive('--fargate-pool-cpu', values['fargate-pool-cpu'] ?? env.BERTH_FARGATE_POOL_CPU);
const poolMemory = positive('--fargate-pool-memory', values['fargate-pool-memory'] ?? env.BERTH_FARGATE_POOL_MEMORY);
const waitSeconds = positive('--capacity-wait-seconds', values['capacity-wait-seconds'] ?? env.BERTH_CAPACITY_WAIT_SECONDS);

let berth: BerthLocal;
try {
  // BERTH_THROTTLE_BASE_SECONDS / BERTH_THROTTLE_MAX_SECONDS (default 10 and 900): tests scale the service throttle.
  berth = await startBerthLocal({
    port,
    host: values.host ?? env.BERTH_HOST,
    allowRemote: values['allow-remote'] ?? env.BERTH_ALLOW_REMOTE === 'true',
    dataDirectory: userPath(values['data-dir'] ?? env.BERTH_DATA_DIR ?? DEFAULT_DATA_DIRECTORY),
    inMemory,
    account: values.account ?? env.BERTH_ACCOUNT_ID ?? DEFAULT_ACCOUNT,
    region,
    eventsFile: userPath(values['events-file'] ?? env.BERTH_EVENTS_FILE),
    rulesFile: userPath(values['rules-file'] ?? env.BERTH_RULES_FILE),
    eventSource: values['event-source'] ?? env.BERTH_EVENT_SOURCE,
    agent: !values['no-agent'],
    fargatePool:
      poolCpu || poolMemory ? { cpu: poolCpu ?? DEFAULT_FARGATE_POOL.cpu, memory: poolMemory ?? DEFAULT_FARGATE_POOL.memory } : undefined,
    capacityWaitMs: waitSeconds === undefined ? undefined : waitSeconds * 1000,
    throttle: throttleSettings(env),
  });
} catch (error) {
  fail(error instanceof DataDirectoryInUseError ? error.message : `cannot start: ${(error as Error).message}`);
}

console.log(`Berth is ready: ECS API on ${berth.url} (account ${berth.context.account}, region ${region}; pid ${process.pid}).`);
console.log(`  DynamoDB Local: pid ${berth.dynamoDb.pid}, ${inMemory ? 'in memory' : `data in ${berth.dataDirectory}`}.`);
console.log(`  Events: ${berth.events.eventsFile}${berth.events.rulesFile ? ` (rules: ${berth.events.rulesFile})` : ''}.`);
if (berth.agent) {
  const pool = { cpu: poolCpu ?? DEFAULT_FARGATE_POOL.cpu, memory: poolMemory ?? DEFAULT_FARGATE_POOL.memory };
  console.log(
    `  Embedded agent: ${berth.agent.containerInstanceArn} (FARGATE, FARGATE_SPOT: a virtual pool of ${pool.cpu / 1024} vCPU / ${pool.memory / 1024} GiB in each region used).`,
  );
}
console.log(`  Stop: Ctrl-C, or kill -TERM ${process.pid} (or the pid of npm start).`);
console.log(`  Try: aws ecs create-cluster --cluster-name demo --endpoint-url ${berth.url} --region ${region}`);

let stopping = false;
const stopBerth = async (why: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${why}: stopping Berth...`);
  await berth.stop();
  console.log('Berth stopped.');
  process.exit(0);
};
// npm forwards SIGINT and SIGTERM to this process (the start script execs node); a terminal's
// Ctrl-C reaches the whole foreground group, npm included, so the same signal may arrive twice.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopBerth(signal));
// Under npm, if npm dies without forwarding a signal (SIGKILL), stop rather than live on as an orphan.
stopWhenLauncherExits((why) => void stopBerth(why), env);

function fail(message: string): never {
  console.error(`berth: ${message}`);
  process.exit(1);
}

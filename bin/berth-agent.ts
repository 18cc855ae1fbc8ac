#!/usr/bin/env -S node --import tsx
/**
 * `npx berth-agent --endpoint URL ...`: a Berth agent on this host, running tasks as OS processes
 * (or through Docker with --runtime docker when a Docker engine is there).
 *   --endpoint URL        the Berth ECS endpoint (BERTH_ENDPOINT)             required
 *   --region R            (AWS_REGION / BERTH_REGION, default us-east-1)
 *   --cluster NAME        join this cluster as an EC2/EXTERNAL container instance (default: default)
 *   --fargate P[,P]       instead offer FARGATE and/or FARGATE_SPOT capacity to every cluster
 *   --capacity-provider NAME  belong to this Auto Scaling group capacity provider (CreateCapacityProvider):
 *                         tasks of that provider are placed only on its instances (docs/agent.md)
 *   --cpu N --memory MiB  capacity to offer (default: this machine's cores x 1024 and its memory)
 *   --az ZONE             availability zone attribute (default <region>a)
 *   --instance-type T     the ecs.instance-type attribute (e.g. t2.small; default: not reported)
 *   --attribute NAME=VALUE  a custom attribute (repeatable), as ECS_INSTANCE_ATTRIBUTES on ECS's agent
 *   --runtime process|docker   (default process)
 *   --work-dir DIR        the agent's state: its identity (agent.json) and the process containers'
 *                         logs and records (tasks/) (default .berth-agent, relative to the current directory)
 *   --signing-name NAME   `execute-api` behind IAM-authorized API Gateway (default ecs)
 *   --poll-wait S         longest wait of one PollAssignments long poll, 0-20 (default 10); with the
 *                         channel, only while it is down (0: then wait for it)
 *   --channel URL|off     the agent channel (docs/agent-channel.md): ws(s):// URL of the WebSocket the
 *                         control plane notifies on (AgentChannelUrl output in AWS); default
 *                         <endpoint>/agent-channel for a loopback endpoint (a local Berth), else off (long polls)
 *   --resync-seconds S    with the channel: a full fetch this often whatever it says (default 1800)
 *   --heartbeat-seconds S with the channel: a heartbeat this often (default 480; under API Gateway's 600 s idle timeout)
 * Credentials come from the usual AWS chain (environment, profile, instance role).
 *
 * SIGINT/SIGTERM stop the agent and leave its containers running: started again with the same
 * --work-dir, it comes back as the same container instance and adopts them (docs/agent.md).
 */
// First: it notes which process launched us before the rest loads (src/local/stop-with-launcher.ts).
import { stopWhenLauncherExits } from '../src/local/stop-with-launcher';
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '../src/local/quiet-node-version-warning';
import { BerthAgent } from '../src/agent/agent';
import type { ContainerRuntime } from '../src/agent/container-runtime';
import { ControlPlaneClient, credentialsFor } from '../src/agent/control-plane-client';
import { DEFAULT_DOCKER_SOCKET, DockerRuntime } from '../src/agent/docker-runtime';
import { ProcessRuntime } from '../src/agent/process-runtime';
import { defaultChannelUrl } from '../src/agent/control-plane-client';

/** The usage is this file's opening comment: one text for readers of the code and of --help. */
function usage(): string {
  const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const comment = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
  return comment.split('\n').map((line) => line.replace(/^ \* ?/, '')).join('\n').trim();
}

let parsed: ReturnType<typeof parseAgentArgs>;
try {
  parsed = parseAgentArgs();
} catch (error) {
  // A mistyped flag is the user's to fix: one line and where the usage is, not a stack trace.
  console.error(`berth-agent: ${(error as Error).message} (npx berth-agent --help lists the flags)`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(usage());
  process.exit(0);
}
const { values } = parsed;

function parseAgentArgs() {
  return parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      cluster: { type: 'string' },
      fargate: { type: 'string' },
      'capacity-provider': { type: 'string' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      az: { type: 'string' },
      'instance-type': { type: 'string' },
      attribute: { type: 'string', multiple: true },
      runtime: { type: 'string' },
      'work-dir': { type: 'string' },
      'signing-name': { type: 'string' },
      'poll-wait': { type: 'string' },
      channel: { type: 'string' },
      'resync-seconds': { type: 'string' },
      'heartbeat-seconds': { type: 'string' },
    },
  });
}
const endpoint = values.endpoint ?? process.env.BERTH_ENDPOINT;
if (!endpoint) {
  console.error('berth-agent: --endpoint (or BERTH_ENDPOINT) is required');
  process.exit(2);
}
function positive(flag: 'resync-seconds' | 'heartbeat-seconds'): number | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  if (!(Number(value) > 0)) {
    console.error(`berth-agent: --${flag} must be a positive number of seconds, got '${value}'`);
    process.exit(2);
  }
  return Number(value);
}

function channelOf(url: string | undefined) {
  if (!url) return undefined;
  if (!/^wss?:\/\//.test(url)) {
    console.error(`berth-agent: --channel must be a ws:// or wss:// URL, or off; got '${url}'`);
    process.exit(2);
  }
  return { url, resyncSeconds: positive('resync-seconds'), heartbeatSeconds: positive('heartbeat-seconds') };
}

const region = values.region ?? process.env.AWS_REGION ?? process.env.BERTH_REGION ?? 'us-east-1';
const workDirectory = resolve(values['work-dir'] ?? '.berth-agent');

let runtime: ContainerRuntime;
if (values.runtime === 'docker') {
  if (!(await DockerRuntime.available(DEFAULT_DOCKER_SOCKET))) {
    console.error(`berth-agent: no Docker engine answers on ${DEFAULT_DOCKER_SOCKET}`);
    process.exit(2);
  }
  runtime = new DockerRuntime({});
} else {
  runtime = new ProcessRuntime({ rootDir: join(workDirectory, 'tasks') });
}

const agent = new BerthAgent({
  client: new ControlPlaneClient({ endpoint, region, signingName: values['signing-name'], credentials: credentialsFor(endpoint) }),
  runtime,
  cluster: values.cluster,
  fargateProviders: values.fargate ? values.fargate.split(',') : undefined,
  capacityProvider: values['capacity-provider'],
  resources: {
    cpu: Number(values.cpu ?? cpus().length * 1024),
    memory: Number(values.memory ?? Math.floor(totalmem() / 1024 / 1024)),
  },
  availabilityZone: values.az ?? `${region}a`,
  instanceType: values['instance-type'],
  attributes: (values.attribute ?? []).map((pair) => {
    const at = pair.indexOf('=');
    return at < 0 ? { name: pair } : { name: pair.slice(0, at), value: pair.slice(at + 1) };
  }),
  stateDirectory: workDirectory,
  pollWaitSeconds: values['poll-wait'] ? Number(values['poll-wait']) : undefined,
  channel: channelOf(values.channel === 'off' ? undefined : values.channel ?? defaultChannelUrl(endpoint)),
  logger: console,
});
try {
  console.log(`berth-agent: registered as ${await agent.start()} (${runtime.name} runtime)`);
} catch (error) {
  const { name, message } = error as Error;
  console.error(
    name === 'CredentialsProviderError'
      ? `berth-agent: no AWS credentials for ${endpoint} (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role)`
      : `berth-agent: cannot register with ${endpoint}: ${name}: ${message}`,
  );
  process.exit(1);
}

let stopping = false;
const stopAgent = async (why: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`berth-agent: ${why}, stopping (running containers keep running)`);
  await agent.stop();
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAgent(signal));
stopWhenLauncherExits((why) => void stopAgent(why));

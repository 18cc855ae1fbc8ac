import { join } from 'node:path';
import { BerthAgent } from '../agent/agent';
import { ControlPlaneClient } from '../agent/control-plane-client';
import { ProcessRuntime } from '../agent/process-runtime';
import { AGENT_CHANNEL_PATH } from '../domain/agent-channel';

/**
 * What the embedded agent offers as FARGATE/FARGATE_SPOT capacity. Not the laptop's cores: a task's
 * processes reserve no real cores or memory, so the pool is virtual. By default it holds four of the
 * largest Fargate tasks (16 vCPU / 120 GiB each) or 256 of the smallest (0.25 vCPU / 512 MiB) at once:
 * any valid Fargate size is accepted, more tasks than a laptop runs as processes fit, and a runaway
 * loop of RunTask still meets a limit and an honest TaskFailedToStart.
 */
export const DEFAULT_FARGATE_POOL = { cpu: 64 * 1024, memory: 4 * 120 * 1024 };

/**
 * `npm start`'s own agent: FARGATE and FARGATE_SPOT capacity (a virtual pool) for one region, running
 * tasks as OS processes. Its identity is kept in `<data>/agent.json` so a restart comes back as the
 * same instance and adopts the tasks still running (src/agent/agent.ts).
 */
export async function startEmbeddedAgent(options: {
  endpoint: string;
  region: string;
  dataDirectory: string;
  persistent: boolean;
  /** CPU units and MiB offered. Default DEFAULT_FARGATE_POOL. */
  fargatePool?: { cpu: number; memory: number };
  logger?: Pick<Console, 'info' | 'error'>;
}): Promise<BerthAgent> {
  const agent = new BerthAgent({
    client: new ControlPlaneClient({
      endpoint: options.endpoint,
      region: options.region,
      credentials: { accessKeyId: 'berth-agent', secretAccessKey: 'berth-agent' },
    }),
    runtime: new ProcessRuntime({ rootDir: join(options.dataDirectory, 'tasks') }),
    fargateProviders: ['FARGATE', 'FARGATE_SPOT'],
    resources: options.fargatePool ?? DEFAULT_FARGATE_POOL,
    availabilityZone: `${options.region}a`,
    stateDirectory: options.persistent ? options.dataDirectory : undefined,
    // The local runtime's own agent channel, on the API port: a new task reaches the agent at once.
    channel: { url: `${options.endpoint.replace(/^http/, 'ws')}${AGENT_CHANNEL_PATH}` },
    logger: options.logger,
  });
  await agent.start();
  return agent;
}

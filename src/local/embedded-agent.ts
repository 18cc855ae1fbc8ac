import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { BerthAgent } from '../agent/agent';
import { ControlPlaneClient } from '../agent/control-plane-client';
import { ProcessRuntime } from '../agent/process-runtime';

/**
 * `npm start`'s own agent: this machine as FARGATE and FARGATE_SPOT capacity for the default region,
 * running tasks as OS processes. Its identity is kept in `<data>/agent.json` so a restart comes back
 * as the same instance and adopts the tasks still running (src/agent/agent.ts).
 */
export async function startEmbeddedAgent(options: {
  endpoint: string;
  region: string;
  dataDirectory: string;
  persistent: boolean;
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
    resources: { cpu: cpus().length * 1024, memory: Math.floor(totalmem() / 1024 / 1024) },
    availabilityZone: `${options.region}a`,
    stateDirectory: options.persistent ? options.dataDirectory : undefined,
    logger: options.logger,
  });
  await agent.start();
  return agent;
}

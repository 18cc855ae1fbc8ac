import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { BerthAgent } from '../agent/agent';
import { ControlPlaneClient } from '../agent/control-plane-client';
import { ProcessRuntime } from '../agent/process-runtime';

/**
 * `npm start`'s own agent: this machine as FARGATE and FARGATE_SPOT capacity for the default region,
 * running tasks as OS processes. Its identity is kept in a file so a restart finds its tasks again.
 */
export async function startEmbeddedAgent(options: {
  endpoint: string;
  region: string;
  dataDirectory: string;
  persistent: boolean;
  logger?: Pick<Console, 'info' | 'error'>;
}): Promise<BerthAgent> {
  const identityFile = join(options.dataDirectory, 'agent.json');
  const previous =
    options.persistent && existsSync(identityFile)
      ? (JSON.parse(readFileSync(identityFile, 'utf8')) as { containerInstanceArn?: string }).containerInstanceArn
      : undefined;
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
    containerInstanceArn: previous,
    logger: options.logger,
  });
  const arn = await agent.start();
  if (options.persistent) {
    mkdirSync(dirname(identityFile), { recursive: true });
    writeFileSync(identityFile, JSON.stringify({ containerInstanceArn: arn }));
  }
  return agent;
}

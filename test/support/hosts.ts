/**
 * Container instances for tests: one registered through the API with no agent behind it (capacity
 * for RunTask to place EC2 tasks on; they stay PENDING, which is all API tests need), or a real agent.
 */
import { join } from 'node:path';
import { RegisterContainerInstanceCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { BerthAgent } from '../../src/agent/agent';
import { ControlPlaneClient } from '../../src/agent/control-plane-client';
import { ProcessRuntime } from '../../src/agent/process-runtime';

export async function registerHost(
  ecs: ECSClient,
  cluster: string,
  resources: { cpu: number; memory: number } = { cpu: 1024 * 1024, memory: 1024 * 1024 },
  zone = 'us-east-1a',
): Promise<string> {
  const { containerInstance } = await ecs.send(
    new RegisterContainerInstanceCommand({
      cluster,
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: resources.cpu },
        { name: 'MEMORY', type: 'INTEGER', integerValue: resources.memory },
      ],
      attributes: [{ name: 'ecs.availability-zone', value: zone }],
    }),
  );
  return containerInstance!.containerInstanceArn!;
}

/**
 * A real berth-agent in this process, joined to a cluster (or, with `fargateProviders` and no cluster,
 * Fargate capacity of the region's pool): it registers its instance (zone, custom
 * attributes), polls for its assignments every second, and runs each task's containers as OS
 * processes under `workDir`. Stop it with `agent.stop({ stopContainers: true })`.
 */
export async function startAgent(
  endpoint: string,
  cluster: string | undefined,
  workDir: string,
  options: { zone?: string; cpu?: number; memory?: number; attributes?: { name: string; value?: string }[]; fargateProviders?: string[] } = {},
): Promise<{ agent: BerthAgent; arn: string }> {
  const agent = new BerthAgent({
    client: new ControlPlaneClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    runtime: new ProcessRuntime({ rootDir: join(workDir, 'tasks') }),
    cluster,
    fargateProviders: options.fargateProviders,
    resources: { cpu: options.cpu ?? 1024, memory: options.memory ?? 1024 },
    availabilityZone: options.zone ?? 'us-east-1a',
    attributes: options.attributes,
    stateDirectory: workDir,
    pollWaitSeconds: 1,
  });
  return { agent, arn: await agent.start() };
}

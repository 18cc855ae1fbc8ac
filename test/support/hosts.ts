/**
 * A container instance registered through the API with no agent behind it: capacity for RunTask to
 * place EC2 tasks on (they stay PENDING, which is all API tests need).
 */
import { RegisterContainerInstanceCommand, type ECSClient } from '@aws-sdk/client-ecs';

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

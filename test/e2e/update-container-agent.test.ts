/**
 * UpdateContainerAgent through the real ECS SDK: Berth never has a newer agent to send (its agent is
 * updated with its package on the host), so it answers what ECS answers then, NoUpdateAvailableException,
 * or MissingVersionException for an instance that never reported its agent version; errors for
 * unknown clusters and instances; nothing is ever written.
 */
import {
  CreateClusterCommand,
  RegisterContainerInstanceCommand,
  UpdateContainerAgentCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '../../src/agent/agent';
import { startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';
import { snapshotTable } from '../support/table-snapshot';

let berth: Harness;
let ecs: ECSClient;
let withVersion: string;
let withoutVersion: string;

beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'agents' }));
  withoutVersion = await registerHost(ecs, 'agents');
  const { containerInstance } = await ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: 'agents',
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 },
      ],
      versionInfo: { agentVersion: AGENT_VERSION, agentHash: 'berth', dockerVersion: 'process' },
    }),
  );
  withVersion = containerInstance!.containerInstanceArn!;
});
afterAll(() => berth?.close());

describe('UpdateContainerAgent', () => {
  it.each([
    { name: 'an instance running berth-agent: no update available', input: () => ({ cluster: 'agents', containerInstance: withVersion }), error: 'NoUpdateAvailableException' },
    { name: 'by instance id', input: () => ({ cluster: 'agents', containerInstance: withVersion.split('/').pop()! }), error: 'NoUpdateAvailableException' },
    { name: 'an instance that never reported its version', input: () => ({ cluster: 'agents', containerInstance: withoutVersion }), error: 'MissingVersionException' },
    { name: 'an unknown cluster', input: () => ({ cluster: 'ghost', containerInstance: withVersion }), error: 'ClusterNotFoundException' },
    { name: 'an unknown instance', input: () => ({ cluster: 'agents', containerInstance: '0'.repeat(32) }), error: 'InvalidParameterException' },
    { name: 'containerInstance missing', input: () => ({ cluster: 'agents' }), error: 'InvalidParameterException' },
  ])('$name -> $error, HTTP 400, nothing written', async ({ input, error }) => {
    const before = await snapshotTable(berth.tableName);
    await expect(ecs.send(new UpdateContainerAgentCommand(input() as never))).rejects.toMatchObject({
      name: error,
      $metadata: { httpStatusCode: 400 },
    });
    expect(await snapshotTable(berth.tableName)).toEqual(before);
  });

  it('the message says why there is no update', async () => {
    await expect(ecs.send(new UpdateContainerAgentCommand({ cluster: 'agents', containerInstance: withVersion }))).rejects.toMatchObject({
      message: expect.stringContaining(`runs berth-agent ${AGENT_VERSION}`),
    });
  });
});

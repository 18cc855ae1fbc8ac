/**
 * The agent channel's AWS routes as use cases (src/app/agent-connections.ts) on DynamoDB Local: which
 * connects are refused, how a reconnect and the old connection's late $disconnect leave the mapping,
 * and that a heartbeat counts only on the instance's current connection and brings a silent agent back.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateClusterCommand, DescribeContainerInstancesCommand, RegisterContainerInstanceCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentConnectionStore } from '../../src/adapters/dynamodb/agent-connection-store';
import { agentHeartbeat, connectAgent, disconnectAgent, type AgentConnectionDeps } from '../../src/app/agent-connections';
import { disconnectSilentAgents } from '../../src/app/agent-liveness';
import { DEFAULT_AGENT_TIMEOUT_MS } from '../../src/domain/agent-liveness';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

let now = Date.UTC(2026, 0, 1);
let berth: Harness;
let ecs: ECSClient;
let deps: AgentConnectionDeps;
let arn: string;

beforeAll(async () => {
  berth = await startHarness({ clock: () => now });
  ecs = berth.ecs();
  const connectionsTable = `connections-${randomUUID()}`;
  await berth.doc.send(
    new CreateTableCommand({
      TableName: connectionsTable,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  deps = { context: berth.context, connections: new AgentConnectionStore(berth.doc, connectionsTable) };
  await ecs.send(new CreateClusterCommand({ clusterName: 'channel' }));
  const { containerInstance } = await ecs.send(
    new RegisterContainerInstanceCommand({
      cluster: 'channel',
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
        { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 },
      ],
    }),
  );
  arn = containerInstance!.containerInstanceArn!;
});
afterAll(() => berth.close());

const connected = async () =>
  (await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'channel', containerInstances: [arn] }))).containerInstances![0].agentConnected;
const heartbeat = (connectionId: string, containerInstanceArn = arn) =>
  agentHeartbeat(deps, { connectionId, body: JSON.stringify({ action: 'heartbeat', containerInstanceArn }) });

describe('$connect', () => {
  it.each([
    ['no instance', undefined, 400],
    ['not an ARN', 'nope', 400],
    ['an instance of another account', () => arn.replace(ACCOUNT, '999999999999'), 400],
    ['an instance of another region', () => arn.replace(REGION, 'eu-west-1'), 400],
    ['an instance that does not exist', () => arn.replace(/[0-9a-f]{32}$/, '0'.repeat(32)), 404],
  ] as const)('refuses %s, recording nothing', async (_name, instance, status) => {
    const containerInstanceArn = typeof instance === 'function' ? instance() : instance;
    const outcome = await connectAgent(deps, { connectionId: 'refused', containerInstanceArn });
    expect(outcome.statusCode).toBe(status);
    expect(await deps.connections.instanceOf('refused')).toBeUndefined();
  });

  it("records the connection both ways, and a reconnect's connection survives the old one's late $disconnect", async () => {
    expect(await connectAgent(deps, { connectionId: 'first', containerInstanceArn: arn })).toEqual({ statusCode: 200 });
    expect(await deps.connections.connectionOf(arn)).toBe('first');
    expect(await deps.connections.instanceOf('first')).toBe(arn);

    expect(await connectAgent(deps, { connectionId: 'second', containerInstanceArn: arn })).toEqual({ statusCode: 200 });
    expect(await disconnectAgent(deps, { connectionId: 'first' })).toEqual({ statusCode: 200 });
    expect(await deps.connections.connectionOf(arn)).toBe('second');
    expect(await deps.connections.instanceOf('first')).toBeUndefined();
    // A $disconnect nobody knows (already cleaned up) is fine.
    expect(await disconnectAgent(deps, { connectionId: 'first' })).toEqual({ statusCode: 200 });
  });
});

describe('heartbeat', () => {
  it('counts only on the connection the instance holds, and brings a silent agent back', async () => {
    await connectAgent(deps, { connectionId: 'current', containerInstanceArn: arn });
    now += DEFAULT_AGENT_TIMEOUT_MS + 1;
    expect(await disconnectSilentAgents(berth.context, { account: ACCOUNT, region: REGION })).toBe(1);
    expect(await connected()).toBe(false);

    expect((await heartbeat('stale')).statusCode).toBe(404);
    expect(await connected()).toBe(false);
    expect(await heartbeat('current')).toEqual({ statusCode: 200 });
    expect(await connected()).toBe(true);
  });

  it.each([
    ['not JSON', 'beat'],
    ['another action', JSON.stringify({ action: 'sendmessage' })],
    ['no instance', JSON.stringify({ action: 'heartbeat' })],
  ])('refuses %s', async (_name, body) => {
    expect((await agentHeartbeat(deps, { connectionId: 'current', body })).statusCode).toBe(400);
  });

  it('after $disconnect, the connection keeps no agent alive', async () => {
    await disconnectAgent(deps, { connectionId: 'current' });
    expect(await deps.connections.connectionOf(arn)).toBeUndefined();
    expect((await heartbeat('current')).statusCode).toBe(404);
  });
});

/**
 * The AWS notifier (API Gateway's PostToConnection), as a unit of its adapter: what it posts to the
 * instance's connection, what it does when API Gateway no longer knows the connection, and that a
 * failure is logged, never thrown (a thrown error would replay the stream record).
 */
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayAgentNotifier } from '../../src/adapters/apigateway/agent-channel-notifier';
import type { AgentConnectionStore } from '../../src/adapters/dynamodb/agent-connection-store';
import { assignmentsChanged, MAX_ASSIGNMENT_MESSAGE_BYTES, parseAssignmentsChanged } from '../../src/domain/agent-channel';
import { aTask } from '../support/services';

const HOST = 'arn:aws:ecs:us-east-1:123456789012:container-instance/c/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const api = mockClient(ApiGatewayManagementApiClient);
let connections: Map<string, string>;
let removed: string[];
let logged: string[];

function notifier() {
  const store = {
    connectionOf: async (arn: string) => connections.get(arn),
    remove: async ({ connectionId }: { connectionId: string }) => void removed.push(connectionId),
  } as unknown as AgentConnectionStore;
  return new ApiGatewayAgentNotifier({
    endpoint: 'https://example.execute-api.us-east-1.amazonaws.com/agents',
    connections: store,
    client: new ApiGatewayManagementApiClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    logger: { error: (line: string) => void logged.push(line) },
  });
}

const posted = () => api.commandCalls(PostToConnectionCommand).map((call) => call.args[0].input);
const task = aTask({ lastStatus: 'PENDING', reservation: { containerInstanceArn: HOST, cpu: 256, memory: 512 } });

beforeEach(() => {
  api.reset();
  connections = new Map([[HOST, 'conn-1']]);
  removed = [];
  logged = [];
});

describe('ApiGatewayAgentNotifier', () => {
  it("posts the notification, with its assignment, to the instance's connection", async () => {
    api.on(PostToConnectionCommand).resolves({});
    const message = assignmentsChanged(HOST, '7', { task, containers: [{ name: 'web', image: 'busybox' }] });
    await notifier().notify(message);
    expect(posted().map((p) => p.ConnectionId)).toEqual(['conn-1']);
    expect(parseAssignmentsChanged(String(posted()[0].Data))).toEqual(JSON.parse(JSON.stringify(message)));
  });

  it('posts a notification too large for one WebSocket frame without its assignment', async () => {
    api.on(PostToConnectionCommand).resolves({});
    const huge = { name: 'web', image: 'busybox', command: ['x'.repeat(MAX_ASSIGNMENT_MESSAGE_BYTES)] };
    await notifier().notify(assignmentsChanged(HOST, '8', { task, containers: [huge] }));
    expect(JSON.parse(String(posted()[0].Data))).toEqual({ type: 'assignments-changed', containerInstanceArn: HOST, seq: '8' });
  });

  it('posts nothing for an instance without a connection (its agent fetches when it connects)', async () => {
    connections.clear();
    await notifier().notify(assignmentsChanged(HOST, '9'));
    expect(posted()).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('forgets a connection API Gateway no longer knows', async () => {
    api.on(PostToConnectionCommand).rejects(new GoneException({ message: 'gone', $metadata: {} }));
    await notifier().notify(assignmentsChanged(HOST, '10'));
    expect(removed).toEqual(['conn-1']);
    expect(logged).toEqual([]);
  });

  it('logs any other failure instead of throwing', async () => {
    api.on(PostToConnectionCommand).rejects(new Error('throttled'));
    await expect(notifier().notify(assignmentsChanged(HOST, '11'))).resolves.toBeUndefined();
    expect(removed).toEqual([]);
    expect(logged).toEqual([expect.stringContaining('throttled')]);
  });
});

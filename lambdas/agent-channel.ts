// The agent channel's WebSocket routes ($connect, $disconnect, heartbeat) behind API Gateway: wiring only.
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { createObservability, observedHandler } from '../src/adapters/observability';
import { AgentConnectionStore } from '../src/adapters/dynamodb/agent-connection-store';
import { createDocumentClient } from '../src/adapters/dynamodb/document-client';
import { agentHeartbeat, connectAgent, disconnectAgent } from '../src/app/agent-connections';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';
import { INSTANCE_QUERY_PARAMETER } from '../src/domain/agent-channel';

const observability = createObservability('berth-agent-channel');
const doc = createDocumentClient();
const deps = {
  context: berthContextFromEnvironment(process.env, doc),
  connections: new AgentConnectionStore(doc, process.env.BERTH_AGENT_CONNECTIONS_TABLE_NAME!),
};

type ConnectEvent = APIGatewayProxyWebsocketEventV2 & { queryStringParameters?: Record<string, string | undefined> };

export const handler = observedHandler<ConnectEvent, APIGatewayProxyResult>(observability, async (event) => {
  const { connectionId, routeKey } = event.requestContext;
  const outcome =
    routeKey === '$connect'
      ? await connectAgent(deps, { connectionId, containerInstanceArn: event.queryStringParameters?.[INSTANCE_QUERY_PARAMETER] })
      : routeKey === '$disconnect'
        ? await disconnectAgent(deps, { connectionId })
        : await agentHeartbeat(deps, { connectionId, body: event.body });
  if (outcome.statusCode !== 200) observability.logger.warn('agent channel request refused', { routeKey, connectionId, ...outcome });
  return { statusCode: outcome.statusCode, body: '' };
}, (event) => ({ connectionId: event.requestContext?.connectionId, containerInstanceArn: event.queryStringParameters?.[INSTANCE_QUERY_PARAMETER] }));

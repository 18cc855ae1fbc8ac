/**
 * The agent channel's control-plane side in AWS (docs/agent-channel.md): API Gateway's WebSocket
 * routes, as use cases. $connect (IAM-authorized by API Gateway) records which connection an instance
 * is on and that its agent is there; $disconnect forgets it; `heartbeat` (every few minutes from the
 * agent) records its agent as there again. Notifications go out through AgentNotifier.
 */
import type { AgentConnectionStore } from '../adapters/dynamodb/agent-connection-store';
import { parseHeartbeat } from '../domain/agent-channel';
import { recordAgentSeen } from './agent-liveness';
import { requireOwnInstanceArn } from './container-instances';
import type { BerthContext } from './context';

/** API Gateway closes a WebSocket connection after 2 hours; items outlive that by an hour. */
export const CONNECTION_TTL_MS = 3 * 60 * 60 * 1000;

export type RouteOutcome = { statusCode: 200 } | { statusCode: 400 | 404; reason: string };

export interface AgentConnectionDeps {
  readonly context: BerthContext;
  readonly connections: AgentConnectionStore;
}

export async function connectAgent(
  deps: AgentConnectionDeps,
  input: { connectionId: string; containerInstanceArn: string | undefined },
): Promise<RouteOutcome> {
  const { context } = deps;
  let arn: string;
  try {
    // A deployment serves its own account and region.
    arn = requireOwnInstanceArn({ ...context, scope: { account: context.account, region: context.defaultRegion } }, input.containerInstanceArn);
  } catch (error) {
    return { statusCode: 400, reason: (error as Error).message };
  }
  if (!(await recordAgentSeen(context, arn))) return { statusCode: 404, reason: 'The referenced container instance was not found.' };
  await deps.connections.put({ containerInstanceArn: arn, connectionId: input.connectionId }, context.clock(), CONNECTION_TTL_MS);
  return { statusCode: 200 };
}

export async function disconnectAgent(deps: AgentConnectionDeps, input: { connectionId: string }): Promise<RouteOutcome> {
  const arn = await deps.connections.instanceOf(input.connectionId);
  if (arn) await deps.connections.remove({ containerInstanceArn: arn, connectionId: input.connectionId });
  return { statusCode: 200 };
}

/** A heartbeat counts only on the connection its instance holds now: another connection cannot keep an agent alive. */
export async function agentHeartbeat(deps: AgentConnectionDeps, input: { connectionId: string; body: string | undefined }): Promise<RouteOutcome> {
  const heartbeat = parseHeartbeat(input.body ?? '');
  if (!heartbeat) return { statusCode: 400, reason: 'A heartbeat is {"action":"heartbeat","containerInstanceArn":"..."}.' };
  if ((await deps.connections.connectionOf(heartbeat.containerInstanceArn)) !== input.connectionId) {
    return { statusCode: 404, reason: 'This connection is not the channel of that container instance.' };
  }
  await recordAgentSeen(deps.context, heartbeat.containerInstanceArn);
  return { statusCode: 200 };
}

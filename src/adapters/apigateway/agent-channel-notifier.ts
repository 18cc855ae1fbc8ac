/**
 * Notifications to agents through API Gateway's WebSocket API (PostToConnection on the stage's
 * callback URL). A connection API Gateway no longer knows (GoneException: the agent went away without
 * a $disconnect reaching us yet) is forgotten. Any other failure is logged, never thrown: the agent
 * fetches after its next reconnect or resync, and the stream record must not be replayed for it.
 */
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { AgentConnectionStore } from '../dynamodb/agent-connection-store';
import type { AgentNotifier } from '../../app/agent-notifier';
import { assignmentsChangedMessage, type AssignmentsChanged } from '../../domain/agent-channel';

export class ApiGatewayAgentNotifier implements AgentNotifier {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(
    private readonly options: {
      /** The stage's callback URL: https://{api-id}.execute-api.{region}.amazonaws.com/{stage} */
      readonly endpoint: string;
      readonly connections: AgentConnectionStore;
      readonly logger?: Pick<Console, 'error'>;
      readonly client?: ApiGatewayManagementApiClient;
    },
  ) {
    this.client = options.client ?? new ApiGatewayManagementApiClient({ endpoint: options.endpoint });
  }

  async notify(message: AssignmentsChanged): Promise<void> {
    const { containerInstanceArn } = message;
    try {
      const connectionId = await this.options.connections.connectionOf(containerInstanceArn);
      if (!connectionId) return; // No channel: the agent polls, or will fetch when it connects.
      try {
        await this.client.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: assignmentsChangedMessage(message) }),
        );
      } catch (error) {
        if ((error as Error).name !== 'GoneException') throw error;
        await this.options.connections.remove({ containerInstanceArn, connectionId });
      }
    } catch (error) {
      (this.options.logger ?? console).error(`agent channel: could not notify ${containerInstanceArn}: ${(error as Error).message}`);
    }
  }
}

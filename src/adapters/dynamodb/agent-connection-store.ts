/**
 * Which API Gateway connection an agent's channel is on (AWS only; the local runtime holds its
 * sockets in memory). A small table of its own, two items per connection, both expiring on their own
 * (TTL) a while after API Gateway's 2-hour connection limit, so a lost $disconnect leaves nothing for long:
 *
 *   pk `instance#<container instance ARN>`  -> connectionId   (the notifier's lookup)
 *   pk `connection#<connectionId>`          -> containerInstanceArn   ($disconnect's lookup: it gets only the id)
 *
 * Writes are conditional where two connections of one instance can race (a reconnect's $connect and
 * the old connection's late $disconnect): the instance item is only ever removed by its own connection.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AgentConnection {
  readonly containerInstanceArn: string;
  readonly connectionId: string;
}

const instanceKey = (arn: string) => ({ pk: `instance#${arn}` });
const connectionKey = (id: string) => ({ pk: `connection#${id}` });

export class AgentConnectionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Records a new connection; it replaces the instance's previous one (a reconnect). */
  async put(connection: AgentConnection, now: number, ttlMs: number): Promise<void> {
    const expiresAt = Math.ceil((now + ttlMs) / 1000);
    // The id item first: a $disconnect that finds no instance item still cleans up after itself.
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...connectionKey(connection.connectionId), containerInstanceArn: connection.containerInstanceArn, expiresAt },
      }),
    );
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...instanceKey(connection.containerInstanceArn), connectionId: connection.connectionId, connectedAt: now, expiresAt },
      }),
    );
  }

  /** The instance's current connection id. */
  async connectionOf(containerInstanceArn: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: instanceKey(containerInstanceArn) }));
    return Item?.connectionId as string | undefined;
  }

  /** The instance a connection was opened for. */
  async instanceOf(connectionId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: connectionKey(connectionId) }));
    return Item?.containerInstanceArn as string | undefined;
  }

  /** Forgets a connection; the instance item only if it still names this connection (not a newer one). */
  async remove(connection: AgentConnection): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: instanceKey(connection.containerInstanceArn),
          ConditionExpression: 'connectionId = :id',
          ExpressionAttributeValues: { ':id': connection.connectionId },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: connectionKey(connection.connectionId) }));
  }
}

/**
 * The agent channel on the local runtime's API port (docs/agent-channel.md): agents connect a
 * WebSocket to `/agent-channel?containerInstanceArn=...`, and the stream processor's notifications go
 * to the sockets of the instance they are about. The same protocol API Gateway serves in AWS.
 *
 * Authentication is the rest of the local API's: none beyond loopback (the server binds loopback
 * unless told otherwise). One addition: an upgrade carrying an `Origin` header is refused, because
 * browsers send one and, unlike a cross-site POST with an X-Amz-Target header, a cross-site WebSocket
 * needs no preflight: a web page must not be able to hold an agent's channel.
 *
 * Liveness: while an instance's socket is open the server records its agent as seen every quarter of
 * the agent timeout (as polls did), and pings the socket at the same pace: a peer that missed a pong
 * is cut off, so a vanished agent stops counting as there within the usual bound.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { recordAgentSeen } from '../app/agent-liveness';
import type { AgentNotifier } from '../app/agent-notifier';
import { requireOwnInstanceArn } from '../app/container-instances';
import type { BerthContext } from '../app/context';
import { AGENT_CHANNEL_PATH, assignmentsChangedMessage, INSTANCE_QUERY_PARAMETER, type AssignmentsChanged } from '../domain/agent-channel';
import { parseArn } from '../domain/arns';

/** Agents say little (heartbeats); anything longer is not one of them. */
const MAX_MESSAGE_BYTES = 4096;

interface Connection {
  readonly socket: WebSocket;
  alive: boolean;
}

export class LocalAgentChannel implements AgentNotifier {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly connections = new Map<string, Set<Connection>>();
  private readonly timer: NodeJS.Timeout;
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;
  private accepting = true;
  /** Notifications sent (one per socket), for the benchmark. */
  sent = 0;

  constructor(
    private readonly options: {
      readonly context: BerthContext;
      readonly logger: Pick<Console, 'error'>;
      /** Liveness and ping pace. Default: a quarter of the context's agent timeout. */
      readonly livenessIntervalMs?: number;
    },
  ) {
    this.timer = setInterval(() => this.tick(), options.livenessIntervalMs ?? options.context.agentTimeoutMs / 4);
    this.timer.unref();
  }

  /** Serves the channel on this HTTP server's upgrades (other paths are refused). */
  attach(http: Server): void {
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.track(this.upgrade(request, socket, head));
    });
  }

  /** Instances with an open socket. */
  connectedInstances(): string[] {
    return [...this.connections.keys()];
  }

  async notify(notification: AssignmentsChanged): Promise<void> {
    const { containerInstanceArn } = notification;
    const message = assignmentsChangedMessage(notification);
    for (const { socket } of this.connections.get(containerInstanceArn) ?? []) {
      socket.send(message, (error) => {
        if (error) this.options.logger.error(`agent channel: notifying ${containerInstanceArn} failed: ${error.message}`);
      });
      this.sent++;
    }
  }

  /**
   * Whether new connections are accepted (503 otherwise): with drop(), what an outage of the channel
   * looks like to agents. Tests use it to show that a reconnect loses nothing.
   */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
  }

  /** Cuts every socket (or one instance's) from the server side, as a network failure would. */
  drop(containerInstanceArn?: string): number {
    let dropped = 0;
    for (const [arn, set] of this.connections) {
      if (containerInstanceArn && arn !== containerInstanceArn) continue;
      for (const { socket } of set) {
        socket.terminate();
        dropped++;
      }
    }
    return dropped;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.drop();
    await Promise.allSettled([...this.pending]);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== AGENT_CHANNEL_PATH || this.closed) return refuse(socket, 404, 'Not Found');
    if (request.headers.origin !== undefined) return refuse(socket, 403, 'Forbidden');
    if (!this.accepting) return refuse(socket, 503, 'Service Unavailable');
    const arn = url.searchParams.get(INSTANCE_QUERY_PARAMETER) ?? undefined;
    const { context } = this.options;
    const region = (arn && parseArn(arn)?.region) || context.defaultRegion;
    try {
      requireOwnInstanceArn({ ...context, scope: { account: context.account, region } }, arn);
      // The instance must exist and be active: its agent is there from now on.
      if (!(await recordAgentSeen(context, arn!))) return refuse(socket, 404, 'Not Found');
    } catch (error) {
      if ((error as Error).name === 'InvalidParameterException') return refuse(socket, 400, 'Bad Request');
      this.options.logger.error('agent channel: could not accept a connection:', error);
      return refuse(socket, 503, 'Service Unavailable');
    }
    if (this.closed) return refuse(socket, 503, 'Service Unavailable');
    this.server.handleUpgrade(request, socket, head, (ws) => this.connected(arn!, ws));
  }

  private connected(arn: string, socket: WebSocket): void {
    const connection: Connection = { socket, alive: true };
    const set = this.connections.get(arn) ?? new Set();
    set.add(connection);
    this.connections.set(arn, set);
    socket.on('pong', () => (connection.alive = true));
    // Heartbeats need no answer: the open socket is what the server goes by.
    socket.on('message', () => (connection.alive = true));
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      set.delete(connection);
      if (set.size === 0 && this.connections.get(arn) === set) this.connections.delete(arn);
    });
  }

  private tick(): void {
    for (const [arn, set] of this.connections) {
      for (const connection of set) {
        if (!connection.alive) {
          connection.socket.terminate();
          continue;
        }
        connection.alive = false;
        connection.socket.ping();
      }
      this.track(
        recordAgentSeen(this.options.context, arn).catch((error) =>
          this.options.logger.error(`agent channel: could not record ${arn} as seen:`, error),
        ),
      );
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

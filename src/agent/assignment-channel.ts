/**
 * The agent's end of the agent channel (docs/agent-channel.md): one WebSocket to the control plane,
 * reconnected with jittered, capped backoff for as long as the agent runs. It carries no tasks: it
 * says "connected" (the agent fetches, so nothing assigned while it was down is lost), "notified"
 * (the agent fetches) and "disconnected" (the agent falls back to polling until it is back), and
 * sends a heartbeat now and then (liveness, and API Gateway's 10-minute idle timeout).
 */
import WebSocket from 'ws';
import {
  DEFAULT_RECONNECT_BACKOFF,
  INSTANCE_QUERY_PARAMETER,
  parseAssignmentsChanged,
  reconnectDelayMs,
  type AssignmentsChanged,
  type BackoffPolicy,
  type Heartbeat,
} from '../domain/agent-channel';

export interface AssignmentChannelOptions {
  /** ws:// or wss:// URL of the channel; the instance ARN is added to its query string. */
  readonly url: string;
  readonly containerInstanceArn: string;
  /** Headers for the connect request (a SigV4 signature for API Gateway's IAM authorization). */
  readonly connectHeaders?: (url: URL) => Promise<Record<string, string>>;
  readonly heartbeatMs: number;
  readonly backoff?: BackoffPolicy;
  /** [0, 1); Math.random unless a test fixes it. */
  readonly random?: () => number;
  readonly onConnected: () => void;
  readonly onDisconnected: () => void;
  readonly onNotified: (message: AssignmentsChanged) => void;
  readonly logger?: Pick<Console, 'info' | 'error'>;
}

/** A connect attempt that has not opened by then is given up (and retried after the backoff). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export class AssignmentChannel {
  private socket?: WebSocket;
  private stopped = false;
  private run?: Promise<void>;
  private wakeFromBackoff?: () => void;
  /** Connections opened so far (the first and every reconnect). */
  connects = 0;

  constructor(private readonly options: AssignmentChannelOptions) {}

  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.run ??= this.connectLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeFromBackoff?.();
    this.socket?.close();
    this.socket?.terminate();
    await this.run;
  }

  private async connectLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const opened = await this.connectOnce().catch((error: Error) => {
        this.options.logger?.error(`berth-agent: agent channel: ${error.message}`);
        return false;
      });
      if (this.stopped) return;
      if (opened) failures = 0;
      const delay = reconnectDelayMs(failures++, this.options.random ?? Math.random, this.options.backoff ?? DEFAULT_RECONNECT_BACKOFF);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeFromBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One connection, from attempt to close; true when it opened. */
  private async connectOnce(): Promise<boolean> {
    const { containerInstanceArn } = this.options;
    const url = new URL(this.options.url);
    url.searchParams.set(INSTANCE_QUERY_PARAMETER, containerInstanceArn);
    const headers = (await this.options.connectHeaders?.(url)) ?? {};
    if (this.stopped) return false;
    return new Promise<boolean>((resolve) => {
      const socket = new WebSocket(url, { headers, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      this.socket = socket;
      let opened = false;
      let heartbeat: NodeJS.Timeout | undefined;
      let failure: string | undefined;
      socket.on('open', () => {
        opened = true;
        this.connects++;
        const beat: Heartbeat = { action: 'heartbeat', containerInstanceArn };
        heartbeat = setInterval(() => socket.send(JSON.stringify(beat), () => undefined), this.options.heartbeatMs);
        this.options.logger?.info(`berth-agent: agent channel connected (${url.origin}${url.pathname})`);
        this.options.onConnected();
      });
      socket.on('message', (data) => {
        const message = parseAssignmentsChanged(data.toString());
        // Another instance's notification is not this agent's business (and never its work).
        if (message?.containerInstanceArn === containerInstanceArn) this.options.onNotified(message);
      });
      socket.on('unexpected-response', (_request, response) => {
        failure = `the control plane refused the connection (HTTP ${response.statusCode})`;
        socket.terminate();
      });
      socket.on('error', (error) => (failure ??= error.message));
      socket.on('close', () => {
        clearInterval(heartbeat);
        if (this.socket === socket) this.socket = undefined;
        if (opened) {
          if (!this.stopped) this.options.logger?.info('berth-agent: agent channel closed; reconnecting');
          this.options.onDisconnected();
        } else if (failure && !this.stopped) {
          this.options.logger?.error(`berth-agent: agent channel: cannot connect: ${failure}`);
        }
        resolve(opened);
      });
    });
  }
}

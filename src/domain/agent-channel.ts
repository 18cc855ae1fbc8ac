/**
 * The agent channel (docs/agent-channel.md): an agent holds a WebSocket to the control plane, which
 * tells it, in a few bytes and with no task payload, that its assignments changed; the agent then
 * fetches them once through PollAssignments. Pure parts: the messages, which task changes are worth a
 * notification, and the reconnect backoff.
 */
import type { TaskRecord } from './records';

/** Where the local runtime serves the channel, on its API port. */
export const AGENT_CHANNEL_PATH = '/agent-channel';
/** The connect request names the instance in its query string (locally and on API Gateway alike). */
export const INSTANCE_QUERY_PARAMETER = 'containerInstanceArn';

/** Control plane -> agent: fetch your assignments. `seq` orders notifications for one instance (diagnostics). */
export interface AssignmentsChanged {
  readonly type: 'assignments-changed';
  readonly containerInstanceArn: string;
  readonly seq: string;
}

/**
 * Agent -> control plane: "still here". Keeps an idle API Gateway connection open (its idle timeout
 * is 10 minutes) and records the agent's liveness. `action` is what API Gateway routes on.
 */
export interface Heartbeat {
  readonly action: 'heartbeat';
  readonly containerInstanceArn: string;
}

export function assignmentsChanged(containerInstanceArn: string, seq: string): AssignmentsChanged {
  return { type: 'assignments-changed', containerInstanceArn, seq };
}

/** A message from the control plane, or undefined for anything else (ignored: newer servers may say more). */
export function parseAssignmentsChanged(data: string): AssignmentsChanged | undefined {
  try {
    const message = JSON.parse(data) as Partial<AssignmentsChanged> | null;
    if (message?.type !== 'assignments-changed' || typeof message.containerInstanceArn !== 'string') return undefined;
    return { type: message.type, containerInstanceArn: message.containerInstanceArn, seq: String(message.seq ?? '') };
  } catch {
    return undefined;
  }
}

/** An agent's message, or undefined when it is not a well-formed heartbeat. */
export function parseHeartbeat(data: string): Heartbeat | undefined {
  try {
    const message = JSON.parse(data) as Partial<Heartbeat> | null;
    if (message?.action !== 'heartbeat' || typeof message.containerInstanceArn !== 'string') return undefined;
    return { action: 'heartbeat', containerInstanceArn: message.containerInstanceArn };
  } catch {
    return undefined;
  }
}

/**
 * The instance whose agent must act on this committed task change, if any: a task it should start
 * (PENDING, desired RUNNING, newly reserved on it) or stop (newly STOPPING). Only these two: the
 * agent's own reports (ACTIVATING, RUNNING, STOPPED) and the engine's bookkeeping steps need nothing
 * from it, and every notification costs a message and a fetch. What a notification misses (a
 * stopped task to forget) the next fetch or the periodic resync brings.
 */
export function instanceToNotify(before: TaskRecord | undefined, after: TaskRecord): string | undefined {
  const host = after.reservation?.containerInstanceArn;
  if (!host) return undefined;
  const sameHost = before?.reservation?.containerInstanceArn === host;
  const toStart = (task: TaskRecord | undefined) => task?.lastStatus === 'PENDING' && task.desiredStatus === 'RUNNING';
  if (toStart(after) && !(sameHost && toStart(before))) return host;
  if (after.lastStatus === 'STOPPING' && !(sameHost && before?.lastStatus === 'STOPPING')) return host;
  return undefined;
}

export interface BackoffPolicy {
  /** The first retry's ceiling. */
  readonly baseMs: number;
  /** No wait is longer than this, however many attempts failed. */
  readonly capMs: number;
}

export const DEFAULT_RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first retry): "equal jitter", a
 * random point in the upper half of an exponentially growing, capped ceiling. Jitter spreads a fleet
 * of agents that lost the control plane at the same moment; the lower half bound keeps one agent from
 * hammering it with near-zero waits. `random` returns [0, 1).
 */
export function reconnectDelayMs(attempt: number, random: () => number, policy: BackoffPolicy = DEFAULT_RECONNECT_BACKOFF): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(Math.max(random(), 0), 1));
}

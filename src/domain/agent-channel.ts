/**
 * The agent channel (docs/agent-channel.md): an agent holds a WebSocket to the control plane, which
 * tells it that its assignments changed, carrying the changed task with what the agent needs to run
 * it; an agent that cannot use what a notification carries fetches its assignments through
 * PollAssignments instead. Pure parts: the messages, which task changes are worth a notification,
 * and the reconnect backoff.
 */
import type { ContainerDefinition, TaskRecord } from './records';

/** Where the local runtime serves the channel, on its API port. */
export const AGENT_CHANNEL_PATH = '/agent-channel';
/** The connect request names the instance in its query string (locally and on API Gateway alike). */
export const INSTANCE_QUERY_PARAMETER = 'containerInstanceArn';

/** A task placed on an agent's host, with its container definitions as it runs them (overrides applied). */
export interface Assignment {
  task: TaskRecord;
  containers: ContainerDefinition[];
}

/**
 * Control plane -> agent: one of your tasks changed. `assignment` is the task as committed by that
 * change, so the agent acts without a fetch; without one (too large to send, or the task
 * definition could not be read) the agent fetches. `seq` is the stream sequence number (diagnostics).
 */
export interface AssignmentsChanged {
  readonly type: 'assignments-changed';
  readonly containerInstanceArn: string;
  readonly seq: string;
  readonly assignment?: Assignment;
}

/**
 * The largest notification sent with its assignment. API Gateway's WebSocket frames are at most
 * 32 KB (a message up to 128 KB is split into frames); a task with huge container definitions goes
 * without its assignment, and its agent fetches.
 */
export const MAX_ASSIGNMENT_MESSAGE_BYTES = 32 * 1024;

/**
 * Agent -> control plane: "still here". Keeps an idle API Gateway connection open (its idle timeout
 * is 10 minutes) and records the agent's liveness. `action` is what API Gateway routes on.
 */
export interface Heartbeat {
  readonly action: 'heartbeat';
  readonly containerInstanceArn: string;
}

export function assignmentsChanged(containerInstanceArn: string, seq: string, assignment?: Assignment): AssignmentsChanged {
  return { type: 'assignments-changed', containerInstanceArn, seq, ...(assignment ? { assignment } : {}) };
}

/** The message as sent: with its assignment when that fits in MAX_ASSIGNMENT_MESSAGE_BYTES, else without. */
export function assignmentsChangedMessage(message: AssignmentsChanged): string {
  const text = JSON.stringify(message);
  if (!message.assignment || new TextEncoder().encode(text).length <= MAX_ASSIGNMENT_MESSAGE_BYTES) return text;
  return JSON.stringify(assignmentsChanged(message.containerInstanceArn, message.seq));
}

/** A message from the control plane, or undefined for anything else (ignored: newer servers may say more). */
export function parseAssignmentsChanged(data: string): AssignmentsChanged | undefined {
  try {
    const message = JSON.parse(data) as Partial<AssignmentsChanged> | null;
    if (message?.type !== 'assignments-changed' || typeof message.containerInstanceArn !== 'string') return undefined;
    // An assignment the agent cannot read is dropped, not trusted: the agent then fetches.
    const assignment = isAssignment(message.assignment) ? message.assignment : undefined;
    return assignmentsChanged(message.containerInstanceArn, String(message.seq ?? ''), assignment);
  } catch {
    return undefined;
  }
}

/** Has what the agent reads of an assignment (the rest of the task record is passed through). */
function isAssignment(value: unknown): value is Assignment {
  const { task, containers } = (value ?? {}) as Partial<Record<keyof Assignment, unknown>>;
  if (typeof task !== 'object' || task === null || !Array.isArray(containers)) return false;
  const t = task as Partial<Record<keyof TaskRecord, unknown>>;
  return (
    typeof t.taskArn === 'string' &&
    typeof t.clusterArn === 'string' &&
    typeof t.version === 'number' &&
    typeof t.lastStatus === 'string' &&
    typeof t.desiredStatus === 'string' &&
    Array.isArray(t.containers) &&
    containers.every((c) => typeof c === 'object' && c !== null && typeof (c as { name?: unknown }).name === 'string')
  );
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

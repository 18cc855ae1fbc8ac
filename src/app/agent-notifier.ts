/**
 * Telling agents their assignments changed (docs/agent-channel.md). The stream processor calls it for
 * each committed task change an agent must act on; the local runtime's channel server and API
 * Gateway's PostToConnection implement it. A notification that does not arrive costs latency, never
 * an assignment: agents fetch after every (re)connect and resync periodically, so implementations
 * log failures rather than throw (a thrown error would replay the whole stream record).
 */
import { instanceToNotify } from '../domain/agent-channel';
import type { TaskRecord } from '../domain/records';

export interface AgentNotifier {
  notify(containerInstanceArn: string, seq: string): Promise<void>;
}

/** The stream processor's hook: notify the host whose agent must act on this task change, if any. */
export async function notifyAgentOfTaskChange(
  notifier: AgentNotifier | undefined,
  before: TaskRecord | undefined,
  after: TaskRecord,
  seq: string,
): Promise<void> {
  const host = notifier && instanceToNotify(before, after);
  if (host) await notifier.notify(host, seq);
}

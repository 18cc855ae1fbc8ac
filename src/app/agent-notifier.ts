/**
 * Telling agents their assignments changed (docs/agent-channel.md). The stream processor calls it for
 * each committed task change an agent must act on; the local runtime's channel server and API
 * Gateway's PostToConnection implement it. The notification carries the task as committed, with its
 * container definitions, so the agent acts without a fetch. A notification that does not arrive
 * costs latency, never an assignment: agents fetch after every (re)connect and resync periodically,
 * so implementations log failures rather than throw (a thrown error would replay the whole record).
 */
import { assignmentsChanged, instanceToNotify, type AssignmentsChanged } from '../domain/agent-channel';
import type { TaskRecord } from '../domain/records';
import { assignmentOf, containerDefinitionsOf } from './agent-assignments';
import type { BerthContext } from './context';

export interface AgentNotifier {
  /** Sends the message to the agent of `message.containerInstanceArn`, if it holds a channel. */
  notify(message: AssignmentsChanged): Promise<void>;
}

/** The stream processor's hook: notify the host whose agent must act on this task change, if any. */
export async function notifyAgentOfTaskChange(
  notifier: AgentNotifier | undefined,
  context: Pick<BerthContext, 'taskDefinitions'>,
  before: TaskRecord | undefined,
  after: TaskRecord,
  seq: string,
  logger: Pick<Console, 'error'> = console,
): Promise<void> {
  const host = notifier && instanceToNotify(before, after);
  if (!host) return;
  // Read once per revision (cached); if it cannot be read now, the agent fetches instead.
  const definitions = await containerDefinitionsOf(context, after.taskDefinitionArn).catch((error: Error) => {
    logger.error(`agent channel: ${after.taskArn} goes without its assignment: ${error.message}`);
    return undefined;
  });
  await notifier.notify(assignmentsChanged(host, seq, definitions && assignmentOf(after, definitions)));
}

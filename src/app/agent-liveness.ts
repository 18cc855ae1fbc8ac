/**
 * Whether each container instance's agent is there: a poll keeps it `agentConnected: true` (and
 * brings a disconnected one back); the sweep marks instances whose agent fell silent for longer than
 * the context's agentTimeoutMs `agentConnected: false`, so no new task is placed on them. Their tasks
 * are left as they are (docs/agent.md, "When an agent goes silent").
 */
import type { Scope } from '../domain/arns';
import { heartbeatDue, silentSince } from '../domain/agent-liveness';
import type { StoredContainerInstance } from '../adapters/dynamodb/container-instance-repository';
import type { BerthContext } from './context';
import { withOptimisticRetry } from './optimistic';

/** A poll from the instance's agent (as read at the poll's start). */
export async function recordPoll(ctx: BerthContext, seen: StoredContainerInstance): Promise<void> {
  const now = ctx.clock();
  if (seen.record.agentConnected) {
    if (!heartbeatDue(seen.lastPolledAt, now, ctx.agentTimeoutMs)) return;
    if (await ctx.containerInstances.heartbeat(seen.record.containerInstanceArn, now)) return;
    // Marked disconnected (or deregistered) since the read: reconnect below, on a fresh read.
  }
  await withOptimisticRetry(async () => {
    const stored = await ctx.containerInstances.get(seen.record.containerInstanceArn);
    if (!stored || stored.record.status === 'INACTIVE') return;
    if (stored.record.agentConnected) {
      await ctx.containerInstances.heartbeat(stored.record.containerInstanceArn, now);
      return;
    }
    const record = { ...stored.record, agentConnected: true, updatedAt: now };
    await ctx.containerInstances.setAgentConnected(record, stored.version, { now });
  });
}

/** Marks the instances of an account+region whose agent fell silent; returns how many. */
export async function disconnectSilentAgents(ctx: BerthContext, scope: Scope): Promise<number> {
  const now = ctx.clock();
  const since = silentSince(now, ctx.agentTimeoutMs);
  let disconnected = 0;
  for (const arn of await ctx.containerInstances.silentAgents(scope, since)) {
    const changed = await withOptimisticRetry(async () => {
      const stored = await ctx.containerInstances.get(arn);
      if (!stored || stored.record.status === 'INACTIVE' || !stored.record.agentConnected) return false;
      // The index lags: the agent may have polled since.
      if (stored.lastPolledAt !== undefined && stored.lastPolledAt >= since) return false;
      const record = { ...stored.record, agentConnected: false, updatedAt: now };
      await ctx.containerInstances.setAgentConnected(record, stored.version, { now, silentSince: since });
      return true;
    });
    if (changed) disconnected++;
  }
  return disconnected;
}

/**
 * The agent of this instance is there, by other means than a poll (its channel connection is open,
 * or it sent a heartbeat on it): one conditional write while it is marked connected, the poll's
 * reconnect path otherwise. False when there is no such active instance.
 */
export async function recordAgentSeen(ctx: BerthContext, containerInstanceArn: string): Promise<boolean> {
  if (await ctx.containerInstances.heartbeat(containerInstanceArn, ctx.clock())) return true;
  const stored = await ctx.containerInstances.get(containerInstanceArn);
  if (!stored || stored.record.status === 'INACTIVE') return false;
  await recordPoll(ctx, stored);
  return true;
}

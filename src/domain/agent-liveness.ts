/**
 * When an agent counts as connected. Agents long-poll (PollAssignments, at most 20 s per call) and
 * poll again at once, so a live agent is never out of a poll for long. Its instance records the
 * time of a poll at most every `timeout / 4`; the sweep marks an instance `agentConnected: false`
 * once that time is older than `timeout`. A live agent's recorded time is at most
 * timeout / 4 + 20 s (+ one request's latency) old, which the default of 60 s clears with room for
 * a slow request or a paused process; a stopped agent shows as disconnected within the timeout plus
 * one sweep interval.
 */

/** Default bound on an agent's silence before its instance shows `agentConnected: false`. */
export const DEFAULT_AGENT_TIMEOUT_MS = 60_000;

/** Whether a poll should record its time (the recorded one is getting old). */
export function heartbeatDue(lastPolledAt: number | undefined, now: number, timeoutMs: number): boolean {
  return lastPolledAt === undefined || now - lastPolledAt >= timeoutMs / 4;
}

/** The instant before which an agent that last polled counts as gone. */
export function silentSince(now: number, timeoutMs: number): number {
  return now - timeoutMs;
}

/**
 * Which stream records the local poller must keep in their cluster's order (its `partitionOrdered`):
 * the ones whose step may place a task or give capacity back. Placement decides from the hosts'
 * loads, so one cluster's placements go one after another (concurrent ones would each see the same
 * emptiest host and break a spread), and a release must not overtake the placements it may serve.
 * Every other task change (placed PENDING, ACTIVATING, RUNNING, the stop's bookkeeping steps) only
 * moves its own task: those go by task, beside the cluster's other work, in commit order per task.
 * Anything that is not a task (services, hosts, clusters) keeps its partition's order.
 */
import type { _Record } from '@aws-sdk/client-dynamodb-streams';

type Image = Record<string, { S?: string; M?: Record<string, unknown> } | undefined> | undefined;

const docOf = (image: Image) => image?.doc?.M as Record<string, { S?: string; M?: unknown } | undefined> | undefined;

export function placementOrdered(record: _Record): boolean {
  const after = record.dynamodb?.NewImage as Image;
  const before = record.dynamodb?.OldImage as Image;
  if (after?.kind?.S !== 'task') return true;
  const task = docOf(after);
  if (!task) return true;
  const reserved = task.reservation?.M !== undefined;
  // Waiting for a host (PROVISIONING, or PENDING without one): its step places.
  if (!reserved && task.desiredStatus?.S === 'RUNNING' && task.lastStatus?.S !== 'STOPPED') return true;
  // Gave its host back: its step places waiting tasks on the capacity.
  const wasReserved = docOf(before)?.reservation?.M !== undefined;
  return wasReserved && !reserved;
}

/**
 * The EventBridge envelope every Berth event shares (task, container instance, service and deployment
 * events). Pure. Ids are derived from the resource ARN and the identity of the change, so the same
 * committed change always yields the same id: a retried publish is a duplicate consumers can
 * recognise, never a different event.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_EVENT_SOURCE = 'berth.ecs';

export interface EventEnvelopeContext {
  readonly source: string;
  readonly account: string;
  readonly region: string;
}

export interface EcsEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** A UUID-shaped id from (ARN, revision of the change): deterministic, so retries carry the same id. */
export function eventId(resourceArn: string, revision: number | string): string {
  const hex = createHash('sha256').update(`${resourceArn}#${revision}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** ISO 8601 with milliseconds, or undefined for a missing or invalid time (dropped from the detail). */
export const iso = (epochMs: number | undefined) =>
  epochMs === undefined || !Number.isFinite(new Date(epochMs).getTime()) ? undefined : new Date(epochMs).toISOString();

/**
 * An event about one resource. `revision` identifies the change (a version, or a transition's name
 * and time); `time` is when the change was committed (epoch ms, from the record, never the stream's).
 */
export function envelope(
  detailType: string,
  resourceArn: string,
  revision: number | string,
  time: number,
  context: EventEnvelopeContext,
  detail: Record<string, unknown>,
): EcsEvent {
  return {
    version: '0',
    id: eventId(resourceArn, revision),
    'detail-type': detailType,
    source: context.source,
    account: context.account,
    // Milliseconds, like detail.updatedAt: consumers order and deduplicate by it, and one task's
    // steps are often less than a second apart. (In AWS, PutEvents gets it as the entry's Time.)
    time: new Date(time).toISOString(),
    region: context.region,
    resources: [resourceArn],
    // Drops undefined members, as the JSON EventBridge delivers would.
    detail: JSON.parse(JSON.stringify(detail)),
  };
}

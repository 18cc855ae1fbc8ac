/**
 * The port through which use cases emit EventBridge events: PutEvents in AWS, the local event sink
 * (an append-only JSON-lines file plus rule-matched targets) in local mode.
 */

import type { EcsEvent } from '../domain/task-events';

/** An EventBridge event envelope, exactly as EventBridge delivers it to targets (built in src/domain/task-events.ts). */
export type BerthEvent = EcsEvent;

export interface EventPublisher {
  /**
   * Durably records every event, in order, or throws. A throw means some events may not have been
   * recorded: the caller retries with the same events (same ids), so at-least-once delivery with
   * detectable duplicates results. Delivery to downstream targets may happen after this resolves.
   */
  publish(events: readonly BerthEvent[]): Promise<void>;
}

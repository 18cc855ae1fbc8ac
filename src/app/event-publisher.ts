/**
 * The port through which use cases emit EventBridge events: PutEvents in AWS, the local event sink
 * (an append-only JSON-lines file plus rule-matched targets) in local mode.
 */

/** An EventBridge event envelope, exactly as EventBridge delivers it to targets. */
export interface BerthEvent {
  version: '0';
  /** Unique per event; a retried publish reuses it, so consumers can detect duplicates. */
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601, e.g. 2024-01-01T00:00:00Z. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface EventPublisher {
  /**
   * Durably records every event, in order, or throws. A throw means some events may not have been
   * recorded: the caller retries with the same events (same ids), so at-least-once delivery with
   * detectable duplicates results. Delivery to downstream targets may happen after this resolves.
   */
  publish(events: readonly BerthEvent[]): Promise<void>;
}

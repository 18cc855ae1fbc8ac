import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { BerthEvent, EventPublisher } from '../../app/event-publisher';

const ENTRIES_PER_CALL = 10;

export interface EventBridgePublisherOptions {
  readonly eventBusName: string;
  readonly deadLetterQueueUrl?: string;
  readonly eventBridge?: EventBridgeClient;
  readonly sqs?: SQSClient;
  /** PutEvents rounds for entries that failed (throttling, internal errors). */
  readonly attempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of events that went to the dead-letter queue instead of the bus (metrics, logs). */
  readonly onDeadLetter?: (events: readonly BerthEvent[]) => void;
}

/**
 * Publishes through PutEvents. Entries EventBridge rejects are retried with backoff; what still fails
 * goes to the dead-letter queue, and only if that fails too does publish throw (so the stream record
 * is retried). EventBridge assigns the envelope `id` itself: consumers detect a duplicate task or
 * container instance event by `resources[0]` + `detail.version` (the ARN and version the Berth id is
 * derived from), a duplicate service or deployment event by `resources[0]` + `detail.eventName` +
 * `time` (+ `detail.deploymentId` or `detail.taskArns`), all from the committed record (docs/events.md).
 */
export class EventBridgePublisher implements EventPublisher {
  private readonly eventBridge: EventBridgeClient;
  private readonly sqs: SQSClient;
  private readonly attempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: EventBridgePublisherOptions) {
    this.eventBridge = options.eventBridge ?? new EventBridgeClient({});
    this.sqs = options.sqs ?? new SQSClient({});
    this.attempts = options.attempts ?? 4;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async publish(events: readonly BerthEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += ENTRIES_PER_CALL) {
      await this.publishChunk(events.slice(i, i + ENTRIES_PER_CALL));
    }
  }

  private async publishChunk(events: readonly BerthEvent[]): Promise<void> {
    let pending = [...events];
    for (let attempt = 1; attempt <= this.attempts && pending.length > 0; attempt++) {
      if (attempt > 1) await this.sleep(100 * 2 ** (attempt - 2));
      const result = await this.eventBridge.send(new PutEventsCommand({ Entries: pending.map((e) => this.entry(e)) }));
      if (!result.FailedEntryCount) return;
      pending = pending.filter((_, index) => result.Entries?.[index]?.ErrorCode);
    }
    if (pending.length === 0) return;
    if (!this.options.deadLetterQueueUrl) throw new Error(`${pending.length} events could not be published`);
    const sent = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: this.options.deadLetterQueueUrl,
        Entries: pending.map((event, index) => ({ Id: String(index), MessageBody: JSON.stringify(event) })),
      }),
    );
    if (sent.Failed?.length) throw new Error(`${sent.Failed.length} events reached neither EventBridge nor the DLQ`);
    this.options.onDeadLetter?.(pending);
  }

  private entry(event: BerthEvent): PutEventsRequestEntry {
    return {
      EventBusName: this.options.eventBusName,
      Source: event.source,
      DetailType: event['detail-type'],
      Detail: JSON.stringify(event.detail),
      Resources: event.resources,
      // When the change was committed (the record's updatedAt, ms), not when PutEvents ran.
      Time: new Date(event.time),
    };
  }
}

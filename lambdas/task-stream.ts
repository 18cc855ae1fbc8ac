// The table's stream -> ECS events on EventBridge and the next lifecycle step. Wiring only.
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../src/adapters/eventbridge/eventbridge-publisher';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';
import { processStreamRecords, type StreamRecord } from '../src/app/stream-processor';
import { DEFAULT_EVENT_SOURCE } from '../src/domain/task-events';

const deps = {
  context: berthContextFromEnvironment(process.env),
  publisher: new EventBridgePublisher({
    eventBusName: process.env.BERTH_EVENT_BUS_NAME ?? 'default',
    deadLetterQueueUrl: process.env.BERTH_EVENTS_DLQ_URL,
  }),
  eventSource: process.env.BERTH_EVENT_SOURCE ?? DEFAULT_EVENT_SOURCE,
};

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>().handler((event) =>
  processStreamRecords(deps, event.Records as StreamRecord[]),
);

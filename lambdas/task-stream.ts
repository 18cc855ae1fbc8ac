// The table's stream -> ECS events on EventBridge and the next lifecycle step. Wiring only.
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ServiceLoopStore } from '../src/adapters/dynamodb/service-loop-store';
import { createDocumentClient } from '../src/adapters/dynamodb/document-client';
import { EventBridgePublisher } from '../src/adapters/eventbridge/eventbridge-publisher';
import { StepFunctionsServiceLoop } from '../src/adapters/stepfunctions/service-loop';
import { SfnStatesClient } from '../src/adapters/stepfunctions/sfn-states-client';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';
import { processStreamRecords, type StreamRecord } from '../src/app/stream-processor';
import { DEFAULT_EVENT_SOURCE } from '../src/domain/task-events';

// Service loops: one Step Functions execution per service, started and woken from here.
const stateMachineArn = process.env.BERTH_SERVICE_LOOP_STATE_MACHINE_ARN;
const serviceLoop = stateMachineArn
  ? new StepFunctionsServiceLoop({
      states: new SfnStatesClient(),
      store: new ServiceLoopStore(createDocumentClient(), process.env.BERTH_TABLE_NAME!),
      stateMachineArn,
      logger: console,
    })
  : undefined;

const deps = {
  context: berthContextFromEnvironment(process.env),
  publisher: new EventBridgePublisher({
    eventBusName: process.env.BERTH_EVENT_BUS_NAME ?? 'default',
    deadLetterQueueUrl: process.env.BERTH_EVENTS_DLQ_URL,
  }),
  eventSource: process.env.BERTH_EVENT_SOURCE ?? DEFAULT_EVENT_SOURCE,
  serviceLoop,
};

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>().handler((event) =>
  processStreamRecords(deps, event.Records as StreamRecord[]),
);

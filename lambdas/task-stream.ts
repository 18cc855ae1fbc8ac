// The table's stream -> ECS events on EventBridge and the next lifecycle step. Wiring only.
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ServiceLoopStore } from '../src/adapters/dynamodb/service-loop-store';
import { createDocumentClient } from '../src/adapters/dynamodb/document-client';
import { EventBridgePublisher } from '../src/adapters/eventbridge/eventbridge-publisher';
import { createObservability, observedHandler, ObservedEventPublisher, recordStreamLag } from '../src/adapters/observability';
import { StepFunctionsServiceLoop } from '../src/adapters/stepfunctions/service-loop';
import { SfnStatesClient } from '../src/adapters/stepfunctions/sfn-states-client';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';
import { processStreamRecords, type StreamRecord } from '../src/app/stream-processor';
import { DEFAULT_EVENT_SOURCE } from '../src/domain/task-events';
import { ApiGatewayAgentNotifier } from '../src/adapters/apigateway/agent-channel-notifier';
import { AgentConnectionStore } from '../src/adapters/dynamodb/agent-connection-store';

const observability = createObservability('berth-task-stream');
const doc = createDocumentClient();

// Service loops: one Step Functions execution per service, started and woken from here.
const stateMachineArn = process.env.BERTH_SERVICE_LOOP_STATE_MACHINE_ARN;
const serviceLoop = stateMachineArn
  ? new StepFunctionsServiceLoop({
      states: new SfnStatesClient(),
      store: new ServiceLoopStore(doc, process.env.BERTH_TABLE_NAME!),
      stateMachineArn,
      logger: observability.logger,
    })
  : undefined;

let publisher: ObservedEventPublisher;
const eventBridge = new EventBridgePublisher({
  eventBusName: process.env.BERTH_EVENT_BUS_NAME ?? 'default',
  deadLetterQueueUrl: process.env.BERTH_EVENTS_DLQ_URL,
  onDeadLetter: (events) => publisher.deadLettered(events),
});
publisher = new ObservedEventPublisher(eventBridge, observability);

const deps = {
  context: berthContextFromEnvironment(process.env, doc),
  publisher,
  eventSource: process.env.BERTH_EVENT_SOURCE ?? DEFAULT_EVENT_SOURCE,
  serviceLoop,
  // The agent channel (docs/agent-channel.md), when the stack has one.
  agentNotifier: process.env.BERTH_AGENT_CHANNEL_CALLBACK_URL
    ? new ApiGatewayAgentNotifier({
        endpoint: process.env.BERTH_AGENT_CHANNEL_CALLBACK_URL,
        connections: new AgentConnectionStore(doc, process.env.BERTH_AGENT_CONNECTIONS_TABLE_NAME!),
      })
    : undefined,
};

export const handler = observedHandler<DynamoDBStreamEvent, DynamoDBBatchResponse>(observability, (event) => {
  recordStreamLag(observability.metrics, event.Records, Date.now());
  return processStreamRecords(deps, event.Records as StreamRecord[]);
});

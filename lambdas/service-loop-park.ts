// The Park state of a service's loop execution (.waitForTaskToken): store the task token where a
// wake-up finds it, or fail at once (ServiceLoopWoken / ServiceLoopSuperseded). Wiring only.
import { ServiceLoopStore } from '../src/adapters/dynamodb/service-loop-store';
import { createDocumentClient } from '../src/adapters/dynamodb/document-client';
import { createObservability, observedHandler } from '../src/adapters/observability';
import { parkStep, type ParkRequest } from '../src/app/service-loop-steps';

const observability = createObservability('berth-service-loop-park');
const loops = new ServiceLoopStore(createDocumentClient(), process.env.BERTH_TABLE_NAME!);

export const handler = observedHandler<ParkRequest, { parked: true }>(
  observability,
  (request) => parkStep(loops, request),
  (request) => ({ serviceArn: request.serviceArn }),
);

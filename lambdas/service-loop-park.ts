// The Park state of a service's loop execution (.waitForTaskToken): store the task token where a
// wake-up finds it, or fail at once (ServiceLoopWoken / ServiceLoopSuperseded). Wiring only.
import middy from '@middy/core';
import { ServiceLoopStore } from '../src/adapters/dynamodb/service-loop-store';
import { createDocumentClient } from '../src/adapters/dynamodb/document-client';
import { parkStep, type ParkRequest } from '../src/app/service-loop-steps';

const loops = new ServiceLoopStore(createDocumentClient(), process.env.BERTH_TABLE_NAME!);

export const handler = middy<ParkRequest, { parked: true }>().handler((request) => parkStep(loops, request));

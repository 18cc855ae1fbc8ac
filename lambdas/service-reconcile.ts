// The Reconcile state of a service's loop execution: adopt the loop, one scheduler pass. Wiring only.
import middy from '@middy/core';
import { ServiceLoopStore } from '../src/adapters/dynamodb/service-loop-store';
import { createDocumentClient } from '../src/adapters/dynamodb/document-client';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';
import { reconcileStep, type LoopState, type ReconciledState } from '../src/app/service-loop-steps';

const deps = {
  context: berthContextFromEnvironment(process.env),
  loops: new ServiceLoopStore(createDocumentClient(), process.env.BERTH_TABLE_NAME!),
};

export const handler = middy<LoopState, ReconciledState>().handler((state) => reconcileStep(deps, state));

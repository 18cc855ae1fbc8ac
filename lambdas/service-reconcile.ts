// The Reconcile state of a service's loop execution: adopt the loop, one scheduler pass. Wiring only.
import { ServiceLoopStore } from '../src/adapters/dynamodb/service-loop-store';
import { createDocumentClient } from '../src/adapters/dynamodb/document-client';
import { createObservability, observedHandler } from '../src/adapters/observability';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';
import { reconcileStep, type LoopState, type ReconciledState } from '../src/app/service-loop-steps';

const observability = createObservability('berth-service-reconcile');
const doc = createDocumentClient();
const deps = {
  context: berthContextFromEnvironment(process.env, doc),
  loops: new ServiceLoopStore(doc, process.env.BERTH_TABLE_NAME!),
};

export const handler = observedHandler<LoopState, ReconciledState>(
  observability,
  (state) => reconcileStep(deps, state),
  (state) => ({ serviceArn: state.serviceArn }),
);

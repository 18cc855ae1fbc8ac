// EC2 Spot Instance Interruption Warning -> the two-minute warning for the FARGATE_SPOT tasks on that host. Wiring only.
import type { EventBridgeEvent } from 'aws-lambda';
import { createObservability, observedHandler } from '../src/adapters/observability';
import { interruptSpotCapacityOfEc2Instance } from '../src/app/agent-reports';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';

type SpotWarning = EventBridgeEvent<'EC2 Spot Instance Interruption Warning', { 'instance-id': string }>;

const observability = createObservability('berth-spot-interruption');
const context = berthContextFromEnvironment(process.env);

export const handler = observedHandler<SpotWarning, unknown>(
  observability,
  (event) =>
    interruptSpotCapacityOfEc2Instance({ ...context, scope: { account: context.account, region: event.region } }, event.detail['instance-id']),
  (event) => ({ ec2InstanceId: event.detail?.['instance-id'] }),
);

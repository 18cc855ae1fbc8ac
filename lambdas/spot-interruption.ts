// EC2 Spot Instance Interruption Warning -> the two-minute warning for the FARGATE_SPOT tasks on that host. Wiring only.
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { interruptSpotCapacityOfEc2Instance } from '../src/app/agent-reports';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';

const context = berthContextFromEnvironment(process.env);

export const handler = middy<EventBridgeEvent<'EC2 Spot Instance Interruption Warning', { 'instance-id': string }>>().handler(
  (event) =>
    interruptSpotCapacityOfEc2Instance(
      { ...context, scope: { account: context.account, region: event.region } },
      event.detail['instance-id'],
    ),
);

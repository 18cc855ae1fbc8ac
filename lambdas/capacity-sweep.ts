// Every minute: place tasks still waiting for capacity (a safety net under the stream's triggers) and stop
// those that waited past BERTH_CAPACITY_WAIT_SECONDS. Wiring only.
import middy from '@middy/core';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';
import { capacityWaitMs } from '../src/app/context-from-environment';
import { placeWaitingTasks } from '../src/app/task-engine';

const context = berthContextFromEnvironment(process.env);

export const handler = middy().handler(async () => ({
  placed: await placeWaitingTasks(
    context,
    { account: context.account, region: context.defaultRegion },
    { maxWaitMs: capacityWaitMs(process.env), logger: console },
  ),
}));

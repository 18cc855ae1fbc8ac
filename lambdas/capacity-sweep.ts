// Every minute: place tasks still waiting for capacity (a safety net under the stream's triggers). Wiring only.
import middy from '@middy/core';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';
import { placeWaitingTasks } from '../src/app/task-engine';

const context = berthContextFromEnvironment(process.env);

export const handler = middy().handler(async () => ({
  placed: await placeWaitingTasks(context, { account: context.account, region: context.defaultRegion }),
}));

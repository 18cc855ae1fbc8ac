// Every minute: mark instances whose agent fell silent (BERTH_AGENT_TIMEOUT_SECONDS, default 60), then
// place tasks still waiting for capacity (a safety net under the stream's triggers) and stop those that
// waited past BERTH_CAPACITY_WAIT_SECONDS. Wiring only.
import middy from '@middy/core';
import { disconnectSilentAgents } from '../src/app/agent-liveness';
import { berthContextFromEnvironment, capacityWaitMs } from '../src/app/context-from-environment';
import { placeWaitingTasks } from '../src/app/task-engine';

const context = berthContextFromEnvironment(process.env);

export const handler = middy().handler(async () => {
  const scope = { account: context.account, region: context.defaultRegion };
  const disconnected = await disconnectSilentAgents(context, scope);
  const placed = await placeWaitingTasks(context, scope, { maxWaitMs: capacityWaitMs(process.env), logger: console });
  return { disconnected, placed };
});

// Every minute: the capacity sweep (src/app/capacity-sweep.ts) in the deployment's region, with the
// wait bound from BERTH_CAPACITY_WAIT_SECONDS. Wiring only. The managed scaling metric goes to stdout
// as embedded metric format lines, which CloudWatch Logs turns into Berth/ManagedScaling metrics
// (no CloudWatch API call, so no permission beyond the function's own log group).
import { createObservability, observedHandler } from '../src/adapters/observability';
import { sweepCapacity } from '../src/app/capacity-sweep';
import { berthContextFromEnvironment, capacityWaitMs } from '../src/app/context-from-environment';

const observability = createObservability('berth-capacity-sweep');
const context = berthContextFromEnvironment(process.env);

export const handler = observedHandler<unknown, unknown>(observability, () =>
  sweepCapacity(context, { account: context.account, region: context.defaultRegion }, {
    maxWaitMs: capacityWaitMs(process.env),
    logger: observability.logger,
    // Written raw, not through console.log (which prefixes a timestamp and request id): EMF needs a JSON line.
    metricSink: (line) => process.stdout.write(`${line}\n`),
  }),
);

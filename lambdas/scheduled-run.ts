// EventBridge Scheduler -> one scheduled run (src/app/scheduled-runs.ts): the schedule's Input (Scheduler's
// EcsParameters, the cluster ARN, the schedule ARN and the scheduled time) becomes RunTask. Wiring only.
// Scheduler invokes Lambda asynchronously: a thrown error goes to Lambda's retries and on-failure destination.
import { createObservability, observedHandler } from '../src/adapters/observability';
import { runScheduledInvocation } from '../src/app/scheduled-runs';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';

const observability = createObservability('berth-scheduled-run');
const context = berthContextFromEnvironment(process.env);

export const handler = observedHandler<unknown, unknown>(
  observability,
  (event) => runScheduledInvocation(context, event),
  (event) => {
    const input = (event ?? {}) as Record<string, unknown>;
    return { clusterArn: stringOr(input.ClusterArn ?? input.clusterArn), scheduleArn: stringOr(input.ScheduleArn ?? input.scheduleArn) };
  },
);

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

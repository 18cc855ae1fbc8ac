// EventBridge Scheduler -> one scheduled run (src/app/scheduled-runs.ts): the schedule's Input (Scheduler's
// EcsParameters, the cluster ARN, the schedule ARN and the scheduled time) becomes RunTask. Wiring only.
// Scheduler invokes Lambda asynchronously: a thrown error goes to Lambda's retries and on-failure destination.
import middy from '@middy/core';
import { runScheduledInvocation } from '../src/app/scheduled-runs';
import { berthContextFromEnvironment } from '../src/app/context-from-environment';

const context = berthContextFromEnvironment(process.env);

export const handler = middy<unknown>().handler((event) => runScheduledInvocation(context, event));

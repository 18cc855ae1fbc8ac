/**
 * One scheduled run: what an invocation of an EventBridge Scheduler schedule does to Berth. In AWS the
 * scheduled-run function (lambdas/scheduled-run.ts) gets it from Scheduler; locally the schedule runner
 * (src/app/schedule-firing.ts) makes it, for a Berth cluster target and for a target that is the
 * scheduled-run function's ARN alike. RunTask gets `startedBy` the schedule's name and a clientToken
 * from the schedule ARN and the scheduled time, so a retried or duplicated invocation starts nothing new.
 */
import { runTaskRequest } from '../domain/ecs-parameters';
import { scopeOfScheduleArn } from '../domain/schedule';
import { runTaskClientToken } from '../domain/schedule-expression';
import { parseScheduledRunEvent, scheduleNameOfArn, TasksNotStartedError, type ScheduledRun } from '../domain/scheduled-run';
import type { BerthContext } from './context';
import { runTask, type RunTaskInput } from './tasks';

/** RunTask for one firing, in the schedule's partition, account and region; RunTask's answer. */
export function runScheduledTask(ctx: BerthContext, run: ScheduledRun) {
  const request = runTaskRequest(run.clusterArn, run.parameters, {
    scheduleName: scheduleNameOfArn(run.scheduleArn),
    clientToken: runTaskClientToken(run.scheduleArn, run.scheduledAt),
  });
  return runTask({ ...ctx, scope: scopeOfScheduleArn(run.scheduleArn) }, request as RunTaskInput);
}

/**
 * The scheduled-run function's event (the target's Input after Scheduler's substitution) -> RunTask.
 * Returns the started task ARNs; throws ValidationException on a bad event, the ECS error of a refused
 * RunTask, or TasksNotStartedError when RunTask placed nothing.
 */
export async function runScheduledInvocation(ctx: BerthContext, event: unknown): Promise<{ taskArns: string[] }> {
  const result = await runScheduledTask(ctx, parseScheduledRunEvent(event));
  if (result.tasks.length === 0) {
    const reasons = result.failures.map((failure) => (failure as { reason?: string }).reason).join(', ');
    throw new TasksNotStartedError(`RunTask started no task: ${reasons || 'no reason given'}.`);
  }
  return { taskArns: result.tasks.map((task) => task.taskArn as string) };
}

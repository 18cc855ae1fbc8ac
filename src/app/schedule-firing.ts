/**
 * Firing due schedules (the local runtime's stand-in for EventBridge Scheduler's invocations). A
 * firing whose target is a Berth cluster runs Berth's RunTask with the schedule's EcsParameters,
 * `startedBy` the schedule's name and a clientToken derived from the schedule ARN and the scheduled
 * time; then the checkpoint moves on. Run first, checkpoint second: a crash in between repeats the
 * firing on restart with the same clientToken, and RunTask answers with the tasks it already started.
 */
import { VersionConflictError, BerthError, ConflictException, ThrottlingException, ValidationException } from '../domain/errors';
import { isEcsClusterTarget } from '../domain/ecs-parameters';
import { decideFiring, scopeOfScheduleArn, type ScheduleRecord } from '../domain/schedule';
import { fireTime, runTaskClientToken } from '../domain/schedule-expression';
import { isScheduledRunTarget, substituteContextAttributes } from '../domain/scheduled-run';
import type { DueFiring, StoredSchedule } from '../adapters/dynamodb/schedule-repository';
import type { BerthContext } from './context';
import { runScheduledInvocation, runScheduledTask } from './scheduled-runs';

export interface FiringLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Whether Berth runs this schedule's target locally: a Berth cluster, or Berth's scheduled-run function. */
export function isLocalTarget(record: ScheduleRecord): boolean {
  return isEcsClusterTarget(record.Target.Arn) || isScheduledRunTarget(record.Target.Arn, scopeOfScheduleArn(record.Arn));
}

/**
 * One invocation of a schedule's target for the firing scheduled at `scheduledAt`, through the same
 * use case as in AWS (src/app/scheduled-runs.ts). Repeating it (a duplicate delivery, a replay after a
 * crash) starts nothing new. Returns the task ARNs.
 */
export async function invokeTarget(ctx: BerthContext, record: ScheduleRecord, scheduledAt: number, attemptNumber = 1): Promise<string[]> {
  const { Target } = record;
  if (isEcsClusterTarget(Target.Arn)) {
    if (!Target.EcsParameters) return [];
    const result = await runScheduledTask(ctx, { clusterArn: Target.Arn, parameters: Target.EcsParameters, scheduleArn: record.Arn, scheduledAt });
    return result.tasks.map((task) => task.taskArn as string);
  }
  if (!isScheduledRunTarget(Target.Arn, scopeOfScheduleArn(record.Arn))) return [];
  const { taskArns } = await runScheduledInvocation(ctx, scheduledRunEvent(record, scheduledAt, attemptNumber));
  return taskArns;
}

/**
 * The event Scheduler would send the scheduled-run function: the target's Input with the context
 * attributes filled in. The execution id is derived from the firing, so a replay sends the same event.
 */
export function scheduledRunEvent(record: ScheduleRecord, scheduledAt: number, attemptNumber: number): unknown {
  const input = substituteContextAttributes(record.Target.Input ?? '', {
    scheduleArn: record.Arn,
    scheduledAt,
    executionId: runTaskClientToken(record.Arn, scheduledAt).slice(0, 32),
    attemptNumber,
  });
  try {
    return JSON.parse(input);
  } catch {
    // Lambda refuses a payload that is not JSON (InvalidRequestContentException): nothing runs.
    throw new ValidationException('The Input of a Lambda target must be JSON.');
  }
}

/** Fires every due schedule once; returns how many firings ran. */
export async function fireDueSchedules(ctx: BerthContext, logger: FiringLogger): Promise<number> {
  const due = await ctx.schedules.dueFirings(ctx.clock());
  let ran = 0;
  for (const firing of due) {
    if (await fireOne(ctx, firing, logger)) ran++;
  }
  return ran;
}

async function fireOne(ctx: BerthContext, firing: DueFiring, logger: FiringLogger): Promise<boolean> {
  const stored = await ctx.schedules.getSchedule(firing.groupArn, firing.name);
  // The due entry moves with the schedule in one transaction; one that disagrees was just replaced.
  if (!stored || stored.nextScheduledAt !== firing.scheduledAt || stored.nextFireAt !== firing.fireAt) return false;
  const { record } = stored;
  const scheduled = new Date(firing.scheduledAt).toISOString();
  const decision = decideFiring(record, firing.scheduledAt, ctx.clock());
  let ran = false;
  if (decision.action === 'skip') {
    logger.warn(`schedule ${record.Arn}: skipped the run scheduled at ${scheduled}: ${decision.reason} while Berth was not running`);
  } else if (!isLocalTarget(record)) {
    logger.warn(
      `schedule ${record.Arn}: target ${record.Target.Arn} is neither a Berth cluster nor Berth's scheduled-run function; Berth runs only those locally`,
    );
  } else {
    try {
      const taskArns = await invokeTarget(ctx, record, firing.scheduledAt);
      logger.info(`schedule ${record.Arn}: run scheduled at ${scheduled} started ${taskArns.join(', ')}`);
      ran = true;
    } catch (error) {
      // Contention: leave the checkpoint, the next pass repeats the firing with the same clientToken.
      if (error instanceof ThrottlingException || error instanceof ConflictException || !(error instanceof BerthError)) throw error;
      // A refused RunTask (no such cluster, an inactive task definition) is a failed invocation:
      // Scheduler would retry it and then drop it; locally it is logged and dropped.
      logger.warn(`schedule ${record.Arn}: run scheduled at ${scheduled} failed: ${error.name}: ${error.message}`);
    }
  }
  await checkpoint(ctx, stored, decision.next);
  return ran;
}

async function checkpoint(ctx: BerthContext, stored: StoredSchedule, next: number | undefined): Promise<void> {
  try {
    if (next === undefined && stored.record.ActionAfterCompletion === 'DELETE') {
      await ctx.schedules.deleteSchedule(stored);
      return;
    }
    await ctx.schedules.advance(
      stored,
      next === undefined ? undefined : { scheduledAt: next, fireAt: fireTime(stored.record.Arn, next, stored.record.FlexibleTimeWindow) },
    );
  } catch (error) {
    // Someone changed the schedule meanwhile (an update, a delete, another runner): their write
    // carries its own checkpoint, which wins.
    if (!(error instanceof VersionConflictError)) throw error;
  }
}

/**
 * Firing due schedules (the local runtime's stand-in for EventBridge Scheduler's invocations). A
 * firing whose target is a Berth cluster, or Berth's scheduled-run function, runs the scheduled-run
 * use case (src/app/scheduled-runs.ts): RunTask with the schedule's EcsParameters, `startedBy` the
 * schedule's name and a clientToken derived from the schedule ARN and the scheduled time; then the
 * checkpoint moves on. Run first, checkpoint second: a crash in between repeats the firing on restart
 * with the same clientToken, and RunTask answers with the tasks it already started. A failed
 * invocation is retried, then dead-lettered (src/domain/schedule-retry.ts).
 */
import { VersionConflictError, BerthError, ConflictException, ThrottlingException, ValidationException } from '../domain/errors';
import { isEcsClusterTarget } from '../domain/ecs-parameters';
import { decideFiring, scopeOfScheduleArn, type ScheduleRecord } from '../domain/schedule';
import { fireTime, runTaskClientToken } from '../domain/schedule-expression';
import { isScheduledRunTarget, schedulerTimeText, substituteContextAttributes } from '../domain/scheduled-run';
import type { DueFiring, PendingRetry, StoredSchedule } from '../adapters/dynamodb/schedule-repository';
import { nextRetry, retryBounds } from '../domain/schedule-retry';
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

/** Runs every due firing and retry once; returns how many of them started their tasks. */
export async function fireDueSchedules(ctx: BerthContext, logger: FiringLogger): Promise<number> {
  const due = await ctx.schedules.dueEntries(ctx.clock());
  let ran = 0;
  for (const entry of due) {
    if (await (entry.kind === 'firing' ? fireOne(ctx, entry, logger) : retryOne(ctx, entry, logger))) ran++;
  }
  return ran;
}

const isContention = (error: unknown) =>
  error instanceof ThrottlingException || error instanceof ConflictException || !(error instanceof BerthError);

async function fireOne(ctx: BerthContext, firing: DueFiring, logger: FiringLogger): Promise<boolean> {
  const stored = await ctx.schedules.getSchedule(firing.groupArn, firing.name);
  // The due entry moves with the schedule in one transaction; one that disagrees was just replaced.
  if (!stored || stored.nextScheduledAt !== firing.scheduledAt || stored.nextFireAt !== firing.fireAt) return false;
  const { record } = stored;
  const scheduled = new Date(firing.scheduledAt).toISOString();
  const decision = decideFiring(record, firing.scheduledAt, ctx.clock());
  let ran = false;
  let retry: PendingRetry | undefined;
  if (decision.action === 'skip') {
    logger.warn(`schedule ${record.Arn}: skipped the run scheduled at ${scheduled}: ${decision.reason} while Berth was not running`);
  } else if (!isLocalTarget(record)) {
    logger.warn(
      `schedule ${record.Arn}: target ${record.Target.Arn} is neither a Berth cluster nor Berth's scheduled-run function; Berth runs only those locally`,
    );
  } else {
    const firstAttemptAt = ctx.clock();
    try {
      const taskArns = await invokeTarget(ctx, record, firing.scheduledAt);
      logger.info(`schedule ${record.Arn}: run scheduled at ${scheduled} started ${taskArns.join(', ')}`);
      ran = true;
    } catch (error) {
      // Contention: leave the checkpoint, the next pass repeats the firing with the same clientToken.
      if (isContention(error)) throw error;
      // A refused RunTask (no such cluster, an inactive task definition, no task placed) is a failed
      // invocation: retried within the target's bounds, then dead-lettered (src/domain/schedule-retry.ts).
      retry = afterFailure(ctx, { record, groupArn: stored.groupArn, scheduledAt: firing.scheduledAt, attempt: 1, firstAttemptAt }, error as BerthError, logger);
    }
  }
  await checkpoint(ctx, stored, decision.next, retry);
  return ran;
}

/** One retry of a failed firing; the retry carries the schedule as it fired. */
async function retryOne(ctx: BerthContext, retry: PendingRetry, logger: FiringLogger): Promise<boolean> {
  const { record, scheduledAt, attempt } = retry;
  let next: PendingRetry | undefined;
  let ran = false;
  try {
    const taskArns = await invokeTarget(ctx, record, scheduledAt, attempt);
    logger.info(`schedule ${record.Arn}: ${attemptLabel(scheduledAt, attempt)} started ${taskArns.join(', ')}`);
    ran = true;
  } catch (error) {
    if (isContention(error)) throw error;
    next = afterFailure(ctx, retry, error as BerthError, logger);
  }
  try {
    await ctx.schedules.finishRetry(retry, next);
  } catch (error) {
    // Already ended by another pass: its outcome stands.
    if (!(error instanceof VersionConflictError)) throw error;
  }
  return ran;
}

const attemptLabel = (scheduledAt: number, attempt: number) =>
  `${attempt === 1 ? 'run' : `retry ${attempt - 1} of the run`} scheduled at ${new Date(scheduledAt).toISOString()}`;

/**
 * Logs a failed attempt and returns its retry, or, when there is none, writes the dead-letter event
 * (to the log: locally there is no SQS queue) and returns undefined.
 */
function afterFailure(
  ctx: BerthContext,
  failed: Omit<PendingRetry, 'retryAt'>,
  error: BerthError,
  logger: FiringLogger,
): PendingRetry | undefined {
  const { record, scheduledAt, attempt } = failed;
  logger.warn(`schedule ${record.Arn}: ${attemptLabel(scheduledAt, attempt)} failed: ${error.name}: ${error.message}`);
  const bounds = retryBounds(record.Target, !isEcsClusterTarget(record.Target.Arn));
  const decision = error instanceof ValidationException ? undefined : nextRetry(bounds, attempt, failed.firstAttemptAt, ctx.clock());
  if (decision && 'retryAt' in decision) {
    logger.info(`schedule ${record.Arn}: retry ${attempt} of the run scheduled at ${new Date(scheduledAt).toISOString()} at ${new Date(decision.retryAt).toISOString()}`);
    return { ...failed, attempt: attempt + 1, retryAt: decision.retryAt };
  }
  const deadLetter = record.Target.DeadLetterConfig as { Arn?: string } | undefined;
  const event = {
    scheduleArn: record.Arn,
    targetArn: record.Target.Arn,
    scheduledTime: schedulerTimeText(scheduledAt),
    attempts: attempt,
    errorCode: error.name,
    errorMessage: error.message,
    ...(decision ? { exhaustedRetryCondition: decision.exhausted } : {}),
  };
  logger.warn(
    deadLetter?.Arn
      ? `schedule ${record.Arn}: dead-letter event for ${deadLetter.Arn}: ${JSON.stringify(event)}`
      : `schedule ${record.Arn}: dropped the run scheduled at ${event.scheduledTime} after ${attempt} attempt(s) (no DeadLetterConfig): ${JSON.stringify(event)}`,
  );
  return undefined;
}

async function checkpoint(ctx: BerthContext, stored: StoredSchedule, next: number | undefined, retry: PendingRetry | undefined): Promise<void> {
  try {
    if (next === undefined && stored.record.ActionAfterCompletion === 'DELETE') {
      await ctx.schedules.deleteSchedule(stored, retry);
      return;
    }
    await ctx.schedules.advance(
      stored,
      next === undefined ? undefined : { scheduledAt: next, fireAt: fireTime(stored.record.Arn, next, stored.record.FlexibleTimeWindow) },
      retry,
    );
  } catch (error) {
    // Someone changed the schedule meanwhile (an update, a delete, another runner): their write
    // carries its own checkpoint, which wins.
    if (!(error instanceof VersionConflictError)) throw error;
  }
}

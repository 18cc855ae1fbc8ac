/**
 * Berth's scheduled-run target: an EventBridge Scheduler schedule whose target is Berth's
 * scheduled-run Lambda function (lambdas/scheduled-run.ts in AWS; recognized by its ARN locally),
 * with an Input that carries Scheduler's own ECS target shape (EcsParameters) plus the cluster ARN
 * and two of Scheduler's context attributes, which Scheduler substitutes before each invocation:
 *
 *   { "ClusterArn": "arn:aws:ecs:…:cluster/demo",
 *     "EcsParameters": { "TaskDefinitionArn": "…", "LaunchType": "FARGATE", … },
 *     "ScheduleArn": "<aws.scheduler.schedule-arn>",
 *     "ScheduledTime": "<aws.scheduler.scheduled-time>" }
 */
import { partitionOf, type Scope } from './arns';
import { isEcsClusterTarget, validateEcsTarget, type EcsParameters } from './ecs-parameters';
import { BerthError, ValidationException } from './errors';

/** The function's name in the stack, and so in its ARN, in AWS and locally alike. */
export const SCHEDULED_RUN_FUNCTION_NAME = 'berth-scheduled-run';

export const scheduledRunFunctionArn = (scope: Scope, functionName = SCHEDULED_RUN_FUNCTION_NAME) =>
  `arn:${scope.partition ?? partitionOf(scope.region)}:lambda:${scope.region}:${scope.account}:function:${functionName}`;

/**
 * True when a schedule's target is Berth's scheduled-run function in the schedule's own partition,
 * account and region (an unqualified ARN, or one with a version or alias: the same code runs).
 */
export function isScheduledRunTarget(targetArn: string, scope: Scope): boolean {
  const base = scheduledRunFunctionArn(scope);
  return targetArn === base || (targetArn.startsWith(`${base}:`) && /^[a-zA-Z0-9$_-]+$/.test(targetArn.slice(base.length + 1)));
}

/** Scheduler's context attributes: placeholders in a target's Input that it fills in per invocation. */
export const CONTEXT_ATTRIBUTE = {
  scheduleArn: '<aws.scheduler.schedule-arn>',
  scheduledTime: '<aws.scheduler.scheduled-time>',
  executionId: '<aws.scheduler.execution-id>',
  attemptNumber: '<aws.scheduler.attempt-number>',
} as const;

/** The scheduled time as Scheduler writes it into an Input: ISO 8601 UTC, whole seconds without a fraction. */
export const schedulerTimeText = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

export interface InvocationAttributes {
  readonly scheduleArn: string;
  readonly scheduledAt: number;
  readonly executionId: string;
  readonly attemptNumber: number;
}

/** Fills in the context attributes as Scheduler does: plain text replacement in the Input. */
export function substituteContextAttributes(input: string, attributes: InvocationAttributes): string {
  return input
    .replaceAll(CONTEXT_ATTRIBUTE.scheduleArn, attributes.scheduleArn)
    .replaceAll(CONTEXT_ATTRIBUTE.scheduledTime, schedulerTimeText(attributes.scheduledAt))
    .replaceAll(CONTEXT_ATTRIBUTE.executionId, attributes.executionId)
    .replaceAll(CONTEXT_ATTRIBUTE.attemptNumber, String(attributes.attemptNumber));
}

/** The Input of a scheduled-run target, before Scheduler's substitution (what the CDK construct writes). */
export interface ScheduledRunInput {
  ClusterArn: string;
  EcsParameters: EcsParameters;
  ScheduleArn: string;
  ScheduledTime: string;
}

export const scheduledRunInput = (clusterArn: string, parameters: EcsParameters): ScheduledRunInput => ({
  ClusterArn: clusterArn,
  EcsParameters: parameters,
  ScheduleArn: CONTEXT_ATTRIBUTE.scheduleArn,
  ScheduledTime: CONTEXT_ATTRIBUTE.scheduledTime,
});

/** One invocation, checked: what RunTask gets. */
export interface ScheduledRun {
  readonly clusterArn: string;
  readonly parameters: EcsParameters;
  readonly scheduleArn: string;
  readonly scheduledAt: number;
}

const SCHEDULE_ARN = /^arn:aws[a-z-]*:scheduler:[a-z0-9-]+:\d{12}:schedule\/[0-9a-zA-Z-_.]{1,64}\/([0-9a-zA-Z-_.]{1,64})$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The schedule's name, the last part of its ARN (what `startedBy` carries). */
export function scheduleNameOfArn(scheduleArn: string): string {
  const match = SCHEDULE_ARN.exec(scheduleArn);
  if (!match) throw new ValidationException(`Invalid ScheduleArn ${scheduleArn}.`);
  return match[1];
}

/**
 * Checks the event the scheduled-run function receives (the substituted Input) the way Scheduler
 * checks an ECS target; throws ValidationException. A placeholder left in place (the function invoked
 * by something other than Scheduler) is refused: the clientToken would not be deterministic.
 */
export function parseScheduledRunEvent(event: unknown): ScheduledRun {
  if (!event || typeof event !== 'object' || Array.isArray(event)) {
    throw new ValidationException('The scheduled-run input must be a JSON object.');
  }
  const { ClusterArn, EcsParameters, ScheduleArn, ScheduledTime } = event as Record<string, unknown>;
  if (typeof ClusterArn !== 'string' || !isEcsClusterTarget(ClusterArn)) {
    throw new ValidationException(`Invalid ClusterArn ${String(ClusterArn)}.`);
  }
  if (!EcsParameters || typeof EcsParameters !== 'object' || Array.isArray(EcsParameters)) {
    throw new ValidationException('EcsParameters is required when the target is an Amazon ECS cluster.');
  }
  const parameters = EcsParameters as EcsParameters;
  if (typeof parameters.TaskDefinitionArn !== 'string') throw new ValidationException('EcsParameters.TaskDefinitionArn is required.');
  validateEcsTarget(ClusterArn, parameters);
  if (typeof ScheduleArn !== 'string') throw new ValidationException('ScheduleArn is required.');
  scheduleNameOfArn(ScheduleArn);
  const scheduledAt = typeof ScheduledTime === 'string' && ISO_UTC.test(ScheduledTime) ? Date.parse(ScheduledTime) : Number.NaN;
  if (!Number.isFinite(scheduledAt)) throw new ValidationException(`Invalid ScheduledTime ${String(ScheduledTime)}.`);
  return { clusterArn: ClusterArn, parameters, scheduleArn: ScheduleArn, scheduledAt };
}

/**
 * RunTask answered, but started no task (every one failed placement; the clientToken is not spent, so
 * a retry may still start them). The scheduled-run function throws it, so Lambda's retries and its
 * failure destination apply as to any failed invocation.
 */
export class TasksNotStartedError extends BerthError {
  override readonly name = 'TasksNotStarted';
}

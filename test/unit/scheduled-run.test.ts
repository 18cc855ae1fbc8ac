import { describe, expect, it } from 'vitest';
import {
  isScheduledRunTarget,
  parseScheduledRunEvent,
  scheduledRunFunctionArn,
  scheduledRunInput,
  scheduleNameOfArn,
  schedulerTimeText,
  substituteContextAttributes,
} from '../../src/domain/scheduled-run';

const SCOPE = { account: '123456789012', region: 'eu-west-1' };
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:berth-scheduled-run';
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/jobs';
const TD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/backup:3';
const SCHEDULE = 'arn:aws:scheduler:eu-west-1:123456789012:schedule/berth/nightly.backup';

describe('the scheduled-run function ARN', () => {
  it('is berth-scheduled-run in the scope, with the partition of the region', () => {
    expect(scheduledRunFunctionArn(SCOPE)).toBe(FN);
    expect(scheduledRunFunctionArn({ account: '123456789012', region: 'cn-north-1' })).toBe(
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:berth-scheduled-run',
    );
  });

  it.each([
    ['the function', FN, true],
    ['a version', `${FN}:7`, true],
    ['an alias', `${FN}:live`, true],
    ['$LATEST', `${FN}:$LATEST`, true],
    ['another function', 'arn:aws:lambda:eu-west-1:123456789012:function:berth-scheduled-run-2', false],
    ['another account', 'arn:aws:lambda:eu-west-1:210987654321:function:berth-scheduled-run', false],
    ['another region', 'arn:aws:lambda:us-east-1:123456789012:function:berth-scheduled-run', false],
    ['an empty qualifier', `${FN}:`, false],
    ['a cluster', CLUSTER, false],
  ])('%s: %s -> %s', (_name, arn, expected) => {
    expect(isScheduledRunTarget(arn, SCOPE)).toBe(expected);
  });
});

describe('context attributes', () => {
  it('are replaced as text, every occurrence, with the scheduled time in whole seconds', () => {
    const input = JSON.stringify({ ...scheduledRunInput(CLUSTER, { TaskDefinitionArn: TD }), Note: '<aws.scheduler.execution-id>/<aws.scheduler.attempt-number>/<aws.scheduler.schedule-arn>' });
    const filled = JSON.parse(
      substituteContextAttributes(input, { scheduleArn: SCHEDULE, scheduledAt: Date.parse('2026-12-01T02:00:00Z'), executionId: 'abc', attemptNumber: 3 }),
    );
    expect(filled).toEqual({
      ClusterArn: CLUSTER,
      EcsParameters: { TaskDefinitionArn: TD },
      ScheduleArn: SCHEDULE,
      ScheduledTime: '2026-12-01T02:00:00Z',
      Note: `abc/3/${SCHEDULE}`,
    });
  });

  it('keeps milliseconds when a scheduled time has them, so the time reads back exactly', () => {
    expect(schedulerTimeText(Date.parse('2026-12-01T02:00:00.250Z'))).toBe('2026-12-01T02:00:00.250Z');
  });
});

describe('parseScheduledRunEvent', () => {
  const event = { ClusterArn: CLUSTER, EcsParameters: { TaskDefinitionArn: TD, TaskCount: 2 }, ScheduleArn: SCHEDULE, ScheduledTime: '2026-12-01T02:00:00Z' };

  it('gives the cluster, the parameters, the schedule ARN and the scheduled time', () => {
    expect(parseScheduledRunEvent(event)).toEqual({
      clusterArn: CLUSTER,
      parameters: { TaskDefinitionArn: TD, TaskCount: 2 },
      scheduleArn: SCHEDULE,
      scheduledAt: Date.parse('2026-12-01T02:00:00Z'),
    });
    expect(scheduleNameOfArn(SCHEDULE)).toBe('nightly.backup');
  });

  it.each([
    ['null', null, 'The scheduled-run input must be a JSON object.'],
    ['an array', [event], 'The scheduled-run input must be a JSON object.'],
    ['EcsParameters a string', { ...event, EcsParameters: 'x' }, 'EcsParameters is required when the target is an Amazon ECS cluster.'],
    ['no TaskDefinitionArn', { ...event, EcsParameters: { TaskCount: 1 } }, 'EcsParameters.TaskDefinitionArn is required.'],
    ['a TaskDefinitionArn that is not one', { ...event, EcsParameters: { TaskDefinitionArn: CLUSTER } }, `Invalid TaskDefinitionArn ${CLUSTER}.`],
    ['a schedule group ARN', { ...event, ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule-group/berth' }, /^Invalid ScheduleArn/],
    ['no ScheduledTime', { ...event, ScheduledTime: undefined }, 'Invalid ScheduledTime undefined.'],
    ['an epoch number', { ...event, ScheduledTime: 1_764_554_400 }, /^Invalid ScheduledTime/],
    ['an impossible date', { ...event, ScheduledTime: '2026-13-01T02:00:00Z' }, /^Invalid ScheduledTime/],
  ])('refuses %s', (_name, input, message) => {
    expect(() => parseScheduledRunEvent(input)).toThrow(message);
  });
});

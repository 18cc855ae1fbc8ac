/**
 * Scheduler's ECS target (src/domain/ecs-parameters.ts): which EcsParameters are refused, and the
 * RunTask request a firing sends.
 */
import { describe, expect, it } from 'vitest';
import { runTaskRequest, validateEcsTarget, type EcsParameters } from '../../src/domain/ecs-parameters';
import { ValidationException } from '../../src/domain/errors';

const CLUSTER = 'arn:aws:ecs:us-east-1:000000000000:cluster/demo';
const TD = 'arn:aws:ecs:us-east-1:000000000000:task-definition/backup:3';
const params = (overrides: Partial<EcsParameters> = {}): EcsParameters => ({ TaskDefinitionArn: TD, ...overrides });

describe('validateEcsTarget', () => {
  it.each<{ name: string; target?: string; parameters: EcsParameters }>([
    { name: 'just a task definition', parameters: params() },
    { name: 'ten tasks', parameters: params({ TaskCount: 10 }) },
    { name: 'a launch type with a network configuration', parameters: params({ LaunchType: 'FARGATE', NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-1'], AssignPublicIp: 'ENABLED' } } }) },
    {
      name: 'six capacity providers, one with a base',
      parameters: params({
        CapacityProviderStrategy: Array.from({ length: 6 }, (_, i) => ({ capacityProvider: `cp${i}`, weight: 1, base: i === 0 ? 1 : 0 })),
      }),
    },
    { name: 'tags as CDK sends them and as single-entry maps', parameters: params({ Tags: [{ key: 'team', value: 'ops' }, { env: 'prod' }] }) },
    { name: 'group, reference id, propagate tags, managed tags', parameters: params({ Group: 'nightly', ReferenceId: 'r-1', PropagateTags: 'TASK_DEFINITION', EnableECSManagedTags: true }) },
  ])('accepts $name', ({ target, parameters }) => {
    expect(() => validateEcsTarget(target ?? CLUSTER, parameters)).not.toThrow();
  });

  it.each<{ name: string; target?: string; parameters?: EcsParameters; message: string }>([
    { name: 'a cluster target without EcsParameters', message: 'EcsParameters is required' },
    { name: 'EcsParameters on a queue target', target: 'arn:aws:sqs:us-east-1:000000000000:q', parameters: params(), message: 'only be set when the target is an Amazon ECS cluster' },
    { name: 'a task definition that is not an ARN', parameters: params({ TaskDefinitionArn: 'backup:3' }), message: 'Invalid TaskDefinitionArn' },
    { name: 'a cluster ARN as the task definition', parameters: params({ TaskDefinitionArn: CLUSTER }), message: 'Invalid TaskDefinitionArn' },
    { name: 'zero tasks', parameters: params({ TaskCount: 0 }), message: 'TaskCount must be between 1 and 10' },
    { name: 'eleven tasks', parameters: params({ TaskCount: 11 }), message: 'TaskCount must be between 1 and 10' },
    {
      name: 'a launch type and a strategy',
      parameters: params({ LaunchType: 'FARGATE', CapacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] }),
      message: 'cannot both be set',
    },
    {
      name: 'seven capacity providers',
      parameters: params({ CapacityProviderStrategy: Array.from({ length: 7 }, (_, i) => ({ capacityProvider: `cp${i}` })) }),
      message: 'at most 6 items',
    },
    {
      name: 'two bases',
      parameters: params({ CapacityProviderStrategy: [{ capacityProvider: 'a', base: 1 }, { capacityProvider: 'b', base: 2 }] }),
      message: 'Only one capacity provider',
    },
    {
      name: 'a public IP without Fargate',
      parameters: params({ LaunchType: 'EC2', NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['s'], AssignPublicIp: 'ENABLED' } } }),
      message: 'AssignPublicIp ENABLED requires LaunchType FARGATE',
    },
    { name: 'a tag item holding two tags', parameters: params({ Tags: [{ a: '1', b: '2' }] }), message: 'must hold one tag' },
  ])('refuses $name', ({ target, parameters, message }) => {
    const attempt = () => validateEcsTarget(target ?? CLUSTER, parameters);
    expect(attempt).toThrow(ValidationException);
    expect(attempt).toThrow(message);
  });
});

describe('runTaskRequest', () => {
  it('maps Scheduler member names to ECS RunTask, with the firing\'s startedBy and clientToken', () => {
    const request = runTaskRequest(
      CLUSTER,
      params({
        TaskCount: 2,
        LaunchType: 'FARGATE',
        NetworkConfiguration: { awsvpcConfiguration: { Subnets: ['subnet-1'], SecurityGroups: ['sg-1'] } },
        Group: 'nightly',
        Tags: [{ key: 'team', value: 'ops' }, { env: 'prod' }],
        PropagateTags: 'TASK_DEFINITION',
        ReferenceId: 'ref',
        EnableECSManagedTags: true,
      }),
      { scheduleName: 'nightly-backup', clientToken: 'a'.repeat(64) },
    );
    expect(request).toEqual({
      cluster: CLUSTER,
      taskDefinition: TD,
      count: 2,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'] } },
      group: 'nightly',
      tags: [{ key: 'team', value: 'ops' }, { key: 'env', value: 'prod' }],
      propagateTags: 'TASK_DEFINITION',
      referenceId: 'ref',
      enableECSManagedTags: true,
      startedBy: 'nightly-backup',
      clientToken: 'a'.repeat(64),
    });
  });
  it('runs one task when TaskCount is not set, and sends no member that was not set', () => {
    expect(runTaskRequest(CLUSTER, params(), { scheduleName: 's', clientToken: 't' })).toEqual({
      cluster: CLUSTER,
      taskDefinition: TD,
      count: 1,
      startedBy: 's',
      clientToken: 't',
    });
  });
});

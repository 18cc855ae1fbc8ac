/**
 * CreateService / UpdateService decisions: defaults, validation as values, and which changes start a
 * new deployment. Also the service record helpers (deployment ids, new deployments).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEPLOYMENT_ID_PATTERN, deploymentIdFrom, newDeployment } from '../../src/domain/service';
import {
  decideCreateService, decideUpdateService, deploymentTrigger, resolveDeploymentConfiguration,
  type CreateContext, type CreateServiceInput, type UpdateServiceInput,
} from '../../src/domain/service-rules';
import { NEW, NOW, OLD, TD1, TD2, aDeployment, aService, deepFreeze } from '../support/services';

const CTX: CreateContext = {
  serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/default/web',
  clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/default',
  clusterCapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
  clusterDefaultStrategy: [],
  deploymentId: NEW,
  hasHealthCheck: false,
  now: NOW,
};
const create = (input: Partial<CreateServiceInput>, ctx: Partial<CreateContext> = {}) =>
  decideCreateService(deepFreeze({ serviceName: 'web', taskDefinition: TD1, desiredCount: 2, ...input }), { ...CTX, ...ctx });

describe('deployment ids', () => {
  it('are ecs-svc/ and 19 digits from the injected random source', () => {
    expect(deploymentIdFrom(() => 0)).toBe('ecs-svc/1000000000000000000');
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 0.9999999, noNaN: true }), { minLength: 19, maxLength: 19 }), (values) => {
      let i = 0;
      expect(deploymentIdFrom(() => values[i++]!)).toMatch(DEPLOYMENT_ID_PATTERN);
    }));
  });

  it('a new deployment is PRIMARY, IN_PROGRESS, with ECS\'s reason text', () => {
    expect(newDeployment({ desiredCount: 3, taskDefinition: TD2, launchType: 'FARGATE' }, NEW, NOW, true)).toEqual(expect.objectContaining({
      id: NEW, status: 'PRIMARY', taskDefinition: TD2, desiredCount: 3, rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment ${NEW} in progress.`, hasHealthCheck: true, failedTasks: 0, createdAt: NOW,
    }));
  });
});

describe('defaults', () => {
  it('REPLICA: minimumHealthyPercent 100, maximumPercent 200, circuit breaker off', () => {
    expect(resolveDeploymentConfiguration(undefined)).toEqual({
      minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: false, rollback: false },
    });
  });

  it('DAEMON: minimumHealthyPercent 0, maximumPercent 100 (ECS\'s daemon defaults)', () => {
    expect(resolveDeploymentConfiguration(undefined, undefined, 'DAEMON')).toEqual({
      minimumHealthyPercent: 0, maximumPercent: 100, deploymentCircuitBreaker: { enable: false, rollback: false },
    });
  });

  it('an update keeps what it does not name', () => {
    const previous = resolveDeploymentConfiguration({ minimumHealthyPercent: 50, alarms: { alarmNames: ['a'], enable: true, rollback: false } });
    expect(resolveDeploymentConfiguration({ maximumPercent: 150 }, previous)).toEqual({
      minimumHealthyPercent: 50, maximumPercent: 150, deploymentCircuitBreaker: { enable: false, rollback: false },
      alarms: { alarmNames: ['a'], enable: true, rollback: false },
    });
  });
});

describe('decideCreateService', () => {
  it('creates an ACTIVE REPLICA service and its first deployment', () => {
    const out = create({ launchType: 'FARGATE', healthCheckGracePeriodSeconds: 30 });
    expect('refused' in out).toBe(false);
    if ('refused' in out) return;
    expect(out.service).toEqual(expect.objectContaining({
      status: 'ACTIVE', desiredCount: 2, schedulingStrategy: 'REPLICA', launchType: 'FARGATE', taskDefinition: TD1,
      deploymentController: { type: 'ECS' }, healthCheckGracePeriodSeconds: 30,
    }));
    expect(out.deployment).toEqual(expect.objectContaining({ id: NEW, status: 'PRIMARY', taskDefinition: TD1, launchType: 'FARGATE', desiredCount: 2 }));
  });

  it('creates a DAEMON service: desiredCount 0 until the scheduler computes it, 0 / 100, EC2', () => {
    const out = create({ schedulingStrategy: 'DAEMON', desiredCount: undefined });
    if ('refused' in out) throw new Error(out.message);
    expect(out.service).toEqual(expect.objectContaining({
      schedulingStrategy: 'DAEMON', desiredCount: 0, launchType: 'EC2',
      deploymentConfiguration: expect.objectContaining({ minimumHealthyPercent: 0, maximumPercent: 100 }),
    }));
  });

  it('a DAEMON service in a cluster with a default capacity provider strategy needs launchType EC2, as on ECS', () => {
    const ctx = { clusterDefaultStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] };
    expect(create({ schedulingStrategy: 'DAEMON', desiredCount: undefined }, ctx)).toEqual(expect.objectContaining({ refused: 'InvalidParameterException' }));
    expect(create({ schedulingStrategy: 'DAEMON', desiredCount: undefined, launchType: 'EC2' }, ctx)).toEqual(expect.objectContaining({ service: expect.objectContaining({ launchType: 'EC2' }) }));
  });

  it.each([
    { name: 'no launch type nor strategy, no cluster default -> EC2', input: {}, ctx: {}, expected: { launchType: 'EC2' } },
    { name: 'no launch type nor strategy -> the cluster default strategy', input: {}, ctx: { clusterDefaultStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }, expected: { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] } },
    { name: 'its own strategy wins over the default', input: { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }, ctx: { clusterDefaultStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }, expected: { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] } },
  ])('launch target: $name', ({ input, ctx, expected }) => {
    const out = create(input, ctx);
    if ('refused' in out) throw new Error(out.message);
    expect(out.service).toEqual(expect.objectContaining(expected));
    expect(out.deployment).toEqual(expect.objectContaining(expected));
  });

  it.each([
    { name: 'DAEMON with a desiredCount', input: { schedulingStrategy: 'DAEMON' as const, launchType: 'EC2' as const }, refused: 'InvalidParameterException', message: /^The daemon scheduling strategy does not support a desired count for services\. Remove the desired count value and try again$/ },
    { name: 'DAEMON on Fargate', input: { schedulingStrategy: 'DAEMON' as const, desiredCount: undefined, launchType: 'FARGATE' as const }, refused: 'InvalidParameterException', message: /^The daemon scheduling strategy does not support the FARGATE launch type/ },
    { name: 'DAEMON with a capacity provider strategy', input: { schedulingStrategy: 'DAEMON' as const, desiredCount: undefined, capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }, refused: 'InvalidParameterException', message: /^Specifying a capacity provider strategy is not supported when you create a service using the DAEMON scheduling strategy\.$/ },
    { name: 'DAEMON with a placement strategy', input: { schedulingStrategy: 'DAEMON' as const, desiredCount: undefined, placementStrategy: [{ type: 'spread', field: 'instanceId' }] }, refused: 'InvalidParameterException', message: /^The daemon scheduling strategy does not support placement strategies/ },
    { name: 'DAEMON with maximumPercent 200', input: { schedulingStrategy: 'DAEMON' as const, desiredCount: undefined, deploymentConfiguration: { maximumPercent: 200 } }, refused: 'InvalidParameterException', message: /does not support values above 100 for maximumPercent/ },
    { name: 'CODE_DEPLOY controller', input: { deploymentController: { type: 'CODE_DEPLOY' } }, refused: 'UnsupportedFeatureException', message: /CODE_DEPLOY/ },
    { name: 'no desiredCount', input: { desiredCount: undefined }, refused: 'InvalidParameterException', message: /desiredCount is required/ },
    { name: 'desiredCount above 5000', input: { desiredCount: 5001 }, refused: 'InvalidParameterException', message: /desiredCount/ },
    { name: 'negative grace period', input: { healthCheckGracePeriodSeconds: -1 }, refused: 'InvalidParameterException', message: /healthCheckGracePeriodSeconds/ },
    { name: 'minimumHealthyPercent 101', input: { deploymentConfiguration: { minimumHealthyPercent: 101 } }, refused: 'InvalidParameterException', message: /minimumHealthyPercent/ },
    { name: 'maximumPercent 99', input: { deploymentConfiguration: { maximumPercent: 99 } }, refused: 'InvalidParameterException', message: /maximumPercent/ },
    { name: 'threshold value 0', input: { deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true, thresholdConfiguration: { type: 'COUNT' as const, value: 0 } } } }, refused: 'InvalidParameterException', message: /thresholdConfiguration/ },
    { name: 'launch type and strategy together', input: { launchType: 'FARGATE' as const, capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }, refused: 'InvalidParameterException', message: /both a launch type and capacity provider strategy/ },
    { name: 'a provider not associated with the cluster', input: { capacityProviderStrategy: [{ capacityProvider: 'my-asg', weight: 1 }] }, refused: 'InvalidParameterException', message: /not associated with the cluster/ },
  ])('refuses $name', ({ input, refused, message }) => {
    const out = create(input);
    expect(out).toEqual({ refused, message: expect.stringMatching(message) });
  });
});

describe('decideUpdateService: which changes start a deployment', () => {
  const service = aService({ taskDefinition: TD1, networkConfiguration: { awsvpcConfiguration: { subnets: ['s1', 's2'], securityGroups: ['g1'] } } });
  const deps = [aDeployment({ id: OLD, rolloutState: 'COMPLETED' })];
  const update = (input: UpdateServiceInput) =>
    decideUpdateService(deepFreeze(service), deepFreeze(deps), deepFreeze(input), { now: NOW, newDeploymentId: NEW, hasHealthCheck: false, clusterCapacityProviders: ['FARGATE', 'FARGATE_SPOT'] });

  it.each([
    { name: 'desiredCount alone: none', input: { desiredCount: 7 }, trigger: undefined },
    { name: 'deploymentConfiguration: none', input: { deploymentConfiguration: { minimumHealthyPercent: 50 } }, trigger: undefined },
    { name: 'healthCheckGracePeriodSeconds: none', input: { healthCheckGracePeriodSeconds: 60 }, trigger: undefined },
    { name: 'the same task definition: none', input: { taskDefinition: TD1 }, trigger: undefined },
    { name: 'the same subnets in another order: none', input: { networkConfiguration: { awsvpcConfiguration: { subnets: ['s2', 's1'], securityGroups: ['g1'], assignPublicIp: 'DISABLED' as const } } }, trigger: undefined },
    { name: 'a new task definition', input: { taskDefinition: TD2 }, trigger: 'taskDefinition' },
    { name: 'forceNewDeployment', input: { forceNewDeployment: true }, trigger: 'forceNewDeployment' },
    { name: 'a changed capacity provider strategy', input: { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }, trigger: 'capacityProviderStrategy' },
    { name: 'a changed network configuration', input: { networkConfiguration: { awsvpcConfiguration: { subnets: ['s3'] } } }, trigger: 'networkConfiguration' },
    { name: 'a changed platform version', input: { platformVersion: '1.3.0' }, trigger: 'platformVersion' },
  ])('$name', ({ input, trigger }) => {
    expect(deploymentTrigger(service, input)).toBe(trigger);
    const out = update(input);
    if ('refused' in out) throw new Error(out.message);
    expect(out.trigger).toBe(trigger);
    if (trigger) {
      expect(out.deployments.map((d) => [d.id, d.status, d.rolloutState])).toEqual([[NEW, 'PRIMARY', 'IN_PROGRESS'], [OLD, 'ACTIVE', 'COMPLETED']]);
      expect(out.deployments[0]!.taskDefinition).toBe(out.service.taskDefinition);
    } else {
      expect(out.deployments.every((d) => d.id === OLD && d.status === 'PRIMARY')).toBe(true);
    }
  });

  it.each([
    { name: 'a desiredCount', input: { desiredCount: 3 }, message: /does not support a desired count/ },
    { name: 'a capacity provider strategy', input: { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }, message: /capacity provider strategy is not supported/ },
    { name: 'a placement strategy', input: { placementStrategy: [{ type: 'binpack', field: 'memory' }] }, message: /does not support placement strategies/ },
    { name: 'maximumPercent 150', input: { deploymentConfiguration: { maximumPercent: 150 } }, message: /above 100 for maximumPercent/ },
  ])('a DAEMON service refuses $name', ({ input, message }) => {
    const daemon = aService({ schedulingStrategy: 'DAEMON', launchType: 'EC2', desiredCount: 3 });
    const out = decideUpdateService(deepFreeze(daemon), deepFreeze(deps), deepFreeze(input), { now: NOW, newDeploymentId: NEW, hasHealthCheck: false, clusterCapacityProviders: ['FARGATE'] });
    expect(out).toEqual({ refused: 'InvalidParameterException', message: expect.stringMatching(message) });
  });

  it('desiredCount alone updates the primary deployment\'s desiredCount, nothing else', () => {
    const out = update({ desiredCount: 7 });
    if ('refused' in out) throw new Error(out.message);
    expect(out.service.desiredCount).toBe(7);
    expect(out.service.version).toBe(service.version + 1);
    expect(out.deployments).toEqual([expect.objectContaining({ id: OLD, status: 'PRIMARY', desiredCount: 7 })]);
  });

  it.each([
    { name: 'a DRAINING service', status: 'DRAINING' as const },
    { name: 'an INACTIVE service', status: 'INACTIVE' as const },
  ])('refuses $name with ServiceNotActiveException', ({ status }) => {
    const out = decideUpdateService(aService({ status }), deps, { desiredCount: 1 }, { now: NOW, newDeploymentId: NEW, hasHealthCheck: false });
    expect(out).toEqual({ refused: 'ServiceNotActiveException', message: 'Service was not ACTIVE.' });
  });

  it('refuses a capacity provider strategy the cluster cannot use', () => {
    expect(update({ capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 0 }] })).toEqual({ refused: 'InvalidParameterException', message: expect.stringMatching(/weight value greater than zero/) });
    expect(update({ capacityProviderStrategy: [{ capacityProvider: 'my-asg', weight: 1 }] })).toEqual({ refused: 'InvalidParameterException', message: expect.stringMatching(/not associated/) });
  });

  it('refuses an invalid deployment configuration before changing anything', () => {
    expect(update({ deploymentConfiguration: { maximumPercent: 50 } })).toEqual({ refused: 'InvalidParameterException', message: expect.stringMatching(/maximumPercent/) });
  });
});

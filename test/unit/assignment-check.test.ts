import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../src/agent/assignment-check';

const PREFIX = 'arn:aws:ecs:us-east-1:123456789012';
const ID = '0123456789abcdef0123456789abcdef';
const clusterHost = { containerInstanceArn: `${PREFIX}:container-instance/web/${'a'.repeat(32)}`, fargateProviders: [] };
const fargateHost = { containerInstanceArn: `${PREFIX}:container-instance/berth-fargate-pool/${'b'.repeat(32)}`, fargateProviders: ['FARGATE'] };

const task = (cluster: string, holder: string | undefined, kind: { launchType: 'EC2' | 'FARGATE'; capacityProviderName?: string }, prefix = PREFIX) => ({
  taskArn: `${prefix}:task/${cluster}/${ID}`,
  clusterArn: `${prefix}:cluster/${cluster}`,
  ...kind,
  ...(holder ? { reservation: { containerInstanceArn: holder, cpu: 256, memory: 128 } } : {}),
});
const ec2 = { launchType: 'EC2' as const };
const fargate = { launchType: 'FARGATE' as const };
const spot = { launchType: 'FARGATE' as const, capacityProviderName: 'FARGATE_SPOT' };
const workers = { launchType: 'EC2' as const, capacityProviderName: 'workers' };
const workerHost = { ...clusterHost, capacityProvider: 'workers' };

describe('an assignment is run only when it is this host\'s', () => {
  it.each([
    { name: 'an EC2 task of its cluster held by it', host: clusterHost, task: task('web', clusterHost.containerInstanceArn, ec2) },
    { name: 'a Fargate task of any cluster held by it', host: fargateHost, task: task('jobs', fargateHost.containerInstanceArn, fargate) },
    { name: "its Auto Scaling group provider's task", host: workerHost, task: task('web', workerHost.containerInstanceArn, workers) },
    { name: 'an EC2 launch type task on a provider instance', host: workerHost, task: task('web', workerHost.containerInstanceArn, ec2) },
  ])('runs $name', ({ host, task }) => {
    expect(refusalOf(task, host)).toBeUndefined();
  });

  const otherHost = `${PREFIX}:container-instance/web/${'c'.repeat(32)}`;
  it.each([
    { name: 'a task held by another host', host: clusterHost, task: task('web', otherHost, ec2), refusal: 'it is held by another host' },
    { name: 'a task no host holds', host: clusterHost, task: task('web', undefined, ec2), refusal: 'it is held by another host' },
    { name: 'a task of another cluster', host: clusterHost, task: task('api', clusterHost.containerInstanceArn, ec2), refusal: 'it belongs to another cluster' },
    { name: 'a Fargate task on a container instance', host: clusterHost, task: task('web', clusterHost.containerInstanceArn, fargate), refusal: 'a container instance does not run FARGATE tasks' },
    { name: "another provider's task on a container instance", host: clusterHost, task: task('web', clusterHost.containerInstanceArn, workers), refusal: 'this host offers no workers capacity' },
    { name: 'an EC2 task on a Fargate host', host: fargateHost, task: task('web', fargateHost.containerInstanceArn, ec2), refusal: 'this host offers no EC2 capacity' },
    { name: 'a FARGATE_SPOT task on a FARGATE-only host', host: fargateHost, task: task('web', fargateHost.containerInstanceArn, spot), refusal: 'this host offers no FARGATE_SPOT capacity' },
    {
      name: 'a task of another account',
      host: clusterHost,
      task: task('web', clusterHost.containerInstanceArn, ec2, 'arn:aws:ecs:us-east-1:999999999999'),
      refusal: 'it belongs to another partition, account or region',
    },
    {
      name: 'a task of another partition',
      host: clusterHost,
      task: task('web', clusterHost.containerInstanceArn, ec2, 'arn:aws-cn:ecs:us-east-1:123456789012'),
      refusal: 'it belongs to another partition, account or region',
    },
    {
      name: 'a task whose ARN names another cluster than its clusterArn',
      host: clusterHost,
      task: { ...task('web', clusterHost.containerInstanceArn, ec2), taskArn: `${PREFIX}:task/api/${ID}` },
      refusal: 'its task ARN is not one of its cluster',
    },
    { name: 'a task whose cluster ARN is no ARN', host: clusterHost, task: { ...task('web', clusterHost.containerInstanceArn, ec2), clusterArn: 'web' }, refusal: 'its cluster ARN is not one' },
  ])('refuses $name', ({ host, task, refusal }) => {
    expect(refusalOf(task, host)).toBe(refusal);
  });
});

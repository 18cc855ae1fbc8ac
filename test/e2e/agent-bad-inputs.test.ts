/** Bad inputs to the agent-facing operations: the ECS error, HTTP 400, nothing written. */
import { CreateClusterCommand, ListContainerInstancesCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';

let berth: Harness;
beforeAll(async () => {
  berth = await startHarness();
  await berth.ecs().send(new CreateClusterCommand({ clusterName: 'agents' }));
  // EC2 tasks are placed at RunTask: a cluster with a host for the tasks agents report on.
  await berth.ecs().send(new CreateClusterCommand({ clusterName: 'stamping' }));
  await registerHost(berth.ecs(), 'stamping');
});
afterAll(() => berth.close());

const cpu = (value: number) => ({ name: 'CPU', type: 'INTEGER', integerValue: value });
const memory = (value: number) => ({ name: 'MEMORY', type: 'INTEGER', integerValue: value });
const unknownTask = 'arn:aws:ecs:us-east-1:123456789012:task/agents/0123456789abcdef0123456789abcdef';

const rows: { name: string; target: string; body: unknown; error: string }[] = [
  { name: 'RegisterContainerInstance: no resources', target: 'RegisterContainerInstance', body: { cluster: 'agents' }, error: 'InvalidParameterException' },
  { name: 'RegisterContainerInstance: zero memory', target: 'RegisterContainerInstance', body: { cluster: 'agents', totalResources: [cpu(1024), memory(0)] }, error: 'InvalidParameterException' },
  { name: 'RegisterContainerInstance: unknown cluster', target: 'RegisterContainerInstance', body: { cluster: 'nope', totalResources: [cpu(1024), memory(512)] }, error: 'ClusterNotFoundException' },
  { name: 'RegisterContainerInstance: resources not a list', target: 'RegisterContainerInstance', body: { cluster: 'agents', totalResources: 'lots' }, error: 'SerializationException' },
  { name: 'RegisterContainerInstance: bad identity document', target: 'RegisterContainerInstance', body: { cluster: 'agents', totalResources: [cpu(1024), memory(512)], instanceIdentityDocument: '{nope' }, error: 'InvalidParameterException' },
  { name: 'DescribeContainerInstances: missing list', target: 'DescribeContainerInstances', body: { cluster: 'agents' }, error: 'InvalidParameterException' },
  { name: 'DescribeContainerInstances: unknown cluster', target: 'DescribeContainerInstances', body: { cluster: 'nope', containerInstances: ['x'] }, error: 'ClusterNotFoundException' },
  { name: 'ListContainerInstances: filter with a lone = (not an operator)', target: 'ListContainerInstances', body: { cluster: 'agents', filter: 'attribute:ecs.os-type = linux' }, error: 'InvalidParameterException' },
  { name: 'ListContainerInstances: filter with an unknown subject', target: 'ListContainerInstances', body: { cluster: 'agents', filter: 'instanceType == t2.small' }, error: 'InvalidParameterException' },
  { name: 'ListContainerInstances: bad status', target: 'ListContainerInstances', body: { cluster: 'agents', status: 'SLEEPING' }, error: 'InvalidParameterException' },
  { name: 'UpdateContainerInstancesState: to REGISTERING', target: 'UpdateContainerInstancesState', body: { cluster: 'agents', containerInstances: ['x'], status: 'REGISTERING' }, error: 'InvalidParameterException' },
  { name: 'DeregisterContainerInstance: unknown instance', target: 'DeregisterContainerInstance', body: { cluster: 'agents', containerInstance: '0123456789abcdef0123456789abcdef' }, error: 'InvalidParameterException' },
  { name: 'SubmitTaskStateChange: unknown task', target: 'SubmitTaskStateChange', body: { cluster: 'agents', task: unknownTask, status: 'RUNNING' }, error: 'InvalidParameterException' },
  { name: 'SubmitTaskStateChange: no task', target: 'SubmitTaskStateChange', body: { cluster: 'agents', status: 'RUNNING' }, error: 'InvalidParameterException' },
  // The cluster is read only for a report refused anyway: a missing cluster is still its error.
  { name: 'SubmitTaskStateChange: unknown cluster', target: 'SubmitTaskStateChange', body: { cluster: 'nope', task: '0123456789abcdef0123456789abcdef', status: 'RUNNING', containerInstance: 'arn:aws:ecs:us-east-1:123456789012:container-instance/nope/0123456789abcdef0123456789abcdef' }, error: 'ClusterNotFoundException' },
  { name: 'SubmitTaskStateChange: blank cluster', target: 'SubmitTaskStateChange', body: { cluster: ' ', task: unknownTask, status: 'RUNNING' }, error: 'InvalidParameterException' },
  { name: 'SubmitContainerStateChange: exit code not a number', target: 'SubmitContainerStateChange', body: { cluster: 'agents', task: unknownTask, containerName: 'main', exitCode: 'three' }, error: 'SerializationException' },
  // The model gives DiscoverPollEndpoint no ClusterNotFoundException (found by the fuzz suite).
  { name: 'DiscoverPollEndpoint: unknown cluster', target: 'DiscoverPollEndpoint', body: { cluster: 'nope' }, error: 'ClientException' },
];

describe('agent operations reject bad input like ECS', () => {
  it.each(rows)('$name -> $error', async ({ target, body, error }) => {
    const response = await berth.raw(target, JSON.stringify(body));
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ __type: error, message: expect.any(String) });
  });

  it.each([
    ['PollAssignments without an instance', 'PollAssignments', {}],
    ['PollAssignments for an unknown instance', 'PollAssignments', { containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/agents/0123456789abcdef0123456789abcdef' }],
    ['InterruptSpotCapacity with a foreign ARN', 'InterruptSpotCapacity', { containerInstanceArn: 'arn:aws:ecs:eu-west-1:999999999999:container-instance/x/y' }],
  ])('extension %s -> InvalidParameterException', async (_name, operation, body) => {
    const response = await berth.raw(undefined, JSON.stringify(body), { 'x-amz-target': `BerthAgentV1.${operation}` });
    expect(response.status).toBe(400);
    expect(response.json.__type).toBe('InvalidParameterException');
  });

  it('an extension body that is not an object is a SerializationException', async () => {
    const response = await berth.raw(undefined, '[1]', { 'x-amz-target': 'BerthAgentV1.PollAssignments' });
    expect([response.status, response.json.__type]).toEqual([400, 'SerializationException']);
  });

  it('none of it registered anything', async () => {
    // (runs before the cross-cluster suite below registers one on purpose)
    expect((await berth.ecs().send(new ListContainerInstancesCommand({ cluster: 'agents' }))).containerInstanceArns).toEqual([]);
  });
});

describe('health checks outside ECS bounds', () => {
  it.each([
    ['interval 4', { command: ['CMD-SHELL', 'true'], interval: 4 }],
    ['timeout 61', { command: ['CMD-SHELL', 'true'], timeout: 61 }],
    ['retries 0', { command: ['CMD-SHELL', 'true'], retries: 0 }],
    ['startPeriod 301', { command: ['CMD-SHELL', 'true'], startPeriod: 301 }],
    ['a command without CMD or CMD-SHELL', { command: ['curl', 'localhost'] }],
  ])('%s -> ClientException', async (_name, healthCheck) => {
    const response = await berth.raw(
      'RegisterTaskDefinition',
      JSON.stringify({ family: 'checked', containerDefinitions: [{ name: 'c', image: 'x', memory: 64, healthCheck }] }),
    );
    expect([response.status, response.json.__type]).toEqual([400, 'ClientException']);
  });
});

describe('names and ids too long or malformed for a key', () => {
  const long = 'x'.repeat(3000);
  it.each([
    ['DescribeClusters', { clusters: [long] }, 200],
    ['DeleteCluster', { cluster: long }, 'ClusterNotFoundException'],
    ['ListTasks', { cluster: long }, 'ClusterNotFoundException'],
    ['DescribeTasks', { cluster: 'agents', tasks: [`arn:aws:ecs:us-east-1:123456789012:task/agents/${long}`] }, 200],
    ['StopTask', { cluster: 'agents', task: `arn:aws:ecs:us-east-1:123456789012:task/agents/${long}` }, 'InvalidParameterException'],
    ['SubmitTaskStateChange', { cluster: 'agents', task: long, status: 'RUNNING' }, 'InvalidParameterException'],
    ['TagResource', { resourceArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${long}`, tags: [{ key: 'a', value: 'b' }] }, 'ClusterNotFoundException'],
    ['ListTagsForResource', { resourceArn: `arn:aws:ecs:us-east-1:123456789012:task/agents/${long}` }, 'InvalidParameterException'],
    ['DescribeContainerInstances', { cluster: 'agents', containerInstances: [`arn:aws:ecs:us-east-1:123456789012:container-instance/agents/${long}`] }, 200],
    ['RegisterContainerInstance', { containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/agents/${long}`, totalResources: [cpu(1), memory(1)] }, 'InvalidParameterException'],
    ['ListTaskDefinitions', { familyPrefix: long }, 'InvalidParameterException'],
    ['ListTaskDefinitionFamilies', { familyPrefix: long }, 'InvalidParameterException'],
  ])('%s answers without a 500', async (target, body, expected) => {
    const response = await berth.raw(target, JSON.stringify(body));
    if (expected === 200) {
      expect(response.status).toBe(200);
      expect(response.json.failures[0].reason).toBe('MISSING');
    } else {
      expect([response.status, response.json.__type]).toEqual([400, expected]);
    }
  });

  // A reported digest is pinned for a deployment's later tasks (seed 002): only a digest is taken as one,
  // refused before the task is even looked up. (SubmitContainerStateChange has no imageDigest member.)
  it.each([
    ['SubmitTaskStateChange', { cluster: 'agents', task: 'a', status: 'RUNNING', containers: [{ containerName: 'c', imageDigest: `sha256:${long}` }] }],
    ['SubmitTaskStateChange', { cluster: 'agents', task: 'a', status: 'RUNNING', containers: [{ containerName: 'c', imageDigest: 'busybox:latest' }] }],
  ])('%s refuses an imageDigest that is not a digest', async (target, body) => {
    const response = await berth.raw(target, JSON.stringify(body));
    expect([response.status, response.json.__type]).toEqual([400, 'InvalidParameterException']);
    expect(response.json.message).toMatch(/^imageDigest must be a digest/);
  });

  it.each([
    ['a task ARN', 'arn:aws:ecs:us-east-1:123456789012:task/agents/0123456789abcdef0123456789abcdef'],
    ['a number', 5],
    ['a word', 'hello'],
    ['a list', ['arn:aws:ecs:us-east-1:123456789012:container-instance/agents/0123456789abcdef0123456789abcdef']],
  ])('extension operations refuse %s as containerInstanceArn', async (_name, containerInstanceArn) => {
    for (const operation of ['PollAssignments', 'InterruptSpotCapacity']) {
      const response = await berth.raw(undefined, JSON.stringify({ containerInstanceArn }), {
        'x-amz-target': `BerthAgentV1.${operation}`,
      });
      expect([operation, response.status, response.json.__type]).toEqual([operation, 400, 'InvalidParameterException']);
    }
  });
});

describe('another cluster’s container instance', () => {
  it('is MISSING, and cannot be drained or deregistered, through a cluster it does not belong to', async () => {
    await berth.ecs().send(new CreateClusterCommand({ clusterName: 'elsewhere' }));
    const registered = await berth.raw(
      'RegisterContainerInstance',
      JSON.stringify({ cluster: 'agents', totalResources: [cpu(1024), memory(512)] }),
    );
    const arn = registered.json.containerInstance.containerInstanceArn as string;
    const described = await berth.raw('DescribeContainerInstances', JSON.stringify({ cluster: 'elsewhere', containerInstances: [arn] }));
    expect(described.json.failures).toEqual([{ arn, reason: 'MISSING' }]);
    const drained = await berth.raw(
      'UpdateContainerInstancesState',
      JSON.stringify({ cluster: 'elsewhere', containerInstances: [arn], status: 'DRAINING' }),
    );
    expect(drained.json.failures).toEqual([{ arn, reason: 'MISSING' }]);
    const deregistered = await berth.raw('DeregisterContainerInstance', JSON.stringify({ cluster: 'elsewhere', containerInstance: arn }));
    expect([deregistered.status, deregistered.json.__type]).toEqual([400, 'InvalidParameterException']);
    const still = await berth.raw('DescribeContainerInstances', JSON.stringify({ cluster: 'agents', containerInstances: [arn] }));
    expect(still.json.containerInstances[0].status).toBe('ACTIVE');
    await berth.raw('DeregisterContainerInstance', JSON.stringify({ cluster: 'agents', containerInstance: arn }));
  });
});

describe('values no record can hold', () => {
  it.each([
    ['a CPU beyond any host', { cluster: 'agents', totalResources: [{ name: 'CPU', type: 'LONG', longValue: 2 ** 60 }, memory(512)] }],
    ['a memory of 1e300', { cluster: 'agents', totalResources: [cpu(1024), { name: 'MEMORY', type: 'DOUBLE', doubleValue: 1e300 }] }],
    ['half a CPU unit', { cluster: 'agents', totalResources: [{ name: 'CPU', type: 'DOUBLE', doubleValue: 0.5 }, memory(512)] }],
  ])('RegisterContainerInstance with %s -> InvalidParameterException', async (_name, body) => {
    const response = await berth.raw('RegisterContainerInstance', JSON.stringify(body));
    expect([response.status, response.json.__type]).toEqual([400, 'InvalidParameterException']);
  });

  it.each([
    ['a date past year 275760', 8.7e12],
    ['a time beyond exact numbers', 1e13],
  ])('SubmitTaskStateChange with %s -> InvalidParameterException', async (_name, pullStartedAt) => {
    const ecs = berth.ecs();
    await berth.raw('RegisterTaskDefinition', JSON.stringify({ family: 'stamped', containerDefinitions: [{ name: 'c', image: 'x', memory: 64 }] }));
    const run = await berth.raw('RunTask', JSON.stringify({ cluster: 'stamping', taskDefinition: 'stamped', launchType: 'EC2' }));
    const { taskArn: task, containerInstanceArn: containerInstance } = run.json.tasks[0];
    // From the host that holds it, so what is refused is the time.
    const response = await berth.raw('SubmitTaskStateChange', JSON.stringify({ cluster: 'stamping', task, containerInstance, status: 'ACTIVATING', pullStartedAt }));
    expect([response.status, response.json.__type]).toEqual([400, 'InvalidParameterException']);
    await ecs.send(new StopTaskCommand({ cluster: 'stamping', task }));
  });

  it.each([
    ['a waitSeconds that is not a number', { waitSeconds: 'abc' }],
    ['known that is a list', { known: [] }],
  ])('PollAssignments with %s -> InvalidParameterException', async (_name, extra) => {
    const registered = await berth.raw('RegisterContainerInstance', JSON.stringify({ cluster: 'agents', totalResources: [cpu(1024), memory(512)] }));
    const containerInstanceArn = registered.json.containerInstance.containerInstanceArn;
    const response = await berth.raw(undefined, JSON.stringify({ containerInstanceArn, ...extra }), {
      'x-amz-target': 'BerthAgentV1.PollAssignments',
    });
    expect([response.status, response.json.__type]).toEqual([400, 'InvalidParameterException']);
    await berth.raw('DeregisterContainerInstance', JSON.stringify({ cluster: 'agents', containerInstance: containerInstanceArn }));
  });

  it('refuses a task definition over 64 KiB and RunTask overrides over 8 KiB', async () => {
    const big = 'x'.repeat(70 * 1024);
    const td = await berth.raw(
      'RegisterTaskDefinition',
      JSON.stringify({ family: 'huge', containerDefinitions: [{ name: 'c', image: 'x', memory: 64, command: [big] }] }),
    );
    expect([td.status, td.json.__type]).toEqual([400, 'ClientException']);
    const run = await berth.raw(
      'RunTask',
      JSON.stringify({
        cluster: 'agents',
        taskDefinition: 'stamped',
        launchType: 'EC2',
        overrides: { containerOverrides: [{ name: 'c', command: ['y'.repeat(9000)] }] },
      }),
    );
    expect([run.status, run.json.__type]).toEqual([400, 'InvalidParameterException']);
  });
});

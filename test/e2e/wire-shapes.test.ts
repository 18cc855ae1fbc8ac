/**
 * Shapes real clients check, each a regression test through the real ECS SDK on DynamoDB Local:
 * members with nothing to say are absent (no `tags: []`), task definition `compatibilities` computed
 * as ECS does, RunTask FARGATE on a Fargate-compatible definition that does not require FARGATE,
 * Fargate-forbidden parameters refused when FARGATE is required, volumes echoed exactly, and ECS's
 * error names where it is specific.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeCapacityProvidersCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type Volume,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';

let berth: Harness;
let ecs: ECSClient;
let host: string;
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-local'] } };
const main = (extra: Partial<ContainerDefinition> = {}): ContainerDefinition => ({ name: 'main', image: 'busybox', ...extra });
const awsvpc = (family: string, extra: Partial<RegisterTaskDefinitionCommandInput> = {}): RegisterTaskDefinitionCommandInput => ({
  family,
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [main()],
  ...extra,
});

beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'shapes' }));
  host = await registerHost(ecs, 'shapes');
});
afterAll(() => berth?.close());

describe('members with nothing to say are absent', () => {
  it('a cluster without tags: no tags member from CreateCluster, nor from DescribeClusters even with include TAGS', async () => {
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'untagged' }));
    expect(created.cluster).not.toHaveProperty('tags');
    const [described] = (await ecs.send(new DescribeClustersCommand({ clusters: ['untagged'], include: ['TAGS', 'ATTACHMENTS'] }))).clusters!;
    expect(described).not.toHaveProperty('tags');
    expect(described).not.toHaveProperty('attachments');
    const tagged = await ecs.send(new CreateClusterCommand({ clusterName: 'tagged', tags: [{ key: 'a', value: 'b' }] }));
    expect(tagged.cluster?.tags).toEqual([{ key: 'a', value: 'b' }]);
    const [notAsked] = (await ecs.send(new DescribeClustersCommand({ clusters: ['tagged'] }))).clusters!;
    expect(notAsked).not.toHaveProperty('tags');
  });

  it('a task definition without tags: no tags member from Register or Describe with include TAGS', async () => {
    const registered = await ecs.send(new RegisterTaskDefinitionCommand({ family: 'plain', containerDefinitions: [main({ memory: 64 })] }));
    expect(registered).not.toHaveProperty('tags');
    const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'plain', include: ['TAGS'] }));
    expect(described).not.toHaveProperty('tags');
  });

  it('a task without tags: no tags member from DescribeTasks with include TAGS, nor from StopTask', async () => {
    const { tasks } = await ecs.send(new RunTaskCommand({ cluster: 'shapes', taskDefinition: 'plain' }));
    const [described] = (await ecs.send(new DescribeTasksCommand({ cluster: 'shapes', tasks: [tasks![0].taskArn!], include: ['TAGS'] }))).tasks!;
    expect(described).not.toHaveProperty('tags');
    const stopped = await ecs.send(new StopTaskCommand({ cluster: 'shapes', task: tasks![0].taskArn! }));
    expect(stopped.task).not.toHaveProperty('tags');
  });

  it('a service without tags: no tags member from CreateService, nor from DescribeServices with include TAGS; a tagged one shows them', async () => {
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'svc-plain', containerDefinitions: [main({ memory: 64 })] }));
    const created = await ecs.send(new CreateServiceCommand({ cluster: 'shapes', serviceName: 'untagged-svc', taskDefinition: 'svc-plain', desiredCount: 0 }));
    expect(created.service).not.toHaveProperty('tags');
    const [described] = (await ecs.send(new DescribeServicesCommand({ cluster: 'shapes', services: ['untagged-svc'], include: ['TAGS'] }))).services!;
    expect(described).not.toHaveProperty('tags');
    const tagged = await ecs.send(new CreateServiceCommand({ cluster: 'shapes', serviceName: 'tagged-svc', taskDefinition: 'svc-plain', desiredCount: 0, tags: [{ key: 'a', value: 'b' }] }));
    expect(tagged.service?.tags).toEqual([{ key: 'a', value: 'b' }]);
    const [asked] = (await ecs.send(new DescribeServicesCommand({ cluster: 'shapes', services: ['tagged-svc'], include: ['TAGS'] }))).services!;
    expect(asked.tags).toEqual([{ key: 'a', value: 'b' }]);
    const [notAsked] = (await ecs.send(new DescribeServicesCommand({ cluster: 'shapes', services: ['tagged-svc'] }))).services!;
    expect(notAsked).not.toHaveProperty('tags');
  });

  it('a container instance without tags, and the built-in capacity providers: no tags member', async () => {
    const [instance] = (await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'shapes', containerInstances: [host], include: ['TAGS'] })))
      .containerInstances!;
    expect(instance).not.toHaveProperty('tags');
    const { capacityProviders } = await ecs.send(new DescribeCapacityProvidersCommand({ include: ['TAGS'] }));
    expect(capacityProviders!.map((p) => p.name)).toEqual(['FARGATE', 'FARGATE_SPOT']);
    for (const provider of capacityProviders!) expect(provider).not.toHaveProperty('tags');
  });
});

describe('task definition compatibilities, computed as ECS does', () => {
  it.each([
    { name: 'awsvpc with a Fargate size, no requiresCompatibilities', input: awsvpc('c-fargate'), expected: ['EC2', 'FARGATE'] },
    { name: 'bridge', input: { family: 'c-bridge', networkMode: 'bridge' as const, containerDefinitions: [main({ memory: 64 })] }, expected: ['EC2'] },
    { name: 'no network mode', input: { family: 'c-default', cpu: '256', memory: '512', containerDefinitions: [main()] }, expected: ['EC2'] },
    { name: 'awsvpc with a size Fargate does not offer', input: awsvpc('c-size', { memory: '4096' }), expected: ['EC2'] },
    { name: 'awsvpc without task cpu', input: awsvpc('c-nocpu', { cpu: undefined, containerDefinitions: [main({ memory: 64 })] }), expected: ['EC2'] },
    { name: 'a privileged container', input: awsvpc('c-priv', { containerDefinitions: [main({ privileged: true })] }), expected: ['EC2'] },
    { name: 'a host volume', input: awsvpc('c-host', { volumes: [{ name: 'v', host: { sourcePath: '/data' } }] }), expected: ['EC2'] },
    { name: 'pidMode host', input: awsvpc('c-pid', { pidMode: 'host' }), expected: ['EC2'] },
    { name: 'pidMode task', input: awsvpc('c-pidtask', { pidMode: 'task' }), expected: ['EC2', 'FARGATE'] },
    {
      name: 'adding SYS_PTRACE',
      input: awsvpc('c-ptrace', { containerDefinitions: [main({ linuxParameters: { capabilities: { add: ['SYS_PTRACE'] } } })] }),
      expected: ['EC2', 'FARGATE'],
    },
    {
      name: 'adding NET_ADMIN',
      input: awsvpc('c-netadmin', { containerDefinitions: [main({ linuxParameters: { capabilities: { add: ['NET_ADMIN'] } } })] }),
      expected: ['EC2'],
    },
    { name: 'networkMode returned as registered (host)', input: { family: 'c-hostnet', networkMode: 'host' as const, containerDefinitions: [main({ memory: 64 })] }, expected: ['EC2'] },
  ])('$name -> $expected', async ({ input, expected }) => {
    const { taskDefinition } = await ecs.send(new RegisterTaskDefinitionCommand(input));
    expect(taskDefinition?.compatibilities).toEqual(expected);
    expect(taskDefinition?.networkMode).toBe(input.networkMode);
    expect(taskDefinition).not.toHaveProperty('requiresCompatibilities');
  });

  it('RunTask with launch type FARGATE takes a Fargate-compatible definition that does not require FARGATE', async () => {
    const { tasks, failures } = await ecs.send(
      new RunTaskCommand({ cluster: 'shapes', taskDefinition: 'c-fargate', launchType: 'FARGATE', networkConfiguration: NETWORK }),
    );
    expect(failures).toEqual([]);
    expect(tasks![0]).toMatchObject({ launchType: 'FARGATE', lastStatus: 'PROVISIONING' });
  });

  it('RunTask with launch type FARGATE refuses a definition Fargate cannot run (a privileged container)', async () => {
    await expect(
      ecs.send(new RunTaskCommand({ cluster: 'shapes', taskDefinition: 'c-priv', launchType: 'FARGATE', networkConfiguration: NETWORK })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'Task definition does not support launch_type FARGATE.' });
  });
});

describe('Fargate-forbidden parameters are refused at registration when FARGATE is required', () => {
  const fargate = (family: string, extra: Partial<RegisterTaskDefinitionCommandInput>) =>
    awsvpc(family, { requiresCompatibilities: ['FARGATE'], ...extra });
  it.each([
    { name: 'ipcMode', input: fargate('f-ipc', { ipcMode: 'host' }), message: 'Tasks using the Fargate launch type do not support ipcMode.' },
    { name: 'pidMode host', input: fargate('f-pid', { pidMode: 'host' }), message: "Tasks using the Fargate launch type do not support pidMode 'host'." },
    { name: 'privileged', input: fargate('f-priv', { containerDefinitions: [main({ privileged: true })] }), message: "Tasks using the Fargate launch type do not support privileged (container 'main')." },
    {
      name: 'devices',
      input: fargate('f-dev', { containerDefinitions: [main({ linuxParameters: { devices: [{ hostPath: '/dev/fuse' }] } })] }),
      message: "Tasks using the Fargate launch type do not support devices (container 'main').",
    },
    {
      name: 'a capability beyond SYS_PTRACE',
      input: fargate('f-cap', { containerDefinitions: [main({ linuxParameters: { capabilities: { add: ['SYS_PTRACE', 'NET_ADMIN'] } } })] }),
      message: "Tasks using the Fargate launch type do not support adding the capability NET_ADMIN (container 'main'; only SYS_PTRACE can be added).",
    },
    {
      name: 'a host volume',
      input: fargate('f-host', { volumes: [{ name: 'data', host: { sourcePath: '/data' } }] }),
      message: "Tasks using the Fargate launch type do not support host volumes (volume 'data').",
    },
    {
      name: 'a docker volume',
      input: fargate('f-docker', { volumes: [{ name: 'data', dockerVolumeConfiguration: { driver: 'local' } }] }),
      message: "Tasks using the Fargate launch type do not support dockerVolumeConfiguration (volume 'data').",
    },
    { name: 'links', input: fargate('f-links', { containerDefinitions: [main({ links: ['db'] })] }), message: "Tasks using the Fargate launch type do not support links (container 'main')." },
    {
      name: 'placement constraints',
      input: fargate('f-place', { placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' }] }),
      message: 'Tasks using the Fargate launch type do not support placementConstraints.',
    },
  ])('$name -> ClientException, nothing registered', async ({ input, message }) => {
    await expect(ecs.send(new RegisterTaskDefinitionCommand(input))).rejects.toMatchObject({
      name: 'ClientException',
      message,
      $metadata: { httpStatusCode: 400 },
    });
    expect((await ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: input.family, status: 'ALL' }))).families).toEqual([]);
  });
});

describe('volumes are echoed exactly as registered', () => {
  it('EFS, host, docker and configured-at-launch volumes come back member for member, with no added defaults', async () => {
    const volumes: Volume[] = [
      {
        name: 'efs',
        efsVolumeConfiguration: {
          fileSystemId: 'fs-12345678',
          rootDirectory: '/exports',
          transitEncryption: 'ENABLED',
          transitEncryptionPort: 2049,
          authorizationConfig: { accessPointId: 'fsap-1234', iam: 'ENABLED' },
        },
      },
      { name: 'efs-minimal', efsVolumeConfiguration: { fileSystemId: 'fs-87654321' } },
      { name: 'host', host: { sourcePath: '/var/data' } },
      { name: 'scratch' },
      {
        name: 'docker',
        dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local', driverOpts: { type: 'tmpfs' }, labels: { team: 'a' } },
      },
      { name: 'later', configuredAtLaunch: true },
    ];
    const registered = await ecs.send(new RegisterTaskDefinitionCommand({ family: 'volumes', volumes, containerDefinitions: [main({ memory: 64 })] }));
    expect(registered.taskDefinition?.volumes).toEqual(volumes);
    const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'volumes' }));
    expect(described.taskDefinition?.volumes).toEqual(volumes);
  });
});

describe('error names where ECS is specific', () => {
  it('DeregisterTaskDefinition of a family without a revision: ClientException "Revision is missing."', async () => {
    await expect(ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'plain' }))).rejects.toMatchObject({
      name: 'ClientException',
      message: 'Revision is missing.',
      $metadata: { httpStatusCode: 400 },
    });
    expect((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'plain:1' }))).taskDefinition?.status).toBe('ACTIVE');
  });

  it.each([
    { name: 'DescribeTasks', send: () => ecs.send(new DescribeTasksCommand({ cluster: 'ghost', tasks: ['0123456789abcdef0123456789abcdef'] })) },
    { name: 'StopTask', send: () => ecs.send(new StopTaskCommand({ cluster: 'ghost', task: '0123456789abcdef0123456789abcdef' })) },
    { name: 'ListTasks', send: () => ecs.send(new ListTasksCommand({ cluster: 'ghost' })) },
  ])('$name on an unknown cluster: ClusterNotFoundException', async ({ send }) => {
    await expect(send()).rejects.toMatchObject({ name: 'ClusterNotFoundException', $metadata: { httpStatusCode: 400 } });
  });
});

describe('propagateTags on RunTask and StartTask', () => {
  const tagsOf = async (taskArn: string) =>
    (await ecs.send(new DescribeTasksCommand({ cluster: 'shapes', tasks: [taskArn], include: ['TAGS'] }))).tasks![0].tags;

  beforeAll(async () => {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'tagged-def',
        containerDefinitions: [main({ memory: 64 })],
        tags: [{ key: 'team', value: 'a' }, { key: 'env', value: 'dev' }],
      }),
    );
  });

  it.each([
    { name: 'RunTask', start: (input: object) => ecs.send(new RunTaskCommand({ cluster: 'shapes', taskDefinition: 'tagged-def', ...input })) },
    {
      name: 'StartTask',
      start: (input: object) => ecs.send(new StartTaskCommand({ cluster: 'shapes', taskDefinition: 'tagged-def', containerInstances: [host], ...input })),
    },
  ])('$name: TASK_DEFINITION copies the definition\'s tags (the request\'s win), NONE does not, SERVICE is refused', async ({ start }) => {
    const propagated = (await start({ propagateTags: 'TASK_DEFINITION', tags: [{ key: 'env', value: 'prod' }] })).tasks![0];
    expect(await tagsOf(propagated.taskArn!)).toEqual([{ key: 'team', value: 'a' }, { key: 'env', value: 'prod' }]);
    const plain = (await start({ propagateTags: 'NONE' })).tasks![0];
    expect(await tagsOf(plain.taskArn!)).toBeUndefined();
    const before = (await ecs.send(new ListTasksCommand({ cluster: 'shapes', family: 'tagged-def' }))).taskArns;
    await expect(start({ propagateTags: 'SERVICE' })).rejects.toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    expect((await ecs.send(new ListTasksCommand({ cluster: 'shapes', family: 'tagged-def' }))).taskArns).toEqual(before);
  });
});

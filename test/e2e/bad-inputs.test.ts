/**
 * Bad inputs, operation by operation: every row names the exact ECS error (`__type` on the wire, the
 * SDK error's `name`), expects HTTP 400, and where a write could have happened checks that none did.
 * Rows either go through the real ECS SDK (what a client can express) or as raw JSON 1.1 requests
 * (what an SDK never sends: wrong JSON types, broken bodies, bad targets).
 */
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeCapacityProvidersCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';

const COMMANDS = {
  CreateCluster: CreateClusterCommand,
  DescribeClusters: DescribeClustersCommand,
  ListClusters: ListClustersCommand,
  DeleteCluster: DeleteClusterCommand,
  PutClusterCapacityProviders: PutClusterCapacityProvidersCommand,
  DescribeCapacityProviders: DescribeCapacityProvidersCommand,
  RegisterTaskDefinition: RegisterTaskDefinitionCommand,
  DescribeTaskDefinition: DescribeTaskDefinitionCommand,
  ListTaskDefinitions: ListTaskDefinitionsCommand,
  ListTaskDefinitionFamilies: ListTaskDefinitionFamiliesCommand,
  DeregisterTaskDefinition: DeregisterTaskDefinitionCommand,
  RunTask: RunTaskCommand,
  StartTask: StartTaskCommand,
  StopTask: StopTaskCommand,
  DescribeTasks: DescribeTasksCommand,
  ListTasks: ListTasksCommand,
  TagResource: TagResourceCommand,
  UntagResource: UntagResourceCommand,
  ListTagsForResource: ListTagsForResourceCommand,
} as const;
type Operation = keyof typeof COMMANDS;

const arnPrefix = `arn:aws:ecs:${REGION}:${ACCOUNT}`;
const clusterArnOf = (name: string) => `${arnPrefix}:cluster/${name}`;

/** What beforeAll creates and later rows refer to. */
interface Fixtures {
  ecs: ECSClient;
  /** Two running tasks of cluster `busy`. */
  busyTasks: string[];
  /** A ListClusters token for us-east-1. */
  clustersToken: string;
  /** A ListTasks token for cluster `busy`. */
  busyTasksToken: string;
  /** A ListTaskDefinitionFamilies token. */
  familiesToken: string;
  /** The container instance of cluster `idem` (no agent behind it). */
  idemHost: string;
}

type Input = Record<string, unknown>;
interface Row {
  readonly name: string;
  readonly op: Operation;
  /** Sent through the ECS SDK. */
  readonly input?: Input | ((f: Fixtures) => Input);
  /** Sent raw (a JSON body as text), for what the SDK cannot express. */
  readonly body?: string;
  /** Raw only: the X-Amz-Target operation; `null` sends no target header at all. */
  readonly target?: string | null;
  readonly headers?: Record<string, string>;
  readonly error: string;
  /** Checks that the failed call wrote nothing. */
  readonly after?: (f: Fixtures) => Promise<void>;
}

const tag = (key: string, value = 'v') => ({ key, value });
const manyTags = (count: number) => Array.from({ length: count }, (_, i) => tag(`k${i}`));
const LONG_KEY = 'k'.repeat(129);
const container = (name = 'app', extra: Input = {}) => ({ name, image: 'nginx:latest', memory: 128, ...extra });
const fargate = (family: string, extra: Input = {}) => ({
  family,
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [container('app')],
  ...extra,
});
/** base64url(JSON) page token, as someone who decoded a real one would forge it. */
const forgeToken = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

// ---- "nothing was written" checks ----

const clusterMissing = (name: string) => async (f: Fixtures) => {
  const described = await f.ecs.send(new DescribeClustersCommand({ clusters: [name] }));
  expect(described.clusters).toEqual([]);
  expect(described.failures).toEqual([{ arn: clusterArnOf(name), reason: 'MISSING' }]);
};

const noTaskDefinition = (family: string) => async (f: Fixtures) => {
  const families = await f.ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: family, status: 'ALL' }));
  expect(families.families).toEqual([]);
  const revisions = await f.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE' }));
  expect(revisions.taskDefinitionArns).toEqual([]);
  await expectSdkError(f.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family })), 'ClientException');
};

const noTasksIn = (cluster: string, expectedCount = 0) => async (f: Fixtures) => {
  const running = await f.ecs.send(new ListTasksCommand({ cluster }));
  const stopped = await f.ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'STOPPED' }));
  expect(running.taskArns).toHaveLength(expectedCount);
  expect(stopped.taskArns).toEqual([]);
  const [described] = (await f.ecs.send(new DescribeClustersCommand({ clusters: [cluster] }))).clusters ?? [];
  expect((described.pendingTasksCount ?? 0) + (described.runningTasksCount ?? 0)).toBe(expectedCount);
};

const noProvidersOn = (cluster: string) => async (f: Fixtures) => {
  const [described] = (await f.ecs.send(new DescribeClustersCommand({ clusters: [cluster] }))).clusters ?? [];
  expect(described.capacityProviders).toEqual([]);
  expect(described.defaultCapacityProviderStrategy).toEqual([]);
};

const tagsOfTaggedCluster = async (f: Fixtures) => {
  const listed = await f.ecs.send(new ListTagsForResourceCommand({ resourceArn: clusterArnOf('tagged') }));
  expect(listed.tags).toEqual([tag('team', 'a')]);
};

async function expectSdkError(call: Promise<unknown>, name: string): Promise<void> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${name}, but the call succeeded`).toBeDefined();
  expect(caught).toMatchObject({ name, $metadata: { httpStatusCode: 400 } });
}

// ---- the table ----

const rows: Row[] = [
  // Protocol level
  { name: 'protocol: malformed JSON body', op: 'CreateCluster', body: '{"clusterName": ', error: 'SerializationException' },
  { name: 'protocol: body is a JSON array', op: 'ListClusters', body: '[]', error: 'SerializationException' },
  { name: 'protocol: body is JSON null', op: 'DescribeClusters', body: 'null', error: 'SerializationException' },
  { name: 'protocol: unknown operation in X-Amz-Target', op: 'ListClusters', target: 'LaunchRocket', body: '{}', error: 'UnknownOperationException' },
  { name: 'protocol: no X-Amz-Target header', op: 'ListClusters', target: null, body: '{}', error: 'UnknownOperationException' },
  {
    name: 'protocol: X-Amz-Target of another service',
    op: 'ListClusters',
    target: null,
    headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' },
    body: '{}',
    error: 'UnknownOperationException',
  },

  // CreateCluster
  { name: 'CreateCluster: clusterName is a number', op: 'CreateCluster', body: '{"clusterName": 42}', error: 'SerializationException' },
  { name: 'CreateCluster: tags is an object', op: 'CreateCluster', body: '{"clusterName": "x", "tags": {"k": "v"}}', error: 'SerializationException' },
  { name: 'CreateCluster: invalid characters in the name', op: 'CreateCluster', input: { clusterName: 'bad name!' }, error: 'InvalidParameterException' },
  { name: 'CreateCluster: name longer than 255', op: 'CreateCluster', input: { clusterName: 'c'.repeat(256) }, error: 'InvalidParameterException' },
  {
    name: 'CreateCluster: setting name outside the enum',
    op: 'CreateCluster',
    input: { clusterName: 'cc-setting-name', settings: [{ name: 'turbo', value: 'enabled' }] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-setting-name'),
  },
  {
    name: 'CreateCluster: containerInsights value not allowed',
    op: 'CreateCluster',
    input: { clusterName: 'cc-setting-value', settings: [{ name: 'containerInsights', value: 'maybe' }] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-setting-value'),
  },
  {
    name: 'CreateCluster: tag key longer than 128',
    op: 'CreateCluster',
    input: { clusterName: 'cc-long-key', tags: [tag(LONG_KEY)] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-long-key'),
  },
  {
    name: 'CreateCluster: tag value longer than 256',
    op: 'CreateCluster',
    input: { clusterName: 'cc-long-value', tags: [tag('k', 'v'.repeat(257))] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-long-value'),
  },
  {
    name: 'CreateCluster: 51 tags',
    op: 'CreateCluster',
    input: { clusterName: 'cc-51-tags', tags: manyTags(51) },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-51-tags'),
  },
  {
    name: 'CreateCluster: aws: tag key',
    op: 'CreateCluster',
    input: { clusterName: 'cc-aws-tag', tags: [tag('aws:owner')] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-aws-tag'),
  },
  {
    name: 'CreateCluster: duplicate tag keys',
    op: 'CreateCluster',
    input: { clusterName: 'cc-dup-tag', tags: [tag('k', '1'), tag('k', '2')] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-dup-tag'),
  },
  {
    name: 'CreateCluster: tag without a key',
    op: 'CreateCluster',
    input: { clusterName: 'cc-keyless-tag', tags: [{ value: 'v' }] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-keyless-tag'),
  },
  {
    name: 'CreateCluster: unknown capacity provider',
    op: 'CreateCluster',
    input: { clusterName: 'cc-unknown-cp', capacityProviders: ['MY_ASG'] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-unknown-cp'),
  },
  {
    name: 'CreateCluster: default strategy names a provider not associated',
    op: 'CreateCluster',
    input: {
      clusterName: 'cc-bad-strategy',
      capacityProviders: ['FARGATE'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-bad-strategy'),
  },
  {
    name: 'CreateCluster: strategy weight 1001',
    op: 'CreateCluster',
    input: {
      clusterName: 'cc-weight',
      capacityProviders: ['FARGATE'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1001 }],
    },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-weight'),
  },
  {
    name: 'CreateCluster: strategy base -1',
    op: 'CreateCluster',
    input: {
      clusterName: 'cc-base',
      capacityProviders: ['FARGATE'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: -1 }],
    },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-base'),
  },
  {
    name: 'CreateCluster: strategy item without a capacityProvider',
    op: 'CreateCluster',
    input: { clusterName: 'cc-nameless-item', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ weight: 1 }] },
    error: 'InvalidParameterException',
    after: clusterMissing('cc-nameless-item'),
  },

  // DescribeClusters
  { name: 'DescribeClusters: include outside the enum', op: 'DescribeClusters', input: { clusters: ['bad'], include: ['EVERYTHING'] }, error: 'InvalidParameterException' },
  { name: 'DescribeClusters: clusters is a string', op: 'DescribeClusters', body: '{"clusters": "bad"}', error: 'SerializationException' },
  {
    name: 'DescribeClusters: 101 clusters',
    op: 'DescribeClusters',
    input: { clusters: Array.from({ length: 101 }, (_, i) => `c${i}`) },
    error: 'InvalidParameterException',
  },

  // ListClusters
  { name: 'ListClusters: maxResults 0', op: 'ListClusters', input: { maxResults: 0 }, error: 'InvalidParameterException' },
  { name: 'ListClusters: maxResults 101', op: 'ListClusters', input: { maxResults: 101 }, error: 'InvalidParameterException' },
  { name: 'ListClusters: maxResults is a string', op: 'ListClusters', body: '{"maxResults": "10"}', error: 'SerializationException' },
  { name: 'ListClusters: maxResults is a fraction', op: 'ListClusters', body: '{"maxResults": 2.5}', error: 'SerializationException' },
  { name: 'ListClusters: garbage nextToken', op: 'ListClusters', input: { nextToken: 'not-a-token' }, error: 'InvalidParameterException' },
  {
    name: 'ListClusters: nextToken from another region',
    op: 'ListClusters',
    input: (f) => ({ nextToken: f.clustersToken }),
    // Sent to eu-west-1 below: the token was issued for us-east-1.
    error: 'InvalidParameterException',
  },
  {
    name: 'ListClusters: forged nextToken with the right partition but no position',
    op: 'ListClusters',
    input: () => {
      const partition = `CLUSTERS#${ACCOUNT}#${REGION}`;
      return { nextToken: forgeToken({ p: partition, k: { gsi1pk: partition } }) };
    },
    error: 'InvalidParameterException',
  },

  // DeleteCluster
  { name: 'DeleteCluster: cluster missing', op: 'DeleteCluster', input: {}, error: 'InvalidParameterException' },
  { name: 'DeleteCluster: cluster is a list', op: 'DeleteCluster', body: '{"cluster": ["bad"]}', error: 'SerializationException' },
  { name: 'DeleteCluster: unknown cluster', op: 'DeleteCluster', input: { cluster: 'ghost' }, error: 'ClusterNotFoundException' },
  {
    name: 'DeleteCluster: cluster with active tasks',
    op: 'DeleteCluster',
    input: { cluster: 'busy' },
    error: 'ClusterContainsTasksException',
    after: async (f) => {
      const [described] = (await f.ecs.send(new DescribeClustersCommand({ clusters: ['busy'] }))).clusters ?? [];
      expect(described.status).toBe('ACTIVE');
      expect((await f.ecs.send(new ListTasksCommand({ cluster: 'busy' }))).taskArns).toHaveLength(2);
    },
  },

  // PutClusterCapacityProviders (cluster `cp` starts with no providers)
  {
    name: 'PutClusterCapacityProviders: defaultCapacityProviderStrategy missing',
    op: 'PutClusterCapacityProviders',
    input: { cluster: 'cp', capacityProviders: ['FARGATE'] },
    error: 'InvalidParameterException',
    after: noProvidersOn('cp'),
  },
  {
    name: 'PutClusterCapacityProviders: capacityProviders is a string',
    op: 'PutClusterCapacityProviders',
    body: '{"cluster": "cp", "capacityProviders": "FARGATE", "defaultCapacityProviderStrategy": []}',
    error: 'SerializationException',
    after: noProvidersOn('cp'),
  },
  {
    name: 'PutClusterCapacityProviders: unknown cluster',
    op: 'PutClusterCapacityProviders',
    input: { cluster: 'ghost', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [] },
    error: 'ClusterNotFoundException',
  },
  {
    name: 'PutClusterCapacityProviders: weight 1001',
    op: 'PutClusterCapacityProviders',
    input: { cluster: 'cp', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1001 }] },
    error: 'InvalidParameterException',
    after: noProvidersOn('cp'),
  },
  {
    name: 'PutClusterCapacityProviders: unknown provider',
    op: 'PutClusterCapacityProviders',
    input: { cluster: 'cp', capacityProviders: ['NOPE'], defaultCapacityProviderStrategy: [] },
    error: 'InvalidParameterException',
    after: noProvidersOn('cp'),
  },
  {
    name: 'PutClusterCapacityProviders: strategy provider not in the list',
    op: 'PutClusterCapacityProviders',
    input: { cluster: 'cp', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] },
    error: 'InvalidParameterException',
    after: noProvidersOn('cp'),
  },
  {
    name: 'PutClusterCapacityProviders: duplicate strategy provider',
    op: 'PutClusterCapacityProviders',
    input: {
      cluster: 'cp',
      capacityProviders: ['FARGATE'],
      defaultCapacityProviderStrategy: [
        { capacityProvider: 'FARGATE', weight: 1 },
        { capacityProvider: 'FARGATE', weight: 2 },
      ],
    },
    error: 'InvalidParameterException',
    after: noProvidersOn('cp'),
  },
  {
    name: 'PutClusterCapacityProviders: two providers with a base',
    op: 'PutClusterCapacityProviders',
    input: {
      cluster: 'cp',
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [
        { capacityProvider: 'FARGATE', weight: 1, base: 1 },
        { capacityProvider: 'FARGATE_SPOT', weight: 1, base: 1 },
      ],
    },
    error: 'InvalidParameterException',
    after: noProvidersOn('cp'),
  },

  // DescribeCapacityProviders
  { name: 'DescribeCapacityProviders: maxResults 0', op: 'DescribeCapacityProviders', input: { maxResults: 0 }, error: 'InvalidParameterException' },
  { name: 'DescribeCapacityProviders: maxResults 11', op: 'DescribeCapacityProviders', input: { maxResults: 11 }, error: 'InvalidParameterException' },
  { name: 'DescribeCapacityProviders: include outside the enum', op: 'DescribeCapacityProviders', input: { include: ['EVERYTHING'] }, error: 'InvalidParameterException' },
  { name: 'DescribeCapacityProviders: garbage nextToken', op: 'DescribeCapacityProviders', input: { nextToken: 'zzz' }, error: 'InvalidParameterException' },
  { name: 'DescribeCapacityProviders: unknown cluster', op: 'DescribeCapacityProviders', input: { cluster: 'ghost' }, error: 'ClusterNotFoundException' },

  // RegisterTaskDefinition
  {
    name: 'RegisterTaskDefinition: family missing',
    op: 'RegisterTaskDefinition',
    input: { containerDefinitions: [container()] },
    error: 'InvalidParameterException',
  },
  {
    name: 'RegisterTaskDefinition: containerDefinitions missing',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-no-containers' },
    error: 'InvalidParameterException',
    after: noTaskDefinition('td-no-containers'),
  },
  {
    name: 'RegisterTaskDefinition: containerDefinitions is an object',
    op: 'RegisterTaskDefinition',
    body: '{"family": "td-object", "containerDefinitions": {"name": "app"}}',
    error: 'SerializationException',
    after: noTaskDefinition('td-object'),
  },
  {
    name: 'RegisterTaskDefinition: container memory is a string',
    op: 'RegisterTaskDefinition',
    body: '{"family": "td-memory-type", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": "128"}]}',
    error: 'SerializationException',
    after: noTaskDefinition('td-memory-type'),
  },
  {
    name: 'RegisterTaskDefinition: networkMode outside the enum',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-netmode', networkMode: 'overlay', containerDefinitions: [container()] },
    error: 'InvalidParameterException',
    after: noTaskDefinition('td-netmode'),
  },
  {
    name: 'RegisterTaskDefinition: requiresCompatibilities outside the enum',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-compat', requiresCompatibilities: ['LAMBDA'], containerDefinitions: [container()] },
    error: 'InvalidParameterException',
    after: noTaskDefinition('td-compat'),
  },
  {
    name: 'RegisterTaskDefinition: Fargate stopTimeout 121',
    op: 'RegisterTaskDefinition',
    input: fargate('td-stop-timeout', { containerDefinitions: [container('app', { stopTimeout: 121 })] }),
    error: 'ClientException',
    after: noTaskDefinition('td-stop-timeout'),
  },
  {
    name: 'RegisterTaskDefinition: Fargate cpu 256 with memory 4096',
    op: 'RegisterTaskDefinition',
    input: fargate('td-size', { memory: '4096' }),
    error: 'ClientException',
    after: noTaskDefinition('td-size'),
  },
  {
    name: 'RegisterTaskDefinition: Fargate without awsvpc',
    op: 'RegisterTaskDefinition',
    input: fargate('td-fargate-bridge', { networkMode: 'bridge' }),
    error: 'ClientException',
    after: noTaskDefinition('td-fargate-bridge'),
  },
  {
    name: 'RegisterTaskDefinition: Fargate without task cpu',
    op: 'RegisterTaskDefinition',
    input: fargate('td-fargate-nocpu', { cpu: undefined }),
    error: 'ClientException',
    after: noTaskDefinition('td-fargate-nocpu'),
  },
  {
    name: 'RegisterTaskDefinition: duplicate container names',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-dup-names', containerDefinitions: [container('app'), container('app')] },
    error: 'ClientException',
    after: noTaskDefinition('td-dup-names'),
  },
  {
    name: 'RegisterTaskDefinition: empty container list',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-empty', containerDefinitions: [] },
    error: 'ClientException',
    after: noTaskDefinition('td-empty'),
  },
  {
    name: 'RegisterTaskDefinition: no memory for an EC2 container',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-no-memory', containerDefinitions: [{ name: 'app', image: 'nginx' }] },
    error: 'ClientException',
    after: noTaskDefinition('td-no-memory'),
  },
  {
    name: 'RegisterTaskDefinition: no essential container',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-no-essential', containerDefinitions: [container('app', { essential: false })] },
    error: 'ClientException',
    after: noTaskDefinition('td-no-essential'),
  },
  {
    name: 'RegisterTaskDefinition: invalid family name',
    op: 'RegisterTaskDefinition',
    input: { family: 'td bad!', containerDefinitions: [container()] },
    error: 'ClientException',
  },
  {
    name: 'RegisterTaskDefinition: aws: tag key',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-aws-tag', containerDefinitions: [container()], tags: [tag('AWS:team')] },
    error: 'InvalidParameterException',
    after: noTaskDefinition('td-aws-tag'),
  },
  {
    name: 'RegisterTaskDefinition: 51 tags',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-51-tags', containerDefinitions: [container()], tags: manyTags(51) },
    error: 'InvalidParameterException',
    after: noTaskDefinition('td-51-tags'),
  },
  {
    name: 'RegisterTaskDefinition: tag without a key',
    op: 'RegisterTaskDefinition',
    input: { family: 'td-keyless-tag', containerDefinitions: [container()], tags: [{ value: 'v' }] },
    error: 'InvalidParameterException',
    after: noTaskDefinition('td-keyless-tag'),
  },

  // DescribeTaskDefinition
  { name: 'DescribeTaskDefinition: taskDefinition missing', op: 'DescribeTaskDefinition', input: {}, error: 'InvalidParameterException' },
  { name: 'DescribeTaskDefinition: unknown family', op: 'DescribeTaskDefinition', input: { taskDefinition: 'ghost' }, error: 'ClientException' },
  { name: 'DescribeTaskDefinition: unknown revision', op: 'DescribeTaskDefinition', input: { taskDefinition: 'web:99' }, error: 'ClientException' },
  {
    name: 'DescribeTaskDefinition: include outside the enum',
    op: 'DescribeTaskDefinition',
    input: { taskDefinition: 'web', include: ['EVERYTHING'] },
    error: 'InvalidParameterException',
  },

  // ListTaskDefinitions
  { name: 'ListTaskDefinitions: maxResults 0', op: 'ListTaskDefinitions', input: { maxResults: 0 }, error: 'InvalidParameterException' },
  { name: 'ListTaskDefinitions: maxResults 101', op: 'ListTaskDefinitions', input: { maxResults: 101 }, error: 'InvalidParameterException' },
  { name: 'ListTaskDefinitions: status outside the enum', op: 'ListTaskDefinitions', input: { status: 'GONE' }, error: 'InvalidParameterException' },
  { name: 'ListTaskDefinitions: sort outside the enum', op: 'ListTaskDefinitions', input: { sort: 'UP' }, error: 'InvalidParameterException' },
  { name: 'ListTaskDefinitions: garbage nextToken', op: 'ListTaskDefinitions', input: { nextToken: '%%%' }, error: 'InvalidParameterException' },
  {
    name: 'ListTaskDefinitions: nextToken from ListTaskDefinitionFamilies',
    op: 'ListTaskDefinitions',
    input: (f) => ({ nextToken: f.familiesToken }),
    error: 'InvalidParameterException',
  },
  {
    name: 'ListTaskDefinitions: forged nextToken with the right partition but no position',
    op: 'ListTaskDefinitions',
    input: () => {
      const partition = `TDREVISIONS#${ACCOUNT}#${REGION}`;
      return { nextToken: forgeToken({ p: partition, k: { gsi1pk: partition } }) };
    },
    error: 'InvalidParameterException',
  },

  // ListTaskDefinitionFamilies
  { name: 'ListTaskDefinitionFamilies: maxResults 0', op: 'ListTaskDefinitionFamilies', input: { maxResults: 0 }, error: 'InvalidParameterException' },
  { name: 'ListTaskDefinitionFamilies: maxResults 101', op: 'ListTaskDefinitionFamilies', input: { maxResults: 101 }, error: 'InvalidParameterException' },
  { name: 'ListTaskDefinitionFamilies: status outside the enum', op: 'ListTaskDefinitionFamilies', input: { status: 'DELETED' }, error: 'InvalidParameterException' },
  { name: 'ListTaskDefinitionFamilies: garbage nextToken', op: 'ListTaskDefinitionFamilies', input: { nextToken: 'abc' }, error: 'InvalidParameterException' },
  {
    name: 'ListTaskDefinitionFamilies: forged nextToken with the right partition but no position',
    op: 'ListTaskDefinitionFamilies',
    input: () => {
      const partition = `TDFAMILIES#${ACCOUNT}#${REGION}`;
      return { nextToken: forgeToken({ p: partition, k: { gsi1pk: partition } }) };
    },
    error: 'InvalidParameterException',
  },

  // DeregisterTaskDefinition
  { name: 'DeregisterTaskDefinition: taskDefinition missing', op: 'DeregisterTaskDefinition', input: {}, error: 'InvalidParameterException' },
  { name: 'DeregisterTaskDefinition: taskDefinition is a number', op: 'DeregisterTaskDefinition', body: '{"taskDefinition": 1}', error: 'SerializationException' },
  { name: 'DeregisterTaskDefinition: unknown revision', op: 'DeregisterTaskDefinition', input: { taskDefinition: 'ghost:1' }, error: 'ClientException' },
  {
    name: 'DeregisterTaskDefinition: no revision given ("Revision is missing.")',
    op: 'DeregisterTaskDefinition',
    input: { taskDefinition: 'web' },
    error: 'ClientException',
    after: async (f) => {
      const described = await f.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'web:1' }));
      expect(described.taskDefinition?.status).toBe('ACTIVE');
    },
  },

  // RunTask (cluster `bad`: no capacity providers, no default strategy; nothing may land there)
  { name: 'RunTask: taskDefinition missing', op: 'RunTask', input: { cluster: 'bad' }, error: 'InvalidParameterException', after: noTasksIn('bad') },
  { name: 'RunTask: count 0', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'web', count: 0 }, error: 'InvalidParameterException', after: noTasksIn('bad') },
  { name: 'RunTask: count 11', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'web', count: 11 }, error: 'InvalidParameterException', after: noTasksIn('bad') },
  { name: 'RunTask: count is a string', op: 'RunTask', body: '{"cluster": "bad", "taskDefinition": "web", "count": "1"}', error: 'SerializationException', after: noTasksIn('bad') },
  { name: 'RunTask: launchType outside the enum', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'web', launchType: 'MAINFRAME' }, error: 'InvalidParameterException', after: noTasksIn('bad') },
  {
    name: 'RunTask: launchType and capacityProviderStrategy together',
    op: 'RunTask',
    input: { cluster: 'bad', taskDefinition: 'web', launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] },
    error: 'InvalidParameterException',
    after: noTasksIn('bad'),
  },
  {
    name: 'RunTask: strategy provider not associated with the cluster',
    op: 'RunTask',
    input: { cluster: 'bad', taskDefinition: 'web-fargate', capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }], networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } } },
    error: 'InvalidParameterException',
    after: noTasksIn('bad'),
  },
  {
    name: 'RunTask: strategy weight 1001',
    op: 'RunTask',
    input: { cluster: 'bad', taskDefinition: 'web', capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1001 }] },
    error: 'InvalidParameterException',
    after: noTasksIn('bad'),
  },
  { name: 'RunTask: tag key longer than 128', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'web', tags: [tag(LONG_KEY)] }, error: 'InvalidParameterException', after: noTasksIn('bad') },
  { name: 'RunTask: 51 tags', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'web', tags: manyTags(51) }, error: 'InvalidParameterException', after: noTasksIn('bad') },
  { name: 'RunTask: aws: tag key', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'web', tags: [tag('aws:x')] }, error: 'InvalidParameterException', after: noTasksIn('bad') },
  { name: 'RunTask: tag without a key', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'web', tags: [{ value: 'v' }] }, error: 'InvalidParameterException', after: noTasksIn('bad') },
  { name: 'RunTask: unknown cluster', op: 'RunTask', input: { cluster: 'ghost', taskDefinition: 'web' }, error: 'ClusterNotFoundException' },
  { name: 'RunTask: unknown task definition', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'ghost' }, error: 'ClientException', after: noTasksIn('bad') },
  { name: 'RunTask: unknown revision', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'web:99' }, error: 'ClientException', after: noTasksIn('bad') },
  { name: 'RunTask: deregistered revision', op: 'RunTask', input: { cluster: 'bad', taskDefinition: 'old:1' }, error: 'ClientException', after: noTasksIn('bad') },
  {
    name: 'RunTask: FARGATE with an EC2-only task definition',
    op: 'RunTask',
    input: { cluster: 'bad', taskDefinition: 'web', launchType: 'FARGATE' },
    error: 'InvalidParameterException',
    after: noTasksIn('bad'),
  },
  {
    name: 'RunTask: awsvpc task definition without networkConfiguration',
    op: 'RunTask',
    input: { cluster: 'bad', taskDefinition: 'web-fargate', launchType: 'FARGATE' },
    error: 'InvalidParameterException',
    after: noTasksIn('bad'),
  },
  {
    name: 'RunTask: override for a container the task definition lacks',
    op: 'RunTask',
    input: { cluster: 'bad', taskDefinition: 'web', overrides: { containerOverrides: [{ name: 'sidecar', command: ['x'] }] } },
    error: 'InvalidParameterException',
    after: noTasksIn('bad'),
  },
  {
    name: 'RunTask: clientToken longer than 64',
    op: 'RunTask',
    input: { cluster: 'bad', taskDefinition: 'web', clientToken: 't'.repeat(65) },
    error: 'InvalidParameterException',
    after: noTasksIn('bad'),
  },
  {
    name: 'RunTask: clientToken reused with a different request',
    op: 'RunTask',
    input: { cluster: 'idem', taskDefinition: 'web', clientToken: 'token-1', startedBy: 'second' },
    error: 'ConflictException',
    after: noTasksIn('idem', 1),
  },

  // StartTask (cluster `idem` has one host and one task)
  { name: 'StartTask: containerInstances missing', op: 'StartTask', input: { cluster: 'idem', taskDefinition: 'web' }, error: 'InvalidParameterException', after: noTasksIn('idem', 1) },
  { name: 'StartTask: containerInstances is a string', op: 'StartTask', body: '{"cluster": "idem", "taskDefinition": "web", "containerInstances": "x"}', error: 'SerializationException' },
  { name: 'StartTask: no container instances', op: 'StartTask', input: { cluster: 'idem', taskDefinition: 'web', containerInstances: [] }, error: 'InvalidParameterException', after: noTasksIn('idem', 1) },
  {
    name: 'StartTask: 11 container instances',
    op: 'StartTask',
    input: (f) => ({ cluster: 'idem', taskDefinition: 'web', containerInstances: Array.from({ length: 11 }, () => f.idemHost) }),
    error: 'InvalidParameterException',
    after: noTasksIn('idem', 1),
  },
  { name: 'StartTask: taskDefinition missing', op: 'StartTask', input: (f) => ({ cluster: 'idem', containerInstances: [f.idemHost] }), error: 'InvalidParameterException', after: noTasksIn('idem', 1) },
  { name: 'StartTask: unknown cluster', op: 'StartTask', input: (f) => ({ cluster: 'ghost', taskDefinition: 'web', containerInstances: [f.idemHost] }), error: 'ClusterNotFoundException' },
  { name: 'StartTask: unknown task definition', op: 'StartTask', input: (f) => ({ cluster: 'idem', taskDefinition: 'ghost', containerInstances: [f.idemHost] }), error: 'ClientException', after: noTasksIn('idem', 1) },
  { name: 'StartTask: deregistered revision', op: 'StartTask', input: (f) => ({ cluster: 'idem', taskDefinition: 'old:1', containerInstances: [f.idemHost] }), error: 'ClientException', after: noTasksIn('idem', 1) },
  {
    name: 'StartTask: awsvpc task definition without networkConfiguration',
    op: 'StartTask',
    input: (f) => ({ cluster: 'idem', taskDefinition: 'web-fargate', containerInstances: [f.idemHost] }),
    error: 'InvalidParameterException',
    after: noTasksIn('idem', 1),
  },
  {
    name: 'StartTask: override for a container the task definition lacks',
    op: 'StartTask',
    input: (f) => ({ cluster: 'idem', taskDefinition: 'web', containerInstances: [f.idemHost], overrides: { containerOverrides: [{ name: 'sidecar' }] } }),
    error: 'InvalidParameterException',
    after: noTasksIn('idem', 1),
  },
  { name: 'StartTask: startedBy longer than 128', op: 'StartTask', input: (f) => ({ cluster: 'idem', taskDefinition: 'web', containerInstances: [f.idemHost], startedBy: 's'.repeat(129) }), error: 'InvalidParameterException', after: noTasksIn('idem', 1) },
  { name: 'StartTask: aws: tag key', op: 'StartTask', input: (f) => ({ cluster: 'idem', taskDefinition: 'web', containerInstances: [f.idemHost], tags: [tag('aws:x')] }), error: 'InvalidParameterException', after: noTasksIn('idem', 1) },

  // StopTask
  { name: 'StopTask: task missing', op: 'StopTask', input: { cluster: 'busy' }, error: 'InvalidParameterException' },
  { name: 'StopTask: task is a number', op: 'StopTask', body: '{"cluster": "busy", "task": 7}', error: 'SerializationException' },
  { name: 'StopTask: unknown task', op: 'StopTask', input: { cluster: 'busy', task: '0123456789abcdef0123456789abcdef' }, error: 'InvalidParameterException' },
  { name: 'StopTask: unknown cluster', op: 'StopTask', input: { cluster: 'ghost', task: '0123456789abcdef0123456789abcdef' }, error: 'ClusterNotFoundException' },
  {
    name: 'StopTask: task ARN of another cluster',
    op: 'StopTask',
    input: (f) => ({ cluster: 'bad', task: f.busyTasks[0] }),
    error: 'InvalidParameterException',
    after: async (f) => {
      const { tasks } = await f.ecs.send(new DescribeTasksCommand({ cluster: 'busy', tasks: [f.busyTasks[0]] }));
      expect(tasks?.[0].desiredStatus).toBe('RUNNING');
    },
  },

  // DescribeTasks
  { name: 'DescribeTasks: tasks missing', op: 'DescribeTasks', input: { cluster: 'busy' }, error: 'InvalidParameterException' },
  { name: 'DescribeTasks: tasks is a string', op: 'DescribeTasks', body: '{"cluster": "busy", "tasks": "abc"}', error: 'SerializationException' },
  { name: 'DescribeTasks: empty task list', op: 'DescribeTasks', input: { cluster: 'busy', tasks: [] }, error: 'InvalidParameterException' },
  {
    name: 'DescribeTasks: 101 tasks',
    op: 'DescribeTasks',
    input: { cluster: 'busy', tasks: Array.from({ length: 101 }, (_, i) => `task${i}`) },
    error: 'InvalidParameterException',
  },
  { name: 'DescribeTasks: unknown cluster', op: 'DescribeTasks', input: { cluster: 'ghost', tasks: ['abc'] }, error: 'ClusterNotFoundException' },
  { name: 'DescribeTasks: include outside the enum', op: 'DescribeTasks', input: { cluster: 'busy', tasks: ['abc'], include: ['EVERYTHING'] }, error: 'InvalidParameterException' },

  // ListTasks
  { name: 'ListTasks: maxResults 0', op: 'ListTasks', input: { cluster: 'busy', maxResults: 0 }, error: 'InvalidParameterException' },
  { name: 'ListTasks: maxResults 101', op: 'ListTasks', input: { cluster: 'busy', maxResults: 101 }, error: 'InvalidParameterException' },
  { name: 'ListTasks: desiredStatus outside the enum', op: 'ListTasks', input: { cluster: 'busy', desiredStatus: 'DONE' }, error: 'InvalidParameterException' },
  { name: 'ListTasks: launchType outside the enum', op: 'ListTasks', input: { cluster: 'busy', launchType: 'MAINFRAME' }, error: 'InvalidParameterException' },
  { name: 'ListTasks: unknown cluster', op: 'ListTasks', input: { cluster: 'ghost' }, error: 'ClusterNotFoundException' },
  { name: 'ListTasks: garbage nextToken', op: 'ListTasks', input: { cluster: 'busy', nextToken: 'garbage' }, error: 'InvalidParameterException' },
  {
    name: 'ListTasks: nextToken taken from another cluster',
    op: 'ListTasks',
    input: (f) => ({ cluster: 'bad', nextToken: f.busyTasksToken }),
    error: 'InvalidParameterException',
  },
  {
    name: 'ListTasks: forged nextToken outside the task range of the cluster',
    op: 'ListTasks',
    input: () => {
      const arn = clusterArnOf('busy');
      return { cluster: 'busy', nextToken: forgeToken({ p: arn, k: { pk: arn, sk: 'ZZZ' } }) };
    },
    error: 'InvalidParameterException',
  },
  {
    name: 'ListTasks: forged nextToken with extra key attributes',
    op: 'ListTasks',
    input: () => {
      const arn = clusterArnOf('busy');
      return { cluster: 'busy', nextToken: forgeToken({ p: arn, k: { pk: arn, sk: 'TASK#0', extra: 'x' } }) };
    },
    error: 'InvalidParameterException',
  },
  { name: 'ListTasks: unknown serviceName', op: 'ListTasks', input: { cluster: 'busy', serviceName: 'ghost-service' }, error: 'ServiceNotFoundException' },

  // TagResource (cluster `tagged` carries exactly team=a)
  { name: 'TagResource: tags missing', op: 'TagResource', input: { resourceArn: clusterArnOf('tagged') }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'TagResource: resourceArn missing', op: 'TagResource', input: { tags: [tag('x')] }, error: 'InvalidParameterException' },
  { name: 'TagResource: tags is an object', op: 'TagResource', body: JSON.stringify({ resourceArn: clusterArnOf('tagged'), tags: { x: 'y' } }), error: 'SerializationException', after: tagsOfTaggedCluster },
  { name: 'TagResource: tag key is a number', op: 'TagResource', body: JSON.stringify({ resourceArn: clusterArnOf('tagged'), tags: [{ key: 1, value: 'y' }] }), error: 'SerializationException', after: tagsOfTaggedCluster },
  { name: 'TagResource: not an ARN', op: 'TagResource', input: { resourceArn: 'cluster/tagged', tags: [tag('x')] }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'TagResource: tag key longer than 128', op: 'TagResource', input: { resourceArn: clusterArnOf('tagged'), tags: [tag(LONG_KEY)] }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'TagResource: 51 tags', op: 'TagResource', input: { resourceArn: clusterArnOf('tagged'), tags: manyTags(51) }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'TagResource: aws: tag key', op: 'TagResource', input: { resourceArn: clusterArnOf('tagged'), tags: [tag('aws:cost')] }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'TagResource: tag without a key', op: 'TagResource', input: { resourceArn: clusterArnOf('tagged'), tags: [{ value: 'v' }] }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'TagResource: unknown cluster', op: 'TagResource', input: { resourceArn: clusterArnOf('ghost'), tags: [tag('x')] }, error: 'ClusterNotFoundException' },
  {
    name: 'TagResource: unknown task definition revision',
    op: 'TagResource',
    input: { resourceArn: `${arnPrefix}:task-definition/web:99`, tags: [tag('x')] },
    error: 'ResourceNotFoundException',
  },
  {
    name: 'TagResource: the built-in FARGATE capacity provider',
    op: 'TagResource',
    input: { resourceArn: `${arnPrefix}:capacity-provider/FARGATE`, tags: [tag('x')] },
    error: 'InvalidParameterException',
  },

  // UntagResource
  { name: 'UntagResource: tagKeys missing', op: 'UntagResource', input: { resourceArn: clusterArnOf('tagged') }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'UntagResource: tagKeys is a string', op: 'UntagResource', body: JSON.stringify({ resourceArn: clusterArnOf('tagged'), tagKeys: 'team' }), error: 'SerializationException', after: tagsOfTaggedCluster },
  { name: 'UntagResource: empty tag key', op: 'UntagResource', input: { resourceArn: clusterArnOf('tagged'), tagKeys: [''] }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'UntagResource: tag key longer than 128', op: 'UntagResource', input: { resourceArn: clusterArnOf('tagged'), tagKeys: [LONG_KEY] }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },
  { name: 'UntagResource: unknown cluster', op: 'UntagResource', input: { resourceArn: clusterArnOf('ghost'), tagKeys: ['team'] }, error: 'ClusterNotFoundException' },
  { name: 'UntagResource: not an ARN', op: 'UntagResource', input: { resourceArn: 'tagged', tagKeys: ['team'] }, error: 'InvalidParameterException', after: tagsOfTaggedCluster },

  // ListTagsForResource
  { name: 'ListTagsForResource: resourceArn missing', op: 'ListTagsForResource', input: {}, error: 'InvalidParameterException' },
  { name: 'ListTagsForResource: resourceArn is a number', op: 'ListTagsForResource', body: '{"resourceArn": 5}', error: 'SerializationException' },
  { name: 'ListTagsForResource: not an ARN', op: 'ListTagsForResource', input: { resourceArn: 'arn:nope' }, error: 'InvalidParameterException' },
  { name: 'ListTagsForResource: unknown cluster', op: 'ListTagsForResource', input: { resourceArn: clusterArnOf('ghost') }, error: 'ClusterNotFoundException' },
  {
    // ResourceNotFoundException is not among ListTagsForResource's errors in the ECS model; an unknown
    // task definition is a ClientException, as DescribeTaskDefinition answers.
    name: 'ListTagsForResource: unknown task definition revision',
    op: 'ListTagsForResource',
    input: { resourceArn: `${arnPrefix}:task-definition/web:99` },
    error: 'ClientException',
  },
  {
    // Same: the model lists no ResourceNotFoundException here; a missing task is an invalid parameter.
    name: 'ListTagsForResource: unknown task',
    op: 'ListTagsForResource',
    input: { resourceArn: `${arnPrefix}:task/busy/0123456789abcdef0123456789abcdef` },
    error: 'InvalidParameterException',
  },
  {
    // Same: a cluster ARN of another region names no cluster of this caller.
    name: 'ListTagsForResource: cluster ARN of another region',
    op: 'ListTagsForResource',
    input: { resourceArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/tagged` },
    error: 'ClusterNotFoundException',
  },
];

// ---- the suite ----

let berth: Harness;
let fixtures: Fixtures;

beforeAll(async () => {
  berth = await startHarness();
  const ecs = berth.ecs();
  for (const clusterName of ['bad', 'busy', 'idem', 'cp']) await ecs.send(new CreateClusterCommand({ clusterName }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'tagged', tags: [tag('team', 'a')] }));

  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [container('app')] }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web-fargate',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [container('app')],
    }),
  );
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'old', containerDefinitions: [container('app')] }));
  await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'old:1' }));

  // Fargate tasks need no host to exist, so `busy` holds tasks but no container instance.
  const busy = await ecs.send(
    new RunTaskCommand({
      cluster: 'busy',
      taskDefinition: 'web-fargate',
      launchType: 'FARGATE',
      count: 2,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'] } },
    }),
  );
  const busyTasks = (busy.tasks ?? []).map((task) => task.taskArn!);
  expect(busyTasks).toHaveLength(2);
  const idemHost = await registerHost(ecs, 'idem');
  await ecs.send(
    new RunTaskCommand({ cluster: 'idem', taskDefinition: 'web', clientToken: 'token-1', startedBy: 'first' }),
  );

  const clustersToken = (await ecs.send(new ListClustersCommand({ maxResults: 1 }))).nextToken;
  const busyTasksToken = (await ecs.send(new ListTasksCommand({ cluster: 'busy', maxResults: 1 }))).nextToken;
  const familiesToken = (await ecs.send(new ListTaskDefinitionFamiliesCommand({ maxResults: 1 }))).nextToken;
  expect(clustersToken && busyTasksToken && familiesToken).toBeTruthy();
  fixtures = { ecs, busyTasks, clustersToken: clustersToken!, busyTasksToken: busyTasksToken!, familiesToken: familiesToken!, idemHost };
});
afterAll(() => berth?.close());

describe('bad inputs answer the ECS error with HTTP 400 and write nothing', () => {
  it('covers every operation Berth serves', () => {
    expect(new Set(rows.map((row) => row.op))).toEqual(new Set(Object.keys(COMMANDS)));
  });

  it.each(rows)('$name -> $error', async (row) => {
    if (row.body !== undefined) {
      const target = row.target === null ? undefined : (row.target ?? row.op);
      const response = await berth.raw(target, row.body, row.headers);
      expect(response.json).toMatchObject({ __type: row.error, message: expect.any(String) });
      expect(response.status).toBe(400);
    } else {
      const input = typeof row.input === 'function' ? row.input(fixtures) : (row.input ?? {});
      // The token of this row was issued for us-east-1; replaying it in another region must fail.
      const ecs = row.name === 'ListClusters: nextToken from another region' ? berth.ecs('eu-west-1') : fixtures.ecs;
      const Command = COMMANDS[row.op] as unknown as new (input: Input) => CreateClusterCommand;
      await expectSdkError(ecs.send(new Command(input)), row.error);
    }
    await row.after?.(fixtures);
  });
});

/**
 * What a hostile client found (issue 7), each kept fixed: members named after Object.prototype
 * properties, deep nesting, oversized bodies, ARNs of another partition, account or region, targets
 * with trailing parts, and numbers outside the model's integer types. Every refusal is HTTP 4xx with an
 * ECS error name and leaves the table exactly as it was.
 */
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ListTagsForResourceCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/api/json-depth';
import { MAX_BODY_BYTES } from '../../src/local/http-server';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';
import { snapshotTable } from '../support/table-snapshot';

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113';

let berth: Harness;

/** A raw JSON 1.1 request with any X-Amz-Target. */
async function send(target: string, body: string): Promise<{ status: number; json: any }> {
  const response = await fetch(berth.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body,
  });
  return { status: response.status, json: await response.json() };
}
const ecs = (operation: string, body: unknown) =>
  send(`${ECS_TARGET}.${operation}`, typeof body === 'string' ? body : JSON.stringify(body));

/** Sends a refused request and checks its error and that the table did not change. */
async function expectRefused(call: () => Promise<{ status: number; json: any }>, error: string, status = 400) {
  const before = await snapshotTable(berth.tableName);
  const response = await call();
  expect(response.json).toMatchObject({ __type: error, message: expect.any(String) });
  expect(response.status).toBe(status);
  expect(await snapshotTable(berth.tableName)).toEqual(before);
}

beforeAll(async () => {
  berth = await startHarness();
  const client = berth.ecs();
  await client.send(new CreateClusterCommand({ clusterName: 'demo', tags: [{ key: 'team', value: 'a' }] }));
  // An EC2 task needs a container instance to be placed on at RunTask.
  await registerHost(client, 'demo');
  await client.send(
    new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'nginx', memory: 128 }] }),
  );
});
afterAll(() => berth?.close());

describe('members named after Object.prototype properties', () => {
  it.each(PROTOTYPE_NAMES)('ListClusters ignores a top-level member named %s, as any unknown member', async (name) => {
    const response = await ecs('ListClusters', `{"${name}": 1}`);
    expect(response.status).toBe(200);
    expect(response.json.clusterArns).toContain(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/demo`);
  });

  it.each(PROTOTYPE_NAMES)('RunTask ignores %s nested in overrides and in a container override', async (name) => {
    const body = `{"cluster": "demo", "taskDefinition": "web", "overrides": {"${name}": 1, "containerOverrides": [{"name": "app", "${name}": {"${name}": []}}]}}`;
    const response = await ecs('RunTask', body);
    expect(response.status).toBe(200);
    expect(response.json.tasks).toHaveLength(1);
    expect(response.json.tasks[0].overrides).toEqual({ containerOverrides: [{ name: 'app' }], inferenceAcceleratorOverrides: [] });
  });

  it.each(PROTOTYPE_NAMES.filter((name) => name !== '__proto__'))(
    'a docker label keyed %s is stored and given back like any other',
    async (name) => {
      const family = `labels-${name.replace(/_/g, '')}`;
      const body = `{"family": "${family}", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128, "dockerLabels": {"${name}": "x"}}]}`;
      expect((await ecs('RegisterTaskDefinition', body)).status).toBe(200);
      const described = await berth.ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
      expect(described.taskDefinition?.containerDefinitions?.[0].dockerLabels).toEqual({ [name]: 'x' });
    },
  );

  it('a map key named __proto__ (which the DynamoDB marshaller cannot store) is refused, not a 500', async () => {
    const body = '{"family": "labels-proto", "containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128, "dockerLabels": {"__proto__": {"polluted": "x"}}}]}';
    await expectRefused(() => ecs('RegisterTaskDefinition', body), 'InvalidParameterException');
    await expectRefused(() => ecs('RegisterTaskDefinition', body.replace('{"polluted": "x"}', '"x"')), 'InvalidParameterException');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(PROTOTYPE_NAMES)('the agent extension operations read %s as an unknown member', async (name) => {
    const polled = await send('BerthAgentV1.PollAssignments', `{"${name}": {"${name}": 1}, "known": {"${name}": 1}}`);
    expect(polled).toMatchObject({ status: 400, json: { __type: 'InvalidParameterException' } });
    const interrupted = await send('BerthAgentV1.InterruptSpotCapacity', `{"${name}": {"${name}": 1}}`);
    expect(interrupted.status).toBe(200);
  });
});

describe('nesting depth is bounded at the protocol edge', () => {
  const nested = (depth: number) => `${'{"x":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

  it.each(['RegisterTaskDefinition', 'ListClusters', 'RunTask', 'TagResource'])(
    '%s with an unknown member nested 5,000 deep -> SerializationException',
    async (operation) => {
      await expectRefused(() => ecs(operation, `{"family": "deep", "unknown": ${nested(5000)}}`), 'SerializationException');
    },
  );

  it('the agent extension operations have the same bound', async () => {
    await expectRefused(
      () => send('BerthAgentV1.PollAssignments', `{"known": ${nested(5000)}}`),
      'SerializationException',
    );
  });

  it(`${MAX_JSON_DEPTH} levels are read; brackets inside strings do not count`, async () => {
    const ok = await ecs('ListClusters', `{"unknown": ${nested(MAX_JSON_DEPTH - 1)}, "also": "${'['.repeat(500)}\\"{"}`);
    expect(ok.status).toBe(200);
    await expectRefused(() => ecs('ListClusters', `{"unknown": ${nested(MAX_JSON_DEPTH)}}`), 'SerializationException');
  });
});

describe('oversized bodies', () => {
  /** A real HTTP client (node:http) sending `bytes` bytes of JSON, reading whatever answer comes. */
  const post = (bytes: number) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = request(berth.server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `${ECS_TARGET}.ListClusters`,
          'content-length': String(bytes),
        },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on('error', reject);
      // `{` + spaces + `}`: valid JSON of any size, written in 1 MiB pieces.
      const piece = Buffer.alloc(1024 * 1024, 0x20);
      req.write('{');
      let left = bytes - 2;
      const writeMore = () => {
        while (left > 0) {
          const next = piece.subarray(0, Math.min(piece.length, left));
          left -= next.length;
          if (!req.write(next)) return void req.once('drain', writeMore);
        }
        req.end('}');
      };
      writeMore();
    });

  it('a 12 MB body gets HTTP 413 with an ECS error body', async () => {
    const response = await post(12 * 1000 * 1000);
    expect(response.status).toBe(413);
    expect(response.json).toEqual({ __type: 'SerializationException', message: expect.stringContaining('4 MiB') });
  });

  it('one byte over the limit gets 413; a body of exactly the limit is served', async () => {
    expect((await post(MAX_BODY_BYTES + 1)).status).toBe(413);
    const served = await post(MAX_BODY_BYTES);
    expect(served.status).toBe(200);
    expect(served.json.clusterArns).toBeDefined();
  });

  it('fetch (undici) also receives the 413', async () => {
    const response = await ecs('CreateCluster', `{"clusterName": "huge", "padding": "${'x'.repeat(5 * 1024 * 1024)}"}`);
    expect(response).toMatchObject({ status: 413, json: { __type: 'SerializationException' } });
    const described = await berth.ecs().send(new DescribeClustersCommand({ clusters: ['huge'] }));
    expect(described.clusters).toEqual([]);
  });
});

describe('ARNs of another partition, account or region never resolve to local resources', () => {
  const foreign = {
    partition: `arn:aws-cn:ecs:${REGION}:${ACCOUNT}`,
    account: `arn:aws:ecs:${REGION}:210987654321`,
    region: `arn:aws:ecs:eu-west-1:${ACCOUNT}`,
  };

  it.each(Object.entries(foreign))('another %s: writes are refused and change nothing', async (_, prefix) => {
    // DeregisterTaskDefinition: an ARN naming no local revision is "Unable to describe task definition".
    await expectRefused(() => ecs('DeregisterTaskDefinition', { taskDefinition: `${prefix}:task-definition/web:1` }), 'ClientException');
    // TagResource and UntagResource: a cluster ARN naming no local cluster.
    await expectRefused(
      () => ecs('TagResource', { resourceArn: `${prefix}:cluster/demo`, tags: [{ key: 'x', value: 'y' }] }),
      'ClusterNotFoundException',
    );
    await expectRefused(() => ecs('UntagResource', { resourceArn: `${prefix}:cluster/demo`, tagKeys: ['team'] }), 'ClusterNotFoundException');
    // DeleteCluster and RunTask by cluster ARN.
    await expectRefused(() => ecs('DeleteCluster', { cluster: `${prefix}:cluster/demo` }), 'ClusterNotFoundException');
    await expectRefused(() => ecs('RunTask', { cluster: `${prefix}:cluster/demo`, taskDefinition: 'web' }), 'ClusterNotFoundException');
    const tags = await berth.ecs().send(
      new ListTagsForResourceCommand({ resourceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/demo` }),
    );
    expect(tags.tags).toEqual([{ key: 'team', value: 'a' }]);
  });

  it.each(Object.entries(foreign))('another %s: reads find nothing', async (_, prefix) => {
    const described = await ecs('DescribeClusters', { clusters: [`${prefix}:cluster/demo`] });
    expect(described.status).toBe(200);
    expect(described.json.clusters).toEqual([]);
    const definition = await ecs('DescribeTaskDefinition', { taskDefinition: `${prefix}:task-definition/web:1` });
    expect(definition).toMatchObject({ status: 400, json: { __type: 'ClientException' } });
  });
});

describe('X-Amz-Target is parsed exactly', () => {
  it.each([
    `${ECS_TARGET}.ListClusters.Extra`,
    `${ECS_TARGET}.CreateCluster.`,
    `${ECS_TARGET}..CreateCluster`,
    `${ECS_TARGET}.CreateCluster.CreateCluster`,
    `x.${ECS_TARGET}.CreateCluster`,
    `${ECS_TARGET}.`,
    `${ECS_TARGET}`,
    'BerthAgentV1.PollAssignments.Extra',
  ])('%s -> UnknownOperationException', async (target) => {
    await expectRefused(() => send(target, '{"clusterName": "by-target"}'), 'UnknownOperationException');
  });
});

describe('numbers outside the model type', () => {
  const register = (value: string) =>
    ecs(
      'RegisterContainerInstance',
      `{"cluster": "demo", "totalResources": [{"name": "CPU", "type": "LONG", "longValue": ${value}}, {"name": "MEMORY", "type": "INTEGER", "integerValue": 512}]}`,
    );

  it.each(['9223372036854775808', '1e19', '-1e19', '1e300'])(
    'a long of %s (beyond signed 64 bits) -> SerializationException',
    async (value) => {
      await expectRefused(() => register(value), 'SerializationException');
    },
  );

  it('a long within 64 bits that Berth cannot keep exactly (beyond 2^53) -> InvalidParameterException', async () => {
    await expectRefused(() => register('1152921504606846976'), 'InvalidParameterException');
  });

  it.each(['2147483648', '-2147483649', '1e10'])('an integer of %s (beyond 32 bits) -> SerializationException', async (value) => {
    await expectRefused(() => ecs('RunTask', `{"cluster": "demo", "taskDefinition": "web", "count": ${value}}`), 'SerializationException');
  });

  it('a long in range is accepted', async () => {
    const response = await register('4096');
    expect(response.status).toBe(200);
  });
});

describe('JSON inside strings', () => {
  it.each(['null', '5', '[]', '"text"', '{"instanceId": 7}', '{"availabilityZone": {"constructor": 1}}'])(
    'an instanceIdentityDocument of %s -> InvalidParameterException',
    async (document) => {
      const body = {
        cluster: 'demo',
        instanceIdentityDocument: document,
        totalResources: [
          { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
          { name: 'MEMORY', type: 'INTEGER', integerValue: 512 },
        ],
      };
      await expectRefused(() => ecs('RegisterContainerInstance', body), 'InvalidParameterException');
    },
  );
});

describe("Berth's extension members on ECS operations", () => {
  it('SubmitContainerStateChange keeps the agent healthStatus but checks it against the model enum', async () => {
    await expectRefused(
      () => ecs('SubmitContainerStateChange', { cluster: 'demo', task: '0123456789abcdef0123456789abcdef', containerName: 'app', healthStatus: 'GREAT' }),
      'InvalidParameterException',
    );
    await expectRefused(
      () => ecs('SubmitContainerStateChange', { cluster: 'demo', task: '0123456789abcdef0123456789abcdef', containerName: 'app', healthStatus: { constructor: 1 } }),
      'SerializationException',
    );
  });
});

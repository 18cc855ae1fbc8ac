/**
 * `npx berth proxy` and createBerthEcsClient: unmodified ECS clients against a Berth behind API
 * Gateway's IAM authorization. The gateway here (test/support/sigv4-gateway.ts) checks each SigV4
 * signature for `execute-api` from the spec, independently of the signer the proxy uses.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { CreateClusterCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBerthEcsClient } from '../../src/client/berth-ecs-client';
import { refusal, regionOfExecuteApiHost, startSigningProxy, type RunningSigningProxy } from '../../src/proxy/signing-proxy';
import { startHarness, type Harness } from '../support/berth-harness';
import { isAlive } from '../support/processes';
import { startSigV4Gateway, type SigV4Gateway } from '../support/sigv4-gateway';

const REGION = 'eu-west-1';
const KEY = { accessKeyId: 'AKIDBERTHPROXY', secretAccessKey: 'proxy-secret' };
const AWS = '/usr/bin/aws';
const ECS_TARGET = 'AmazonEC2ContainerServiceV20141113.ListClusters';

let berth: Harness;
let gateway: SigV4Gateway;
let proxy: RunningSigningProxy;
const clients: ECSClient[] = [];

beforeAll(async () => {
  berth = await startHarness();
  gateway = await startSigV4Gateway(berth.server.url, { [KEY.accessKeyId]: KEY.secretAccessKey }, REGION);
  proxy = await startSigningProxy({ endpoint: gateway.endpoint, region: REGION, port: 0, credentials: KEY });
});
afterAll(async () => {
  clients.forEach((client) => client.destroy());
  await proxy?.close();
  await gateway?.close();
  await berth?.close();
});

/** An ordinary ECS client, signing for `ecs` with keys the gateway has never heard of. */
function plainEcsClient(endpoint: string): ECSClient {
  const client = new ECSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'client', secretAccessKey: 'unknown' }, maxAttempts: 1 });
  clients.push(client);
  return client;
}

describe('the gateway stand-in', () => {
  it('refuses an ECS client that signs for ecs, as API Gateway does (so the proxy is what makes the difference)', async () => {
    await expect(plainEcsClient(gateway.endpoint).send(new ListClustersCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    expect(gateway.seen.at(-1)).toMatchObject({ service: 'ecs', valid: false });
  });

  it('refuses a request signed for execute-api with the wrong secret (it checks the signature, not only its scope)', async () => {
    const ecs = createBerthEcsClient({ endpoint: gateway.endpoint, region: REGION, credentials: { ...KEY, secretAccessKey: 'wrong' }, maxAttempts: 1 });
    clients.push(ecs);
    await expect(ecs.send(new ListClustersCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    expect(gateway.seen.at(-1)).toMatchObject({ accessKeyId: KEY.accessKeyId, service: 'execute-api', valid: false });
  });
});

describe('startSigningProxy', () => {
  it('re-signs an ordinary ECS client request with its own credentials for execute-api, and the answer comes back unchanged', async () => {
    const ecs = plainEcsClient(proxy.url);
    const created = await ecs.send(new CreateClusterCommand({ clusterName: 'through-proxy' }));
    expect(created.cluster?.clusterName).toBe('through-proxy');
    const listed = await ecs.send(new ListClustersCommand({}));
    expect(listed.clusterArns).toContain(created.cluster!.clusterArn);
    expect(gateway.seen.at(-1)).toEqual({ accessKeyId: KEY.accessKeyId, service: 'execute-api', region: REGION, valid: true, target: ECS_TARGET });
  });

  it('passes ECS errors through with their status and type', async () => {
    const ecs = plainEcsClient(proxy.url);
    await expect(ecs.send(new CreateClusterCommand({ clusterName: 'bad name!' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it.each([
    ['a target that is not ECS', 'POST', { 'x-amz-target': 'AWSCognitoIdentityProviderService.ListUsers' }, 400],
    ['no target at all', 'POST', {}, 400],
    ['a method other than POST', 'GET', { 'x-amz-target': ECS_TARGET }, 405],
  ])('refuses %s and forwards nothing', async (_name, method, headers, status) => {
    const before = gateway.seen.length;
    const response = await fetch(proxy.url, { method, headers: { 'content-type': 'application/x-amz-json-1.1', ...headers }, body: method === 'POST' ? '{}' : undefined });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { __type: string }).__type).toBe('BerthProxyRefusedRequest');
    expect(gateway.seen.length).toBe(before);
  });

  it.each([
    ['a DNS-rebound name', 'attacker.example:4601', 'the proxy answers only requests addressed to a loopback host (got Host attacker.example:4601)'],
    ['no Host', undefined, 'the proxy answers only requests addressed to a loopback host (got Host none)'],
  ])('refuses a request addressed to %s', (_name, host, why) => {
    expect(refusal('POST', host, ECS_TARGET)).toBe(why);
  });

  it.each([['127.0.0.1:4601'], ['localhost:4601'], ['[::1]:4601']])('accepts the loopback Host %s', (host) => {
    expect(refusal('POST', host, ECS_TARGET)).toBeUndefined();
  });

  it('will not listen beyond loopback', async () => {
    await expect(startSigningProxy({ endpoint: gateway.endpoint, region: REGION, host: '0.0.0.0', port: 0, credentials: KEY })).rejects.toThrow(/loopback only/);
  });

  it.each([
    ['abc123.execute-api.eu-west-1.amazonaws.com', 'eu-west-1'],
    ['abc123.execute-api.cn-north-1.amazonaws.com.cn', 'cn-north-1'],
    ['ecs.example.com', undefined],
  ])('reads the region of %s', (host, region) => {
    expect(regionOfExecuteApiHost(host)).toBe(region);
  });

  it('needs a region when the endpoint does not name one', async () => {
    await expect(startSigningProxy({ endpoint: 'https://ecs.example.com/', port: 0, credentials: KEY })).rejects.toThrow(/pass --region/);
  });
});

describe('createBerthEcsClient', () => {
  it('signs for execute-api, which the gateway accepts', async () => {
    const ecs = createBerthEcsClient({ endpoint: gateway.endpoint, region: REGION, credentials: KEY, maxAttempts: 1 });
    clients.push(ecs);
    const listed = await ecs.send(new ListClustersCommand({}));
    expect(listed.clusterArns?.length).toBeGreaterThan(0);
    expect(gateway.seen.at(-1)).toMatchObject({ service: 'execute-api', valid: true });
  });
});

describe.skipIf(!existsSync(AWS))('`npx berth proxy` as the README runs it, with the AWS CLI', { timeout: 120_000 }, () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid && isAlive(child.pid)) child.kill('SIGKILL');
  });

  it('serves the AWS CLI unmodified, and stops when its npx is sent SIGTERM', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' };
    child = spawn('npx', ['berth', 'proxy', '--endpoint', gateway.endpoint, '--region', REGION, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr!.on('data', (chunk) => (output += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (chunk) => {
        output += chunk;
        const match = /berth proxy: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child!.once('exit', (code) => reject(new Error(`berth proxy exited (${code}): ${output}`)));
    });
    const { stdout } = await promisify(execFile)(AWS, ['ecs', 'list-clusters', '--endpoint-url', url, '--region', 'us-east-1', '--output', 'json'], { env });
    expect(JSON.parse(stdout).clusterArns).toEqual(expect.arrayContaining([expect.stringContaining(':cluster/through-proxy')]));
    expect(gateway.seen.at(-1)).toMatchObject({ accessKeyId: KEY.accessKeyId, service: 'execute-api', valid: true });

    // npx runs the bin through `sh -c`, which does not pass SIGTERM on: the proxy must still stop.
    const port = Number(new URL(url).port);
    child.kill('SIGTERM');
    const deadline = Date.now() + 15_000;
    for (;;) {
      const listening = await fetch(url, { method: 'POST', headers: { 'x-amz-target': ECS_TARGET }, body: '{}' }).then(() => true, () => false);
      if (!listening) break;
      if (Date.now() > deadline) throw new Error(`the proxy still listens on port ${port} 15 s after its npx got SIGTERM`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});

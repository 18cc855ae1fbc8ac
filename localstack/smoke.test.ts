// Smoke test of Berth deployed on LocalStack (localstack/deploy.sh): finds the API from the
// Berth-ControlPlane stack outputs and drives it with the real ECS SDK, signing for execute-api.
// Skips, saying why, when LocalStack is not reachable. Run: npx vitest run -c localstack/vitest.config.ts
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  ECSClient,
  type ECSClientConfig,
  ListClustersCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, describe, expect, it } from 'vitest';

const ENDPOINT = (process.env.LOCALSTACK_ENDPOINT ?? 'http://localhost.localstack.cloud:4566').replace(/\/+$/, '');
const REGION = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
const STACK = 'Berth-ControlPlane';
// LocalStack does not check signatures; any credentials with a plausible shape do.
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

async function reachable(): Promise<string | undefined> {
  try {
    const response = await fetch(`${ENDPOINT}/_localstack/health`, { signal: AbortSignal.timeout(3_000) });
    return response.ok ? undefined : `health check answered HTTP ${response.status}`;
  } catch (error) {
    return (error as Error).message;
  }
}

/** CloudFormation DescribeStacks (query protocol) without an SDK client: the outputs as a map. */
async function stackOutputs(stackName: string): Promise<Record<string, string>> {
  const response = await fetch(`${ENDPOINT}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      // LocalStack routes by the credential scope (service, region) and ignores the signature.
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/cloudformation/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Action: 'DescribeStacks', Version: '2010-05-15', StackName: stackName }).toString(),
  });
  const xml = await response.text();
  if (!response.ok) {
    throw new Error(`DescribeStacks ${stackName} failed (HTTP ${response.status}); run localstack/deploy.sh first.\n${xml}`);
  }
  const outputs: Record<string, string> = {};
  for (const member of xml.split('<member>')) {
    const key = /<OutputKey>([^<]*)<\/OutputKey>/.exec(member)?.[1];
    const value = /<OutputValue>([^<]*)<\/OutputValue>/.exec(member)?.[1];
    if (key && value !== undefined) outputs[key] = value;
  }
  return outputs;
}

/** The URL LocalStack serves a REST API stage at (the stack's EcsEndpoint names AWS's host). */
function localApiUrl(restApiId: string, stage: string): string {
  const url = new URL(ENDPOINT);
  if (url.hostname === 'localhost.localstack.cloud') {
    return `${url.protocol}//${restApiId}.execute-api.localhost.localstack.cloud:${url.port || 4566}/${stage}/`;
  }
  return `${ENDPOINT}/_aws/execute-api/${restApiId}/${stage}/`;
}

const unreachable = await reachable();
if (unreachable) {
  console.warn(
    `\n[localstack smoke] SKIPPED: LocalStack is not reachable at ${ENDPOINT} (${unreachable}).\n` +
      '  Start it:  docker compose -f localstack/docker-compose.yml up -d\n' +
      '  Deploy:    localstack/deploy.sh\n' +
      '  (Set LOCALSTACK_ENDPOINT to use another address.)\n',
  );
}

describe.skipIf(unreachable !== undefined)(`Berth on LocalStack (${ENDPOINT})`, () => {
  const clusterName = `berth-smoke-${Date.now()}`;
  let ecs: ECSClient | undefined;

  afterAll(async () => {
    await ecs?.send(new DeleteClusterCommand({ cluster: clusterName })).catch(() => undefined);
    ecs?.destroy();
  });

  it('creates and lists a cluster through API Gateway and Lambda with the ECS SDK', async () => {
    const outputs = await stackOutputs(STACK);
    expect(outputs, `outputs of ${STACK}`).toHaveProperty('EcsRestApiId');
    const endpoint = localApiUrl(outputs.EcsRestApiId, outputs.EcsStageName ?? 'prod');
    console.info(`[localstack smoke] ECS endpoint: ${endpoint} (stack output EcsEndpoint: ${outputs.EcsEndpoint})`);

    // API Gateway's IAM authorization checks SigV4 for execute-api, not ecs. `signingName` is honoured
    // by the SDK's SigV4 signer but missing from ECSClientConfig's type, hence the intersection.
    const config: ECSClientConfig & { signingName: string } = {
      endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      signingName: 'execute-api',
    };
    ecs = new ECSClient(config);

    const created = await ecs.send(new CreateClusterCommand({ clusterName }));
    expect(created.cluster).toMatchObject({ clusterName, status: 'ACTIVE' });
    expect(created.cluster?.clusterArn).toMatch(new RegExp(`^arn:aws:ecs:${REGION}:\\d{12}:cluster/${clusterName}$`));

    const listed = await ecs.send(new ListClustersCommand({}));
    expect(listed.clusterArns).toContain(created.cluster?.clusterArn);
  });
});

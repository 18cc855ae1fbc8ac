// Smoke test of Berth deployed on LocalStack (localstack/deploy.sh): finds the API from the
// Berth-ControlPlane stack outputs and drives it with the real ECS SDK, signing for execute-api.
// Skips, saying why, when LocalStack is not reachable. Run: npx vitest run -c localstack/vitest.config.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  type ECSClientConfig,
  ListClustersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DeleteRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
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

async function poll<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

describe.skipIf(unreachable !== undefined)(`Berth on LocalStack (${ENDPOINT})`, () => {
  const clusterName = `berth-smoke-${Date.now()}`;
  let ecs: ECSClient | undefined;
  let endpoint = '';
  let agent: ChildProcess | undefined;
  const eventBridge = new EventBridgeClient({ endpoint: ENDPOINT, region: REGION, credentials: CREDENTIALS });
  const sqs = new SQSClient({ endpoint: ENDPOINT, region: REGION, credentials: CREDENTIALS });
  const cleanups: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    agent?.kill('SIGTERM');
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await ecs?.send(new DeleteClusterCommand({ cluster: clusterName })).catch(() => undefined);
    ecs?.destroy();
    eventBridge.destroy();
    sqs.destroy();
  });

  it('creates and lists a cluster through API Gateway and Lambda with the ECS SDK', async () => {
    const outputs = await stackOutputs(STACK);
    expect(outputs, `outputs of ${STACK}`).toHaveProperty('EcsRestApiId');
    endpoint = localApiUrl(outputs.EcsRestApiId, outputs.EcsStageName ?? 'prod');
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

  it('runs a task on a berth-agent to STOPPED and delivers its events from the bus to an SQS consumer', async () => {
    expect(ecs, 'the first test created the client').toBeDefined();
    const { EventBusName: busName = 'berth' } = await stackOutputs('Berth-Stateful').catch(() => ({}) as Record<string, string>);

    // A consumer as a user would add one: a queue and a rule on Berth's bus for this cluster's tasks.
    const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${clusterName}-events` }));
    cleanups.push(() => sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const ruleName = `${clusterName}-tasks`;
    await eventBridge.send(new PutRuleCommand({
      Name: ruleName,
      EventBusName: busName,
      EventPattern: JSON.stringify({ 'detail-type': ['ECS Task State Change'], detail: { clusterArn: [{ wildcard: `*:cluster/${clusterName}` }] } }),
    }));
    await eventBridge.send(new PutTargetsCommand({ Rule: ruleName, EventBusName: busName, Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }] }));
    cleanups.push(async () => {
      await eventBridge.send(new RemoveTargetsCommand({ Rule: ruleName, EventBusName: busName, Ids: ['queue'] }));
      await eventBridge.send(new DeleteRuleCommand({ Name: ruleName, EventBusName: busName }));
    });

    // An agent joins through the deployed API, signing for execute-api as it would in AWS.
    agent = spawn(
      process.execPath,
      ['--import', 'tsx', 'bin/berth-agent.ts', '--endpoint', endpoint, '--region', REGION, '--signing-name', 'execute-api',
        '--cluster', clusterName, '--cpu', '2048', '--memory', '4096', '--work-dir', mkdtempSync(join(tmpdir(), 'berth-smoke-agent-'))],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey }, stdio: 'inherit' },
    );
    await ecs!.send(new RegisterTaskDefinitionCommand({
      family: `${clusterName}-job`,
      containerDefinitions: [{ name: 'main', image: 'busybox', memory: 64, command: ['sh', '-c', 'exit 0'] }],
    }));
    const task = await poll('RunTask to place the task on the agent', async () => {
      const run = await ecs!.send(new RunTaskCommand({ cluster: clusterName, taskDefinition: `${clusterName}-job`, launchType: 'EC2' }));
      return run.tasks?.[0];
    });
    const stopped = await poll<Task>('the task to stop', async () => {
      const { tasks } = await ecs!.send(new DescribeTasksCommand({ cluster: clusterName, tasks: [task.taskArn!] }));
      return tasks?.[0]?.lastStatus === 'STOPPED' ? tasks[0] : undefined;
    });
    expect(stopped.containers?.[0]?.exitCode).toBe(0);

    const seen: string[] = [];
    await poll('the STOPPED task event in the queue', async () => {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }));
      for (const message of Messages) {
        const event = JSON.parse(message.Body!);
        if (event.detail?.taskArn === task.taskArn) seen.push(event.detail.lastStatus);
      }
      return seen.includes('STOPPED') ? true : undefined;
    });
    expect(seen).toContain('STOPPED');
  });

  it('keeps a service at its desired count through the Step Functions service loop', async () => {
    expect(agent, 'the previous test started an agent').toBeDefined();
    await ecs!.send(new RegisterTaskDefinitionCommand({
      family: `${clusterName}-web`,
      containerDefinitions: [{ name: 'web', image: 'busybox', memory: 64, command: ['sleep', '600'] }],
    }));
    await ecs!.send(new CreateServiceCommand({ cluster: clusterName, serviceName: 'web', taskDefinition: `${clusterName}-web`, desiredCount: 2, launchType: 'EC2' }));
    cleanups.push(async () => {
      await ecs!.send(new UpdateServiceCommand({ cluster: clusterName, service: 'web', desiredCount: 0 }));
      await ecs!.send(new DeleteServiceCommand({ cluster: clusterName, service: 'web', force: true }));
    });
    const steady = await poll('the service to run 2 tasks', async () => {
      const { services } = await ecs!.send(new DescribeServicesCommand({ cluster: clusterName, services: ['web'] }));
      return services?.[0]?.runningCount === 2 ? services[0] : undefined;
    }, 180_000);
    expect(steady.deployments).toEqual([expect.objectContaining({ status: 'PRIMARY', runningCount: 2, desiredCount: 2 })]);
  });
});

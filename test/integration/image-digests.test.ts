/**
 * Seed 002's image digest pinning through the scheduler pass on DynamoDB Local, the API on the wire
 * (DescribeTasks, DescribeServiceRevisions, DescribeServices) and no engine or agent running: what an
 * agent's report writes (the task RUNNING, its containers' imageDigest) is written here the way
 * SubmitTaskStateChange writes it, so each pass sees exactly the reports the test chose.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServicePass } from '../../src/app/service-scheduler';
import { changeFor } from '../../src/app/task-engine';
import { resolutionFailedMessage } from '../../src/domain/image-digests';
import { serviceGroup } from '../../src/domain/service';
import { stampTask } from '../../src/domain/update-time';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const CLUSTER = 'digests';
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`;
const DIGEST = `sha256:${'4f'.repeat(32)}`;
let berth: Harness;

const fargate = { requiresCompatibilities: ['FARGATE' as const], networkMode: 'awsvpc' as const, cpu: '256', memory: '512' };

beforeAll(async () => {
  berth = await startHarness();
  const ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  // web:1 resolves main (a tag) and leaves the log sidecar as written (versionConsistency disabled).
  await ecs.send(new RegisterTaskDefinitionCommand({
    family: 'web', ...fargate,
    containerDefinitions: [
      { name: 'main', image: 'busybox:1.36', command: ['sleep', '60'] },
      { name: 'log', image: 'fluent-bit:3', essential: false, versionConsistency: 'disabled' },
    ],
  }));
  // plain:1 resolves nothing: the release a failed resolution rolls back to.
  await ecs.send(new RegisterTaskDefinitionCommand({
    family: 'plain', ...fargate,
    containerDefinitions: [{ name: 'main', image: 'busybox:1.36', versionConsistency: 'disabled' }],
  }));
}, 60_000);
afterAll(async () => {
  await berth?.close();
});

const tasksOf = async (name: string) => (await berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup(name))).map((t) => t.record);

/** What an agent's RUNNING report writes: the task RUNNING, each container RUNNING with the digest its runtime named. */
async function reportRunning(taskArn: string, digests: Record<string, string | undefined>) {
  const stored = (await berth.context.tasks.get(CLUSTER_ARN, taskArn.split('/').pop()!))!;
  const now = Date.now();
  const running = stampTask(stored.record, {
    ...stored.record,
    lastStatus: 'RUNNING',
    startedAt: now,
    containers: stored.record.containers.map((c) => ({ ...c, lastStatus: 'RUNNING', ...(digests[c.name] ? { imageDigest: digests[c.name] } : {}) })),
    version: stored.version + 1,
  }, now);
  await berth.context.tasks.applyChange(changeFor(stored.record, running, stored.version, false));
}

async function createService(serviceName: string, taskDefinition: string, desiredCount: number, breaker = { enable: false, rollback: false }) {
  const { service } = await berth.ecs().send(new CreateServiceCommand({
    cluster: CLUSTER, serviceName, taskDefinition, desiredCount, launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'] } },
    deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: breaker },
  }));
  return service!;
}

async function newestRevision(serviceName: string) {
  const ecs = berth.ecs();
  const listed = await ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: serviceName }));
  const { serviceDeployments } = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [listed.serviceDeployments![0].serviceDeploymentArn!] }));
  const { serviceRevisions } = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [serviceDeployments![0].targetServiceRevision!.arn!] }));
  return { serviceDeployment: serviceDeployments![0], revision: serviceRevisions![0] };
}

describe('image digest pinning (seed 002)', () => {
  it('the first task establishes the digest; every later task of the deployment is created with it', async () => {
    const service = await createService('pinned', 'web', 3);
    const first = await runServicePass(berth.context, service.serviceArn!);
    expect(first.started).toHaveLength(1); // the scheduler first starts one task
    expect((await runServicePass(berth.context, service.serviceArn!)).started).toEqual([]); // and waits for it
    expect((await newestRevision('pinned')).revision.containerImages).toEqual([
      { containerName: 'main', image: 'busybox:1.36' },
      { containerName: 'log', image: 'fluent-bit:3' },
    ]);

    await reportRunning(first.started![0]!, { main: DIGEST, log: `sha256:${'11'.repeat(32)}` });
    const rest = await runServicePass(berth.context, service.serviceArn!);
    expect(rest.started).toHaveLength(2);
    const { tasks } = await berth.ecs().send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: rest.started! }));
    for (const task of tasks!) {
      // The image stays as the task definition names it; the digest is what the agent must run.
      expect(task.containers!.find((c) => c.name === 'main')).toMatchObject({ image: 'busybox:1.36', imageDigest: DIGEST });
      expect(task.containers!.find((c) => c.name === 'log')!.imageDigest).toBeUndefined(); // disabled: by tag
    }
    expect((await newestRevision('pinned')).revision.containerImages).toEqual([
      { containerName: 'main', imageDigest: DIGEST, image: 'busybox:1.36' },
      { containerName: 'log', image: 'fluent-bit:3' },
    ]);
  });

  it('three failed resolutions without the circuit breaker: the deployment continues without digests', async () => {
    const service = await createService('unresolved', 'web', 4);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const pass = await runServicePass(berth.context, service.serviceArn!);
      expect(pass.started).toHaveLength(1);
      await reportRunning(pass.started![0]!, {}); // the runtime could not name a digest
    }
    const last = await runServicePass(berth.context, service.serviceArn!);
    expect(last.started).toHaveLength(1); // the fourth task, no longer one at a time, by tag
    expect((await tasksOf('unresolved')).every((t) => t.containers.every((c) => c.imageDigest === undefined))).toBe(true);
    const { services } = await berth.ecs().send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['unresolved'] }));
    expect(services![0].deployments![0].rolloutState).toBe('IN_PROGRESS');
    expect(services![0].events!.map((e) => e.message)).toContain(resolutionFailedMessage('unresolved', services![0].deployments![0].id!));
  });

  it('three failed resolutions with the circuit breaker on: the deployment fails and rolls back', async () => {
    const service = await createService('rollback', 'plain', 1, { enable: true, rollback: true });
    const base = await runServicePass(berth.context, service.serviceArn!);
    expect(base.started).toHaveLength(1); // plain:1 resolves nothing: no waiting
    await reportRunning(base.started![0]!, {});
    await runServicePass(berth.context, service.serviceArn!); // COMPLETED
    const baseline = service.deployments![0].id!;

    await berth.ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'rollback', taskDefinition: 'web', desiredCount: 3 }));
    for (let attempt = 1; attempt <= 3; attempt++) {
      const pass = await runServicePass(berth.context, service.serviceArn!);
      expect(pass.started).toHaveLength(1);
      await reportRunning(pass.started![0]!, {});
    }
    await runServicePass(berth.context, service.serviceArn!);
    const { services } = await berth.ecs().send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['rollback'] }));
    const [svc] = services!;
    expect(svc.taskDefinition).toMatch(/task-definition\/plain:1$/);
    expect(svc.deployments!.find((d) => d.status === 'PRIMARY')).toMatchObject({ id: baseline, rolloutState: 'IN_PROGRESS' });
    expect(svc.deployments!.find((d) => d.id !== baseline)).toMatchObject({ status: 'ACTIVE', rolloutState: 'FAILED' });
    const { serviceDeployment } = await newestRevision('rollback');
    expect(serviceDeployment).toMatchObject({ status: 'ROLLBACK_IN_PROGRESS', deploymentCircuitBreaker: { status: 'TRIGGERED' } });
  });
});

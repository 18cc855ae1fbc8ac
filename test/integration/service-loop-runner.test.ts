/**
 * The local service loop with real passes on DynamoDB Local: wake-ups arriving in a burst and during
 * a pass are coalesced, and one service never has two passes at once; a pass at a time per service
 * still lets two services' passes run side by side.
 */
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serviceGroup } from '../../src/domain/service';
import { ServiceLoopStore } from '../../src/adapters/dynamodb/service-loop-store';
import { ServiceLoopRunner } from '../../src/local/service-loop-runner';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/loop`;
let berth: Harness;

beforeAll(async () => {
  berth = await startHarness();
  const ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'loop' }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      // Started all at once: no image digest resolution (seed 002) waits on a first task that no agent runs here.
      containerDefinitions: [{ name: 'main', image: 'busybox', versionConsistency: 'disabled' }],
    }),
  );
}, 60_000);
afterAll(async () => {
  await berth?.close();
});

it('coalesces wake-ups and never runs two passes of one service at once', async () => {
  const arns: string[] = [];
  for (const serviceName of ['a', 'b']) {
    const { service } = await berth.ecs().send(
      new CreateServiceCommand({
        cluster: 'loop',
        serviceName,
        taskDefinition: 'web',
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'] } },
      }),
    );
    arns.push(service!.serviceArn!);
  }
  const running = new Map<string, number>();
  let mostAtOnce = 0;
  let mostServicesAtOnce = 0;
  let passes = 0;
  let ended = 0;
  const runner = new ServiceLoopRunner({
    context: berth.context,
    store: new ServiceLoopStore(berth.doc, berth.tableName),
    debounceMs: 5,
    observe(arn, phase) {
      running.set(arn, (running.get(arn) ?? 0) + (phase === 'start' ? 1 : -1));
      if (phase === 'start') passes++;
      else ended++;
      mostAtOnce = Math.max(mostAtOnce, ...running.values());
      mostServicesAtOnce = Math.max(mostServicesAtOnce, [...running.values()].filter((n) => n > 0).length);
    },
  });
  const wakes = 40;
  for (let i = 0; i < wakes; i++) {
    for (const arn of arns) runner.wake(arn);
    await new Promise((resolve) => setTimeout(resolve, i % 4 === 0 ? 30 : 0));
  }
  // Quiet: every pass ended and nothing new started for a while.
  for (let seen = -1; seen !== passes || ended !== passes; ) {
    seen = passes;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await runner.stop();
  expect(mostAtOnce).toBe(1);
  expect(mostServicesAtOnce).toBe(2);
  expect(passes).toBeGreaterThanOrEqual(2);
  expect(passes).toBeLessThan(wakes * arns.length);
  for (const name of ['a', 'b']) expect(await berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup(name))).toHaveLength(2);
});

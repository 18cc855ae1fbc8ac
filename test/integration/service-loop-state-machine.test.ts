/**
 * The service loop as `npm start` runs it: the synthesized state machine under aws-local-stepfunctions,
 * with real passes on DynamoDB Local. Wake-ups complete the waiting state through the loop item's
 * token (bursts share passes), waits time out into a pass, an execution hands over to the next
 * generation after its bound, a newer generation ends an older one, and racing wake-ups start one
 * execution. No stream here: the tests wake the loop themselves.
 */
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ServiceScheduler } from '../../lib/constructs/service-scheduler';
import { BerthStatefulStack } from '../../lib/stacks/stateful-stack';
import { ServiceLoopStore } from '../../src/adapters/dynamodb/service-loop-store';
import { executionName, loopName } from '../../src/app/service-loop-steps';
import { serviceAddress } from '../../src/app/service-scheduler';
import { serviceGroup } from '../../src/domain/service';
import { ServiceLoopRunner, type ServiceLoopRunnerOptions } from '../../src/local/service-loop-runner';
import type { CfnValue } from '../../src/local/state-machine-runner';
import { startHarness, type Harness } from '../support/berth-harness';

let berth: Harness;
let store: ServiceLoopStore;
const runners: ServiceLoopRunner[] = [];

beforeAll(async () => {
  berth = await startHarness();
  store = new ServiceLoopStore(berth.doc, berth.tableName);
  const ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: 'sm' }));
  // versionConsistency disabled: tasks start all at once, no image digest resolution (seed 002) waits on a first task.
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', versionConsistency: 'disabled' }],
    }),
  );
}, 60_000);
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.stop()));
});
afterAll(async () => {
  await berth?.close();
});

let serial = 0;
async function newService(desiredCount = 2): Promise<{ arn: string; name: string }> {
  const name = `svc${++serial}`;
  const { service } = await berth.ecs().send(
    new CreateServiceCommand({
      cluster: 'sm',
      serviceName: name,
      taskDefinition: 'web',
      desiredCount,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'] } },
    }),
  );
  return { arn: service!.serviceArn!, name };
}

interface Watched {
  runner: ServiceLoopRunner;
  passes: () => number;
  mostAtOnce: () => number;
  states: string[];
}

function watchedRunner(options: Partial<ServiceLoopRunnerOptions> = {}): Watched {
  let passes = 0;
  let running = 0;
  let most = 0;
  const states: string[] = [];
  const runner = new ServiceLoopRunner({
    context: berth.context,
    store,
    debounceMs: 20,
    ...options,
    observe(_arn, phase) {
      if (phase === 'start') {
        passes++;
        most = Math.max(most, ++running);
      } else running--;
    },
    onStateEntered: (_execution, state) => states.push(state),
  });
  runners.push(runner);
  return { runner, passes: () => passes, mostAtOnce: () => most, states };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The loop is waiting: its token is on the loop item. */
const parked = (arn: string) => until(`${arn} to wait`, async () => (await store.get(serviceAddress(arn)))?.token);

/** No pass started for a while and the loop waits again. */
async function settled(watched: Watched, arn: string) {
  for (let seen = -1; seen !== watched.passes(); ) {
    seen = watched.passes();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await parked(arn);
}

it('a wake-up starts generation 1, whose pass starts desiredCount tasks and then waits with its token on the loop item', async () => {
  const watched = watchedRunner();
  const { arn, name } = await newService(2);
  await watched.runner.wake(arn);
  const token = await parked(arn);
  expect(token.startsWith(executionName(loopName(arn), 1))).toBe(true);
  expect(watched.runner.runtime.running()).toEqual([executionName(loopName(arn), 1)]);
  expect(await berth.context.tasks.inGroup('arn:aws:ecs:us-east-1:123456789012:cluster/sm', serviceGroup(name))).toHaveLength(2);
  // One pass, one wait: Reconcile -> Continue? -> Park.
  expect(watched.states).toEqual(['Reconcile', 'Continue?', 'Park']);
});

it('wake-ups in a burst complete the wait once and share one or two passes, never two at once', async () => {
  const watched = watchedRunner();
  const { arn } = await newService(1);
  await watched.runner.wake(arn);
  await parked(arn);
  const before = watched.passes();
  await Promise.all(Array.from({ length: 20 }, () => watched.runner.wake(arn)));
  await settled(watched, arn);
  expect(watched.passes() - before).toBeGreaterThanOrEqual(1);
  expect(watched.passes() - before).toBeLessThanOrEqual(2);
  expect(watched.mostAtOnce()).toBe(1);
  expect(watched.runner.runtime.running()).toHaveLength(1);
});

it("a wait times out at the plan's next look (capped here at 1 s) and the loop reconciles again, unwoken", async () => {
  const watched = watchedRunner({ maxWaitSeconds: 1 });
  const { arn } = await newService(1);
  await watched.runner.wake(arn);
  await until('three passes and waits', () => watched.states.length >= 9);
  expect(watched.runner.runtime.running()).toEqual([executionName(loopName(arn), 1)]);
  expect(watched.states.slice(0, 9)).toEqual(['Reconcile', 'Continue?', 'Park', 'Reconcile', 'Continue?', 'Park', 'Reconcile', 'Continue?', 'Park']);
});

it('hands over to the next generation after loopsPerExecution passes: one execution runs at a time, the older ones succeed', async () => {
  // The stack's construct with a bound of 2, synthesized as the stack does, run as npm start runs it.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const env = { account: '123456789012', region: 'us-east-1' };
  const state = new BerthStatefulStack(app, 'State', { env });
  const scheduler = new ServiceScheduler(new Stack(app, 'Cp', { env }), 'S', { table: state.table, loopsPerExecution: 2 });
  const definition = Stack.of(scheduler).resolve((scheduler.stateMachine.node.defaultChild as { definitionString?: unknown }).definitionString) as CfnValue;

  const samples: number[] = [];
  const watched = watchedRunner({ maxWaitSeconds: 1, definition });
  const { arn } = await newService(1);
  await watched.runner.wake(arn);
  const stem = loopName(arn);
  await until('generation 3', () => {
    samples.push(watched.runner.runtime.running().length);
    return watched.runner.runtime.statusOf(executionName(stem, 3)) === 'RUNNING';
  });
  await until('generation 2 to end', () => watched.runner.runtime.statusOf(executionName(stem, 2)) === 'SUCCEEDED');
  expect(watched.runner.runtime.statusOf(executionName(stem, 1))).toBe('SUCCEEDED');
  expect(Math.max(...samples)).toBeLessThanOrEqual(1);
  expect(watched.mostAtOnce()).toBe(1);
  expect(watched.states).toContain('HandOver');
  expect((await store.get(serviceAddress(arn)))?.generation).toBe(3);
});

it('a newer generation takes over: the older execution ends at its next pass (superseded)', async () => {
  const watched = watchedRunner({ maxWaitSeconds: 1 });
  const { arn } = await newService(1);
  await watched.runner.wake(arn);
  await parked(arn);
  const stem = loopName(arn);
  // What ensureRunning does for a loop it judged dead: move the generation on, start its execution.
  expect(await store.advance(serviceAddress(arn), 1)).toBe(true);
  await watched.runner.runtime.startExecution({
    stateMachineArn: watched.runner.stateMachineArn,
    name: executionName(stem, 2),
    input: JSON.stringify({ serviceArn: arn, loopName: stem, generation: 2, loops: 0 }),
  });
  await until('generation 2 to wait', async () => (await store.get(serviceAddress(arn)))?.token?.startsWith(executionName(stem, 2)));
  // Generation 1 waits on a token no one will take (generation 2 dropped it); its timeout makes it look, and end.
  await until('generation 1 to end', () => watched.runner.runtime.statusOf(executionName(stem, 1)) === 'SUCCEEDED');
  expect(watched.runner.runtime.running()).toEqual([executionName(stem, 2)]);
  expect(watched.mostAtOnce()).toBe(1);
});

it('racing wake-ups and restarts of a new service start one execution, and only one pass acts at a time', async () => {
  const watched = watchedRunner();
  const { arn } = await newService(2);
  // What a restart's resume does (ensureRunning), racing the stream's wake-ups.
  await Promise.all([
    ...Array.from({ length: 10 }, () => watched.runner.wake(arn)),
    watched.runner.ensureRunning(arn),
    watched.runner.ensureRunning(arn),
  ]);
  await settled(watched, arn);
  expect(watched.runner.runtime.running()).toEqual([executionName(loopName(arn), 1)]);
  expect(watched.mostAtOnce()).toBe(1);
  expect(await berth.context.tasks.inGroup('arn:aws:ecs:us-east-1:123456789012:cluster/sm', serviceGroup(arn.split('/').pop()!))).toHaveLength(2);
});

it('stop() aborts every execution and returns once their steps are done', async () => {
  const watched = watchedRunner();
  const { arn } = await newService(1);
  await watched.runner.wake(arn);
  await parked(arn);
  await watched.runner.stop();
  expect(watched.runner.runtime.running()).toEqual([]);
  expect(watched.runner.runtime.statusOf(executionName(loopName(arn), 1))).toBe('ABORTED');
});

it('resume() starts the loops of ACTIVE services in every region, not only the default one', async () => {
  const watched = watchedRunner();
  const home = await newService(1);
  const away = berth.ecs('eu-west-1');
  await away.send(new CreateClusterCommand({ clusterName: 'sm' }));
  await away.send(
    new RegisterTaskDefinitionCommand({ family: 'web', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [{ name: 'main', image: 'busybox', versionConsistency: 'disabled' }] }),
  );
  const { service } = await away.send(
    new CreateServiceCommand({
      cluster: 'sm',
      serviceName: 'abroad',
      taskDefinition: 'web',
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'] } },
    }),
  );
  await watched.runner.resume();
  for (const arn of [home.arn, service!.serviceArn!]) {
    await parked(arn);
    expect(watched.runner.runtime.running()).toContain(executionName(loopName(arn), 1));
  }
  expect(await berth.context.tasks.inGroup('arn:aws:ecs:eu-west-1:123456789012:cluster/sm', serviceGroup('abroad'))).toHaveLength(1);
});

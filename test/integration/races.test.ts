/**
 * 50 writers racing on one task, one cluster and one service, through the ECS protocol and the use cases against
 * DynamoDB Local. A starting line in front of the repositories holds every writer's first write until
 * all 50 have read, so every one of them is inside the race window (each decided on the same version),
 * and only then lets them write. Then: versions strictly increase (no two writes from one version),
 * the final state is what a serial order of the accepted writes makes of the start, nothing a rejected
 * write asked for is there, and every rejected writer got a typed ECS error (never a 5xx).
 */
import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterRepository } from '../../src/adapters/dynamodb/cluster-repository';
import type { ServiceRepository, StoredService } from '../../src/adapters/dynamodb/service-repository';
import type { TaskChange, TaskRepository } from '../../src/adapters/dynamodb/task-repository';
import { handleEcsRequest } from '../../src/api/ecs-protocol';
import type { BerthContext } from '../../src/app/context';
import { runServicePass } from '../../src/app/service-scheduler';
import { clusterArn as clusterArnOf, taskIdOfArn } from '../../src/domain/arns';
import type { ClusterRecord, Tag, TaskRecord } from '../../src/domain/records';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';

const scope = { account: ACCOUNT, region: REGION };
const FAMILY = 'race-web';
const WRITERS = 50;
const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-race'] } };
const FARGATE_STRATEGY = [{ capacityProvider: 'FARGATE', weight: 1 }];
/** 50 writers retrying with backoff against one item take a while on a busy machine: not a speed check. */
const RACE_TIMEOUT_MS = 180_000;

let berth: Harness;
let ecs: ECSClient;
beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'app', image: 'nginx' }],
    }),
  );
});
afterAll(() => berth?.close());

/**
 * Holds the first `parties` calls until all of them have arrived, then releases them together. A
 * writer writes only after it has read, and no write happens before the release, so these are the
 * first writes of `parties` different requests, all decided on the same state. With a `leader`
 * method, its held calls go first and the others follow once those have committed or failed: every
 * writer still decided on the same state, but who wins is no longer up to the scheduler.
 */
class StartingLine {
  private arrived = 0;
  private leaders = 0;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  private leadersDone!: () => void;
  private readonly leadersFinished = new Promise<void>((resolve) => (this.leadersDone = resolve));
  full = false;

  constructor(private readonly parties: number, timeoutMs: number, private readonly leader?: string) {
    // Only so that a writer that never writes fails the test instead of hanging it.
    setTimeout(() => {
      this.release();
      this.leadersDone();
    }, timeoutMs).unref();
  }

  /** Waits for the start; returns whether this call leads (and must report when it is done). */
  async pass(method: string): Promise<boolean> {
    if (this.arrived >= this.parties) return false;
    const leads = method === this.leader;
    if (leads) this.leaders++;
    if (++this.arrived === this.parties) {
      this.full = true;
      this.release();
      if (this.leaders === 0) this.leadersDone();
    }
    await this.released;
    if (!leads) await this.leadersFinished;
    return leads;
  }

  /** A leading call has committed or failed. */
  settled(): void {
    if (--this.leaders === 0) this.leadersDone();
  }
}

interface WriteCall {
  readonly method: string;
  readonly args: unknown[];
  /** 'ok', the outcome a repository answers with, or the error's name. */
  readonly outcome: string;
}

/** The repository with `methods` behind the starting line, every call and its outcome logged. */
function behindLine<T extends object>(target: T, methods: readonly (keyof T & string)[], line: StartingLine, log: WriteCall[]): T {
  const properties = Object.fromEntries(
    methods.map((method) => {
      const original = target[method] as (...args: unknown[]) => Promise<unknown>;
      const value = async (...args: unknown[]) => {
        const leads = await line.pass(method);
        try {
          const result = await original.apply(target, args);
          log.push({ method, args: structuredClone(args), outcome: typeof result === 'string' ? result : 'ok' });
          return result;
        } catch (error) {
          log.push({ method, args: structuredClone(args), outcome: (error as Error).name });
          throw error;
        } finally {
          if (leads) line.settled();
        }
      };
      return [method, { value }];
    }),
  );
  return Object.create(target, properties) as T;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, any>;
}

/** One ECS JSON 1.1 request, as the HTTP server hands it to the protocol layer. */
async function call(context: BerthContext, operation: string, input: unknown, logged: unknown[]): Promise<Answer> {
  const response = await handleEcsRequest(
    context,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonEC2ContainerServiceV20141113.${operation}` },
      body: JSON.stringify(input),
      requestId: `${operation}-${Math.random()}`,
    },
    { error: (_message: string, error: unknown) => logged.push(error) },
  );
  return { status: response.statusCode, body: JSON.parse(response.body) };
}

const keys = (tags: readonly Tag[] | undefined) => (tags ?? []).map((t) => t.key).sort();
const errorName = (answer: Answer) => (answer.status === 200 ? undefined : (answer.body.__type as string));

describe(`${WRITERS} writers on one task (StopTask, TagResource)`, () => {
  it('each write decides on the version it read; the task ends as a serial order of the accepted writes', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'race-task', capacityProviders: ['FARGATE'] }));
    const { tasks } = await ecs.send(
      new RunTaskCommand({
        cluster: 'race-task',
        taskDefinition: FAMILY,
        capacityProviderStrategy: FARGATE_STRATEGY,
        networkConfiguration: NETWORK,
        tags: [{ key: 'base', value: '0' }],
      }),
    );
    const taskArn = tasks![0].taskArn!;
    const clusterArn = clusterArnOf(scope, 'race-task');
    const initial = (await berth.context.tasks.get(clusterArn, taskIdOfArn(taskArn)))!;

    const line = new StartingLine(WRITERS, 20_000);
    const log: WriteCall[] = [];
    const context: BerthContext = { ...berth.context, tasks: behindLine(berth.context.tasks, ['applyChange'], line, log) as TaskRepository };
    const logged: unknown[] = [];
    const writers = Array.from({ length: WRITERS }, (_, i) =>
      i % 2
        ? { kind: 'stop' as const, value: `stop-${i}`, send: () => call(context, 'StopTask', { cluster: 'race-task', task: taskArn, reason: `stop-${i}` }, logged) }
        : { kind: 'tag' as const, value: `t${i}`, send: () => call(context, 'TagResource', { resourceArn: taskArn, tags: [{ key: `t${i}`, value: 'v' }] }, logged) },
    );
    const answers = await Promise.all(writers.map((w) => w.send()));

    // The race window was hit: all 50 had read version 1 before the first write, and exactly one
    // of those first writes won.
    expect(line.full).toBe(true);
    const firstRound = log.filter((c) => (c.args[0] as TaskChange).expectedVersion === initial.version);
    expect(firstRound).toHaveLength(WRITERS);
    expect(firstRound.filter((c) => c.outcome === 'ok')).toHaveLength(1);

    // Rejected writers got a typed ECS error; nothing was a server error.
    expect(logged).toEqual([]);
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
      if (answer.status !== 200) expect(answer.body.__type).toBe('ThrottlingException');
    }

    // Versions strictly increase: the committed writes start from version 1, 2, 3, ... once each.
    const committed = log
      .filter((c) => c.outcome === 'ok')
      .map((c) => c.args[0] as TaskChange)
      .sort((a, b) => a.expectedVersion - b.expectedVersion);
    expect(committed.map((c) => c.expectedVersion)).toEqual(committed.map((_, i) => initial.version + i));
    for (const change of committed) expect(change.task.version).toBe(change.expectedVersion + 1);

    // Replayed in version order, each committed write is one accepted request applied to the state
    // the previous one left: a tag added, or the (first) stop.
    const acceptedTags = writers.filter((w, i) => w.kind === 'tag' && answers[i].status === 200).map((w) => w.value);
    const acceptedStops = writers.filter((w, i) => w.kind === 'stop' && answers[i].status === 200).map((w) => w.value);
    let state: TaskRecord = initial.record;
    const applied: string[] = [];
    for (const { task } of committed) {
      const added = keys(task.tags).filter((key) => !keys(state.tags).includes(key));
      if (added.length === 1 && task.desiredStatus === state.desiredStatus) {
        expect(acceptedTags).toContain(added[0]);
        state = { ...state, tags: [...state.tags, { key: added[0], value: 'v' }] };
        applied.push(added[0]);
      } else {
        expect(added).toEqual([]);
        expect(state.desiredStatus).toBe('RUNNING');
        expect(acceptedStops).toContain(task.stoppedReason);
        state = { ...state, desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: task.stoppedReason };
        applied.push(task.stoppedReason!);
      }
      const { version: _v, updatedAt: _u, ...written } = task;
      const { version: _sv, updatedAt: _su, ...expected } = state;
      expect(written).toEqual(expected);
      expect(task.updatedAt).toBeGreaterThan(state.updatedAt ?? 0);
      state = task;
    }

    // No lost update and nothing rejected applied: every accepted tag is there, exactly once; one stop won.
    const final = (await berth.context.tasks.get(clusterArn, taskIdOfArn(taskArn)))!;
    expect(final.version).toBe(initial.version + committed.length);
    expect(final.record).toEqual(state);
    expect(keys(final.record.tags)).toEqual(['base', ...acceptedTags].sort());
    expect(applied.filter((value) => value.startsWith('stop-'))).toHaveLength(acceptedStops.length > 0 ? 1 : 0);
    // Every accepted StopTask answers with the stop that won.
    for (const [i, answer] of answers.entries()) {
      if (writers[i].kind === 'stop' && answer.status === 200) {
        expect(answer.body.task).toMatchObject({ desiredStatus: 'STOPPED', stoppedReason: final.record.stoppedReason });
      }
    }
    console.info(
      `task race: ${committed.length} writes committed, ${acceptedTags.length}/25 tags and ${acceptedStops.length}/25 stops accepted, ` +
        `${log.length - committed.length} lost conditional writes, ${answers.filter((a) => a.status !== 200).length} ThrottlingException`,
    );
  }, RACE_TIMEOUT_MS);
});

describe(`${WRITERS} writers on one cluster (RunTask, TagResource, DeleteCluster)`, () => {
  it.each([
    { name: 'released at once', cluster: 'race-at-once', leader: undefined, deleteWins: undefined },
    { name: 'the DeleteCluster writes released first', cluster: 'race-delete-first', leader: 'deactivate', deleteWins: true },
    { name: 'the RunTask writes released first', cluster: 'race-run-first', leader: 'create', deleteWins: false },
  ])('all decide on the same cluster version ($name); the cluster ends as a serial order of the accepted writes', async ({ cluster: name, leader, deleteWins }) => {
    const clusterArn = clusterArnOf(scope, name);
    await ecs.send(new CreateClusterCommand({ clusterName: name, capacityProviders: ['FARGATE'], tags: [{ key: 'base', value: '0' }] }));
    const initial = (await berth.context.clusters.get(clusterArn))!;

    const line = new StartingLine(WRITERS, 20_000, leader);
    const log: WriteCall[] = [];
    const context: BerthContext = {
      ...berth.context,
      clusters: behindLine(berth.context.clusters, ['update', 'deactivate'], line, log) as ClusterRepository,
      tasks: behindLine(berth.context.tasks, ['create'], line, log) as TaskRepository,
    };
    const logged: unknown[] = [];
    type Kind = 'run' | 'tag' | 'delete';
    const kinds: Kind[] = Array.from({ length: WRITERS }, (_, i) => (i % 5 === 4 ? 'delete' : i % 2 ? 'run' : 'tag'));
    const writers = kinds.map((kind, i) => {
      const value = `${kind}-${i}`;
      const request =
        kind === 'run'
          ? { op: 'RunTask', input: { cluster: name, taskDefinition: FAMILY, capacityProviderStrategy: FARGATE_STRATEGY, networkConfiguration: NETWORK, startedBy: value } }
          : kind === 'tag'
            ? { op: 'TagResource', input: { resourceArn: clusterArn, tags: [{ key: value, value: 'v' }] } }
            : { op: 'DeleteCluster', input: { cluster: name } };
      return { kind, value, send: () => call(context, request.op, request.input, logged) };
    });
    const answers = await Promise.all(writers.map((w) => w.send()));
    const accepted = (kind: Kind) => writers.filter((w, i) => w.kind === kind && answers[i].status === 200);
    const rejected = (kind: Kind) => writers.flatMap((w, i) => (w.kind === kind && answers[i].status !== 200 ? [errorName(answers[i])] : []));

    expect(line.full).toBe(true);
    expect(logged).toEqual([]);
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);

    const stored = (await berth.context.clusters.get(clusterArn))!;
    const taskArns: string[] = [];
    for (const task of (await berth.context.tasks.list(clusterArn, { maxResults: 100 }, () => true)).items) taskArns.push(task.taskArn);
    const deleted = accepted('delete').length > 0;
    const runs = accepted('run');
    const state = {
      deleted,
      runs: runs.length,
      tags: accepted('tag').length,
      rejected: { run: rejected('run'), tag: rejected('tag'), delete: rejected('delete') },
      status: stored.record.status,
      counts: stored.counts,
      tasks: taskArns.length,
    };
    const why = JSON.stringify(state);
    if (deleteWins !== undefined) expect(deleted, why).toBe(deleteWins);

    // A serial order exists: either one DeleteCluster came before every RunTask (which then found no
    // cluster), or some RunTask came before every DeleteCluster (which then found tasks).
    if (deleted) {
      expect(accepted('delete'), why).toHaveLength(1);
      expect(runs, why).toEqual([]);
      expect(stored.record.status).toBe('INACTIVE');
      expect(taskArns, why).toEqual([]);
      expect(stored.counts.pendingTasksCount + stored.counts.runningTasksCount).toBe(0);
      for (const error of rejected('run')) expect(['ClusterNotFoundException', 'ThrottlingException']).toContain(error);
      for (const error of rejected('delete')) expect(['ClusterNotFoundException', 'ThrottlingException']).toContain(error);
      for (const error of rejected('tag')) expect(['ClusterNotFoundException', 'ThrottlingException']).toContain(error);
    } else {
      expect(stored.record.status).toBe('ACTIVE');
      expect(stored.counts.pendingTasksCount, why).toBe(runs.length);
      const startedBy = (await berth.context.tasks.getMany(clusterArn, taskArns.map(taskIdOfArn)));
      expect([...startedBy.values()].map((t) => t.record.startedBy).sort(), why).toEqual(runs.map((w) => w.value).sort());
      for (const error of rejected('run')) expect(error).toBe('ThrottlingException');
      for (const error of rejected('tag')) expect(error).toBe('ThrottlingException');
      for (const error of rejected('delete')) expect(['ClusterContainsTasksException', 'ThrottlingException']).toContain(error);
      if (rejected('delete').includes('ClusterContainsTasksException')) expect(runs.length, why).toBeGreaterThan(0);
    }

    // The record's versions strictly increase: each committed edit starts from the one before it,
    // adds one accepted tag (or is the delete, last), and the final record is their result.
    const edits = log
      .filter((c) => c.method !== 'create' && c.outcome === 'ok')
      .map((c) => ({ method: c.method, record: c.args[1] as ClusterRecord, expectedVersion: c.args[2] as number }))
      .sort((a, b) => a.expectedVersion - b.expectedVersion);
    expect(edits.map((e) => e.expectedVersion)).toEqual(edits.map((_, i) => initial.version + i));
    expect(stored.version).toBe(initial.version + edits.length);
    let tags = keys(initial.record.tags);
    for (const [i, edit] of edits.entries()) {
      if (edit.method === 'deactivate') {
        expect(i, why).toBe(edits.length - 1);
        expect(keys(edit.record.tags)).toEqual(tags);
        continue;
      }
      const added = keys(edit.record.tags).filter((key) => !tags.includes(key));
      expect(added).toHaveLength(1);
      expect(accepted('tag').map((w) => w.value)).toContain(added[0]);
      tags = [...tags, added[0]].sort();
      expect(keys(edit.record.tags)).toEqual(tags);
    }
    expect(keys(stored.record.tags)).toEqual(['base', ...accepted('tag').map((w) => w.value)].sort());
    // RunTask's transaction raced the cluster edits too: the creates that lost saw the cluster change.
    const creates = log.filter((c) => c.method === 'create');
    expect(creates.filter((c) => c.outcome === 'created')).toHaveLength(runs.length);
    console.info(`cluster race: ${why}; ${creates.filter((c) => c.outcome === 'cluster-changed').length} RunTask transactions met a changed cluster`);
  }, RACE_TIMEOUT_MS);
});

describe(`${WRITERS} writers on one service (UpdateService desiredCount, scheduler passes)`, () => {
  it.each([
    { name: 'UpdateService only', service: 'race-updates', passes: false },
    { name: 'with scheduler passes among them', service: 'race-mixed', passes: true },
  ])('all decide on the same service version ($name); the service ends as a serial order of the accepted writes', async ({ service: name, passes }) => {
    const clusterName = `${name}-cluster`;
    const clusterArn = clusterArnOf(scope, clusterName);
    await ecs.send(new CreateClusterCommand({ clusterName, capacityProviders: ['FARGATE'] }));
    const created = await call(
      berth.context,
      'CreateService',
      { cluster: clusterName, serviceName: name, taskDefinition: FAMILY, desiredCount: 1, launchType: 'FARGATE', networkConfiguration: NETWORK },
      [],
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const initial = (await berth.context.services.get(clusterArn, name))!;

    // The first write of every writer (an UpdateService's put, a pass's claim) waits at the line.
    const line = new StartingLine(WRITERS, 20_000);
    const log: WriteCall[] = [];
    const context: BerthContext = { ...berth.context, services: behindLine(berth.context.services, ['update', 'claim'], line, log) as ServiceRepository };
    const logged: unknown[] = [];
    // Writer i asks for desiredCount i, so a committed write names its writer; every tenth is a pass.
    const writers = Array.from({ length: WRITERS }, (_, i) =>
      passes && i % 10 === 9
        ? { kind: 'pass' as const, value: i, send: () => runServicePass(context, initial.record.serviceArn).then(() => 'ok', (error: Error) => error.name) }
        : {
            kind: 'update' as const,
            value: i,
            send: () =>
              call(context, 'UpdateService', { cluster: clusterName, service: name, desiredCount: i }, logged).then((answer) =>
                answer.status === 200 ? (expect(answer.body.service.desiredCount).toBe(i), 'ok') : (errorName(answer) ?? 'ok'),
              ),
          },
    );
    const outcomes = await Promise.all(writers.map((w) => w.send()));

    // The race window was hit: all 50 first writes were decided on the initial version, one won.
    expect(line.full).toBe(true);
    const versionOf = (c: WriteCall) => (c.method === 'claim' ? (c.args[2] as number) : (c.args[1] as number));
    const firstRound = log.filter((c) => versionOf(c) === initial.version);
    expect(firstRound.length).toBeGreaterThanOrEqual(WRITERS);
    expect(firstRound.filter((c) => c.outcome === 'ok')).toHaveLength(1);

    // Rejected writers got a typed error (ThrottlingException after their retries); no server error.
    expect(logged).toEqual([]);
    for (const outcome of outcomes) expect(['ok', 'ThrottlingException']).toContain(outcome);
    const accepted = writers.filter((w, i) => w.kind === 'update' && outcomes[i] === 'ok').map((w) => w.value);
    const rejected = writers.filter((w, i) => w.kind === 'update' && outcomes[i] !== 'ok').map((w) => w.value);

    // Versions strictly increase: the committed writes start from the initial version, +1, +2, ...
    const committed = log.filter((c) => c.outcome === 'ok').sort((a, b) => versionOf(a) - versionOf(b));
    expect(committed.map(versionOf)).toEqual(committed.map((_, i) => initial.version + i));

    // Replayed in version order: an UpdateService write sets its writer's desiredCount on the state
    // the previous write left; a pass's claim and final write leave desiredCount as it was.
    let desiredCount = initial.record.desiredCount;
    const applied: number[] = [];
    for (const write of committed) {
      if (write.method === 'claim') continue;
      const [written, , writer] = write.args as [StoredService, number, string];
      expect(written.version).toBe(versionOf(write) + 1);
      expect(written.record.version).toBe(written.version);
      if (writer === 'scheduler') {
        expect(written.record.desiredCount).toBe(desiredCount);
      } else {
        expect(accepted).toContain(written.record.desiredCount);
        desiredCount = written.record.desiredCount;
        applied.push(desiredCount);
      }
    }
    // No lost update: every accepted UpdateService committed exactly once, nothing rejected did.
    expect(applied.sort((a, b) => a - b)).toEqual([...accepted].sort((a, b) => a - b));
    for (const value of rejected) expect(applied).not.toContain(value);
    const final = (await berth.context.services.get(clusterArn, name))!;
    expect(final.version).toBe(initial.version + committed.length);
    expect(final.record.desiredCount).toBe(desiredCount);
    const claims = committed.filter((c) => c.method === 'claim').length;
    console.info(
      `service race (${name}): ${committed.length} writes committed (${claims} pass claims), ${accepted.length}/${accepted.length + rejected.length} ` +
        `UpdateService accepted, ${log.length - committed.length} lost conditional writes, final desiredCount ${desiredCount}`,
    );
  }, RACE_TIMEOUT_MS);
});

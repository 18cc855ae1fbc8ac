/**
 * Seed 002's container image resolution, one named scenario per sentence, through the REPLICA
 * reconciler (image-digests.ts folded into it), then invariants over random task outcomes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  isImageDigest,
  MAX_FAILED_RESOLUTIONS,
  RESOLUTION_BREAKER_REASON,
  digestInImage,
  foldImageResolution,
  initialImageResolution,
  pinnedDigests,
  resolutionFailedMessage,
  revisionContainerImages,
  withPinnedDigests,
  type ImageResolution,
} from '../../src/domain/image-digests';
import type { ContainerDefinition, ContainerRecord, TaskRecord } from '../../src/domain/records';
import type { DeploymentRecord } from '../../src/domain/service';
import { reconcile } from '../../src/domain/service-reconciler';
import { NEW, NOW, OLD, TD1, aDeployment, aService, aTask, deepFreeze, rolling, rollout } from '../support/services';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const WEB: ContainerDefinition = { name: 'web', image: 'nginx:1.27' };
const SIDECAR: ContainerDefinition = { name: 'log', image: 'fluent-bit:3', versionConsistency: 'disabled' };

const resolving = (defs: ContainerDefinition[] = [WEB], desiredCount = 4) => initialImageResolution(defs, desiredCount);
const started = (plan: ReturnType<typeof reconcile>) => plan.start.reduce((n, s) => n + s.count, 0);

const container = (name: string, digest?: string): ContainerRecord => ({
  containerArn: `arn:aws:ecs:us-east-1:123456789012:container/default/t/${name}`, taskArn: 't', name, image: 'nginx:1.27',
  lastStatus: 'RUNNING', networkInterfaces: [], ...(digest ? { imageDigest: digest } : {}),
});
/** A task of NEW whose agent reported RUNNING with `digest` for web (none: its runtime could not resolve). */
const ran = (digest: string | undefined, o: Partial<TaskRecord> = {}) => aTask({ containers: [container('web', digest)], ...o });
const pending = (o: Partial<TaskRecord> = {}) => aTask({ lastStatus: 'PENDING', containers: [container('web')], ...o });
const failedToStart = (secondsAgo: number) =>
  aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: manifest unknown',
    stoppedAt: NOW - secondsAgo * 1000, createdAt: NOW - secondsAgo * 1000 - 5000, containers: [container('web')] });
const fresh = (imageResolution: ImageResolution, o: Partial<DeploymentRecord> = {}) => [aDeployment({ imageResolution, desiredCount: 4, ...o })];

describe('seed 002: container image resolution', () => {
  it.each([
    {
      sentence: 'ECS resolves the image names and tags given in the task definition to digests',
      defs: [WEB], status: 'RESOLVING', resolve: [true],
    },
    {
      sentence: 'versionConsistency disabled: the tag is used as written, never resolved',
      defs: [{ ...WEB, versionConsistency: 'disabled' }], status: 'SKIPPED', resolve: [false],
    },
    {
      sentence: 'an image given by digest in the task definition needs no resolution (its digest is the image)',
      defs: [{ ...WEB, image: `nginx@${DIGEST_A}` }], status: 'SKIPPED', resolve: [false],
    },
    {
      sentence: 'only the enabled containers of a task are resolved',
      defs: [WEB, SIDECAR], status: 'RESOLVING', resolve: [true, false],
    },
  ])('$sentence', ({ defs, status, resolve }) => {
    const r = initialImageResolution(defs, 2);
    expect(r.status).toBe(status);
    expect(r.containers.map((c) => c.resolve)).toEqual(resolve);
  });

  it('a service that runs a single task: that task establishes the digest', () => {
    const service = deepFreeze(aService({ desiredCount: 1 }));
    const first = reconcile(service, fresh(resolving([WEB], 1), { desiredCount: 1 }), [], NOW, () => 0);
    expect(started(first)).toBe(1);
    expect(first.start[0]!.imageDigests).toBeUndefined(); // it runs the tag, and reports what it ran
    const task = ran(DIGEST_A);
    const next = reconcile(service, fresh(resolving([WEB], 1), { desiredCount: 1 }), [task], NOW, () => 0);
    const d = next.deployments.find((x) => x.id === NEW)!;
    expect(d.imageResolution).toMatchObject({ status: 'RESOLVED', resolvedBy: task.taskArn, containers: [{ containerName: 'web', imageDigest: DIGEST_A }] });
  });

  it('a service of several tasks: the scheduler first starts one task, and waits for it', () => {
    const service = deepFreeze(aService(rolling(100, 200, 4)));
    const first = reconcile(service, fresh(resolving()), [], NOW, () => 0);
    expect(started(first)).toBe(1);
    const waiting = reconcile(service, fresh(resolving()), [pending()], NOW, () => 0);
    expect(started(waiting)).toBe(0);
    expect(waiting.holds.join('\n')).toMatch(/waiting for the first task of .* to establish the container image digests/);
  });

  it('once established, the digest starts every other desired task', () => {
    const service = deepFreeze(aService(rolling(100, 200, 4)));
    const plan = reconcile(service, fresh(resolving()), [ran(DIGEST_A)], NOW, () => 0);
    expect(started(plan)).toBe(3);
    expect(plan.start.every((s) => s.imageDigests?.web === DIGEST_A)).toBe(true);
  });

  it('and later updates of the service that start tasks of that deployment (a scale-out) use it too', () => {
    const resolved = foldImageResolution(resolving(), NEW, [ran(DIGEST_A)]);
    const plan = reconcile(aService({ desiredCount: 6 }), fresh(resolved, { desiredCount: 6 }), [ran(DIGEST_A), ...Array.from({ length: 3 }, () => ran(DIGEST_A))], NOW, () => 0);
    expect(plan.start).toEqual([expect.objectContaining({ count: 2, imageDigests: { web: DIGEST_A } })]);
  });

  it('the established digest is what later tasks run even if the tag has moved since (a task that reports another digest changes nothing)', () => {
    const resolved = foldImageResolution(resolving(), NEW, [ran(DIGEST_A, { createdAt: NOW - 10_000 })]);
    expect(foldImageResolution(resolved, NEW, [ran(DIGEST_A, { createdAt: NOW - 10_000 }), ran(DIGEST_B)])).toBe(resolved);
    expect(pinnedDigests(resolved)).toEqual({ web: DIGEST_A });
  });

  it.each([
    { outcome: 'failed to start (stopped without a report)', task: (i: number) => failedToStart(100 - i * 30) },
    { outcome: 'ran, but its runtime could not resolve (RUNNING without a digest)', task: (i: number) => ran(undefined, { createdAt: NOW - 100_000 + i }) },
  ])('three or more failed attempts: the deployment continues without digests — $outcome', ({ task }) => {
    const tasks = [0, 1, 2].map(task);
    const plan = reconcile(aService(rolling(100, 200, 6)), fresh(resolving(), { desiredCount: 6 }), tasks, NOW + 3_600_000, () => 0);
    const d = plan.deployments.find((x) => x.id === NEW)!;
    expect(d.imageResolution).toMatchObject({ status: 'FAILED', failedAttempts: tasks.map((t) => t.taskArn) });
    expect(d.rolloutState).toBe('IN_PROGRESS');
    expect(plan.events).toContain(resolutionFailedMessage('web', NEW));
    expect(started(plan)).toBeGreaterThan(1); // no more one-at-a-time
    expect(plan.start.every((s) => s.imageDigests === undefined)).toBe(true);
  });

  it('two failed attempts are not yet three: the next attempt starts alone', () => {
    const tasks = [failedToStart(900), failedToStart(800)];
    const plan = reconcile(aService(rolling(100, 200, 4)), fresh(resolving()), tasks, NOW + 3_600_000, () => 0);
    expect(plan.deployments.find((x) => x.id === NEW)!.imageResolution).toMatchObject({ status: 'RESOLVING', failedAttempts: tasks.map((t) => t.taskArn) });
    expect(started(plan)).toBe(1);
  });

  it('with the deployment circuit breaker on, the deployment additionally fails and rolls back', () => {
    const service = deepFreeze(aService(rolling(100, 200, 4, { enable: true, rollback: true, thresholdConfiguration: { type: 'COUNT', value: 100 } })));
    const tasks = [0, 1, 2].map((i) => ran(undefined, { createdAt: NOW - 100_000 + i }));
    const plan = reconcile(service, rollout({}, { imageResolution: resolving() }), tasks, NOW, () => 0);
    expect(plan.deployments.find((x) => x.id === NEW)).toMatchObject({ status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: RESOLUTION_BREAKER_REASON });
    expect(plan.deployments.find((x) => x.id === OLD)).toMatchObject({ status: 'PRIMARY', rolloutState: 'IN_PROGRESS' });
    expect(plan.service?.taskDefinition).toBe(TD1);
    expect(plan.events[0]).toBe(resolutionFailedMessage('web', NEW));
  });

  it('tasks that failed to start also trip the breaker in the same pass: the breaker\'s own reason ("tasks failed to start") is the one given', () => {
    const service = aService(rolling(100, 200, 4, { enable: true, rollback: true, thresholdConfiguration: { type: 'COUNT', value: 3 } }));
    const tasks = [failedToStart(300), failedToStart(200), failedToStart(100)];
    const plan = reconcile(service, rollout({}, { imageResolution: resolving() }), tasks, NOW, () => 0);
    expect(plan.deployments.find((x) => x.id === NEW)).toMatchObject({ rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' });
    expect(plan.deployments.find((x) => x.id === OLD)).toMatchObject({ status: 'PRIMARY' });
  });

  it('a service created with a desired count of zero establishes no digest until a later deployment', () => {
    const r = initialImageResolution([WEB], 0);
    expect(r.status).toBe('SKIPPED');
    // Scaled up later without a new deployment: its tasks start together, by tag.
    const plan = reconcile(aService({ desiredCount: 3 }), fresh(r, { desiredCount: 3 }), [], NOW, () => 0);
    expect(started(plan)).toBe(3);
    expect(plan.start.every((s) => s.imageDigests === undefined)).toBe(true);
  });

  it('versionConsistency disabled for a container: the others are pinned, it is not', () => {
    const r = foldImageResolution(resolving([WEB, SIDECAR]), NEW, [ran(DIGEST_A)]);
    expect(r.status).toBe('RESOLVED');
    expect(pinnedDigests(r)).toEqual({ web: DIGEST_A });
    expect(revisionContainerImages(r)).toEqual([
      { containerName: 'web', imageDigest: DIGEST_A, image: 'nginx:1.27' },
      { containerName: 'log', image: 'fluent-bit:3' },
    ]);
  });

  it('a new task of a resolved deployment keeps the image as named and carries the digest (containers[].imageDigest)', () => {
    const task = withPinnedDigests(aTask({ lastStatus: 'PROVISIONING', containers: [container('web'), container('log')] }), { web: DIGEST_A });
    expect(task.containers.map((c) => [c.image, c.imageDigest])).toEqual([['nginx:1.27', DIGEST_A], ['nginx:1.27', undefined]]);
  });

  it.each([
    ['nginx@' + DIGEST_A, DIGEST_A],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/web@' + DIGEST_B, DIGEST_B],
    ['nginx:1.27', undefined],
    ['nginx@sha256:short', undefined],
  ])('digestInImage(%s)', (image, digest) => {
    expect(digestInImage(image)).toBe(digest);
  });
});

describe('image resolution invariants', () => {
  /** Per attempt: the digest its runtime reports, none (cannot resolve), or it fails to start. */
  const outcome = fc.constantFrom<'digest-a' | 'digest-b' | 'no-digest' | 'fails'>('digest-a', 'digest-b', 'no-digest', 'fails');

  it('one attempt at a time while resolving; every task after it resolved runs its digest; never more than three failures', () => {
    fc.assert(
      fc.property(fc.array(outcome, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 6 }), (outcomes, desiredCount) => {
        const service = aService({ desiredCount, deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: false, rollback: false } } });
        let deployments = [aDeployment({ desiredCount, imageResolution: initialImageResolution([WEB], desiredCount) })];
        let tasks: TaskRecord[] = [];
        let now = NOW;
        let next = 0;
        let attempts = 0;
        for (let pass = 0; pass < 25; pass++) {
          now += 3_600_000; // past any throttle
          const plan = reconcile(service, deployments, tasks, now, () => 0.5);
          const byId = new Map(plan.deployments.map((d) => [d.id, d]));
          deployments = deployments.map((d) => byId.get(d.id) ?? d);
          const resolution = deployments[0]!.imageResolution!;
          expect(resolution.failedAttempts.length).toBeLessThanOrEqual(MAX_FAILED_RESOLUTIONS);
          expect(foldImageResolution(resolution, NEW, tasks)).toBe(resolution); // folded once, stable
          if (resolution.status === 'RESOLVING') expect(started(plan)).toBeLessThanOrEqual(1);
          for (const start of plan.start) {
            if (resolution.status === 'RESOLVED') expect(start.imageDigests).toEqual(pinnedDigests(resolution));
            else expect(start.imageDigests).toBeUndefined();
            for (let i = 0; i < start.count; i++) {
              tasks.push(aTask({ id: `e${(next++).toString(16).padStart(31, '0')}`, lastStatus: 'PENDING', createdAt: now, containers: [container('web', start.imageDigests?.web)] }));
            }
          }
          // The agents report: a pinned task runs its digest; an attempt as its outcome says.
          tasks = tasks.map((t) => {
            if (t.lastStatus !== 'PENDING') return t;
            const pinned = t.containers[0]!.imageDigest;
            const o = pinned ? 'pinned' : outcomes[Math.min(attempts++, outcomes.length - 1)];
            if (o === 'fails') return { ...t, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedAt: now };
            const digest = o === 'pinned' ? pinned : o === 'digest-a' ? DIGEST_A : o === 'digest-b' ? DIGEST_B : undefined;
            return { ...t, lastStatus: 'RUNNING', startedAt: now, containers: [container('web', digest)] };
          });
        }
        const resolution = deployments[0]!.imageResolution!;
        // Still resolving only when nothing more was to start: every attempt ran without a digest
        // and the desired count is running (a scale-out would try again).
        if (resolution.status === 'RESOLVING') {
          expect(tasks.filter((t) => t.lastStatus === 'RUNNING')).toHaveLength(desiredCount);
          expect(resolution.failedAttempts).toHaveLength(tasks.length);
        }
        if (resolution.status === 'RESOLVED') {
          const resolver = tasks.find((t) => t.taskArn === resolution.resolvedBy)!;
          expect(resolver.containers[0]!.imageDigest).toBe(pinnedDigests(resolution).web);
          // Every task created after the resolver ran the resolver's digest.
          for (const t of tasks.filter((x) => x.createdAt > resolver.createdAt && x.lastStatus === 'RUNNING')) {
            expect(t.containers[0]!.imageDigest).toBe(pinnedDigests(resolution).web);
          }
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('isImageDigest: what a report may pin', () => {
  it.each([
    ['sha256:' + 'a'.repeat(64), true],
    ['sha512:' + 'f'.repeat(128), true],
    ['busybox:latest', false], // a tag has the same name:value shape
    ['sha256:' + 'A'.repeat(64), false],
    ['latest', false],
    ['sha256:', false],
    ['sha256:abc def', false],
    ['sha256:' + 'a'.repeat(300), false],
  ])('%s -> %s', (value, expected) => expect(isImageDigest(value)).toBe(expected));
});

/**
 * Container image resolution for services (seed 002, ECS's "software version consistency"). Pure.
 *
 * Each deployment record carries an ImageResolution, made when the deployment is:
 *
 *   RESOLVING --a task of the deployment reports a digest for every resolved container--> RESOLVED
 *   RESOLVING --the third task ends its attempt without them--> FAILED (launch by tag from then on)
 *   SKIPPED   created with desiredCount 0, or with nothing to resolve (every container disabled or
 *             already given by digest): no task waits, none is pinned by Berth
 *
 * - Which containers: those whose `versionConsistency` is not `disabled` and whose image names no
 *   digest (`repo@sha256:...`, which ECS uses as written: "specify container image digests in your
 *   task definition" avoids the resolution).
 * - Who resolves: the first task of the deployment. While RESOLVING at most one attempt is in flight
 *   (seed: "the service scheduler first starts one task"); the others wait for its outcome.
 * - What counts as an attempt that failed: a task of the deployment that stopped, or reports RUNNING,
 *   without a digest for every resolved container (its runtime said it cannot resolve, or the task
 *   never got that far).
 * - After three failed attempts the deployment continues without digests (seed: "three or more");
 *   with the circuit breaker on the reconciler fails it as well (service-reconciler.ts).
 * - Once RESOLVED, every later task of the deployment is created with containers[].imageDigest set,
 *   and the agent runs exactly that digest (docs/agent.md). The digests stay with the deployment
 *   record, so scale-outs and a rollback to it use them; a new deployment (forceNewDeployment too)
 *   resolves afresh.
 */
import { failDeployment } from './circuit-breaker';
import type { ContainerDefinition, ContainerRecord, TaskRecord } from './records';
import type { DeploymentCircuitBreaker, DeploymentRecord } from './service';
import type { ServiceChange } from './service-plan';

/** Seed 002: "If three or more attempts at establishing the container image digest fail ...". */
export const MAX_FAILED_RESOLUTIONS = 3;

export type ImageResolutionStatus = 'RESOLVING' | 'RESOLVED' | 'FAILED' | 'SKIPPED';

export interface ContainerImageState {
  readonly containerName: string;
  /** The image as the task definition names it (a tag, or a digest). */
  readonly image: string;
  /** Whether the scheduler resolves this container's image to a digest. */
  readonly resolve: boolean;
  /** The digest every task of the deployment runs: resolved, or given in the image itself. */
  readonly imageDigest?: string;
}

export interface ImageResolution {
  readonly status: ImageResolutionStatus;
  readonly containers: readonly ContainerImageState[];
  /** Tasks whose attempt ended without the digests (at most MAX_FAILED_RESOLUTIONS), oldest first. */
  readonly failedAttempts: readonly string[];
  /** The task whose report established the digests. */
  readonly resolvedBy?: string;
}

/** A digest as Berth takes it: sha256 (every runtime Berth knows) or sha512, lowercase hex. */
const DIGEST = 'sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}';
const DIGEST_IN_IMAGE = new RegExp(`@(${DIGEST})$`);
const WHOLE_DIGEST = new RegExp(`^(?:${DIGEST})$`);

/** The digest an image reference names (`repo@sha256:<64 hex>`), or undefined for a tag. */
export function digestInImage(image: string): string | undefined {
  return DIGEST_IN_IMAGE.exec(image)?.[1];
}

/**
 * The resolution a new deployment starts with.
 *
 *   [web nginx:1.27]                        desiredCount 2 -> RESOLVING
 *   [web nginx:1.27 versionConsistency disabled]           -> SKIPPED
 *   [web nginx:1.27]                        desiredCount 0 -> SKIPPED
 */
export function initialImageResolution(definitions: readonly ContainerDefinition[], desiredCount: number): ImageResolution {
  const containers = definitions.map((d): ContainerImageState => {
    const given = digestInImage(d.image);
    const resolve = given === undefined && d.versionConsistency !== 'disabled';
    return { containerName: d.name, image: d.image, resolve, ...(given ? { imageDigest: given } : {}) };
  });
  // Seed 002: with a desired count of zero no digest can be established until a later deployment.
  const needed = containers.some((c) => c.resolve) && desiredCount > 0;
  return { status: needed ? 'RESOLVING' : 'SKIPPED', containers, failedAttempts: [] };
}

/** Statuses in which a task's agent has reported on its containers (or never will). */
const REPORTED = new Set(['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);

/** The digests a task's agent reported for the containers being resolved, or undefined if one is missing. */
function reportedDigests(resolution: ImageResolution, task: TaskRecord): Map<string, string> | undefined {
  const digests = new Map<string, string>();
  for (const c of resolution.containers.filter((x) => x.resolve)) {
    const digest = task.containers.find((tc) => tc.name === c.containerName)?.imageDigest;
    if (!digest) return undefined;
    digests.set(c.containerName, digest);
  }
  return digests;
}

const byCreation = (a: TaskRecord, b: TaskRecord) => a.createdAt - b.createdAt || a.taskArn.localeCompare(b.taskArn);

/**
 * The resolution after looking at the deployment's tasks: RESOLVED from the oldest task that reported
 * every digest, or one more failed attempt per task that ended its attempt without them, FAILED at
 * the third. Returns `resolution` itself when nothing changed (folding the same tasks twice changes
 * nothing); only RESOLVING changes.
 */
export function foldImageResolution(resolution: ImageResolution, deploymentId: string, tasks: readonly TaskRecord[]): ImageResolution {
  if (resolution.status !== 'RESOLVING') return resolution;
  let failedAttempts = resolution.failedAttempts;
  for (const task of tasks.filter((t) => t.startedBy === deploymentId).sort(byCreation)) {
    if (failedAttempts.includes(task.taskArn)) continue;
    const digests = reportedDigests(resolution, task);
    if (digests) {
      const containers = resolution.containers.map((c) => (digests.has(c.containerName) ? { ...c, imageDigest: digests.get(c.containerName)! } : c));
      return { ...resolution, status: 'RESOLVED', containers, failedAttempts, resolvedBy: task.taskArn };
    }
    if (REPORTED.has(task.lastStatus)) {
      failedAttempts = [...failedAttempts, task.taskArn];
      if (failedAttempts.length >= MAX_FAILED_RESOLUTIONS) return { ...resolution, status: 'FAILED', failedAttempts };
    }
  }
  return failedAttempts === resolution.failedAttempts ? resolution : { ...resolution, failedAttempts };
}

/**
 * How many new tasks of the deployment may start now: no limit unless RESOLVING; then one attempt at
 * a time (none while a task of the deployment is still on its way to its report).
 */
export function resolutionStartLimit(resolution: ImageResolution | undefined, deploymentId: string, tasks: readonly TaskRecord[]): number {
  if (resolution?.status !== 'RESOLVING') return Number.POSITIVE_INFINITY;
  const inFlight = tasks.some((t) => t.startedBy === deploymentId && !REPORTED.has(t.lastStatus) && !resolution.failedAttempts.includes(t.taskArn));
  return inFlight ? 0 : 1;
}

/** containerName -> digest a new task of the deployment is created with (empty when it runs by tag). */
export function pinnedDigests(resolution: ImageResolution | undefined): Record<string, string> {
  if (!resolution) return {};
  const pinned: Record<string, string> = {};
  for (const c of resolution.containers) {
    // A digest given in the image is the image itself; a resolved one only once RESOLVED.
    if (c.imageDigest && (!c.resolve || resolution.status === 'RESOLVED')) pinned[c.containerName] = c.imageDigest;
  }
  return pinned;
}

/** A new task's containers with the deployment's digests set (ECS: containers[].imageDigest). */
export function withPinnedDigests<T extends { containers: ContainerRecord[] }>(task: T, pinned: Readonly<Record<string, string>>): T {
  if (Object.keys(pinned).length === 0) return task;
  return { ...task, containers: task.containers.map((c) => (pinned[c.name] ? { ...c, imageDigest: pinned[c.name] } : c)) };
}

/** DescribeServiceRevisions' containerImages: each container's image, and its digest once known. */
export function revisionContainerImages(resolution: ImageResolution): { containerName: string; image: string; imageDigest?: string }[] {
  const pinned = pinnedDigests(resolution);
  return resolution.containers.map((c) => ({
    containerName: c.containerName,
    ...(pinned[c.containerName] ? { imageDigest: pinned[c.containerName] } : {}),
    image: c.image,
  }));
}

/** The service event when the resolution gives up (Berth's wording; ECS's was not found). */
export const resolutionFailedMessage = (serviceName: string, deploymentId: string) =>
  `(service ${serviceName}) (deployment ${deploymentId}) was unable to resolve the container image digests after ${MAX_FAILED_RESOLUTIONS} attempts; the deployment continues without image digests.`;

/** The rollout reason when the circuit breaker fails a deployment whose resolution gave up (Berth's). */
export const RESOLUTION_BREAKER_REASON = 'ECS deployment circuit breaker: container image digest resolution failed.';

export interface SettledResolutions {
  readonly deployments: DeploymentRecord[];
  readonly events: string[];
  readonly service?: ServiceChange;
  readonly hold?: string;
}

/**
 * The reconciler's step for image digests: folds every resolving deployment's tasks in; when the
 * PRIMARY's resolution gives up in this pass, says so, and with the circuit breaker on fails the
 * deployment (rolling back when the breaker's rollback is on), as seed 002 says.
 *
 *   web:2 RESOLVING, its third task RUNNING without a digest, breaker off
 *     -> web:2 FAILED resolution, still PRIMARY IN_PROGRESS; the event; later tasks run by tag
 *   the same with breaker { enable, rollback } and web:1 COMPLETED
 *     -> web:2 ACTIVE, rollout FAILED; web:1 PRIMARY IN_PROGRESS; the service takes web:1's launch back
 */
export function settleImageResolutions(
  serviceName: string,
  breaker: DeploymentCircuitBreaker,
  deployments: readonly DeploymentRecord[],
  tasks: readonly TaskRecord[],
  now: number,
): SettledResolutions {
  let gaveUp: DeploymentRecord | undefined;
  const folded = deployments.map((d) => {
    if (!d.imageResolution) return d;
    const imageResolution = foldImageResolution(d.imageResolution, d.id, tasks);
    if (imageResolution === d.imageResolution) return d;
    const next = { ...d, imageResolution };
    if (imageResolution.status === 'FAILED' && d.status === 'PRIMARY') gaveUp = next;
    return next;
  });
  if (!gaveUp) return { deployments: folded, events: [] };
  const events = [resolutionFailedMessage(serviceName, gaveUp.id)];
  if (!breaker.enable || gaveUp.rolloutState !== 'IN_PROGRESS') return { deployments: folded, events };
  const failed = failDeployment(serviceName, folded, gaveUp.id, { rollback: breaker.rollback, cause: 'circuit-breaker' }, now);
  const failedId = gaveUp.id;
  return {
    deployments: failed.deployments.map((d) => (d.id === failedId ? { ...d, rolloutStateReason: RESOLUTION_BREAKER_REASON } : d)),
    events: [...events, ...failed.events],
    service: failed.service,
    hold: `circuit breaker: container image digest resolution of ${failedId} failed ${MAX_FAILED_RESOLUTIONS} times`,
  };
}

/**
 * Whether a reported digest is one (the same pattern an image reference's `@digest` is read by). A
 * deployment pins every later task to what its first task reported, so anything else (a tag such as
 * `busybox:latest` has the same `name:value` shape) would make each of them fail to pull.
 */
export function isImageDigest(value: string): boolean {
  return WHOLE_DIGEST.test(value);
}

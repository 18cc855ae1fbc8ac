/**
 * Service deployments and service revisions (ECS's ServiceDeployment and ServiceRevision, the history
 * behind ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions and
 * StopServiceDeployment). Pure: time and randomness are passed in.
 *
 * How they map onto Berth's deployment records (service.ts):
 * - A service revision is what one deployment record launches: its id is the digits of the record's
 *   `ecs-svc/<19 digits>` id, so `ecs-svc/4980306466373577095` is
 *   `service-revision/<cluster>/<service>/4980306466373577095`. A rollback reuses the completed record
 *   (circuit-breaker.ts), and ECS "doesn't create a new service revision for a rollback": the same.
 * - A service deployment is one release: CreateService, or an UpdateService that starts a deployment.
 *   Its target is the new record; its sources the records still live then. Its status follows them:
 *
 *     PENDING --first scheduler pass--> IN_PROGRESS --target COMPLETED--> SUCCESSFUL
 *     IN_PROGRESS --breaker trips, rollback--> ROLLBACK_IN_PROGRESS --target of the rollback COMPLETED--> ROLLBACK_SUCCESSFUL
 *                                                                   --it FAILED too-->                 ROLLBACK_FAILED
 *     IN_PROGRESS --breaker trips, no rollback--> STOPPED   (ECS: "stops when ... the rollback option is not in use")
 *     PENDING | IN_PROGRESS --StopServiceDeployment ROLLBACK--> ROLLBACK_REQUESTED --next pass--> ROLLBACK_IN_PROGRESS ...
 *     unfinished --a newer service deployment--> STOPPED
 *     unfinished --DeleteService--> STOP_REQUESTED --service INACTIVE--> STOPPED
 *
 * Ids: service deployment ids are 21 characters of [-0-9A-Z_a-z] as ECS's are
 * ("NCWGC2ZR-taawPAYrIaU5"); Berth's start with the creation time in that alphabet in ASCII order, so
 * ids sort by creation and a key range lists a service's deployments newest first.
 */
import { failureThreshold } from './circuit-breaker';
import type { CapacityProviderStrategyItem } from './capacity-strategy';
import { RESOLUTION_BREAKER_REASON, revisionContainerImages } from './image-digests';
import type { LaunchType } from './records';
import type { DeploymentConfiguration, DeploymentRecord, NetworkConfiguration, ServiceRecord } from './service';
import { rolloutReasons } from './service-messages';

export const SERVICE_DEPLOYMENT_STATUSES = [
  'PENDING',
  'IN_PROGRESS',
  'SUCCESSFUL',
  'STOPPED',
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
] as const;
export type ServiceDeploymentStatus = (typeof SERVICE_DEPLOYMENT_STATUSES)[number];
/** ECS's "Completed" stage: nothing changes a service deployment in one of these any more. */
export const FINISHED_STATUSES: readonly ServiceDeploymentStatus[] = ['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'];
export const isFinished = (status: ServiceDeploymentStatus) => FINISHED_STATUSES.includes(status);

export type RollbackMonitorStatus = 'TRIGGERED' | 'MONITORING' | 'MONITORING_COMPLETE' | 'DISABLED';

export interface ServiceRevisionSummary {
  readonly arn: string;
  readonly requestedTaskCount: number;
  readonly runningTaskCount: number;
  readonly pendingTaskCount: number;
}

export interface ServiceDeploymentRecord {
  readonly serviceDeploymentArn: string;
  readonly serviceArn: string;
  readonly clusterArn: string;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly stoppedAt?: number;
  readonly updatedAt: number;
  readonly status: ServiceDeploymentStatus;
  readonly statusReason?: string;
  readonly targetServiceRevision: ServiceRevisionSummary;
  readonly sourceServiceRevisions: readonly ServiceRevisionSummary[];
  readonly deploymentConfiguration: DeploymentConfiguration;
  readonly rollback?: { readonly reason: string; readonly startedAt: number; readonly serviceRevisionArn: string };
  readonly deploymentCircuitBreaker: { readonly status: RollbackMonitorStatus; readonly failureCount: number; readonly threshold: number };
  /** Berth's own: the id (service-deployment/<cluster>/<service>/<id>). */
  readonly id: string;
  /** Berth's own: which service of this name (a name reused after INACTIVE starts a new history). */
  readonly serviceCreatedAt: number;
  /** Berth's own: the deployment records behind the target, the sources and a rollback. */
  readonly targetDeploymentId: string;
  readonly sourceDeploymentIds: readonly string[];
  readonly rollbackDeploymentId?: string;
  /** Berth's own: grows with every write of the record; writes are conditional on it. */
  readonly version: number;
}

export interface ServiceRevisionRecord {
  readonly serviceRevisionArn: string;
  readonly serviceArn: string;
  readonly clusterArn: string;
  readonly taskDefinition: string;
  readonly capacityProviderStrategy?: readonly CapacityProviderStrategyItem[];
  readonly launchType?: LaunchType;
  readonly platformVersion?: string;
  readonly platformFamily?: string;
  readonly networkConfiguration?: NetworkConfiguration;
  /** imageDigest once the deployment's digests are known (image-digests.ts). */
  readonly containerImages: readonly { readonly containerName: string; readonly image: string; readonly imageDigest?: string }[];
  readonly loadBalancers: readonly never[];
  readonly serviceRegistries: readonly never[];
  readonly guardDutyEnabled: boolean;
  readonly createdAt: number;
  /** Berth's own, as on ServiceDeploymentRecord. */
  readonly serviceCreatedAt: number;
}

/** Base64url's alphabet in ASCII order, so strings of it sort as the numbers they encode. */
const SORTABLE = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
export const SERVICE_DEPLOYMENT_ID_PATTERN = /^[-0-9A-Z_a-z]{21}$/;
const TIME_CHARS = 8; // 64^8 ms is about 8,900 years

/**
 * A service deployment id: the creation time (8 characters) then 13 random ones.
 *
 *   serviceDeploymentIdFrom(0, () => 0) === '---------------------'
 *   ids made later sort after ids made earlier
 */
export function serviceDeploymentIdFrom(now: number, random: () => number): string {
  let time = '';
  let rest = Math.max(0, Math.floor(now));
  for (let i = 0; i < TIME_CHARS; i++) {
    time = SORTABLE[rest % 64] + time;
    rest = Math.floor(rest / 64);
  }
  let tail = '';
  for (let i = TIME_CHARS; i < 21; i++) tail += SORTABLE[Math.floor(random() * 64)];
  return time + tail;
}

/** `...:service/<cluster>/<name>` -> `...:service-deployment/<cluster>/<name>/<id>`. */
export const serviceDeploymentArnOf = (serviceArn: string, id: string) =>
  `${serviceArn.replace(':service/', ':service-deployment/')}/${id}`;

/** The revision id of a deployment record: the digits of `ecs-svc/<digits>`. */
export const revisionIdOf = (deploymentId: string) => deploymentId.slice(deploymentId.indexOf('/') + 1);
export const REVISION_ID_PATTERN = /^[1-9][0-9]{18}$/;

/** `...:service/<cluster>/<name>` + `ecs-svc/<digits>` -> `...:service-revision/<cluster>/<name>/<digits>`. */
export const serviceRevisionArnOf = (serviceArn: string, deploymentId: string) =>
  `${serviceArn.replace(':service/', ':service-revision/')}/${revisionIdOf(deploymentId)}`;

/** The revision a new deployment record launches (immutable once written). */
export function serviceRevisionOf(
  service: Pick<ServiceRecord, 'serviceArn' | 'clusterArn' | 'createdAt'>,
  deployment: DeploymentRecord,
  containers: readonly { readonly name: string; readonly image: string }[],
): ServiceRevisionRecord {
  const fargate = deployment.launchType === 'FARGATE' || deployment.capacityProviderStrategy?.some((i) => i.capacityProvider.startsWith('FARGATE'));
  return {
    serviceRevisionArn: serviceRevisionArnOf(service.serviceArn, deployment.id),
    serviceArn: service.serviceArn,
    clusterArn: service.clusterArn,
    taskDefinition: deployment.taskDefinition,
    ...(deployment.capacityProviderStrategy ? { capacityProviderStrategy: deployment.capacityProviderStrategy } : {}),
    ...(deployment.launchType ? { launchType: deployment.launchType } : {}),
    ...(fargate ? { platformVersion: deployment.platformVersion ?? 'LATEST', platformFamily: 'Linux' } : {}),
    ...(deployment.networkConfiguration ? { networkConfiguration: deployment.networkConfiguration } : {}),
    containerImages: deployment.imageResolution
      ? revisionContainerImages(deployment.imageResolution)
      : containers.map((c) => ({ containerName: c.name, image: c.image })),
    loadBalancers: [],
    serviceRegistries: [],
    guardDutyEnabled: false,
    createdAt: deployment.createdAt,
    serviceCreatedAt: service.createdAt,
  };
}

/** Texts of Berth's own where no ECS wording was found; the circuit breaker's reasons are ECS's. */
export const serviceDeploymentReasons = {
  superseded: 'Service deployment stopped: a newer service deployment started.',
  rollbackRequested: 'Rollback requested with StopServiceDeployment.',
  deleteRequested: 'Service deletion requested.',
  deleted: 'Service deleted.',
} as const;

const summaryOf = (serviceArn: string, d: DeploymentRecord): ServiceRevisionSummary => ({
  arn: serviceRevisionArnOf(serviceArn, d.id),
  requestedTaskCount: d.desiredCount,
  runningTaskCount: d.runningCount,
  pendingTaskCount: d.pendingCount,
});

function breakerBlock(service: ServiceRecord, status: RollbackMonitorStatus | undefined, failureCount: number) {
  const breaker = service.deploymentConfiguration.deploymentCircuitBreaker;
  return {
    status: breaker.enable ? (status ?? 'MONITORING') : ('DISABLED' as const),
    failureCount,
    threshold: failureThreshold(service.desiredCount, breaker.thresholdConfiguration),
  };
}

export interface StartedServiceDeployment {
  readonly created: ServiceDeploymentRecord;
  /** The previous service deployment, STOPPED if it was still going; the same object otherwise. */
  readonly previous?: ServiceDeploymentRecord;
}

/**
 * A new service deployment (PENDING) for the deployment record `targetId` among `deployments` (the
 * service's records after the change); the live others are its sources. An unfinished previous one
 * is STOPPED: a service has one release going at a time.
 */
export function startServiceDeployment(
  service: ServiceRecord,
  deployments: readonly DeploymentRecord[],
  targetId: string,
  previous: ServiceDeploymentRecord | undefined,
  id: string,
  now: number,
): StartedServiceDeployment {
  const target = deployments.find((d) => d.id === targetId);
  if (!target) throw new Error(`no deployment record ${targetId}`);
  const sources = deployments.filter((d) => d.id !== targetId && d.status !== 'INACTIVE');
  const created: ServiceDeploymentRecord = {
    serviceDeploymentArn: serviceDeploymentArnOf(service.serviceArn, id),
    serviceArn: service.serviceArn,
    clusterArn: service.clusterArn,
    createdAt: now,
    updatedAt: now,
    status: 'PENDING',
    targetServiceRevision: summaryOf(service.serviceArn, target),
    sourceServiceRevisions: sources.map((d) => summaryOf(service.serviceArn, d)),
    deploymentConfiguration: service.deploymentConfiguration,
    deploymentCircuitBreaker: breakerBlock(service, undefined, 0),
    id,
    serviceCreatedAt: service.createdAt,
    targetDeploymentId: targetId,
    sourceDeploymentIds: sources.map((d) => d.id),
    version: 1,
  };
  if (!previous || isFinished(previous.status)) return { created, previous };
  return { created, previous: stop(previous, serviceDeploymentReasons.superseded, now) };
}

function stop(sd: ServiceDeploymentRecord, statusReason: string, now: number): ServiceDeploymentRecord {
  return { ...sd, status: 'STOPPED', statusReason, stoppedAt: now, finishedAt: now, updatedAt: now, version: sd.version + 1 };
}

/** DeleteService: an unfinished service deployment is asked to stop (STOPPED once the service is INACTIVE). */
export function requestStopForDelete(sd: ServiceDeploymentRecord, now: number): ServiceDeploymentRecord {
  if (isFinished(sd.status) || sd.status === 'STOP_REQUESTED') return sd;
  return { ...sd, status: 'STOP_REQUESTED', statusReason: serviceDeploymentReasons.deleteRequested, updatedAt: now, version: sd.version + 1 };
}

export type StopDecision =
  | { readonly action: 'rollback' }
  | { readonly action: 'already-stopping' }
  | { readonly action: 'refused'; readonly message: string };

/**
 * What StopServiceDeployment ROLLBACK does to a service deployment in each status (ECS's "Stopping
 * Amazon ECS service deployments"): PENDING and IN_PROGRESS roll back; STOP_REQUESTED,
 * ROLLBACK_REQUESTED and ROLLBACK_IN_PROGRESS carry on as they are; a finished one cannot be stopped.
 */
export function decideStop(sd: ServiceDeploymentRecord): StopDecision {
  switch (sd.status) {
    case 'PENDING':
    case 'IN_PROGRESS':
      return { action: 'rollback' };
    case 'STOP_REQUESTED':
    case 'ROLLBACK_REQUESTED':
    case 'ROLLBACK_IN_PROGRESS':
      return { action: 'already-stopping' };
    default:
      return { action: 'refused', message: `The service deployment is ${sd.status} and can no longer be stopped.` };
  }
}

/** StopServiceDeployment ROLLBACK accepted: ROLLBACK_REQUESTED, returning to the record `rolledBackTo`. */
export function markRollbackRequested(sd: ServiceDeploymentRecord, rolledBackTo: string, now: number): ServiceDeploymentRecord {
  return {
    ...sd,
    status: 'ROLLBACK_REQUESTED',
    statusReason: serviceDeploymentReasons.rollbackRequested,
    rollback: { reason: serviceDeploymentReasons.rollbackRequested, startedAt: now, serviceRevisionArn: serviceRevisionArnOf(sd.serviceArn, rolledBackTo) },
    rollbackDeploymentId: rolledBackTo,
    updatedAt: now,
    version: sd.version + 1,
  };
}

/**
 * The service deployment after a scheduler pass: its status from the deployment records as the pass
 * left them (see the diagram above), its revision counts, its circuit breaker block. Returns `sd`
 * itself when nothing changed, so the caller writes only real changes; a finished one never changes.
 */
export function progressServiceDeployment(
  sd: ServiceDeploymentRecord,
  service: ServiceRecord,
  deployments: readonly DeploymentRecord[],
  now: number,
): ServiceDeploymentRecord {
  if (isFinished(sd.status)) return sd;
  const byId = new Map(deployments.map((d) => [d.id, d]));
  const target = byId.get(sd.targetDeploymentId);
  let next: ServiceDeploymentRecord = { ...sd };
  let breakerStatus: RollbackMonitorStatus | undefined = sd.deploymentCircuitBreaker.status === 'TRIGGERED' ? 'TRIGGERED' : undefined;
  const tripped = target?.rolloutState === 'FAILED' &&
    (target.rolloutStateReason === rolloutReasons.circuitBreakerFailed || target.rolloutStateReason === RESOLUTION_BREAKER_REASON);

  if (service.status === 'INACTIVE') {
    next = stop(sd, serviceDeploymentReasons.deleted, now);
  } else if (sd.status === 'PENDING' || sd.status === 'IN_PROGRESS') {
    next = { ...next, status: 'IN_PROGRESS', startedAt: sd.startedAt ?? now };
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    if (target?.rolloutState === 'COMPLETED') {
      next = { ...next, status: 'SUCCESSFUL', finishedAt: now };
    } else if (target?.rolloutState === 'FAILED') {
      breakerStatus = tripped ? 'TRIGGERED' : breakerStatus;
      if (primary && primary.id !== target.id) {
        next = {
          ...next,
          status: 'ROLLBACK_IN_PROGRESS',
          statusReason: target.rolloutStateReason,
          rollback: { reason: target.rolloutStateReason, startedAt: now, serviceRevisionArn: serviceRevisionArnOf(sd.serviceArn, primary.id) },
          rollbackDeploymentId: primary.id,
        };
      } else {
        next = { ...next, status: 'STOPPED', statusReason: target.rolloutStateReason, stoppedAt: now, finishedAt: now };
      }
    }
  } else if (sd.status === 'ROLLBACK_REQUESTED') {
    next = { ...next, status: 'ROLLBACK_IN_PROGRESS', startedAt: sd.startedAt ?? now };
  }
  if (next.status === 'ROLLBACK_IN_PROGRESS' && next.rollbackDeploymentId) {
    const back = byId.get(next.rollbackDeploymentId);
    if (back?.rolloutState === 'COMPLETED') next = { ...next, status: 'ROLLBACK_SUCCESSFUL', finishedAt: now };
    else if (back?.rolloutState === 'FAILED') next = { ...next, status: 'ROLLBACK_FAILED', statusReason: back.rolloutStateReason, finishedAt: now };
  }

  // Counts as the pass left them; a record gone from the service item keeps its last counts.
  const summary = (id: string, old: ServiceRevisionSummary) => {
    const d = byId.get(id);
    return d ? summaryOf(sd.serviceArn, d) : old;
  };
  next = {
    ...next,
    targetServiceRevision: summary(sd.targetDeploymentId, sd.targetServiceRevision),
    sourceServiceRevisions: sd.sourceDeploymentIds.map((id, i) => summary(id, sd.sourceServiceRevisions[i]!)),
  };
  // A tripped record keeps the count it tripped at (it is no longer folded).
  const failureCount = target?.failedTasks ?? sd.deploymentCircuitBreaker.failureCount;
  const monitor = breakerStatus ?? (isFinished(next.status) ? 'MONITORING_COMPLETE' : undefined);
  next = { ...next, deploymentCircuitBreaker: breakerBlock(service, monitor, failureCount) };

  const { updatedAt: _a, version: _b, ...after } = next;
  const { updatedAt: _c, version: _d, ...before } = sd;
  if (JSON.stringify(after) === JSON.stringify(before)) return sd;
  return { ...next, updatedAt: now, version: sd.version + 1 };
}

export interface HistoryArn {
  readonly kind: 'service-deployment' | 'service-revision';
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly id: string;
}

const HISTORY_ARN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):(service-deployment|service-revision)\/([a-zA-Z0-9_-]{1,255})\/([a-zA-Z0-9_-]{1,255})\/([^/]+)$/;

/**
 * A service deployment or service revision ARN, or undefined when it is not one (or its id is not
 * of the form Berth makes, which no stored item can have).
 *
 *   parseHistoryArn('arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/4980306466373577095')
 *     -> { kind: 'service-revision', clusterName: 'c', serviceName: 'web', id: '4980306466373577095', ... }
 */
export function parseHistoryArn(arn: string): HistoryArn | undefined {
  const m = HISTORY_ARN.exec(arn);
  if (!m) return undefined;
  const [, partition, region, account, kind, clusterName, serviceName, id] = m;
  const idOk = kind === 'service-deployment' ? SERVICE_DEPLOYMENT_ID_PATTERN.test(id) : REVISION_ID_PATTERN.test(id);
  return idOk ? { kind: kind as HistoryArn['kind'], partition, region, account, clusterName, serviceName, id } : undefined;
}

/**
 * Whether a change must reach the service deployment's own item, not only the copy on the service
 * item: everything but the live counts (task counts, failureCount), which change on most passes and
 * are read from the service item's copy while the service deployment is the newest. Keeping those out
 * lets most passes stay a single conditional Put instead of a transaction.
 */
export function changesHistory(before: ServiceDeploymentRecord, after: ServiceDeploymentRecord): boolean {
  const durable = (sd: ServiceDeploymentRecord) => {
    const { targetServiceRevision: _t, sourceServiceRevisions: _s, deploymentCircuitBreaker, updatedAt: _u, version: _v, ...rest } = sd;
    return JSON.stringify({ ...rest, breaker: deploymentCircuitBreaker.status });
  };
  return durable(before) !== durable(after);
}

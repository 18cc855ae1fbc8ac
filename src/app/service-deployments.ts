/**
 * The service deployment API: ListServiceDeployments, DescribeServiceDeployments,
 * DescribeServiceRevisions, StopServiceDeployment. The records are written by CreateService,
 * UpdateService, DeleteService and the scheduler pass (service-deployment.ts says how their statuses
 * move); these read them, and StopServiceDeployment ROLLBACK rolls the service back in one
 * conditional transaction with its service deployment (ROLLBACK_REQUESTED), which wakes the loop.
 */
import { clusterArn as clusterArnOf, inScope } from '../domain/arns';
import { requestRollback } from '../domain/circuit-breaker';
import {
  ConflictException,
  InvalidParameterException,
  ServiceDeploymentNotFoundException,
} from '../domain/errors';
import { revisionContainerImages } from '../domain/image-digests';
import { uuidFrom } from '../domain/new-task';
import type { DeploymentRecord } from '../domain/service';
import {
  decideStop,
  markRollbackRequested,
  parseHistoryArn,
  revisionIdOf,
  type ServiceRevisionRecord,
  type HistoryArn,
  type ServiceDeploymentRecord,
  type ServiceDeploymentStatus,
} from '../domain/service-deployment';
import { appendServiceEvents } from '../domain/service-messages';
import type { StoredService } from '../adapters/dynamodb/service-repository';
import type { RequestContext } from './context';
import { withOptimisticRetry } from './optimistic';
import { namedService } from './services';

/** ECS's limits: 20 ARNs per describe; ListServiceDeployments pages by 20 unless asked, up to 100. */
const MAX_DESCRIBE = 20;
const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

/** A timestamp member as the JSON protocol sends it (epoch seconds) or an SDK's ISO string, in ms. */
const epochMs = (value: number | string | undefined) =>
  value === undefined ? undefined : typeof value === 'number' ? value * 1000 : Date.parse(value);

const brief = (sd: ServiceDeploymentRecord) => ({
  serviceDeploymentArn: sd.serviceDeploymentArn,
  serviceArn: sd.serviceArn,
  clusterArn: sd.clusterArn,
  startedAt: sd.startedAt,
  createdAt: sd.createdAt,
  finishedAt: sd.finishedAt,
  targetServiceRevisionArn: sd.targetServiceRevision.arn,
  status: sd.status,
  statusReason: sd.statusReason,
});

export interface ListServiceDeploymentsRequest {
  service: string;
  cluster?: string;
  status?: ServiceDeploymentStatus[];
  createdAt?: { before?: number | string; after?: number | string };
  nextToken?: string;
  maxResults?: number;
}

export async function listServiceDeployments(ctx: RequestContext, input: ListServiceDeploymentsRequest) {
  const maxResults = input.maxResults ?? DEFAULT_PAGE;
  if (maxResults < 1 || maxResults > MAX_PAGE) throw new InvalidParameterException(`maxResults must be between 1 and ${MAX_PAGE}.`);
  const before = epochMs(input.createdAt?.before);
  const after = epochMs(input.createdAt?.after);
  if (before !== undefined && after !== undefined && after > before) {
    throw new InvalidParameterException('createdAt.after must not be later than createdAt.before.');
  }
  const statuses = input.status?.length ? new Set(input.status) : undefined;
  const { stored } = await namedService(ctx, input.cluster, input.service);
  const { clusterArn, serviceName, createdAt } = stored.record;
  const page = await ctx.services.listServiceDeployments(
    clusterArn,
    serviceName,
    { maxResults, nextToken: input.nextToken },
    (sd) =>
      sd.serviceCreatedAt === createdAt &&
      (statuses === undefined || statuses.has(sd.status)) &&
      (after === undefined || sd.createdAt > after) &&
      (before === undefined || sd.createdAt < before),
  );
  // The newest one's live copy is on the service item (its own item may lag in counts only).
  const live = (sd: ServiceDeploymentRecord) => (sd.id === stored.serviceDeployment?.id ? stored.serviceDeployment : sd);
  return { serviceDeployments: page.items.map((sd) => brief(live(sd))), nextToken: page.nextToken };
}

/** The ARNs' service items, read once per service: a history item counts only for the service it was written for. */
function serviceReader(ctx: RequestContext) {
  const cache = new Map<string, Promise<StoredService | undefined>>();
  return (arn: HistoryArn) => {
    const clusterArn = clusterArnOf(ctx.scope, arn.clusterName);
    const key = `${clusterArn}/${arn.serviceName}`;
    if (!cache.has(key)) cache.set(key, ctx.services.get(clusterArn, arn.serviceName));
    return cache.get(key)!;
  };
}

function checkArnList(arns: readonly string[], member: string) {
  if (arns.length === 0) throw new InvalidParameterException(`${member} cannot be empty.`);
  if (arns.length > MAX_DESCRIBE) throw new InvalidParameterException(`${member} cannot have more than ${MAX_DESCRIBE} elements.`);
}

const mine = (ctx: RequestContext, arn: HistoryArn | undefined, kind: HistoryArn['kind']) =>
  arn && arn.kind === kind && inScope(ctx.scope, { ...arn, resourceType: 'service', path: [] }) ? arn : undefined;

export async function describeServiceDeployments(ctx: RequestContext, input: { serviceDeploymentArns: string[] }) {
  checkArnList(input.serviceDeploymentArns, 'serviceDeploymentArns');
  const serviceOf = serviceReader(ctx);
  const serviceDeployments: ServiceDeploymentRecord[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const reference of input.serviceDeploymentArns) {
    const arn = mine(ctx, parseHistoryArn(reference), 'service-deployment');
    const service = arn && (await serviceOf(arn));
    if (!arn || !service) {
      failures.push({ arn: reference, reason: 'MISSING' });
      continue;
    }
    // The newest one is read from the service item, where its live counts are.
    const sd =
      service.serviceDeployment?.id === arn.id
        ? service.serviceDeployment
        : await ctx.services.serviceDeployment(service.record.clusterArn, arn.serviceName, arn.id);
    if (sd && sd.serviceCreatedAt === service.record.createdAt) serviceDeployments.push(sd);
    else failures.push({ arn: reference, reason: 'MISSING' });
  }
  return { serviceDeployments, failures };
}

export async function describeServiceRevisions(ctx: RequestContext, input: { serviceRevisionArns: string[] }) {
  checkArnList(input.serviceRevisionArns, 'serviceRevisionArns');
  const serviceOf = serviceReader(ctx);
  const serviceRevisions = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const reference of input.serviceRevisionArns) {
    const arn = mine(ctx, parseHistoryArn(reference), 'service-revision');
    const service = arn && (await serviceOf(arn));
    const revision = service && (await ctx.services.serviceRevision(service.record.clusterArn, arn.serviceName, arn.id));
    if (revision && revision.serviceCreatedAt === service.record.createdAt) serviceRevisions.push(withKnownDigests(revision, service.deployments, arn.id));
    else failures.push({ arn: reference, reason: 'MISSING' });
  }
  return { serviceRevisions, failures };
}

export async function stopServiceDeployment(ctx: RequestContext, input: { serviceDeploymentArn: string; stopType?: 'ROLLBACK' | 'ABORT' }) {
  // ECS documents ROLLBACK as the one valid stop type (ABORT is in the model, for other deployment kinds).
  if (input.stopType !== undefined && input.stopType !== 'ROLLBACK') {
    throw new InvalidParameterException(`The stopType ${input.stopType} is not supported for rolling update deployments. Use ROLLBACK.`);
  }
  const parsed = parseHistoryArn(input.serviceDeploymentArn);
  if (!parsed || parsed.kind !== 'service-deployment') throw new InvalidParameterException('Invalid service deployment ARN.');
  const arn = mine(ctx, parsed, 'service-deployment');
  const notFound = () => new ServiceDeploymentNotFoundException('Service deployment not found.');
  if (!arn) throw notFound();
  return withOptimisticRetry(async () => {
    const stored = await ctx.services.get(clusterArnOf(ctx.scope, arn.clusterName), arn.serviceName);
    const current = stored?.serviceDeployment;
    // Only the newest service deployment can be unfinished (a newer one stops the one before).
    const sd = current?.id === arn.id ? current : stored && (await ctx.services.serviceDeployment(stored.record.clusterArn, arn.serviceName, arn.id));
    if (!stored || !sd || sd.serviceCreatedAt !== stored.record.createdAt) throw notFound();
    const decision = decideStop(sd);
    if (decision.action === 'refused') throw new ConflictException(decision.message);
    if (decision.action === 'already-stopping') return { serviceDeploymentArn: sd.serviceDeploymentArn };
    const now = ctx.clock();
    const rolled = requestRollback(stored.record.serviceName, stored.deployments, sd.targetDeploymentId, now);
    if ('refused' in rolled) {
      if (rolled.refused === 'NO_COMPLETED_DEPLOYMENT') {
        throw new InvalidParameterException('The service has no completed service revision to roll back to.');
      }
      throw new ConflictException(`The service deployment is ${sd.status} but its service revision is no longer rolling out.`);
    }
    const release = markRollbackRequested(sd, rolled.rolledBackTo!, now);
    const version = stored.version + 1;
    const next: StoredService = {
      ...stored,
      record: { ...stored.record, ...rolled.service, version },
      deployments: rolled.deployments,
      events: appendServiceEvents(stored.events, rolled.events, now, () => uuidFrom(ctx.randomBytes(16))),
      version,
      serviceDeployment: release,
    };
    await ctx.services.update(next, stored.version, 'api', { history: { serviceDeployments: [release] } });
    return { serviceDeploymentArn: sd.serviceDeploymentArn };
  });
}

/**
 * A revision item is written once, before its first task ran; the digests its deployment established
 * since (image-digests.ts) are on the deployment record, which the service item keeps while it is live
 * and for a few rollback targets after.
 */
function withKnownDigests(revision: ServiceRevisionRecord, deployments: readonly DeploymentRecord[], revisionId: string): ServiceRevisionRecord {
  const resolution = deployments.find((d) => revisionIdOf(d.id) === revisionId)?.imageResolution;
  return resolution ? { ...revision, containerImages: revisionContainerImages(resolution) } : revision;
}

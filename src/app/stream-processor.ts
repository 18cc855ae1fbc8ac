/**
 * The table's stream is the outbox and the engine's clock: for every committed change of a task, a
 * container instance or a service this publishes the ECS events the change means (derived from the
 * committed images, with deterministic ids, so a replay republishes the same ids and loses nothing),
 * then takes the next lifecycle step. A batch's events go out first, in record order, in one publish;
 * then the steps, in order; the first failure is reported as the batch item failure, so Lambda (or the
 * local poller) retries from exactly there.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ContainerInstanceRecord } from '../domain/container-instance';
import type { TaskRecord } from '../domain/records';
import {
  containerInstanceStateChangeEvent,
  taskStateChangeEvent,
  taskStatusChanged,
  type EventEnvelopeContext,
} from '../domain/task-events';
import type { BerthContext } from './context';
import type { BerthEvent, EventPublisher } from './event-publisher';
import { instanceUpdatedAt, toStoredInstance } from '../adapters/dynamodb/container-instance-repository';
import { taskOfItem } from '../adapters/dynamodb/task-item';
import { capacityKindOf } from '../domain/placement';
import { instanceChangeMatters, serviceOfTask, taskChangeMatters, type ServiceLoop } from './service-loop';
import { placementFailureEvent, serviceItemEvents, type ServiceItemImage } from '../domain/service-events';
import { advanceTask, placeWaitingTasks, prefetchHosts, scopeOfArn, type HostReader } from './task-engine';
import { notifyAgentOfTaskChange, type AgentNotifier } from './agent-notifier';

const sweepOptions = (deps: StreamProcessorDeps) => ({ maxWaitMs: deps.maxCapacityWaitMs ?? Infinity });

/** The parts of a DynamoDB stream record (Lambda's event shape) the processor reads. */
export interface StreamRecord {
  eventID?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE' | string;
  dynamodb?: {
    ApproximateCreationDateTime?: number;
    SequenceNumber?: string;
    NewImage?: Record<string, unknown>;
    OldImage?: Record<string, unknown>;
  };
}

export interface StreamProcessorDeps {
  readonly context: BerthContext;
  readonly publisher: EventPublisher;
  readonly eventSource: string;
  readonly logger?: Pick<Console, 'error' | 'warn'> & Partial<Pick<Console, 'info'>>;
  /**
   * How long tasks may wait for capacity: the placements this processor triggers also stop tasks that
   * waited longer. Default: never (the scheduled sweep, with its own configured bound, ends waits).
   */
  readonly maxCapacityWaitMs?: number;
  /** Woken when a service's task changes or the API changes a service. */
  readonly serviceLoop?: ServiceLoop;
  /** Tells an agent that its assignments changed (the agent channel, docs/agent-channel.md). */
  readonly agentNotifier?: AgentNotifier;
  /**
   * The API serves from this same context (the local runtime): each committed task image is kept for
   * the agent reports' read-modify-write (TaskRepository.remember). In AWS the API is another
   * function, which would never read what this one kept.
   */
  readonly sharesContextWithApi?: boolean;
}

export interface BatchResult {
  batchItemFailures: { itemIdentifier: string }[];
}

type Item = Record<string, unknown>;
const image = (raw: Record<string, unknown> | undefined): Item | undefined =>
  raw ? unmarshall(raw as Record<string, AttributeValue>) : undefined;
/**
 * A task image's record: the item stores it compactly (task-item.ts), rebuilt from the image alone.
 * Decoded once per image: a task record is read by the events, the agent's notification and the step
 * (and was decoded up to four times each: 3.4% of the runtime's busy time at saturation). The steps
 * only read records (they write new ones), so sharing one decode is safe.
 */
const decodedTasks = new WeakMap<Item, TaskRecord>();
const taskOf = (item: Item | undefined): TaskRecord | undefined => {
  if (!item) return undefined;
  let task = decodedTasks.get(item);
  if (!task) decodedTasks.set(item, (task = taskOfItem(item)));
  return task;
};
/** A record's two images, unmarshalled once (the events, the notification and the step each read them). */
const decodedImages = new WeakMap<StreamRecord, { after?: Item; before?: Item }>();
function imagesOf(record: StreamRecord): { after?: Item; before?: Item } {
  let images = decodedImages.get(record);
  if (!images) decodedImages.set(record, (images = { after: image(record.dynamodb?.NewImage), before: image(record.dynamodb?.OldImage) }));
  return images;
}

export async function processStreamRecords(deps: StreamProcessorDeps, records: readonly StreamRecord[]): Promise<BatchResult> {
  const failure = (record: StreamRecord, error: unknown): BatchResult => {
    (deps.logger ?? console).error(`stream record ${record.dynamodb?.SequenceNumber} failed; will be retried`, error);
    return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? record.eventID ?? '' }] };
  };
  // Every record's events first, in record order, in one publish (PutEvents takes 10 entries a call):
  // they derive from the committed images alone, so publishing them before any step keeps "published
  // before anything else is done with the record"; a failed publish retries the batch with nothing moved.
  const events: BerthEvent[] = [];
  for (const record of records) {
    try {
      events.push(...eventsOf(deps, record));
    } catch (error) {
      return failure(record, error);
    }
  }
  // The first record's host read (when its step places) starts now, beside the notifications and
  // the publish; the records after it read when their turn comes (src/app/task-engine.ts).
  const firstImage = records.length ? imagesOf(records[0]).after : undefined;
  const firstHosts = firstImage?.kind === 'task' ? prefetchHosts(deps.context, taskOf(firstImage)) : undefined;
  // Agents hear of their work before the publish: a notification moves nothing (the agent acts on
  // a committed change) and is at least once anyway (a retried batch notifies again), so the agent's
  // start can overlap the publish instead of waiting for it. Its reports come back as later records,
  // handled after this batch: the events stay in commit order.
  for (const record of records) {
    try {
      await notifyAgentOf(deps, record);
    } catch (error) {
      return failure(record, error);
    }
  }
  if (events.length && records.length) {
    try {
      await deps.publisher.publish(events);
    } catch (error) {
      return failure(records[0], error);
    }
  }
  for (const [index, record] of records.entries()) {
    try {
      await processRecord(deps, record, index === 0 ? firstHosts : undefined);
    } catch (error) {
      // The retry republishes this record's events and those after it (same ids: at least once).
      return failure(record, error);
    }
  }
  return { batchItemFailures: [] };
}

/** The events a committed change means, from its two images alone (deterministic ids). */
function eventsOf(deps: StreamProcessorDeps, record: StreamRecord): BerthEvent[] {
  const { after, before } = imagesOf(record);
  if (!after) return []; // REMOVE (TTL expiry): nothing happened to report.
  const events = serviceEventsOf(deps, before, after);
  if (after.kind === 'task') {
    const task = taskOf(after)!;
    if (taskStatusChanged(taskOf(before), task)) {
      events.push(taskStateChangeEvent(task, envelopeFor(deps, task.taskArn), approximateCommitTime(deps, record)));
    }
  } else if (after.kind === 'container-instance') {
    const event = containerInstanceEventOf(deps, before, after);
    if (event) events.push(event);
  }
  return events;
}

async function processRecord(deps: StreamProcessorDeps, record: StreamRecord, hosts?: HostReader): Promise<void> {
  const { after, before } = imagesOf(record);
  if (!after) return;
  if (after.kind === 'task') await onTask(deps, before, after, hosts);
  else if (after.kind === 'service') await onService(deps, after);
  else if (after.kind === 'container-instance') await onContainerInstance(deps, before, after);
}

async function notifyAgentOf(deps: StreamProcessorDeps, record: StreamRecord): Promise<void> {
  const { after, before } = imagesOf(record);
  if (after?.kind !== 'task') return;
  // The agent's report on this change may start from this version without reading it (agent-reports.ts).
  if (deps.sharesContextWithApi) deps.context.tasks.remember({ record: taskOf(after)!, version: after.version as number });
  const seq = record.dynamodb?.SequenceNumber ?? '';
  await notifyAgentOfTaskChange(deps.agentNotifier, deps.context, taskOf(before), taskOf(after)!, seq, deps.logger);
}

/**
 * Events take their time from the committed record, stamped by its writer to the millisecond. The
 * stream's ApproximateCreationDateTime (DynamoDB Local's is rounded down to the minute) serves only
 * a task written before Berth stamped `updatedAt`.
 */
const approximateCommitTime = (deps: StreamProcessorDeps, record: StreamRecord) =>
  Math.round((record.dynamodb?.ApproximateCreationDateTime ?? deps.context.clock() / 1000) * 1000);

function envelopeFor(deps: StreamProcessorDeps, arn: string): EventEnvelopeContext {
  const scope = scopeOfArn(arn);
  return { source: deps.eventSource, account: scope.account, region: scope.region };
}

async function onTask(deps: StreamProcessorDeps, before: Item | undefined, after: Item, hosts?: HostReader) {
  const task = taskOf(after)!;
  const previous = taskOf(before);
  // The record that makes a task PENDING is its first look for a host: a miss is logged here, once.
  await advanceTask(deps.context, { record: task, version: after.version as number }, hosts, (waiting, failure) =>
    deps.logger?.info?.(
      `Task ${waiting.taskArn} is waiting for ${capacityKindOf(waiting)} capacity (${failure.reason}: ${failure.detail})`,
    ),
  );
  const service = serviceOfTask(task);
  if (service && deps.serviceLoop && taskChangeMatters(previous, task)) await deps.serviceLoop.wake(service);
  // Capacity a stopped task gave back may be what a waiting task needs: the host's own record, written
  // in the same transaction, says so (onContainerInstance), so the task's record does not look again.
}

/**
 * Service and deployment events: from a service item's two images, and from a service task that gave
 * up waiting for a host (SERVICE_TASK_PLACEMENT_FAILURE) (src/domain/service-events.ts).
 */
function serviceEventsOf(deps: StreamProcessorDeps, before: Item | undefined, after: Item): BerthEvent[] {
  if (after.kind === 'service') {
    const serviceImage = (item: Item): ServiceItemImage => ({
      record: item.doc as ServiceItemImage['record'],
      deployments: (item.deployments as ServiceItemImage['deployments'] | undefined) ?? [],
      events: (item.events as ServiceItemImage['events'] | undefined) ?? [],
      changedBy: item.changedBy as ServiceItemImage['changedBy'],
    });
    return serviceItemEvents(before && serviceImage(before), serviceImage(after), envelopeFor(deps, (after.doc as { serviceArn: string }).serviceArn));
  }
  if (after.kind === 'task') {
    const task = taskOf(after)!;
    const event = placementFailureEvent(taskOf(before), task, envelopeFor(deps, task.taskArn));
    return event ? [event] : [];
  }
  return [];
}

/** An API change (create, update, delete, tags) wakes the service's loop; the scheduler's own writes do not. */
async function onService(deps: StreamProcessorDeps, after: Item) {
  if (after.changedBy === 'api') await deps.serviceLoop?.wake((after.doc as { serviceArn: string }).serviceArn);
}

/** What moves beside an instance's record: version, remaining capacity, task counts (not the agent's polls). */
function countsOf(item: Item) {
  const { record: _record, lastPolledAt: _polled, ...counts } = toStoredInstance(item);
  return counts;
}

function containerInstanceEventOf(deps: StreamProcessorDeps, before: Item | undefined, after: Item): BerthEvent | undefined {
  const instance = after.doc as ContainerInstanceRecord;
  // A Fargate capacity host (no cluster) is not the user's: ECS sends no container instance events for
  // Fargate, so neither does Berth (docs/events.md); EC2 and EXTERNAL instances keep theirs.
  if (instance.clusterArn === undefined) return undefined;
  const state = countsOf(after);
  const old = before && countsOf(before);
  if (JSON.stringify(before?.doc) === JSON.stringify(after.doc) && JSON.stringify(old) === JSON.stringify(state)) return undefined;
  // Capacity moves on one host are not ordered by their writers' clocks: never report a change
  // as earlier than the one it replaced.
  const updatedAt = Math.max(instanceUpdatedAt(after), before ? instanceUpdatedAt(before) : -Infinity);
  return containerInstanceStateChangeEvent(instance, state, envelopeFor(deps, instance.containerInstanceArn), updatedAt);
}

async function onContainerInstance(deps: StreamProcessorDeps, before: Item | undefined, after: Item) {
  const instance = after.doc as ContainerInstanceRecord;
  const state = countsOf(after);
  const old = before && countsOf(before);
  const gainedCapacity =
    !old || state.remaining.cpu > old.remaining.cpu || state.remaining.memory > old.remaining.memory ||
    (before?.doc as ContainerInstanceRecord | undefined)?.status !== instance.status ||
    (before?.doc as ContainerInstanceRecord | undefined)?.agentConnected !== instance.agentConnected;
  if (instance.status === 'ACTIVE' && instance.agentConnected && gainedCapacity) {
    await placeWaitingTasks(deps.context, scopeOfArn(instance.containerInstanceArn), sweepOptions(deps));
  }
  if (deps.serviceLoop && instanceChangeMatters(before?.doc as ContainerInstanceRecord | undefined, instance)) {
    await wakeDaemonServices(deps, deps.serviceLoop, instance.clusterArn!);
  }
}

/** Wakes every DAEMON service of the cluster (one query of its services; REPLICA ones are not woken). */
async function wakeDaemonServices(deps: StreamProcessorDeps, loop: ServiceLoop, clusterArn: string) {
  let nextToken: string | undefined;
  do {
    const page = await deps.context.services.list(clusterArn, { maxResults: 100, nextToken }, (s) => s.schedulingStrategy === 'DAEMON' && s.status !== 'INACTIVE');
    for (const service of page.items) await loop.wake(service.serviceArn);
    nextToken = page.nextToken;
  } while (nextToken);
}

/**
 * The Powertools wiring every Lambda handler uses (src/adapters/observability.ts): the metrics the
 * stream processor's publisher counts, around a real publisher (local mode's event sink on real
 * files), read back as the EMF document Powertools would print; and the pure counting behind them.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BERTH_METRICS,
  countTaskOutcomes,
  createObservability,
  METRICS_NAMESPACE,
  ObservedEventPublisher,
  streamLagMs,
} from '../../src/adapters/observability';
import type { BerthEvent } from '../../src/app/event-publisher';
import { LocalEventSink } from '../../src/local/event-sink';

function event(detailType: string, detail: Record<string, unknown>): BerthEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'berth.ecs',
    account: '123456789012',
    time: new Date(0).toISOString(),
    region: 'eu-west-1',
    resources: [`arn:aws:ecs:eu-west-1:123456789012:task/demo/${randomUUID().replaceAll('-', '')}`],
    detail,
  };
}

const created = event('ECS Task State Change', { version: 1, lastStatus: 'PROVISIONING', group: 'family:web' });
const running = event('ECS Task State Change', { version: 4, lastStatus: 'RUNNING', group: 'family:web' });
const standaloneFailed = event('ECS Task State Change', { version: 3, lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart', group: 'family:web' });
const serviceTaskFailed = event('ECS Task State Change', { version: 3, lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart', group: 'service:web' });
const servicePlacement = event('ECS Service Action', { eventName: 'SERVICE_TASK_PLACEMENT_FAILURE', reason: 'RESOURCE:CPU' });

describe('countTaskOutcomes', () => {
  it.each([
    ['a created task', [created], { launched: 1, placementFailures: 0 }],
    ['a later change', [running], { launched: 0, placementFailures: 0 }],
    ['a standalone task that failed to start', [standaloneFailed], { launched: 0, placementFailures: 1 }],
    // Counted once, as its service action, not also as its task's stop.
    ['a service task that failed to start, and its service action', [serviceTaskFailed, servicePlacement], { launched: 0, placementFailures: 1 }],
    ['a batch of all of them', [created, running, standaloneFailed, serviceTaskFailed, servicePlacement], { launched: 1, placementFailures: 2 }],
  ])('counts %s', (_, events, counts) => {
    expect(countTaskOutcomes(events)).toEqual(counts);
  });
});

describe('streamLagMs', () => {
  it('is the age of the oldest record of the batch (ApproximateCreationDateTime is in seconds)', () => {
    const records = [{ dynamodb: { ApproximateCreationDateTime: 1_000 } }, { dynamodb: { ApproximateCreationDateTime: 998 } }];
    expect(streamLagMs(records, 1_000_500)).toBe(2_500);
  });
  it('is nothing for records without a creation time, and never negative', () => {
    expect(streamLagMs([{ dynamodb: {} }], 5)).toBeUndefined();
    expect(streamLagMs([{ dynamodb: { ApproximateCreationDateTime: 10 } }], 9_000)).toBe(0);
  });
});

describe('ObservedEventPublisher around a real publisher', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-observability-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** The metrics as Powertools would print them (EMF): name -> value(s). */
  function emf(observability: ReturnType<typeof createObservability>): { namespace: string; dimensions: string[][]; values: Record<string, unknown> } {
    const document = observability.metrics.serializeMetrics() as unknown as Record<string, any>;
    const directive = document._aws.CloudWatchMetrics[0];
    const values = Object.fromEntries(directive.Metrics.map((m: { Name: string }) => [m.Name, document[m.Name]]));
    return { namespace: directive.Namespace, dimensions: directive.Dimensions, values };
  }

  it('counts events published, tasks launched and placement failures in the Berth namespace, by service', async () => {
    const observability = createObservability('berth-task-stream');
    const sink = await LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl') });
    const publisher = new ObservedEventPublisher(sink, observability);
    await publisher.publish([created, running, standaloneFailed]);
    await publisher.publish([serviceTaskFailed, servicePlacement]);
    expect(emf(observability)).toEqual({
      namespace: METRICS_NAMESPACE,
      dimensions: [['service']],
      values: {
        [BERTH_METRICS.eventsPublished]: [3, 2],
        [BERTH_METRICS.tasksLaunched]: 1,
        [BERTH_METRICS.placementFailures]: [1, 1],
      },
    });
  });

  it('counts events that failed and rethrows, so the stream record is retried', async () => {
    const observability = createObservability('berth-task-stream');
    const notADirectory = join(dir, 'file');
    await writeFile(notADirectory, '');
    const sink = await LocalEventSink.open({ eventsFile: join(notADirectory, 'events.jsonl') });
    const publisher = new ObservedEventPublisher(sink, observability);
    await expect(publisher.publish([created, running])).rejects.toThrow();
    expect(emf(observability).values).toEqual({ [BERTH_METRICS.eventsFailed]: 2 });
  });

  it('counts events the EventBridge publisher sent to its dead-letter queue as failed', () => {
    const observability = createObservability('berth-task-stream');
    const publisher = new ObservedEventPublisher({ publish: async () => {} }, observability);
    publisher.deadLettered([created]);
    expect(emf(observability).values).toEqual({ [BERTH_METRICS.eventsFailed]: 1 });
  });
});

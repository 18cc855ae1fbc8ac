/**
 * Operations in AWS, with Powertools for AWS Lambda (TypeScript): every handler logs JSON with the
 * request id (and the cluster and task ARN where it knows them), emits CloudWatch metrics as EMF log
 * lines (no PutMetricData calls), and traces with X-Ray. The lambdas/ entry files wrap their handler
 * with `observedHandler`; the stream processor's publisher is wrapped by `ObservedEventPublisher`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { BerthEvent, EventPublisher } from '../app/event-publisher';
import { SERVICE_ACTION } from '../domain/service-events';
import { TASK_STATE_CHANGE } from '../domain/task-events';

/** The CloudWatch namespace of Berth's metrics (the dashboard and alarms read it). */
export const METRICS_NAMESPACE = 'Berth';

/** Berth's own metrics, in the `Berth` namespace with the dimension `service` (the function's). */
export const BERTH_METRICS = {
  /** Tasks created (their first task event, version 1, was published). */
  tasksLaunched: 'TasksLaunched',
  /** Tasks that stopped with TaskFailedToStart, and service tasks that gave up waiting for a host. */
  placementFailures: 'PlacementFailures',
  /** Events PutEvents accepted. */
  eventsPublished: 'EventsPublished',
  /** Events PutEvents did not accept: sent to the events dead-letter queue, or the batch was retried. */
  eventsFailed: 'EventsFailed',
  /** Age of the oldest stream record of a batch when the processor got it (milliseconds). */
  streamLag: 'StreamLag',
} as const;

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/** Logger, metrics and tracer of one function; `service` is the metrics' dimension and the logs' `service`. */
export function createObservability(service: string): Observability {
  return {
    logger: new Logger({ serviceName: service }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service }),
    tracer: new Tracer({ serviceName: service }),
  };
}

/**
 * The handler with the request id in every log line (and the cold start), its metrics flushed as
 * EMF when it returns, and its invocation traced. `keys` adds fields known from the input (cluster,
 * task ARN, operation) to that invocation's log lines.
 */
export function observedHandler<TEvent, TResult>(
  observability: Observability,
  handler: (event: TEvent) => Promise<TResult>,
  keys?: (event: TEvent) => Record<string, string | undefined>,
) {
  const { logger, metrics, tracer } = observability;
  return middy<TEvent, TResult>()
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .before((request) => {
      if (!keys) return;
      const known = Object.entries(keys(request.event)).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
      if (known.length > 0) logger.appendKeys(Object.fromEntries(known));
    })
    .handler(handler);
}

/**
 * An EventPublisher that counts what it publishes: events published and failed, tasks launched and
 * placement failures (read off the events themselves, so the stream processor is unchanged), and
 * logs every event that failed with its resource (the task or service ARN) and cluster.
 */
export class ObservedEventPublisher implements EventPublisher {
  constructor(
    private readonly inner: EventPublisher,
    private readonly observability: Pick<Observability, 'logger' | 'metrics'>,
  ) {}

  async publish(events: readonly BerthEvent[]): Promise<void> {
    const { metrics, logger } = this.observability;
    try {
      await this.inner.publish(events);
    } catch (error) {
      metrics.addMetric(BERTH_METRICS.eventsFailed, MetricUnit.Count, events.length);
      for (const event of events) logger.error('event not published; the stream record will be retried', eventKeys(event));
      throw error;
    }
    metrics.addMetric(BERTH_METRICS.eventsPublished, MetricUnit.Count, events.length);
    const counts = countTaskOutcomes(events);
    if (counts.launched) metrics.addMetric(BERTH_METRICS.tasksLaunched, MetricUnit.Count, counts.launched);
    if (counts.placementFailures) metrics.addMetric(BERTH_METRICS.placementFailures, MetricUnit.Count, counts.placementFailures);
  }

  /** For the EventBridge publisher's dead-letter hook: events that went to the queue, not the bus. */
  deadLettered(events: readonly BerthEvent[]): void {
    this.observability.metrics.addMetric(BERTH_METRICS.eventsFailed, MetricUnit.Count, events.length);
    for (const event of events) this.observability.logger.error('event sent to the events dead-letter queue', eventKeys(event));
  }
}

/** Tasks created and placement failures among published events. Pure. */
export function countTaskOutcomes(events: readonly BerthEvent[]): { launched: number; placementFailures: number } {
  let launched = 0;
  let placementFailures = 0;
  for (const event of events) {
    const detail = event.detail as Record<string, unknown>;
    if (event['detail-type'] === TASK_STATE_CHANGE) {
      if (detail.version === 1) launched++;
      // A standalone task that gave up waiting; a service task's failure is its service action below.
      if (detail.stopCode === 'TaskFailedToStart' && detail.lastStatus === 'STOPPED' && !String(detail.group ?? '').startsWith('service:')) {
        placementFailures++;
      }
    } else if (event['detail-type'] === SERVICE_ACTION && detail.eventName === 'SERVICE_TASK_PLACEMENT_FAILURE') {
      placementFailures++;
    }
  }
  return { launched, placementFailures };
}

/** The oldest record's age in a stream batch (ms), from DynamoDB's ApproximateCreationDateTime (seconds). Pure. */
export function streamLagMs(records: ReadonlyArray<{ dynamodb?: { ApproximateCreationDateTime?: number } }>, nowMs: number): number | undefined {
  const created = records.map((r) => r.dynamodb?.ApproximateCreationDateTime).filter((t): t is number => typeof t === 'number');
  return created.length === 0 ? undefined : Math.max(0, nowMs - Math.min(...created) * 1000);
}

export function recordStreamLag(
  metrics: Metrics,
  records: ReadonlyArray<{ dynamodb?: { ApproximateCreationDateTime?: number } }>,
  nowMs: number,
): void {
  const lag = streamLagMs(records, nowMs);
  if (lag !== undefined) metrics.addMetric(BERTH_METRICS.streamLag, MetricUnit.Milliseconds, lag);
}

function eventKeys(event: BerthEvent): Record<string, unknown> {
  const detail = event.detail as Record<string, unknown>;
  return { detailType: event['detail-type'], resource: event.resources[0], clusterArn: detail.clusterArn, taskArn: detail.taskArn };
}

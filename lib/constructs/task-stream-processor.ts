import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BerthFunction } from './berth-function';
import { grantTableReadWrite } from './berth-table';
import { DeadLetterQueue } from './dead-letter-queue';
import { berthEnvironment, validEventSource } from './environment';

export interface TaskStreamProcessorProps {
  /** The Berth table; its stream (NEW_AND_OLD_IMAGES) feeds the function. */
  readonly table: dynamodb.ITable;
  /** The bus the ECS events go to (events:PutEvents on it, and nothing else). */
  readonly eventBus: events.IEventBus;
  /** `source` of the events. @default 'berth.ecs' */
  readonly eventSource?: string;
  /** Handler file relative to the repository root. @default 'lambdas/task-stream.ts' */
  readonly entry?: string;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers records before invoking the function (whole seconds, 0..300): a batch
   * goes when it has batchSize records, the window has passed, or it reaches 6 MB. With 0, each poll
   * of the shard (about four a second) invokes with what it found, so records trickling in one at a
   * time cost an invocation (and a PutEvents call) each. A window of W seconds makes that at most
   * one invocation per shard per W seconds, and delays every stream step by up to W: RunTask ->
   * RUNNING crosses two stream steps (up to 2W more), and each ECS event leaves up to W later
   * (docs/cost.md, "Steady volume: provisioned capacity and a batching window").
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Retries of a failing batch before its records go to the StreamFailures queue (bisection
   * splits it first, so one poison record does not hold back its neighbours). @default 10
   */
  readonly retryAttempts?: number;
  /** Records older than this are not retried but sent to StreamFailures. @default Duration.days(1) (the stream's retention) */
  readonly maxRecordAge?: Duration;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 512 (MB) */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The task stream processor: the table's stream is Berth's outbox and the task engine's clock. For
 * every committed change the function (lambdas/task-stream.ts) publishes the ECS event it means to
 * the bus and takes the task's next lifecycle step.
 *
 * - One batch per shard at a time (parallelization factor 1): a task's changes stay in order.
 * - The handler reports the first record that failed (ReportBatchItemFailures), so a retry resumes
 *   at that record; a batch that errors as a whole is bisected.
 * - A record still failing after `retryAttempts`, or older than `maxRecordAge`, is skipped and its
 *   position in the stream (shard and sequence numbers, not the record) goes to `streamFailures`.
 * - Events PutEvents could not deliver after the publisher's own retries go, whole, to
 *   `eventsDeadLetter` (BERTH_EVENTS_DLQ_URL), so one unpublishable event does not stall the shard.
 */
export class TaskStreamProcessor extends Construct {
  readonly handler: BerthFunction;
  /** Where the event source mapping records the stream positions it gave up on. */
  readonly streamFailures: sqs.Queue;
  /** Where events that PutEvents did not accept land, as Berth's event JSON. */
  readonly eventsDeadLetter: sqs.Queue;
  readonly eventSourceMapping: DynamoEventSource;

  constructor(scope: Construct, id: string, props: TaskStreamProcessorProps) {
    super(scope, id);
    const eventSource = validEventSource('TaskStreamProcessor', props.eventSource);
    const maxBatchingWindow = validBatchingWindow(props.maxBatchingWindow);
    if (!props.table.tableStreamArn) {
      throw new Error('TaskStreamProcessor: the table has no stream (it needs StreamViewType.NEW_AND_OLD_IMAGES)');
    }

    this.streamFailures = new DeadLetterQueue(this, 'StreamFailures', {
      purpose: 'positions of stream records the task stream processor gave up on',
    }).queue;
    this.eventsDeadLetter = new DeadLetterQueue(this, 'EventsDeadLetter', {
      purpose: 'ECS events EventBridge PutEvents did not accept',
    }).queue;

    this.handler = new BerthFunction(this, 'Handler', {
      entry: props.entry ?? 'lambdas/task-stream.ts',
      description: 'Berth: the table stream -> ECS events on EventBridge and the next task lifecycle step',
      memorySize: props.memorySize,
      timeout: props.timeout ?? Duration.minutes(1),
      logRetention: props.logRetention,
      environment: {
        ...berthEnvironment(this, props.table),
        BERTH_EVENT_BUS_NAME: props.eventBus.eventBusName,
        BERTH_EVENT_SOURCE: eventSource,
        BERTH_EVENTS_DLQ_URL: this.eventsDeadLetter.queueUrl,
      },
    });
    const fn = this.handler.function;
    grantTableReadWrite(fn, props.table);
    props.eventBus.grantPutEventsTo(fn);
    // SendMessageBatch authorizes as sqs:SendMessage; nothing else is needed (SSE-SQS, URL known).
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['sqs:SendMessage'], resourceArns: [this.eventsDeadLetter.queueArn] });

    // Grants the stream read actions, and sqs:SendMessage on StreamFailures to the function's role
    // (the event source mapping sends failure records with it).
    this.eventSourceMapping = new DynamoEventSource(props.table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 100,
      // Left out at 0 (the event source mapping's default), so the default template does not change.
      ...(maxBatchingWindow ? { maxBatchingWindow } : {}),
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 10,
      maxRecordAge: props.maxRecordAge ?? Duration.days(1),
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      onFailure: new SqsDlq(this.streamFailures),
    });
    fn.addEventSource(this.eventSourceMapping);

    Validations.of(this.handler.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which the DynamoDB event source grants on "*" (as the AWS-managed ' +
        'AWSLambdaDynamoDBExecutionRole does), only lists stream ARNs, no data; reading records ' +
        '(DescribeStream, GetRecords, GetShardIterator) is granted on this table\'s stream alone. And ' +
        'xray:PutTraceSegments/PutTelemetryRecords (active tracing), which have no resource-level permissions.',
    });
  }
}

/** The window, if one is set (undefined for 0), or an error naming what is wrong. */
function validBatchingWindow(window: Duration | undefined): Duration | undefined {
  if (window === undefined) return undefined;
  const seconds = window.toMilliseconds() / 1000;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 300) {
    throw new Error(`TaskStreamProcessor: maxBatchingWindow must be whole seconds from 0 to 300, got ${window.toHumanString()}`);
  }
  return seconds === 0 ? undefined : Duration.seconds(seconds);
}

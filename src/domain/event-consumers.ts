/**
 * A consumer of Berth's events, described once for both places it runs: `{ name, eventPattern,
 * target(s) }`. In AWS the BerthControlPlane construct makes it an EventBridge rule on Berth's bus
 * with one target per AWS target (an SQS queue, a Lambda function, another event bus, a Step
 * Functions state machine, an API destination); locally `npm start` reads the same description from
 * `.berth/rules.json` and serves the targets it can run on this machine (an HTTP endpoint, a command).
 * Each side skips the other's targets, so a consumer may carry both: its AWS target and a local
 * stand-in.
 */
import { SERVICE_ACTION, DEPLOYMENT_STATE_CHANGE } from './service-events';
import { DEFAULT_EVENT_SOURCE, TASK_STATE_CHANGE } from './task-events';
import type { EventPattern } from './event-pattern';
import type { StopCode } from './task-lifecycle';

/** A target only EventBridge can serve, named by its ARN. */
export interface AwsConsumerTarget {
  readonly type: AwsTargetType;
  readonly arn: string;
}

/** Local mode: the event JSON is POSTed to the URL (http: or https:). */
export interface HttpConsumerTarget {
  readonly type: 'http';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Local mode: argv, run without a shell; the event JSON arrives on stdin. */
export interface CommandConsumerTarget {
  readonly type: 'command';
  readonly command: readonly string[];
}

export type LocalConsumerTarget = HttpConsumerTarget | CommandConsumerTarget;
export type ConsumerTarget = AwsConsumerTarget | LocalConsumerTarget;

/** The AWS target types and the ARN each must have (partition, region and account left open). */
export const AWS_TARGET_ARNS = {
  sqs: /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?$/,
  lambda: /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/,
  eventBus: /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[\w.\-/]+$/,
  stateMachine: /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]+$/,
  apiDestination: /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:api-destination\/[\w.-]+(\/[\w-]+)?$/,
} as const;
export type AwsTargetType = keyof typeof AWS_TARGET_ARNS;
export const AWS_TARGET_TYPES = Object.keys(AWS_TARGET_ARNS) as AwsTargetType[];
export const LOCAL_TARGET_TYPES = ['http', 'command'] as const;

export const isAwsTarget = (target: ConsumerTarget): target is AwsConsumerTarget =>
  (AWS_TARGET_TYPES as string[]).includes(target.type);
export const isLocalTarget = (target: ConsumerTarget): target is LocalConsumerTarget => !isAwsTarget(target);

/** A consumer's name: an EventBridge rule name's characters, 1-64 of them. */
export const CONSUMER_NAME = /^[\w.-]{1,64}$/;

export interface PatternOptions {
  /** `source` of Berth's events. @default 'berth.ecs' */
  readonly source?: string;
  /** Only these clusters' events. @default - every cluster */
  readonly clusterArns?: readonly string[];
}

function envelope(detailType: string, options: PatternOptions, detail: Record<string, unknown>): EventPattern {
  return {
    source: [options.source ?? DEFAULT_EVENT_SOURCE],
    'detail-type': [detailType],
    detail: { ...(options.clusterArns ? { clusterArn: [...options.clusterArns] } : {}), ...detail },
  };
}

/**
 * Ready event patterns for the common ECS cases, in EventBridge's JSON form (`detail-type`), for a
 * consumer's `eventPattern` in CDK or in rules.json (docs/events.md shows each event's shape).
 */
export const BerthEventPatterns = {
  /** Tasks that reached STOPPED, optionally only with these stop codes (e.g. ['EssentialContainerExited', 'TaskFailedToStart']). */
  stoppedTasks(stopCodes?: readonly StopCode[], options: PatternOptions = {}): EventPattern {
    return envelope(TASK_STATE_CHANGE, options, {
      lastStatus: ['STOPPED'],
      ...(stopCodes?.length ? { stopCode: [...stopCodes] } : {}),
    });
  },
  /**
   * Spot interruptions: every change of a FARGATE_SPOT task told to stop by its two-minute warning
   * (stopCode SpotInterruption, from the warning to STOPPED), as AWS's own Fargate Spot example rule.
   */
  spotInterruptions(options: PatternOptions = {}): EventPattern {
    return envelope(TASK_STATE_CHANGE, options, { stopCode: ['SpotInterruption'] });
  },
  /** Service deployments that failed (the circuit breaker tripped, or StopServiceDeployment stopped one). */
  deploymentFailures(options: PatternOptions = {}): EventPattern {
    return envelope(DEPLOYMENT_STATE_CHANGE, options, { eventName: ['SERVICE_DEPLOYMENT_FAILED'] });
  },
  /** A service task that gave up waiting for a host (SERVICE_TASK_PLACEMENT_FAILURE). */
  servicePlacementFailures(options: PatternOptions = {}): EventPattern {
    return envelope(SERVICE_ACTION, options, { eventName: ['SERVICE_TASK_PLACEMENT_FAILURE'] });
  },
} as const;

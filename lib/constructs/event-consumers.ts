import { Duration, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  AWS_TARGET_ARNS,
  CONSUMER_NAME,
  isAwsTarget,
  type AwsConsumerTarget,
  type ConsumerTarget,
} from '../../src/domain/event-consumers';
import { InvalidEventPatternError, validateEventPattern, type EventPattern } from '../../src/domain/event-pattern';
import { DeadLetterQueue } from './dead-letter-queue';

/**
 * Where a consumer's events go: a description (`{ type: 'sqs', arn }`, as in the local rules.json;
 * `http` and `command` targets are local mode's and skipped here), or the CDK resource itself (an
 * SQS queue, a Lambda function, an event bus, a state machine, an API destination), which also gets
 * the resource policy EventBridge needs when it belongs to the app.
 */
export type BerthConsumerTarget =
  | ConsumerTarget
  | sqs.IQueue
  | lambda.IFunction
  | events.IEventBus
  | sfn.IStateMachine
  | events.IApiDestination;

/** One consumer of Berth's events: a rule on Berth's bus. rules.json takes the same description. */
export interface BerthConsumer {
  /** Letters, digits, `.`, `-`, `_` (1-64); the rule's construct id, so renaming one replaces its rule. */
  readonly name: string;
  /** @default - 'Berth consumer <name>' */
  readonly description?: string;
  /**
   * An EventBridge event pattern in its JSON form (`detail-type`), e.g. from BerthEventPatterns.
   * Checked at synth with the matcher local mode uses.
   */
  readonly eventPattern: EventPattern;
  /** The target (or use `targets`). */
  readonly target?: BerthConsumerTarget;
  /** Several targets, each with its own retry policy and dead-letter queue. */
  readonly targets?: readonly BerthConsumerTarget[];
  /** EventBridge's retries of a failed delivery (0-185; not for event bus targets). @default 185 */
  readonly retryAttempts?: number;
  /** How long EventBridge keeps retrying (1 minute to 24 hours; not for event bus targets). @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
}

export interface EventConsumersProps {
  readonly eventBus: events.IEventBus;
  readonly consumers: readonly BerthConsumer[];
}

/** A consumer's rule and the dead-letter queue of each of its targets, in target order. */
export interface BerthConsumerRule {
  readonly rule: events.Rule;
  readonly deadLetterQueues: sqs.Queue[];
}

/**
 * The consumers' rules on Berth's bus: one rule per consumer, one EventBridge target per AWS target,
 * each with the consumer's retry policy and a dead-letter queue of its own (SSE-SQS, TLS only, 14
 * days; EventBridge may send to it from that rule only), so one failing target does not hide another's.
 */
export class EventConsumers extends Construct {
  readonly rules: ReadonlyMap<string, BerthConsumerRule>;

  constructor(scope: Construct, id: string, props: EventConsumersProps) {
    super(scope, id);
    const rules = new Map<string, BerthConsumerRule>();
    for (const consumer of props.consumers) {
      if (!CONSUMER_NAME.test(consumer.name)) {
        throw new Error(`BerthControlPlane: consumer name must be 1-64 of [A-Za-z0-9._-], got '${consumer.name}'`);
      }
      if (rules.has(consumer.name)) throw new Error(`BerthControlPlane: two consumers are named '${consumer.name}'`);
      rules.set(consumer.name, this.addConsumer(props.eventBus, consumer));
    }
    this.rules = rules;
  }

  private addConsumer(eventBus: events.IEventBus, consumer: BerthConsumer): BerthConsumerRule {
    const fail = (message: string): never => {
      throw new Error(`BerthControlPlane: consumer '${consumer.name}': ${message}`);
    };
    try {
      validateEventPattern(consumer.eventPattern);
    } catch (error) {
      if (error instanceof InvalidEventPatternError) fail(error.message);
      throw error;
    }
    if (consumer.target !== undefined && consumer.targets !== undefined) fail('give target or targets, not both');
    const all = consumer.target !== undefined ? [consumer.target] : (consumer.targets ?? []);
    // Local mode's targets (http, command) are skipped here, as the AWS ones are locally.
    const deployed = all.filter((t) => !isDescription(t) || isAwsTarget(t));
    if (deployed.length === 0) fail('needs at least one AWS target (sqs, lambda, eventBus, stateMachine, apiDestination)');
    if (deployed.length > 5) fail(`EventBridge allows 5 targets per rule, got ${deployed.length}`);
    const retryAttempts = consumer.retryAttempts ?? 185;
    const maxEventAge = consumer.maxEventAge ?? Duration.hours(24);
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) fail(`retryAttempts must be 0-185, got ${retryAttempts}`);
    if (maxEventAge.toSeconds() < 60 || maxEventAge.toSeconds() > 86_400) fail(`maxEventAge must be 1 minute to 24 hours, got ${maxEventAge.toHumanString()}`);

    const scope = new Construct(this, consumer.name);
    const rule = new events.Rule(scope, 'Rule', {
      eventBus,
      description: consumer.description ?? `Berth consumer ${consumer.name}`,
      eventPattern: toCdkPattern(consumer.eventPattern),
    });
    const deadLetterQueues = deployed.map((target, index) => {
      const deadLetterQueue = new DeadLetterQueue(scope, `DeadLetter${index}`, {
        purpose: `events EventBridge could not deliver to target ${index} of consumer ${consumer.name}`,
      }).queue;
      rule.addTarget(this.ruleTarget(scope, index, target, { deadLetterQueue, retryAttempts, maxEventAge }, fail));
      return deadLetterQueue;
    });
    return { rule, deadLetterQueues };
  }

  private ruleTarget(
    scope: Construct,
    index: number,
    target: BerthConsumerTarget,
    delivery: { deadLetterQueue: sqs.IQueue; retryAttempts: number; maxEventAge: Duration },
    fail: (message: string) => never,
  ): events.IRuleTarget {
    if (isDescription(target) && target.type === 'apiDestination') {
      checkArn(target as AwsConsumerTarget, fail);
      return new ApiDestinationArnTarget(new Construct(scope, `Target${index}`), target.arn, delivery);
    }
    const resource = isDescription(target) ? imported(scope, `Target${index}`, target as AwsConsumerTarget, fail) : target;
    if ('queueArn' in resource) return new targets.SqsQueue(resource, delivery);
    if ('functionArn' in resource) return new targets.LambdaFunction(resource, delivery);
    if ('stateMachineArn' in resource) return new targets.SfnStateMachine(resource, delivery);
    // EventBridge has no retry policy for a bus target; its dead-letter queue still applies.
    if ('eventBusArn' in resource) return new targets.EventBus(resource, { deadLetterQueue: delivery.deadLetterQueue });
    return new targets.ApiDestination(resource, delivery);
  }
}

function isDescription(target: BerthConsumerTarget): target is ConsumerTarget {
  return !Construct.isConstruct(target) && typeof (target as { type?: unknown }).type === 'string';
}

/** The CDK resource an ARN description names (tokens are taken as they are). */
function imported(
  scope: Construct,
  id: string,
  target: AwsConsumerTarget,
  fail: (message: string) => never,
): sqs.IQueue | lambda.IFunction | events.IEventBus | sfn.IStateMachine {
  checkArn(target, fail);
  switch (target.type) {
    case 'sqs':
      return sqs.Queue.fromQueueArn(scope, id, target.arn);
    case 'lambda':
      return lambda.Function.fromFunctionArn(scope, id, target.arn);
    case 'eventBus':
      return events.EventBus.fromEventBusArn(scope, id, target.arn);
    case 'stateMachine':
      return sfn.StateMachine.fromStateMachineArn(scope, id, target.arn);
    case 'apiDestination':
      return fail('an API destination by ARN has its own target');
  }
}

function checkArn(target: AwsConsumerTarget, fail: (message: string) => never): void {
  if (!Token.isUnresolved(target.arn) && !AWS_TARGET_ARNS[target.type].test(target.arn)) {
    fail(`'${target.arn}' is not the ARN of a ${target.type} target`);
  }
}

/**
 * An existing API destination named by ARN. (targets.ApiDestination wants an IApiDestination, whose
 * import also wants the destination's connection, which delivery never uses: EventBridge only needs
 * a role allowed events:InvokeApiDestination on the destination.)
 */
class ApiDestinationArnTarget implements events.IRuleTarget {
  constructor(
    private readonly scope: Construct,
    private readonly arn: string,
    private readonly props: targets.TargetBaseProps,
  ) {}

  bind(rule: events.IRule): events.RuleTargetConfig {
    const role = targets.singletonEventRole(this.scope);
    iam.Grant.addToPrincipal({ grantee: role, actions: ['events:InvokeApiDestination'], resourceArns: [this.arn] });
    if (this.props.deadLetterQueue) targets.addToDeadLetterQueueResourcePolicy(rule, this.props.deadLetterQueue);
    return { ...targets.bindBaseTargetConfig(this.props), arn: this.arn, role };
  }
}

/** EventBridge's JSON pattern keys -> CDK's EventPattern (which writes them back as JSON). */
function toCdkPattern(pattern: EventPattern): events.EventPattern {
  const { 'detail-type': detailType, ...rest } = pattern as Record<string, unknown>;
  return { ...rest, ...(detailType !== undefined ? { detailType } : {}) } as events.EventPattern;
}

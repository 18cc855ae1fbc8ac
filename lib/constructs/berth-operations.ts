import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BERTH_METRICS, METRICS_NAMESPACE } from '../../src/adapters/observability';
import type { BerthFunction } from './berth-function';

export interface BerthOperationsProps {
  /** Where alarms notify (alarm and OK). @default - alarms without actions (the console and the dashboard show them) */
  readonly alarmTopic?: sns.ITopic;
  /** @default - CloudFormation generates one */
  readonly dashboardName?: string;
  readonly api: apigateway.RestApi | apigwv2.HttpApi;
  /** The task stream processor's function: its iterator age is the stream's backlog. */
  readonly streamFunction: BerthFunction;
  /** Iterator age above which the stream alarm fires. @default Duration.minutes(1) */
  readonly maxIteratorAge?: Duration;
  readonly stateMachine: sfn.StateMachine;
}

/**
 * Alarms and a dashboard: per function, errors and throttles; per dead-letter queue, any message
 * (an empty queue is the normal state); the stream processor's iterator age; failed, timed-out or
 * aborted service loop executions. Functions and queues are added by name (`watchFunction`,
 * `watchQueue`), so parts added later (another function, a consumer's queue) get the same alarms.
 */
export class BerthOperations extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly queueMetrics: cloudwatch.IMetric[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: BerthOperationsProps,
  ) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });

    const fn = props.streamFunction.function;
    this.alarm('TaskStreamIteratorAge', {
      metric: fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: (props.maxIteratorAge ?? Duration.minutes(1)).toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      description: 'Berth: the task stream processor is falling behind, or retrying a bad record (docs/deploy.md, "The task stream processor")',
    });
    const machine = props.stateMachine;
    const loopFailures = new cloudwatch.MathExpression({
      expression: 'failed + timedOut + aborted',
      usingMetrics: { failed: machine.metricFailed(), timedOut: machine.metricTimedOut(), aborted: machine.metricAborted() },
      period: Duration.minutes(5),
      label: 'service loop executions failed, timed out or aborted',
    });
    this.alarm('ServiceLoopFailures', {
      metric: loopFailures,
      threshold: 1,
      description: 'Berth: a service loop execution ended abnormally; its service is not reconciled until the stream wakes it again',
    });
    this.render();
  }

  /** Alarms on the function's errors and throttles, and its row on the dashboard. */
  watchFunction(name: string, berthFunction: BerthFunction): void {
    const fn = berthFunction.function;
    const errors = fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' });
    const throttles = fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' });
    this.alarm(`${name}Errors`, { metric: errors, threshold: 1, description: `Berth: the ${name} function failed (its log group has the error)` });
    this.alarm(`${name}Throttles`, { metric: throttles, threshold: 1, description: `Berth: the ${name} function was throttled (account or reserved concurrency)` });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${name}: invocations, errors, throttles`,
        left: [fn.metricInvocations({ period: Duration.minutes(5) }), errors, throttles],
        right: [fn.metricDuration({ period: Duration.minutes(5), statistic: 'p99' })],
        width: 12,
      }),
    );
  }

  /** Alarms when the dead-letter queue holds any message. */
  watchQueue(name: string, queue: sqs.IQueue): void {
    const depth = queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' });
    this.alarm(`${name}Depth`, {
      metric: depth,
      threshold: 1,
      description: `Berth: ${name} holds messages Berth gave up on: inspect and redrive them (docs/deploy.md)`,
    });
    this.queueMetrics.push(depth.with({ label: name }));
  }

  /**
   * The dashboard's top rows. The queue graph and the alarm status widget hold this construct's
   * arrays, which the dashboard's body (rendered at synth) reads, so later watches show up there.
   */
  private render(): void {
    const { api, streamFunction, stateMachine } = this.props;
    const berth = (metric: string, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: metric, statistic, period: Duration.minutes(5), label });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Tasks launched, placement failures',
        left: [berth(BERTH_METRICS.tasksLaunched, 'Sum', 'tasks launched'), berth(BERTH_METRICS.placementFailures, 'Sum', 'placement failures')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Events published and failed',
        left: [berth(BERTH_METRICS.eventsPublished, 'Sum', 'published'), berth(BERTH_METRICS.eventsFailed, 'Sum', 'failed')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Stream lag and iterator age (ms)',
        left: [
          berth(BERTH_METRICS.streamLag, 'Maximum', 'stream lag (max)'),
          streamFunction.function.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), label: 'iterator age (max)' }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'ECS API: requests, 4XX, 5XX',
        left: [api.metricCount({ period: Duration.minutes(5) }), api.metricClientError({ period: Duration.minutes(5) }), api.metricServerError({ period: Duration.minutes(5) })],
        right: [api.metricLatency({ period: Duration.minutes(5), statistic: 'p99' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Service loops: started, failed, timed out, aborted',
        left: [stateMachine.metricStarted(), stateMachine.metricFailed(), stateMachine.metricTimedOut(), stateMachine.metricAborted()],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Dead-letter queues (messages)', left: this.queueMetrics, width: 8 }),
    );
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }

  private alarm(id: string, options: { metric: cloudwatch.IMetric; threshold: number; description: string; evaluationPeriods?: number; datapointsToAlarm?: number }): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data is the normal state of errors, throttles and queues (nothing happened).
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    if (this.props.alarmTopic) {
      alarm.addAlarmAction(new actions.SnsAction(this.props.alarmTopic));
      alarm.addOkAction(new actions.SnsAction(this.props.alarmTopic));
    }
    this.alarms.push(alarm);
  }
}

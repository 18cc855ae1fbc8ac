import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TASK_STATE_CHANGE } from '../../src/domain/task-events';
import { validEventSource } from './environment';

/** The stop codes of tasks that failed rather than were stopped (by a user, a service or scale-in). */
export const FAILURE_STOP_CODES = ['EssentialContainerExited', 'TaskFailedToStart'] as const;

export interface StoppedTaskFailureLogProps {
  /** The bus Berth's events go to. */
  readonly eventBus: events.IEventBus;
  /** `source` of Berth's events. @default 'berth.ecs' */
  readonly eventSource?: string;
  /** @default '/berth/stopped-task-failures' */
  readonly logGroupName?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly retention?: logs.RetentionDays;
}

/**
 * A worked example of consuming Berth's events: a rule on the Berth bus that sends every
 * "ECS Task State Change" of a task that STOPPED because it failed (an essential container exited,
 * or the task failed to start) to a log group, where Logs Insights can query them.
 *
 * The log group's resource policy, which lets EventBridge write to it, is a native
 * AWS::Logs::ResourcePolicy. (aws-events-targets' CloudWatchLogGroup target would set it through a
 * custom-resource Lambda that installs the latest AWS SDK from npm at deploy time.)
 */
export class StoppedTaskFailureLog extends Construct {
  readonly rule: events.Rule;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: StoppedTaskFailureLogProps) {
    super(scope, id);
    const logGroupName = props.logGroupName ?? '/berth/stopped-task-failures';
    if (!/^[.\-_/#A-Za-z0-9]{1,512}$/.test(logGroupName)) {
      throw new Error(`StoppedTaskFailureLog: logGroupName must be 1-512 characters of [.-_/#A-Za-z0-9], got '${logGroupName}'`);
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName,
      retention: props.retention ?? logs.RetentionDays.ONE_MONTH,
      // Named: a retained group would make the next deploy of the stack fail on the name.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const policy = this.logGroup.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgeDelivers',
        principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.rule = new events.Rule(this, 'Rule', {
      eventBus: props.eventBus,
      description: 'Berth: tasks that stopped because they failed -> a log group',
      eventPattern: {
        source: [validEventSource('StoppedTaskFailureLog', props.eventSource)],
        detailType: [TASK_STATE_CHANGE],
        detail: { lastStatus: ['STOPPED'], stopCode: [...FAILURE_STOP_CODES] },
      },
      targets: [new LogGroupTarget(this.logGroup)],
    });
    // Deliveries need the resource policy: create it first.
    if (policy.policyDependable) this.rule.node.addDependency(policy.policyDependable);
  }
}

/** A rule target that writes the whole event to a log group whose resource policy admits EventBridge. */
class LogGroupTarget implements events.IRuleTarget {
  constructor(private readonly logGroup: logs.LogGroup) {}

  bind(): events.RuleTargetConfig {
    return {
      // The log group's ARN without the trailing ':*' (with it, the target deploys but never delivers).
      arn: Stack.of(this.logGroup).formatArn({
        service: 'logs',
        resource: 'log-group',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        resourceName: this.logGroup.logGroupName,
      }),
      targetResource: this.logGroup,
    };
  }
}

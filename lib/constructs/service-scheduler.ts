import { Aws, Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BerthFunction } from './berth-function';
import { grantTableReadWrite } from './berth-table';
import { berthEnvironment } from './environment';
import { SERVICE_LOOP_STATES } from '../../src/app/service-loop-steps';

/** Passes one execution makes before it hands over to the next generation (bounds its history). */
export const DEFAULT_LOOPS_PER_EXECUTION = 500;

export { SERVICE_LOOP_STATES };

/** Environment variable naming the state machine, for the functions that start and wake executions. */
export const SERVICE_LOOP_ENV = 'BERTH_SERVICE_LOOP_STATE_MACHINE_ARN';

export interface ServiceSchedulerProps {
  /** The Berth table (the service, its tasks, the loop's own item). */
  readonly table: dynamodb.ITable;
  /**
   * Passes per execution before it starts its successor and ends: bounds the execution's history
   * (Step Functions stops an execution at 25,000 events; a pass and a wait write about 13, each
   * retried call 3 more). @default 500
   */
  readonly loopsPerExecution?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The service scheduler: one Standard execution per service (input {serviceArn, loopName,
 * generation, loops}), named `<loopName>-g<generation>`:
 *
 *   Reconcile ─▶ Continue? ─ gone/superseded ─▶ Done
 *      ▲  ▲          ├─ loops >= N ─▶ HandOver (StartExecution of itself, generation + 1) ─▶ Done
 *      │  │          └─▶ Park (.waitForTaskToken, timeout = the plan's next look)
 *      │  └──────────────────┘ woken (SendTaskSuccess), timed out, or refused to wait
 *      └─ RetryLater (60 s) ◀─ Reconcile failed after its retries
 *
 * Reconcile (lambdas/service-reconcile.ts) adopts the loop for its generation and runs one scheduler
 * pass; Park (lambdas/service-loop-park.ts) stores the task token on the loop's item unless a wake-up
 * came since the pass began. Whoever wakes the service (the stream processor, via `grantWake`) takes
 * the token off the item and calls SendTaskSuccess (src/adapters/stepfunctions/service-loop.ts).
 */
export class ServiceScheduler extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly reconcile: BerthFunction;
  readonly park: BerthFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceSchedulerProps) {
    super(scope, id);
    const loops = props.loopsPerExecution ?? DEFAULT_LOOPS_PER_EXECUTION;
    if (!Number.isInteger(loops) || loops < 1 || loops > 1500) {
      throw new Error(`ServiceScheduler: loopsPerExecution must be an integer in 1..1500 (the history limit), got ${loops}`);
    }

    this.reconcile = new BerthFunction(this, 'ReconcileFunction', {
      entry: 'lambdas/service-reconcile.ts',
      description: 'Berth: one scheduler pass of a service (a step of its service loop execution)',
      timeout: Duration.minutes(2),
      logRetention: props.logRetention,
      environment: berthEnvironment(this, props.table),
    });
    grantTableReadWrite(this.reconcile.function, props.table);

    this.park = new BerthFunction(this, 'ParkFunction', {
      entry: 'lambdas/service-loop-park.ts',
      description: "Berth: stores a service loop's task token while it waits to be woken",
      memorySize: 256,
      timeout: Duration.seconds(10),
      logRetention: props.logRetention,
      environment: { BERTH_TABLE_NAME: props.table.tableName },
    });
    iam.Grant.addToPrincipal({ grantee: this.park.function, actions: ['dynamodb:UpdateItem'], resourceArns: [props.table.tableArn] });

    const definition = serviceLoopDefinition(this, { reconcile: this.reconcile.function, park: this.park.function, loops });

    this.logGroup = new logs.LogGroup(this, 'Executions', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'Berth: one execution per service: reconcile, wait until woken or the next look, loop',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // Execution data (service state) stays out of the logs; transitions and errors are logged.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    const role = this.stateMachine.role;
    // The Task states are raw ASL (below), so the role gets exactly these grants and no `:*` versions.
    for (const fn of [this.reconcile.function, this.park.function]) {
      iam.Grant.addToPrincipal({ grantee: role, actions: ['lambda:InvokeFunction'], resourceArns: [fn.functionArn] });
    }
    // HandOver starts an execution of this state machine. In a policy of its own: the state machine
    // must not depend on a policy that names it (a cycle); it is in place long before the first hand-over.
    new iam.Policy(this, 'HandOverPolicy', {
      roles: [role],
      statements: [new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] })],
    });

    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions needs the CloudWatch Logs delivery actions (logs:CreateLogDelivery and the like) ' +
        'and X-Ray PutTraceSegments on "*": those APIs have no resource-level permissions.',
    });
  }

  /**
   * Lets `fn` start and wake service loops: the state machine's ARN in its environment,
   * states:StartExecution and states:SendTaskSuccess on it (a task token belongs to its state
   * machine). `fn` must already read and write the table's items (the loop's item).
   */
  grantWake(fn: lambda.Function): void {
    fn.addEnvironment(SERVICE_LOOP_ENV, this.stateMachine.stateMachineArn);
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['states:StartExecution', 'states:SendTaskSuccess'],
      resourceArns: [this.stateMachine.stateMachineArn],
    });
  }
}

interface DefinitionParts {
  readonly reconcile: lambda.IFunction;
  readonly park: lambda.IFunction;
  readonly loops: number;
}

/**
 * The loop's states, in raw ASL where CDK's task constructs would add what is not wanted (the
 * `lambda:invoke` wrapper's payload envelope on Reconcile, `:*` version grants).
 */
function serviceLoopDefinition(scope: Construct, parts: DefinitionParts): sfn.IChainable {
  const S = SERVICE_LOOP_STATES;
  const done = new sfn.Succeed(scope, S.done);
  const reconcile = new sfn.CustomState(scope, S.reconcile, {
    stateJson: {
      Type: 'Task',
      Comment: 'Adopt the loop for this generation, then one scheduler pass; output: the state plus status and waitSeconds',
      Resource: parts.reconcile.functionArn,
      TimeoutSeconds: 120,
    },
  });
  reconcile.addRetry({
    errors: ['States.ALL'],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxAttempts: 5,
  });
  const retryLater = new sfn.Wait(scope, S.retryLater, {
    comment: 'A pass failing after its retries: look again in a minute rather than end the loop',
    time: sfn.WaitTime.duration(Duration.minutes(1)),
  });
  reconcile.addCatch(retryLater.next(reconcile), { errors: ['States.ALL'], resultPath: sfn.JsonPath.DISCARD });

  const park = new sfn.CustomState(scope, S.park, {
    stateJson: {
      Type: 'Task',
      Comment: 'Wait until woken (SendTaskSuccess) or until the plan\'s next look (States.Timeout)',
      Resource: `arn:${Aws.PARTITION}:states:::lambda:invoke.waitForTaskToken`,
      Parameters: {
        FunctionName: parts.park.functionArn,
        Payload: {
          'token.$': '$$.Task.Token',
          'serviceArn.$': '$.Payload.serviceArn',
          'generation.$': '$.Payload.generation',
          'waitSeconds.$': '$.Payload.waitSeconds',
        },
      },
      // Reconcile's output carries `Payload` so this path resolves alike in the state's input and in
      // its effective input after Parameters (aws-local-stepfunctions reads it from the latter).
      TimeoutSecondsPath: '$.Payload.waitSeconds',
      ResultPath: null,
    },
  });
  // Woken, timed out, refused to wait (woken meanwhile, or superseded): reconcile now, same state.
  park.addCatch(reconcile, { errors: ['States.ALL'], resultPath: sfn.JsonPath.DISCARD });

  const handOver = new sfn.CustomState(scope, S.handOver, {
    stateJson: {
      Type: 'Task',
      Comment: 'Bounded history: start this state machine for the same service, next generation, and end',
      Resource: `arn:${Aws.PARTITION}:states:::states:startExecution`,
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': "States.Format('{}-g{}', $.loopName, States.MathAdd($.generation, 1))",
        Input: {
          'serviceArn.$': '$.serviceArn',
          'loopName.$': '$.loopName',
          'generation.$': 'States.MathAdd($.generation, 1)',
          loops: 0,
        },
      },
      ResultPath: null,
    },
  });
  // Started already (a restart got there first): it acts. Anything else: wait, and try again after the next pass.
  handOver.addCatch(done, { errors: ['StepFunctions.ExecutionAlreadyExistsException'], resultPath: sfn.JsonPath.DISCARD });
  handOver.addCatch(park, { errors: ['States.ALL'], resultPath: sfn.JsonPath.DISCARD });

  const next = new sfn.Choice(scope, S.next)
    .when(sfn.Condition.or(sfn.Condition.stringEquals('$.status', 'gone'), sfn.Condition.stringEquals('$.status', 'superseded')), done)
    .when(sfn.Condition.numberGreaterThanEquals('$.loops', parts.loops), handOver.next(done))
    .otherwise(park.next(reconcile));
  return reconcile.next(next);
}

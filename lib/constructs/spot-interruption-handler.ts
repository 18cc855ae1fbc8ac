import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BerthFunction } from './berth-function';
import { grantTableReadWrite } from './berth-table';
import { berthEnvironment } from './environment';

/** The EC2 event that gives a Spot Instance's two-minute warning. */
export const SPOT_INTERRUPTION_DETAIL_TYPE = 'EC2 Spot Instance Interruption Warning';

export interface SpotInterruptionHandlerProps {
  /** The Berth table (item read/write, Query on the listing index). */
  readonly table: dynamodb.ITable;
  /** Handler file relative to the repository root. @default 'lambdas/spot-interruption.ts' */
  readonly entry?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * EC2 Spot interruption warnings (on the account's default bus, where EC2 sends them) -> the
 * FARGATE_SPOT capacity Berth agents offer on that instance is reclaimed and its tasks get their
 * two-minute warning (lambdas/spot-interruption.ts).
 */
export class SpotInterruptionHandler extends Construct {
  readonly handler: BerthFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SpotInterruptionHandlerProps) {
    super(scope, id);
    this.handler = new BerthFunction(this, 'Handler', {
      entry: props.entry ?? 'lambdas/spot-interruption.ts',
      description: 'Berth: EC2 Spot interruption warning -> reclaim FARGATE_SPOT capacity on that instance',
      logRetention: props.logRetention,
      environment: berthEnvironment(this, props.table),
    });
    grantTableReadWrite(this.handler.function, props.table);

    // No eventBus: the rule is on the default bus.
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Berth: EC2 Spot Instance Interruption Warnings',
      eventPattern: { source: ['aws.ec2'], detailType: [SPOT_INTERRUPTION_DETAIL_TYPE] },
      // The warning comes two minutes ahead; retry briefly, do not act on it long after.
      targets: [
        new targets.LambdaFunction(this.handler.function, { retryAttempts: 3, maxEventAge: Duration.minutes(5) }),
      ],
    });
  }
}

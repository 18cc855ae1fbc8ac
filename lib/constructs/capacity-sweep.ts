import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BerthFunction } from './berth-function';
import { grantTableReadWrite } from './berth-table';
import { berthEnvironment } from './environment';

export interface CapacitySweepProps {
  /** The Berth table (item read/write, Query on the listing index). */
  readonly table: dynamodb.ITable;
  /** Handler file relative to the repository root. @default 'lambdas/capacity-sweep.ts' */
  readonly entry?: string;
  /** How often the sweep runs. @default Duration.minutes(1) */
  readonly every?: Duration;
  /**
   * How long a task may wait for capacity before the sweep stops it with TaskFailedToStart (rounded to
   * whole seconds; the sweep runs every `every`, so a wait ends up to that much later).
   * @default Duration.minutes(5)
   */
  readonly capacityWait?: Duration;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The capacity sweep (lambdas/capacity-sweep.ts): on a schedule, marks container instances whose
 * agent fell silent `agentConnected: false`, places tasks still waiting for capacity, and stops those
 * that waited past `capacityWait` (TaskFailedToStart, naming the missing resource). The stream
 * triggers placement as capacity frees up; this is the safety net under it.
 * A missed or failed run is not retried: the next run does the same work.
 */
export class CapacitySweep extends Construct {
  readonly handler: BerthFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: CapacitySweepProps) {
    super(scope, id);
    const every = props.every ?? Duration.minutes(1);
    if (every.toSeconds() < 60) {
      throw new Error(`CapacitySweep: every must be at least one minute (EventBridge's finest rate), got ${every.toHumanString()}`);
    }

    this.handler = new BerthFunction(this, 'Handler', {
      entry: props.entry ?? 'lambdas/capacity-sweep.ts',
      description: 'Berth: places tasks waiting for capacity (scheduled safety net)',
      // Shorter than the schedule's period, so runs rarely overlap (placement is conditional anyway).
      timeout: Duration.seconds(Math.min(50, every.toSeconds() - 10)),
      logRetention: props.logRetention,
      environment: {
        ...berthEnvironment(this, props.table),
        BERTH_CAPACITY_WAIT_SECONDS: String((props.capacityWait ?? Duration.minutes(5)).toSeconds()),
      },
    });
    grantTableReadWrite(this.handler.function, props.table);
    // Lambda's own async retries would only run a stale sweep next to a fresh one.
    this.handler.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    this.rule = new events.Rule(this, 'Schedule', {
      description: `Berth: run the capacity sweep every ${every.toHumanString()}`,
      schedule: events.Schedule.rate(every),
      targets: [
        new targets.LambdaFunction(this.handler.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
      ],
    });
  }
}

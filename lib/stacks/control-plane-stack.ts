import { CfnOutput, CrossStackReferences, ReferenceStrength, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { EcsApi } from '../constructs/ecs-api';

export interface BerthControlPlaneStackProps extends StackProps {
  /** The table from the stateful stack. */
  readonly table: dynamodb.ITable;
  /** The event bus from the stateful stack. */
  readonly eventBus: events.IEventBus;
  /** `source` of Berth's events. @default 'berth.ecs' */
  readonly eventSource?: string;
  /** API Gateway stage name. @default 'prod' */
  readonly stageName?: string;
}

/**
 * Everything stateless: the ECS API (API Gateway + Lambda). The stream processor, the service
 * scheduler state machine, schedules and rules join this stack as they are built.
 */
export class BerthControlPlaneStack extends Stack {
  readonly ecsApi: EcsApi;

  constructor(scope: Construct, id: string, props: BerthControlPlaneStackProps) {
    super(scope, id, props);
    // Exports/Fn::ImportValue: CloudFormation refuses to delete or change the table and bus while
    // the control plane uses them (and LocalStack supports it; it lacks Fn::GetStackOutput).
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);

    this.ecsApi = new EcsApi(this, 'EcsApi', {
      table: props.table,
      eventBus: props.eventBus,
      eventSource: props.eventSource,
      stageName: props.stageName,
    });

    new CfnOutput(this, 'EcsEndpoint', {
      description: 'ECS API endpoint; sign requests for the service execute-api',
      value: this.ecsApi.url,
    });
    // On LocalStack the endpoint above is unreachable as printed; the smoke test builds the local
    // URL from these two.
    new CfnOutput(this, 'EcsRestApiId', { value: this.ecsApi.api.restApiId });
    new CfnOutput(this, 'EcsStageName', { value: this.ecsApi.stageName });
  }
}

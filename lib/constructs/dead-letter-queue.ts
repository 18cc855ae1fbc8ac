import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** What lands here and why, for the acknowledgement of AwsSolutions-SQS3 and the console. */
  readonly purpose: string;
  /** @default Duration.days(14), the SQS maximum: time to notice, inspect and redrive */
  readonly retentionPeriod?: Duration;
}

/**
 * A queue where work Berth gave up on lands for an operator: encrypted at rest with SQS-managed
 * keys (SSE-SQS: no key policy to own, and senders need no kms:GenerateDataKey), TLS only, and
 * messages kept for 14 days.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        `This queue is itself a dead-letter queue (${props.purpose}); its messages are inspected ` +
        'and redriven by an operator (docs/deploy.md), so there is no further queue to move them to.',
    });
  }
}

// docs/embedding.md shows this file; test/infra/embedding.test.ts synthesizes it.
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as events from 'aws-cdk-lib/aws-events';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { BerthControlPlane, BerthEventPatterns } from '../../lib/berth';

/** A platform team's stack: Berth on the team's own event bus, its API at https://ecs.example.com/. */
export class PlatformStack extends Stack {
  readonly berth: BerthControlPlane;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // The bus the platform already has; Berth publishes there with source 'berth.ecs'.
    const platformBus = events.EventBus.fromEventBusName(this, 'PlatformBus', 'platform-events');
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      zoneName: 'example.com',
    });
    const certificate = acm.Certificate.fromCertificateArn(
      this,
      'Certificate',
      'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
    );

    this.berth = new BerthControlPlane(this, 'Berth', {
      eventBus: platformBus,
      archiveRetention: Duration.days(14),
      domain: { domainName: 'ecs.example.com', certificate, hostedZone: zone },
      api: { throttlingRateLimit: 200, throttlingBurstLimit: 400 },
      // Failed deployments to the on-call team's queue (its policy must admit the rule: docs/events.md).
      consumers: [
        {
          name: 'deployment-failures',
          eventPattern: BerthEventPatterns.deploymentFailures(),
          target: { type: 'sqs', arn: 'arn:aws:sqs:eu-west-1:123456789012:oncall-deployments' },
        },
      ],
      // A test account: let `cdk destroy` take the table with it.
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}

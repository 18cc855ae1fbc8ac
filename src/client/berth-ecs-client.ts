/**
 * An ECS SDK client for a Berth deployed behind API Gateway, for code that embeds the SDK:
 *
 *   import { createBerthEcsClient } from 'berth/src/client/berth-ecs-client';
 *   const ecs = createBerthEcsClient({ endpoint: outputs.EcsEndpoint });
 *   await ecs.send(new RunTaskCommand({ cluster: 'default', taskDefinition: 'web' }));
 *
 * The only differences from a client for ECS itself: the endpoint, and the SigV4 signing name
 * `execute-api` (API Gateway's IAM authorization checks signatures for that service, not `ecs`).
 * Tools that cannot change their signing name go through `npx berth proxy` instead.
 */
import { ECSClient, type ECSClientConfig } from '@aws-sdk/client-ecs';
import { regionOfExecuteApiHost } from '../proxy/signing-proxy';

export interface BerthEcsClientOptions extends Omit<ECSClientConfig, 'endpoint' | 'region'> {
  /** The stack output `EcsEndpoint`, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod/ */
  readonly endpoint: string;
  /** Defaults to the region in an execute-api host name, then AWS_REGION / AWS_DEFAULT_REGION. */
  readonly region?: string;
}

export function createBerthEcsClient(options: BerthEcsClientOptions): ECSClient {
  const { endpoint, region, ...config } = options;
  const resolvedRegion = region ?? regionOfExecuteApiHost(new URL(endpoint).hostname) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!resolvedRegion) throw new Error(`createBerthEcsClient: no region in ${endpoint}; pass { region }`);
  // `signingName` is honoured by the SDK's SigV4 signer config but absent from ECSClientConfig's type.
  const signing = { signingName: 'execute-api' };
  return new ECSClient({ ...config, endpoint, region: resolvedRegion, ...signing });
}

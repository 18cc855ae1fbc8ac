/**
 * StatesApi over Step Functions' JSON 1.0 protocol (StartExecution, SendTaskSuccess), signed with SigV4 from the Lambda's role
 * (the project has no @aws-sdk/client-sfn; these two calls are small enough to make directly, with
 * the signer and credential chain the agent already uses). Error names are the service's `__type`
 * without its namespace, as the SDK names them.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { StatesError, type StatesApi } from './states-api';

export interface StatesHttpClientOptions {
  readonly region: string;
  /** @default https://states.<region>.amazonaws.com */
  readonly endpoint?: string;
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export class StatesHttpClient implements StatesApi {
  private readonly signer: SignatureV4;
  private readonly url: URL;

  constructor(options: StatesHttpClientOptions) {
    this.url = new URL(options.endpoint ?? `https://states.${options.region}.amazonaws.com`);
    this.signer = new SignatureV4({
      service: 'states',
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Hash.bind(null, 'sha256'),
    });
  }

  async startExecution(request: { stateMachineArn: string; name: string; input: string }): Promise<void> {
    await this.call('StartExecution', request);
  }

  async sendTaskSuccess(request: { taskToken: string; output: string }): Promise<void> {
    await this.call('SendTaskSuccess', request);
  }

  private async call(operation: string, request: object): Promise<Record<string, unknown>> {
    const body = JSON.stringify(request);
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : undefined,
      path: this.url.pathname,
      headers: {
        host: this.url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `AWSStepFunctions.${operation}`,
      },
      body,
    });
    const response = await fetch(this.url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    const text = await response.text();
    const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (!response.ok) {
      const type = String(json.__type ?? 'ServiceException');
      throw new StatesError(type.slice(type.lastIndexOf('#') + 1), String(json.message ?? json.Message ?? response.statusText));
    }
    return json;
  }
}

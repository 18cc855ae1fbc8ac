/**
 * The agent's line to the control plane: the ECS SDK for ECS operations, and signed JSON requests for
 * Berth's agent extension operations (BerthAgentV1.*, docs/agent.md), on the same endpoint.
 */
import {
  ECSClient,
  RegisterContainerInstanceCommand,
  type ContainerStateChange,
  type RegisterContainerInstanceCommandInput,
} from '@aws-sdk/client-ecs';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Assignment } from '../app/agent-assignments';
import { AGENT_CHANNEL_PATH } from '../domain/agent-channel';

export interface ControlPlaneClientOptions {
  readonly endpoint: string;
  readonly region: string;
  /** `ecs` against Berth's own server, `execute-api` behind IAM-authorized API Gateway. */
  readonly signingName?: string;
  /** Credentials, or a provider of them. Default: the AWS chain (environment, profile, instance role). */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/**
 * Berth's local server does not check signatures, so an agent pointed at a loopback endpoint needs no
 * real credentials: the AWS chain's when there are some, placeholders when there are none.
 */
export function credentialsFor(endpoint: string): AwsCredentialIdentityProvider | undefined {
  if (!isLoopbackEndpoint(endpoint)) return undefined;
  const chain = defaultProvider();
  return () => chain().catch(() => ({ accessKeyId: 'berth-agent', secretAccessKey: 'berth-agent' }));
}

/**
 * The agent channel of a local Berth (its API port, path /agent-channel); undefined for other
 * endpoints, whose channel (API Gateway's WebSocket API) has a URL of its own.
 */
export function defaultChannelUrl(endpoint: string): string | undefined {
  if (!isLoopbackEndpoint(endpoint)) return undefined;
  const url = new URL(endpoint);
  return `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}${AGENT_CHANNEL_PATH}`;
}

function isLoopbackEndpoint(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false;
  }
}

export interface ContainerReport extends ContainerStateChange {
  healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
}

export class ControlPlaneClient {
  readonly ecs: ECSClient;
  private readonly signer: SignatureV4;

  constructor(private readonly options: ControlPlaneClientOptions) {
    const credentials = options.credentials ?? defaultProvider();
    this.ecs = new ECSClient({
      endpoint: options.endpoint,
      region: options.region,
      credentials,
      ...(options.signingName ? { signingName: options.signingName } : {}),
    });
    this.signer = new SignatureV4({
      service: options.signingName ?? 'ecs',
      region: options.region,
      credentials,
      sha256: Hash.bind(null, 'sha256'),
    });
  }

  async register(input: RegisterContainerInstanceCommandInput): Promise<string> {
    const { containerInstance } = await this.ecs.send(new RegisterContainerInstanceCommand(input));
    return containerInstance!.containerInstanceArn!;
  }

  /**
   * Reports go as raw JSON, not through the SDK: they carry Berth's extension members, which the SDK
   * would drop: `containerInstance` (the reporter; the control plane accepts reports only from the
   * host that holds the task), `stopCode`, `healthStatus`. Times go in epoch seconds, as the SDK sends them.
   */
  async submitTask(input: {
    cluster: string;
    task: string;
    /** The reporting container instance. */
    containerInstance: string;
    status: 'ACTIVATING' | 'RUNNING' | 'STOPPED';
    reason?: string;
    /** Berth's extension member: why the agent itself stopped a task that ran (docs/agent.md). */
    stopCode?: string;
    containers?: ContainerReport[];
    pullStartedAt?: Date;
    pullStoppedAt?: Date;
    executionStoppedAt?: Date;
  }): Promise<void> {
    const seconds = (date: Date | undefined) => (date ? date.getTime() / 1000 : undefined);
    await this.call('AmazonEC2ContainerServiceV20141113.SubmitTaskStateChange', {
      ...input,
      pullStartedAt: seconds(input.pullStartedAt),
      pullStoppedAt: seconds(input.pullStoppedAt),
      executionStoppedAt: seconds(input.executionStoppedAt),
    });
  }

  async submitContainer(input: { cluster: string; task: string; containerInstance: string } & ContainerReport): Promise<void> {
    await this.call('AmazonEC2ContainerServiceV20141113.SubmitContainerStateChange', input);
  }

  pollAssignments(
    input: { containerInstanceArn: string; known: Record<string, number>; waitSeconds: number },
    signal?: AbortSignal,
  ) {
    return this.call('BerthAgentV1.PollAssignments', input, signal) as Promise<{
      containerInstanceStatus: string;
      assignments: Assignment[];
    }>;
  }

  /**
   * Headers that sign the agent channel's connect request (a GET, for API Gateway's IAM
   * authorization of $connect; the local runtime checks no signature).
   */
  async signedConnectHeaders(url: URL): Promise<Record<string, string>> {
    const signed = await this.signer.sign({
      method: 'GET',
      protocol: url.protocol === 'wss:' ? 'https:' : 'http:',
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname || '/',
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host },
    });
    // `host` is the socket library's to send.
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    return headers;
  }

  /** A signed AWS JSON 1.1 request; throws with the ECS error name on a 4xx/5xx answer. */
  async call(target: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const url = new URL(this.options.endpoint);
    const payload = JSON.stringify(body);
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname || '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': target,
      },
      body: payload,
    });
    const response = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body: payload, signal });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) {
      const error = new Error(String(json.message ?? response.statusText));
      error.name = String(json.__type ?? 'ServerException');
      throw error;
    }
    return json;
  }

  destroy(): void {
    this.ecs.destroy();
  }
}

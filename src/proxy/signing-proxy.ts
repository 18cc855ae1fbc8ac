/**
 * `npx berth proxy`: a loopback HTTP proxy that lets unmodified ECS tools (the AWS CLI, Terraform's
 * AWS provider, boto3, any SDK) call a Berth deployed behind API Gateway.
 *
 * API Gateway's IAM authorization checks SigV4 signatures for the service `execute-api`; ECS
 * clients sign for `ecs` and most cannot be told otherwise (the AWS CLI cannot). The proxy takes
 * their requests (signed or not; their signature is dropped, never trusted or forwarded), signs
 * them again with the caller's own AWS credentials for `execute-api` in the API's region, and
 * forwards them to the endpoint. Answers come back unchanged.
 *
 * It holds the caller's credentials, so it listens on loopback only, answers only requests whose
 * Host is loopback (a web page on a DNS-rebound name cannot use it), and forwards only the ECS
 * JSON protocol (an `X-Amz-Target` of ECS or of Berth's agent protocol) to the one endpoint it was
 * started for: it is not an open signing service.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { isLoopbackHost } from '../local/http-server';

/** ECS's JSON 1.1 target prefix, and Berth's agent protocol (docs/agent.md) served on the same API. */
const FORWARDED_TARGET = /^(AmazonEC2ContainerServiceV20141113|BerthAgentV1)\.[A-Za-z]{1,64}$/;
/** ECS requests are small; a task definition with every member is well under this. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Headers the proxy sets itself or must not pass on (hop-by-hop, or the client's own signature). */
const DROPPED_HEADERS = new Set([
  'host', 'authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'content-length',
  'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'expect',
  'amz-sdk-invocation-id', 'amz-sdk-request',
]);

export interface SigningProxyOptions {
  /** The deployed API, e.g. the stack output `EcsEndpoint`: https://{id}.execute-api.{region}.amazonaws.com/prod/ */
  readonly endpoint: string;
  /** The API's region; by default read from an execute-api host name, else required. */
  readonly region?: string;
  /** Loopback port to listen on; 0 picks a free one. @default 4601 */
  readonly port?: number;
  /** Loopback address to listen on. @default 127.0.0.1 */
  readonly host?: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The service name API Gateway checks. @default 'execute-api' */
  readonly signingName?: string;
  readonly logger?: Pick<Console, 'info' | 'warn'>;
}

export interface RunningSigningProxy {
  readonly url: string;
  readonly endpoint: URL;
  readonly region: string;
  close(): Promise<void>;
}

/** The region of an `{id}.execute-api.{region}.amazonaws.com[.cn]` host, or undefined for other hosts. */
export function regionOfExecuteApiHost(hostname: string): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(hostname.toLowerCase())?.[1];
}

/** Why a request must not be forwarded, or undefined when it may be. */
export function refusal(method: string | undefined, host: string | undefined, target: string | undefined): string | undefined {
  if (!host || !isLoopbackHost(host.replace(/:\d+$/, ''))) return `the proxy answers only requests addressed to a loopback host (got Host ${host ?? 'none'})`;
  if (method !== 'POST') return 'the proxy forwards only POST requests of the ECS JSON protocol';
  if (!target || !FORWARDED_TARGET.test(target)) {
    return `the proxy forwards only ECS operations (X-Amz-Target AmazonEC2ContainerServiceV20141113.<Operation>), not ${target ? `"${target}"` : 'a request without X-Amz-Target'}`;
  }
  return undefined;
}

export async function startSigningProxy(options: SigningProxyOptions): Promise<RunningSigningProxy> {
  const endpoint = new URL(options.endpoint);
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw new Error(`--endpoint must be an http(s) URL, got ${options.endpoint}`);
  const region = options.region ?? regionOfExecuteApiHost(endpoint.hostname);
  if (!region) throw new Error(`cannot tell the API's region from ${endpoint.hostname}: pass --region`);
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new Error(`Refusing to listen on ${host}: the proxy signs with your AWS credentials, so it listens on loopback only.`);
  const signer = new SignatureV4({
    service: options.signingName ?? 'execute-api',
    region,
    credentials: options.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const basePath = endpoint.pathname.replace(/\/+$/, '');

  const forward = async (request: IncomingMessage, body: Buffer, response: ServerResponse) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || DROPPED_HEADERS.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    headers.host = endpoint.host;
    const path = `${basePath}${(request.url ?? '/').split('?')[0]}` || '/';
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path,
      headers,
      body,
      query: {},
    });
    const upstream = await fetch(new URL(path, endpoint), {
      method: 'POST',
      headers: signed.headers as Record<string, string>,
      body,
      signal: AbortSignal.timeout(60_000),
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    const passed: Record<string, string> = { 'content-length': String(answer.length) };
    for (const name of ['content-type', 'x-amzn-requestid', 'x-amzn-errortype', 'x-amz-apigw-id']) {
      const value = upstream.headers.get(name);
      if (value !== null) passed[name] = value;
    }
    response.writeHead(upstream.status, passed).end(answer);
  };

  const reject = (response: ServerResponse, status: number, type: string, message: string) => {
    const body = JSON.stringify({ __type: type, message });
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body) }).end(body);
  };

  const server: Server = createServer((request, response) => {
    const target = request.headers['x-amz-target'];
    const why = refusal(request.method, request.headers.host, typeof target === 'string' ? target : undefined);
    if (why) {
      options.logger?.warn(`berth proxy: refused ${request.method} ${request.url}: ${why}`);
      request.resume();
      reject(response, request.method === 'POST' ? 400 : 405, 'BerthProxyRefusedRequest', why);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(response, 413, 'BerthProxyRefusedRequest', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => {
      if (response.headersSent) return;
      forward(request, Buffer.concat(chunks), response).catch((error: Error) => {
        // The endpoint could not be reached or the credentials could not be loaded: the client sees a
        // retryable 5xx with the cause, as it would for a gateway that cannot reach its backend.
        options.logger?.warn(`berth proxy: ${target}: ${error.message}`);
        if (!response.headersSent) reject(response, 502, 'BerthProxyUpstreamError', `berth proxy could not forward the request: ${error.message}`);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4601, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    endpoint,
    region,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

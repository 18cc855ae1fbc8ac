/**
 * A stand-in for API Gateway's IAM authorization in front of a local Berth: it checks each request's
 * SigV4 signature for `execute-api` the way AWS documents it, computed here from the spec with
 * node:crypto (independently of the SDK signer the proxy uses), answers 403 as API Gateway does when
 * it does not match, and forwards what passes to the Berth behind it with the stage prefix removed.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SignedRequestSeen {
  readonly accessKeyId: string;
  readonly service: string;
  readonly region: string;
  readonly valid: boolean;
  readonly target?: string;
}

export interface SigV4Gateway {
  /** The endpoint clients are given, with the stage: http://127.0.0.1:PORT/prod/ */
  readonly endpoint: string;
  readonly seen: SignedRequestSeen[];
  close(): Promise<void>;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** The expected signature of a request, from its method, path, headers and body (AWS SigV4). */
export function expectedSignature(
  request: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
  signedHeaders: string[],
  secretAccessKey: string,
  scope: { date: string; region: string; service: string },
): string {
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = request.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const [path, query = ''] = request.path.split('?');
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .sort()
    .join('&');
  const canonicalRequest = [request.method, path, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), sha256(request.body)].join('\n');
  const amzDate = String(request.headers['x-amz-date']);
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, scope.date), scope.region), scope.service), 'aws4_request');
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the gateway for `upstream` (a local Berth's URL), accepting keys in `secrets` signed for `region`. */
export async function startSigV4Gateway(upstream: string, secrets: Record<string, string>, region: string, stage = 'prod'): Promise<SigV4Gateway> {
  const seen: SignedRequestSeen[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const body = await bodyOf(request);
      const deny = (message: string) => {
        response.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'IncompleteSignatureException' });
        response.end(JSON.stringify({ message }));
      };
      const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
        request.headers.authorization ?? '',
      );
      if (!auth) return deny('Missing Authentication Token');
      const [, accessKeyId, date, signedRegion, service, signedHeaders, signature] = auth as unknown as string[];
      const secret = secrets[accessKeyId!];
      const valid =
        secret !== undefined &&
        service === 'execute-api' &&
        signedRegion === region &&
        signedHeaders!.split(';').includes('host') &&
        expectedSignature({ method: request.method!, path: request.url!, headers: request.headers, body }, signedHeaders!.split(';'), secret, {
          date: date!,
          region: signedRegion!,
          service: service!,
        }) === signature;
      const target = request.headers['x-amz-target'] as string | undefined;
      seen.push({ accessKeyId: accessKeyId!, service: service!, region: signedRegion!, valid, target });
      if (!valid) return deny('The request signature we calculated does not match the signature you provided.');
      if (!request.url!.startsWith(`/${stage}/`)) return deny('Missing Authentication Token');
      const forwarded = await fetch(new URL(request.url!.slice(stage.length + 1), upstream), {
        method: request.method,
        headers: { 'content-type': String(request.headers['content-type']), 'x-amz-target': target ?? '' },
        body,
      });
      const answer = Buffer.from(await forwarded.arrayBuffer());
      response.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'application/x-amz-json-1.1' });
      response.end(answer);
    })().catch((error: Error) => {
      response.writeHead(500).end(error.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/${stage}/`,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BerthContext } from '../app/context';
import { handleEcsRequest } from '../api/ecs-protocol';
import { handleSchedulerRequest, isSchedulerRequest } from '../api/scheduler-protocol';

/**
 * Largest request body accepted. ECS requests are small: the biggest, RegisterTaskDefinition, is capped
 * by ECS's task definition size quota (64 KiB). 4 MiB leaves ample room and stays under the 6 MB a
 * Lambda invocation (Berth on AWS) can carry, so both deployments refuse the same bodies.
 */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/**
 * An oversized body is still read (and discarded) to its end before the 413 goes out, because a client
 * busy sending never sees an answer on a connection that is reset under it. Past this many bytes the
 * client is not worth waiting for: it gets the 413 and the connection is cut.
 */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Listen on a non-loopback address. Off unless the operator asks (berth-local's --allow-remote). */
  readonly allowRemote?: boolean;
}

/** Listening beyond loopback without being asked: Berth local has no authentication. */
export class RemoteBindRefusedError extends Error {
  override readonly name = 'RemoteBindRefusedError';
}

/** Loopback hosts: `localhost`, 127.0.0.0/8, ::1 (and its IPv4-mapped form). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(v4);
}

export async function startEcsHttpServer(
  context: BerthContext,
  host: string,
  port: number,
  options: ServerOptions = {},
): Promise<RunningServer> {
  // Anyone who reaches the API can start processes on this machine (RunTask runs real commands), and
  // nothing checks signatures locally: only loopback, unless the operator says otherwise explicitly.
  if (!isLoopbackHost(host) && !options.allowRemote) {
    throw new RemoteBindRefusedError(
      `Refusing to listen on ${host}: Berth local has no authentication, and anyone who can reach it can run ` +
        'processes on this machine. Listen on 127.0.0.1, or ask for a non-loopback address explicitly (--allow-remote).',
    );
  }
  // Requests still being handled: close() waits for them, so none touches DynamoDB after shutdown.
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const handled = handle(req, res).finally(() => inFlight.delete(handled));
    inFlight.add(handled);
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const disconnected = new AbortController();
    res.on('close', () => disconnected.abort());
    try {
      const body = await readBody(req);
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]),
      );
      const request = { method: req.method ?? 'GET', headers, body, requestId: randomUUID(), signal: disconnected.signal };
      // EventBridge Scheduler's rest-json API shares the port: it is told apart by its paths.
      const response = isSchedulerRequest(req.url ?? '/', headers)
        ? await handleSchedulerRequest(context, { ...request, url: req.url ?? '/' })
        : await handleEcsRequest(context, request);
      if (disconnected.signal.aborted) return;
      res.writeHead(response.statusCode, response.headers).end(response.body);
    } catch (error) {
      if (res.destroyed) return;
      const tooLarge = error instanceof BodyTooLargeError;
      // Each API's own error form, so its SDK reads the error's name (found by the Scheduler fuzz suite).
      const scheduler = isSchedulerRequest(req.url ?? '/', { 'x-amz-target': req.headers['x-amz-target'] as string | undefined });
      const message = (error as Error).message;
      res
        .writeHead(tooLarge ? 413 : 400, {
          'content-type': scheduler ? 'application/json' : 'application/x-amz-json-1.1',
          ...(scheduler ? { 'x-amzn-errortype': 'ValidationException' } : {}),
          // The rest of an abandoned body would otherwise be read as the next request.
          ...(tooLarge ? { connection: 'close' } : {}),
        })
        .end(JSON.stringify(scheduler ? { Message: message } : { __type: 'SerializationException', message }), () => {
          if (tooLarge && !req.complete) req.destroy();
        });
    }
  };
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Dropping the connections aborts long polls, which then finish quickly.
      server.closeAllConnections();
      await Promise.allSettled([...inFlight]);
      await closed;
    },
  };
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = () =>
      new BodyTooLargeError(`The request body is larger than the ${MAX_BODY_BYTES / (1024 * 1024)} MiB Berth accepts.`);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (chunks.length > 0) chunks.length = 0; // keep counting, stop holding
      if (size > MAX_DISCARDED_BYTES) {
        req.pause();
        reject(tooLarge());
      }
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
    // A connection dropped mid-body never ends; after 'end' this is a no-op.
    req.on('close', () => reject(new Error('The connection closed before the request body was read.')));
  });
}

/**
 * DynamoDB Local's port: the JVM takes seconds to bind it, and in a suite that starts many servers at
 * once another one can take it meanwhile. A CI run once sent the runtime's CreateTable to a Berth
 * server that had taken the port ("CreateTable is not supported by Berth"): a listener on the port is
 * not DynamoDB until DynamoDB answers there.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { freePort, startDynamoDbLocal } from '../../src/local/dynamodb-local';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

it('does not take another HTTP server on the port for DynamoDB: the JVM that cannot bind is stopped and the start fails naming the port', async () => {
  const port = await freePort();
  server = createHttpServer((_, response) => {
    response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
    response.end('{"__type":"UnknownOperationException","message":"The operation DynamoDB_20120810.CreateTable is not supported by Berth."}');
  });
  await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()));

  await expect(startDynamoDbLocal({ port })).rejects.toThrow(`port ${port} is taken`);
}, 60_000);

it('picks ports below the kernel ephemeral range, where servers bound to port 0 never land', async () => {
  const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  for (const port of ports) expect(port).toBeLessThan(ephemeralLow);
  for (const port of ports) expect(port).toBeGreaterThanOrEqual(10_000);
});

/**
 * Security checks of the local runtime (issue 7): the API server listens beyond loopback only when
 * asked explicitly, and event rules' command targets never see event content in their argv or a shell.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createLocalDocumentClient } from '../../src/adapters/dynamodb/document-client';
import type { BerthEvent } from '../../src/app/event-publisher';
import { createBerthContext } from '../../src/app/create-context';
import { parseRules, rulesMatching } from '../../src/local/event-rules';
import { LocalEventSink } from '../../src/local/event-sink';
import { isLoopbackHost, RemoteBindRefusedError, startEcsHttpServer } from '../../src/local/http-server';
import WebSocket from 'ws';
import { ensureTable } from '../../src/adapters/dynamodb/create-table';
import { LocalAgentChannel } from '../../src/local/agent-channel-server';

describe('the API server binds to loopback unless asked', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['128.0.0.1', false],
    ['127.0.0.256', false],
    ['example.com', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  const context = () =>
    createBerthContext({
      doc: createLocalDocumentClient(inject('dynamoDbEndpoint')),
      tableName: 'unused',
      account: '123456789012',
      region: 'us-east-1',
    });

  it.each(['0.0.0.0', '::'])('refuses %s without allowRemote, saying why and how', async (host) => {
    await expect(startEcsHttpServer(context(), host, 0)).rejects.toThrow(RemoteBindRefusedError);
    await expect(startEcsHttpServer(context(), host, 0)).rejects.toThrow(/no authentication.*--allow-remote/s);
  });

  it('listens on 0.0.0.0 when asked explicitly, and on loopback by default', async () => {
    const remote = await startEcsHttpServer(context(), '0.0.0.0', 0, { allowRemote: true });
    expect(remote.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    await remote.close();
    const local = await startEcsHttpServer(context(), '127.0.0.1', 0);
    const answer = await fetch(local.url, { method: 'POST', headers: { 'x-amz-target': 'nope' }, body: '{}' });
    expect(answer.status).toBe(400);
    await local.close();
  });
});

describe('the agent channel accepts only what an agent would send', () => {
  const INSTANCE = 'arn:aws:ecs:us-east-1:123456789012:container-instance/c/0123456789abcdef0123456789abcdef';

  /** The HTTP status of an upgrade attempt (101 when it opened). */
  function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers });
      socket.on('open', () => {
        socket.terminate();
        resolve(101);
      });
      socket.on('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        socket.terminate();
      });
      socket.on('error', (error) => (error.message.includes('Unexpected server response') ? undefined : reject(error)));
    });
  }

  it.each([
    ['another path', `/elsewhere?containerInstanceArn=${INSTANCE}`, {}, 404],
    ['a browser (any Origin header): a web page must not hold an agent channel', `/agent-channel?containerInstanceArn=${INSTANCE}`, { origin: 'http://127.0.0.1' }, 403],
    ['no instance', '/agent-channel', {}, 400],
    ['an instance ARN of another account', `/agent-channel?containerInstanceArn=${INSTANCE.replace('123456789012', '999999999999')}`, {}, 400],
    ['something that is not an ARN', '/agent-channel?containerInstanceArn=%3Cscript%3E', {}, 400],
    ['an instance that does not exist', `/agent-channel?containerInstanceArn=${INSTANCE}`, {}, 404],
  ])('refuses %s', async (_name, path, headers, status) => {
    const doc = createLocalDocumentClient(inject('dynamoDbEndpoint'));
    const tableName = `security-${randomUUID()}`;
    await ensureTable(doc, tableName);
    const ctx = createBerthContext({ doc, tableName, account: '123456789012', region: 'us-east-1' });
    const server = await startEcsHttpServer(ctx, '127.0.0.1', 0);
    const channel = new LocalAgentChannel({ context: ctx, logger: { error: () => {} } });
    channel.attach(server.server);
    try {
      expect(await upgradeStatus(`${server.url.replace('http', 'ws')}${path}`, headers)).toBe(status);
      expect(channel.connectedInstances()).toEqual([]);
    } finally {
      await channel.close();
      await server.close();
    }
  });
});

describe('event rules never splice event content into a command', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-security-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a hostile event reaches the command only on stdin, byte for byte, and runs nothing', async () => {
    const out = join(dir, 'out.jsonl');
    const marker = join(dir, 'pwned');
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({
        rules: [
          { name: 'cat', eventPattern: { source: ['aws.ecs'] }, targets: [{ type: 'command', command: ['sh', '-c', `cat >> '${out}'`] }] },
          // argv as written: the program gets the literal strings, never the event's.
          { name: 'touch', eventPattern: { source: ['aws.ecs'] }, targets: [{ type: 'command', command: ['true', '$(touch pwned)', '`touch pwned`'] }] },
        ],
      }),
    );
    const sink = await LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl'), rulesFile, logger: { warn: () => {}, error: () => {} } });
    const hostile = [`$(touch '${marker}')`, `'; touch '${marker}'; '`, `\`touch ${marker}\``, `\n touch ${marker}`];
    const event: BerthEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: hostile,
      detail: { group: hostile[0], startedBy: hostile[1], stoppedReason: hostile[2], containers: [{ name: hostile[3] }] },
    };
    await sink.publish([event]);
    await sink.drain();
    expect(JSON.parse((await readFile(out, 'utf8')).trim())).toEqual(event);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(process.cwd(), 'pwned'))).toBe(false);
  });

  it('patterns and events with prototype-named fields match as plain fields', () => {
    const rules = parseRules(
      JSON.stringify({
        rules: [
          { name: 'ctor', eventPattern: { detail: { constructor: ['x'] } }, targets: [] },
          { name: 'proto', eventPattern: { detail: { toString: [{ exists: true }] } }, targets: [] },
        ],
      }),
    );
    expect(rulesMatching(rules, { detail: {} })).toEqual([]);
    expect(rulesMatching(rules, { detail: { constructor: 'x' } }).map((r) => r.name)).toEqual(['ctor']);
    expect(rulesMatching(rules, JSON.parse('{"detail": {"toString": "y", "__proto__": {"constructor": "x"}}}')).map((r) => r.name)).toEqual(['proto']);
  });
});

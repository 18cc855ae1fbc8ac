/**
 * The local event sink against real files, a real HTTP server and real child processes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BerthEvent } from '../../src/app/event-publisher';
import { BerthEventPatterns } from '../../src/domain/event-consumers';
import { InvalidRulesFileError, loadRules, parseRules, rulesMatching } from '../../src/local/event-rules';
import { LocalEventSink, type EventSinkLogger } from '../../src/local/event-sink';

function taskEvent(lastStatus: string, detailType = 'ECS Task State Change'): BerthEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'aws.ecs',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:ecs:us-east-1:123456789012:task/default/${randomUUID().replaceAll('-', '')}`],
    detail: { lastStatus, desiredStatus: 'RUNNING' },
  };
}

/** A webhook that records every request and answers with the next scripted status (then 200). */
interface Webhook {
  url: string;
  requests: { headers: IncomingMessage['headers']; body: unknown }[];
  statuses: number[];
  close(): Promise<void>;
}

async function startWebhook(): Promise<Webhook> {
  const requests: Webhook['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(hook.statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const hook: Webhook = {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    statuses: [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return hook;
}

function recordingLogger(): EventSinkLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => void lines.push(m), error: (m) => void lines.push(m) };
}

const readLines = async (file: string): Promise<unknown[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

const STOPPED_TASKS = { 'detail-type': ['ECS Task State Change'], detail: { lastStatus: ['STOPPED'] } };

let dir: string;
let webhook: Webhook;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-events-'));
  webhook = await startWebhook();
});
afterEach(async () => {
  await webhook.close();
  await rm(dir, { recursive: true, force: true });
});

describe('LocalEventSink', () => {
  it('appends events as JSON lines, in publish order, creating the directory', async () => {
    const eventsFile = join(dir, 'nested', 'events.jsonl');
    const sink = new LocalEventSink({ eventsFile });
    const events = Array.from({ length: 5 }, (_, i) => taskEvent(`S${i}`));
    await sink.publish(events.slice(0, 2));
    await Promise.all([sink.publish(events.slice(2, 4)), sink.publish(events.slice(4))]);
    await sink.publish([]);
    await sink.drain();
    expect(await readLines(eventsFile)).toEqual(events);
  });

  it('delivers to a webhook only the events the rule pattern matches', async () => {
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({
        rules: [
          {
            name: 'stopped',
            eventPattern: STOPPED_TASKS,
            targets: [{ type: 'http', url: webhook.url, headers: { 'x-token': 'secret' } }],
          },
        ],
      }),
    );
    const logger = recordingLogger();
    const sink = await LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl'), rulesFile, logger });
    const running = taskEvent('RUNNING');
    const stopped = taskEvent('STOPPED');
    const otherType = taskEvent('STOPPED', 'ECS Service Action');
    const stopped2 = taskEvent('STOPPED');
    await sink.publish([running, stopped, otherType]);
    await sink.publish([stopped2]);
    await sink.drain();

    expect(webhook.requests.map((r) => r.body)).toEqual([stopped, stopped2]);
    expect(webhook.requests[0].headers['content-type']).toBe('application/json');
    expect(webhook.requests[0].headers['x-token']).toBe('secret');
    expect(logger.lines).toEqual([]);
    expect(await readLines(join(dir, 'events.jsonl'))).toEqual([running, stopped, otherType, stopped2]);
  });

  it('pipes the event JSON to a command target on stdin', async () => {
    const out = join(dir, 'out.jsonl');
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({
        rules: [{ name: 'all-ecs', eventPattern: { source: ['aws.ecs'] }, targets: [{ type: 'command', command: ['sh', '-c', `cat >> '${out}'`] }] }],
      }),
    );
    const sink = await LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl'), rulesFile, logger: recordingLogger() });
    const events = [taskEvent('PROVISIONING'), taskEvent('RUNNING')];
    await sink.publish(events);
    await sink.drain();
    expect(await readLines(out)).toEqual(events);
  });

  it('reads a consumer described for the BerthControlPlane construct: runs its command target, leaves its AWS targets to EventBridge', async () => {
    const out = join(dir, 'out.jsonl');
    const rulesFile = join(dir, 'rules.json');
    const consumer = {
      name: 'failed-tasks',
      eventPattern: BerthEventPatterns.stoppedTasks(['EssentialContainerExited'], { source: 'aws.ecs' }),
      targets: [
        { type: 'sqs', arn: 'arn:aws:sqs:eu-west-1:123456789012:failed-tasks' },
        { type: 'lambda', arn: 'arn:aws:lambda:eu-west-1:123456789012:function:on-failure' },
        { type: 'command', command: ['sh', '-c', `cat >> '${out}'`] },
      ],
    };
    await writeFile(rulesFile, JSON.stringify({ rules: [consumer] }));
    const logger = recordingLogger();
    const sink = await LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl'), rulesFile, logger });
    expect(sink.currentRules()[0].targets).toEqual(consumer.targets);
    const failed = { ...taskEvent('STOPPED'), detail: { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited' } };
    const stoppedByUser = { ...taskEvent('STOPPED'), detail: { lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated' } };
    await sink.publish([stoppedByUser, failed]);
    await sink.drain();
    expect(await readLines(out)).toEqual([failed]);
    expect(logger.lines).toEqual([]);
  });

  it('accepts one "target" as well as "targets"', () => {
    const [rule] = parseRules('{ "rules": [ { "name": "a", "eventPattern": { "source": ["x"] }, "target": { "type": "http", "url": "http://127.0.0.1:1/" } } ] }');
    expect(rule.targets).toEqual([{ type: 'http', url: 'http://127.0.0.1:1/' }]);
  });

  it('logs a command that fails or cannot be run, without failing publish', async () => {
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({
        rules: [
          {
            name: 'broken',
            eventPattern: { source: ['aws.ecs'] },
            targets: [
              { type: 'command', command: ['sh', '-c', 'echo boom >&2; exit 3'] },
              { type: 'command', command: [join(dir, 'no-such-program')] },
            ],
          },
        ],
      }),
    );
    const logger = recordingLogger();
    const sink = await LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl'), rulesFile, logger });
    await sink.publish([taskEvent('RUNNING')]);
    await sink.drain();
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines.join('\n')).toMatch(/rule "broken".*exited with code 3: boom/);
    expect(logger.lines.join('\n')).toMatch(/rule "broken".*could not be run/);
  });

  it('retries a webhook that answers 500 twice, then delivers', async () => {
    webhook.statuses = [500, 500];
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({ rules: [{ name: 'all', eventPattern: { source: ['aws.ecs'] }, targets: [{ type: 'http', url: webhook.url }] }] }),
    );
    const logger = recordingLogger();
    const sink = await LocalEventSink.open({
      eventsFile: join(dir, 'events.jsonl'),
      rulesFile,
      logger,
      httpRetryBaseDelayMs: 10,
    });
    const event = taskEvent('STOPPED');
    await sink.publish([event]);
    await sink.drain();
    expect(webhook.requests.map((r) => r.body)).toEqual([event, event, event]);
    expect(logger.lines).toEqual([]);
  });

  it('gives up on a webhook after the last attempt and logs it; a 4xx is not retried', async () => {
    webhook.statuses = [503, 503, 503, 400];
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({ rules: [{ name: 'all', eventPattern: { source: ['aws.ecs'] }, targets: [{ type: 'http', url: webhook.url }] }] }),
    );
    const logger = recordingLogger();
    const sink = await LocalEventSink.open({
      eventsFile: join(dir, 'events.jsonl'),
      rulesFile,
      logger,
      httpAttempts: 3,
      httpRetryBaseDelayMs: 5,
    });
    const first = taskEvent('STOPPED');
    const second = taskEvent('STOPPED');
    await sink.publish([first, second]);
    await sink.drain();
    expect(webhook.requests.map((r) => r.body)).toEqual([first, first, first, second]);
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[0]).toContain(`event ${first.id}`);
    expect(logger.lines[0]).toContain('HTTP 503');
    expect(logger.lines[1]).toContain('HTTP 400');
  });

  it('logs a webhook that cannot be reached, without failing publish', async () => {
    // A port nothing listens on: taken from a second server, closed while the webhook keeps its own port.
    const gone = await startWebhook();
    const url = gone.url;
    await gone.close();
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({ rules: [{ name: 'gone', eventPattern: { source: ['aws.ecs'] }, targets: [{ type: 'http', url }] }] }),
    );
    const logger = recordingLogger();
    const sink = await LocalEventSink.open({
      eventsFile: join(dir, 'events.jsonl'),
      rulesFile,
      logger,
      httpAttempts: 2,
      httpRetryBaseDelayMs: 5,
    });
    await sink.publish([taskEvent('STOPPED')]);
    await sink.drain();
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(/rule "gone" could not deliver event/);
  });

  it('rejects an invalid rules file with an error naming the rule', async () => {
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({
        rules: [
          { name: 'fine', eventPattern: { source: ['aws.ecs'] }, targets: [] },
          { name: 'bad-pattern', eventPattern: { detail: { lastStatus: 'STOPPED' } }, targets: [] },
        ],
      }),
    );
    const attempt = LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl'), rulesFile });
    await expect(attempt).rejects.toBeInstanceOf(InvalidRulesFileError);
    await expect(attempt).rejects.toThrow(
      /Invalid event rules in .*rules\.json: rule "bad-pattern": "eventPattern": Event pattern is not valid\. Reason: "lastStatus" must be an object or an array/,
    );
  });

  it.each([
    ['not JSON', '{ "rules": [', /not valid JSON/],
    ['no rules array', '{ "rule": [] }', /unknown field "rule"/],
    ['a rule without a name', '{ "rules": [ { "eventPattern": { "source": ["x"] }, "targets": [] } ] }', /rules\[0\]: "name" must be a non-empty string/],
    ['a duplicate name', '{ "rules": [ { "name": "a", "eventPattern": { "source": ["x"] }, "targets": [] }, { "name": "a", "eventPattern": { "source": ["x"] }, "targets": [] } ] }', /rule "a": duplicate rule name/],
    ['a missing pattern', '{ "rules": [ { "name": "a", "targets": [] } ] }', /rule "a": "eventPattern" is required/],
    ['an unknown target type', '{ "rules": [ { "name": "a", "eventPattern": { "source": ["x"] }, "targets": [ { "type": "kinesis" } ] } ] }', /rule "a" targets\[0\]: "type" must be one of "http", "command", "sqs", "lambda", "eventBus", "stateMachine", "apiDestination", got "kinesis"/],
    ['an AWS target without an ARN', '{ "rules": [ { "name": "a", "eventPattern": { "source": ["x"] }, "targets": [ { "type": "sqs" } ] } ] }', /rule "a" targets\[0\]: "arn" must be the ARN of a sqs target, got undefined/],
    ['a Lambda target with a queue ARN', '{ "rules": [ { "name": "a", "eventPattern": { "source": ["x"] }, "target": { "type": "lambda", "arn": "arn:aws:sqs:eu-west-1:123456789012:q" } } ] }', /rule "a" targets\[0\]: "arn" must be the ARN of a lambda target/],
    ['both target and targets', '{ "rules": [ { "name": "a", "eventPattern": { "source": ["x"] }, "target": { "type": "command", "command": ["true"] }, "targets": [] } ] }', /rule "a": give "target" or "targets", not both/],
    ['a non-http URL', '{ "rules": [ { "name": "a", "eventPattern": { "source": ["x"] }, "targets": [ { "type": "http", "url": "file:///etc/passwd" } ] } ] }', /rule "a" targets\[0\]: "url" must be an http: or https: URL/],
    ['a string command', '{ "rules": [ { "name": "a", "eventPattern": { "source": ["x"] }, "targets": [ { "type": "command", "command": "cat" } ] } ] }', /rule "a" targets\[0\]: "command" must be a non-empty array of strings/],
    ['a typo in a field', '{ "rules": [ { "name": "a", "eventpattern": { "source": ["x"] }, "targets": [] } ] }', /rule "a": unknown field "eventpattern"/],
  ])('rejects %s with a clear message', (_, text, message) => {
    expect(() => parseRules(text, 'rules.json')).toThrow(InvalidRulesFileError);
    expect(() => parseRules(text, 'rules.json')).toThrow(message);
  });

  it('treats a missing rules file as no rules, and matches rules in file order', async () => {
    expect(await loadRules(join(dir, 'absent.json'))).toEqual([]);
    const rules = parseRules(
      JSON.stringify({
        rules: [
          { name: 'stopped', eventPattern: STOPPED_TASKS, targets: [] },
          { name: 'ecs', eventPattern: { source: ['aws.ecs'] }, targets: [] },
        ],
      }),
    );
    expect(rulesMatching(rules, taskEvent('STOPPED')).map((r) => r.name)).toEqual(['stopped', 'ecs']);
    expect(rulesMatching(rules, taskEvent('RUNNING')).map((r) => r.name)).toEqual(['ecs']);
  });

  it('picks up a rules file created, edited or broken while running', async () => {
    const rulesFile = join(dir, 'rules.json');
    const logger = recordingLogger();
    const sink = await LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl'), rulesFile, logger });
    const rulesWith = (pattern: object) =>
      JSON.stringify({ rules: [{ name: 'r', eventPattern: pattern, targets: [{ type: 'http', url: webhook.url }] }] });

    await sink.publish([taskEvent('STOPPED')]); // no rules file yet
    await sink.drain();
    expect(webhook.requests).toHaveLength(0);

    await writeFile(rulesFile, rulesWith({ detail: { lastStatus: ['RUNNING'] } }));
    const running = taskEvent('RUNNING');
    await sink.publish([running, taskEvent('STOPPED')]);
    await sink.drain();
    expect(webhook.requests.map((r) => r.body)).toEqual([running]);

    await writeFile(rulesFile, rulesWith({ detail: { lastStatus: ['STOPPED'] } }));
    const stopped = taskEvent('STOPPED');
    await sink.publish([taskEvent('RUNNING'), stopped]);
    await sink.drain();
    expect(webhook.requests.map((r) => r.body)).toEqual([running, stopped]);

    // A broken edit is reported once and the last good rules stay in force.
    await writeFile(rulesFile, '{ "rules": [ { "name": "r" ');
    const stoppedAgain = taskEvent('STOPPED');
    await sink.publish([stoppedAgain]);
    await sink.publish([taskEvent('RUNNING')]);
    await sink.drain();
    expect(webhook.requests.map((r) => r.body)).toEqual([running, stopped, stoppedAgain]);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(/keeping the previous rules.*not valid JSON/);
  });

  it('returns from publish while deliveries are still running; drain waits for them', async () => {
    const out = join(dir, 'slow.jsonl');
    const gate = join(dir, 'gate');
    const rulesFile = join(dir, 'rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({
        rules: [
          {
            name: 'slow',
            eventPattern: { source: ['aws.ecs'] },
            targets: [{ type: 'command', command: ['sh', '-c', `while [ ! -e '${gate}' ]; do sleep 0.02; done; cat >> '${out}'`] }],
          },
        ],
      }),
    );
    const sink = await LocalEventSink.open({ eventsFile: join(dir, 'events.jsonl'), rulesFile, logger: recordingLogger() });
    const event = taskEvent('RUNNING');
    await sink.publish([event]); // would never return if it waited for the gated command
    let drained = false;
    const draining = sink.drain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(drained).toBe(false);
    await writeFile(gate, '');
    await draining;
    expect(await readLines(out)).toEqual([event]);
  });
});

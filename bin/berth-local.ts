#!/usr/bin/env -S npx tsx
/**
 * `npm start`: the Berth control plane on this machine. Flags (or environment):
 *   --port N        (BERTH_PORT, default 4600)      --host H   (BERTH_HOST, default 127.0.0.1)
 *   --data-dir D    (BERTH_DATA_DIR, default .berth) --in-memory (keep nothing)
 *   --account A     (BERTH_ACCOUNT_ID, default 000000000000)
 *   --region R      (BERTH_REGION, default us-east-1; a signed request's own region wins)
 *   --events-file F (BERTH_EVENTS_FILE, default <data-dir>/events.jsonl)
 *   --rules-file F  (BERTH_RULES_FILE, default <data-dir>/rules.json)
 *   --event-source S (BERTH_EVENT_SOURCE, default berth.ecs)
 *   --no-agent      do not run the embedded agent (tasks then wait for a `berth-agent` to join)
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ACCOUNT, DEFAULT_PORT, DEFAULT_REGION, startBerthLocal } from '../src/local/berth-local';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'in-memory': { type: 'boolean' },
    account: { type: 'string' },
    region: { type: 'string' },
    'events-file': { type: 'string' },
    'rules-file': { type: 'string' },
    'event-source': { type: 'string' },
    'no-agent': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'usage: berth-local [--port 4600] [--host 127.0.0.1] [--data-dir .berth] [--in-memory] [--account ID] [--region R]\n' +
      '                   [--events-file F] [--rules-file F] [--event-source berth.ecs] [--no-agent]',
  );
  process.exit(0);
}

const env = process.env;
const port = Number(values.port ?? env.BERTH_PORT ?? DEFAULT_PORT);
const region = values.region ?? env.BERTH_REGION ?? DEFAULT_REGION;
const berth = await startBerthLocal({
  port,
  host: values.host ?? env.BERTH_HOST,
  dataDirectory: values['data-dir'] ?? env.BERTH_DATA_DIR,
  inMemory: values['in-memory'] ?? false,
  account: values.account ?? env.BERTH_ACCOUNT_ID ?? DEFAULT_ACCOUNT,
  region,
  eventsFile: values['events-file'] ?? env.BERTH_EVENTS_FILE,
  rulesFile: values['rules-file'] ?? env.BERTH_RULES_FILE,
  eventSource: values['event-source'] ?? env.BERTH_EVENT_SOURCE,
  agent: !values['no-agent'],
});

console.log(`Berth is ready: ECS API on ${berth.url} (account ${berth.context.account}, region ${region}).`);
console.log(`  DynamoDB Local: pid ${berth.dynamoDb.pid}, ${values['in-memory'] ? 'in memory' : `data in ${berth.dataDirectory}`}.`);
console.log(`  Events: ${berth.events.eventsFile}${berth.events.rulesFile ? ` (rules: ${berth.events.rulesFile})` : ''}.`);
if (berth.agent) console.log(`  Embedded agent: ${berth.agent.containerInstanceArn} (FARGATE, FARGATE_SPOT capacity).`);
console.log(`  Try: aws ecs create-cluster --cluster-name demo --endpoint-url ${berth.url} --region ${region}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Berth...`);
    await berth.stop();
    process.exit(0);
  });
}

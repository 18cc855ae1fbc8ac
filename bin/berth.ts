#!/usr/bin/env node
// The CDK app (cdk.json: `npx tsx bin/berth.ts`). Optional context:
//   -c berth:tableName=...  -c berth:eventBusName=...  -c berth:eventSource=...
//   -c berth:deletionProtection=false   (e.g. on LocalStack, so the table can be deleted by hand)
//   -c berth:archiveRetentionDays=30    (the bus archive of Berth's events; 0 keeps them forever)
//   -c berth:alarmTopicArn=arn:aws:sns:...  (where the alarms notify)
//   -c berth:agentChannel=false         (no agent WebSocket channel: LocalStack's free edition lacks WebSocket APIs)
//   -c berth:apiKind=http               (an HTTP API in front of the ECS API; default rest: docs/api-gateway.md)
//   -c berth:consumersFile=.berth/rules.json  (consumers of Berth's events, the rules file local mode reads)
//   -c berth:tableCapacity=provisioned  (provisioned capacity with auto scaling, or on-demand (default), or JSON:
//        '{"mode":"provisioned","writeUnits":{"min":50,"max":8000}}'; docs/cost.md, "Steady volume")
//   -c berth:streamBatchingWindowSeconds=2  (the stream processor gathers records up to 2 s per invocation; default 0)
// To embed Berth in your own app instead, use the BerthControlPlane construct (docs/embedding.md).
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { addBerthStacks, parseTableCapacity } from '../lib/berth';
import { parseRules } from '../src/local/event-rules';

const app = new App();

function context(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(`berth:${key}`);
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

addBerthStacks(app, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  tableName: context('tableName'),
  eventBusName: context('eventBusName'),
  eventSource: context('eventSource'),
  deletionProtection: context('deletionProtection') !== 'false',
  alarmTopicArn: context('alarmTopicArn'),
  apiKind: apiKindFrom(context('apiKind')),
  agentChannel: context('agentChannel') !== 'false',
  consumers: consumersFrom(context('consumersFile')),
  archiveRetentionDays: context('archiveRetentionDays') === undefined ? undefined : Number(context('archiveRetentionDays')),
  tableCapacity: tableCapacityFrom(app.node.tryGetContext('berth:tableCapacity')),
  streamBatchingWindowSeconds: secondsFrom('streamBatchingWindowSeconds', context('streamBatchingWindowSeconds')),
});

app.synth();

/** The consumers in a rules file (docs/events.md, "Consumers"): its AWS targets deploy, its local ones are skipped. */
function consumersFrom(file: string | undefined) {
  return file === undefined ? undefined : parseRules(readFileSync(file, 'utf8'), file);
}

function apiKindFrom(value: string | undefined): 'rest' | 'http' | undefined {
  if (value === undefined || value === 'rest' || value === 'http') return value;
  throw new Error(`-c berth:apiKind must be rest or http, got ${value}`);
}

/** A string from -c, or an object where cdk.json's context holds the JSON itself. */
function tableCapacityFrom(value: unknown) {
  if (value === undefined || value === null || value === '') return undefined;
  return parseTableCapacity(typeof value === 'string' ? value : JSON.stringify(value));
}

function secondsFrom(key: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds)) throw new Error(`-c berth:${key} must be a whole number of seconds, got ${value}`);
  return seconds;
}

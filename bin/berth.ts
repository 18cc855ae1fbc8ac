#!/usr/bin/env node
// The CDK app (cdk.json: `npx tsx bin/berth.ts`). Optional context:
//   -c berth:tableName=...  -c berth:eventBusName=...  -c berth:eventSource=...
//   -c berth:deletionProtection=false   (e.g. on LocalStack, so the table can be deleted by hand)
import { App } from 'aws-cdk-lib';
import { CURRENT_VERSION_EXPIRED_FLAGS } from 'aws-cdk-lib/cx-api';
import { addBerthStacks } from '../lib/berth';

const app = new App();

// CDK v2 throws on CDKv1-only feature flags (e.g. @aws-cdk/core:enableStackNameDuplicates) as soon
// as a Stack is created. v2 always behaves as if they were on, so drop them and say so.
for (const flag of CURRENT_VERSION_EXPIRED_FLAGS) {
  if (app.node.tryGetContext(flag) !== undefined) {
    process.stderr.write(`berth: ignoring '${flag}' (a CDKv1 feature flag CDK v2 rejects); remove it from cdk.json\n`);
    app.node.setContext(flag, undefined);
  }
}

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
});

app.synth();

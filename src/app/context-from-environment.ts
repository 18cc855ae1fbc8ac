import { createDocumentClient } from '../adapters/dynamodb/document-client';
import type { BerthContext } from './context';
import { createBerthContext } from './create-context';

/** The context a Lambda function builds from the environment its CDK stack gives it. */
export function berthContextFromEnvironment(env: NodeJS.ProcessEnv): BerthContext {
  const tableName = required(env, 'BERTH_TABLE_NAME');
  return createBerthContext({
    doc: createDocumentClient(),
    tableName,
    account: required(env, 'BERTH_ACCOUNT_ID'),
    region: env.BERTH_REGION ?? required(env, 'AWS_REGION'),
    retention: env.BERTH_STOPPED_TASK_RETENTION_SECONDS
      ? { stoppedTaskMs: Number(env.BERTH_STOPPED_TASK_RETENTION_SECONDS) * 1000 }
      : undefined,
    agentTimeoutMs: env.BERTH_AGENT_TIMEOUT_SECONDS ? Number(env.BERTH_AGENT_TIMEOUT_SECONDS) * 1000 : undefined,
  });
}

/** BERTH_CAPACITY_WAIT_SECONDS: how long a task may wait for capacity (undefined: the default). */
export function capacityWaitMs(env: NodeJS.ProcessEnv): number | undefined {
  const seconds = env.BERTH_CAPACITY_WAIT_SECONDS;
  if (seconds === undefined || seconds === '') return undefined;
  const value = Number(seconds);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`BERTH_CAPACITY_WAIT_SECONDS must be a positive number, got '${seconds}'`);
  return value * 1000;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

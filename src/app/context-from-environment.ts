import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { DEFAULT_THROTTLE, type ThrottleSettings } from '../domain/throttle';
import type { BerthContext } from './context';
import { createBerthContext } from './create-context';

/**
 * The context a Lambda function builds from the environment its CDK stack gives it. A function that
 * also builds stores of its own passes its one document client, so they share its connections.
 */
export function berthContextFromEnvironment(env: NodeJS.ProcessEnv, doc: DynamoDBDocumentClient = createDocumentClient()): BerthContext {
  const tableName = required(env, 'BERTH_TABLE_NAME');
  return createBerthContext({
    doc,
    tableName,
    account: required(env, 'BERTH_ACCOUNT_ID'),
    region: env.BERTH_REGION ?? required(env, 'AWS_REGION'),
    retention: env.BERTH_STOPPED_TASK_RETENTION_SECONDS
      ? { stoppedTaskMs: Number(env.BERTH_STOPPED_TASK_RETENTION_SECONDS) * 1000 }
      : undefined,
    agentTimeoutMs: env.BERTH_AGENT_TIMEOUT_SECONDS ? Number(env.BERTH_AGENT_TIMEOUT_SECONDS) * 1000 : undefined,
    throttle: throttleSettings(env),
  });
}

/**
 * BERTH_THROTTLE_BASE_SECONDS / BERTH_THROTTLE_MAX_SECONDS: the service throttle's first wait and cap
 * (default 10 s and 900 s, seed 004's 15 minutes); only tests should change them.
 */
export function throttleSettings(env: NodeJS.ProcessEnv): ThrottleSettings | undefined {
  const base = env.BERTH_THROTTLE_BASE_SECONDS;
  const max = env.BERTH_THROTTLE_MAX_SECONDS;
  if (!base && !max) return undefined;
  const settings = { baseSeconds: Number(base ?? DEFAULT_THROTTLE.baseSeconds), maxSeconds: Number(max ?? DEFAULT_THROTTLE.maxSeconds) };
  if (!(settings.baseSeconds > 0) || !(settings.maxSeconds >= settings.baseSeconds)) {
    throw new Error(`BERTH_THROTTLE_BASE_SECONDS and BERTH_THROTTLE_MAX_SECONDS must be positive numbers, base <= max, got '${base}' and '${max}'`);
  }
  return settings;
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

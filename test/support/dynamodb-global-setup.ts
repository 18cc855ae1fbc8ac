/**
 * One DynamoDB Local JVM for the whole test run (each suite uses its own table), stopped by pid in
 * teardown; its watchdog kills it even if the runner itself is killed.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../src/local/dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const dynamoDb = await startDynamoDbLocal();
  project.provide('dynamoDbEndpoint', dynamoDb.endpoint);
  return async () => {
    await dynamoDb.stop();
  };
}

import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { IConstruct } from 'constructs';
import { DEFAULT_EVENT_SOURCE } from '../../src/domain/task-events';

/** Default `source` of the events Berth emits (`aws.*` is reserved for AWS services): 'berth.ecs'. */
export { DEFAULT_EVENT_SOURCE };

/**
 * The environment every Berth function reads through `berthContextFromEnvironment`: the table, and
 * the account and region that ARNs are built in (those of the stack the function deploys in).
 */
export function berthEnvironment(scope: IConstruct, table: dynamodb.ITable): Record<string, string> {
  const stack = Stack.of(scope);
  return {
    BERTH_TABLE_NAME: table.tableName,
    BERTH_ACCOUNT_ID: stack.account,
    BERTH_REGION: stack.region,
  };
}

/** The event source, defaulted and checked: 1-256 characters, not in the reserved `aws.` namespace. */
export function validEventSource(owner: string, eventSource: string | undefined): string {
  const source = eventSource ?? DEFAULT_EVENT_SOURCE;
  if (source.startsWith('aws.') || source.length === 0 || source.length > 256) {
    throw new Error(`${owner}: eventSource must be 1-256 characters and must not start with 'aws.', got '${source}'`);
  }
  return source;
}

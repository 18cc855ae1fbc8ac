/**
 * The one table's key schema, shared by the CDK stack, the local runtime's CreateTable and the
 * repositories, so the three cannot drift apart. Keys and access patterns: docs/data-model.md.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /**
   * Listing index: clusters and task definitions of an account+region, in name order; connected
   * agents of an account+region, by when they last polled.
   */
  listIndex: {
    name: 'gsi1',
    partitionKey: 'gsi1pk',
    sortKey: 'gsi1sk',
    /**
     * What the index copies besides the keys: only what its readers use (the record, a task
     * definition's status, a family's name and active count). Task counters, a host's remaining
     * capacity and versions stay out, so the counter updates of every task step write the table
     * item alone, not its index copy as well (an index is written only when a projected attribute
     * or its keys change). Changing it replaces the index in AWS: docs/data-model.md.
     */
    projection: { type: 'INCLUDE', attributes: ['kind', 'doc', 'status', 'family', 'activeRevisionCount'] } as {
      readonly type: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
      readonly attributes?: readonly string[];
    },
  },
  /** DynamoDB TTL attribute (epoch seconds): stopped tasks, inactive clusters, idempotency tokens. */
  ttlAttribute: 'expiresAt',
  /** Every mutable item carries it; every update is conditional on it. */
  versionAttribute: 'version',
} as const;

export const DEFAULT_TABLE_NAME = 'berth';

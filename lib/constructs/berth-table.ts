import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../src/adapters/dynamodb/table-schema';

export interface BerthTableProps {
  /**
   * Physical table name.
   * @default - CloudFormation generates one, so two Berth deployments can share an account
   */
  readonly tableName?: string;
  /**
   * Customer-managed KMS key for encryption at rest.
   * @default - the AWS-managed key `aws/dynamodb` (TableEncryption.AWS_MANAGED)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * DynamoDB deletion protection (refuses DeleteTable, also from the console).
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * What CloudFormation does with the table when the resource leaves the stack.
   * @default RemovalPolicy.RETAIN - cluster state outlives the stack
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How the table and its gsi1 index pay for reads and writes: on demand (per request), or
   * provisioned capacity that auto scaling (target tracking) keeps near a utilization between a
   * minimum and a maximum. Provisioned costs less per unit for steady volume and more while idle:
   * docs/cost.md, "Steady volume: provisioned capacity and a batching window".
   * @default { mode: 'on-demand' }
   */
  readonly capacity?: BerthTableCapacity;
}

/** The capacity units auto scaling keeps a table or an index between (whole units, 1 <= min <= max). */
export interface CapacityRange {
  readonly min: number;
  readonly max: number;
}

/** On demand: DynamoDB bills each request; nothing is paid while idle. */
export interface OnDemandCapacity {
  readonly mode: 'on-demand';
}

/**
 * Provisioned capacity with auto scaling on the table and on gsi1, each dimension (reads, writes)
 * between its range by target tracking. Billed per provisioned unit-hour whether used or not, plus
 * the CloudWatch alarms auto scaling creates (4 per scaled dimension, 16 here).
 */
export interface ProvisionedCapacity {
  readonly mode: 'provisioned';
  /** Write capacity units of the table. */
  readonly writeUnits: CapacityRange;
  /** Read capacity units of the table. */
  readonly readUnits: CapacityRange;
  /**
   * Write capacity units of gsi1. The index takes few writes (its copies change only when a listed
   * item's listing attributes do: about 0.1 of a lifecycle's 31 units), so a minimum of 1 is usual;
   * an index short of write capacity throttles the table's writes too.
   * @default - the table's writeUnits
   */
  readonly indexWriteUnits?: CapacityRange;
  /** Read capacity units of gsi1 (the List* operations and the sweep's queries). @default - the table's readUnits */
  readonly indexReadUnits?: CapacityRange;
  /**
   * Consumed / provisioned capacity that target tracking keeps each dimension near, in percent
   * (20..90). Lower leaves more headroom for bursts and costs more per unit used.
   * @default 70
   */
  readonly targetUtilizationPercent?: number;
}

export type BerthTableCapacity = OnDemandCapacity | ProvisionedCapacity;

/** Target tracking's default utilization (DynamoDB's console default too). */
export const DEFAULT_TARGET_UTILIZATION_PERCENT = 70;

/**
 * What `-c berth:tableCapacity=provisioned` deploys: a floor of 5 units on the table's reads and
 * writes and 1 on the index's (about $3.42 a month in capacity and $1.60 in alarms while idle), and
 * maxima far above what one Berth has been measured to do (4,000 WCU at 70% is ~90 lifecycles/s).
 */
export const DEFAULT_PROVISIONED_CAPACITY: Required<ProvisionedCapacity> = {
  mode: 'provisioned',
  writeUnits: { min: 5, max: 4000 },
  readUnits: { min: 5, max: 4000 },
  indexWriteUnits: { min: 1, max: 1000 },
  indexReadUnits: { min: 1, max: 1000 },
  targetUtilizationPercent: DEFAULT_TARGET_UTILIZATION_PERCENT,
};

const PROVISIONED_KEYS = Object.keys(DEFAULT_PROVISIONED_CAPACITY);

/**
 * The table capacity a context value names (`-c berth:tableCapacity=...`): `on-demand`,
 * `provisioned` (DEFAULT_PROVISIONED_CAPACITY), or a JSON object whose fields replace the defaults'
 * (`{"mode":"provisioned","writeUnits":{"min":50,"max":8000}}`). The ranges are checked by BerthTable.
 */
export function parseTableCapacity(value: string): BerthTableCapacity {
  const text = value.trim();
  if (text === 'on-demand') return { mode: 'on-demand' };
  if (text === 'provisioned') return DEFAULT_PROVISIONED_CAPACITY;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`tableCapacity must be on-demand, provisioned or a JSON object, got '${value}'`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`tableCapacity must be on-demand, provisioned or a JSON object, got '${value}'`);
  }
  const object = parsed as Record<string, unknown>;
  if (object.mode === 'on-demand') {
    if (Object.keys(object).length > 1) throw new Error('tableCapacity: mode on-demand takes no other fields (they size provisioned capacity)');
    return { mode: 'on-demand' };
  }
  if (object.mode !== 'provisioned') throw new Error(`tableCapacity's mode must be on-demand or provisioned, got ${JSON.stringify(object.mode)}`);
  const unknown = Object.keys(object).filter((key) => !PROVISIONED_KEYS.includes(key));
  if (unknown.length > 0) throw new Error(`tableCapacity has unknown fields ${unknown.join(', ')} (known: ${PROVISIONED_KEYS.join(', ')})`);
  return { ...DEFAULT_PROVISIONED_CAPACITY, ...(object as Partial<ProvisionedCapacity>) };
}

/**
 * The one Berth table: every cluster, task definition, task, service and container instance.
 *
 * Key names come from `TABLE_SCHEMA`, the same object the repositories and the local runtime's
 * CreateTable read, so the deployed table and the code cannot drift apart. The stream
 * (NEW_AND_OLD_IMAGES) is the outbox the task state machine and the event publisher consume.
 */
export class BerthTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: BerthTableProps = {}) {
    super(scope, id);
    if (props.tableName !== undefined && !/^[a-zA-Z0-9_.-]{3,255}$/.test(props.tableName)) {
      throw new Error(`BerthTable: tableName must be 3-255 characters of [a-zA-Z0-9_.-], got '${props.tableName}'`);
    }

    const capacity = validCapacity(props.capacity ?? { mode: 'on-demand' });
    const provisioned = capacity.mode === 'provisioned' ? capacity : undefined;

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      // Auto scaling moves provisioned units from the minimum; CloudFormation sets them only at
      // creation and when this number changes.
      ...(provisioned
        ? { billingMode: dynamodb.BillingMode.PROVISIONED, readCapacity: provisioned.readUnits.min, writeCapacity: provisioned.writeUnits.min }
        : { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST }),
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // AWS-managed by default: encrypted at rest with key use logged in CloudTrail, and no key
      // policy to own and no kms:Decrypt grant needed by every stream consumer. Pass a key when
      // an organisation requires its own (rotation, cross-account, crypto-shredding).
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.listIndex.name,
      partitionKey: { name: TABLE_SCHEMA.listIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.listIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType[TABLE_SCHEMA.listIndex.projection.type],
      nonKeyAttributes: TABLE_SCHEMA.listIndex.projection.attributes ? [...TABLE_SCHEMA.listIndex.projection.attributes] : undefined,
      ...(provisioned ? { readCapacity: provisioned.indexReadUnits.min, writeCapacity: provisioned.indexWriteUnits.min } : {}),
    });
    if (provisioned) this.autoScale(provisioned);
  }

  /**
   * Target tracking on each of the four dimensions (Application Auto Scaling, through DynamoDB's
   * service-linked role: no role of Berth's). Each policy's alarms are created by the service, not
   * by this stack.
   */
  private autoScale(capacity: Required<ProvisionedCapacity>): void {
    const index = TABLE_SCHEMA.listIndex.name;
    const targetUtilizationPercent = capacity.targetUtilizationPercent;
    const range = (units: CapacityRange) => ({ minCapacity: units.min, maxCapacity: units.max });
    this.table.autoScaleWriteCapacity(range(capacity.writeUnits)).scaleOnUtilization({ targetUtilizationPercent });
    this.table.autoScaleReadCapacity(range(capacity.readUnits)).scaleOnUtilization({ targetUtilizationPercent });
    this.table.autoScaleGlobalSecondaryIndexWriteCapacity(index, range(capacity.indexWriteUnits)).scaleOnUtilization({ targetUtilizationPercent });
    this.table.autoScaleGlobalSecondaryIndexReadCapacity(index, range(capacity.indexReadUnits)).scaleOnUtilization({ targetUtilizationPercent });
  }
}

/** The capacity with its defaults filled in, or an error naming what is wrong (at synth, before any deploy). */
function validCapacity(capacity: BerthTableCapacity): OnDemandCapacity | Required<ProvisionedCapacity> {
  const mode: unknown = capacity.mode;
  if (mode === 'on-demand') return { mode: 'on-demand' };
  if (mode !== 'provisioned') throw new Error(`BerthTable: capacity.mode must be 'on-demand' or 'provisioned', got ${JSON.stringify(mode)}`);
  const provisioned = capacity as ProvisionedCapacity;
  const resolved: Required<ProvisionedCapacity> = {
    mode: 'provisioned',
    writeUnits: provisioned.writeUnits,
    readUnits: provisioned.readUnits,
    indexWriteUnits: provisioned.indexWriteUnits ?? provisioned.writeUnits,
    indexReadUnits: provisioned.indexReadUnits ?? provisioned.readUnits,
    targetUtilizationPercent: provisioned.targetUtilizationPercent ?? DEFAULT_TARGET_UTILIZATION_PERCENT,
  };
  for (const name of ['writeUnits', 'readUnits', 'indexWriteUnits', 'indexReadUnits'] as const) {
    checkRange(name, resolved[name]);
  }
  const target = resolved.targetUtilizationPercent;
  if (typeof target !== 'number' || !Number.isFinite(target) || target < 20 || target > 90) {
    throw new Error(`BerthTable: capacity.targetUtilizationPercent must be between 20 and 90, got ${String(target)}`);
  }
  return resolved;
}

function checkRange(name: string, range: CapacityRange | undefined): void {
  if (typeof range !== 'object' || range === null) throw new Error(`BerthTable: capacity.${name} must be { min, max }, got ${String(range)}`);
  const { min, max } = range;
  for (const [bound, value] of [['min', min], ['max', max]] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new Error(`BerthTable: capacity.${name}.${bound} must be a whole number of capacity units, got ${String(value)}`);
    }
  }
  if (min < 1) throw new Error(`BerthTable: capacity.${name}.min must be at least 1, got ${min}`);
  if (min > max) throw new Error(`BerthTable: capacity.${name}.min (${min}) must not exceed its max (${max})`);
}

/** Item-level actions the API and the stream processor need (transactions authorize per item). */
export const TABLE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
] as const;

/**
 * Least-privilege read/write on the Berth table: item actions on the table and Query on the
 * listing index by name. Narrower than `grantReadWriteData` (no Scan, no `index/*` wildcard).
 */
export function grantTableReadWrite(grantee: iam.IGrantable, table: dynamodb.ITable): iam.Grant {
  table.encryptionKey?.grantEncryptDecrypt(grantee);
  const items = iam.Grant.addToPrincipal({
    grantee,
    actions: [...TABLE_ITEM_ACTIONS],
    resourceArns: [table.tableArn],
  });
  const index = iam.Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:Query'],
    resourceArns: [`${table.tableArn}/index/${TABLE_SCHEMA.listIndex.name}`],
  });
  return items.combine(index);
}

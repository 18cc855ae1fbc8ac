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

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
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
    });
  }
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

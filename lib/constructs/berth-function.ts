import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from './paths';

/** The runtime every Berth function uses; the SDK v3 wants Node >= 22 after January 2027. */
export const BERTH_LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;

// esbuild's ESM output has no `require`; a CommonJS dependency that calls require('node:...')
// at runtime needs one. The alias keeps the banner's import from clashing with bundled names.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __berthCreateRequire } from 'node:module';" +
  'const require = __berthCreateRequire(import.meta.url);';

export interface BerthFunctionProps {
  /** Handler file, relative to the repository root (e.g. `lambdas/api.ts`); it exports `handler`. */
  readonly entry: string;
  /** Shown in the Lambda console. @default - none */
  readonly description?: string;
  /** Environment variables (NODE_OPTIONS=--enable-source-maps is always added). @default {} */
  readonly environment?: Record<string, string>;
  /** @default 512 (MB) */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Retention of the function's log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Berth Lambda function: Node.js 22 on arm64, bundled locally by esbuild as minified ESM with
 * source maps, logging as JSON to its own log group, with a role that may write to that log group
 * and nothing else until callers grant more (so no AWSLambdaBasicExecutionRole managed policy).
 */
export class BerthFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BerthFunctionProps) {
    super(scope, id);
    const memorySize = props.memorySize ?? 512;
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
      throw new Error(`BerthFunction: memorySize must be an integer in 128..10240, got ${memorySize}`);
    }
    if (path.isAbsolute(props.entry)) {
      throw new Error(`BerthFunction: entry must be relative to the repository root, got '${props.entry}'`);
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.entry}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: BERTH_LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout: props.timeout ?? Duration.seconds(30),
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        // Prefer packages' ESM builds (tree-shaken); fall back to CommonJS.
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the AWS SDK too: the function runs the SDK versions the tests ran, not whatever
        // the managed runtime ships that month.
        bundleAwsSDK: true,
      },
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose (newest is nodejs24.x): the toolchain and tests target ' +
        'Node 22; moving runtimes is a deliberate, tested change, not an automatic one.',
    });
  }
}

#!/usr/bin/env -S node --import tsx
/**
 * `npx berth <command>`: tools for a Berth deployed in an AWS account.
 *
 *   npx berth proxy --endpoint <EcsEndpoint> [--port 4601] [--region R] [--profile P]
 *       A loopback proxy that signs ECS requests with your AWS credentials for API Gateway
 *       (`execute-api`), so unmodified tools work against the deployed API:
 *         aws ecs list-clusters --endpoint-url http://127.0.0.1:4601
 *       Credentials come from the default chain (environment, --profile / AWS_PROFILE, SSO, instance
 *       role). SIGINT/SIGTERM stop it. See docs/deploy.md.
 */
// First: it notes which process launched us before the rest loads (src/local/stop-with-launcher.ts).
import { stopWhenLauncherExits } from '../src/local/stop-with-launcher';
import { parseArgs } from 'node:util';
import '../src/local/quiet-node-version-warning';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { startSigningProxy } from '../src/proxy/signing-proxy';

const USAGE = `Usage: npx berth proxy --endpoint <EcsEndpoint> [--port 4601] [--region <region>] [--profile <profile>]`;

async function proxy(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      endpoint: { type: 'string' },
      port: { type: 'string' },
      region: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const endpoint = values.endpoint ?? process.env.BERTH_ENDPOINT;
  if (!endpoint) throw new UsageError('--endpoint (or BERTH_ENDPOINT) is required: the EcsEndpoint output of the Berth-ControlPlane stack');
  const port = values.port === undefined ? 4601 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got ${values.port}`);
  const running = await startSigningProxy({
    endpoint,
    port,
    region: values.region ?? process.env.BERTH_REGION,
    credentials: defaultProvider(values.profile ? { profile: values.profile } : {}),
    logger: console,
  });
  console.log(`berth proxy: ${running.url} -> ${running.endpoint.href} (signing for execute-api in ${running.region})`);
  console.log(`  aws ecs list-clusters --endpoint-url ${running.url}`);
  const stop = () => void running.close().then(() => process.exit(0));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, stop);
  stopWhenLauncherExits(stop);
}

class UsageError extends Error {}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'proxy') await proxy(rest);
  else if (command === undefined || command === '--help' || command === '-h' || command === 'help') console.log(USAGE);
  else throw new UsageError(`unknown command "${command}"`);
} catch (error) {
  // Bad flags are the user's to fix: one line and the usage, not a stack trace.
  const message = (error as Error).message;
  console.error(`berth: ${message}`);
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(USAGE);
  process.exit(2);
}

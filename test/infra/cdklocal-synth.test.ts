// `cdklocal synth` (npm aws-cdk-local, the wrapper localstack/deploy.sh uses) runs the real app
// through the real CLI, offline, with LocalStack's environment: the same path as a LocalStack
// deploy up to the point where it needs LocalStack. About 5-8 s on two idle cores.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/constructs/paths';

const CDKLOCAL = join(PROJECT_ROOT, 'node_modules', '.bin', 'cdklocal');
const outdir = mkdtempSync(join(tmpdir(), 'berth-cdklocal-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe.skipIf(!existsSync(CDKLOCAL))('cdklocal synth (offline)', () => {
  it('synthesizes both stacks as localstack/deploy.sh does (no agent channel) and bundles the seven handlers locally, without LocalStack or credentials', async () => {
    const { code, output } = await run(CDKLOCAL, ['synth', '--quiet', '--no-notices', '-o', outdir, '-c', 'berth:agentChannel=false'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CDK_DISABLE_VERSION_CHECK: '1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENVAR_ALLOWLIST: 'AWS_EC2_METADATA_DISABLED',
      // Skips the CDK's built-in CloudFormation validation (warnings only, about 3 s of WASM start-up);
      // stacks.test.ts runs it on the same app and requires an empty report. cdk-nag still runs here.
      CDK_VALIDATION: 'false',
    });
    expect(code, output).toBe(0);

    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string }>;
    };
    const stacks = Object.entries(manifest.artifacts)
      .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
      .map(([name]) => name)
      .sort();
    expect(stacks).toEqual(['Berth-ControlPlane', 'Berth-Stateful']);

    // The seven handlers (API, task stream, capacity sweep, Spot interruption, scheduled run, service reconcile and park), each bundled locally.
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    expect(assets.filter((asset) => existsSync(join(outdir, asset, 'index.mjs')))).toHaveLength(7);
    // LocalStack's free edition has no API Gateway v2: nothing of the kind may be in the templates.
    const controlPlane = readFileSync(join(outdir, 'Berth-ControlPlane.template.json'), 'utf8');
    expect(controlPlane).not.toContain('AWS::ApiGatewayV2::');
  }, 180_000);
});

// localstack/: what can be checked without a Docker engine. The compose file pins a release and
// enables every service the stacks use; `npm run test:localstack` is outside `npm test` and, with no
// LocalStack to talk to, stops at once with a message saying how to start one (never a silent skip
// that reads as a pass, never a long timeout).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/constructs/paths';

const compose = readFileSync(join(PROJECT_ROOT, 'localstack', 'docker-compose.yml'), 'utf8');
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('localstack/docker-compose.yml', () => {
  it('pins a LocalStack release, not a moving tag', () => {
    const image = /image: \$\{LOCALSTACK_IMAGE:-localstack\/localstack:([^}]+)\}/.exec(compose)?.[1];
    expect(image).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each(['dynamodb', 'dynamodbstreams', 'lambda', 'stepfunctions', 'events', 'scheduler', 'apigateway', 'iam', 'sqs', 'logs', 'cloudformation', 's3', 'ssm', 'sts'])(
    'enables %s',
    (service) => {
      const services = /SERVICES: (\S+)/.exec(compose)?.[1]?.split(',') ?? [];
      expect(services).toContain(service);
    },
  );
});

describe('localstack/deploy.sh', () => {
  it('deploys without the agent channel (the free edition has no API Gateway v2) and without deletion protection', () => {
    const deploy = readFileSync(join(PROJECT_ROOT, 'localstack', 'deploy.sh'), 'utf8');
    expect(deploy).toContain('-c berth:agentChannel=false');
    expect(deploy).toContain('-c berth:deletionProtection=false');
  });
});

describe('npm scripts', () => {
  it('deploy and smoke-test LocalStack by name, and `npm test` does not include the smoke test', () => {
    expect(pkg.scripts['localstack:deploy']).toBe('bash localstack/deploy.sh');
    expect(pkg.scripts['test:localstack']).toBe('vitest run -c localstack/vitest.config.ts');
    const projectConfig = readFileSync(join(PROJECT_ROOT, 'vitest.config.ts'), 'utf8');
    expect(projectConfig).toContain("include: ['test/**/*.test.ts']");
  });

  it('`npm run test:localstack` without LocalStack exits 1 at once, saying how to start it', async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('npm', ['run', 'test:localstack'], {
        cwd: PROJECT_ROOT,
        // Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
        env: { ...process.env, LOCALSTACK_ENDPOINT: 'http://127.0.0.1:9', CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ code: exitCode, output }));
    });
    expect(code).toBe(1);
    expect(output).toContain('LocalStack is not reachable at http://127.0.0.1:9');
    expect(output).toContain('docker compose -f localstack/docker-compose.yml up -d --wait');
  }, 60_000);
});

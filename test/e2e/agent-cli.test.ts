// berth-agent's command line as a user meets it: --help prints the flags (the file's own opening
// comment), a mistyped flag gets one line and exit 2, never a stack trace.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/constructs/paths';

const run = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', join('bin', 'berth-agent.ts'), ...args], { cwd: PROJECT_ROOT }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

describe('berth-agent command line', () => {
  it('--help prints every flag and exits 0', async () => {
    const { code, stdout } = await run('--help');
    expect(code).toBe(0);
    for (const flag of ['--endpoint', '--cluster', '--fargate', '--capacity-provider', '--channel', '--signing-name', '--work-dir']) {
      expect(stdout).toContain(flag);
    }
  });

  it('a mistyped flag: one line naming it, exit 2', async () => {
    const { code, stderr } = await run('--clustr', 'demo');
    expect(code).toBe(2);
    expect(stderr.trim().split('\n').filter((line) => line.startsWith('berth-agent:'))).toEqual([
      "berth-agent: Unknown option '--clustr' (npx berth-agent --help lists the flags)",
    ]);
    expect(stderr).not.toContain('    at ');
  });
});

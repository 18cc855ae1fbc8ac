/**
 * The README's quick start, literally, as a new user meets it: a fresh copy of the working tree (the
 * files git tracks or would track, nothing else: no `.berth`, no build output), `npm start` with no
 * flags from its root (the port from BERTH_PORT only), a task to RUNNING with the AWS CLI, then the
 * README's stop instructions: SIGTERM to the pid of `npm start`, and Ctrl-C (SIGINT to the whole
 * process group). After each stop no process of that run is left, checked by pid, and the data stays.
 *
 * node_modules is a link to the installed one (a real `npm ci` per test would dominate the suite);
 * it points outside the copy, which is exactly how the DynamoDB Local JVM sees its own working
 * directory in a real install, so relative data paths are exercised for real.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SHUT_DOWN } from '../../src/agent/reasons';
import { freePort } from '../../src/local/dynamodb-local';
import { isAlive } from '../support/processes';

const AWS = '/usr/bin/aws';
const hasCli = existsSync(AWS);
if (!hasCli) console.warn(`SKIPPED README quick-start suite: ${AWS} not found (apt-get install -y awscli)`);

const repository = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'berth-clone-'));
const clone = join(scratch, 'berth');
const pids = new Set<number>();
const runs: ChildProcess[] = [];

beforeAll(() => {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repository })
    .toString()
    .split('\0')
    .filter((file) => file && existsSync(join(repository, file)));
  for (const file of files) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    copyFileSync(join(repository, file), join(clone, file));
  }
  symlinkSync(join(repository, 'node_modules'), join(clone, 'node_modules'));
});

afterAll(() => {
  for (const run of runs) if (run.exitCode === null && run.pid) killGroup(run.pid, 'SIGKILL');
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function until<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `npm start` as typed in a terminal: npm leads its own process group, as a shell's job does. */
async function npmStart(port: number) {
  const { INIT_CWD: _, ...env } = process.env;
  const child = spawn('npm', ['start'], {
    cwd: clone,
    env: { ...env, BERTH_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  runs.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await Promise.race([
    until(() => output.includes('  Try: aws ecs'), 90_000, `npm start to be ready:\n${output}`),
    exited.then((code) => {
      throw new Error(`npm start exited with ${code}:\n${output}`);
    }),
  ]);
  const node = Number(/; pid (\d+)\)/.exec(output)![1]);
  const jvm = Number(/DynamoDB Local: pid (\d+)/.exec(output)![1]);
  pids.add(node).add(jvm);
  return { npm: child.pid!, node, jvm, exited, output: () => output };
}

async function aws(port: number, ...args: string[]): Promise<any> {
  const { stdout } = await promisify(execFile)(AWS, ['ecs', ...args, '--endpoint-url', `http://127.0.0.1:${port}`, '--output', 'json'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  return stdout.trim() ? JSON.parse(stdout) : {};
}

/** The README's example task, whose process writes its pid so the test can check it is gone. */
async function runTaskToRunning(port: number, name: string): Promise<{ taskArn: string; pid: number }> {
  const pidFile = join(scratch, `${name}.pid`);
  await aws(port, 'register-task-definition', '--family', name, '--requires-compatibilities', 'FARGATE', '--network-mode', 'awsvpc',
    '--cpu', '256', '--memory', '512', '--container-definitions',
    JSON.stringify([{ name: 'main', image: 'busybox', command: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 300`] }]));
  const { tasks } = await aws(port, 'run-task', '--cluster', 'demo', '--task-definition', name, '--launch-type', 'FARGATE',
    '--network-configuration', 'awsvpcConfiguration={subnets=[subnet-local]}');
  const taskArn = tasks[0].taskArn as string;
  await until(async () => (await aws(port, 'describe-tasks', '--cluster', 'demo', '--tasks', taskArn)).tasks[0].lastStatus === 'RUNNING', 30_000, 'RUNNING');
  const pid = await until(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || undefined : undefined), 10_000, 'task pid');
  pids.add(pid);
  return { taskArn, pid };
}

/** What a stop printed after its first line: a few lines, no stack traces. */
function stopOutput(output: string): string {
  return output.slice(output.indexOf('stopping Berth'));
}

describe.skipIf(!hasCli)('the README quick start from a fresh copy', () => {
  it('npm start with no flags keeps its data in ./.berth, and SIGTERM to npm stops every process it started', async () => {
    const port = await freePort();
    const first = await npmStart(port);
    expect(first.output()).toContain(`data in ${join(clone, '.berth')}`);
    await aws(port, 'create-cluster', '--cluster-name', 'demo');
    const task = await runTaskToRunning(port, 'hello');

    process.kill(first.npm, 'SIGTERM');
    expect(await first.exited).toBe(0);
    for (const pid of [first.node, first.jvm, task.pid]) expect(await until(() => !isAlive(pid), 10_000, `pid ${pid} to end`)).toBe(true);
    const said = stopOutput(first.output());
    expect(said).toContain('Berth stopped.');
    expect(said).not.toMatch(/Error|at .*\(|ServerException|ECONNREFUSED/);
    expect(said.trim().split('\n').length).toBeLessThanOrEqual(4);
    expect(existsSync(join(clone, '.berth', 'dynamodb'))).toBe(true);
    expect(existsSync(join(clone, '.berth', 'berth.lock'))).toBe(false);

    // Started again: the cluster is there, and the task that was running when Berth stopped is
    // STOPPED with a reason that says what happened, not an invented exit.
    const second = await npmStart(port);
    const { clusters } = await aws(port, 'describe-clusters', '--clusters', 'demo');
    expect(clusters[0].status).toBe('ACTIVE');
    const stopped = await until(async () => {
      const described = (await aws(port, 'describe-tasks', '--cluster', 'demo', '--tasks', task.taskArn)).tasks[0];
      return described.lastStatus === 'STOPPED' ? described : undefined;
    }, 30_000, 'the earlier task to be STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'TerminationNotice', stoppedReason: AGENT_SHUT_DOWN });

    // Ctrl-C: the terminal sends SIGINT to every process of the foreground group at once.
    const again = await runTaskToRunning(port, 'again');
    killGroup(second.npm, 'SIGINT');
    expect(await second.exited).toBe(0);
    for (const pid of [second.node, second.jvm, again.pid]) expect(await until(() => !isAlive(pid), 10_000, `pid ${pid} to end`)).toBe(true);
    const saidAgain = stopOutput(second.output());
    expect(saidAgain).toContain('Berth stopped.');
    expect(saidAgain).not.toMatch(/Error|at .*\(|ServerException|ECONNREFUSED/);
  }, 240_000);

  it('a second npm start on the same data directory refuses with one line naming the running one', async () => {
    const port = await freePort();
    const first = await npmStart(port);
    const { INIT_CWD: _, ...env } = process.env;
    const refused = await promisify(execFile)('npm', ['start'], { cwd: clone, env: { ...env, BERTH_PORT: String(await freePort()) } }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain(`Berth is already running on data directory ${join(clone, '.berth')} (pid ${first.node}, http://127.0.0.1:${port})`);
    process.kill(first.npm, 'SIGTERM');
    expect(await first.exited).toBe(0);
  }, 120_000);
});

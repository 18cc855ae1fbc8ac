import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerSpec, type HealthStatus, ContainerStartError } from '../../src/agent/container-runtime';
import { ProcessContainer, ProcessRuntime, resolveExecutable } from '../../src/agent/process-runtime';
import { isAlive } from '../support/processes';

let root: string;
let runtime: ProcessRuntime;
const started: ProcessContainer[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'berth-process-runtime-'));
  runtime = new ProcessRuntime({ rootDir: root });
});

afterAll(async () => {
  await Promise.all(started.map((c) => c.stop(0)));
  await rm(root, { recursive: true, force: true });
});

async function start(spec: Partial<ContainerSpec> & { command?: string[] }, onHealthChange?: (s: HealthStatus) => void) {
  const taskId = randomUUID().replaceAll('-', '');
  const container = await runtime.start(taskId, { name: 'app', image: 'local/sh', ...spec }, { onHealthChange });
  started.push(container);
  return { taskId, container };
}

const sh = (script: string): Partial<ContainerSpec> => ({ entryPoint: ['sh', '-c'], command: [script] });

/** Alive and not a zombie (a reparented zombie may linger when PID 1 does not reap). */

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('ProcessRuntime', () => {
  it('runs [...entryPoint, ...command], reports exit code 3, logs and environment, digest of the executable', async () => {
    const { container } = await start({
      ...sh('echo "out $GREETING $PWD $HOME"; echo err >&2; exit 3'),
      environment: [{ name: 'GREETING', value: 'hello' }],
    });
    expect(await container.exited).toEqual({ exitCode: 3 });
    expect(container.pid).toBeGreaterThan(0);

    const scratch = container.logDir;
    expect(await readFile(path.join(scratch, 'stdout.log'), 'utf8')).toBe(
      `out hello ${realpathSync(scratch)} ${scratch}\n`,
    );
    expect(await readFile(path.join(scratch, 'stderr.log'), 'utf8')).toBe('err\n');

    const shPath = (await resolveExecutable('sh', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '/'))!;
    const expected = `sha256:${createHash('sha256').update(readFileSync(shPath)).digest('hex')}`;
    expect(container.imageDigest).toBe(expected);
    expect(JSON.parse(await readFile(path.join(scratch, 'container.json'), 'utf8'))).toMatchObject({
      pid: container.pid,
      imageDigest: expected,
      spec: { name: 'app', image: 'local/sh' },
    });
    // stop after exit is harmless and returns the same exit
    expect(await container.stop(1)).toEqual({ exitCode: 3 });
  });

  it('a container pinned to a digest (seed 002) runs when its executable has that digest, and fails to start when not', async () => {
    const shPath = (await resolveExecutable('sh', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '/'))!;
    const digest = `sha256:${createHash('sha256').update(readFileSync(shPath)).digest('hex')}`;
    const { container } = await start({ ...sh('exit 0'), imageDigest: digest });
    expect(container.imageDigest).toBe(digest);
    expect(await container.exited).toEqual({ exitCode: 0 });

    const other = `sha256:${'0'.repeat(64)}`;
    const err = await start({ ...sh('exit 0'), imageDigest: other }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerStartError);
    expect((err as Error).message).toMatch(new RegExp(`^CannotPullContainerError: container app: the executable .* is ${digest}, not the pinned image digest ${other}$`));
  });

  it('uses command[0] as the executable without an entryPoint, in the given working directory', async () => {
    const dir = await mkdtemp(path.join(root, 'wd-'));
    const { container } = await start({ command: ['sh', '-c', 'pwd > where.txt'], workingDirectory: dir });
    expect(await container.exited).toEqual({ exitCode: 0 });
    expect((await readFile(path.join(dir, 'where.txt'), 'utf8')).trim()).toBe(realpathSync(dir));
  });

  it('a container that traps SIGTERM writes its marker and exits 0', async () => {
    const { container } = await start({
      ...sh('trap "echo bye > marker; exit 0" TERM; echo ready > ready; while true; do sleep 0.05; done'),
      stopTimeout: 5,
    });
    await waitFor(() => existsSync(path.join(container.cwd, 'ready')));
    const t0 = Date.now();
    const exit = await container.stop(5);
    expect(exit).toEqual({ exitCode: 0 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await readFile(path.join(container.cwd, 'marker'), 'utf8')).toBe('bye\n');
  });

  it('a container without a handler dies of SIGTERM and reports 143', async () => {
    const { container } = await start({ command: ['sleep', '30'] });
    const exit = await container.stop(5);
    expect(exit).toEqual({ exitCode: 143, signal: 'SIGTERM' });
  });

  it('a container that ignores SIGTERM is SIGKILLed after stopTimeout and reports 137; stop is idempotent', async () => {
    const { container } = await start({
      ...sh('trap "" TERM; echo ready > ready; while true; do sleep 0.05; done'),
      stopTimeout: 1,
    });
    await waitFor(() => existsSync(path.join(container.cwd, 'ready')));
    const t0 = Date.now();
    const first = container.stop(1);
    const second = container.stop(1);
    expect(second).toBe(first);
    const exit = await first;
    const elapsed = Date.now() - t0;
    expect(exit).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    expect(exit.reason).toMatch(/stop timeout/);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
    expect(await container.exited).toBe(exit);
  });

  it('stop signals the whole process group: a child process gets SIGTERM too', async () => {
    const { container } = await start(
      sh('trap \'wait $CHILD; echo $? > child.status; exit 0\' TERM; sleep 1000 & CHILD=$!; echo $CHILD > child.pid; wait'),
    );
    const childPid = Number(
      await waitFor(async () => {
        const text = await readFile(path.join(container.cwd, 'child.pid'), 'utf8').catch(() => '');
        return text.trim() || undefined;
      }),
    );
    // Until the forked shell has exec'd sleep it still has the trap handler, which would swallow SIGTERM.
    await waitFor(async () => (await readFile(`/proc/${childPid}/comm`, 'utf8').catch(() => '')).trim() === 'sleep');
    expect(isAlive(childPid)).toBe(true);
    expect(await container.stop(5)).toEqual({ exitCode: 0 });
    // The shell's handler saw its child die of SIGTERM (128 + 15).
    expect((await readFile(path.join(container.cwd, 'child.status'), 'utf8')).trim()).toBe('143');
    expect(isAlive(childPid)).toBe(false);
  });

  it('when the main process exits, processes left in its group are killed', async () => {
    const { container } = await start(sh('sleep 1000 & echo $! > child.pid; exit 0'));
    expect(await container.exited).toEqual({ exitCode: 0 });
    const childPid = Number((await readFile(path.join(container.cwd, 'child.pid'), 'utf8')).trim());
    await waitFor(() => !isAlive(childPid), 2000);
  });

  it.each<{ name: string; spec: Partial<ContainerSpec>; message: RegExp }>([
    { name: 'executable not found', spec: { command: ['definitely-not-a-berth-binary'] }, message: /not found/ },
    { name: 'entryPoint not found', spec: { entryPoint: ['/nonexistent/bin/app'], command: ['x'] }, message: /not found/ },
    { name: 'neither entryPoint nor command', spec: {}, message: /no image config/ },
    { name: 'working directory missing', spec: { command: ['true'], workingDirectory: '/nonexistent/berth' }, message: /working directory/ },
    { name: 'invalid health check command', spec: { command: ['true'], healthCheck: { command: ['curl', 'x'] } }, message: /CMD-SHELL/ },
  ])('rejects with ContainerStartError: $name', async ({ spec, message }) => {
    const err = await runtime.start('task1', { name: 'web', image: 'img', ...spec }, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerStartError);
    expect((err as ContainerStartError).message).toMatch(message);
    expect((err as ContainerStartError).containerName).toBe('web');
  });

  it('health check: UNKNOWN -> HEALTHY -> UNHEALTHY (CMD-SHELL in the container env and cwd)', async () => {
    const changes: HealthStatus[] = [];
    const { container } = await start(
      {
        command: ['sleep', '30'],
        environment: [{ name: 'PROBE_FILE', value: 'ok' }],
        healthCheck: { command: ['CMD-SHELL', 'test -f "$PROBE_FILE"'], interval: 1, timeout: 1, retries: 2 },
      },
      (s) => changes.push(s),
    );
    expect(container.healthStatus()).toBe('UNKNOWN');
    await writeFile(path.join(container.cwd, 'ok'), '');
    await waitFor(() => container.healthStatus() === 'HEALTHY', 4000);
    await unlink(path.join(container.cwd, 'ok'));
    await waitFor(() => container.healthStatus() === 'UNHEALTHY', 5000);
    expect(changes).toEqual(['HEALTHY', 'UNHEALTHY']);
    await container.stop(1);
  });

  it('health check: CMD form, and a check exceeding its timeout fails', async () => {
    const { container: ok } = await start({
      command: ['sleep', '30'],
      healthCheck: { command: ['CMD', 'true'], interval: 1, timeout: 1, retries: 1 },
    });
    const { container: slow } = await start({
      command: ['sleep', '30'],
      healthCheck: { command: ['CMD', 'sleep', '5'], interval: 1, timeout: 1, retries: 1 },
    });
    await waitFor(() => ok.healthStatus() === 'HEALTHY', 4000);
    await waitFor(() => slow.healthStatus() === 'UNHEALTHY', 5000);
    await Promise.all([ok.stop(1), slow.stop(1)]);
  });
});

describe('ProcessRuntime.adopt: finding a container again after the agent restarted', () => {
  const spec = (_taskId: string): ContainerSpec => ({ name: 'app', image: 'local/sh', command: ['sleep', '30'], stopTimeout: 1 });

  it('adopts a process that still runs: same pid and runtime id, and stop() ends it', async () => {
    const { taskId, container } = await start({ command: ['sleep', '30'] });
    const again = await new ProcessRuntime({ rootDir: root }).adopt(taskId, spec(taskId));
    if (again.state !== 'running') throw new Error(`not adopted: ${JSON.stringify(again)}`);
    const adopted = again.container as ProcessContainer;
    expect([adopted.pid, adopted.runtimeId, adopted.imageDigest]).toEqual([container.pid, container.runtimeId, container.imageDigest]);
    const exit = await adopted.stop(1);
    expect(isAlive(container.pid)).toBe(false);
    // The process that started it (this test) saw the exit; the adopter reports what it can know.
    expect(exit.exitCode === null ? exit.reason : exit.exitCode).toBeDefined();
  });

  it('reads the exit the runtime recorded while no agent watched', async () => {
    const { taskId, container } = await start(sh('exit 7'));
    await container.exited;
    expect(await new ProcessRuntime({ rootDir: root }).adopt(taskId, spec(taskId))).toMatchObject({ state: 'exited', exit: { exitCode: 7 } });
  });

  it('records that the runtime stopped it, so a restart does not take it for an exit of its own', async () => {
    const { taskId, container } = await start({ command: ['sleep', '30'] });
    await container.stop(1);
    expect(await new ProcessRuntime({ rootDir: root }).adopt(taskId, spec(taskId))).toMatchObject({
      state: 'exited',
      exit: { exitCode: 143, stoppedByRuntime: true },
    });
  });

  it('never takes another process under a reused pid for the container', async () => {
    const { taskId, container } = await start({ command: ['sleep', '30'] });
    const file = path.join(container.logDir, 'container.json');
    const record = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...record, processStartTime: '1' }));
    expect(await new ProcessRuntime({ rootDir: root }).adopt(taskId, spec(taskId))).toMatchObject({
      state: 'lost',
      reason: expect.stringMatching(/ended while the agent was not running/),
      hostRestarted: false,
    });
    expect(isAlive(container.pid)).toBe(true);
  });

  it('knows a process of an earlier boot is gone', async () => {
    const { taskId, container } = await start({ command: ['sleep', '30'] });
    const file = path.join(container.logDir, 'container.json');
    const record = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...record, bootId: 'an-earlier-boot' }));
    expect(await new ProcessRuntime({ rootDir: root }).adopt(taskId, spec(taskId))).toMatchObject({ state: 'lost', hostRestarted: true });
  });

  it('stops a process started but not recorded before the agent died, so the lost task leaves no orphan', async () => {
    const { taskId, container } = await start({ command: ['sleep', '30'] });
    // The agent was killed between spawning the process and writing container.json.
    await rm(path.join(container.logDir, 'container.json'));
    const adoption = await new ProcessRuntime({ rootDir: root }).adopt(taskId, spec(taskId));
    expect(adoption).toMatchObject({ state: 'lost', reason: expect.stringContaining(`stopped its unrecorded process ${container.pid}`) });
    await waitFor(() => !isAlive(container.pid), 5000);
  });

  it('has nothing to adopt for a container it never started', async () => {
    expect(await new ProcessRuntime({ rootDir: root }).adopt('never-started', spec('never-started'))).toMatchObject({
      state: 'lost',
      reason: expect.stringMatching(/no record/),
    });
  });
});

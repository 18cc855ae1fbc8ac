/**
 * The process runtime: runs a container as a plain OS process on the agent's host.
 *
 * - argv is `[...entryPoint, ...command]` (ECS: with no entryPoint, command[0] is the executable);
 *   there is no image, so with neither the container cannot start (ContainerStartError).
 *   `image` is only recorded.
 * - The executable is resolved through the container's PATH (or relative to its working directory
 *   when it contains a "/") and started with `spawn` (no shell), argv[0] kept as written.
 * - Environment: the container's `environment` merged over a minimal base
 *   (PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, HOME=<scratch dir>);
 *   the agent's own environment is not inherited.
 * - Working directory: `workingDirectory`, or a per-task scratch directory
 *   `<rootDir>/<taskId>/<container name>` (rootDir defaults to os.tmpdir()/berth-tasks).
 *   stdout and stderr are appended to `stdout.log` / `stderr.log` in the scratch directory, and
 *   `container.json` records the spec (including cpu/memory, which are not enforced), pid and digest.
 * - The process leads its own process group (detached) so signals reach its children:
 *   stop() sends SIGTERM to the group, then SIGKILL after the timeout. When the main process exits,
 *   whatever is left in its group is SIGKILLed, as a container's processes die with its PID 1.
 * - imageDigest: there is no image, so the runtime states one deterministically:
 *   `sha256:` + the SHA-256 of the resolved executable's file contents (symlinks followed).
 *   Two containers running the same binary report the same digest; a changed binary, a new one.
 *   (For an interpreter such as `sh -c ...` it is the interpreter's digest, not the script's.)
 * - Exit: the exit code, or for a signal 128 + its number (SIGKILL 137, SIGTERM 143) as Docker does.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { access, mkdir, open, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type ContainerEvents,
  type ContainerExit,
  type ContainerRuntime,
  type ContainerSpec,
  type HealthStatus,
  type RunningContainer,
  ContainerStartError,
  DEFAULT_STOP_TIMEOUT_SECONDS,
  exitCodeForSignal,
} from './container-runtime';
import { HealthCheckRunner, parseHealthCheckCommand, resolveHealthCheck } from './health-check';

export const DEFAULT_BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ProcessRuntimeOptions {
  /** Root of the per-task scratch directories; default os.tmpdir()/berth-tasks. */
  rootDir?: string;
  /** PATH of the base environment; default DEFAULT_BASE_PATH. */
  basePath?: string;
}

/** Makes a task id or container name safe as one path segment. */
export function pathSegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? `_${cleaned}` : cleaned;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return false;
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves an executable as execvp would: a name with a "/" relative to cwd, otherwise the first
 * executable regular file named so in PATH. Returns null when there is none.
 */
export async function resolveExecutable(file: string, pathVar: string, cwd: string): Promise<string | null> {
  if (file.includes('/')) {
    const candidate = path.resolve(cwd, file);
    return (await isExecutableFile(candidate)) ? candidate : null;
  }
  for (const dir of pathVar.split(':')) {
    const candidate = path.resolve(cwd, dir === '' ? '.' : dir, file);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

const digestCache = new Map<string, string>();

/** `sha256:<hex>` of a file's contents (cached by path, inode, size and mtime). */
export async function fileDigest(file: string): Promise<string> {
  const st = await stat(file);
  const key = `${file}\0${st.ino}\0${st.size}\0${st.mtimeMs}`;
  const cached = digestCache.get(key);
  if (cached) return cached;
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve());
  });
  const digest = `sha256:${hash.digest('hex')}`;
  digestCache.set(key, digest);
  return digest;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

export class ProcessRuntime implements ContainerRuntime {
  readonly name = 'process';
  readonly rootDir: string;
  private readonly basePath: string;

  constructor(options: ProcessRuntimeOptions = {}) {
    this.rootDir = options.rootDir ?? path.join(tmpdir(), 'berth-tasks');
    this.basePath = options.basePath ?? DEFAULT_BASE_PATH;
  }

  /** The scratch directory of a task's container (logs live here, and it is the default cwd). */
  scratchDir(taskId: string, containerName: string): string {
    return path.join(this.rootDir, pathSegment(taskId), pathSegment(containerName));
  }

  async start(taskId: string, spec: ContainerSpec, events: ContainerEvents = {}): Promise<ProcessContainer> {
    const fail = (message: string, cause?: unknown): never => {
      throw new ContainerStartError(spec.name, `container ${spec.name}: ${message}`, { cause });
    };

    const argv = [...(spec.entryPoint ?? []), ...(spec.command ?? [])];
    if (argv.length === 0 || !argv[0]) {
      fail(
        'neither entryPoint nor command is set, and the process runtime has no image config ' +
          `(ENTRYPOINT/CMD of ${JSON.stringify(spec.image)}) to fall back on`,
      );
    }
    const healthConfig = spec.healthCheck ? resolveHealthCheck(spec.healthCheck) : undefined;
    if (healthConfig) {
      try {
        parseHealthCheckCommand(healthConfig.command);
      } catch (err) {
        fail((err as Error).message, err);
      }
    }

    const scratch = this.scratchDir(taskId, spec.name);
    try {
      await mkdir(scratch, { recursive: true });
    } catch (err) {
      fail(`cannot create scratch directory ${scratch}: ${(err as Error).message}`, err);
    }
    const cwd = spec.workingDirectory ? path.resolve(scratch, spec.workingDirectory) : scratch;
    try {
      if (!(await stat(cwd)).isDirectory()) fail(`working directory ${cwd} is not a directory`);
    } catch (err) {
      if (err instanceof ContainerStartError) throw err;
      fail(`working directory ${cwd} does not exist`, err);
    }

    const env: NodeJS.ProcessEnv = { PATH: this.basePath, HOME: scratch };
    for (const { name, value } of spec.environment ?? []) env[name] = value;

    const [exe, ...args] = argv;
    const resolved = await resolveExecutable(exe, env.PATH ?? '', cwd);
    if (resolved === null) {
      fail(`executable ${JSON.stringify(exe)} not found (PATH=${env.PATH ?? ''}, cwd=${cwd})`);
    }
    const executable = resolved as string;
    let imageDigest: string;
    try {
      imageDigest = await fileDigest(executable);
    } catch (err) {
      return fail(`cannot read executable ${executable}: ${(err as Error).message}`, err);
    }

    const stdout = await open(path.join(scratch, 'stdout.log'), 'a');
    const stderr = await open(path.join(scratch, 'stderr.log'), 'a');
    const startedAt = Date.now();
    let child: ReturnType<typeof spawn>;
    let exitEvent: Promise<[number | null, NodeJS.Signals | null]>;
    try {
      child = spawn(executable, args, {
        argv0: exe,
        cwd,
        env,
        detached: true,
        stdio: ['ignore', stdout.fd, stderr.fd],
      });
      // Listen at once: a short-lived process may exit before the container object exists.
      exitEvent = new Promise((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return fail(`cannot start ${executable}: ${e.code ?? ''} ${e.message}`.trim(), err);
    } finally {
      await stdout.close();
      await stderr.close();
    }

    const container = new ProcessContainer({
      runtimeId: `process-${pathSegment(taskId)}-${pathSegment(spec.name)}-${randomUUID().slice(0, 8)}`,
      imageDigest,
      pid: child.pid as number,
      exitEvent,
      logDir: scratch,
      cwd,
      env,
      stopTimeout: spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
      healthRunner: healthConfig
        ? new HealthCheckRunner({
            config: healthConfig,
            env,
            cwd,
            containerStartedAt: startedAt,
            onChange: (status) => events.onHealthChange?.(status),
          })
        : undefined,
    });

    await writeFile(
      path.join(scratch, 'container.json'),
      JSON.stringify(
        {
          runtimeId: container.runtimeId,
          taskId,
          pid: container.pid,
          startedAt: new Date(startedAt).toISOString(),
          executable,
          argv,
          cwd,
          imageDigest,
          spec,
        },
        null,
        2,
      ),
    ).catch(() => undefined);
    return container;
  }
}

interface ProcessContainerInit {
  runtimeId: string;
  imageDigest: string;
  pid: number;
  exitEvent: Promise<[number | null, NodeJS.Signals | null]>;
  logDir: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  stopTimeout: number;
  healthRunner?: HealthCheckRunner;
}

export class ProcessContainer implements RunningContainer {
  readonly runtimeId: string;
  readonly imageDigest: string;
  readonly pid: number;
  readonly exited: Promise<ContainerExit>;
  /** Directory holding stdout.log, stderr.log and container.json. */
  readonly logDir: string;
  readonly cwd: string;
  private readonly defaultStopTimeout: number;
  private readonly healthRunner?: HealthCheckRunner;
  private exit: ContainerExit | undefined;
  private stopping: Promise<ContainerExit> | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private killAt = Infinity;
  private killedAfterTimeout: number | undefined;

  constructor(init: ProcessContainerInit) {
    this.runtimeId = init.runtimeId;
    this.imageDigest = init.imageDigest;
    this.pid = init.pid;
    this.logDir = init.logDir;
    this.cwd = init.cwd;
    this.defaultStopTimeout = init.stopTimeout;
    this.healthRunner = init.healthRunner;
    this.exited = init.exitEvent.then(([code, signal]) => {
      // The container's main process is gone: so is the rest of its process group.
      killGroup(this.pid, 'SIGKILL');
      if (this.killTimer) clearTimeout(this.killTimer);
      this.healthRunner?.stop();
      const exit: ContainerExit =
        code !== null
          ? { exitCode: code }
          : { exitCode: signal ? exitCodeForSignal(signal) : null, ...(signal ? { signal } : {}) };
      if (this.killedAfterTimeout !== undefined && signal === 'SIGKILL') {
        exit.reason = `stop timeout of ${this.killedAfterTimeout} s expired; killed with SIGKILL`;
      }
      this.exit = exit;
      return exit;
    });
    this.healthRunner?.start();
  }

  healthStatus(): HealthStatus {
    return this.healthRunner?.status ?? 'UNKNOWN';
  }

  /** Whether the main process has exited. */
  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /**
   * SIGTERM to the process group, then SIGKILL after timeoutSeconds (default: the spec's
   * stopTimeout). Idempotent: later calls return the same promise, but a shorter timeout brings the
   * SIGKILL forward (stop(0) kills at once).
   */
  stop(timeoutSeconds: number = this.defaultStopTimeout): Promise<ContainerExit> {
    if (this.exit) return this.exited;
    const timeout = Math.max(0, Number.isFinite(timeoutSeconds) ? timeoutSeconds : this.defaultStopTimeout);
    const killAt = Date.now() + timeout * 1000;
    if (!this.stopping) {
      this.stopping = this.exited;
      killGroup(this.pid, 'SIGTERM');
    }
    if (killAt < this.killAt) {
      this.killAt = killAt;
      if (this.killTimer) clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => {
        if (this.exit) return;
        this.killedAfterTimeout = timeout;
        killGroup(this.pid, 'SIGKILL');
      }, timeout * 1000);
    }
    return this.stopping;
  }
}

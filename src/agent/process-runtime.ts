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
 *   A spec pinned to a digest (a service's later tasks, seed 002) starts only when the executable
 *   has that digest; otherwise CannotPullContainerError (there is no registry to get it from).
 * - Exit: the exit code, or for a signal 128 + its number (SIGKILL 137, SIGTERM 143) as Docker does.
 *   It is also written to `exit.json` beside `container.json`, so an agent that restarts learns how a
 *   container ended while nobody watched.
 * - Adoption after an agent restart: `container.json` records the pid, the process's start time
 *   (field 22 of /proc/<pid>/stat) and the boot id; a process is the container's only when all
 *   three still match, so a reused pid or a rebooted host is never mistaken for it. An adopted process
 *   is not the new agent's child: its exit is seen by watching /proc and its exit code is unknown
 *   (unless the process that started it recorded it in `exit.json`).
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { access, mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Adoption,
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
  // Every PATH entry is looked at at once (a start waits for one round of stats, not one per entry);
  // the first executable in PATH order wins, as with execvp.
  const candidates = pathVar.split(':').map((dir) => path.resolve(cwd, dir === '' ? '.' : dir, file));
  const executable = await Promise.all(candidates.map(isExecutableFile));
  const found = executable.indexOf(true);
  return found === -1 ? null : candidates[found];
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

/** How often an adopted process (not this agent's child, so no exit event) is looked for in /proc. */
const ADOPTED_WATCH_INTERVAL_MS = 250;
export const UNKNOWN_EXIT_REASON =
  'exit code unknown: the process was adopted after an agent restart, and only its parent can learn its exit status';

/** State letter and start time (clock ticks since boot) of a live process, from /proc/<pid>/stat. */
export async function processStat(pid: number): Promise<{ state: string; startTime: string } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTime: fields[19] };
  } catch {
    return undefined;
  }
}

/** Whether the process that was started at `startTime` with this pid still runs (zombies have ended). */
async function stillRunning(pid: number, startTime: string | undefined): Promise<boolean> {
  const found = await processStat(pid);
  return found !== undefined && found.startTime === startTime && found.state !== 'Z' && found.state !== 'X';
}

let bootIdRead: Promise<string | undefined> | undefined;
/** This boot of the host: a process recorded under another boot id cannot be running any more. */
function bootId(): Promise<string | undefined> {
  bootIdRead ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((id) => id.trim(), () => undefined);
  return bootIdRead;
}

/** What container.json records about a started container. */
interface ContainerRecordFile {
  runtimeId: string;
  taskId: string;
  pid: number;
  processStartTime?: string;
  bootId?: string;
  startedAt: string;
  imageDigest: string;
  cwd: string;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * Processes whose environment holds exactly `HOME=<scratch>`: the container's, found without its
 * record. An agent killed between spawning a process and writing container.json leaves one behind;
 * the scratch directory is unique to the task and container, and the environment a process started
 * with stays in /proc even after it execs. Empty where /proc does not exist.
 */
async function processesWithHome(scratch: string): Promise<number[]> {
  const wanted = `HOME=${scratch}`;
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`).catch(() => undefined);
    if (environ?.toString().split('\0').includes(wanted)) found.push(Number(entry));
  }
  return found;
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
    // The scratch directory was just made; a working directory of the task's own must exist already.
    if (cwd !== scratch) {
      try {
        if (!(await stat(cwd)).isDirectory()) fail(`working directory ${cwd} is not a directory`);
      } catch (err) {
        if (err instanceof ContainerStartError) throw err;
        fail(`working directory ${cwd} does not exist`, err);
      }
    }

    const env = this.environmentOf(spec, scratch);

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
    // Pinned (seed 002): with no registry to fetch the pinned image from, the process runtime runs the
    // executable only if it is that image; any other binary would break the version consistency.
    if (spec.imageDigest && spec.imageDigest !== imageDigest) {
      throw new ContainerStartError(
        spec.name,
        `CannotPullContainerError: container ${spec.name}: the executable ${executable} is ${imageDigest}, not the pinned image digest ${spec.imageDigest}`,
      );
    }

    const [stdout, stderr] = await Promise.all([open(path.join(scratch, 'stdout.log'), 'a'), open(path.join(scratch, 'stderr.log'), 'a')]);
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
      await Promise.all([stdout.close(), stderr.close()]);
    }

    const pid = child.pid as number;
    // Read at once: the start time tells this process from a later one that reuses its pid.
    const [processStartTime, boot] = await Promise.all([processStat(pid).then((found) => found?.startTime), bootId()]);
    const container = new ProcessContainer({
      runtimeId: `process-${pathSegment(taskId)}-${pathSegment(spec.name)}-${randomUUID().slice(0, 8)}`,
      imageDigest,
      pid,
      exitEvent,
      logDir: scratch,
      cwd,
      env,
      stopTimeout: spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
      healthRunner: this.healthRunner(spec, env, cwd, startedAt, events),
    });

    const record: ContainerRecordFile & Record<string, unknown> = {
      runtimeId: container.runtimeId,
      taskId,
      pid,
      processStartTime,
      bootId: boot,
      startedAt: new Date(startedAt).toISOString(),
      executable,
      argv,
      cwd,
      imageDigest,
      spec,
    };
    await writeFile(path.join(scratch, 'container.json'), JSON.stringify(record, null, 2)).catch(() => undefined);
    return container;
  }

  /**
   * Finds the process this runtime started for the container before the agent restarted: running
   * (same pid, same start time, same boot), exited as `exit.json` recorded, or lost.
   */
  async adopt(taskId: string, spec: ContainerSpec, events: ContainerEvents = {}): Promise<Adoption> {
    const scratch = this.scratchDir(taskId, spec.name);
    const recorded = await readJson<ContainerRecordFile>(path.join(scratch, 'container.json'));
    const exit = await readJson<ContainerExit>(path.join(scratch, 'exit.json'));
    if (exit) return { state: 'exited', exit };
    if (!recorded) {
      // Started but not recorded before the agent stopped: stop what runs, so nothing outlives the
      // task that is about to be reported lost (found by the crash campaign, bench/crash-campaign.ts).
      const unrecorded = await processesWithHome(scratch);
      for (const pid of unrecorded) {
        killGroup(pid, 'SIGKILL');
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      const stopped = unrecorded.length ? `; the agent stopped its unrecorded process ${unrecorded.join(', ')}` : '';
      return { state: 'lost', reason: `no record of the container's process (${scratch}/container.json)${stopped}`, hostRestarted: false };
    }
    const boot = await bootId();
    if (recorded.bootId && boot && recorded.bootId !== boot) {
      return { state: 'lost', reason: `process ${recorded.pid} did not survive the host's restart`, hostRestarted: true };
    }
    if (!(await stillRunning(recorded.pid, recorded.processStartTime))) {
      return {
        state: 'lost',
        reason: `process ${recorded.pid} ended while the agent was not running; its exit code is unknown`,
        hostRestarted: false,
      };
    }
    const env = this.environmentOf(spec, scratch);
    const container = new ProcessContainer({
      runtimeId: recorded.runtimeId,
      imageDigest: recorded.imageDigest,
      pid: recorded.pid,
      exitEvent: watchAdopted(recorded.pid, recorded.processStartTime, scratch),
      logDir: scratch,
      cwd: recorded.cwd,
      env,
      stopTimeout: spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
      healthRunner: this.healthRunner(spec, env, recorded.cwd, Date.parse(recorded.startedAt), events),
      adopted: true,
    });
    return { state: 'running', container };
  }

  private environmentOf(spec: ContainerSpec, scratch: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { PATH: this.basePath, HOME: scratch };
    for (const { name, value } of spec.environment ?? []) env[name] = value;
    return env;
  }

  private healthRunner(spec: ContainerSpec, env: NodeJS.ProcessEnv, cwd: string, startedAt: number, events: ContainerEvents) {
    const config = spec.healthCheck ? resolveHealthCheck(spec.healthCheck) : undefined;
    return config
      ? new HealthCheckRunner({
          config,
          env,
          cwd,
          containerStartedAt: startedAt,
          onChange: (status) => events.onHealthChange?.(status),
        })
      : undefined;
  }
}

/**
 * The exit of a process that is not this agent's child: it has ended when /proc no longer shows it
 * (or shows a zombie, or another process under its pid). Its status is known only if its own parent
 * recorded it in exit.json meanwhile; otherwise [null, null].
 */
async function watchAdopted(pid: number, startTime: string | undefined, logDir: string): Promise<[number | null, NodeJS.Signals | null]> {
  while (await stillRunning(pid, startTime)) {
    await new Promise((resolve) => setTimeout(resolve, ADOPTED_WATCH_INTERVAL_MS));
  }
  const recorded = await readJson<ContainerExit>(path.join(logDir, 'exit.json'));
  if (recorded && typeof recorded.exitCode === 'number') return [recorded.exitCode, null];
  return [null, null];
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
  /** Adopted after an agent restart: not this agent's child, so its exit status may be unknown. */
  adopted?: boolean;
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
    this.exited = init.exitEvent.then(async ([code, signal]) => {
      // The container's main process is gone: so is the rest of its process group.
      killGroup(this.pid, 'SIGKILL');
      if (this.killTimer) clearTimeout(this.killTimer);
      this.healthRunner?.stop();
      const exit: ContainerExit =
        code !== null
          ? { exitCode: code }
          : { exitCode: signal ? exitCodeForSignal(signal) : null, ...(signal ? { signal } : {}) };
      if (this.killedAfterTimeout !== undefined && (signal === 'SIGKILL' || (init.adopted && code === null))) {
        exit.reason = `stop timeout of ${this.killedAfterTimeout} s expired; killed with SIGKILL`;
      } else if (init.adopted && code === null) {
        exit.reason = UNKNOWN_EXIT_REASON;
      }
      // The parent knows best; an adopter only fills in what nobody recorded.
      const recorded = { ...exit, ...(this.stopping ? { stoppedByRuntime: true } : {}), at: new Date().toISOString() };
      await writeFile(path.join(this.logDir, 'exit.json'), JSON.stringify(recorded), {
        flag: init.adopted ? 'wx' : 'w',
      }).catch(() => undefined);
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

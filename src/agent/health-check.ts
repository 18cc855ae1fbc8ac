/**
 * Container health checks with ECS semantics.
 *
 * - The pure part (`resolveHealthCheck`, `initialHealthState`, `applyCheckResult`,
 *   `HealthCheckStateMachine`) decides the status from check results and an injected clock.
 * - `HealthCheckRunner` schedules checks with timers and executes the command
 *   (CMD-SHELL via `/bin/sh -c`, CMD directly) in the container's environment and working directory.
 *
 * Semantics (as ECS documents them, and as Docker implements them):
 * - status starts UNKNOWN;
 * - a successful check -> HEALTHY (and resets the failure streak);
 * - `retries` consecutive failed checks -> UNHEALTHY;
 * - while the container has never been healthy, a failed check that started within `startPeriod`
 *   seconds of the container start does not count; a success within it counts (-> HEALTHY), after
 *   which every failure counts;
 * - a check that takes longer than `timeout` seconds is a failure (the runner also kills it then);
 * - a check is successful when the command exits 0.
 * The first check runs `interval` seconds after the container started, and each next one `interval`
 * seconds after the previous one finished (Docker's scheduling).
 *
 * Ranges (ECS: interval 5-300, timeout 2-60, retries 1-10, startPeriod 0-300) are the API's to
 * validate; here any positive value works (tests use interval 1).
 */
import { spawn } from 'node:child_process';
import type { HealthCheckSpec, HealthStatus } from './container-runtime';

export const HEALTH_CHECK_DEFAULTS = { interval: 30, timeout: 5, retries: 3, startPeriod: 0 } as const;

export interface HealthCheckConfig {
  command: string[];
  /** seconds */
  interval: number;
  /** seconds */
  timeout: number;
  retries: number;
  /** seconds */
  startPeriod: number;
}

/** Applies the ECS defaults (interval 30, timeout 5, retries 3, startPeriod 0). */
export function resolveHealthCheck(spec: HealthCheckSpec): HealthCheckConfig {
  return {
    command: [...spec.command],
    interval: spec.interval ?? HEALTH_CHECK_DEFAULTS.interval,
    timeout: spec.timeout ?? HEALTH_CHECK_DEFAULTS.timeout,
    retries: spec.retries ?? HEALTH_CHECK_DEFAULTS.retries,
    startPeriod: spec.startPeriod ?? HEALTH_CHECK_DEFAULTS.startPeriod,
  };
}

export interface HealthCheckInvocation {
  file: string;
  args: string[];
}

/**
 * ["CMD-SHELL", "cmd"] -> /bin/sh -c "cmd" (further elements are joined with spaces, as ECS does);
 * ["CMD", "exe", ...args] -> exe args; ["NONE"] -> null (health checks disabled).
 * Throws on anything else.
 */
export function parseHealthCheckCommand(command: string[]): HealthCheckInvocation | null {
  const [kind, ...rest] = command;
  switch (kind) {
    case 'CMD-SHELL':
      if (rest.length === 0 || rest.join(' ').trim() === '') {
        throw new Error('healthCheck command CMD-SHELL needs a command string');
      }
      return { file: '/bin/sh', args: ['-c', rest.join(' ')] };
    case 'CMD':
      if (rest.length === 0 || !rest[0]) throw new Error('healthCheck command CMD needs an executable');
      return { file: rest[0], args: rest.slice(1) };
    case 'NONE':
      return null;
    default:
      throw new Error(
        `healthCheck command must start with "CMD-SHELL", "CMD" or "NONE", got ${JSON.stringify(kind ?? null)}`,
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Pure state machine
// ---------------------------------------------------------------------------------------------

export interface HealthState {
  status: HealthStatus;
  /** Consecutive failures that counted. */
  failingStreak: number;
}

export interface CheckResult {
  /** Epoch ms when the check started. */
  startedAt: number;
  /** Epoch ms when the check finished (or was killed). */
  finishedAt: number;
  /** The command's exit code; null when it was killed, timed out or could not be executed. */
  exitCode: number | null;
}

export function initialHealthState(): HealthState {
  return { status: 'UNKNOWN', failingStreak: 0 };
}

export function isCheckSuccess(config: Pick<HealthCheckConfig, 'timeout'>, result: CheckResult): boolean {
  return result.exitCode === 0 && result.finishedAt - result.startedAt <= config.timeout * 1000;
}

/**
 * The next state after one check result. `containerStartedAt` is the epoch ms at which the
 * container started (the start period is measured from it to the check's start).
 */
export function applyCheckResult(
  state: HealthState,
  config: Pick<HealthCheckConfig, 'timeout' | 'retries' | 'startPeriod'>,
  containerStartedAt: number,
  result: CheckResult,
): HealthState {
  if (isCheckSuccess(config, result)) return { status: 'HEALTHY', failingStreak: 0 };
  const inStartPeriod = result.startedAt - containerStartedAt < config.startPeriod * 1000;
  if (state.status === 'UNKNOWN' && inStartPeriod) return state;
  const failingStreak = state.failingStreak + 1;
  const retries = Math.max(1, config.retries);
  return { status: failingStreak >= retries ? 'UNHEALTHY' : state.status, failingStreak };
}

export type Clock = () => number;

/** The state machine with an injected clock (epoch ms). */
export class HealthCheckStateMachine {
  private state: HealthState = initialHealthState();
  readonly containerStartedAt: number;

  constructor(
    readonly config: Pick<HealthCheckConfig, 'timeout' | 'retries' | 'startPeriod'>,
    private readonly clock: Clock = Date.now,
    containerStartedAt?: number,
  ) {
    this.containerStartedAt = containerStartedAt ?? clock();
  }

  get status(): HealthStatus {
    return this.state.status;
  }

  get failingStreak(): number {
    return this.state.failingStreak;
  }

  /** Marks the start of a check; pass the returned token to finishCheck. */
  beginCheck(): { startedAt: number } {
    return { startedAt: this.clock() };
  }

  /** Records a finished check (its finish time from the clock); tells whether the status changed. */
  finishCheck(token: { startedAt: number }, exitCode: number | null): { status: HealthStatus; changed: boolean } {
    return this.record({ startedAt: token.startedAt, finishedAt: this.clock(), exitCode });
  }

  record(result: CheckResult): { status: HealthStatus; changed: boolean } {
    const before = this.state.status;
    this.state = applyCheckResult(this.state, this.config, this.containerStartedAt, result);
    return { status: this.state.status, changed: this.state.status !== before };
  }
}

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

export interface ExecOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs: number;
}

/** Runs one check; resolves with the exit code (null when killed, timed out or not executable). */
export type CheckExecutor = (invocation: HealthCheckInvocation, options: ExecOptions) => Promise<number | null>;

/**
 * Default executor: spawns the command without a shell (CMD-SHELL already is `/bin/sh -c`), in its
 * own process group, and SIGKILLs the group when the timeout expires.
 */
export const spawnCheck: CheckExecutor = (invocation, { env, cwd, timeoutMs }) =>
  new Promise((resolve) => {
    let settled = false;
    const done = (code: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(code);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(invocation.file, invocation.args, { env, cwd, stdio: 'ignore', detached: true });
    } catch {
      resolve(null);
      return;
    }
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      done(null);
    }, timeoutMs);
    child.once('error', () => done(null));
    child.once('exit', (code) => {
      // Kill whatever the check left behind in its process group.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* nothing left */
        }
      }
      done(code);
    });
  });

export interface HealthCheckRunnerOptions {
  config: HealthCheckConfig;
  env: NodeJS.ProcessEnv;
  cwd: string;
  onChange?: (status: HealthStatus) => void;
  clock?: Clock;
  /** Epoch ms the container started; defaults to clock() when the runner is created. */
  containerStartedAt?: number;
  exec?: CheckExecutor;
}

export class HealthCheckRunner {
  private readonly machine: HealthCheckStateMachine;
  private readonly invocation: HealthCheckInvocation | null;
  private readonly exec: CheckExecutor;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  /** Throws when the command is not CMD-SHELL / CMD / NONE. */
  constructor(private readonly options: HealthCheckRunnerOptions) {
    this.invocation = parseHealthCheckCommand(options.config.command);
    this.machine = new HealthCheckStateMachine(options.config, options.clock ?? Date.now, options.containerStartedAt);
    this.exec = options.exec ?? spawnCheck;
  }

  get status(): HealthStatus {
    return this.machine.status;
  }

  /** Schedules the first check `interval` seconds from now. No-op for ["NONE"]. */
  start(): void {
    if (this.invocation === null || this.running || this.stopped) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce(), this.options.config.interval * 1000);
    this.timer.unref?.();
  }

  private async runOnce(): Promise<void> {
    if (this.stopped || this.invocation === null) return;
    const token = this.machine.beginCheck();
    let exitCode: number | null;
    try {
      exitCode = await this.exec(this.invocation, {
        env: this.options.env,
        cwd: this.options.cwd,
        timeoutMs: this.options.config.timeout * 1000,
      });
    } catch {
      exitCode = null;
    }
    if (this.stopped) return;
    const { status, changed } = this.machine.finishCheck(token, exitCode);
    if (changed) {
      try {
        this.options.onChange?.(status);
      } catch {
        /* a listener's error must not stop the checks */
      }
    }
    this.schedule();
  }
}

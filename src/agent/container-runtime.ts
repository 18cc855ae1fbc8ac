/**
 * Container runtimes of the Berth agent: the seam between a task's lifecycle (ACTIVATING starts the
 * containers, STOPPING stops them: SIGTERM, then SIGKILL after the container's stopTimeout) and the
 * thing that actually runs a container (an OS process, or the Docker Engine).
 */
import { constants as osConstants } from 'node:os';

/** Default stop timeout in seconds (ECS: 30 s when the container definition sets none). */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;

export interface HealthCheckSpec {
  /** ["CMD-SHELL", "cmd string"], ["CMD", "exe", "args"...] or ["NONE"]. */
  command: string[];
  /** Seconds between checks (ECS default 30). */
  interval?: number;
  /** Seconds a check may take before it counts as failed (ECS default 5). */
  timeout?: number;
  /** Consecutive failures (after the start period) before UNHEALTHY (ECS default 3). */
  retries?: number;
  /** Grace period in seconds during which failures do not count (ECS default 0). */
  startPeriod?: number;
}

export interface ContainerSpec {
  name: string;
  image: string;
  entryPoint?: string[];
  command?: string[];
  environment?: { name: string; value: string }[];
  workingDirectory?: string;
  /** Seconds, default 30. */
  stopTimeout?: number;
  /** Recorded only. */
  cpu?: number;
  /** Recorded only (MiB). */
  memory?: number;
  healthCheck?: HealthCheckSpec;
  /**
   * The digest the container must run (the task's containers[].imageDigest, set by the service
   * scheduler once the deployment's digest is established, seed 002): the runtime runs exactly this
   * image or fails to start with CannotPullContainerError.
   */
  imageDigest?: string;
}

export interface ContainerExit {
  /** The exit code; a process killed by signal N reports 128+N like Docker (SIGKILL 137, SIGTERM 143). */
  exitCode: number | null;
  /** Name of the signal that killed the process, if it was killed by one. */
  signal?: string;
  /** Free-text reason (e.g. the stop timeout expired, OOM). */
  reason?: string;
  /** The runtime was asked to stop the container (stop()) before it exited (as a runtime records it for adoption). */
  stoppedByRuntime?: boolean;
}

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

export interface RunningContainer {
  readonly runtimeId: string;
  /**
   * sha256:<hex>, the digest of what runs. Absent when the runtime cannot name a registry digest for
   * it (a Docker image with no repo digest): the control plane then counts a failed resolution.
   */
  readonly imageDigest?: string;
  readonly pid?: number;
  readonly exited: Promise<ContainerExit>;
  healthStatus(): HealthStatus;
  /** SIGTERM, then SIGKILL after timeoutSeconds if still running; resolves with the exit. Idempotent. */
  stop(timeoutSeconds: number): Promise<ContainerExit>;
}

export interface ContainerEvents {
  onHealthChange?(status: HealthStatus): void;
}

export interface ContainerRuntime {
  readonly name: string;
  /**
   * Rejects with ContainerStartError when the container cannot start (e.g. executable not found),
   * so the task can stop with TaskFailedToStart.
   */
  start(taskId: string, spec: ContainerSpec, events: ContainerEvents): Promise<RunningContainer>;
  /**
   * After an agent restart: finds the container this runtime started earlier for the task, so the new
   * agent can watch and stop it. A runtime that cannot find its containers again leaves it out, and
   * the agent reports such tasks as lost.
   */
  adopt?(taskId: string, spec: ContainerSpec, events: ContainerEvents): Promise<Adoption>;
}

/**
 * What an agent restart finds of a container: still running (watched again from now on), exited
 * while nobody watched (as the runtime recorded it), or gone without a trace of how.
 */
export type Adoption =
  | { readonly state: 'running'; readonly container: RunningContainer }
  | { readonly state: 'exited'; readonly exit: ContainerExit }
  | { readonly state: 'lost'; readonly reason: string; readonly hostRestarted: boolean };

/** The container could not be started; the task should stop with stopCode TaskFailedToStart. */
export class ContainerStartError extends Error {
  override readonly name = 'ContainerStartError';
  readonly containerName: string;

  constructor(containerName: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.containerName = containerName;
  }
}

/**
 * Docker's convention for a process killed by a signal: exit code 128 + signal number
 * (SIGKILL -> 137, SIGTERM -> 143). Unknown signal names give null.
 */
export function exitCodeForSignal(signal: string): number | null {
  const n = (osConstants.signals as Record<string, number | undefined>)[signal];
  return typeof n === 'number' ? 128 + n : null;
}

/** The inverse of exitCodeForSignal for codes above 128 (used for Docker's wait StatusCode). */
export function signalForExitCode(exitCode: number): string | undefined {
  if (exitCode <= 128) return undefined;
  const n = exitCode - 128;
  for (const [name, num] of Object.entries(osConstants.signals)) {
    if (num === n) return name;
  }
  return undefined;
}

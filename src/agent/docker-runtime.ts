/**
 * The Docker runtime: runs a container through the Docker Engine API over its unix socket
 * (default /var/run/docker.sock) with node:http, no client library.
 *
 * start(): POST /images/create (pull; the streamed progress is read to the end and an `error` in it
 * fails the start) -> POST /containers/create (Image, Entrypoint, Cmd, Env, WorkingDir, StopTimeout,
 * Healthcheck, labels) -> POST /containers/{id}/start -> POST /containers/{id}/wait (long poll, its
 * answer is the exit) -> GET /containers/{id}/json and GET /images/{image}/json for the digest.
 * stop(t): POST /containers/{id}/stop?t=<t> (Docker sends the stop signal, then SIGKILL after t s).
 *
 * imageDigest: the repo digest (`RepoDigests` entry of the image, the part after "@"); none when the
 * image has no repo digest (e.g. built locally: its id names no image in a registry), which the
 * control plane counts as a failed digest resolution. A spec pinned to a digest pulls and runs
 * `repo@<digest>`.
 * Health: Docker runs the health check itself (ECS semantics map 1:1 to Docker's Healthcheck); the
 * runtime polls the container's State.Health.Status (starting -> UNKNOWN).
 * cpu/memory are recorded as labels only (not enforced), as in the process runtime.
 * Caveats: no registry auth (X-Registry-Auth) is sent, so private images fail to pull; containers
 * are not removed after they exit unless `removeOnExit` is set.
 */
import http from 'node:http';
import {
  type ContainerEvents,
  type ContainerExit,
  type ContainerRuntime,
  type ContainerSpec,
  type HealthStatus,
  type RunningContainer,
  ContainerStartError,
  DEFAULT_STOP_TIMEOUT_SECONDS,
  signalForExitCode,
} from './container-runtime';
import { parseHealthCheckCommand, resolveHealthCheck } from './health-check';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export interface DockerRuntimeOptions {
  socketPath?: string;
  /** Engine API version used as the path prefix; default 1.41 (Docker 20.10+). */
  apiVersion?: string;
  /** Pull the image before creating the container; default true. */
  pull?: boolean;
  /** DELETE the container after it exited (its logs go with it); default false. */
  removeOnExit?: boolean;
  /** How often to poll the health status, ms; default 1000. */
  healthPollMs?: number;
}

interface DockerResponse {
  status: number;
  body: string;
}

export class DockerApiError extends Error {
  override readonly name = 'DockerApiError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`Docker ${method} ${path} -> ${status}: ${DockerApiError.messageOf(body)}`);
  }

  static messageOf(body: string): string {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed && typeof parsed.message === 'string') return parsed.message;
    } catch {
      /* not JSON */
    }
    return body.trim().slice(0, 500);
  }
}

/** Splits an image reference for /images/create: fromImage and tag (or digest). */
export function splitImageReference(image: string): { fromImage: string; tag: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { fromImage: image.slice(0, at), tag: image.slice(at + 1) };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > slash) return { fromImage: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { fromImage: image, tag: 'latest' };
}

/**
 * The reference a container runs: the image as named, or pinned to a digest (`repo@sha256:...`,
 * the tag dropped as Docker would ignore it).
 *
 *   pinnedReference('nginx:1.27', 'sha256:ab..') === 'nginx@sha256:ab..'
 */
export function pinnedReference(image: string, digest: string | undefined): string {
  return digest ? `${splitImageReference(image).fromImage}@${digest}` : image;
}

const SECONDS_TO_NS = 1_000_000_000;

/** The body of POST /containers/create for a spec. */
export function createContainerBody(taskId: string, spec: ContainerSpec): Record<string, unknown> {
  const body: Record<string, unknown> = {
    Image: spec.image,
    Env: (spec.environment ?? []).map(({ name, value }) => `${name}=${value}`),
    StopTimeout: spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS,
    Labels: {
      'berth.task-id': taskId,
      'berth.container-name': spec.name,
      ...(spec.cpu !== undefined ? { 'berth.cpu': String(spec.cpu) } : {}),
      ...(spec.memory !== undefined ? { 'berth.memory': String(spec.memory) } : {}),
    },
  };
  if (spec.entryPoint !== undefined) body.Entrypoint = spec.entryPoint;
  if (spec.command !== undefined) body.Cmd = spec.command;
  if (spec.workingDirectory !== undefined) body.WorkingDir = spec.workingDirectory;
  if (spec.healthCheck) {
    const hc = resolveHealthCheck(spec.healthCheck);
    body.Healthcheck = {
      Test: hc.command,
      Interval: hc.interval * SECONDS_TO_NS,
      Timeout: hc.timeout * SECONDS_TO_NS,
      Retries: hc.retries,
      StartPeriod: hc.startPeriod * SECONDS_TO_NS,
    };
  }
  return body;
}

/** A container name Docker accepts ([a-zA-Z0-9][a-zA-Z0-9_.-]+), unique per task and container. */
export function dockerContainerName(taskId: string, containerName: string): string {
  return `berth-${taskId}-${containerName}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
}

export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker';
  readonly socketPath: string;
  private readonly apiVersion: string;
  private readonly pull: boolean;
  private readonly removeOnExit: boolean;
  private readonly healthPollMs: number;

  constructor(options: DockerRuntimeOptions = {}) {
    this.socketPath = options.socketPath ?? DEFAULT_DOCKER_SOCKET;
    this.apiVersion = options.apiVersion ?? '1.41';
    this.pull = options.pull ?? true;
    this.removeOnExit = options.removeOnExit ?? false;
    this.healthPollMs = options.healthPollMs ?? 1000;
  }

  /** Whether a Docker Engine answers GET /_ping on the socket (within 2 s). */
  static async available(socketPath: string = DEFAULT_DOCKER_SOCKET): Promise<boolean> {
    try {
      const res = await dockerRequest(socketPath, 'GET', '/_ping', undefined, 2000);
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** One Engine API call (path without the version prefix). */
  async request(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<DockerResponse> {
    return dockerRequest(this.socketPath, method, `/v${this.apiVersion}${path}`, body, timeoutMs);
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
    ok: number[] = [200, 201, 204],
    timeoutMs?: number,
  ): Promise<string> {
    const res = await this.request(method, path, body, timeoutMs);
    if (!ok.includes(res.status)) throw new DockerApiError(method, path, res.status, res.body);
    return res.body;
  }

  async start(taskId: string, spec: ContainerSpec, events: ContainerEvents = {}): Promise<DockerContainer> {
    const fail = (message: string, cause?: unknown): ContainerStartError =>
      new ContainerStartError(spec.name, `container ${spec.name}: ${message}`, { cause });

    if (spec.healthCheck) {
      try {
        parseHealthCheckCommand(spec.healthCheck.command);
      } catch (err) {
        throw fail((err as Error).message, err);
      }
    }

    // Pinned (seed 002): the repository at the digest, whatever the tag now points to.
    const image = pinnedReference(spec.image, spec.imageDigest);
    if (this.pull) {
      const { fromImage, tag } = splitImageReference(image);
      const q = new URLSearchParams({ fromImage, tag });
      try {
        const progress = await this.call('POST', `/images/create?${q}`, undefined, [200], 15 * 60_000);
        const error = pullError(progress);
        if (error) throw new Error(error);
      } catch (err) {
        throw fail(`CannotPullContainerError: pull image ${image}: ${(err as Error).message}`, err);
      }
    }

    let id: string;
    try {
      const name = encodeURIComponent(dockerContainerName(taskId, spec.name));
      const created = JSON.parse(
        await this.call('POST', `/containers/create?name=${name}`, createContainerBody(taskId, { ...spec, image })),
      ) as { Id: string };
      id = created.Id;
    } catch (err) {
      throw fail(`CannotCreateContainerError: ${(err as Error).message}`, err);
    }

    try {
      await this.call('POST', `/containers/${id}/start`, undefined, [204, 304]);
    } catch (err) {
      await this.request('DELETE', `/containers/${id}?force=true&v=true`).catch(() => undefined);
      throw fail(`CannotStartContainerError: ${(err as Error).message}`, err);
    }

    // Long poll: answers when the container is no longer running.
    const waited = this.request('POST', `/containers/${id}/wait`, undefined, 0);

    let imageId = '';
    let pid: number | undefined;
    try {
      const inspect = JSON.parse(await this.call('GET', `/containers/${id}/json`)) as {
        Image?: string;
        State?: { Pid?: number };
      };
      imageId = inspect.Image ?? '';
      pid = inspect.State?.Pid || undefined;
    } catch {
      /* the digest falls back below */
    }
    // Only a repo digest names the image in a registry; an image without one (built locally) has
    // none to report, and the control plane counts a failed resolution (seed 002).
    let imageDigest: string | undefined;
    try {
      const inspected = JSON.parse(
        await this.call('GET', `/images/${imageId || image}/json`),
      ) as { Id?: string; RepoDigests?: string[] };
      const { fromImage } = splitImageReference(image);
      const repoDigests = inspected.RepoDigests ?? [];
      const match = repoDigests.find((d) => d.startsWith(`${fromImage}@`)) ?? repoDigests[0];
      imageDigest = match ? match.slice(match.indexOf('@') + 1) : undefined;
    } catch {
      /* no digest known */
    }

    const exited = waited.then(
      async (res): Promise<ContainerExit> => {
        if (res.status !== 200) {
          return { exitCode: null, reason: `wait failed: ${DockerApiError.messageOf(res.body)}` };
        }
        const body = JSON.parse(res.body) as { StatusCode?: number; Error?: { Message?: string } | null };
        const exitCode = typeof body.StatusCode === 'number' ? body.StatusCode : null;
        const exit: ContainerExit = { exitCode };
        const signal = exitCode !== null ? signalForExitCode(exitCode) : undefined;
        if (signal) exit.signal = signal;
        if (body.Error?.Message) exit.reason = body.Error.Message;
        try {
          const after = JSON.parse(await this.call('GET', `/containers/${id}/json`)) as {
            State?: { OOMKilled?: boolean; Error?: string };
          };
          if (after.State?.OOMKilled) exit.reason = 'OutOfMemoryError: Container killed due to memory usage';
          else if (after.State?.Error && !exit.reason) exit.reason = after.State.Error;
        } catch {
          /* best effort */
        }
        if (this.removeOnExit) await this.request('DELETE', `/containers/${id}?v=true`).catch(() => undefined);
        return exit;
      },
      (err: unknown): ContainerExit => ({ exitCode: null, reason: `wait failed: ${(err as Error).message}` }),
    );

    return new DockerContainer(this, id, imageDigest, pid, exited, spec, events, this.healthPollMs);
  }
}

function pullError(progress: string): string | undefined {
  for (const line of progress.split('\n')) {
    if (!line.trim()) continue;
    try {
      const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
      if (msg.error || msg.errorDetail) return msg.errorDetail?.message ?? msg.error;
    } catch {
      /* progress lines are JSON; ignore anything else */
    }
  }
  return undefined;
}

export class DockerContainer implements RunningContainer {
  private health: HealthStatus = 'UNKNOWN';
  private healthTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<ContainerExit> | undefined;
  private done = false;
  readonly exited: Promise<ContainerExit>;

  constructor(
    private readonly runtime: DockerRuntime,
    readonly runtimeId: string,
    readonly imageDigest: string | undefined,
    readonly pid: number | undefined,
    exited: Promise<ContainerExit>,
    private readonly spec: ContainerSpec,
    private readonly events: ContainerEvents,
    healthPollMs: number,
  ) {
    this.exited = exited.then((exit) => {
      this.done = true;
      if (this.healthTimer) clearInterval(this.healthTimer);
      return exit;
    });
    if (spec.healthCheck && parseHealthCheckCommand(spec.healthCheck.command) !== null) {
      this.healthTimer = setInterval(() => void this.pollHealth(), healthPollMs);
      this.healthTimer.unref?.();
    }
  }

  healthStatus(): HealthStatus {
    return this.health;
  }

  private async pollHealth(): Promise<void> {
    if (this.done) return;
    try {
      const res = await this.runtime.request('GET', `/containers/${this.runtimeId}/json`);
      if (res.status !== 200) return;
      const status = (JSON.parse(res.body) as { State?: { Health?: { Status?: string } } }).State?.Health?.Status;
      const next: HealthStatus = status === 'healthy' ? 'HEALTHY' : status === 'unhealthy' ? 'UNHEALTHY' : 'UNKNOWN';
      if (next !== this.health && !this.done) {
        this.health = next;
        try {
          this.events.onHealthChange?.(next);
        } catch {
          /* listener errors are not ours */
        }
      }
    } catch {
      /* the engine may be busy; try again next time */
    }
  }

  /** POST /containers/{id}/stop?t=<timeoutSeconds>, then the exit. Idempotent. */
  stop(timeoutSeconds: number = this.spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS): Promise<ContainerExit> {
    if (this.done) return this.exited;
    if (!this.stopping) {
      const t = Math.max(0, Math.round(timeoutSeconds));
      // The stop call itself lasts up to t seconds; its answer is not needed, the wait answers.
      this.stopping = this.runtime
        .request('POST', `/containers/${this.runtimeId}/stop?t=${t}`, undefined, 0)
        .then(
          () => this.exited,
          () => this.exited,
        );
    }
    return this.stopping;
  }
}

function dockerRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 60_000,
): Promise<DockerResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        socketPath,
        method,
        path,
        // A fresh connection per call: long polls (wait, stop) must not hold up others.
        agent: false,
        headers: {
          Host: 'docker',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    if (timeoutMs > 0) {
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`Docker ${method} ${path} timed out after ${timeoutMs} ms`)));
    }
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

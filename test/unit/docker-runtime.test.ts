import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerStartError } from '../../src/agent/container-runtime';
import { DockerRuntime, splitImageReference } from '../../src/agent/docker-runtime';

interface Recorded {
  method: string;
  path: string;
  body: unknown;
}

const DIGEST = 'sha256:' + 'ab'.repeat(32);
const IMAGE_ID = 'sha256:' + 'cd'.repeat(32);

/** A fake Docker Engine on a unix socket: records requests, answers wait when stop is called. */
class FakeDocker {
  readonly requests: Recorded[] = [];
  server!: http.Server;
  socketPath!: string;
  private dir!: string;
  private releaseWait: ((code: number) => void) | undefined;
  pullError = false;
  startStatus = 204;
  /** The image's RepoDigests (none: an image built locally, never pushed or pulled). */
  repoDigests = [`nginx@${DIGEST}`];

  async listen(): Promise<void> {
    this.dir = await mkdtemp(path.join(tmpdir(), 'berth-docker-'));
    this.socketPath = path.join(this.dir, 'docker.sock');
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const p = (req.url ?? '').replace(/^\/v[\d.]+/, '');
        this.requests.push({ method: req.method ?? '', path: p, body: text ? JSON.parse(text) : undefined });
        this.handle(req.method ?? '', p, res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private handle(method: string, p: string, res: http.ServerResponse): void {
    const route = `${method} ${p.split('?')[0]}`;
    if (route === 'GET /_ping') return void res.end('OK');
    if (route === 'POST /images/create') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ status: 'Pulling from library/nginx' }) + '\n');
      if (this.pullError) res.write(JSON.stringify({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }) + '\n');
      return void res.end();
    }
    if (route === 'POST /containers/create') return this.json(res, 201, { Id: 'c0ffee', Warnings: [] });
    if (route === 'POST /containers/c0ffee/start') {
      if (this.startStatus !== 204) return this.json(res, this.startStatus, { message: 'exec: "nope": executable file not found in $PATH' });
      res.writeHead(204);
      return void res.end();
    }
    if (route === 'POST /containers/c0ffee/wait') {
      this.releaseWait = (code) => this.json(res, 200, { StatusCode: code, Error: null });
      return;
    }
    if (route === 'GET /containers/c0ffee/json') {
      return this.json(res, 200, { Id: 'c0ffee', Image: IMAGE_ID, State: { Pid: 4242, OOMKilled: false, Health: { Status: 'healthy' } } });
    }
    if (route === `GET /images/${IMAGE_ID}/json`) {
      return this.json(res, 200, { Id: IMAGE_ID, RepoDigests: this.repoDigests });
    }
    if (route === 'POST /containers/c0ffee/stop') {
      setTimeout(() => {
        this.releaseWait?.(143);
        res.writeHead(204);
        res.end();
      }, 20);
      return;
    }
    if (route === 'DELETE /containers/c0ffee') {
      res.writeHead(204);
      return void res.end();
    }
    this.json(res, 404, { message: `no route ${route}` });
  }

  routes(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

let docker: FakeDocker;

beforeEach(async () => {
  docker = new FakeDocker();
  await docker.listen();
});

afterEach(async () => {
  await docker.close();
});

describe('DockerRuntime', () => {
  it('available() pings the socket', async () => {
    expect(await DockerRuntime.available(docker.socketPath)).toBe(true);
    expect(await DockerRuntime.available(path.join(tmpdir(), 'no-such-berth-docker.sock'))).toBe(false);
  });

  it('pulls, creates, starts, waits; stop sends ?t=stopTimeout and resolves with the exit', async () => {
    const runtime = new DockerRuntime({ socketPath: docker.socketPath, healthPollMs: 20 });
    const health: string[] = [];
    const container = await runtime.start(
      'task1',
      {
        name: 'web',
        image: 'nginx:1.27',
        entryPoint: ['/docker-entrypoint.sh'],
        command: ['nginx', '-g', 'daemon off;'],
        environment: [{ name: 'A', value: '1' }],
        workingDirectory: '/srv',
        stopTimeout: 7,
        memory: 512,
        healthCheck: { command: ['CMD-SHELL', 'curl -f localhost'], interval: 10 },
      },
      { onHealthChange: (s) => health.push(s) },
    );
    expect(container.runtimeId).toBe('c0ffee');
    expect(container.imageDigest).toBe(DIGEST);
    expect(container.pid).toBe(4242);

    const routes = docker.routes();
    expect(routes.slice(0, 4)).toEqual([
      'POST /images/create',
      'POST /containers/create',
      'POST /containers/c0ffee/start',
      'POST /containers/c0ffee/wait',
    ]);
    expect(docker.requests[0].path).toBe('/images/create?fromImage=nginx&tag=1.27');
    expect(docker.requests[1].path).toBe('/containers/create?name=berth-task1-web');
    expect(docker.requests[1].body).toMatchObject({
      Image: 'nginx:1.27',
      Entrypoint: ['/docker-entrypoint.sh'],
      Cmd: ['nginx', '-g', 'daemon off;'],
      Env: ['A=1'],
      WorkingDir: '/srv',
      StopTimeout: 7,
      Labels: { 'berth.task-id': 'task1', 'berth.container-name': 'web', 'berth.memory': '512' },
      Healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 10e9, Timeout: 5e9, Retries: 3, StartPeriod: 0 },
    });

    await expect.poll(() => container.healthStatus(), { timeout: 2000 }).toBe('HEALTHY');
    expect(health).toEqual(['HEALTHY']);

    const first = container.stop(7);
    expect(container.stop(7)).toBe(first);
    expect(await first).toEqual({ exitCode: 143, signal: 'SIGTERM' });
    const stops = docker.requests.filter((r) => r.path.startsWith('/containers/c0ffee/stop'));
    expect(stops.map((r) => r.path)).toEqual(['/containers/c0ffee/stop?t=7']);
    const stopIndex = docker.requests.findIndex((r) => r.path.startsWith('/containers/c0ffee/stop'));
    expect(stopIndex).toBeGreaterThan(docker.routes().indexOf('POST /containers/c0ffee/wait'));
    expect(await container.exited).toEqual({ exitCode: 143, signal: 'SIGTERM' });
  });

  it('a spec pinned to a digest (seed 002) pulls and creates repo@digest, whatever the tag says', async () => {
    const runtime = new DockerRuntime({ socketPath: docker.socketPath });
    const container = await runtime.start('t', { name: 'web', image: 'nginx:1.27', imageDigest: DIGEST }, {});
    expect(docker.requests[0].path).toBe(`/images/create?fromImage=nginx&tag=${encodeURIComponent(DIGEST)}`);
    expect(docker.requests[1].body).toMatchObject({ Image: `nginx@${DIGEST}` });
    expect(container.imageDigest).toBe(DIGEST);
    await container.stop(1);
  });

  it('an image without a repo digest (built locally) reports no digest: the runtime cannot resolve it', async () => {
    docker.repoDigests = [];
    const runtime = new DockerRuntime({ socketPath: docker.socketPath, pull: false });
    const container = await runtime.start('t', { name: 'web', image: 'my-app:dev' }, {});
    expect(container.imageDigest).toBeUndefined();
    await container.stop(1);
  });

  it('a failed pull rejects with ContainerStartError and creates nothing', async () => {
    docker.pullError = true;
    const runtime = new DockerRuntime({ socketPath: docker.socketPath });
    const err = await runtime.start('t', { name: 'web', image: 'nginx:nope' }, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerStartError);
    expect((err as Error).message).toMatch(/CannotPullContainerError.*manifest unknown/);
    expect(docker.routes()).toEqual(['POST /images/create']);
  });

  it('a failed start rejects with ContainerStartError and removes the container', async () => {
    docker.startStatus = 400;
    const runtime = new DockerRuntime({ socketPath: docker.socketPath, pull: false });
    const err = await runtime.start('t', { name: 'web', image: 'nginx', command: ['nope'] }, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerStartError);
    expect((err as Error).message).toMatch(/executable file not found/);
    expect(docker.routes()).toEqual(['POST /containers/create', 'POST /containers/c0ffee/start', 'DELETE /containers/c0ffee']);
  });
});

describe('splitImageReference', () => {
  it.each([
    { name: 'name only -> latest', image: 'nginx', expected: { fromImage: 'nginx', tag: 'latest' } },
    { name: 'name:tag', image: 'nginx:1.27', expected: { fromImage: 'nginx', tag: '1.27' } },
    { name: 'registry with port, no tag', image: 'localhost:5000/app', expected: { fromImage: 'localhost:5000/app', tag: 'latest' } },
    { name: 'registry with port and tag', image: 'localhost:5000/app:v2', expected: { fromImage: 'localhost:5000/app', tag: 'v2' } },
    { name: 'digest', image: `nginx@${DIGEST}`, expected: { fromImage: 'nginx', tag: DIGEST } },
  ])('$name', ({ image, expected }) => {
    expect(splitImageReference(image)).toEqual(expected);
  });
});

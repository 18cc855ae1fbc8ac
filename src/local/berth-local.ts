import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLocalDocumentClient } from '../adapters/dynamodb/document-client';
import { ensureTable } from '../adapters/dynamodb/create-table';
import { DEFAULT_TABLE_NAME } from '../adapters/dynamodb/table-schema';
import type { BerthAgent } from '../agent/agent';
import { parseArn } from '../domain/arns';
import type { BerthContext } from '../app/context';
import { createBerthContext } from '../app/create-context';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventPublisher } from '../app/event-publisher';
import { processStreamRecords, type BatchResult, type StreamRecord } from '../app/stream-processor';
import { sweepCapacity } from '../app/capacity-sweep';
import { DEFAULT_CAPACITY_WAIT_MS } from '../app/task-engine';
import { DEFAULT_EVENT_SOURCE } from '../domain/task-events';
import { lockDataDirectory } from './data-directory-lock';
import { superviseDynamoDbLocal, type SupervisedDynamoDbLocal } from './dynamodb-local';
import { RegionalAgents } from './regional-agents';
import { LocalEventSink } from './event-sink';
import { startEcsHttpServer, type RunningServer } from './http-server';
import { ServiceLoopRunner } from './service-loop-runner';
import { ServiceLoopStore } from '../adapters/dynamodb/service-loop-store';
import { StreamPoller, wakeOnWrites } from './stream-poller';
import { placementOrdered } from './stream-lanes';
import { ScheduleRunner } from './schedule-runner';
import type { ThrottleSettings } from '../domain/throttle';
import { LocalAgentChannel } from './agent-channel-server';

export interface BerthLocalOptions {
  /**
   * Where durable state lives: DynamoDB Local's files, the event log, checkpoints, the agent's
   * identity. Default `.berth`. Relative paths (here and for the files below) resolve against the
   * working directory; one running Berth owns a data directory at a time.
   */
  readonly dataDirectory?: string;
  /** Keep nothing: DynamoDB Local runs in memory, the event log goes to a temporary directory. */
  readonly inMemory?: boolean;
  readonly host?: string;
  /** Serve on a non-loopback address (no authentication: anyone who reaches it controls Berth). */
  readonly allowRemote?: boolean;
  readonly port?: number;
  readonly account?: string;
  readonly region?: string;
  readonly tableName?: string;
  /** `source` of the events Berth emits. Default berth.ecs. */
  readonly eventSource?: string;
  /** Event log (JSON lines). Default `<data>/events.jsonl`. */
  readonly eventsFile?: string;
  /** EventBridge-style rules for local targets. Default `<data>/rules.json` (absent: no rules). */
  readonly rulesFile?: string;
  /** Run the embedded agent (this machine as FARGATE/FARGATE_SPOT capacity). Default true. */
  readonly agent?: boolean;
  /**
   * What the embedded agent offers as FARGATE/FARGATE_SPOT capacity in each region (CPU units, MiB):
   * a virtual pool, not this machine's cores. Default 64 vCPU / 480 GiB (DEFAULT_FARGATE_POOL).
   */
  readonly fargatePool?: { cpu: number; memory: number };
  /**
   * How long a task may wait for capacity before it stops with TaskFailedToStart and a reason naming
   * the missing resource. Default five minutes (DEFAULT_CAPACITY_WAIT_MS).
   */
  readonly capacityWaitMs?: number;
  /** The service throttle's curve (default 10 s doubling to 15 min); tests scale it. */
  readonly throttle?: ThrottleSettings;
  /** How long an agent may stay silent before its instance shows agentConnected false. Default 60 s. */
  readonly agentTimeoutMs?: number;
  /** How long STOPPED tasks stay describable. Default one hour. */
  readonly stoppedTaskRetentionMs?: number;
  readonly logger?: Pick<Console, 'info' | 'warn' | 'error'>;
  /** Seams for measurement (the lifecycle benchmark counts writes, stream batches and events). */
  readonly instrument?: Instrumentation;
}

type StreamHandler = (records: StreamRecord[]) => Promise<BatchResult>;

export interface Instrumentation {
  /** Sees Berth's one DynamoDB client before first use (e.g. to add middleware). */
  documentClient?(doc: DynamoDBDocumentClient): void;
  publisher?(publisher: EventPublisher): EventPublisher;
  streamHandler?(handle: StreamHandler): StreamHandler;
  /** Sees every state a service loop execution enters (Step Functions bills these transitions). */
  serviceLoopState?(execution: string, state: string, input: unknown): void;
  /** Sees the API's HTTP server before it serves (e.g. to count requests by operation). */
  apiServer?(server: Server): void;
}

export interface BerthLocal {
  readonly url: string;
  readonly dataDirectory: string;
  readonly dynamoDb: SupervisedDynamoDbLocal;
  readonly context: BerthContext;
  readonly events: LocalEventSink;
  /** The agent channel on the API port (docs/agent-channel.md). */
  readonly agentChannel: LocalAgentChannel;
  readonly agent?: BerthAgent;
  stop(): Promise<void>;
}

export const DEFAULT_PORT = 4600;
export const DEFAULT_DATA_DIRECTORY = '.berth';
export const DEFAULT_ACCOUNT = '000000000000';
export const DEFAULT_REGION = 'us-east-1';
const SWEEP_INTERVAL_MS = 5_000;

/**
 * Assembles the local control plane from the same pieces AWS runs: DynamoDB Local with the table,
 * the ECS API on HTTP, the stream poller feeding the stream handler (events to the local sink, the
 * lifecycle engine), a timer that retries placement, and an embedded agent.
 */
export async function startBerthLocal(options: BerthLocalOptions = {}): Promise<BerthLocal> {
  const logger = options.logger ?? console;
  const scratch = options.inMemory ? mkdtempSync(join(tmpdir(), 'berth-')) : undefined;
  const dataDirectory = resolve(scratch ?? options.dataDirectory ?? DEFAULT_DATA_DIRECTORY);
  mkdirSync(dataDirectory, { recursive: true });
  // Refuse before starting anything: a second runtime on the same files would split-brain.
  const lock = scratch ? undefined : lockDataDirectory(dataDirectory);
  // Stopped in reverse order of start: the agent stops its tasks while the API still takes their
  // reports, then the API, the sweep, the stream poller (drained), the event sink, and DynamoDB Local last.
  const cleanups: (() => Promise<void> | void)[] = [() => lock?.release()];
  let stopped: Promise<void> | undefined;
  // Once, whoever asks (a signal, an error path, a test); a failing step does not keep the rest running.
  const stop = () =>
    (stopped ??= (async () => {
      for (const cleanup of [...cleanups].reverse()) {
        try {
          await cleanup();
        } catch (error) {
          logger.error(`berth: while stopping: ${(error as Error).message}`);
        }
      }
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    })());
  let dynamoDb: SupervisedDynamoDbLocal;
  // What to do once a DynamoDB Local that died is back (set below, when there is a table and a poller).
  let afterRestart: () => Promise<void> = async () => undefined;
  try {
    dynamoDb = await superviseDynamoDbLocal({
      dataDirectory: scratch ? undefined : join(dataDirectory, 'dynamodb'),
      logger,
      onRestart: () => afterRestart(),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  cleanups.push(() => dynamoDb.stop());
  try {
    const doc = createLocalDocumentClient(dynamoDb.endpoint);
    cleanups.push(() => doc.destroy());
    options.instrument?.documentClient?.(doc);
    const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
    const streamArn = await ensureTable(doc, tableName);
    const region = options.region ?? DEFAULT_REGION;
    const context = createBerthContext({
      doc,
      tableName,
      account: options.account ?? DEFAULT_ACCOUNT,
      region,
      retention: options.stoppedTaskRetentionMs ? { stoppedTaskMs: options.stoppedTaskRetentionMs } : undefined,
      agentTimeoutMs: options.agentTimeoutMs,
      throttle: options.throttle,
    });

    const events = await LocalEventSink.open({
      eventsFile: resolve(options.eventsFile ?? join(dataDirectory, 'events.jsonl')),
      rulesFile: resolve(options.rulesFile ?? join(dataDirectory, 'rules.json')),
      logger,
    });
    cleanups.push(() => events.drain());

    const publisher = options.instrument?.publisher?.(events) ?? events;
    const serviceLoop = new ServiceLoopRunner({
      context,
      store: new ServiceLoopStore(doc, tableName),
      logger,
      onStateEntered: options.instrument?.serviceLoopState,
    });
    const maxCapacityWaitMs = options.capacityWaitMs ?? DEFAULT_CAPACITY_WAIT_MS;
    let agents: RegionalAgents | undefined;
    const agentChannel = new LocalAgentChannel({ context, logger });
    const handle: StreamHandler = (records) => {
      // A cluster created in a region the embedded agent does not serve yet: join it there (not awaited;
      // its registration places the region's waiting tasks).
      for (const record of records) {
        const created = record.eventName === 'INSERT' && record.dynamodb?.NewImage;
        if (created && (created.kind as { S?: string } | undefined)?.S === 'cluster') {
          const region = parseArn(String((created.pk as { S?: string }).S))?.region;
          if (region) void agents?.serve(region);
        }
      }
      return processStreamRecords(
        { context, publisher, eventSource: options.eventSource ?? DEFAULT_EVENT_SOURCE, logger, maxCapacityWaitMs, serviceLoop, agentNotifier: agentChannel, sharesContextWithApi: true },
        records,
      );
    };
    // The loop's executions stop after the poller (no more wake-ups); stopping waits for their steps.
    cleanups.push(() => serviceLoop.stop());
    const poller = new StreamPoller({
      endpoint: dynamoDb.endpoint,
      streamArn,
      checkpointFile: scratch ? undefined : join(dataDirectory, 'stream-checkpoints.json'),
      handle: options.instrument?.streamHandler?.(handle) ?? handle,
      // Placements and releases in cluster order; a task's other steps beside them (stream-lanes.ts).
      partitionOrdered: placementOrdered,
      logger,
    });
    // The runtime's own writes (API, engine, agent reports: one process, one client) wake the poller
    // at once; its idle poll remains for any other writer.
    wakeOnWrites(doc, () => poller.wake());
    poller.start();
    cleanups.push(() => poller.stop());
    let followed = streamArn;
    afterRestart = async () => {
      // With a data directory the table and its stream are still there; in memory they are gone.
      const latest = await ensureTable(doc, tableName);
      if (latest !== followed) {
        followed = latest;
        poller.follow(latest);
      }
      if (scratch) {
        logger.error('berth: DynamoDB Local ran in memory, so its data is lost: starting over with an empty table');
        await agents?.rejoin();
      }
    };
    // Every execution is the runner's: it aborts them (and waits for their steps) before the table goes.
    await serviceLoop.resume();

    // One sweep at a time; stopping waits for the one in flight.
    let sweeping = true;
    let sweepTimer: NodeJS.Timeout | undefined;
    let sweep: Promise<void> = Promise.resolve();
    const scheduleSweep = () => {
      sweepTimer = setTimeout(() => {
        const regions = new Set([region, ...(agents?.regions() ?? [])]);
        sweep = Promise.all(
          [...regions].map((r) => sweepCapacity(context, { account: context.account, region: r }, { maxWaitMs: maxCapacityWaitMs, logger })),
        )
          .then(() => undefined)
          .catch((error) => logger.error('placement sweep:', error))
          .finally(() => sweeping && scheduleSweep());
      }, SWEEP_INTERVAL_MS);
    };
    scheduleSweep();
    cleanups.push(async () => {
      sweeping = false;
      clearTimeout(sweepTimer);
      await sweep;
    });

    const server: RunningServer = await startEcsHttpServer(context, options.host ?? '127.0.0.1', options.port ?? DEFAULT_PORT, {
      allowRemote: options.allowRemote,
    });
    cleanups.push(() => server.close());
    options.instrument?.apiServer?.(server.server);
    // Upgraded sockets are not the HTTP server's to close: the channel closes them first.
    agentChannel.attach(server.server);
    cleanups.push(() => agentChannel.close());
    lock?.setUrl(server.url);

    // EventBridge Scheduler schedules fire here; stopped before the API, so no firing outlives it.
    const scheduleRunner = new ScheduleRunner({ context, logger });
    scheduleRunner.start();
    cleanups.push(() => scheduleRunner.stop());

    let agent: BerthAgent | undefined;
    if (options.agent !== false) {
      const regional = new RegionalAgents({
        endpoint: server.url,
        defaultRegion: region,
        dataDirectory,
        persistent: !scratch,
        fargatePool: options.fargatePool,
        logger,
      });
      // Stopping Berth stops the task processes it started (SIGTERM, then SIGKILL).
      cleanups.push(() => regional.stop());
      agent = await regional.start();
      agents = regional;
    }
    return { url: server.url, dataDirectory, dynamoDb, context, events, agentChannel, agent, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

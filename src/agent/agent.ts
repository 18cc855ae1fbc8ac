/**
 * The Berth agent: registers its host as capacity (a cluster's container instance, or Fargate
 * capacity), long-polls for the tasks placed on it, and runs them with a container runtime:
 *
 *   assigned, PENDING, desired RUNNING  -> report ACTIVATING, start the containers, report RUNNING
 *   STOPPING (the engine asked)         -> SIGTERM every container, SIGKILL after its stopTimeout,
 *                                          report STOPPED with the exit codes
 *   an essential container exits        -> stop the others the same way, report STOPPED
 *   a container cannot start            -> stop what started, report STOPPED (TaskFailedToStart)
 *   a task it has no process object for -> (after a restart) adopt its containers if they still run,
 *                                          else report STOPPED with what is known (src/agent/reasons.ts)
 *
 * Its identity (the container instance ARN) is kept in `<stateDirectory>/agent.json`: a restarted
 * agent registers with it and comes back as the same instance, with its tasks.
 *
 * Reports go through SubmitTaskStateChange / SubmitContainerStateChange; the control plane decides
 * the rest of the lifecycle. Everything the agent does is keyed by task ARN and idempotent, so a
 * repeated poll answer repeats nothing.
 */
import type { Assignment } from '../app/agent-assignments';
import type { ContainerDefinition, TaskRecord } from '../domain/records';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_STOP_TIMEOUT_SECONDS,
  type Adoption,
  type ContainerExit,
  type ContainerRuntime,
  type ContainerSpec,
  type RunningContainer,
} from './container-runtime';
import type { ContainerReport, ControlPlaneClient } from './control-plane-client';
import { refusalOf } from './assignment-check';
import { AssignmentChannel } from './assignment-channel';
import { AGENT_SHUT_DOWN, adoptionOutcome, type AgentStop } from './reasons';

export interface AgentOptions {
  readonly client: ControlPlaneClient;
  readonly runtime: ContainerRuntime;
  /** Join this cluster as an EC2/EXTERNAL container instance... */
  readonly cluster?: string;
  /** ...or offer Fargate capacity (FARGATE and/or FARGATE_SPOT) to every cluster of the region. */
  readonly fargateProviders?: readonly string[];
  /** The Auto Scaling group capacity provider this container instance belongs to (its tasks come here). */
  readonly capacityProvider?: string;
  readonly resources: { cpu: number; memory: number };
  readonly availabilityZone: string;
  /** The `ecs.instance-type` attribute (placement constraints select hosts by it); absent: not reported. */
  readonly instanceType?: string;
  /** Custom attributes to register with (as ECS_INSTANCE_ATTRIBUTES does for ECS's agent). */
  readonly attributes?: readonly { readonly name: string; readonly value?: string }[];
  /** Come back as this instance (an agent restarting keeps its identity and its tasks). */
  readonly containerInstanceArn?: string;
  /** Where the agent keeps its identity (agent.json), so a restart comes back as the same instance. */
  readonly stateDirectory?: string;
  /**
   * Longest wait of one PollAssignments long poll (default 10). With a channel, the agent long-polls
   * only while the channel is down; 0 there means it then waits for the channel instead.
   */
  readonly pollWaitSeconds?: number;
  /** Learn of new work through the agent channel (docs/agent-channel.md) instead of long polls. */
  readonly channel?: AgentChannelOptions;
  readonly logger?: Pick<Console, 'info' | 'error'>;
}

export interface AgentChannelOptions {
  /** ws:// or wss:// URL (locally `ws://127.0.0.1:4600/agent-channel`). */
  readonly url: string;
  /** A full fetch this often whatever the channel says: the safety net. Default 30 minutes. */
  readonly resyncSeconds?: number;
  /** A heartbeat on the channel this often (liveness in AWS; under API Gateway's 10-minute idle timeout). Default 8 minutes. */
  readonly heartbeatSeconds?: number;
  /** [0, 1) for the reconnect backoff's jitter. Default Math.random. */
  readonly random?: () => number;
}

export const DEFAULT_RESYNC_SECONDS = 30 * 60;
export const DEFAULT_HEARTBEAT_SECONDS = 8 * 60;

type Phase = 'starting' | 'running' | 'stopping' | 'stopped';

interface LocalTask {
  /** Settles once the start is over (RUNNING reported, or the start failed). */
  started: Promise<void>;
  readonly taskArn: string;
  readonly clusterArn: string;
  readonly definitions: ContainerDefinition[];
  readonly containers: Map<string, RunningContainer>;
  readonly exits: Map<string, ContainerExit>;
  phase: Phase;
  stopRequested?: boolean;
}

export const AGENT_VERSION = '0.1.0';

/** ECS's names for Node's `process.arch` values (the ecs.cpu-architecture attribute). */
const CPU_ARCHITECTURES: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'arm64', ia32: 'i386', arm: 'arm' };

/** The built-in attributes ECS's agent reports, as far as this host can tell them. */
export function builtInAttributes(options: Pick<AgentOptions, 'availabilityZone' | 'instanceType'>) {
  const windows = process.platform === 'win32';
  return [
    { name: 'ecs.availability-zone', value: options.availabilityZone },
    { name: 'ecs.os-type', value: windows ? 'windows' : 'linux' },
    { name: 'ecs.os-family', value: windows ? 'WINDOWS_SERVER' : 'LINUX' },
    { name: 'ecs.cpu-architecture', value: CPU_ARCHITECTURES[process.arch] ?? process.arch },
    ...(options.instanceType ? [{ name: 'ecs.instance-type', value: options.instanceType }] : []),
  ];
}
const IDENTITY_FILE = 'agent.json';

export class BerthAgent {
  private arn?: string;
  private readonly tasks = new Map<string, LocalTask>();
  private readonly work = new Set<Promise<void>>();
  private known: Record<string, number> = {};
  /** Assignments refused as not this host's (src/agent/assignment-check.ts), each logged once. */
  private readonly refused = new Set<string>();
  private running = false;
  private loop?: Promise<void>;
  private readonly polling = new AbortController();
  private channel?: AssignmentChannel;
  /** A fetch is owed (a notification, a (re)connect or the resync came since the last one began). */
  private fetchOwed = true;
  /** Why the owed fetch is owed (logged when it starts: fetches are rare with a channel, and telling). */
  private readonly fetchReasons = new Set<string>(['the agent started']);
  private wakeFetchLoop?: () => void;
  private longPoll?: AbortController;

  constructor(private readonly options: AgentOptions) {}

  get containerInstanceArn(): string | undefined {
    return this.arn;
  }

  async start(): Promise<string> {
    const previous = this.options.containerInstanceArn ?? (await this.savedIdentity());
    try {
      this.arn = await this.register(previous);
    } catch (error) {
      // The saved identity belongs elsewhere (another cluster, region, account): join afresh.
      if (!previous || (error as Error).name !== 'InvalidParameterException') throw error;
      this.options.logger?.error(`berth-agent: cannot come back as ${previous} (${(error as Error).message}); registering anew`);
      this.arn = await this.register(undefined);
    }
    await this.saveIdentity(this.arn);
    this.running = true;
    this.loop = this.options.channel ? this.channelLoop(this.options.channel) : this.pollLoop();
    return this.arn;
  }

  private async savedIdentity(): Promise<string | undefined> {
    if (!this.options.stateDirectory) return undefined;
    const file = path.join(this.options.stateDirectory, IDENTITY_FILE);
    try {
      return (JSON.parse(await readFile(file, 'utf8')) as { containerInstanceArn?: string }).containerInstanceArn;
    } catch {
      return undefined;
    }
  }

  private async saveIdentity(arn: string): Promise<void> {
    if (!this.options.stateDirectory) return;
    await mkdir(this.options.stateDirectory, { recursive: true });
    const file = path.join(this.options.stateDirectory, IDENTITY_FILE);
    // Write-then-rename: a crash mid-write never leaves a torn identity behind.
    await writeFile(`${file}.tmp`, JSON.stringify({ containerInstanceArn: arn }));
    await rename(`${file}.tmp`, file);
  }

  private register(containerInstanceArn: string | undefined): Promise<string> {
    const { fargateProviders = [] } = this.options;
    return this.options.client.register({
      cluster: fargateProviders.length ? undefined : this.options.cluster,
      containerInstanceArn,
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: this.options.resources.cpu },
        { name: 'MEMORY', type: 'INTEGER', integerValue: this.options.resources.memory },
      ],
      attributes: [
        ...builtInAttributes(this.options),
        ...(fargateProviders.length ? [{ name: 'berth.fargate-capacity', value: fargateProviders.join(',') }] : []),
        ...(this.options.capacityProvider && !fargateProviders.length ? [{ name: 'berth.capacity-provider', value: this.options.capacityProvider }] : []),
        ...(this.options.attributes ?? []),
      ],
      versionInfo: { agentVersion: AGENT_VERSION, agentHash: 'berth', dockerVersion: this.options.runtime.name },
    });
  }

  /**
   * Stops polling. Without `stopContainers` the containers keep running: a restarted agent with the
   * same state directory adopts them. With it, every task is stopped (SIGTERM, then SIGKILL after
   * `timeoutSeconds`, else each container's stopTimeout) and reported STOPPED as stopped by the agent
   * (`reason`, default: the agent shut down), not as if its containers had exited by themselves.
   */
  async stop(options: { stopContainers?: boolean; timeoutSeconds?: number; reason?: string } = {}): Promise<void> {
    this.running = false;
    this.polling.abort();
    this.wakeFetchLoop?.();
    await this.loop;
    if (options.stopContainers) {
      const stop: AgentStop = { stopCode: 'TerminationNotice', reason: options.reason ?? AGENT_SHUT_DOWN };
      await Promise.allSettled(
        [...this.tasks.values()].map(async (task) => {
          await task.started;
          if (task.phase !== 'running') return;
          await this.stopTask(task, options.timeoutSeconds, stop).catch((error) =>
            this.options.logger?.error(`berth-agent: could not report ${task.taskArn} stopped: ${(error as Error).message}`),
          );
        }),
      );
    }
    await Promise.allSettled([...this.work]);
    this.options.client.destroy();
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      try {
        const answer = await this.options.client.pollAssignments({
          containerInstanceArn: this.arn!,
          known: this.known,
          waitSeconds: this.options.pollWaitSeconds ?? 10,
        }, this.polling.signal);
        this.apply(answer.assignments);
      } catch (error) {
        if (!this.running) return;
        this.options.logger?.error('berth-agent: poll failed, retrying', error);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /**
   * With a channel: fetch when told (a notification, a (re)connect, the resync), else wait. While the
   * channel is down the agent long-polls as it would without one (unless pollWaitSeconds is 0); a
   * (re)connect cuts that poll short, since the fetch after it sees everything.
   */
  private async channelLoop(options: AgentChannelOptions): Promise<void> {
    const pollWaitSeconds = this.options.pollWaitSeconds ?? 10;
    this.channel = new AssignmentChannel({
      url: options.url,
      containerInstanceArn: this.arn!,
      connectHeaders: (url) => this.options.client.signedConnectHeaders(url),
      heartbeatMs: (options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) * 1000,
      random: options.random,
      onConnected: () => this.owe(true, 'the agent channel connected'),
      onDisconnected: () => this.owe(false, 'the agent channel closed'),
      // A notification that carries its task is acted on as it is: no fetch.
      onNotified: (message) => (message.assignment ? this.applyOne(message.assignment) : this.owe(false, 'a notification without its task')),
      logger: this.options.logger,
    });
    this.channel.start();
    const resync = setInterval(() => this.owe(false, 'the periodic resync'), (options.resyncSeconds ?? DEFAULT_RESYNC_SECONDS) * 1000);
    try {
      while (this.running) {
        const open = this.channel.open;
        if (!this.fetchOwed && (open || pollWaitSeconds === 0)) {
          await new Promise<void>((resolve) => (this.wakeFetchLoop = resolve));
          continue;
        }
        this.fetchOwed = false;
        if (this.fetchReasons.size) this.options.logger?.info(`berth-agent: fetching assignments (${[...this.fetchReasons].join('; ')})`);
        this.fetchReasons.clear();
        this.longPoll = new AbortController();
        try {
          const answer = await this.options.client.pollAssignments(
            { containerInstanceArn: this.arn!, known: this.known, waitSeconds: open ? 0 : pollWaitSeconds },
            AbortSignal.any([this.polling.signal, this.longPoll.signal]),
          );
          this.apply(answer.assignments);
        } catch (error) {
          if (!this.running) return;
          if (this.longPoll.signal.aborted) continue;
          this.options.logger?.error('berth-agent: fetching assignments failed, retrying', error);
          this.fetchOwed = true;
          this.fetchReasons.add('the last fetch failed');
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    } finally {
      clearInterval(resync);
      await this.channel.stop();
    }
  }

  /** A fetch is owed; `cutLongPoll` when a long poll in flight is no longer the way to learn of it. */
  private owe(cutLongPoll: boolean, reason: string): void {
    this.fetchOwed = true;
    this.fetchReasons.add(reason);
    if (cutLongPoll) this.longPoll?.abort();
    this.wakeFetchLoop?.();
    this.wakeFetchLoop = undefined;
  }

  /** Connections the agent channel opened so far (0 without one). */
  get channelConnects(): number {
    return this.channel?.connects ?? 0;
  }

  private apply(assignments: Assignment[]): void {
    this.known = Object.fromEntries(assignments.map((a) => [a.task.taskArn, a.task.version]));
    const assigned = new Set(assignments.map((a) => a.task.taskArn));
    for (const arn of this.tasks.keys()) if (!assigned.has(arn) && this.tasks.get(arn)!.phase === 'stopped') this.tasks.delete(arn);
    for (const arn of this.refused) if (!assigned.has(arn)) this.refused.delete(arn);
    for (const assignment of assignments) this.reconcile(assignment);
  }

  /**
   * One task as a notification carried it. Acting on it is safe whatever arrives when: a start is
   * claimed first (ACTIVATING, refused for a task stopped or moved since), a stop is idempotent, and
   * the next fetch (reconnect, resync, a notification without its task) brings the whole picture.
   */
  private applyOne(assignment: Assignment): void {
    if (!this.running) return;
    this.known[assignment.task.taskArn] = assignment.task.version;
    this.reconcile(assignment);
  }

  private reconcile({ task, containers }: Assignment): void {
    const local = this.tasks.get(task.taskArn);
    if (!local) {
      const refusal = refusalOf(task, {
        containerInstanceArn: this.arn!,
        fargateProviders: this.options.fargateProviders ?? [],
        capacityProvider: this.options.capacityProvider,
      });
      if (refusal !== undefined) {
        if (!this.refused.has(task.taskArn)) this.options.logger?.error(`berth-agent: not running ${task.taskArn}: ${refusal}`);
        this.refused.add(task.taskArn);
        return;
      }
      if (task.desiredStatus === 'RUNNING' && task.lastStatus === 'PENDING') this.track(this.launch(task, containers));
      else if (['ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING'].includes(task.lastStatus) && task.executionStoppedAt === undefined) {
        // Started before this agent did (it restarted): find its containers again.
        const adopted = this.localTask(task, containers, 'starting');
        this.tasks.set(task.taskArn, adopted);
        adopted.started = this.adopt(adopted, task);
        this.track(adopted.started);
        if (task.lastStatus === 'STOPPING') adopted.stopRequested = true;
      }
      return;
    }
    if (task.lastStatus === 'STOPPING' && !local.stopRequested) {
      local.stopRequested = true;
      // A task still starting finishes its start first, so no container is left behind.
      this.track(local.started.then(() => (local.phase === 'running' ? this.stopTask(local) : undefined)));
    }
  }

  private localTask(task: TaskRecord, definitions: ContainerDefinition[], phase: Phase): LocalTask {
    return {
      started: Promise.resolve(),
      taskArn: task.taskArn,
      clusterArn: task.clusterArn,
      definitions,
      containers: new Map(),
      exits: new Map(),
      phase,
    };
  }

  private track(work: Promise<void>) {
    const tracked = work.catch((error) => this.options.logger?.error('berth-agent:', error)).finally(() => this.work.delete(tracked));
    this.work.add(tracked);
  }

  private async launch(task: TaskRecord, definitions: ContainerDefinition[]): Promise<void> {
    const local = this.localTask(task, definitions, 'starting');
    this.tasks.set(task.taskArn, local);
    local.started = this.startContainers(local, task, definitions);
    await local.started;
  }

  private async startContainers(local: LocalTask, task: TaskRecord, definitions: ContainerDefinition[]): Promise<void> {
    const taskId = task.taskArn.split('/').pop()!;
    try {
      await this.report(local.clusterArn, local.taskArn, 'ACTIVATING', { pullStartedAt: new Date() });
    } catch (error) {
      // Nothing started. Refused (the task was stopped, or moved, since the poll answer) or lost on
      // the way: forget it, so a later answer that still assigns it PENDING starts it afresh.
      local.phase = 'stopped';
      this.tasks.delete(local.taskArn);
      throw error;
    }
    for (const definition of definitions) {
      try {
        const pinned = task.containers.find((c) => c.name === definition.name)?.imageDigest;
        const container = await this.options.runtime.start(taskId, specOf(definition, pinned), this.healthReporter(local, definition));
        local.containers.set(definition.name, container);
        container.exited.then((exit) => this.track(this.onExit(local, definition, exit)));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // Runtimes already name Docker's errors (CannotPullContainerError: ...); name the rest.
        const reason = /^Cannot\w+Error/.test(message) ? message : `CannotStartContainerError: ${message}`;
        local.phase = 'stopping';
        await this.stopContainers(local);
        local.phase = 'stopped';
        await this.report(local.clusterArn, local.taskArn, 'STOPPED', {
          reason,
          containers: this.containerReports(local, 'STOPPED', definition.name, reason),
          executionStoppedAt: new Date(),
        });
        return;
      }
    }
    local.phase = 'running';
    await this.report(local.clusterArn, local.taskArn, 'RUNNING', {
      pullStoppedAt: new Date(),
      containers: this.containerReports(local, 'RUNNING'),
    });
  }

  /**
   * A task this agent did not start: a running one goes on being watched; one whose containers
   * ended (or vanished) while no agent watched is reported STOPPED with what is known of why.
   */
  private async adopt(local: LocalTask, task: TaskRecord): Promise<void> {
    const taskId = task.taskArn.split('/').pop()!;
    const found = new Map<string, Adoption>();
    for (const definition of local.definitions) {
      const adoption = this.options.runtime.adopt
        ? await this.options.runtime.adopt(taskId, specOf(definition), this.healthReporter(local, definition)).catch(
            (error): Adoption => ({ state: 'lost', reason: (error as Error).message, hostRestarted: false }),
          )
        : { state: 'lost' as const, reason: `the ${this.options.runtime.name} runtime cannot find containers again`, hostRestarted: false };
      found.set(definition.name, adoption);
      if (adoption.state === 'running') local.containers.set(definition.name, adoption.container);
      else if (adoption.state === 'exited') local.exits.set(definition.name, adoption.exit);
      else local.exits.set(definition.name, { exitCode: null, reason: adoption.reason });
    }
    const outcome = adoptionOutcome(task, local.definitions, found);
    if (outcome.kind === 'adopt') {
      // Every essential container still runs: watch them as if this agent had started them.
      local.phase = 'running';
      for (const definition of local.definitions) {
        const container = local.containers.get(definition.name);
        if (container) container.exited.then((exit) => this.track(this.onExit(local, definition, exit)));
        else await this.reportContainerExit(local, definition, local.exits.get(definition.name)!);
      }
      this.options.logger?.info(`berth-agent: adopted ${task.taskArn} (${local.containers.size} running containers)`);
      // The previous agent started them but did not live to say so.
      if (task.lastStatus === 'ACTIVATING') {
        await this.report(local.clusterArn, local.taskArn, 'RUNNING', {
          pullStoppedAt: new Date(),
          containers: this.containerReports(local, 'RUNNING'),
        });
      }
      if (local.stopRequested) await this.stopTask(local);
      return;
    }
    const stop = outcome.kind === 'agent-stop' ? outcome.stop : undefined;
    this.options.logger?.info(`berth-agent: ${task.taskArn}: ${stop?.reason ?? 'an essential container exited while the agent was not running'}`);
    await this.stopTask(local, undefined, stop);
  }

  private healthReporter(local: LocalTask, definition: ContainerDefinition) {
    return {
      onHealthChange: (healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN') =>
        this.track(
          this.options.client.submitContainer({
            cluster: local.clusterArn,
            task: local.taskArn,
            containerInstance: this.arn!,
            containerName: definition.name,
            status: 'RUNNING',
            healthStatus,
          }),
        ),
    };
  }

  private async reportContainerExit(local: LocalTask, definition: ContainerDefinition, exit: ContainerExit): Promise<void> {
    await this.options.client.submitContainer({
      cluster: local.clusterArn,
      task: local.taskArn,
      containerInstance: this.arn!,
      containerName: definition.name,
      status: 'STOPPED',
      exitCode: exit.exitCode ?? undefined,
      reason: exit.reason,
    });
  }

  private async onExit(local: LocalTask, definition: ContainerDefinition, exit: ContainerExit): Promise<void> {
    local.exits.set(definition.name, exit);
    // A command that exits at once still ran: ECS reports the task RUNNING before it stops it.
    await local.started;
    if (local.phase === 'stopping' || local.phase === 'stopped') return;
    if (definition.essential === false) {
      await this.reportContainerExit(local, definition, exit);
      return;
    }
    // An essential container is gone: the task ends; the others get the normal stop.
    await this.stopTask(local);
  }

  /** Stops the task's containers and reports it STOPPED; `stop` when the agent itself decided it. */
  private async stopTask(local: LocalTask, timeoutSeconds?: number, stop?: AgentStop): Promise<void> {
    local.phase = 'stopping';
    await this.stopContainers(local, timeoutSeconds);
    local.phase = 'stopped';
    await this.report(local.clusterArn, local.taskArn, 'STOPPED', {
      ...(stop ? { reason: stop.reason, stopCode: stop.stopCode } : {}),
      containers: this.containerReports(local, 'STOPPED'),
      executionStoppedAt: new Date(),
    });
  }

  /** SIGTERM to every container at once, SIGKILL to each after its own stopTimeout. */
  private async stopContainers(local: LocalTask, timeoutSeconds?: number): Promise<void> {
    await Promise.all(
      [...local.containers.entries()].map(async ([name, container]) => {
        const definition = local.definitions.find((d) => d.name === name);
        const exit = await container.stop(timeoutSeconds ?? definition?.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS);
        if (!local.exits.has(name)) local.exits.set(name, exit);
      }),
    );
  }

  private containerReports(local: LocalTask, status: string, failed?: string, reason?: string): ContainerReport[] {
    return local.definitions.map((definition) => {
      const container = local.containers.get(definition.name);
      const exit = local.exits.get(definition.name);
      return {
        containerName: definition.name,
        status: container || definition.name === failed ? status : 'STOPPED',
        ...(container ? { runtimeId: container.runtimeId, imageDigest: container.imageDigest } : {}),
        ...(exit?.exitCode !== undefined && exit.exitCode !== null && status === 'STOPPED' ? { exitCode: exit.exitCode } : {}),
        ...(definition.name === failed && reason ? { reason } : exit?.reason && status === 'STOPPED' ? { reason: exit.reason } : {}),
      };
    });
  }

  private async report(
    cluster: string,
    task: string,
    status: 'ACTIVATING' | 'RUNNING' | 'STOPPED',
    details: {
      reason?: string;
      stopCode?: AgentStop['stopCode'];
      containers?: ContainerReport[];
      pullStartedAt?: Date;
      pullStoppedAt?: Date;
      executionStoppedAt?: Date;
    } = {},
  ): Promise<void> {
    await this.options.client.submitTask({ cluster, task, containerInstance: this.arn!, status, ...details });
  }
}

/** `imageDigest`: the digest the service scheduler pinned the container to, if any. */
function specOf(definition: ContainerDefinition, imageDigest?: string): ContainerSpec {
  return {
    ...(imageDigest ? { imageDigest } : {}),
    name: definition.name,
    image: definition.image,
    entryPoint: definition.entryPoint as string[] | undefined,
    command: definition.command as string[] | undefined,
    environment: definition.environment as { name: string; value: string }[] | undefined,
    workingDirectory: definition.workingDirectory as string | undefined,
    stopTimeout: definition.stopTimeout,
    cpu: definition.cpu,
    memory: definition.memory,
    healthCheck: definition.healthCheck as ContainerSpec['healthCheck'],
  };
}

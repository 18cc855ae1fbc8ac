/**
 * The Berth agent: registers its host as capacity (a cluster's container instance, or Fargate
 * capacity), long-polls for the tasks placed on it, and runs them with a container runtime:
 *
 *   assigned, PENDING, desired RUNNING  -> report ACTIVATING, start the containers, report RUNNING
 *   STOPPING (the engine asked)         -> SIGTERM every container, SIGKILL after its stopTimeout,
 *                                          report STOPPED with the exit codes
 *   an essential container exits        -> stop the others the same way, report STOPPED
 *   a container cannot start            -> stop what started, report STOPPED (TaskFailedToStart)
 *
 * Reports go through SubmitTaskStateChange / SubmitContainerStateChange; the control plane decides
 * the rest of the lifecycle. Everything the agent does is keyed by task ARN and idempotent, so a
 * repeated poll answer repeats nothing.
 */
import type { Assignment } from '../app/agent-assignments';
import type { ContainerDefinition, TaskRecord } from '../domain/records';
import {
  DEFAULT_STOP_TIMEOUT_SECONDS,
  type ContainerExit,
  type ContainerRuntime,
  type ContainerSpec,
  type RunningContainer,
} from './container-runtime';
import type { ContainerReport, ControlPlaneClient } from './control-plane-client';

export interface AgentOptions {
  readonly client: ControlPlaneClient;
  readonly runtime: ContainerRuntime;
  /** Join this cluster as an EC2/EXTERNAL container instance... */
  readonly cluster?: string;
  /** ...or offer Fargate capacity (FARGATE and/or FARGATE_SPOT) to every cluster of the region. */
  readonly fargateProviders?: readonly string[];
  readonly resources: { cpu: number; memory: number };
  readonly availabilityZone: string;
  /** Come back as this instance (an agent restarting keeps its identity and its tasks). */
  readonly containerInstanceArn?: string;
  readonly pollWaitSeconds?: number;
  readonly logger?: Pick<Console, 'info' | 'error'>;
}

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
const LOST_CONTAINER = 'The container process was lost: the agent restarted while the task was running.';

export class BerthAgent {
  private arn?: string;
  private readonly tasks = new Map<string, LocalTask>();
  private readonly work = new Set<Promise<void>>();
  private known: Record<string, number> = {};
  private running = false;
  private loop?: Promise<void>;
  private readonly polling = new AbortController();

  constructor(private readonly options: AgentOptions) {}

  get containerInstanceArn(): string | undefined {
    return this.arn;
  }

  async start(): Promise<string> {
    const { fargateProviders = [] } = this.options;
    this.arn = await this.options.client.register({
      cluster: fargateProviders.length ? undefined : this.options.cluster,
      containerInstanceArn: this.options.containerInstanceArn,
      totalResources: [
        { name: 'CPU', type: 'INTEGER', integerValue: this.options.resources.cpu },
        { name: 'MEMORY', type: 'INTEGER', integerValue: this.options.resources.memory },
      ],
      attributes: [
        { name: 'ecs.availability-zone', value: this.options.availabilityZone },
        { name: 'ecs.os-type', value: 'linux' },
        ...(fargateProviders.length ? [{ name: 'berth.fargate-capacity', value: fargateProviders.join(',') }] : []),
      ],
      versionInfo: { agentVersion: AGENT_VERSION, agentHash: 'berth', dockerVersion: this.options.runtime.name },
    });
    this.running = true;
    this.loop = this.pollLoop();
    return this.arn;
  }

  /** Stops polling; with `stopContainers`, also stops every container (SIGTERM, then SIGKILL). */
  async stop(options: { stopContainers?: boolean; timeoutSeconds?: number } = {}): Promise<void> {
    this.running = false;
    this.polling.abort();
    await this.loop;
    if (options.stopContainers) {
      await Promise.all(
        [...this.tasks.values()].flatMap((task) =>
          [...task.containers.values()].map((c) => c.stop(options.timeoutSeconds ?? 2).catch(() => undefined)),
        ),
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
        this.known = Object.fromEntries(answer.assignments.map((a) => [a.task.taskArn, a.task.version]));
        const assigned = new Set(answer.assignments.map((a) => a.task.taskArn));
        for (const arn of this.tasks.keys()) if (!assigned.has(arn) && this.tasks.get(arn)!.phase === 'stopped') this.tasks.delete(arn);
        for (const assignment of answer.assignments) this.reconcile(assignment);
      } catch (error) {
        if (!this.running) return;
        this.options.logger?.error('berth-agent: poll failed, retrying', error);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private reconcile({ task, containers }: Assignment): void {
    const local = this.tasks.get(task.taskArn);
    if (!local) {
      if (task.desiredStatus === 'RUNNING' && task.lastStatus === 'PENDING') this.track(this.launch(task, containers));
      else if (['ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING'].includes(task.lastStatus) && task.executionStoppedAt === undefined) {
        this.tasks.set(task.taskArn, this.localTask(task, containers, 'stopped'));
        this.track(this.report(task.clusterArn, task.taskArn, 'STOPPED', { reason: LOST_CONTAINER }));
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
    await this.report(local.clusterArn, local.taskArn, 'ACTIVATING', { pullStartedAt: new Date() });
    for (const definition of definitions) {
      try {
        const container = await this.options.runtime.start(taskId, specOf(definition), {
          onHealthChange: (healthStatus) =>
            this.track(
              this.options.client.submitContainer({
                cluster: local.clusterArn,
                task: local.taskArn,
                containerName: definition.name,
                status: 'RUNNING',
                healthStatus,
              }),
            ),
        });
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

  private async onExit(local: LocalTask, definition: ContainerDefinition, exit: ContainerExit): Promise<void> {
    local.exits.set(definition.name, exit);
    // A command that exits at once still ran: ECS reports the task RUNNING before it stops it.
    await local.started;
    if (local.phase === 'stopping' || local.phase === 'stopped') return;
    if (definition.essential === false) {
      await this.options.client.submitContainer({
        cluster: local.clusterArn,
        task: local.taskArn,
        containerName: definition.name,
        status: 'STOPPED',
        exitCode: exit.exitCode ?? undefined,
        reason: exit.reason,
      });
      return;
    }
    // An essential container is gone: the task ends; the others get the normal stop.
    await this.stopTask(local);
  }

  private async stopTask(local: LocalTask): Promise<void> {
    local.phase = 'stopping';
    await this.stopContainers(local);
    local.phase = 'stopped';
    await this.report(local.clusterArn, local.taskArn, 'STOPPED', {
      containers: this.containerReports(local, 'STOPPED'),
      executionStoppedAt: new Date(),
    });
  }

  /** SIGTERM to every container at once, SIGKILL to each after its own stopTimeout. */
  private async stopContainers(local: LocalTask): Promise<void> {
    await Promise.all(
      [...local.containers.entries()].map(async ([name, container]) => {
        const definition = local.definitions.find((d) => d.name === name);
        const exit = await container.stop(definition?.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS);
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
    details: { reason?: string; containers?: ContainerReport[]; pullStartedAt?: Date; pullStoppedAt?: Date; executionStoppedAt?: Date } = {},
  ): Promise<void> {
    await this.options.client.submitTask({ cluster, task, status, ...details });
  }
}

function specOf(definition: ContainerDefinition): ContainerSpec {
  return {
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

/**
 * The checks RegisterTaskDefinition makes beyond the model's shapes, and the defaults ECS fills in.
 * Pure: the use case passes the request in and stores what comes out.
 */
import { ClientException } from './errors';
import type { ContainerDefinition } from './records';

export const FAMILY_NAME = /^[a-zA-Z0-9_-]{1,255}$/;
const CONTAINER_NAME = /^[a-zA-Z0-9_-]{1,255}$/;
export const FARGATE_MAX_STOP_TIMEOUT = 120;
export const MAX_CONTAINERS = 10;

/** Fargate's task-level cpu (units) -> the memory sizes (MiB) it accepts. */
const FARGATE_SIZES: ReadonlyArray<readonly [number, readonly number[]]> = [
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
];

function range(from: number, to: number, step: number): number[] {
  const values = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}

/** Task cpu as ECS accepts it: "1024", "1 vCPU", "0.25 vcpu". Returns CPU units, or undefined. */
export function parseCpu(value: string): number | undefined {
  const units = /^\s*(\d+)\s*$/.exec(value);
  if (units) return Number(units[1]);
  const vcpu = /^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$/i.exec(value);
  return vcpu ? Math.round(Number(vcpu[1]) * 1024) : undefined;
}

/** Task memory as ECS accepts it: "2048", "2 GB", "0.5gb". Returns MiB, or undefined. */
export function parseMemory(value: string): number | undefined {
  const mib = /^\s*(\d+)\s*$/.exec(value);
  if (mib) return Number(mib[1]);
  const gb = /^\s*(\d+(?:\.\d+)?)\s*gb\s*$/i.exec(value);
  return gb ? Math.round(Number(gb[1]) * 1024) : undefined;
}

export interface TaskDefinitionRequest {
  family: string;
  containerDefinitions: ContainerDefinition[];
  requiresCompatibilities?: string[];
  networkMode?: string;
  cpu?: string;
  memory?: string;
  [member: string]: unknown;
}

/** True when the task size is one Fargate offers, in awsvpc mode (RunTask's check of a size override). */
export function isFargateCompatible(td: { networkMode?: string; cpu?: string; memory?: string }): boolean {
  if (td.networkMode !== 'awsvpc' || td.cpu === undefined || td.memory === undefined) return false;
  const cpu = parseCpu(td.cpu);
  const memory = parseMemory(td.memory);
  return FARGATE_SIZES.some(([c, memories]) => c === cpu && memories.includes(memory ?? -1));
}

/**
 * `compatibilities` as ECS computes it for a registered definition: EC2 always, FARGATE when the
 * definition could run there (awsvpc, a Fargate size, nothing Fargate forbids), whatever
 * requiresCompatibilities says.
 */
export function compatibilitiesOf(td: TaskDefinitionRequest): string[] {
  return isFargateCompatible(td) && fargateForbidden(td) === undefined ? ['EC2', 'FARGATE'] : ['EC2'];
}

/** Linux capabilities a Fargate container may add (platform version 1.4.0 and later). */
const FARGATE_ADDABLE_CAPABILITIES = ['SYS_PTRACE'];

/**
 * The first parameter Fargate does not support in a task definition, as ECS's message, or undefined.
 * The list is the Fargate task definition considerations of the ECS developer guide ("task definition
 * parameters not valid in Fargate tasks", and linuxParameters.capabilities.add beyond SYS_PTRACE,
 * pidMode other than task). The wording follows the one ECS message seen verbatim, "Tasks using the
 * Fargate launch type do not support ipcMode." (a ClientException quoted in
 * cn-terraform/terraform-aws-ecs-fargate issue 2).
 */
export function fargateForbidden(td: TaskDefinitionRequest): string | undefined {
  const unsupported = (what: string) => `Tasks using the Fargate launch type do not support ${what}.`;
  if (td.ipcMode !== undefined) return unsupported('ipcMode');
  if (td.pidMode !== undefined && td.pidMode !== 'task') return unsupported(`pidMode '${String(td.pidMode)}'`);
  if (Array.isArray(td.placementConstraints) && td.placementConstraints.length) return unsupported('placementConstraints');
  for (const volume of (td.volumes as Record<string, unknown>[] | undefined) ?? []) {
    if (volume.host !== undefined) return unsupported(`host volumes (volume '${String(volume.name)}')`);
    if (volume.dockerVolumeConfiguration !== undefined) {
      return unsupported(`dockerVolumeConfiguration (volume '${String(volume.name)}')`);
    }
  }
  const perContainer = ['privileged', 'links', 'hostname', 'dnsServers', 'dnsSearchDomains', 'extraHosts', 'dockerSecurityOptions', 'disableNetworking'];
  for (const container of td.containerDefinitions) {
    for (const parameter of perContainer) {
      const value = container[parameter];
      const set = Array.isArray(value) ? value.length > 0 : parameter === 'privileged' || parameter === 'disableNetworking' ? value === true : value !== undefined;
      if (set) return unsupported(`${parameter} (container '${container.name}')`);
    }
    const linux = container.linuxParameters as
      | { devices?: unknown[]; sharedMemorySize?: number; tmpfs?: unknown[]; capabilities?: { add?: string[] } }
      | undefined;
    if (linux?.devices?.length) return unsupported(`devices (container '${container.name}')`);
    if (linux?.sharedMemorySize !== undefined) return unsupported(`sharedMemorySize (container '${container.name}')`);
    if (linux?.tmpfs?.length) return unsupported(`tmpfs (container '${container.name}')`);
    const added = (linux?.capabilities?.add ?? []).filter((c) => !FARGATE_ADDABLE_CAPABILITIES.includes(c));
    if (added.length) return unsupported(`adding the capability ${added[0]} (container '${container.name}'; only SYS_PTRACE can be added)`);
  }
  return undefined;
}

/** ECS's limit on a task definition's JSON size. */
export const MAX_TASK_DEFINITION_BYTES = 64 * 1024;

export function validateTaskDefinition(request: TaskDefinitionRequest): void {
  if (Buffer.byteLength(JSON.stringify(request)) > MAX_TASK_DEFINITION_BYTES) {
    throw new ClientException(`The task definition is larger than the maximum of ${MAX_TASK_DEFINITION_BYTES} bytes.`);
  }
  if (!FAMILY_NAME.test(request.family)) {
    throw new ClientException(
      'Family name can have up to 255 characters: letters (uppercase and lowercase), numbers, hyphens, and underscores.',
    );
  }
  const containers = request.containerDefinitions;
  if (containers.length === 0) throw new ClientException('Container list cannot be empty.');
  if (containers.length > MAX_CONTAINERS) {
    throw new ClientException(`Too many containers: a task definition can have at most ${MAX_CONTAINERS}.`);
  }
  const names = new Set<string>();
  for (const container of containers) {
    if (!container.name) throw new ClientException('Container.name should not be null or empty.');
    if (!CONTAINER_NAME.test(container.name)) {
      throw new ClientException(
        `Container name '${container.name}' is invalid: up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.`,
      );
    }
    if (names.has(container.name)) throw new ClientException(`Duplicate container name: ${container.name}.`);
    names.add(container.name);
    if (!container.image) throw new ClientException('Container.image should not be null or empty.');
    if (container.stopTimeout !== undefined && container.stopTimeout < 0) {
      throw new ClientException(`Invalid 'stopTimeout' setting for container '${container.name}'.`);
    }
    validateHealthCheck(container);
  }
  if (!containers.some((container) => container.essential !== false)) {
    throw new ClientException('A task definition must have at least one essential container.');
  }
  if (request.cpu !== undefined && parseCpu(request.cpu) === undefined) {
    throw new ClientException("Invalid 'cpu' setting for task.");
  }
  if (request.memory !== undefined && parseMemory(request.memory) === undefined) {
    throw new ClientException("Invalid 'memory' setting for task.");
  }
  if (request.requiresCompatibilities?.includes('FARGATE')) validateFargate(request);
  else if (request.memory === undefined) {
    for (const container of containers) {
      if (container.memory === undefined && container.memoryReservation === undefined) {
        throw new ClientException(
          `Invalid setting for container '${container.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
        );
      }
    }
  }
}

/** ECS's bounds for container health checks (seconds, except retries). */
const HEALTH_CHECK_BOUNDS = { interval: [5, 300], timeout: [2, 60], retries: [1, 10], startPeriod: [0, 300] } as const;

function validateHealthCheck(container: ContainerDefinition): void {
  const check = container.healthCheck as Record<string, unknown> | undefined;
  if (!check) return;
  const command = check.command as unknown[] | undefined;
  if (!Array.isArray(command) || command.length === 0 || !['CMD', 'CMD-SHELL', 'NONE'].includes(String(command[0]))) {
    throw new ClientException(
      `Invalid 'healthCheck.command' setting for container '${container.name}': it must start with CMD, CMD-SHELL or NONE.`,
    );
  }
  for (const [name, [min, max]] of Object.entries(HEALTH_CHECK_BOUNDS)) {
    const value = check[name];
    if (value !== undefined && (typeof value !== 'number' || value < min || value > max)) {
      throw new ClientException(
        `Invalid 'healthCheck.${name}' setting for container '${container.name}': it must be between ${min} and ${max}.`,
      );
    }
  }
}

function validateFargate(request: TaskDefinitionRequest): void {
  if (request.networkMode !== 'awsvpc') {
    throw new ClientException("Fargate only supports network mode 'awsvpc'.");
  }
  if (request.cpu === undefined) throw new ClientException('Fargate requires that \'cpu\' be defined at the task level.');
  if (request.memory === undefined) {
    throw new ClientException("Fargate requires that 'memory' be defined at the task level.");
  }
  if (!isFargateCompatible(request)) {
    throw new ClientException('No Fargate configuration exists for given values: ' + `${request.cpu} CPU, ${request.memory} memory.`);
  }
  const forbidden = fargateForbidden(request);
  if (forbidden) throw new ClientException(forbidden);
  for (const container of request.containerDefinitions) {
    if (container.stopTimeout !== undefined && container.stopTimeout > FARGATE_MAX_STOP_TIMEOUT) {
      throw new ClientException(
        `Invalid 'stopTimeout' setting for container '${container.name}': Fargate supports a stopTimeout of at most ${FARGATE_MAX_STOP_TIMEOUT} seconds.`,
      );
    }
  }
}

/** Container definitions as ECS echoes them back: the members it always reports, with their defaults. */
export function withContainerDefaults(container: ContainerDefinition): ContainerDefinition {
  return {
    cpu: 0,
    portMappings: [],
    essential: true,
    environment: [],
    mountPoints: [],
    volumesFrom: [],
    systemControls: [],
    ...container,
  };
}

/** Fargate task cpu/memory as ECS stores them: plain units/MiB strings. */
export function normalizedSizes(request: { cpu?: string; memory?: string }) {
  return {
    ...(request.cpu !== undefined ? { cpu: String(parseCpu(request.cpu)) } : {}),
    ...(request.memory !== undefined ? { memory: String(parseMemory(request.memory)) } : {}),
  };
}

/**
 * RunTask's task-level `cpu`/`memory` overrides: each must parse, and a task bound for Fargate must
 * still be one of Fargate's sizes (checked at RunTask, as RegisterTaskDefinition checks the definition,
 * so a size no Fargate host has is refused at once instead of waiting for capacity forever).
 */
export function validateTaskSizeOverride(
  td: { networkMode?: string; cpu?: string; memory?: string },
  overrides: { cpu?: unknown; memory?: unknown },
  fargate: boolean,
): void {
  if (overrides.cpu === undefined && overrides.memory === undefined) return;
  if (overrides.cpu !== undefined && (typeof overrides.cpu !== 'string' || parseCpu(overrides.cpu) === undefined)) {
    throw new ClientException("Invalid 'cpu' setting for task.");
  }
  if (overrides.memory !== undefined && (typeof overrides.memory !== 'string' || parseMemory(overrides.memory) === undefined)) {
    throw new ClientException("Invalid 'memory' setting for task.");
  }
  const cpu = (overrides.cpu as string | undefined) ?? td.cpu;
  const memory = (overrides.memory as string | undefined) ?? td.memory;
  if (fargate && !isFargateCompatible({ networkMode: td.networkMode, cpu, memory })) {
    throw new ClientException(`No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory.`);
  }
}

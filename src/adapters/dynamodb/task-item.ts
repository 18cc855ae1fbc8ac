/**
 * The stored form of a task item. A task is written about nine times in its life (docs/cost.md), and
 * DynamoDB charges a write by the item's size in whole kilobytes (twice that in a transaction): an
 * item of 1,600 bytes costs twice what one under 1,024 bytes does. So the `doc` attribute holds the
 * TaskRecord without what the item already says or what is always the same:
 *
 * - `taskArn`, `clusterArn`, `version`: from the item's `pk` (the cluster ARN), `sk` (`TASK#<id>`) and
 *   `version`;
 * - `taskDefinitionArn` in the task's account and region: `taskDefinition` = `<family>:<revision>`;
 * - containers: `containerId` (the last part of the container ARN) for `containerArn`; their
 *   `taskArn` left out (the task's);
 * - attachments: `type` left out when it is `ElasticNetworkInterface`;
 * - members at the value every new task has (`DEFAULTS`: empty overrides and tags, execute command
 *   off, health UNKNOWN, a container's `essential` true and no network interfaces, a Fargate task's
 *   platform family, version and ephemeral storage) are left out; a record that lacks one of these
 *   members stores it as null, so leaving a member out always means "the default".
 *
 * Every rule checks that the value really is the derived one and otherwise stores it as it is, so
 * `taskOfItem(taskItem(t))` is `t` for every record (test/unit/task-item.test.ts). The members the
 * repository's filters and projections name (`lastStatus`, `desiredStatus`, `group`,
 * `availabilityZone`, `reservation.containerInstanceArn`) keep their names and values. An item
 * written before this form (its `doc` holds `taskArn`) reads as it is.
 */
import type { ContainerRecord, TaskRecord } from '../../domain/records';
import { epochSeconds } from './conditional-writes';
import { TASK_SK_PREFIX, taskKey } from './keys';
import { TABLE_SCHEMA } from './table-schema';

type Doc = Record<string, unknown>;

/** ECS's Fargate platform defaults, as new-task.ts sets them (LATEST on Linux). */
const FARGATE_DEFAULTS: Doc = { platformFamily: 'Linux', platformVersion: '1.4.0', ephemeralStorage: { sizeInGiB: 20 } };
const TASK_DEFAULTS: Doc = {
  overrides: { containerOverrides: [], inferenceAcceleratorOverrides: [] },
  tags: [],
  enableExecuteCommand: false,
  healthStatus: 'UNKNOWN',
  attachments: [],
};
const CONTAINER_DEFAULTS: Doc = { networkInterfaces: [], healthStatus: 'UNKNOWN', essential: true };
const ATTACHMENT_DEFAULTS: Doc = { type: 'ElasticNetworkInterface' };

const taskDefaults = (launchType: unknown): Doc => (launchType === 'FARGATE' ? { ...TASK_DEFAULTS, ...FARGATE_DEFAULTS } : TASK_DEFAULTS);

/** Order-insensitive equality of plain JSON values (DynamoDB maps come back in any key order). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((v, i) => same(v, (b as unknown[])[i]));
  const keys = Object.keys(a).filter((k) => (a as Doc)[k] !== undefined);
  const other = Object.keys(b).filter((k) => (b as Doc)[k] !== undefined);
  return keys.length === other.length && keys.every((k) => same((a as Doc)[k], (b as Doc)[k]));
}

/** Leaves out members at their default; a member that has a default but is absent becomes null. */
function withoutDefaults(value: Doc, defaults: Doc): Doc {
  const stored: Doc = {};
  for (const [name, member] of Object.entries(value)) {
    if (member === undefined) continue;
    if (name in defaults && same(member, defaults[name])) continue;
    stored[name] = member;
  }
  for (const name of Object.keys(defaults)) if (value[name] === undefined) stored[name] = null;
  return stored;
}

/**
 * A fresh copy of a default (a record's members must not share the constants). The defaults are small
 * plain JSON: copied by hand, as structuredClone's serialisation costs far more per call, and this runs
 * for every member of every task read.
 */
function copyOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyOf);
  const copy: Doc = {};
  for (const [name, member] of Object.entries(value)) copy[name] = copyOf(member);
  return copy;
}

/** The inverse: defaults back in, null (absent in the record) dropped. */
function withDefaults(stored: Doc, defaults: Doc): Doc {
  const value: Doc = {};
  for (const [name, member] of Object.entries(defaults)) value[name] = copyOf(member);
  for (const [name, member] of Object.entries(stored)) {
    if (member === null && name in defaults) delete value[name];
    else value[name] = member;
  }
  return value;
}

const arnPrefixOf = (clusterArn: string) => clusterArn.slice(0, clusterArn.indexOf(':cluster/'));
const derivedTaskArn = (clusterArn: string, taskId: string) => `${clusterArn.replace(':cluster/', ':task/')}/${taskId}`;
const containerArnPrefix = (taskArn: string) => `${taskArn.replace(':task/', ':container/')}/`;

/** 64 lowercase hex digits (a sha256, a Docker container id) as 43 base64url characters, and back. */
const HEX_256 = /^[0-9a-f]{64}$/;
const packHex = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
const unpackHex = (packed: string) => Buffer.from(packed, 'base64url').toString('hex');

function storedContainer(container: ContainerRecord, taskArn: string): Doc {
  const { containerArn, taskArn: ownTask, imageDigest, runtimeId, ...rest } = container;
  const prefix = containerArnPrefix(taskArn);
  const id = containerArn.startsWith(prefix) ? containerArn.slice(prefix.length) : undefined;
  const digest = imageDigest?.startsWith('sha256:') && HEX_256.test(imageDigest.slice(7)) ? imageDigest.slice(7) : undefined;
  return {
    ...withoutDefaults(rest, CONTAINER_DEFAULTS),
    ...(id && !id.includes('/') ? { containerId: id } : { containerArn }),
    ...(ownTask === taskArn ? {} : { taskArn: ownTask ?? null }),
    ...(digest ? { imageSha256: packHex(digest) } : imageDigest !== undefined ? { imageDigest } : {}),
    ...(runtimeId !== undefined && HEX_256.test(runtimeId) ? { runtimeHex: packHex(runtimeId) } : runtimeId !== undefined ? { runtimeId } : {}),
  };
}

function containerOf(stored: Doc, taskArn: string): ContainerRecord {
  const { containerId, containerArn, taskArn: ownTask, imageSha256, runtimeHex, ...rest } = stored;
  return {
    containerArn: (containerArn as string | undefined) ?? `${containerArnPrefix(taskArn)}${containerId as string}`,
    ...(ownTask === null ? {} : { taskArn: (ownTask as string | undefined) ?? taskArn }),
    ...withDefaults(rest, CONTAINER_DEFAULTS),
    ...(imageSha256 === undefined ? {} : { imageDigest: `sha256:${unpackHex(imageSha256 as string)}` }),
    ...(runtimeHex === undefined ? {} : { runtimeId: unpackHex(runtimeHex as string) }),
  } as ContainerRecord;
}

/** An attachment whose details are just its subnet (what Berth records for awsvpc) keeps the subnet alone. */
function storedAttachment(attachment: Doc): Doc {
  const { details, ...rest } = attachment;
  const [only] = Array.isArray(details) ? (details as Doc[]) : [];
  const subnet =
    Array.isArray(details) && details.length === 1 && only.name === 'subnetId' && typeof only.value === 'string' && Object.keys(only).length === 2
      ? (only.value as string)
      : undefined;
  return withoutDefaults(subnet === undefined ? attachment : { ...rest, subnetId: subnet }, ATTACHMENT_DEFAULTS);
}

function attachmentOf(stored: Doc): Doc {
  const { subnetId, ...rest } = withDefaults(stored, ATTACHMENT_DEFAULTS);
  return subnetId === undefined ? rest : { ...rest, details: [{ name: 'subnetId', value: subnetId }] };
}

/**
 * Times after `createdAt` are stored as milliseconds since it: 3-5 bytes instead of 8 each (DynamoDB
 * sizes a number by its significant digits).
 */
const TIMES = ['updatedAt', 'pullStartedAt', 'pullStoppedAt', 'startedAt', 'connectivityAt', 'stoppingAt', 'executionStoppedAt', 'stoppedAt', 'expiresAt', 'protectionExpiresAt'] as const;

function relativeTimes(doc: Doc): Doc {
  if (typeof doc.createdAt !== 'number') return doc;
  const stored = { ...doc };
  for (const name of TIMES) if (typeof stored[name] === 'number') stored[name] = (stored[name] as number) - (doc.createdAt as number);
  return stored;
}

function absoluteTimes(stored: Doc): Doc {
  if (typeof stored.createdAt !== 'number') return stored;
  const doc = { ...stored };
  for (const name of TIMES) if (typeof doc[name] === 'number') doc[name] = (doc[name] as number) + (stored.createdAt as number);
  return doc;
}

/**
 * The host's ARN in the task's account and region as `containerInstance` (`<cluster>/<id>`); its cpu
 * and memory left out when they are the task's own.
 */
function storedReservation(reservation: TaskRecord['reservation'], task: TaskRecord): Doc | undefined {
  if (!reservation) return undefined;
  const { containerInstanceArn, cpu, memory, ...rest } = reservation;
  const prefix = `${arnPrefixOf(task.clusterArn)}:container-instance/`;
  return {
    ...rest,
    ...(containerInstanceArn.startsWith(prefix) ? { containerInstance: containerInstanceArn.slice(prefix.length) } : { containerInstanceArn }),
    ...(String(cpu) === task.cpu && String(memory) === task.memory ? {} : { cpu, memory }),
  };
}

/** A stored reservation (or the whole record's, from an item written before the stored form) as the record holds it. */
export function reservationOf(stored: Doc, clusterArn: string, task: { cpu?: unknown; memory?: unknown }): NonNullable<TaskRecord['reservation']> {
  const { containerInstance, containerInstanceArn, cpu, memory, ...rest } = stored;
  return {
    ...rest,
    containerInstanceArn: (containerInstanceArn as string | undefined) ?? `${arnPrefixOf(clusterArn)}:container-instance/${containerInstance as string}`,
    cpu: (cpu as number | undefined) ?? Number(task.cpu),
    memory: (memory as number | undefined) ?? Number(task.memory),
  };
}

/** The item Berth writes for a task (its TTL set once it has an expiry). */
export function taskItem(task: TaskRecord, expiresAtMs?: number): Doc {
  const taskId = task.taskArn.slice(task.taskArn.lastIndexOf('/') + 1);
  return {
    ...taskKey(task.clusterArn, taskId),
    kind: 'task',
    version: task.version,
    doc: storedTaskDoc(task),
    ...(expiresAtMs === undefined ? {} : { [TABLE_SCHEMA.ttlAttribute]: epochSeconds(expiresAtMs) }),
  };
}

/** The `doc` attribute of a task item: the record in its stored form (above). */
export function storedTaskDoc(task: TaskRecord): Doc {
  const { taskArn, clusterArn, version: _version, taskDefinitionArn, containers, attachments, reservation, ...rest } = task;
  const taskId = taskArn.slice(taskArn.lastIndexOf('/') + 1);
  const tdPrefix = `${arnPrefixOf(clusterArn)}:task-definition/`;
  const storedAttachments = Array.isArray(attachments) ? attachments.map((a) => storedAttachment(a as Doc)) : attachments;
  return {
    ...withoutDefaults(relativeTimes({ ...rest, attachments: storedAttachments }), taskDefaults(task.launchType)),
    ...(reservation ? { reservation: storedReservation(reservation, task) } : {}),
    ...(derivedTaskArn(clusterArn, taskId) === taskArn ? {} : { taskArn }),
    ...(taskDefinitionArn.startsWith(tdPrefix) ? { taskDefinition: taskDefinitionArn.slice(tdPrefix.length) } : { taskDefinitionArn }),
    containers: containers.map((c) => storedContainer(c, taskArn)),
  };
}

/**
 * The TaskRecord of a task item (a read, a stream image), from its stored form or from the full record
 * an older item holds.
 */
export function taskOfItem(item: Doc): TaskRecord {
  const stored = item.doc as Doc;
  const clusterArn = item.pk as string;
  const version = item.version as number;
  // Written before the stored form: the whole record, as it was.
  if (typeof stored.clusterArn === 'string') return { ...(stored as unknown as TaskRecord), version };
  const taskId = (item.sk as string).slice(TASK_SK_PREFIX.length);
  const { taskArn: ownArn, taskDefinition, taskDefinitionArn, containers, reservation, ...rest } = stored;
  const taskArn = (ownArn as string | undefined) ?? derivedTaskArn(clusterArn, taskId);
  const record = withDefaults(absoluteTimes(rest), taskDefaults(stored.launchType));
  return {
    ...record,
    ...(reservation ? { reservation: reservationOf(reservation as Doc, clusterArn, rest) } : {}),
    taskArn,
    clusterArn,
    taskDefinitionArn: (taskDefinitionArn as string | undefined) ?? `${arnPrefixOf(clusterArn)}:task-definition/${taskDefinition as string}`,
    containers: (containers as Doc[]).map((c) => containerOf(c, taskArn)),
    ...(Array.isArray(record.attachments) ? { attachments: (record.attachments as Doc[]).map(attachmentOf) } : {}),
    version,
  } as TaskRecord;
}

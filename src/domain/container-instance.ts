/**
 * Container instances: hosts running the Berth agent. An agent joins a cluster as an EC2/EXTERNAL
 * container instance, or offers Fargate capacity (FARGATE and/or FARGATE_SPOT) to every cluster of its
 * account and region; Fargate hosts live in a per-region pool, not in a cluster, as Fargate's own
 * capacity does.
 */
import { InvalidParameterException } from './errors';
import type { KeyValuePair, Tag } from './records';

export type ContainerInstanceStatus = 'ACTIVE' | 'DRAINING' | 'REGISTERING' | 'DEREGISTERING' | 'INACTIVE';

/** The attribute an agent sets to offer Fargate capacity, e.g. `FARGATE,FARGATE_SPOT`. */
export const FARGATE_CAPACITY_ATTRIBUTE = 'berth.fargate-capacity';
export const AVAILABILITY_ZONE_ATTRIBUTE = 'ecs.availability-zone';
/**
 * An external instance (ECS Anywhere): one registered with a Systems Manager managed instance id
 * (`mi-...`) as its instance id, as ECS Anywhere's agent registers. Its tasks have launch type EXTERNAL.
 */
export const isExternalInstance = (instance: Pick<ContainerInstanceRecord, 'ec2InstanceId'>) =>
  instance.ec2InstanceId?.startsWith('mi-') ?? false;

/** Pseudo cluster name in the ARNs of Fargate capacity hosts. */
export const FARGATE_POOL_NAME = 'berth-fargate-pool';

export interface ResourceAmounts {
  cpu: number;
  memory: number;
}

export interface ContainerInstanceRecord {
  containerInstanceArn: string;
  /** The cluster, or undefined for a Fargate capacity host. */
  clusterArn?: string;
  ec2InstanceId?: string;
  status: ContainerInstanceStatus;
  agentConnected: boolean;
  registeredResources: ResourceAmounts;
  attributes: KeyValuePair[];
  versionInfo: { agentVersion?: string; agentHash?: string; dockerVersion?: string };
  /** Capacity providers this host serves: FARGATE / FARGATE_SPOT for pool hosts, none otherwise. */
  fargateProviders: string[];
  tags: Tag[];
  registeredAt: number;
  updatedAt: number;
}

/** Parses `FARGATE,FARGATE_SPOT` from the attribute; anything else is not a Fargate host. */
export function fargateProvidersOf(attributes: readonly KeyValuePair[]): string[] {
  const value = attributes.find((a) => a.name === FARGATE_CAPACITY_ATTRIBUTE)?.value ?? '';
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v === 'FARGATE' || v === 'FARGATE_SPOT');
}

export const availabilityZoneOf = (instance: Pick<ContainerInstanceRecord, 'attributes'>, region: string) =>
  instance.attributes.find((a) => a.name === AVAILABILITY_ZONE_ATTRIBUTE)?.value ?? `${region}a`;

/** ECS's limit of custom attributes per container instance (PutAttributes). */
export const MAX_CUSTOM_ATTRIBUTES = 10;

/** Names the agent sets (ECS's built-ins, Berth's own): not custom, never put or deleted by a user. */
export const isReservedAttribute = (name: string) => name.startsWith('ecs.') || name.startsWith('berth.');

export const customAttributeCount = (attributes: readonly KeyValuePair[]) => attributes.filter((a) => !isReservedAttribute(a.name)).length;

/** ECS's rule for attribute values (the Attribute shape's documentation). */
export function checkAttributeValue(value: string) {
  if (!/^[A-Za-z0-9_.@/\\: -]{1,128}$/.test(value) || value.startsWith(' ') || value.endsWith(' ')) {
    throw new InvalidParameterException(
      `Attribute value '${value}' is invalid: 1 to 128 letters, numbers, hyphens, underscores, periods, at signs, slashes, back slashes, colons or spaces, not starting or ending with a space.`,
    );
  }
}

/** The list with `name` set to `value` (in place when present, else appended). */
export function withAttribute(attributes: readonly KeyValuePair[], name: string, value: string | undefined): KeyValuePair[] {
  const entry: KeyValuePair = value === undefined ? { name } : { name, value };
  return attributes.some((a) => a.name === name) ? attributes.map((a) => (a.name === name ? entry : a)) : [...attributes, entry];
}

export const withoutAttribute = (attributes: readonly KeyValuePair[], name: string): KeyValuePair[] => attributes.filter((a) => a.name !== name);

/**
 * The attributes of an instance whose agent registers again: the agent's (built-ins it reports now,
 * and any it was told to set), plus the custom ones put through PutAttributes that it did not send,
 * so a restart keeps what a user put.
 */
export function mergeRegisteredAttributes(stored: readonly KeyValuePair[], reported: readonly KeyValuePair[]): KeyValuePair[] {
  const sent = new Set(reported.map((a) => a.name));
  return [...reported, ...stored.filter((a) => !isReservedAttribute(a.name) && !sent.has(a.name))];
}

/** The ECS Resource list for cpu/memory amounts. */
export function resourceList(amounts: ResourceAmounts) {
  return [
    { name: 'CPU', type: 'INTEGER', integerValue: amounts.cpu, doubleValue: 0, longValue: 0 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: amounts.memory, doubleValue: 0, longValue: 0 },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: [], doubleValue: 0, longValue: 0, integerValue: 0 },
    { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [], doubleValue: 0, longValue: 0, integerValue: 0 },
  ];
}

/**
 * Container instances: hosts running the Berth agent. An agent joins a cluster as an EC2/EXTERNAL
 * container instance, or offers Fargate capacity (FARGATE and/or FARGATE_SPOT) to every cluster of its
 * account and region; Fargate hosts live in a per-region pool, not in a cluster, as Fargate's own
 * capacity does.
 */
import type { KeyValuePair, Tag } from './records';

export type ContainerInstanceStatus = 'ACTIVE' | 'DRAINING' | 'REGISTERING' | 'DEREGISTERING' | 'INACTIVE';

/** The attribute an agent sets to offer Fargate capacity, e.g. `FARGATE,FARGATE_SPOT`. */
export const FARGATE_CAPACITY_ATTRIBUTE = 'berth.fargate-capacity';
export const AVAILABILITY_ZONE_ATTRIBUTE = 'ecs.availability-zone';
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

/** The ECS Resource list for cpu/memory amounts. */
export function resourceList(amounts: ResourceAmounts) {
  return [
    { name: 'CPU', type: 'INTEGER', integerValue: amounts.cpu, doubleValue: 0, longValue: 0 },
    { name: 'MEMORY', type: 'INTEGER', integerValue: amounts.memory, doubleValue: 0, longValue: 0 },
    { name: 'PORTS', type: 'STRINGSET', stringSetValue: [], doubleValue: 0, longValue: 0, integerValue: 0 },
    { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: [], doubleValue: 0, longValue: 0, integerValue: 0 },
  ];
}

/**
 * ARNs and ids as ECS formats them (the "new" long ARN format that carries the cluster name):
 *   arn:aws:ecs:<region>:<account>:cluster/<name>
 *   arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>
 *   arn:aws:ecs:<region>:<account>:task/<cluster>/<taskId>
 *   arn:aws:ecs:<region>:<account>:service/<cluster>/<service>
 *   arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id>
 *   arn:aws:ecs:<region>:<account>:capacity-provider/<name>
 *   arn:aws:ecs:<region>:<account>:container/<cluster>/<taskId>/<containerRuntimeId>
 */
export interface Scope {
  readonly account: string;
  readonly region: string;
  /** `aws`, `aws-cn`, `aws-us-gov`: follows the region. */
  readonly partition?: string;
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const prefix = (scope: Scope) =>
  `arn:${scope.partition ?? partitionOf(scope.region)}:ecs:${scope.region}:${scope.account}`;

export const clusterArn = (scope: Scope, name: string) => `${prefix(scope)}:cluster/${name}`;
export const taskDefinitionArn = (scope: Scope, family: string, revision: number) =>
  `${prefix(scope)}:task-definition/${family}:${revision}`;
export const taskArn = (scope: Scope, cluster: string, id: string) => `${prefix(scope)}:task/${cluster}/${id}`;
export const serviceArn = (scope: Scope, cluster: string, name: string) =>
  `${prefix(scope)}:service/${cluster}/${name}`;
export const containerInstanceArn = (scope: Scope, cluster: string, id: string) =>
  `${prefix(scope)}:container-instance/${cluster}/${id}`;
export const capacityProviderArn = (scope: Scope, name: string) => `${prefix(scope)}:capacity-provider/${name}`;
export const containerArn = (scope: Scope, cluster: string, taskId: string, containerId: string) =>
  `${prefix(scope)}:container/${cluster}/${taskId}/${containerId}`;

export type EcsResourceType =
  | 'cluster'
  | 'task-definition'
  | 'task'
  | 'service'
  | 'container-instance'
  | 'capacity-provider'
  | 'container';

export interface ParsedArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly resourceType: EcsResourceType;
  /** The path after `<type>/`, split on `/`. */
  readonly path: readonly string[];
}

const ARN_PATTERN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):([a-z-]+)\/(.+)$/;
const TYPES: readonly EcsResourceType[] = [
  'cluster',
  'task-definition',
  'task',
  'service',
  'container-instance',
  'capacity-provider',
  'container',
];

/** Parses an ECS ARN; returns undefined for anything that is not one. */
export function parseArn(arn: string): ParsedArn | undefined {
  const match = ARN_PATTERN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, type, rest] = match;
  if (!TYPES.includes(type as EcsResourceType)) return undefined;
  const path = rest.split('/');
  if (path.some((part) => part.length === 0)) return undefined;
  return { partition, region, account, resourceType: type as EcsResourceType, path };
}

export const isArn = (value: string) => value.startsWith('arn:');

/**
 * Whether an ARN belongs to the caller's partition, account and region: an ARN naming any other never
 * resolves to a local resource (Berth serves one partition/account/region per request, as ECS does).
 */
export const inScope = (scope: Scope, arn: ParsedArn) =>
  arn.partition === (scope.partition ?? partitionOf(scope.region)) &&
  arn.account === scope.account &&
  arn.region === scope.region;

/** Names ECS accepts for clusters (and task ids, container names): up to 255 letters, digits, - and _. */
export const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,255}$/;
/** Ids Berth generates (task, container instance): 32 lowercase hex characters. */
export const ID_PATTERN = /^[a-f0-9]{32}$/;

/** The id at the end of a task ARN (or the id itself). */
export const taskIdOfArn = (taskArn: string) => taskArn.slice(taskArn.lastIndexOf('/') + 1);

/** A cluster reference is a short name or a cluster ARN; returns the name. */
export function clusterNameOf(reference: string): string | undefined {
  const name = isArn(reference)
    ? (() => {
        const parsed = parseArn(reference);
        return parsed?.resourceType === 'cluster' && parsed.path.length === 1 ? parsed.path[0] : undefined;
      })()
    : reference;
  return name !== undefined && NAME_PATTERN.test(name) ? name : undefined;
}

/**
 * Task ids are 32 lowercase hex characters, as ECS's are; `random` is 16 bytes from the caller
 * (domain code takes randomness as input).
 */
export function taskIdFrom(random: Uint8Array): string {
  return Buffer.from(random.subarray(0, 16)).toString('hex');
}

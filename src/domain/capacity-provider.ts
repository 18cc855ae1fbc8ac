/**
 * Auto Scaling group capacity providers (seed 003; ECS CreateCapacityProvider / UpdateCapacityProvider /
 * DeleteCapacityProvider): the record Berth keeps, the rules ECS applies to a request, and the view on
 * the wire. In Berth the "Auto Scaling group" is the set of container instances whose agent joined
 * with the provider's name (`berth-agent --capacity-provider NAME`, the `berth.capacity-provider`
 * attribute): tasks of the provider are placed only on them. Pure: no SDK, no clock, no randomness.
 *
 * Messages marked (ECS) are ECS's own wording as seen in user reports; the others are written in
 * ECS's style because no real string was found.
 */
import { NAME_PATTERN } from './arns';
import { ClientException, InvalidParameterException, UnsupportedFeatureException } from './errors';
import type { Tag } from './records';
import { validateTags } from './tags';

export type Toggle = 'ENABLED' | 'DISABLED';

export interface ManagedScaling {
  status?: Toggle;
  targetCapacity?: number;
  minimumScalingStepSize?: number;
  maximumScalingStepSize?: number;
  instanceWarmupPeriod?: number;
}

export interface AutoScalingGroupProvider {
  autoScalingGroupArn: string;
  managedScaling: Required<ManagedScaling>;
  managedTerminationProtection: Toggle;
  managedDraining: Toggle;
}

export type CapacityProviderUpdateStatus =
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_COMPLETE'
  | 'DELETE_FAILED'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_FAILED';

export interface CapacityProviderRecord {
  capacityProviderArn: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  autoScalingGroupProvider: AutoScalingGroupProvider;
  updateStatus?: CapacityProviderUpdateStatus;
  updateStatusReason?: string;
  tags: Tag[];
  createdAt: number;
}

/** The attribute an agent sets to belong to an Auto Scaling group capacity provider. */
export const CAPACITY_PROVIDER_ATTRIBUTE = 'berth.capacity-provider';

export const capacityProviderOf = (attributes: readonly { name: string; value?: string }[]): string | undefined =>
  attributes.find((a) => a.name === CAPACITY_PROVIDER_ATTRIBUTE)?.value || undefined;

/** ECS's defaults for a managedScaling member left out (the ManagedScaling shape's documentation). */
export const MANAGED_SCALING_DEFAULTS: Required<ManagedScaling> = Object.freeze({
  status: 'DISABLED',
  targetCapacity: 100,
  minimumScalingStepSize: 1,
  maximumScalingStepSize: 10_000,
  instanceWarmupPeriod: 300,
});

// ECS's documented name rule: "can't be prefixed with aws, ecs, or fargate" (FARGATE and FARGATE_SPOT
// are thereby reserved too). ECS compares without regard to case: FARGATE is taken, so is Fargate-x.
const RESERVED_PREFIXES = ['aws', 'ecs', 'fargate'] as const;

export const CAPACITY_PROVIDER_MESSAGES = {
  name: 'The specified capacity provider name is invalid. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.',
  reserved: (name: string) =>
    `The specified capacity provider name '${name}' is invalid. A capacity provider name cannot begin with 'aws', 'ecs', or 'fargate'. Specify a different name and try again.`,
  // (ECS)
  exists: 'The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.',
  // (ECS) aws/containers-roadmap#632
  groupInUse: 'The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.',
  noGroup: 'The autoScalingGroupProvider must be specified. Specify an Auto Scaling group for the capacity provider and try again.',
  groupArn: (value: string) =>
    `The specified Auto Scaling group '${value}' is invalid. Specify an Auto Scaling group ARN or name and try again.`,
  managedInstances:
    'Berth does not support Amazon ECS Managed Instances capacity providers (managedInstancesProvider): they need instances ECS launches and manages. See docs/compatibility.md.',
  steps: 'The managed scaling minimumScalingStepSize must be less than or equal to maximumScalingStepSize.',
  terminationProtection:
    'The managed termination protection setting for the capacity provider is invalid. Managed termination protection can only be enabled when managed scaling is enabled.',
  // (ECS) hashicorp/terraform-provider-aws#48156: the answer of a delete while associated.
  associated: (cluster: string) =>
    `The capacity provider cannot be deleted because it is associated with cluster: ${cluster}. Remove the capacity provider from the cluster and try again.`,
  notFound: 'The specified capacity provider does not exist. Specify a valid name or ARN and try again.',
  builtIn: (name: string) => `The specified capacity provider ${name} is managed by Amazon ECS and cannot be updated or deleted.`,
  notUpdatable: 'The specified capacity provider is not ACTIVE and cannot be updated.',
} as const;
const MSG = CAPACITY_PROVIDER_MESSAGES;

/** CreateCapacityProvider's rule for the name: ECS's pattern, not a reserved prefix. */
export function validateCapacityProviderName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw new ClientException(MSG.name);
  if (RESERVED_PREFIXES.some((prefix) => name.toLowerCase().startsWith(prefix))) throw new ClientException(MSG.reserved(name));
}

// arn:<partition>:autoscaling:<region>:<account>:autoScalingGroup:<uuid>:autoScalingGroupName/<name>, or a group name.
const GROUP_ARN = /^arn:aws[a-z-]*:autoscaling:[a-z0-9-]+:\d{12}:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/[^\s]{1,255}$/;
const GROUP_NAME = /^[^:\s][^\s]{0,254}$/;

/** The managedScaling asked for, with ECS's defaults for the members left out, checked as a whole. */
function managedScalingOf(given: ManagedScaling | undefined, base: Required<ManagedScaling>): Required<ManagedScaling> {
  // Ranges and enum values were checked against the model (targetCapacity 1..100, step sizes 1..10000,
  // warm-up 0..10000) before the use case runs; what remains is how the members relate.
  const merged = { ...base, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) } as Required<ManagedScaling>;
  if (merged.minimumScalingStepSize > merged.maximumScalingStepSize) throw new InvalidParameterException(MSG.steps);
  return merged;
}

function checkTerminationProtection(provider: Pick<AutoScalingGroupProvider, 'managedScaling' | 'managedTerminationProtection'>) {
  if (provider.managedTerminationProtection === 'ENABLED' && provider.managedScaling.status !== 'ENABLED') {
    throw new InvalidParameterException(MSG.terminationProtection);
  }
}

export interface CreateCapacityProviderInput {
  name: string;
  cluster?: string;
  autoScalingGroupProvider?: {
    autoScalingGroupArn: string;
    managedScaling?: ManagedScaling;
    managedTerminationProtection?: Toggle;
    managedDraining?: Toggle;
  };
  managedInstancesProvider?: unknown;
  tags?: Tag[];
}

/** The provider a valid CreateCapacityProvider request describes (without its ARN, status and time). */
export function autoScalingGroupProviderOf(input: CreateCapacityProviderInput): AutoScalingGroupProvider {
  validateCapacityProviderName(input.name);
  if (input.managedInstancesProvider !== undefined) throw new UnsupportedFeatureException(MSG.managedInstances);
  const given = input.autoScalingGroupProvider;
  if (!given) throw new InvalidParameterException(MSG.noGroup);
  const group = given.autoScalingGroupArn;
  if (group.startsWith('arn:') ? !GROUP_ARN.test(group) : !GROUP_NAME.test(group)) {
    throw new InvalidParameterException(MSG.groupArn(given.autoScalingGroupArn));
  }
  validateTags(input.tags ?? []);
  const provider: AutoScalingGroupProvider = {
    autoScalingGroupArn: given.autoScalingGroupArn,
    managedScaling: managedScalingOf(given.managedScaling, MANAGED_SCALING_DEFAULTS),
    managedTerminationProtection: given.managedTerminationProtection ?? 'DISABLED',
    // ECS turns managed draining on unless told otherwise (AutoScalingGroupProvider.managedDraining).
    managedDraining: given.managedDraining ?? 'ENABLED',
  };
  checkTerminationProtection(provider);
  return provider;
}

export interface UpdateCapacityProviderInput {
  name: string;
  cluster?: string;
  autoScalingGroupProvider?: { managedScaling?: ManagedScaling; managedTerminationProtection?: Toggle; managedDraining?: Toggle };
  managedInstancesProvider?: unknown;
}

/** The provider after UpdateCapacityProvider: members given replace the stored ones, the rest stay. */
export function updatedProvider(stored: AutoScalingGroupProvider, input: UpdateCapacityProviderInput): AutoScalingGroupProvider {
  if (input.managedInstancesProvider !== undefined) throw new UnsupportedFeatureException(MSG.managedInstances);
  const given = input.autoScalingGroupProvider ?? {};
  const next: AutoScalingGroupProvider = {
    ...stored,
    managedScaling: managedScalingOf(given.managedScaling, stored.managedScaling),
    managedTerminationProtection: given.managedTerminationProtection ?? stored.managedTerminationProtection,
    managedDraining: given.managedDraining ?? stored.managedDraining,
  };
  checkTerminationProtection(next);
  return next;
}

/** The ECS CapacityProvider shape; tags only when asked for and present, as ECS sends them. */
export function capacityProviderView(record: CapacityProviderRecord, withTags: boolean) {
  return {
    capacityProviderArn: record.capacityProviderArn,
    name: record.name,
    status: record.status,
    autoScalingGroupProvider: record.autoScalingGroupProvider,
    ...(record.updateStatus ? { updateStatus: record.updateStatus } : {}),
    ...(record.updateStatusReason ? { updateStatusReason: record.updateStatusReason } : {}),
    ...(withTags && record.tags.length ? { tags: record.tags } : {}),
    type: 'EC2_AUTOSCALING' as const,
  };
}

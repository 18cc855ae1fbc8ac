/**
 * Custom attributes of container instances (PutAttributes, DeleteAttributes), with ECS's rules: the
 * name and value characters and lengths of the ECS API reference for Attribute, at most 10 custom
 * attributes per resource, and the built-in names reserved (`ecs.` for the agent's own, such as
 * ecs.availability-zone, which placement reads; `berth.` for Berth's, such as the Fargate capacity an
 * agent offers), so a user cannot move a host to another zone or into the Fargate pool by hand.
 */
import { AttributeLimitExceededException, InvalidParameterException } from './errors';
import type { KeyValuePair } from './records';

export const MAX_CUSTOM_ATTRIBUTES = 10;
const NAME = /^[a-zA-Z0-9_\-/\\.]{1,128}$/;
const VALUE = /^[a-zA-Z0-9_\-.@/\\: ]{1,128}$/;
const RESERVED_PREFIXES = ['ecs.', 'berth.'];

export const isCustomAttribute = (name: string) => !RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix));

export function checkAttribute(attribute: { name: string; value?: string }, forPut: boolean): void {
  if (!NAME.test(attribute.name)) {
    throw new InvalidParameterException(
      `Attribute name '${attribute.name}' is not valid: 1 to 128 letters, numbers, hyphens, underscores, forward slashes, back slashes or periods.`,
    );
  }
  if (!isCustomAttribute(attribute.name)) {
    throw new InvalidParameterException(`Attribute name '${attribute.name}' is reserved: names starting with ecs. or berth. are set by the agent.`);
  }
  if (forPut && attribute.value !== undefined && (!VALUE.test(attribute.value) || attribute.value.trim() !== attribute.value)) {
    throw new InvalidParameterException(
      `Attribute value '${attribute.value}' is not valid: 1 to 128 letters, numbers, hyphens, underscores, periods, at signs, slashes, colons or spaces, not starting or ending with a space.`,
    );
  }
}

/** The attributes after putting `given` (same name: replaced), refused past the custom attribute limit. */
export function withAttributes(current: readonly KeyValuePair[], given: readonly KeyValuePair[]): KeyValuePair[] {
  const byName = new Map(current.map((a) => [a.name, a]));
  for (const attribute of given) byName.set(attribute.name, attribute.value === undefined ? { name: attribute.name } : attribute);
  const result = [...byName.values()];
  if (result.filter((a) => isCustomAttribute(a.name)).length > MAX_CUSTOM_ATTRIBUTES) {
    throw new AttributeLimitExceededException(`You can apply up to ${MAX_CUSTOM_ATTRIBUTES} custom attributes for each resource.`);
  }
  return result;
}

export const withoutAttributes = (current: readonly KeyValuePair[], names: readonly string[]) =>
  current.filter((a) => !names.includes(a.name));

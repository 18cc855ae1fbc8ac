import { InvalidParameterException } from './errors';
import type { Tag } from './records';

export const MAX_TAGS = 50;

/** Rules the model cannot express: the reserved `aws:` prefix, unique keys, the 50-tag ceiling. */
export function validateTags(tags: readonly Tag[]): void {
  const keys = new Set<string>();
  for (const { key } of tags) {
    // The model does not mark `key` required, but a tag without one is meaningless.
    if (typeof key !== 'string' || key.length === 0) throw new InvalidParameterException('Tag keys cannot be empty.');
    if (key.toLowerCase().startsWith('aws:')) {
      throw new InvalidParameterException(`Tag keys that start with 'aws:' are reserved for system use. Invalid tag key: ${key}`);
    }
    if (keys.has(key)) throw new InvalidParameterException(`Duplicate tag key: ${key}`);
    keys.add(key);
  }
  if (tags.length > MAX_TAGS) {
    throw new InvalidParameterException(`A resource can have at most ${MAX_TAGS} tags.`);
  }
}

/** TagResource semantics: new keys are added, existing keys get the new value. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const merged = new Map(existing.map((tag) => [tag.key, tag]));
  for (const tag of added) merged.set(tag.key, tag);
  const result = [...merged.values()];
  if (result.length > MAX_TAGS) {
    throw new InvalidParameterException(`A resource can have at most ${MAX_TAGS} tags.`);
  }
  return result;
}

export function removeTags(existing: readonly Tag[], keys: readonly string[]): Tag[] {
  const removed = new Set(keys);
  return existing.filter((tag) => !removed.has(tag.key));
}

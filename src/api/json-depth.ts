/**
 * The deepest JSON nesting a request may have, for every protocol Berth serves. ECS's deepest input
 * shape nests about ten levels (RegisterTaskDefinition's container definitions), Scheduler's fewer;
 * 64 leaves room for unknown members while keeping every recursive walk of the input (validation,
 * copies, hashing) far from the stack limit.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether the JSON text opens more than `max` arrays/objects at once (brackets inside strings do not count). */
export function nestingExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \\ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}

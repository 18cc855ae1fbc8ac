import { fileURLToPath } from 'node:url';

/** The repository root (this file lives at lib/constructs/). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of a file given relative to the repository root. */
export function fromProjectRoot(relativePath: string): string {
  return fileURLToPath(new URL(relativePath, new URL('../../', import.meta.url)));
}

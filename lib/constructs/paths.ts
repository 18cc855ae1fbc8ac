import { fileURLToPath } from 'node:url';

/** The repository root (this file lives at lib/constructs/): the Lambda bundling root. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

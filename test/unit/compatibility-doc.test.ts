/**
 * docs/compatibility.md against the model and the code: it lists every operation of the ECS model
 * once, says "yes" exactly for the operations Berth serves, and "needs AWS" exactly for those whose
 * error names a missing AWS service. (An operation another branch is adding may be marked
 * "in progress" whether or not it has landed yet.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import model from '../../src/api/model/ecs-model.json';
import { OPERATIONS } from '../../src/api/operations';
import { NEEDS_AWS_SERVICE, unsupportedOperation } from '../../src/api/unsupported-operations';

const doc = readFileSync(join(__dirname, '../../docs/compatibility.md'), 'utf8');
const STATUSES = ['yes', 'in progress (Services I)', 'not yet', 'needs AWS'];
const rows = [...doc.matchAll(/^\| ([A-Z][A-Za-z]+) \| ([^|]+?) \|/gm)].map(([, operation, status]) => ({ operation, status }));
const modelOperations = Object.keys(model.operations);
const served = (operation: string) => Object.hasOwn(OPERATIONS, operation);

describe('docs/compatibility.md', () => {
  it('lists every operation of the model exactly once, and nothing else', () => {
    expect(rows.map((r) => r.operation).sort()).toEqual([...modelOperations].sort());
  });

  it.each(rows)('$operation: $status', ({ operation, status }) => {
    expect(STATUSES).toContain(status);
    if (status === 'yes') expect(served(operation), `${operation} is marked yes but Berth does not serve it`).toBe(true);
    if (status === 'not yet' || status === 'needs AWS') expect(served(operation), `${operation} is served; mark it yes`).toBe(false);
    if (!served(operation)) {
      expect(status === 'needs AWS').toBe(Object.hasOwn(NEEDS_AWS_SERVICE, operation));
      expect(unsupportedOperation(operation)).toMatchObject({ name: 'UnsupportedFeatureException', message: expect.stringContaining('docs/compatibility.md') });
    }
  });
});

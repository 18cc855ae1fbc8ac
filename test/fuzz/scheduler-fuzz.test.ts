/**
 * A small seeded sample of the Scheduler half of the fuzz suite (test/fuzz/scheduler-requests.ts):
 * the same generators and invariants `npm run fuzz` runs at any size, against the rest-json
 * EventBridge Scheduler API Berth serves next to ECS.
 */
import { describe, expect, inject, it } from 'vitest';
import { runFuzz } from './fuzz-runner';

const CASES = 100;
const SEED = 7;

describe('model-driven fuzzing of the Scheduler API (seeded sample)', () => {
  it(`${CASES} generated requests, valid and invalid, keep every invariant`, async () => {
    const report = await runFuzz({ api: 'scheduler', endpoint: inject('dynamoDbEndpoint'), cases: CASES, seed: SEED, batchSize: CASES });
    expect(report.failures).toEqual([]);
    expect(report.outcomes['none 2xx']).toBeGreaterThan(0);
    expect(Object.entries(report.outcomes).filter(([k]) => k !== 'none 2xx' && k.endsWith('4xx')).length).toBeGreaterThan(5);
  }, 240_000);
});

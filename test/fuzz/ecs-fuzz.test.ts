/**
 * A small seeded sample of the model-driven fuzz suite (test/fuzz/fuzz-runner.ts): the same
 * generators and invariants `npm run fuzz -- --cases N --seed S` runs at any size. A failure prints
 * the request, so it can be turned into a regression row.
 */
import { describe, expect, inject, it } from 'vitest';
import { runFuzz } from './fuzz-runner';

const CASES = 200;
const SEED = 7;

describe('model-driven fuzzing (seeded sample)', () => {
  it(`${CASES} generated requests, valid and invalid, keep every invariant`, async () => {
    const report = await runFuzz({ endpoint: inject('dynamoDbEndpoint'), cases: CASES, seed: SEED, batchSize: CASES });
    expect(report.failures).toEqual([]);
    // The sample must exercise both sides: accepted valid requests and refused invalid ones.
    expect(report.outcomes['none 2xx']).toBeGreaterThan(0);
    expect(Object.entries(report.outcomes).filter(([k]) => k !== 'none 2xx' && k.endsWith('4xx')).length).toBeGreaterThan(5);
  }, 240_000);
});

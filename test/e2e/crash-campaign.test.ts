/**
 * Two rounds of the crash campaign (bench/crash-campaign.ts): kill -9 of the runtime process at a
 * seeded random point of a mixed workload (tasks, a service scaled and redeployed, an at() schedule
 * due about when the kill comes), then a restart on the same data. Every task converges, none runs
 * twice, no process is orphaned, no event is missing, the service is steady again, no schedule fires
 * twice. `npm run crash` runs it at any size (docs/benchmarks.md has 3- and 5-round runs); two rounds
 * keep the suite inside its 10-minute budget on two cores.
 */
import { describe, expect, it } from 'vitest';
import { runCrashCampaign } from '../../bench/crash-campaign';

describe('kill -9 of the local runtime, twice in a row', () => {
  it('costs no convergence, no double run, no orphan process and no event', async () => {
    const result = await runCrashCampaign({ rounds: 2, seed: 20261127 });
    expect(result.violations).toEqual([]);
    expect(result.tasks).toBeGreaterThan(0);
    expect(result.processes).toBeGreaterThan(0);
  }, 420_000);
});

/**
 * `npm run crash -- --rounds 20 --seed 7`: the crash campaign (bench/crash-campaign.ts) at any size.
 * Prints each round and every violation; exits 1 when there is one.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import '../src/local/quiet-node-version-warning';
import { runCrashCampaign } from './crash-campaign';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' } } });
const started = Date.now();
console.log(`Crash campaign: ${values.rounds} rounds, seed ${values.seed}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
const result = await runCrashCampaign({ rounds: Number(values.rounds), seed: Number(values.seed), log: (line) => console.log(`  ${line}`) });
console.log(
  `${result.rounds} kill -9 rounds, ${result.tasks} tasks, ${result.processes} task processes, ` +
    `${result.violations.length} violation(s) in ${((Date.now() - started) / 1000).toFixed(0)} s; load ${loadavg()[0].toFixed(2)} at the end.`,
);
for (const violation of result.violations) console.log(`  VIOLATION ${violation}`);
process.exitCode = result.violations.length ? 1 : 0;

/**
 * The model-driven fuzz suite at any size: `npm run fuzz -- --cases 20000 --seed 1` runs that many
 * cases against each API, ECS and then EventBridge Scheduler (`--api ecs` or `--api scheduler` for one).
 * Starts its own DynamoDB Local (in memory, stopped by pid at the end), runs the generated requests
 * against a real Berth API server (test/fuzz/fuzz-runner.ts), prints progress, the outcome counts and
 * every failure, and exits non-zero if any invariant broke. Results: docs/benchmarks.md.
 */
import '../src/local/quiet-node-version-warning';
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { startDynamoDbLocal } from '../src/local/dynamodb-local';
import { runFuzz } from '../test/fuzz/fuzz-runner';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} needs a whole number`);
  return value;
}

const procLoadavg = () => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return loadavg().map((n) => n.toFixed(2)).join(' ');
  }
};

const cases = option('cases', 1000);
const apiIndex = process.argv.indexOf('--api');
const apis = apiIndex < 0 ? (['ecs', 'scheduler'] as const) : ([process.argv[apiIndex + 1]] as ('ecs' | 'scheduler')[]);
if (!apis.every((api) => api === 'ecs' || api === 'scheduler')) throw new Error('--api is ecs or scheduler');
const seed = option('seed', Date.now() % 1_000_000);
console.log(`fuzz: ${cases} cases, seed ${seed}, ${cpus().length} cpus, /proc/loadavg ${procLoadavg()}`);
const dynamoDb = await startDynamoDbLocal();
let failed = false;
try {
  for (const api of apis) {
    console.log(`\n== ${api} ==`);
    const report = await runFuzz({
      api,
      endpoint: dynamoDb.endpoint,
      cases,
      seed,
      onBatch: (done, r) => console.log(`  ${done}/${cases} cases, ${r.failures.length} failures, ${(r.elapsedMs / 1000).toFixed(0)} s, load ${procLoadavg()}`),
    });
    console.log(`\noutcomes (defect, status class):`);
    for (const [outcome, count] of Object.entries(report.outcomes).sort()) console.log(`  ${outcome.padEnd(28)} ${count}`);
    console.log(`\nrequests without a defect, by operation:`);
    for (const [key, count] of Object.entries(report.byOperation).sort()) console.log(`  ${key.padEnd(40)} ${count}`);
    console.log(`\n${api}: ${report.cases} cases in ${(report.elapsedMs / 1000).toFixed(1)} s (${((report.cases * 1000) / report.elapsedMs).toFixed(1)} cases/s), ${report.failures.length} failures; /proc/loadavg ${procLoadavg()}`);
    const byInvariant = new Map<string, typeof report.failures>();
    for (const failure of report.failures) {
      const key = `${failure.request.operation}: ${failure.invariant.slice(0, 160)}`;
      byInvariant.set(key, [...(byInvariant.get(key) ?? []), failure]);
    }
    for (const [key, failures] of byInvariant) {
      const first = failures[0];
      const request = first.request;
      const where = 'url' in request ? `${request.method} ${request.url}` : `target ${request.target}`;
      console.log(`\n[${failures.length}x] ${key}\n  defect ${first.request.defect} (${first.request.note})\n  ${where}\n  body ${first.request.body}\n  answer ${first.status} ${first.answer}`);
    }
    failed ||= report.failures.length > 0;
  }
} finally {
  await dynamoDb.stop();
}
process.exit(failed ? 1 : 0);

/** Small statistics helpers for the benchmarks: latency samples in, percentiles and rates out. */

export interface Summary {
  /** Calls that succeeded (their latencies are the samples). */
  readonly count: number;
  /** Calls that threw; their time counts in the wall clock but not in the percentiles. */
  readonly errors: number;
  readonly wallMs: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Successful calls per second of wall-clock time. */
  readonly callsPerSecond: number;
}

/**
 * Nearest-rank percentile (p in 0..100) of ascending `sorted` samples: the smallest sample with at
 * least p% of the samples at or below it. With 200 samples p99 is the 198th value, so it is
 * decided by the two slowest calls and is noisy.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0];
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1];
}

export function summarize(latenciesMs: readonly number[], wallMs: number, errors = 0): Summary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    errors,
    wallMs,
    minMs: sorted[0] ?? Number.NaN,
    meanMs: sorted.length ? total / sorted.length : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    callsPerSecond: wallMs > 0 ? (sorted.length * 1000) / wallMs : Number.NaN,
  };
}

/** Accumulated samples of one benchmark case, filled over several rounds. */
export class Samples {
  readonly latenciesMs: number[] = [];
  errors = 0;
  firstError: unknown;
  wallMs = 0;
  /** CPU time of this Node process (client, Berth server and Berth use cases all run here). */
  nodeCpuMs = 0;
  /** CPU time of the DynamoDB Local JVM, when it can be read (Linux /proc). */
  jvmCpuMs = 0;

  summary(): Summary {
    return summarize(this.latenciesMs, this.wallMs, this.errors);
  }
}

/**
 * Runs `call(offset + i)` for i < `calls` with `concurrency` workers, timing each call with a
 * monotonic clock. Errors are counted (the first is kept for the report), never thrown, so one failed
 * call does not lose the run. With `into`, latencies, wall time and CPU time are added to it.
 */
export async function runCalls(
  call: (index: number) => Promise<unknown>,
  options: { calls: number; concurrency?: number; offset?: number; into?: Samples; jvmCpuMs?: () => number },
): Promise<void> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const into = options.into;
  const offset = options.offset ?? 0;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= options.calls) return;
      const started = performance.now();
      try {
        await call(offset + index);
        into?.latenciesMs.push(performance.now() - started);
      } catch (error) {
        if (into) {
          into.errors++;
          into.firstError ??= error;
        }
      }
    }
  };
  const cpuBefore = process.cpuUsage();
  const jvmBefore = options.jvmCpuMs?.() ?? 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, options.calls) }, worker));
  if (into) {
    into.wallMs += performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    into.nodeCpuMs += (cpu.user + cpu.system) / 1000;
    into.jvmCpuMs += (options.jvmCpuMs?.() ?? 0) - jvmBefore;
  }
}

export const ratio = (berth: number, raw: number) => (raw > 0 ? berth / raw : Number.NaN);

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

/** A plain-text table with right-aligned columns after the first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

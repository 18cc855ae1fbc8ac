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

export interface RunOptions {
  /** Measured calls. */
  readonly calls: number;
  /** Calls in flight at once (1 = one after the other). */
  readonly concurrency?: number;
  /** Unmeasured calls before the measured ones, at the same concurrency. */
  readonly warmup?: number;
}

/**
 * Runs `call(i)` `calls` times with `concurrency` workers and times each call with a monotonic clock.
 * Errors are counted (the first is kept for the report), never thrown, so one slow or failed call
 * does not lose the run.
 */
export async function measure(
  call: (index: number) => Promise<unknown>,
  options: RunOptions,
): Promise<Summary & { firstError?: unknown }> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const runBatch = async (total: number, offset: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    let firstError: unknown;
    let next = 0;
    const worker = async () => {
      for (;;) {
        const index = next++;
        if (index >= total) return;
        const started = performance.now();
        try {
          await call(offset + index);
          if (record) latencies.push(performance.now() - started);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
    return { latencies, errors, firstError, wallMs: performance.now() - started };
  };
  const warmup = options.warmup ?? 0;
  if (warmup > 0) await runBatch(warmup, 0, false);
  const run = await runBatch(options.calls, warmup, true);
  return { ...summarize(run.latencies, run.wallMs, run.errors), firstError: run.firstError };
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

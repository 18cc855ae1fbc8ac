/** Small statistics helpers for the benchmarks: latency samples in, percentiles and rates out. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

/** Named counters; a snapshot taken before a phase and one after give what the phase did. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(key: string, amount = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + amount);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Sum of every counter whose name starts with `prefix`. */
  sum(prefix: string): number {
    let total = 0;
    for (const [key, value] of this.counts) if (key.startsWith(prefix)) total += value;
    return total;
  }

  snapshot(): Tally {
    const copy = new Tally();
    for (const [key, value] of this.counts) copy.counts.set(key, value);
    return copy;
  }

  /** this - earlier, counter by counter. */
  since(earlier: Tally): Tally {
    const diff = new Tally();
    for (const [key, value] of this.counts) {
      const delta = value - earlier.get(key);
      if (delta !== 0) diff.counts.set(key, delta);
    }
    return diff;
  }

  keys(prefix = ''): string[] {
    return [...this.counts.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
}

/**
 * Approximate size in bytes of a DynamoDB item given as AttributeValues (a stream image), by
 * DynamoDB's sizing rules: per attribute its UTF-8 name plus its value; strings by UTF-8 length,
 * numbers about one byte per two significant digits plus one, binary by length, booleans and nulls
 * one byte, lists and maps 3 bytes plus one byte per element plus the elements.
 */
export function attributeValueBytes(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const v = value as Record<string, unknown>;
  if (typeof v.S === 'string') return Buffer.byteLength(v.S);
  if (typeof v.N === 'string') {
    const digits = v.N.replace(/[eE].*$/, '').replace(/[^0-9]/g, '').replace(/^0+|0+$/g, '');
    return Math.ceil(digits.length / 2) + 1;
  }
  if (v.B !== undefined) return (v.B as { length?: number; byteLength?: number }).byteLength ?? String(v.B).length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (Array.isArray(v.L)) return 3 + v.L.reduce<number>((sum, element) => sum + 1 + attributeValueBytes(element), 0);
  if (v.M && typeof v.M === 'object') return 3 + itemAttributeBytes(v.M as Record<string, unknown>, 1);
  if (Array.isArray(v.SS)) return v.SS.reduce<number>((sum, s) => sum + Buffer.byteLength(String(s)), 0);
  if (Array.isArray(v.NS)) return v.NS.reduce<number>((sum, n) => sum + attributeValueBytes({ N: n }), 0);
  if (Array.isArray(v.BS)) return v.BS.reduce<number>((sum, b) => sum + attributeValueBytes({ B: b }), 0);
  return 0;
}

/** Size of an AttributeValue map (an item); `perAttribute` bytes are added per attribute (1 inside maps). */
export function itemAttributeBytes(item: Record<string, unknown>, perAttribute = 0): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + perAttribute + Buffer.byteLength(name) + attributeValueBytes(value),
    0,
  );
}

/** CPU time (ms) a process has used so far, from /proc; undefined where there is no /proc. */
export function processCpuReader(pid: number): (() => number) | undefined {
  let ticksPerSecond = 100;
  try {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // keep 100, the Linux default
  }
  const read = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // After "pid (comm) ": state is field 0, utime 11, stime 12 (in clock ticks).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  };
  try {
    read();
    return read;
  } catch {
    return undefined;
  }
}

/**
 * CPU ms of a process's threads by group (Linux /proc/PID/task/*: the thread's name, utime + stime),
 * for where a JVM's CPU goes: `group` maps a thread name to its group. Undefined where /proc is not.
 */
export function threadCpuReader(pid: number, group: (threadName: string) => string): (() => Map<string, number>) | undefined {
  let ticksPerSecond = 100;
  try {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // keep 100, the Linux default
  }
  const read = () => {
    const groups = new Map<string, number>();
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
        const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
        const key = group(name);
        groups.set(key, (groups.get(key) ?? 0) + ms);
      } catch {
        // the thread ended meanwhile: its time is no longer counted (a short-lived thread's is small)
      }
    }
    return groups;
  };
  try {
    read();
    return read;
  } catch {
    return undefined;
  }
}

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, or the saturation bench's
 * BERTH_BENCH_SATURATION_CPU_PROFILE): self and total time by function and by module, so "where does
 * the Node CPU go" has an answer without opening DevTools.
 *
 * Self time: samples whose top frame is the function (or module). Total time: samples with the
 * function (module) anywhere on the stack, counted once per sample however deep the recursion.
 * Modules: a package under node_modules (`@aws-sdk/client-dynamodb`), a file of this repository
 * (`src/app/tasks.ts`), `node:internal/...`, or V8's pseudo frames ((garbage collector), (program),
 * (idle)). Time is the profile's own sample intervals, in ms.
 *
 * Run: `npx tsx bench/cpu-profile-summary.ts FILE.cpuprofile [--top 15] [--callers NAME]` (--callers:
 * which functions call the one whose name contains NAME, by the time spent under it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Row {
  readonly name: string;
  readonly selfMs: number;
  readonly totalMs: number;
}
export interface Summary {
  readonly wallMs: number;
  /** Sampled time other than (idle). */
  readonly busyMs: number;
  readonly functions: Row[];
  readonly modules: Row[];
  /** With a `callersOf` pattern: time under the matching function (its outermost call), by caller. */
  readonly callers: Row[];
}

/** Where a frame's code lives: a package, a repository file, a Node internal, or a V8 pseudo frame. */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.startsWith('file://') ? safePath(url) : url;
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const parts = path.slice(inModules + '/node_modules/'.length).split('/');
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    // The SDK's core packages bundle unrelated parts (schema serde, retry, auth) as submodules.
    const submodule = /\/dist-[a-z]+\/submodules\/([^/]+)\//.exec(path);
    return submodule ? `${name}/${submodule[1]}` : name;
  }
  const repo = /\/(src|bench|lib|test)\/(.*)$/.exec(path);
  if (repo) return `${repo[1]}/${repo[2]}`;
  if (path.startsWith('node:')) return path.replace(/^node:internal\/(deps\/)?([^/]+).*$/, 'node:internal/$2');
  return path;
}

function safePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

/** A function by name and place (line:column: tsx compiles a file to one line, so the column tells apart). */
const functionKey = (frame: CallFrame) =>
  frame.url
    ? `${frame.functionName || '(anonymous)'} ${moduleOf(frame)}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`
    : frame.functionName || '(native)';

export function summarise(profile: CpuProfile, callersOf?: string): Summary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = { fn: new Map<string, number>(), mod: new Map<string, number>() };
  const callers = new Map<string, number>();
  const total = { fn: new Map<string, number>(), mod: new Map<string, number>() };
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    // A sample's time is the interval to the next sample (the last one's: the mean interval).
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const top = byId.get(id)!;
    if (top.callFrame.functionName === '(idle)') return;
    busyMs += ms;
    add(self.fn, functionKey(top.callFrame), ms);
    add(self.mod, moduleOf(top.callFrame), ms);
    const fns = new Set<string>();
    const mods = new Set<string>();
    let caller: string | undefined;
    for (let node: ProfileNode | undefined = top; node; node = byId.get(parent.get(node.id) ?? -1)) {
      if (node.callFrame.functionName === '(root)') break;
      const key = functionKey(node.callFrame);
      fns.add(key);
      mods.add(moduleOf(node.callFrame));
      if (callersOf && key.includes(callersOf)) {
        const up = byId.get(parent.get(node.id) ?? -1);
        caller = up ? functionKey(up.callFrame) : '(root)';
      }
    }
    if (caller) add(callers, caller, ms);
    for (const key of fns) add(total.fn, key, ms);
    for (const key of mods) add(total.mod, key, ms);
  });
  const rows = (selfMap: Map<string, number>, totalMap: Map<string, number>) =>
    [...totalMap.keys()].map((name) => ({ name, selfMs: selfMap.get(name) ?? 0, totalMs: totalMap.get(name) ?? 0 }));
  return {
    wallMs: (profile.endTime - profile.startTime) / 1000,
    busyMs,
    functions: rows(self.fn, total.fn),
    modules: rows(self.mod, total.mod),
    callers: [...callers].map(([name, ms]) => ({ name, selfMs: 0, totalMs: ms })),
  };
}

function print(summary: Summary, top: number) {
  const pct = (ms: number) => `${((100 * ms) / summary.busyMs).toFixed(1)}%`;
  const table = (title: string, rows: Row[], by: 'selfMs' | 'totalMs') => {
    console.log(`\n${title}`);
    console.log(`${'self ms'.padStart(9)} ${'self'.padStart(6)} ${'total ms'.padStart(9)} ${'total'.padStart(6)}  name`);
    for (const row of [...rows].sort((a, b) => b[by] - a[by]).slice(0, top)) {
      console.log(
        `${row.selfMs.toFixed(0).padStart(9)} ${pct(row.selfMs).padStart(6)} ${row.totalMs.toFixed(0).padStart(9)} ${pct(row.totalMs).padStart(6)}  ${row.name}`,
      );
    }
  };
  console.log(`profile: ${summary.wallMs.toFixed(0)} ms wall, ${summary.busyMs.toFixed(0)} ms sampled busy (not idle)`);
  table('Modules by self time', summary.modules, 'selfMs');
  table('Modules by total time', summary.modules, 'totalMs');
  table('Functions by self time', summary.functions, 'selfMs');
  table('Functions by total time', summary.functions, 'totalMs');
  if (summary.callers.length) table('Callers of the --callers function (total: time under it)', summary.callers, 'totalMs');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((arg) => arg.endsWith('.cpuprofile'));
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
  const callersAt = args.indexOf('--callers');
  const callersOf = callersAt >= 0 ? args[callersAt + 1] : undefined;
  if (!file) {
    console.error('usage: npx tsx bench/cpu-profile-summary.ts FILE.cpuprofile [--top 15] [--callers NAME]');
    process.exit(2);
  }
  print(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, callersOf), top);
}

import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One running Berth per data directory. Two runtimes on one DynamoDB Local data directory and one
 * embedded agent identity split-brain (each engine and agent acts on the other's tasks), so the
 * second one refuses to start and names the first.
 *
 * The lock is a file created exclusively (`wx`) holding the owner's pid, its start time and its URL.
 * A lock whose pid is gone, or whose pid now belongs to a process started at another time (pid
 * reuse), is stale and taken over. A crashed runtime therefore never blocks the next start.
 */
export interface DataDirectoryLock {
  readonly file: string;
  /** Records the URL once the server listens, so a refused second start can name it. */
  setUrl(url: string): void;
  release(): void;
}

export interface LockOwner {
  readonly pid: number;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  readonly startTime?: string;
  readonly url?: string;
}

export class DataDirectoryInUseError extends Error {
  constructor(
    readonly directory: string,
    readonly owner: LockOwner,
  ) {
    super(
      `Berth is already running on data directory ${directory} (pid ${owner.pid}${owner.url ? `, ${owner.url}` : ''}). ` +
        'Stop it first, or start this one with another --data-dir or --in-memory.',
    );
    this.name = 'DataDirectoryInUseError';
  }
}

const LOCK_FILE = 'berth.lock';

export function lockDataDirectory(directory: string): DataDirectoryLock {
  const file = join(directory, LOCK_FILE);
  const self: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid) };
  let owner = self;
  // Two attempts: the second follows the removal of a stale lock.
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(self));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const text = readText(file);
      const current = parseOwner(text);
      if (current && isRunning(current)) throw new DataDirectoryInUseError(directory, current);
      // Remove the stale lock only if it is still the one judged stale: another starter may have
      // replaced it in the meantime (a narrow window; its exclusive create then wins).
      if (readText(file) === text) unlinkSync(file);
    }
  }
  let released = false;
  return {
    file,
    setUrl(url) {
      owner = { ...self, url };
      if (!released) writeFileSync(file, JSON.stringify(owner));
    },
    release() {
      if (released) return;
      released = true;
      const current = parseOwner(readText(file));
      if (current?.pid === self.pid && current.startTime === self.startTime) unlinkSync(file);
    },
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as LockOwner;
    return Number.isInteger(value?.pid) && value.pid > 0 ? value : undefined;
  } catch {
    // Half-written by a process that died mid-write: stale.
    return undefined;
  }
}

function isRunning(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the pid exists but belongs to someone else, so not to a Berth of ours.
    return false;
  }
  const startTime = processStartTime(owner.pid);
  return owner.startTime === undefined || startTime === undefined || startTime === owner.startTime;
}

/** Field 22 of /proc/<pid>/stat; undefined where /proc does not exist (macOS). */
export function processStartTime(pid: number): string | undefined {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return undefined;
  try {
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const text = readFileSync(stat, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

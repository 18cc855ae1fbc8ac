import { readFileSync } from 'node:fs';

/** Whether a process runs: it exists and is not a zombie (a zombie has ended; only its status waits). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

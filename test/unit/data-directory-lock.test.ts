import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirectoryInUseError, lockDataDirectory, processStartTime } from '../../src/local/data-directory-lock';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'berth-lock-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const lockFile = () => join(directory, 'berth.lock');

/** A pid that existed and has ended: a child that ran and exited. */
function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim());
}

describe('one owner per data directory', () => {
  it('a second lock on a held directory is refused, naming the owner and its URL', () => {
    const lock = lockDataDirectory(directory);
    lock.setUrl('http://127.0.0.1:4600');
    expect(() => lockDataDirectory(directory)).toThrow(DataDirectoryInUseError);
    expect(() => lockDataDirectory(directory)).toThrow(`(pid ${process.pid}, http://127.0.0.1:4600)`);
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
    lockDataDirectory(directory).release();
  });

  it.each([
    { name: 'the owner pid has ended', owner: () => ({ pid: deadPid() }) },
    { name: 'the pid now belongs to a process started at another time', owner: () => ({ pid: process.pid, startTime: '1' }) },
    { name: 'the file is half-written', owner: () => '{"pid":' },
    { name: 'the file holds no pid', owner: () => ({}) },
  ])('a stale lock is taken over when $name', ({ owner }) => {
    const content = owner();
    writeFileSync(lockFile(), typeof content === 'string' ? content : JSON.stringify(content));
    const lock = lockDataDirectory(directory);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('release leaves a lock it no longer owns alone', () => {
    const lock = lockDataDirectory(directory);
    writeFileSync(lockFile(), JSON.stringify({ pid: 1, startTime: processStartTime(1) }));
    lock.release();
    expect(existsSync(lockFile())).toBe(true);
  });

  it.skipIf(!existsSync('/proc/self/stat'))('reads a process start time that tells a reused pid apart', () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(process.pid)).not.toBe(processStartTime(1));
  });
});

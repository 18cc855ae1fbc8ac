import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HealthStatus } from '../../src/agent/container-runtime';
import {
  type CheckExecutor,
  type HealthCheckConfig,
  HealthCheckRunner,
  HealthCheckStateMachine,
  applyCheckResult,
  initialHealthState,
  parseHealthCheckCommand,
  resolveHealthCheck,
} from '../../src/agent/health-check';

const T0 = 1_700_000_000_000;

/** One check: started `at` seconds after the container started, took `took` seconds, exited `exit`. */
interface Check {
  at: number;
  took?: number;
  exit: number | null;
}

const config = (overrides: Partial<HealthCheckConfig> = {}): HealthCheckConfig =>
  resolveHealthCheck({ command: ['CMD-SHELL', 'true'], ...overrides });

function run(cfg: HealthCheckConfig, checks: Check[]): HealthStatus[] {
  let state = initialHealthState();
  return checks.map(({ at, took = 0.1, exit }) => {
    state = applyCheckResult(state, cfg, T0, {
      startedAt: T0 + at * 1000,
      finishedAt: T0 + (at + took) * 1000,
      exitCode: exit,
    });
    return state.status;
  });
}

describe('resolveHealthCheck', () => {
  it('applies the ECS defaults: interval 30, timeout 5, retries 3, startPeriod 0', () => {
    expect(resolveHealthCheck({ command: ['CMD', 'true'] })).toEqual({
      command: ['CMD', 'true'],
      interval: 30,
      timeout: 5,
      retries: 3,
      startPeriod: 0,
    });
  });

  it('keeps given values', () => {
    expect(
      resolveHealthCheck({ command: ['CMD', 'true'], interval: 5, timeout: 2, retries: 1, startPeriod: 60 }),
    ).toMatchObject({ interval: 5, timeout: 2, retries: 1, startPeriod: 60 });
  });
});

describe('parseHealthCheckCommand', () => {
  it.each([
    { name: 'CMD-SHELL runs through /bin/sh -c', command: ['CMD-SHELL', 'curl -f localhost || exit 1'], expected: { file: '/bin/sh', args: ['-c', 'curl -f localhost || exit 1'] } },
    { name: 'CMD-SHELL joins further elements with spaces', command: ['CMD-SHELL', 'test', '-f', 'x'], expected: { file: '/bin/sh', args: ['-c', 'test -f x'] } },
    { name: 'CMD runs the executable directly', command: ['CMD', 'test', '-f', 'x'], expected: { file: 'test', args: ['-f', 'x'] } },
    { name: 'NONE disables the check', command: ['NONE'], expected: null },
  ])('$name', ({ command, expected }) => {
    expect(parseHealthCheckCommand(command)).toEqual(expected);
  });

  it.each([
    { name: 'no CMD/CMD-SHELL prefix', command: ['curl', '-f', 'localhost'] },
    { name: 'empty command', command: [] },
    { name: 'CMD without an executable', command: ['CMD'] },
    { name: 'CMD-SHELL without a command string', command: ['CMD-SHELL', ' '] },
  ])('rejects $name', ({ command }) => {
    expect(() => parseHealthCheckCommand(command)).toThrow();
  });
});

describe('applyCheckResult (ECS semantics)', () => {
  it.each<{ name: string; cfg: HealthCheckConfig; checks: Check[]; expected: HealthStatus[] }>([
    {
      name: 'a success -> HEALTHY',
      cfg: config(),
      checks: [{ at: 30, exit: 0 }],
      expected: ['HEALTHY'],
    },
    {
      name: 'fewer than retries failures stay UNKNOWN',
      cfg: config({ retries: 3 }),
      checks: [
        { at: 30, exit: 1 },
        { at: 60, exit: 1 },
      ],
      expected: ['UNKNOWN', 'UNKNOWN'],
    },
    {
      name: 'retries consecutive failures -> UNHEALTHY',
      cfg: config({ retries: 3 }),
      checks: [
        { at: 30, exit: 1 },
        { at: 60, exit: 1 },
        { at: 90, exit: 1 },
      ],
      expected: ['UNKNOWN', 'UNKNOWN', 'UNHEALTHY'],
    },
    {
      name: 'retries 1: the first failure -> UNHEALTHY',
      cfg: config({ retries: 1 }),
      checks: [{ at: 30, exit: 2 }],
      expected: ['UNHEALTHY'],
    },
    {
      name: 'a HEALTHY container stays HEALTHY until retries consecutive failures',
      cfg: config({ retries: 3 }),
      checks: [
        { at: 30, exit: 0 },
        { at: 60, exit: 1 },
        { at: 90, exit: 1 },
        { at: 120, exit: 1 },
      ],
      expected: ['HEALTHY', 'HEALTHY', 'HEALTHY', 'UNHEALTHY'],
    },
    {
      name: 'a success resets the failure streak',
      cfg: config({ retries: 3 }),
      checks: [
        { at: 30, exit: 1 },
        { at: 60, exit: 1 },
        { at: 90, exit: 0 },
        { at: 120, exit: 1 },
        { at: 150, exit: 1 },
        { at: 180, exit: 1 },
      ],
      expected: ['UNKNOWN', 'UNKNOWN', 'HEALTHY', 'HEALTHY', 'HEALTHY', 'UNHEALTHY'],
    },
    {
      name: 'UNHEALTHY recovers to HEALTHY on a success',
      cfg: config({ retries: 1 }),
      checks: [
        { at: 30, exit: 1 },
        { at: 60, exit: 0 },
      ],
      expected: ['UNHEALTHY', 'HEALTHY'],
    },
    {
      name: 'failures during startPeriod do not count',
      cfg: config({ interval: 5, retries: 2, startPeriod: 20 }),
      checks: [
        { at: 5, exit: 1 },
        { at: 10, exit: 1 },
        { at: 15, exit: 1 },
        { at: 20, exit: 1 },
        { at: 25, exit: 1 },
      ],
      expected: ['UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNHEALTHY'],
    },
    {
      name: 'the start period is measured to the start of the check',
      cfg: config({ retries: 1, startPeriod: 10 }),
      checks: [
        { at: 9.9, took: 0.5, exit: 1 },
        { at: 10, took: 0.5, exit: 1 },
      ],
      expected: ['UNKNOWN', 'UNHEALTHY'],
    },
    {
      name: 'a success during startPeriod counts -> HEALTHY',
      cfg: config({ interval: 5, startPeriod: 60 }),
      checks: [{ at: 5, exit: 0 }],
      expected: ['HEALTHY'],
    },
    {
      name: 'after a success, failures count even within startPeriod',
      cfg: config({ interval: 5, retries: 2, startPeriod: 60 }),
      checks: [
        { at: 5, exit: 0 },
        { at: 10, exit: 1 },
        { at: 15, exit: 1 },
      ],
      expected: ['HEALTHY', 'HEALTHY', 'UNHEALTHY'],
    },
    {
      name: 'a check exceeding timeout is a failure even when it exits 0',
      cfg: config({ timeout: 5, retries: 1 }),
      checks: [{ at: 30, took: 5.5, exit: 0 }],
      expected: ['UNHEALTHY'],
    },
    {
      name: 'a check finishing within timeout is a success',
      cfg: config({ timeout: 5, retries: 1 }),
      checks: [{ at: 30, took: 5, exit: 0 }],
      expected: ['HEALTHY'],
    },
    {
      name: 'a killed or unexecutable check (exit null) is a failure',
      cfg: config({ retries: 1 }),
      checks: [{ at: 30, exit: null }],
      expected: ['UNHEALTHY'],
    },
  ])('$name', ({ cfg, checks, expected }) => {
    expect(run(cfg, checks)).toEqual(expected);
  });
});

describe('HealthCheckStateMachine (injected clock)', () => {
  it('times checks with the clock and reports changes', () => {
    let now = T0;
    const machine = new HealthCheckStateMachine(config({ timeout: 2, retries: 2, startPeriod: 10 }), () => now);
    expect(machine.status).toBe('UNKNOWN');

    now = T0 + 5_000; // within the start period: does not count
    let token = machine.beginCheck();
    now += 100;
    expect(machine.finishCheck(token, 1)).toEqual({ status: 'UNKNOWN', changed: false });
    expect(machine.failingStreak).toBe(0);

    now = T0 + 11_000;
    token = machine.beginCheck();
    now += 100;
    expect(machine.finishCheck(token, 0)).toEqual({ status: 'HEALTHY', changed: true });

    // A check that exits 0 but took 3 s > timeout 2 s fails.
    token = machine.beginCheck();
    now += 3_000;
    expect(machine.finishCheck(token, 0)).toEqual({ status: 'HEALTHY', changed: false });
    token = machine.beginCheck();
    now += 100;
    expect(machine.finishCheck(token, 1)).toEqual({ status: 'UNHEALTHY', changed: true });
  });
});

describe('HealthCheckRunner (fake timers, fake executor)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('checks every interval after the previous check, reports changes, stops', async () => {
    vi.useFakeTimers({ now: T0 });
    const results = [0, 1, 1, 0];
    const calls: number[] = [];
    const exec: CheckExecutor = async (invocation, options) => {
      expect(invocation).toEqual({ file: '/bin/sh', args: ['-c', 'probe'] });
      expect(options).toMatchObject({ cwd: '/srv', timeoutMs: 2000, env: { A: '1' } });
      calls.push(Date.now() - T0);
      return results.shift() ?? 0;
    };
    const changes: HealthStatus[] = [];
    const runner = new HealthCheckRunner({
      config: resolveHealthCheck({ command: ['CMD-SHELL', 'probe'], interval: 5, timeout: 2, retries: 2 }),
      env: { A: '1' },
      cwd: '/srv',
      exec,
      onChange: (s) => changes.push(s),
    });
    runner.start();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([5_000]);
    expect(runner.status).toBe('HEALTHY');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toEqual([5_000, 10_000, 15_000]);
    expect(changes).toEqual(['HEALTHY', 'UNHEALTHY']);
    runner.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(3);
  });

  it('does nothing for ["NONE"]', async () => {
    vi.useFakeTimers({ now: T0 });
    const exec = vi.fn<CheckExecutor>(async () => 0);
    const runner = new HealthCheckRunner({ config: resolveHealthCheck({ command: ['NONE'], interval: 1 }), env: {}, cwd: '/', exec });
    runner.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(exec).not.toHaveBeenCalled();
    expect(runner.status).toBe('UNKNOWN');
  });
});

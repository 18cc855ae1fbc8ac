import { describe, expect, it } from 'vitest';
import type { Adoption, RunningContainer } from '../../src/agent/container-runtime';
import { AGENT_SHUT_DOWN, adoptionOutcome, HOST_RESTARTED, PROCESSES_LOST, START_INTERRUPTED } from '../../src/agent/reasons';

const running: Adoption = { state: 'running', container: {} as RunningContainer };
const exitedByItself: Adoption = { state: 'exited', exit: { exitCode: 3 } };
const stoppedByAgent: Adoption = { state: 'exited', exit: { exitCode: 143, signal: 'SIGTERM', stoppedByRuntime: true } };
const lost: Adoption = { state: 'lost', reason: 'gone', hostRestarted: false };
const lostWithHost: Adoption = { state: 'lost', reason: 'gone', hostRestarted: true };

const definitions = [
  { name: 'app', essential: true },
  { name: 'sidecar', essential: false },
];

describe('what a restarted agent makes of a task it finds again', () => {
  it.each([
    { name: 'every container runs', lastStatus: 'RUNNING', app: running, sidecar: running, outcome: { kind: 'adopt' } },
    { name: 'only a non-essential container is gone', lastStatus: 'RUNNING', app: running, sidecar: lost, outcome: { kind: 'adopt' } },
    { name: 'started, not yet reported RUNNING', lastStatus: 'ACTIVATING', app: running, sidecar: running, outcome: { kind: 'adopt' } },
    {
      name: 'its start was cut short',
      lastStatus: 'ACTIVATING',
      app: lost,
      sidecar: running,
      outcome: { kind: 'agent-stop', stop: { stopCode: 'TaskFailedToStart', reason: START_INTERRUPTED } },
    },
    { name: 'the essential container exited by itself', lastStatus: 'RUNNING', app: exitedByItself, sidecar: running, outcome: { kind: 'essential-exit' } },
    {
      name: 'the previous agent stopped it when shutting down',
      lastStatus: 'RUNNING',
      app: stoppedByAgent,
      sidecar: stoppedByAgent,
      outcome: { kind: 'agent-stop', stop: { stopCode: 'TerminationNotice', reason: AGENT_SHUT_DOWN } },
    },
    {
      name: 'its processes are gone without a record',
      lastStatus: 'RUNNING',
      app: lost,
      sidecar: lost,
      outcome: { kind: 'agent-stop', stop: { stopCode: 'InfrastructureHealth', reason: PROCESSES_LOST } },
    },
    {
      name: 'the host restarted',
      lastStatus: 'STOPPING',
      app: lostWithHost,
      sidecar: lostWithHost,
      outcome: { kind: 'agent-stop', stop: { stopCode: 'InfrastructureHealth', reason: HOST_RESTARTED } },
    },
  ] as const)('$name', ({ lastStatus, app, sidecar, outcome }) => {
    expect(adoptionOutcome({ lastStatus }, definitions, new Map([['app', app], ['sidecar', sidecar]]))).toEqual(outcome);
  });
});

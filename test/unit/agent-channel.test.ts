/** The agent channel's pure parts: which task changes notify an agent, the messages, the reconnect backoff. */
import { describe, expect, it } from 'vitest';
import {
  instanceToNotify,
  parseAssignmentsChanged,
  parseHeartbeat,
  reconnectDelayMs,
  assignmentsChanged,
  assignmentsChangedMessage,
  MAX_ASSIGNMENT_MESSAGE_BYTES,
} from '../../src/domain/agent-channel';
import type { TaskRecord } from '../../src/domain/records';
import { aTask } from '../support/services';

const HOST = 'arn:aws:ecs:us-east-1:123456789012:container-instance/c/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const OTHER = 'arn:aws:ecs:us-east-1:123456789012:container-instance/c/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const on = (host: string | undefined, status: TaskRecord['lastStatus'], desired: TaskRecord['desiredStatus'] = 'RUNNING'): TaskRecord =>
  aTask({ lastStatus: status, desiredStatus: desired, reservation: host ? { containerInstanceArn: host, cpu: 256, memory: 512 } : undefined });

describe('which task changes notify an agent', () => {
  it.each<[string, TaskRecord | undefined, TaskRecord, string | undefined]>([
    ['placed and PENDING: the host must start it', on(HOST, 'PROVISIONING'), on(HOST, 'PENDING'), HOST],
    ['created PENDING with a host in one write', undefined, on(HOST, 'PENDING'), HOST],
    ['waiting for capacity, then placed', on(undefined, 'PENDING'), on(HOST, 'PENDING'), HOST],
    ['moved to another host while PENDING', on(OTHER, 'PENDING'), on(HOST, 'PENDING'), HOST],
    ['PENDING again (another write of the same step): already told', on(HOST, 'PENDING'), on(HOST, 'PENDING'), undefined],
    ['STOPPING: the host must stop it', on(HOST, 'RUNNING', 'STOPPED'), on(HOST, 'STOPPING', 'STOPPED'), HOST],
    ['STOPPING again: already told', on(HOST, 'STOPPING', 'STOPPED'), on(HOST, 'STOPPING', 'STOPPED'), undefined],
    ["the agent's own ACTIVATING report", on(HOST, 'PENDING'), on(HOST, 'ACTIVATING'), undefined],
    ["the agent's own RUNNING report", on(HOST, 'ACTIVATING'), on(HOST, 'RUNNING'), undefined],
    ['STOPPED, capacity given back', on(HOST, 'STOPPED', 'STOPPED'), on(undefined, 'STOPPED', 'STOPPED'), undefined],
    ['PENDING but desired STOPPED (stopped before it started): nothing to start', on(HOST, 'PROVISIONING', 'STOPPED'), on(HOST, 'PENDING', 'STOPPED'), undefined],
    ['waiting for capacity, no host yet', undefined, on(undefined, 'PENDING'), undefined],
  ])('%s', (_name, before, after, expected) => {
    expect(instanceToNotify(before, after)).toBe(expected);
  });
});

describe('messages', () => {
  it('a notification round-trips, with no task payload', () => {
    const message = assignmentsChanged(HOST, '42');
    expect(JSON.parse(JSON.stringify(message))).toEqual({ type: 'assignments-changed', containerInstanceArn: HOST, seq: '42' });
    expect(parseAssignmentsChanged(JSON.stringify(message))).toEqual(message);
  });

  it('a notification with its assignment round-trips, the task and container definitions as they were', () => {
    const task = on(HOST, 'PENDING');
    const message = assignmentsChanged(HOST, '43', { task, containers: [{ name: 'web', image: 'busybox', command: ['true'] }] });
    expect(parseAssignmentsChanged(assignmentsChangedMessage(message))).toEqual(JSON.parse(JSON.stringify(message)));
  });

  it('goes without its assignment when that would not fit in one WebSocket frame (the agent then fetches)', () => {
    const big = 'x'.repeat(MAX_ASSIGNMENT_MESSAGE_BYTES);
    const message = assignmentsChanged(HOST, '44', { task: on(HOST, 'PENDING'), containers: [{ name: 'web', image: 'busybox', command: [big] }] });
    const sent = assignmentsChangedMessage(message);
    expect(new TextEncoder().encode(sent).length).toBeLessThanOrEqual(MAX_ASSIGNMENT_MESSAGE_BYTES);
    expect(parseAssignmentsChanged(sent)).toEqual({ type: 'assignments-changed', containerInstanceArn: HOST, seq: '44' });
  });

  it.each<[string, unknown]>([
    ['not an object', 'a task'],
    ['no task', { containers: [] }],
    ['no containers', { task: on(HOST, 'PENDING') }],
    ['a task without its ARN', { task: { ...on(HOST, 'PENDING'), taskArn: undefined }, containers: [] }],
    ['a task whose version is not a number', { task: { ...on(HOST, 'PENDING'), version: '3' }, containers: [] }],
    ['a container without a name', { task: on(HOST, 'PENDING'), containers: [{ image: 'busybox' }] }],
  ])('drops an assignment it cannot read (%s): the agent fetches instead', (_name, assignment) => {
    const data = JSON.stringify({ type: 'assignments-changed', containerInstanceArn: HOST, seq: '45', assignment });
    expect(parseAssignmentsChanged(data)).toEqual({ type: 'assignments-changed', containerInstanceArn: HOST, seq: '45' });
  });

  it.each([
    ['not JSON', '{'],
    ['null', 'null'],
    ['another type', JSON.stringify({ type: 'hello', containerInstanceArn: HOST })],
    ['no instance', JSON.stringify({ type: 'assignments-changed' })],
    ['an instance that is not a string', JSON.stringify({ type: 'assignments-changed', containerInstanceArn: 7 })],
  ])('ignores %s', (_name, data) => {
    expect(parseAssignmentsChanged(data)).toBeUndefined();
  });

  it.each([
    ['a heartbeat', JSON.stringify({ action: 'heartbeat', containerInstanceArn: HOST, extra: 1 }), { action: 'heartbeat', containerInstanceArn: HOST }],
    ['another action', JSON.stringify({ action: 'sendmessage', containerInstanceArn: HOST }), undefined],
    ['no instance', JSON.stringify({ action: 'heartbeat' }), undefined],
    ['not JSON', 'heartbeat', undefined],
  ])('reads %s', (_name, data, expected) => {
    expect(parseHeartbeat(data)).toEqual(expected);
  });
});

describe('reconnect backoff (equal jitter, capped)', () => {
  const policy = { baseMs: 500, capMs: 30_000 };

  it.each([
    ['first retry, lowest draw', 0, 0, 250],
    ['first retry, highest draw', 0, 1, 500],
    ['second retry, middle draw', 1, 0.5, 750],
    ['fourth retry, lowest draw', 3, 0, 2000],
    ['capped: lowest draw is half the cap', 20, 0, 15_000],
    ['capped: highest draw is the cap', 20, 1, 30_000],
    ['an absurd attempt count stays capped', 10_000, 0.999, 29_985],
    ['a negative attempt counts as the first', -3, 0, 250],
  ])('%s', (_name, attempt, draw, expected) => {
    expect(reconnectDelayMs(attempt, () => draw, policy)).toBe(expected);
  });

  it('never waits less than half the ceiling nor more than the cap, and the ceiling only grows', () => {
    let previousCeiling = 0;
    for (let attempt = 0; attempt < 40; attempt++) {
      const low = reconnectDelayMs(attempt, () => 0, policy);
      const high = reconnectDelayMs(attempt, () => 1, policy);
      expect(high).toBeLessThanOrEqual(policy.capMs);
      expect(low).toBe(Math.round(high / 2));
      expect(high).toBeGreaterThanOrEqual(previousCeiling);
      previousCeiling = high;
    }
  });

  it('spreads a fleet: different draws, different waits', () => {
    const waits = new Set([0, 0.25, 0.5, 0.75].map((draw) => reconnectDelayMs(5, () => draw, policy)));
    expect(waits.size).toBe(4);
  });
});

/**
 * StepFunctionsServiceLoop (the AWS adapter) on DynamoDB Local, with a recording StatesApi standing in
 * for the Step Functions endpoint: which call each wake-up makes, and what it does with the answers
 * Step Functions gives (ExecutionAlreadyExists, TaskTimedOut).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ServiceLoopStore } from '../../src/adapters/dynamodb/service-loop-store';
import { StepFunctionsServiceLoop } from '../../src/adapters/stepfunctions/service-loop';
import { StatesError, type StatesApi } from '../../src/adapters/stepfunctions/states-api';
import { executionName, loopName } from '../../src/app/service-loop-steps';
import { serviceAddress } from '../../src/app/service-scheduler';
import { startHarness, type Harness } from '../support/berth-harness';

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:berth-service-loop';
let berth: Harness;
let store: ServiceLoopStore;

beforeAll(async () => {
  berth = await startHarness();
  store = new ServiceLoopStore(berth.doc, berth.tableName);
}, 60_000);
afterAll(async () => {
  await berth?.close();
});

type Call = { op: 'start'; name: string; input: unknown } | { op: 'success'; token: string };

/** Records the calls; `answers` may fail the next call of an operation with a Step Functions error. */
function recordingStates(answers: { start?: string[]; success?: string[] } = {}): StatesApi & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async startExecution({ stateMachineArn, name, input }) {
      expect(stateMachineArn).toBe(STATE_MACHINE);
      calls.push({ op: 'start', name, input: JSON.parse(input) });
      const error = answers.start?.shift();
      if (error) throw new StatesError(error, error);
    },
    async sendTaskSuccess({ taskToken }) {
      calls.push({ op: 'success', token: taskToken });
      const error = answers.success?.shift();
      if (error) throw new StatesError(error, error);
    },
  };
}

let serial = 0;
const aService = () => `arn:aws:ecs:us-east-1:123456789012:service/adapter/s${++serial}`;
const loopOf = (states: StatesApi) => new StepFunctionsServiceLoop({ states, store, stateMachineArn: STATE_MACHINE });

it('a wake-up for a service without a loop creates its item and starts generation 1 with the first state', async () => {
  const arn = aService();
  const states = recordingStates();
  await loopOf(states).wake(arn);
  expect(states.calls).toEqual([
    { op: 'start', name: executionName(loopName(arn), 1), input: { serviceArn: arn, loopName: loopName(arn), generation: 1, loops: 0 } },
  ]);
  expect(await store.get(serviceAddress(arn))).toEqual({ generation: 1, woken: true, token: undefined });
});

it('a wake-up takes the waiting token (once: the next finds none) and sends it SendTaskSuccess', async () => {
  const arn = aService();
  const states = recordingStates();
  const loop = loopOf(states);
  await loop.wake(arn);
  expect(await store.adopt(serviceAddress(arn), arn, 1)).toBe(true);
  expect(await store.park(serviceAddress(arn), 1, 'token-1')).toBe('parked');
  states.calls.length = 0;
  await Promise.all([loop.wake(arn), loop.wake(arn)]);
  expect(states.calls.filter((c) => c.op === 'success')).toEqual([{ op: 'success', token: 'token-1' }]);
  expect(await store.get(serviceAddress(arn))).toMatchObject({ token: undefined, woken: true });
  // Woken meanwhile: the next wait is refused, so the execution reconciles at once.
  expect(await store.park(serviceAddress(arn), 1, 'token-2')).toBe('woken');
});

it.each(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'])('a token that expired (%s) is harmless: the wake-up succeeds', async (error) => {
  const arn = aService();
  const states = recordingStates({ success: [error] });
  const loop = loopOf(states);
  await loop.wake(arn);
  await store.adopt(serviceAddress(arn), arn, 1);
  await store.park(serviceAddress(arn), 1, 'stale');
  await expect(loop.wake(arn)).resolves.toBeUndefined();
});

it('a second unread wake-up checks the execution is alive; one whose name is spent is succeeded by the next generation', async () => {
  const arn = aService();
  const states = recordingStates();
  const loop = loopOf(states);
  await loop.wake(arn); // starts generation 1 (woken: true until its first pass)
  states.calls.length = 0;
  // The execution died before its first pass: StartExecution of its name answers ExecutionAlreadyExists.
  const dead = recordingStates({ start: ['ExecutionAlreadyExists'] });
  await loopOf(dead).wake(arn);
  expect(dead.calls.map((c) => (c.op === 'start' ? c.name : c.op))).toEqual([executionName(loopName(arn), 1), executionName(loopName(arn), 2)]);
  expect((await store.get(serviceAddress(arn)))?.generation).toBe(2);
});

it('a newer generation supersedes: the older one can neither adopt nor wait', async () => {
  const arn = aService();
  await loopOf(recordingStates()).wake(arn);
  expect(await store.advance(serviceAddress(arn), 1)).toBe(true);
  expect(await store.advance(serviceAddress(arn), 1)).toBe(false); // a racing restart loses
  expect(await store.adopt(serviceAddress(arn), arn, 2)).toBe(true);
  expect(await store.adopt(serviceAddress(arn), arn, 1)).toBe(false);
  expect(await store.park(serviceAddress(arn), 1, 'old')).toBe('superseded');
  expect(await store.park(serviceAddress(arn), 2, 'new')).toBe('parked');
});

it('other Step Functions errors are not swallowed', async () => {
  const arn = aService();
  await expect(loopOf(recordingStates({ start: ['ThrottlingException'] })).wake(arn)).rejects.toThrow('ThrottlingException');
});

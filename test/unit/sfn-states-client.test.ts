/**
 * SfnStatesClient: the requests it sends and the error names the loop adapter matches
 * (isStatesError), as the SDK raises them.
 */
import { ExecutionAlreadyExists, SFNClient, SendTaskSuccessCommand, StartExecutionCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, expect, it } from 'vitest';
import { SfnStatesClient } from '../../src/adapters/stepfunctions/sfn-states-client';
import { isStatesError } from '../../src/adapters/stepfunctions/states-api';

const sfn = mockClient(SFNClient);
const client = new SfnStatesClient(new SFNClient({ region: 'eu-west-1' }));
afterEach(() => sfn.reset());

it('sends StartExecution with the state machine, name and input', async () => {
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:eu-west-1:1:execution:m:n-g1', startDate: new Date(0) });
  await client.startExecution({ stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:m', name: 'n-g1', input: '{"a":1}' });
  expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
    { stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:m', name: 'n-g1', input: '{"a":1}' },
  ]);
});

it('sends SendTaskSuccess with the token and output', async () => {
  sfn.on(SendTaskSuccessCommand).resolves({});
  await client.sendTaskSuccess({ taskToken: 'tok', output: '{"woken":true}' });
  expect(sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input)).toEqual([{ taskToken: 'tok', output: '{"woken":true}' }]);
});

it.each([
  { name: 'ExecutionAlreadyExists', error: new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }), call: 'start' },
  { name: 'TaskTimedOut', error: new TaskTimedOut({ message: 'timed out', $metadata: {} }), call: 'success' },
])('lets $name through under the name the loop adapter matches', async ({ name, error, call }) => {
  sfn.on(StartExecutionCommand).rejects(error);
  sfn.on(SendTaskSuccessCommand).rejects(error);
  const attempt =
    call === 'start'
      ? client.startExecution({ stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:m', name: 'n', input: '{}' })
      : client.sendTaskSuccess({ taskToken: 't', output: '{}' });
  const thrown = await attempt.then(() => undefined, (e: unknown) => e);
  expect(isStatesError(thrown, name)).toBe(true);
});

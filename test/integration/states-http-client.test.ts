/**
 * StatesHttpClient against a local HTTP server speaking Step Functions' JSON 1.0 protocol: the
 * operation in X-Amz-Target, the SigV4 signature for the service `states`, the JSON body, and the
 * service's `__type` turned into the error name the adapter matches.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StatesHttpClient } from '../../src/adapters/stepfunctions/states-http-client';

interface Seen {
  headers: IncomingMessage['headers'];
  body: any;
}
const seen: Seen[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };
let server: Server;
let client: StatesHttpClient;

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      seen.push({ headers: request.headers, body: JSON.parse(text) });
      response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new StatesHttpClient({
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

it('sends StartExecution as AWSStepFunctions.StartExecution, signed for states in the region', async () => {
  answer = { status: 200, body: { executionArn: 'arn', startDate: 1 } };
  await client.startExecution({ stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:m', name: 'n-g1', input: '{"a":1}' });
  const last = seen.at(-1)!;
  expect(last.headers['x-amz-target']).toBe('AWSStepFunctions.StartExecution');
  expect(last.headers['content-type']).toBe('application/x-amz-json-1.0');
  expect(last.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/states\/aws4_request, SignedHeaders=.*x-amz-target/);
  expect(last.body).toEqual({ stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:m', name: 'n-g1', input: '{"a":1}' });
});

it('sends SendTaskSuccess with the token and output', async () => {
  answer = { status: 200, body: {} };
  await client.sendTaskSuccess({ taskToken: 'tok', output: '{"woken":true}' });
  expect(seen.at(-1)!.headers['x-amz-target']).toBe('AWSStepFunctions.SendTaskSuccess');
  expect(seen.at(-1)!.body).toEqual({ taskToken: 'tok', output: '{"woken":true}' });
});

it.each([
  ['ExecutionAlreadyExists', 'com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists'],
  ['TaskTimedOut', 'TaskTimedOut'],
])('names a %s answer by its __type, namespace dropped', async (name, type) => {
  answer = { status: 400, body: { __type: type, message: 'no' } };
  await expect(client.sendTaskSuccess({ taskToken: 't', output: '{}' })).rejects.toMatchObject({ name, message: 'no' });
});

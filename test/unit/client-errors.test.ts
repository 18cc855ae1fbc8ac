/**
 * DynamoDB throttling that outlasts the SDK's retries (a provisioned table above its capacity,
 * docs/cost.md) reaches clients as AWS services answer it, ThrottlingException, which SDKs retry with
 * backoff: HTTP 400 from the ECS API, 429 from the Scheduler API. Never a ServerException (500).
 */
import { ProvisionedThroughputExceededException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { asClientError } from '../../src/api/client-errors';
import { handleEcsRequest } from '../../src/api/ecs-protocol';
import { handleSchedulerRequest } from '../../src/api/scheduler-protocol';
import type { BerthContext } from '../../src/app/context';
import { ThrottlingException } from '../../src/domain/errors';

const throttled = () => new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: {} });
const named = (name: string) => Object.assign(new Error(name), { name });

describe('asClientError', () => {
  it.each<[string, unknown, boolean]>([
    ['a provisioned table above its capacity', throttled(), true],
    ["DynamoDB's ThrottlingException (control plane, on-demand limits)", named('ThrottlingException'), true],
    ['an account request limit', named('RequestLimitExceeded'), true],
    ['a conflicting transaction (a lost race: the use cases retry it)', new TransactionConflictException({ message: 'conflict', $metadata: {} }), false],
    ['any other error (a bug: a ServerException)', new TypeError('x is undefined'), false],
    ['not an error at all', 'throttled', false],
  ])('%s', (_name, error, isThrottle) => {
    const answer = asClientError(error);
    expect(answer instanceof ThrottlingException).toBe(isThrottle);
    if (!isThrottle) expect(answer).toBe(error);
  });
});

/** A context whose table throttles every call of the repository the request uses. */
function throttlingContext(): BerthContext {
  const throwing = new Proxy({}, { get: () => async () => Promise.reject(throttled()) });
  return { account: '123456789012', defaultRegion: 'us-east-1', clusters: throwing, schedules: throwing } as unknown as BerthContext;
}

describe('a throttled table on the wire', () => {
  it('ECS: ThrottlingException, HTTP 400, nothing logged as a failure', async () => {
    const logged: unknown[] = [];
    const response = await handleEcsRequest(
      throttlingContext(),
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters' },
        body: '{}',
        requestId: 'throttled',
      },
      { error: (_message, error) => logged.push(error) },
    );
    expect({ status: response.statusCode, body: JSON.parse(response.body), logged }).toEqual({
      status: 400,
      body: { __type: 'ThrottlingException', message: 'Rate exceeded' },
      logged: [],
    });
  });

  it('Scheduler: ThrottlingException, HTTP 429', async () => {
    const response = await handleSchedulerRequest(throttlingContext(), {
      method: 'GET',
      url: '/schedules',
      headers: {},
      body: '',
      requestId: 'throttled',
    });
    expect({ status: response.statusCode, type: response.headers['x-amzn-errortype'] }).toEqual({ status: 429, type: 'ThrottlingException' });
  });
});

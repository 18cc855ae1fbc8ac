/**
 * Runs generated requests (ecs-requests.ts) against a real Berth API server on DynamoDB Local and
 * checks the invariants of issue 7 on every answer:
 *  - every request is answered, never with a 5xx;
 *  - a 4xx carries an ECS error name the operation may answer (its model errors, or a protocol error);
 *  - a request whose defect must fail gets a 4xx;
 *  - after a refused mutating request the table is item for item what it was (scanned before and after);
 *  - a 2xx validates against the operation's output shape: types, required members, enum values,
 *    and no member the model does not declare.
 * Used by the seeded sample in `npm test` (ecs-fuzz.test.ts) and by `npm run fuzz` at any size.
 * Imports no test framework, so the bench script can run it on its own.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { ensureTable } from '../../src/adapters/dynamodb/create-table';
import { createLocalDocumentClient, LOCAL_CREDENTIALS, LOCAL_DYNAMODB_REGION } from '../../src/adapters/dynamodb/document-client';
import { operationModel, validateShape } from '../../src/api/ecs-model';
import { createBerthContext } from '../../src/app/create-context';
import { startEcsHttpServer, type RunningServer } from '../../src/local/http-server';
import { shape as schedulerShape } from '../../src/api/scheduler-model';
import { FUZZ_ACCOUNT, FUZZ_REGION, fuzzCase, isMutating, type FuzzFixtures, type FuzzRequest } from './ecs-requests';
import { isSchedulerMutating, SCHEDULER_FIXTURES, schedulerFuzzCase, schedulerOperation, type SchedulerFuzzRequest } from './scheduler-requests';

/** Errors any operation may answer at the protocol level, before an operation is known or read. */
const PROTOCOL_ERRORS = new Set(['SerializationException', 'UnknownOperationException']);

export interface FuzzFailure {
  readonly invariant: string;
  readonly request: FuzzRequest | SchedulerFuzzRequest;
  readonly status?: number;
  readonly answer?: string;
}

export interface FuzzReport {
  readonly cases: number;
  readonly seed: number;
  readonly failures: FuzzFailure[];
  /** Answers by HTTP status class and defect, e.g. `none 2xx: 812`. */
  readonly outcomes: Record<string, number>;
  /** Requests without a defect, by operation and whether Berth accepted them, e.g. `RunTask accepted: 12`. */
  readonly byOperation: Record<string, number>;
  readonly elapsedMs: number;
}

export interface FuzzOptions {
  /** Which API to fuzz: ECS (AWS JSON 1.1) or EventBridge Scheduler (rest-json). Default ECS. */
  readonly api?: 'ecs' | 'scheduler';
  readonly endpoint: string;
  readonly cases: number;
  readonly seed: number;
  /** Cases per fresh table (state grows with every accepted write; a fresh table keeps scans cheap). */
  readonly batchSize?: number;
  readonly onBatch?: (done: number, report: FuzzReport) => void;
}

interface Server {
  readonly server: RunningServer;
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly fixtures: FuzzFixtures;
  close(): Promise<void>;
}

async function send(url: string, request: { method: string; target?: string; body: string | Uint8Array }) {
  const response = await fetch(url, {
    method: request.method,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      ...(request.target !== undefined ? { 'x-amz-target': request.target } : {}),
    },
    ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body: request.body }),
  });
  return { status: response.status, text: await response.text() };
}

async function call(url: string, operation: string, input: unknown): Promise<any> {
  const { status, text } = await send(url, { method: 'POST', target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(input) });
  if (status !== 200) throw new Error(`fixture ${operation} failed: ${status} ${text}`);
  return JSON.parse(text);
}

/** A fresh table and API server with the resources generated references point at. */
async function startServer(endpoint: string): Promise<Server> {
  const doc = createLocalDocumentClient(endpoint);
  const tableName = `berth-fuzz-${randomUUID()}`;
  const raw = new DynamoDBClient({ endpoint, region: LOCAL_DYNAMODB_REGION, credentials: LOCAL_CREDENTIALS });
  await ensureTable(raw, tableName);
  raw.destroy();
  const context = createBerthContext({ doc, tableName, account: FUZZ_ACCOUNT, region: FUZZ_REGION });
  const server = await startEcsHttpServer(context, '127.0.0.1', 0);
  const url = server.url;
  await call(url, 'CreateCluster', { clusterName: 'fz', tags: [{ key: 'team', value: 'a' }] });
  await call(url, 'CreateCluster', { clusterName: 'fz-empty' });
  await call(url, 'CreateCluster', { clusterName: 'default' });
  await call(url, 'RegisterTaskDefinition', { family: 'fz-web', containerDefinitions: [{ name: 'app', image: 'nginx:latest', memory: 128 }] });
  const instance = await call(url, 'RegisterContainerInstance', {
    cluster: 'fz',
    totalResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 4096 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 8192 },
    ],
  });
  const run = await call(url, 'RunTask', { cluster: 'fz', taskDefinition: 'fz-web', count: 2 });
  return {
    server,
    doc,
    tableName,
    fixtures: {
      taskArns: run.tasks.map((t: { taskArn: string }) => t.taskArn),
      containerInstanceArns: [instance.containerInstance.containerInstanceArn],
    },
    async close() {
      await server.close();
      doc.destroy();
    },
  };
}

async function scan(server: Server): Promise<string> {
  const items: unknown[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await server.doc.send(new ScanCommand({ TableName: server.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.map((item) => JSON.stringify(item)).sort().join('\n');
}

/** Checks one request's answer; returns the invariant it broke, if any. */
async function check(server: Server, request: FuzzRequest): Promise<{ failure?: Omit<FuzzFailure, 'request'>; outcome: string }> {
  const mutating = isMutating(request.operation);
  const before = mutating ? await scan(server) : undefined;
  let answer: { status: number; text: string };
  try {
    answer = await send(server.server.url, request);
  } catch (error) {
    return { failure: { invariant: `no answer: ${(error as Error).message}` }, outcome: 'no answer' };
  }
  const outcome = `${request.defect} ${Math.floor(answer.status / 100)}xx`;
  const fail = (invariant: string) => ({ failure: { invariant, status: answer.status, answer: answer.text.slice(0, 600) }, outcome });
  if (answer.status >= 500) return fail('5xx');
  let json: any;
  try {
    json = JSON.parse(answer.text);
  } catch {
    return fail('answer is not JSON');
  }
  if (answer.status >= 400 && answer.status < 500) {
    const model = operationModel(request.operation)!;
    const allowed = PROTOCOL_ERRORS.has(json.__type) || model.errors.includes(json.__type);
    if (!allowed) return fail(`4xx with an error name ${request.operation} does not declare: ${json.__type}`);
    if (typeof json.message !== 'string') return fail('4xx without a message');
    if (mutating && (await scan(server)) !== before) return fail('a refused write changed the table');
    return { outcome };
  }
  if (answer.status !== 200) return fail(`unexpected status ${answer.status}`);
  if (request.mustFail) return fail('a request that must fail was accepted');
  try {
    validateShape(operationModel(request.operation)!.output!, json, '', { rejectUnknownMembers: true });
  } catch (error) {
    return fail(`response does not match ${operationModel(request.operation)!.output}: ${(error as Error).message}`);
  }
  return { outcome };
}

async function sendScheduler(url: string, request: { method: string; url: string; body: string | Uint8Array }) {
  const response = await fetch(`${url}${request.url}`, {
    method: request.method,
    headers: { 'content-type': 'application/json' },
    ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body: request.body }),
  });
  return { status: response.status, text: await response.text(), errorType: response.headers.get('x-amzn-errortype') ?? undefined };
}

/** The Scheduler resources generated references point at (a group and a schedule in the default group). */
async function schedulerFixtures(url: string): Promise<void> {
  const target = {
    Arn: `arn:aws:ecs:${FUZZ_REGION}:${FUZZ_ACCOUNT}:cluster/fz`,
    RoleArn: `arn:aws:iam::${FUZZ_ACCOUNT}:role/scheduler`,
    EcsParameters: { TaskDefinitionArn: `arn:aws:ecs:${FUZZ_REGION}:${FUZZ_ACCOUNT}:task-definition/fz-web:1` },
  };
  for (const [path, body] of [
    [`/schedule-groups/${SCHEDULER_FIXTURES.group}`, {}],
    [`/schedules/${SCHEDULER_FIXTURES.schedule}`, { ScheduleExpression: 'rate(1 hour)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: target, State: 'DISABLED' }],
  ] as const) {
    const answer = await sendScheduler(url, { method: 'POST', url: path, body: JSON.stringify(body) });
    if (answer.status !== 200) throw new Error(`fixture ${path} failed: ${answer.status} ${answer.text}`);
  }
}

/**
 * A Scheduler output value against its shape: types (timestamps as epoch seconds), required members,
 * enum values, and no member the model does not declare. Returns the first problem.
 */
export function schedulerOutputProblem(shapeName: string, value: unknown, path = 'output'): string | undefined {
  const definition = schedulerShape(shapeName);
  switch (definition.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} is not an object`;
      const record = value as Record<string, unknown>;
      for (const required of definition.required ?? []) if (!Object.hasOwn(record, required)) return `${path}.${required} is missing`;
      for (const [name, member] of Object.entries(record)) {
        const ref = definition.members && Object.hasOwn(definition.members, name) ? definition.members[name] : undefined;
        if (!ref) return `${path}.${name} is not in the model`;
        const problem = schedulerOutputProblem(ref.shape, member, `${path}.${name}`);
        if (problem) return problem;
      }
      return undefined;
    }
    case 'list':
      if (!Array.isArray(value)) return `${path} is not a list`;
      for (const [i, item] of value.entries()) {
        const problem = schedulerOutputProblem(definition.member!.shape, item, `${path}[${i}]`);
        if (problem) return problem;
      }
      return undefined;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} is not a map`;
      for (const [key, item] of Object.entries(value)) {
        const problem = schedulerOutputProblem(definition.value!.shape, item, `${path}.${key}`);
        if (problem) return problem;
      }
      return undefined;
    case 'string':
      if (typeof value !== 'string') return `${path} is not a string`;
      return definition.enum && !definition.enum.includes(value) ? `${path} = ${value} is not in its enum` : undefined;
    case 'integer':
    case 'long':
      return Number.isInteger(value) ? undefined : `${path} is not an integer`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${path} is not a boolean`;
    case 'timestamp':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `${path} is not epoch seconds`;
    default:
      return undefined;
  }
}

async function checkScheduler(server: Server, request: SchedulerFuzzRequest): Promise<{ failure?: Omit<FuzzFailure, 'request'>; outcome: string }> {
  const mutating = isSchedulerMutating(request.operation);
  const before = mutating ? await scan(server) : undefined;
  let answer: Awaited<ReturnType<typeof sendScheduler>>;
  try {
    answer = await sendScheduler(server.server.url, request);
  } catch (error) {
    return { failure: { invariant: `no answer: ${(error as Error).message}` }, outcome: 'no answer' };
  }
  const outcome = `${request.defect} ${Math.floor(answer.status / 100)}xx`;
  const fail = (invariant: string) => ({ failure: { invariant, status: answer.status, answer: `${answer.errorType ?? ''} ${answer.text.slice(0, 600)}` }, outcome });
  if (answer.status >= 500) return fail('5xx');
  let json: any;
  try {
    json = JSON.parse(answer.text);
  } catch {
    return fail('answer is not JSON');
  }
  const operation = schedulerOperation(request.operation);
  if (answer.status >= 400 && answer.status < 500) {
    if (!answer.errorType || !operation.errors.includes(answer.errorType)) {
      return fail(`4xx with an error name ${request.operation} does not declare: ${answer.errorType}`);
    }
    if (typeof json.Message !== 'string') return fail('4xx without a Message');
    if (mutating && (await scan(server)) !== before) return fail('a refused write changed the table');
    return { outcome };
  }
  if (answer.status !== (operation.http.responseCode ?? 200)) return fail(`unexpected status ${answer.status}`);
  if (request.mustFail) return fail('a request that must fail was accepted');
  const problem = operation.output ? schedulerOutputProblem(operation.output, json) : undefined;
  if (problem) return fail(`response does not match ${operation.output}: ${problem}`);
  return { outcome };
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 500;
  const failures: FuzzFailure[] = [];
  const outcomes: Record<string, number> = {};
  const byOperation: Record<string, number> = {};
  const report = (cases: number): FuzzReport => ({ cases, seed: options.seed, failures, outcomes, byOperation, elapsedMs: Date.now() - started });
  let done = 0;
  for (let batch = 0; done < options.cases; batch++) {
    const server = await startServer(options.endpoint);
    try {
      const size = Math.min(batchSize, options.cases - done);
      // Each batch has its own seed derived from the run's, so any batch can be replayed alone.
      const scheduler = options.api === 'scheduler';
      if (scheduler) await schedulerFixtures(server.server.url);
      const requests: (FuzzRequest | SchedulerFuzzRequest)[] = scheduler
        ? fc.sample(schedulerFuzzCase(), { seed: options.seed + batch, numRuns: size })
        : fc.sample(fuzzCase(server.fixtures), { seed: options.seed + batch, numRuns: size });
      for (const request of requests) {
        const { failure, outcome } = scheduler
          ? await checkScheduler(server, request as SchedulerFuzzRequest)
          : await check(server, request as FuzzRequest);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (request.defect === 'none') {
          const accepted = `${request.operation} ${outcome.endsWith('2xx') ? 'accepted' : 'refused'}`;
          byOperation[accepted] = (byOperation[accepted] ?? 0) + 1;
        }
        if (failure) failures.push({ ...failure, request: { ...request, body: preview(request.body) } });
      }
      done += size;
    } finally {
      await server.close();
    }
    options.onBatch?.(done, report(done));
  }
  return report(done);
}

function preview(body: string | Uint8Array): string {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('latin1');
  return text.length > 600 ? `${text.slice(0, 600)}... (${text.length} chars)` : text;
}


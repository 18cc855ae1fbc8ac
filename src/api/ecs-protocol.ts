/**
 * The ECS wire protocol (AWS JSON 1.1) independent of transport: the local HTTP server and the API
 * Gateway Lambda both turn their requests into an EcsHttpRequest and send back the EcsHttpResponse.
 */
import { MAX_JSON_DEPTH, nestingExceeds } from './json-depth';
import type { Scope } from '../domain/arns';
import { BerthError, SerializationException, UnknownOperationException } from '../domain/errors';
import { asClientError } from './client-errors';
import type { BerthContext } from '../app/context';
import { declaredOnly, operationModel, TARGET_PREFIX, validateShape } from './ecs-model';
import { EXTENSION_OPERATIONS, EXTENSION_TARGET_PREFIX, OPERATIONS } from './operations';
import { toWire } from './to-wire';
import { unsupportedOperation } from './unsupported-operations';

export interface EcsHttpRequest {
  readonly method: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  readonly requestId: string;
  /** Aborted when the client disconnects. */
  readonly signal?: AbortSignal;
}

export interface EcsHttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ProtocolLogger {
  error(message: string, error: unknown): void;
}

/** The region of a SigV4-signed request (its credential scope), as LocalStack reads it. */
export function regionOfRequest(headers: EcsHttpRequest['headers']): string | undefined {
  const match = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\//.exec(headers['authorization'] ?? '');
  return match?.[1];
}

export async function handleEcsRequest(
  context: BerthContext,
  request: EcsHttpRequest,
  logger: ProtocolLogger = console,
): Promise<EcsHttpResponse> {
  const respond = (statusCode: number, payload: unknown): EcsHttpResponse => ({
    statusCode,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': request.requestId },
    body: JSON.stringify(payload),
  });
  try {
    const { operation, extension } = operationName(request);
    const input = parseBody(request.body);
    const scope: Scope = { account: context.account, region: regionOfRequest(request.headers) ?? context.defaultRegion };
    const requestContext = { ...context, scope, endpoint: endpointOf(request.headers), signal: request.signal };
    if (extension) {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new SerializationException('The request body must be a JSON object.');
      }
      return respond(200, await EXTENSION_OPERATIONS[operation](requestContext, input));
    }
    const model = operationModel(operation)!;
    if (model.input) validateShape(model.input, input);
    if (!Object.hasOwn(OPERATIONS, operation)) throw unsupportedOperation(operation);
    const output = await OPERATIONS[operation](requestContext, model.input ? readInput(operation, model.input, input) : {});
    return respond(200, model.output ? toWire(model.output, output) : {});
  } catch (thrown) {
    const error = asClientError(thrown);
    if (error instanceof BerthError) {
      return respond(error.statusCode, { __type: error.name, message: error.message });
    }
    logger.error(`request ${request.requestId} failed`, error);
    return respond(500, { __type: 'ServerException', message: 'An internal error occurred. Retry the request.' });
  }
}

/**
 * Members Berth's own agent adds to ECS operations (docs/agent.md), with the model shape each takes.
 * Every other undeclared member is dropped before the use case runs.
 */
const EXTENSION_MEMBERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  SubmitContainerStateChange: { healthStatus: 'HealthStatus', containerInstance: 'String' },
  SubmitTaskStateChange: { stopCode: 'TaskStopCode', containerInstance: 'String' },
};

/** The validated input as the use case gets it: declared members, plus the operation's extension members. */
function readInput(operation: string, inputShape: string, input: unknown): unknown {
  const declared = declaredOnly(inputShape, input) as Record<string, unknown>;
  const extensions = Object.hasOwn(EXTENSION_MEMBERS, operation) ? EXTENSION_MEMBERS[operation] : {};
  const record = input as Record<string, unknown>;
  for (const [name, shape] of Object.entries(extensions)) {
    if (!Object.hasOwn(record, name) || record[name] === null || record[name] === undefined) continue;
    validateShape(shape, record[name], name);
    declared[name] = declaredOnly(shape, record[name]);
  }
  return declared;
}

function operationName(request: EcsHttpRequest): { operation: string; extension: boolean } {
  const target = request.headers['x-amz-target'] ?? '';
  // Exactly `<prefix>.<operation>`: `...ListClusters.Extra` names no operation.
  const parts = target.split('.');
  const [prefix, operation] = parts;
  if (request.method === 'POST' && parts.length === 2 && operation) {
    // An operation of the model Berth does not serve is answered UnsupportedFeatureException after validation.
    if (prefix === TARGET_PREFIX && operationModel(operation)) return { operation, extension: false };
    if (prefix === EXTENSION_TARGET_PREFIX && Object.hasOwn(EXTENSION_OPERATIONS, operation)) {
      return { operation, extension: true };
    }
  }
  throw new UnknownOperationException(
    target ? `The operation ${target} is not supported by Berth.` : 'Missing X-Amz-Target header.',
  );
}

/** The URL clients used to reach this API (what DiscoverPollEndpoint hands to agents). */
function endpointOf(headers: EcsHttpRequest['headers']): string | undefined {
  const host = headers['host'];
  if (!host) return undefined;
  return `${headers['x-forwarded-proto'] ?? 'http'}://${host}`;
}

function parseBody(body: string): unknown {
  if (body.trim() === '') return {};
  if (nestingExceeds(body, MAX_JSON_DEPTH)) {
    throw new SerializationException(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new SerializationException('The request body is not valid JSON.');
  }
}

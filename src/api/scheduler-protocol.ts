/**
 * The EventBridge Scheduler wire protocol (rest-json), served next to the ECS API on the same port:
 * each operation is a method and a path (`POST /schedules/{Name}`), its input spread over the path,
 * the query string and a JSON body, as the model's `http` traits and member locations say. Errors go
 * out with the model's status codes (ValidationException 400, ResourceNotFoundException 404,
 * ConflictException 409) and their name in `x-amzn-errortype`.
 */
import { MAX_JSON_DEPTH, nestingExceeds } from './json-depth';
import { BerthError, ValidationException } from '../domain/errors';
import { asClientError } from './client-errors';
import type { Scope } from '../domain/arns';
import type { BerthContext, RequestContext } from '../app/context';
import * as schedules from '../app/schedules';
import { regionOfRequest, type EcsHttpResponse, type ProtocolLogger } from './ecs-protocol';
import { errorStatus, SCHEDULER_OPERATIONS, shape, toSchedulerWire, validateSchedulerShape, type SchedulerOperationModel } from './scheduler-model';

export interface SchedulerHttpRequest {
  readonly method: string;
  /** The request target: path and query string, as received. */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  readonly requestId: string;
}

type UseCase = (ctx: RequestContext, input: any) => Promise<unknown>;
const USE_CASES: Readonly<Record<string, UseCase>> = {
  CreateSchedule: schedules.createSchedule,
  GetSchedule: schedules.getSchedule,
  UpdateSchedule: schedules.updateSchedule,
  DeleteSchedule: schedules.deleteSchedule,
  ListSchedules: schedules.listSchedules,
  CreateScheduleGroup: schedules.createScheduleGroup,
  GetScheduleGroup: schedules.getScheduleGroup,
  DeleteScheduleGroup: schedules.deleteScheduleGroup,
  ListScheduleGroups: schedules.listScheduleGroups,
  TagResource: schedules.tagResource,
  UntagResource: schedules.untagResource,
  ListTagsForResource: schedules.listTagsForResource,
};

const PATH_PREFIXES = ['/schedules', '/schedule-groups', '/tags/'];

/**
 * True for a request meant for Scheduler: ECS requests are POSTs to `/` with X-Amz-Target, Scheduler's
 * have no target and a path of their own.
 */
export function isSchedulerRequest(url: string, headers: Readonly<Record<string, string | undefined>>): boolean {
  if (headers['x-amz-target']) return false;
  const path = url.split('?')[0];
  return PATH_PREFIXES.some((prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));
}

interface Route {
  readonly operation: SchedulerOperationModel;
  readonly pattern: RegExp;
  readonly labels: readonly string[];
}

// A label matches one path segment; the last one takes the rest of the path, because clients differ
// in whether they escape the `/` inside an ARN (`/tags/arn:aws:scheduler:...:schedule-group/name`).
const ROUTES: readonly Route[] = SCHEDULER_OPERATIONS.map((operation) => {
  const labels: string[] = [];
  const segments = operation.http.requestUri.split('?')[0].split('/');
  const source = segments
    .map((segment, index) => {
      const label = /^\{(\w+)\+?\}$/.exec(segment);
      if (!label) return segment.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
      labels.push(label[1]);
      return index === segments.length - 1 ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { operation, pattern: new RegExp(`^${source}$`), labels };
});

class RouteNotFound extends BerthError {
  override readonly name = 'ValidationException';
  override readonly statusCode = 404;
}

function route(method: string, path: string): { operation: SchedulerOperationModel; labels: Record<string, string> } {
  for (const candidate of ROUTES) {
    if (candidate.operation.http.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    const labels = Object.fromEntries(candidate.labels.map((label, index) => [label, decodeLabel(match[index + 1])]));
    return { operation: candidate.operation, labels };
  }
  throw new RouteNotFound(`No Scheduler operation is served at ${method} ${path}.`);
}

/** A path label as the client meant it; broken percent-encoding is the client's error, not ours. */
function decodeLabel(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ValidationException(`The request path holds invalid percent-encoding: ${text.slice(0, 100)}`);
  }
}

/** Gathers the input members from the path labels, the query string and the JSON body. */
function readInput(operation: SchedulerOperationModel, labels: Record<string, string>, query: URLSearchParams, body: string) {
  let input: Record<string, unknown> = {};
  if (body.trim() !== '') {
    if (nestingExceeds(body)) throw new ValidationException(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new ValidationException('The request body is not valid JSON.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ValidationException('The request body must be a JSON object.');
    }
    input = parsed as Record<string, unknown>;
  }
  if (!operation.input) return input;
  for (const [member, ref] of Object.entries(shape(operation.input).members ?? {})) {
    const wireName = (ref as { locationName?: string }).locationName ?? member;
    const location = (ref as { location?: string }).location;
    if (location === 'uri' && labels[wireName] !== undefined) input[member] = labels[wireName];
    if (location === 'querystring') {
      const values = query.getAll(wireName);
      if (values.length === 0) continue;
      const type = shape((ref as { shape: string }).shape).type;
      input[member] = type === 'list' ? values : type === 'integer' ? toInteger(values[0]) : values[0];
    }
  }
  return input;
}

const toInteger = (text: string) => (/^-?\d+$/.test(text) ? Number(text) : text);

export async function handleSchedulerRequest(
  context: BerthContext,
  request: SchedulerHttpRequest,
  logger: ProtocolLogger = console,
): Promise<EcsHttpResponse> {
  const headers = { 'content-type': 'application/json', 'x-amzn-requestid': request.requestId };
  try {
    const url = new URL(request.url, 'http://berth.local');
    const { operation, labels } = route(request.method, url.pathname);
    const input = readInput(operation, labels, url.searchParams, request.body);
    if (operation.input) validateSchedulerShape(operation.input, input);
    const scope: Scope = { account: context.account, region: regionOfRequest(request.headers) ?? context.defaultRegion };
    const output = await USE_CASES[operation.name]({ ...context, scope }, input);
    const body = operation.output ? toSchedulerWire(operation.output, output) : {};
    return { statusCode: operation.http.responseCode ?? 200, headers, body: JSON.stringify(body ?? {}) };
  } catch (thrown) {
    const error = asClientError(thrown);
    if (error instanceof BerthError) {
      // Errors Scheduler does not have (a shared helper's ECS error) reach clients as ValidationException.
      const status = error.statusCode === 404 ? 404 : errorStatus(error.name);
      const name = status === undefined ? 'ValidationException' : error.name;
      return {
        statusCode: status ?? 400,
        headers: { ...headers, 'x-amzn-errortype': name },
        body: JSON.stringify({ Message: error.message }),
      };
    }
    logger.error(`request ${request.requestId} failed`, error);
    return {
      statusCode: 500,
      headers: { ...headers, 'x-amzn-errortype': 'InternalServerException' },
      body: JSON.stringify({ Message: 'An internal error occurred. Retry the request.' }),
    };
  }
}

/**
 * Request generators derived from the EventBridge Scheduler model (src/api/model/scheduler-model.json,
 * the compacted /work/shared/reference/scheduler-service-2.json), the Scheduler half of the fuzz suite.
 * Scheduler speaks rest-json: a generated input is spread over the path (its `uri` members), the query
 * string (`querystring` members) and a JSON body (the rest), as the model's http traits say. Invalid
 * requests are a valid one with one defect; `mustFail` says whether the defect alone must fail.
 */
import fc from 'fast-check';
import { MAX_JSON_DEPTH } from '../../src/api/json-depth';
import { SCHEDULER_OPERATIONS, shape, type SchedulerOperationModel } from '../../src/api/scheduler-model';
import { MAX_BODY_BYTES } from '../../src/local/http-server';
import { FUZZ_ACCOUNT, FUZZ_REGION, PROTOTYPE_NAMES, type Defect } from './ecs-requests';

export const SCHEDULER_FIXTURES = { group: 'fz-group', schedule: 'fz-sched' } as const;
const GROUP_ARN = (name: string) => `arn:aws:scheduler:${FUZZ_REGION}:${FUZZ_ACCOUNT}:schedule-group/${name}`;

export interface SchedulerFuzzRequest {
  readonly operation: string;
  readonly defect: Defect | 'bad-label';
  readonly mustFail: boolean;
  readonly method: string;
  /** Path and query string. */
  readonly url: string;
  readonly body: string | Uint8Array;
  readonly note: string;
}

const operations = new Map(SCHEDULER_OPERATIONS.map((o) => [o.name, o]));
export const schedulerOperation = (name: string): SchedulerOperationModel => operations.get(name)!;
export const isSchedulerMutating = (operation: string) => schedulerOperation(operation).http.method !== 'GET';

/** Strings for shapes whose pattern or meaning a random string would rarely satisfy. */
const POOLS: Record<string, readonly string[]> = {
  Name: [SCHEDULER_FIXTURES.schedule, 'fz-new', 'fz-new2', 'ghost'],
  ScheduleGroupName: ['default', SCHEDULER_FIXTURES.group, 'fz-new-group'],
  NamePrefix: ['fz', 'gh'],
  ScheduleGroupNamePrefix: ['fz', 'de'],
  TagResourceArn: [GROUP_ARN(SCHEDULER_FIXTURES.group), GROUP_ARN('default'), GROUP_ARN('ghost')],
  RoleArn: [`arn:aws:iam::${FUZZ_ACCOUNT}:role/scheduler`],
  TargetArn: [`arn:aws:ecs:${FUZZ_REGION}:${FUZZ_ACCOUNT}:cluster/fz`, `arn:aws:ecs:${FUZZ_REGION}:${FUZZ_ACCOUNT}:cluster/ghost`],
  TaskDefinitionArn: [`arn:aws:ecs:${FUZZ_REGION}:${FUZZ_ACCOUNT}:task-definition/fz-web:1`],
  ScheduleExpression: ['rate(5 minutes)', 'rate(1 hour)', 'cron(0 12 * * ? *)', 'at(2030-01-01T00:00:00)'],
  ScheduleExpressionTimezone: ['UTC', 'Europe/Paris'],
  KmsKeyArn: [`arn:aws:kms:${FUZZ_REGION}:${FUZZ_ACCOUNT}:key/fz`],
  DeadLetterConfigArnString: [`arn:aws:sqs:${FUZZ_REGION}:${FUZZ_ACCOUNT}:fz-dlq`],
  Source: ['fz.source'],
  TagKey: ['team', 'env'],
  TagValue: ['a', 'b'],
};

const SAFE = 'abcdefghijklmnopqrstuvwxyz0123456789-_';
const safeString = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...SAFE), minLength: min, maxLength: max });

/**
 * What clients mostly send for shapes whose members depend on each other (a FLEXIBLE window needs its
 * maximum; Berth runs ECS targets): drawn most of the time, the model-random value the rest.
 */
const SENSIBLE: Record<string, () => fc.Arbitrary<unknown>> = {
  FlexibleTimeWindow: () =>
    fc.oneof(fc.constant({ Mode: 'OFF' }), fc.integer({ min: 1, max: 1440 }).map((minutes) => ({ Mode: 'FLEXIBLE', MaximumWindowInMinutes: minutes }))),
  Target: () =>
    fc.record(
      {
        Arn: fc.constantFrom(...POOLS.TargetArn),
        RoleArn: fc.constantFrom(...POOLS.RoleArn),
        EcsParameters: fc.record(
          {
            TaskDefinitionArn: fc.constantFrom(...POOLS.TaskDefinitionArn),
            TaskCount: fc.integer({ min: 1, max: 10 }),
            LaunchType: fc.constantFrom('FARGATE', 'EC2'),
            Group: safeString(1, 8),
          },
          { requiredKeys: ['TaskDefinitionArn'] },
        ),
      },
      { requiredKeys: ['Arn', 'RoleArn', 'EcsParameters'] },
    ),
};

/** Top-level members a client rarely sends: kept rare, so most valid requests are plain ones. */
const RARE = new Set(['StartDate', 'EndDate', 'KmsKeyArn', 'ScheduleExpressionTimezone', 'ActionAfterCompletion']);

/** A value of `shapeName` satisfying every model constraint. */
function validValue(shapeName: string, depth = 0): fc.Arbitrary<unknown> {
  if (Object.hasOwn(SENSIBLE, shapeName) && depth < 2) {
    return fc.oneof({ weight: 4, arbitrary: SENSIBLE[shapeName]() }, { weight: 1, arbitrary: modelValue(shapeName, depth) });
  }
  return modelValue(shapeName, depth);
}

function modelValue(shapeName: string, depth: number): fc.Arbitrary<unknown> {
  const definition = shape(shapeName);
  switch (definition.type) {
    case 'structure': {
      const required = new Set(definition.required ?? []);
      const members = Object.entries(definition.members ?? {}).filter(([name]) => depth < 4 || required.has(name));
      const parts = members.map(([name, ref]) => {
        const value = validValue(ref.shape, depth + 1);
        const absent = depth === 0 ? (RARE.has(name) ? 12 : 3) : 8;
        const optional = fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: value });
        return fc.tuple(fc.constant(name), required.has(name) ? value : optional);
      });
      return fc.tuple(...parts).map((entries) => Object.fromEntries(entries.filter(([, v]) => v !== undefined)));
    }
    case 'list': {
      const min = definition.min ?? 0;
      return fc.array(validValue(definition.member!.shape, depth + 1), { minLength: min, maxLength: Math.max(min, Math.min(definition.max ?? 3, 3)) });
    }
    case 'map':
      return fc.dictionary(safeString(1, 8), validValue(definition.value!.shape, depth + 1), { maxKeys: 2 });
    case 'string': {
      if (definition.enum) return fc.constantFrom(...definition.enum);
      const pool = Object.hasOwn(POOLS, shapeName) ? POOLS[shapeName] : undefined;
      if (pool) return fc.constantFrom(...pool);
      const min = definition.min ?? 0;
      const max = Math.max(1, min, Math.min(definition.max ?? 16, 16));
      return safeString(Math.max(1, min), max);
    }
    case 'integer':
    case 'long': {
      const min = definition.min ?? 0;
      return fc.integer({ min, max: Math.max(min, Math.min(definition.max ?? 100, 100)) });
    }
    case 'boolean':
      return fc.boolean();
    case 'timestamp':
      return fc.integer({ min: 1_600_000_000, max: 1_950_000_000 });
    default:
      return fc.string();
  }
}

interface Site {
  readonly path: readonly (string | number)[];
  readonly shapeName: string;
  readonly value: unknown;
}

function sitesOf(shapeName: string, value: unknown, path: (string | number)[] = []): Site[] {
  const definition = shape(shapeName);
  const here = { path, shapeName, value };
  if (definition.type === 'structure') {
    return [here, ...Object.entries(value as Record<string, unknown>).flatMap(([n, v]) => sitesOf(definition.members![n].shape, v, [...path, n]))];
  }
  if (definition.type === 'list') return [here, ...(value as unknown[]).flatMap((v, i) => sitesOf(definition.member!.shape, v, [...path, i]))];
  return [here];
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
function replaceAt(root: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = clone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  Object.defineProperty(parent, path[path.length - 1], { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** The wire form of an input: path labels filled in, query string, and the body members. */
function wire(operation: SchedulerOperationModel, input: Record<string, unknown>) {
  const members = operation.input ? shape(operation.input).members ?? {} : {};
  const labels: Record<string, string> = {};
  const query = new URLSearchParams();
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    const ref = Object.hasOwn(members, name) ? members[name] : undefined;
    if (ref?.location === 'uri') labels[ref.locationName ?? name] = String(value);
    else if (ref?.location === 'querystring') for (const item of Array.isArray(value) ? value : [value]) query.append(ref.locationName ?? name, String(item));
    else body[name] = value;
  }
  const path = operation.http.requestUri.split('?')[0].replace(/\{(\w+)\+?\}/g, (_, label: string) => encodeURIComponent(labels[label] ?? ''));
  const search = query.toString();
  return { url: search ? `${path}?${search}` : path, body, labels };
}

/** The body-member part of the input shape: only there do JSON-level defects apply. */
function bodySites(operation: SchedulerOperationModel, body: Record<string, unknown>): Site[] {
  if (!operation.input) return [];
  const members = shape(operation.input).members ?? {};
  return Object.entries(body).flatMap(([name, value]) => sitesOf(members[name].shape, value, [name]));
}

const DEFECTS: readonly { defect: SchedulerFuzzRequest['defect']; weight: number }[] = [
  { defect: 'missing-required', weight: 6 },
  { defect: 'wrong-type', weight: 8 },
  { defect: 'out-of-range', weight: 4 },
  { defect: 'over-long', weight: 5 },
  { defect: 'bad-enum', weight: 4 },
  { defect: 'unknown-member', weight: 4 },
  { defect: 'prototype-member', weight: 5 },
  { defect: 'deep-nesting', weight: 3 },
  { defect: 'huge-body', weight: 1 },
  { defect: 'invalid-utf8', weight: 2 },
  { defect: 'wrong-method', weight: 2 },
  { defect: 'malformed-json', weight: 3 },
  { defect: 'bad-label', weight: 4 },
];

interface Choice {
  pick<T>(items: readonly T[]): T;
  int(min: number, max: number): number;
}

function wrongTypeFor(type: string): unknown[] {
  if (type === 'structure' || type === 'map') return [[], 'x', 7];
  if (type === 'list') return [{}, 'x', 7];
  if (type === 'string') return [7, true, {}];
  if (type === 'integer' || type === 'long') return ['7', 1.5, true];
  if (type === 'boolean') return ['true', 1];
  if (type === 'timestamp') return ['not a date', true, {}];
  return [{}];
}

/** Applies `defect` to a valid `input`; undefined when it has no place there (the caller picks another). */
export function applySchedulerDefect(
  operation: SchedulerOperationModel,
  input: Record<string, unknown>,
  defect: Exclude<SchedulerFuzzRequest['defect'], 'none'>,
  choose: Choice,
): SchedulerFuzzRequest | undefined {
  const { url, body, labels } = wire(operation, input);
  const method = operation.http.method;
  const request = (payload: unknown, mustFail: boolean, note: string, extra: Partial<SchedulerFuzzRequest> = {}): SchedulerFuzzRequest => ({
    operation: operation.name,
    defect,
    mustFail,
    method,
    url,
    body: typeof payload === 'string' || payload instanceof Uint8Array ? payload : JSON.stringify(payload),
    note,
    ...extra,
  });
  const sites = bodySites(operation, body);
  const where = (site: Site) => site.path.join('.');
  // A GET carries no body: only the path and the method can be wrong.
  if (method === 'GET' && !['bad-label', 'wrong-method'].includes(defect)) return undefined;
  switch (defect) {
    case 'missing-required': {
      const required = operation.input ? (shape(operation.input).required ?? []).filter((name) => Object.hasOwn(body, name)) : [];
      const nested = sites.filter((s) => s.path.length > 0 && shape(s.shapeName).type === 'structure' && (shape(s.shapeName).required ?? []).length > 0);
      if (!required.length && !nested.length) return undefined;
      if (required.length && (choose.int(0, 1) === 0 || !nested.length)) {
        const name = choose.pick(required);
        const { [name]: _dropped, ...rest } = body;
        return request(rest, true, `without ${name}`);
      }
      const site = choose.pick(nested);
      const name = choose.pick(shape(site.shapeName).required!);
      const { [name]: _dropped, ...rest } = site.value as Record<string, unknown>;
      return request(replaceAt(body, site.path, rest), true, `${where(site)} without ${name}`);
    }
    case 'wrong-type': {
      const candidates = sites.filter((s) => s.path.length > 0);
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      const replacement = choose.pick(wrongTypeFor(shape(site.shapeName).type));
      return request(replaceAt(body, site.path, replacement), true, `${where(site)} = ${JSON.stringify(replacement)}`);
    }
    case 'out-of-range': {
      const candidates = sites.filter((s) => ['integer', 'long'].includes(shape(s.shapeName).type));
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      const definition = shape(site.shapeName);
      const literal = choose.pick(['2147483648', '-2147483649', '1e300', ...(definition.min !== undefined ? [String(definition.min - 1)] : []), ...(definition.max !== undefined ? [String(definition.max + 1)] : [])]);
      const text = JSON.stringify(replaceAt(body, site.path, '__OUT_OF_RANGE__')).replace('"__OUT_OF_RANGE__"', literal);
      return request(text, true, `${where(site)} = ${literal}`);
    }
    case 'over-long': {
      const candidates = sites.filter((s) => shape(s.shapeName).max !== undefined && shape(s.shapeName).max! <= 5000 && ['string', 'list'].includes(shape(s.shapeName).type));
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      const definition = shape(site.shapeName);
      const replacement = definition.type === 'string' ? 'a'.repeat(definition.max! + 1) : Array.from({ length: definition.max! + 1 }, () => (site.value as unknown[])[0] ?? 'x');
      return request(replaceAt(body, site.path, replacement), true, `${where(site)} of ${definition.max! + 1}`);
    }
    case 'bad-enum': {
      const candidates = sites.filter((s) => shape(s.shapeName).enum);
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      return request(replaceAt(body, site.path, 'NOT_IN_ENUM'), true, where(site));
    }
    case 'unknown-member':
    case 'prototype-member': {
      const candidates = [{ path: [], shapeName: '', value: body } as Site, ...sites.filter((s) => s.path.length > 0 && shape(s.shapeName).type === 'structure')];
      const site = choose.pick(candidates);
      const name = defect === 'prototype-member' ? choose.pick(PROTOTYPE_NAMES) : choose.pick(['extra', 'unknownMember']);
      const value = choose.pick<unknown>([1, 'x', null, {}, [], { [choose.pick(PROTOTYPE_NAMES)]: 1 }]);
      const withMember = { ...(site.value as object) };
      Object.defineProperty(withMember, name, { value, enumerable: true, writable: true, configurable: true });
      return request(replaceAt(body, site.path, withMember), false, `${where(site) || '(body)'}.${name}`);
    }
    case 'deep-nesting': {
      const depth = choose.pick([MAX_JSON_DEPTH + 1, 500, 20000]);
      return request(`{"deep": ${'{"x":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}}`, true, `${depth} levels`);
    }
    case 'huge-body':
      return request(JSON.stringify({ ...body, padding: 'p'.repeat(MAX_BODY_BYTES + choose.int(1, 65536)) }), true, 'over 4 MiB');
    case 'invalid-utf8': {
      const text = JSON.stringify({ ...body, Description: '__BYTES__' });
      const [before, after] = text.split('__BYTES__');
      const bad = choose.pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80]]);
      // Where Description is no member it is an unknown one, ignored: this defect need not fail.
      return request(new Uint8Array(Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)])), false, 'invalid UTF-8');
    }
    case 'wrong-method':
      // No Scheduler operation is a PATCH: no route answers it.
      return request(body, true, `PATCH instead of ${method}`, { method: 'PATCH' });
    case 'malformed-json': {
      const text = JSON.stringify(body);
      if (text === '{}') return undefined;
      const cut = choose.int(1, text.length - 1);
      return request(text.slice(0, cut), true, `cut at ${cut}`);
    }
    case 'bad-label': {
      const names = Object.keys(labels);
      if (!names.length) return undefined;
      const label = choose.pick(names);
      const bad = choose.pick(['%E0%A4%A', '%', 'a'.repeat(2000), '%00', 'a%2Fb']);
      const path = operation.http.requestUri.split('?')[0].replace(/\{(\w+)\+?\}/g, (_, name: string) => (name === label ? bad : encodeURIComponent(labels[name])));
      const search = url.includes('?') ? url.slice(url.indexOf('?')) : '';
      return request(body, true, `${label} = ${bad.slice(0, 20)}`, { url: `${path}${search}` });
    }
    default:
      return undefined;
  }
}

/** One Scheduler fuzz case: an operation, a valid input, and the defect (or none). */
export function schedulerFuzzCase(): fc.Arbitrary<SchedulerFuzzRequest> {
  const defects = DEFECTS.flatMap((d) => Array<Exclude<SchedulerFuzzRequest['defect'], 'none'>>(d.weight).fill(d.defect as never));
  return fc.oneof(
    ...SCHEDULER_OPERATIONS.map((operation) =>
      fc
        .tuple(
          (operation.input ? validValue(operation.input) : fc.constant({})) as fc.Arbitrary<Record<string, unknown>>,
          fc.oneof({ weight: 2, arbitrary: fc.constant<'none'>('none') }, { weight: 3, arbitrary: fc.constantFrom(...defects) }),
          fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 8, maxLength: 8 }),
        )
        .map(([input, defect, randoms]): SchedulerFuzzRequest => {
          const { url, body } = wire(operation, input);
          const plain: SchedulerFuzzRequest = { operation: operation.name, defect: 'none', mustFail: false, method: operation.http.method, url, body: JSON.stringify(body), note: '' };
          if (defect === 'none') return plain;
          let next = 0;
          const random = () => randoms[next++ % randoms.length];
          const choose: Choice = { pick: (items) => items[Math.floor(random() * items.length)], int: (min, max) => min + Math.floor(random() * (max - min + 1)) };
          return (
            applySchedulerDefect(operation, input, defect, choose) ??
            applySchedulerDefect(operation, input, 'bad-label', choose) ??
            applySchedulerDefect(operation, input, 'wrong-method', choose)!
          );
        }),
    ),
  );
}

/**
 * Request generators derived from the ECS model (src/api/model/ecs-model.json, the compacted
 * /work/shared/reference/ecs-service-2.json): a valid request for an operation is built shape by shape
 * (enums, lengths, ranges, required members), with strings drawn from the fixtures' names and ARNs
 * where a member names a resource, so a fair share of valid requests reach real resources. Invalid
 * requests are a valid one with one defect applied; `mustFail` says whether the defect alone must make
 * the request fail (an unknown member or a foreign ARN may legitimately be answered with 200).
 */
import fc from 'fast-check';
import { operationModel, shapeNamed, TARGET_PREFIX, type Shape } from '../../src/api/ecs-model';
import { MAX_JSON_DEPTH } from '../../src/api/json-depth';
import { OPERATIONS } from '../../src/api/operations';
import { MAX_BODY_BYTES } from '../../src/local/http-server';

export const FUZZ_ACCOUNT = '123456789012';
export const FUZZ_REGION = 'us-east-1';
const ARN = `arn:aws:ecs:${FUZZ_REGION}:${FUZZ_ACCOUNT}`;

/** What the fixtures create (see fuzz-runner.ts), so generated references can hit real resources. */
export interface FuzzFixtures {
  readonly taskArns: readonly string[];
  readonly containerInstanceArns: readonly string[];
}

export const ECS_OPERATIONS = Object.keys(OPERATIONS).sort();

const MUTATING = /^(Create|Delete|Put|Register|Deregister|Run|Stop|Tag|Untag|Update|Submit)/;
export const isMutating = (operation: string) => MUTATING.test(operation);

export const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

export type Defect =
  | 'none'
  | 'missing-required'
  | 'wrong-type'
  | 'out-of-range'
  | 'over-long'
  | 'bad-enum'
  | 'unknown-member'
  | 'prototype-member'
  | 'deep-nesting'
  | 'huge-body'
  | 'invalid-utf8'
  | 'bad-target'
  | 'missing-target'
  | 'wrong-method'
  | 'malformed-json'
  | 'foreign-arn';

export interface FuzzRequest {
  readonly operation: string;
  readonly defect: Defect;
  /** The defect alone must make the request fail with a 4xx. */
  readonly mustFail: boolean;
  readonly method: string;
  readonly target?: string;
  readonly body: string | Uint8Array;
  /** A short description of where the defect was applied. */
  readonly note: string;
}

// ---- valid values -------------------------------------------------------------------------------

const clusterNames = ['fz', 'fz', 'fz-empty', 'default', 'ghost'];
/** Strings for members whose name says which resource they reference. */
function referencePool(member: string, fixtures: FuzzFixtures): string[] | undefined {
  switch (member) {
    case 'cluster':
    case 'clusters':
      return [...clusterNames, `${ARN}:cluster/fz`, `${ARN}:cluster/ghost`];
    case 'clusterName':
      return ['fz-new', 'fz-new2', 'fz', 'fz-empty'];
    case 'taskDefinition':
      return ['fz-web', 'fz-web:1', `${ARN}:task-definition/fz-web:1`, 'fz-new', 'ghost:1'];
    case 'family':
    case 'familyPrefix':
      return ['fz-web', 'fz-new', 'fz'];
    case 'task':
    case 'tasks':
      return [...fixtures.taskArns, '0123456789abcdef0123456789abcdef'];
    case 'resourceArn':
      return [`${ARN}:cluster/fz`, `${ARN}:task-definition/fz-web:1`, ...fixtures.taskArns, `${ARN}:cluster/ghost`];
    case 'containerInstance':
    case 'containerInstances':
    case 'containerInstanceArn':
      return [...fixtures.containerInstanceArns, `${ARN}:container-instance/fz/0123456789abcdef0123456789abcdef`];
    case 'capacityProviders':
    case 'capacityProvider':
      return ['FARGATE', 'FARGATE_SPOT', 'ghost'];
    case 'name':
      return ['app', 'CPU', 'MEMORY', 'containerInsights', 'web'];
    case 'image':
      return ['nginx:latest', 'busybox'];
    case 'cpu':
      return ['256', '512', '1024'];
    case 'memory':
      return ['512', '1024', '2048'];
    case 'key':
    case 'tagKeys':
      return ['team', 'env', 'owner'];
    case 'value':
      return ['a', 'b', 'enabled'];
    case 'status':
      return ['RUNNING', 'STOPPED', 'PENDING'];
    default:
      return undefined;
  }
}

const SAFE_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-_';
const safeString = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...SAFE_CHARS), minLength: min, maxLength: max });

/** At most this many list items and optional members, so requests stay small and mostly sensible. */
const MAX_ITEMS = 3;
/**
 * Members the model leaves optional but ECS (and Berth) require in practice: generated almost always,
 * so valid requests get past them to the interesting part (a container without a name never does).
 */
const USUALLY_PRESENT = new Set(['name', 'image', 'task', 'containerName', 'key', 'value', 'containerDefinitions', 'memory']);
/** Lists ECS requires to be non-empty although the model sets no minimum. */
const NON_EMPTY = new Set(['containerDefinitions', 'tasks', 'clusters', 'containerInstances', 'tags', 'tagKeys']);

function stringArb(shape: Shape, member: string, fixtures: FuzzFixtures): fc.Arbitrary<string> {
  if (shape.enum) return fc.constantFrom(...shape.enum);
  const min = shape.min ?? 0;
  const max = Math.min(shape.max ?? 24, 24);
  const pool = referencePool(member, fixtures)?.filter((s) => [...s].length >= min && (shape.max === undefined || [...s].length <= shape.max));
  // Empty strings are valid in the model but name nothing; they come from the defects instead.
  const random = safeString(Math.max(1, Math.min(min, max)), Math.max(1, min, max));
  return pool?.length ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: random }) : random;
}

function integerArb(shape: Shape, member: string): fc.Arbitrary<number> {
  const min = Math.max(shape.min ?? 0, member === 'count' ? 1 : 0);
  const max = Math.min(shape.max ?? (member === 'count' ? 3 : 4096), 4096);
  return fc.integer({ min, max: Math.max(min, max) });
}

/** A value of `shapeName` that satisfies every model constraint. `member` is the member it fills. */
export function validValue(shapeName: string, fixtures: FuzzFixtures, member = '', depth = 0): fc.Arbitrary<unknown> {
  const shape = shapeNamed(shapeName);
  switch (shape.type) {
    case 'structure': {
      const members = Object.entries(shape.members ?? {});
      const required = new Set(shape.required ?? []);
      if (depth > 6) {
        // Deep optional structures add nothing but size: only the required members.
        return fc.record(Object.fromEntries(members.filter(([n]) => required.has(n)).map(([n, ref]) => [n, validValue(ref.shape, fixtures, n, depth + 1)])));
      }
      const parts = members.map(([name, ref]) => {
        const value = validValue(ref.shape, fixtures, name, depth + 1);
        // Optional members appear rarely, so most requests stay close to what clients send.
        const absent = USUALLY_PRESENT.has(name) ? 1 : depth === 0 ? 8 : 24;
        const optional = fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: value });
        return fc.tuple(fc.constant(name), required.has(name) ? value : optional);
      });
      return fc.tuple(...parts).map((entries) => Object.fromEntries(entries.filter(([, v]) => v !== undefined)));
    }
    case 'list': {
      const min = Math.max(shape.min ?? 0, NON_EMPTY.has(member) ? 1 : 0);
      const max = Math.max(min, Math.min(shape.max ?? MAX_ITEMS, MAX_ITEMS));
      return fc.array(validValue(shape.member!.shape, fixtures, member, depth + 1), { minLength: min, maxLength: max });
    }
    case 'map':
      return fc.dictionary(safeString(1, 12), validValue(shape.value!.shape, fixtures, '', depth + 1), { maxKeys: MAX_ITEMS });
    case 'string':
      if (shape.pattern) {
        // Only tag keys and values carry patterns among the inputs Berth serves: letters, digits, _.:/=+-@
        const min = shape.min ?? 0;
        const max = Math.min(shape.max ?? 16, 16);
        const pool = referencePool(member, fixtures);
        const random = fc.string({ unit: fc.constantFrom(...'abcXYZ019_.:/=+-@ '), minLength: min, maxLength: Math.max(min, max) });
        return pool ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: random }) : random;
      }
      return stringArb(shape, member, fixtures);
    case 'integer':
    case 'long':
      return integerArb(shape, member);
    case 'double':
    case 'float':
      return fc.double({ min: shape.min ?? 0, max: Math.min(shape.max ?? 4096, 4096), noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'timestamp':
      return fc.integer({ min: 1_600_000_000, max: 1_900_000_000 });
    default:
      return fc.string();
  }
}

// ---- defects ------------------------------------------------------------------------------------

/** A place in a request value: its path (member names and list indexes) and the shape there. */
interface Site {
  readonly path: readonly (string | number)[];
  readonly shapeName: string;
  readonly value: unknown;
}

function sitesOf(shapeName: string, value: unknown, path: (string | number)[] = []): Site[] {
  const shape = shapeNamed(shapeName);
  const here: Site = { path, shapeName, value };
  switch (shape.type) {
    case 'structure':
      return [
        here,
        ...Object.entries(value as Record<string, unknown>).flatMap(([name, v]) =>
          sitesOf(shape.members![name].shape, v, [...path, name]),
        ),
      ];
    case 'list':
      return [here, ...(value as unknown[]).flatMap((item, i) => sitesOf(shape.member!.shape, item, [...path, i]))];
    case 'map':
      return [here, ...Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => sitesOf(shape.value!.shape, v, [...path, k]))];
    default:
      return [here];
  }
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Replaces the value at `path` (the root when empty) and returns the new root. */
function replaceAt(root: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = clone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  Object.defineProperty(parent, path[path.length - 1], { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

function wrongTypeFor(shape: Shape): unknown[] {
  switch (shape.type) {
    case 'structure':
    case 'map':
      return [[], 'x', 7, true];
    case 'list':
      return [{}, 'x', 7];
    case 'string':
      return [7, true, {}, []];
    case 'integer':
    case 'long':
      return ['7', 1.5, true, {}];
    case 'double':
    case 'float':
      return ['7', true, []];
    case 'boolean':
      return ['true', 1, {}];
    case 'timestamp':
      return ['not a date', true, {}];
    default:
      return [{}];
  }
}

/** Nesting `depth` levels of `{"x": ...}`, as JSON text. */
const nestedText = (depth: number) => `${'{"x":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

const DEFECTS: readonly { defect: Exclude<Defect, 'none'>; weight: number }[] = [
  { defect: 'missing-required', weight: 6 },
  { defect: 'wrong-type', weight: 10 },
  { defect: 'out-of-range', weight: 5 },
  { defect: 'over-long', weight: 5 },
  { defect: 'bad-enum', weight: 5 },
  { defect: 'unknown-member', weight: 5 },
  { defect: 'prototype-member', weight: 6 },
  { defect: 'deep-nesting', weight: 3 },
  { defect: 'huge-body', weight: 1 },
  { defect: 'invalid-utf8', weight: 3 },
  { defect: 'bad-target', weight: 2 },
  { defect: 'missing-target', weight: 1 },
  { defect: 'wrong-method', weight: 1 },
  { defect: 'malformed-json', weight: 2 },
  { defect: 'foreign-arn', weight: 6 },
];

interface Choice {
  /** Picks one of `items` from the random number in [0, 1) it is given. */
  pick<T>(items: readonly T[]): T;
  int(min: number, max: number): number;
}

/**
 * Applies `defect` to a valid `input` of `operation`; returns undefined when the defect has no place in
 * this input (an operation without required members has none to drop), and the caller picks another.
 */
export function applyDefect(operation: string, input: unknown, defect: Exclude<Defect, 'none'>, choose: Choice): FuzzRequest | undefined {
  const inputShape = operationModel(operation)!.input!;
  const sites = sitesOf(inputShape, input);
  const target = `${TARGET_PREFIX}.${operation}`;
  const request = (body: unknown, mustFail: boolean, note: string, extra: Partial<FuzzRequest> = {}): FuzzRequest => ({
    operation,
    defect,
    mustFail,
    method: 'POST',
    target,
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    note,
    ...extra,
  });
  const where = (site: Site) => site.path.join('.') || '(root)';
  switch (defect) {
    case 'missing-required': {
      const candidates = sites.filter((s) => shapeNamed(s.shapeName).type === 'structure' && (shapeNamed(s.shapeName).required ?? []).length > 0);
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      const name = choose.pick(shapeNamed(site.shapeName).required!);
      const { [name]: _dropped, ...rest } = site.value as Record<string, unknown>;
      return request(replaceAt(input, site.path, rest), true, `${where(site)} without ${name}`);
    }
    case 'wrong-type': {
      const site = choose.pick(sites);
      const replacement = choose.pick(wrongTypeFor(shapeNamed(site.shapeName)));
      return request(replaceAt(input, site.path, replacement), true, `${where(site)} = ${JSON.stringify(replacement)}`);
    }
    case 'out-of-range': {
      const candidates = sites.filter((s) => ['integer', 'long'].includes(shapeNamed(s.shapeName).type) && s.path.length > 0);
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      const shape = shapeNamed(site.shapeName);
      const options = [
        ...(shape.type === 'integer' ? ['2147483648', '-2147483649'] : ['9223372036854775808', '-1e19']),
        '1e300',
        ...(shape.min !== undefined ? [String(shape.min - 1)] : []),
        ...(shape.max !== undefined ? [String(shape.max + 1)] : []),
      ];
      const literal = choose.pick(options);
      // Written into the JSON text, so numbers JavaScript cannot hold exactly arrive as a client wrote them.
      const marker = '"__OUT_OF_RANGE__"';
      const text = JSON.stringify(replaceAt(input, site.path, '__OUT_OF_RANGE__')).replace(marker, literal);
      return request(text, true, `${where(site)} = ${literal}`);
    }
    case 'over-long': {
      const candidates = sites.filter((s) => {
        const shape = shapeNamed(s.shapeName);
        return shape.max !== undefined && shape.max <= 5000 && (shape.type === 'string' || shape.type === 'list');
      });
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      const shape = shapeNamed(site.shapeName);
      const replacement =
        shape.type === 'string'
          ? 'a'.repeat(shape.max! + 1)
          : Array.from({ length: shape.max! + 1 }, (_, i) => ((site.value as unknown[])[0] ?? `item-${i}`));
      return request(replaceAt(input, site.path, replacement), true, `${where(site)} of ${shape.max! + 1}`);
    }
    case 'bad-enum': {
      const candidates = sites.filter((s) => shapeNamed(s.shapeName).enum);
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      return request(replaceAt(input, site.path, 'NOT_IN_ENUM'), true, where(site));
    }
    case 'unknown-member':
    case 'prototype-member': {
      const candidates = sites.filter((s) => shapeNamed(s.shapeName).type === 'structure');
      const site = choose.pick(candidates);
      const name = defect === 'prototype-member' ? choose.pick(PROTOTYPE_NAMES) : choose.pick(['extra', 'unknownMember', 'x-y']);
      const value = choose.pick<unknown>([1, 'x', null, {}, [], { [choose.pick(PROTOTYPE_NAMES)]: 1 }, true]);
      const withMember = { ...(site.value as object) };
      Object.defineProperty(withMember, name, { value, enumerable: true, writable: true, configurable: true });
      return request(replaceAt(input, site.path, withMember), false, `${where(site)}.${name} = ${JSON.stringify(value)}`);
    }
    case 'deep-nesting': {
      const depth = choose.pick([MAX_JSON_DEPTH + 1, 200, 5000, 20000]);
      const text = JSON.stringify(input).replace(/^\{/, `{"deep": ${nestedText(depth)},`).replace(/,\}$/, '}');
      return request(text, true, `${depth} levels`);
    }
    case 'huge-body': {
      const padding = MAX_BODY_BYTES + choose.int(1, 64 * 1024);
      const text = JSON.stringify({ ...(input as object), padding: 'p'.repeat(padding) });
      return request(text, true, `${text.length} bytes`);
    }
    case 'invalid-utf8': {
      const strings = sites.filter((s) => typeof s.value === 'string');
      const text = JSON.stringify(strings.length ? replaceAt(input, choose.pick(strings).path, '__BYTES__') : { ...(input as object), extra: '__BYTES__' });
      const [before, after] = text.split('__BYTES__');
      const bad = choose.pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x28, 0x8c, 0xbc], [0xed, 0xa0, 0x80]]);
      const body = Buffer.concat([Buffer.from(before), Buffer.from(bad), Buffer.from(after)]);
      return request(new Uint8Array(body), false, `bytes ${bad.map((b) => b.toString(16)).join(' ')}`);
    }
    case 'bad-target': {
      const bad = choose.pick([`${target}.Extra`, `${target}.`, `${TARGET_PREFIX}..${operation}`, `${TARGET_PREFIX}.${operation.toLowerCase()}`, `DynamoDB_20120810.${operation}`, `${TARGET_PREFIX}.constructor`, `${TARGET_PREFIX}.__proto__`, `${TARGET_PREFIX}.toString`]);
      return request(input, true, bad, { target: bad });
    }
    case 'missing-target':
      return request(input, true, 'no X-Amz-Target', { target: undefined });
    case 'wrong-method':
      return { operation, defect, mustFail: true, method: choose.pick(['GET', 'PUT', 'DELETE']), target, body: '', note: 'not POST' };
    case 'malformed-json': {
      const text = JSON.stringify(input);
      const cut = choose.int(1, Math.max(1, text.length - 1));
      return request(text.slice(0, cut), text.slice(0, cut) !== '{}', `cut at ${cut}`);
    }
    case 'foreign-arn': {
      const candidates = sites.filter((s) => typeof s.value === 'string' && (s.value as string).startsWith('arn:aws:ecs:'));
      if (!candidates.length) return undefined;
      const site = choose.pick(candidates);
      const arn = site.value as string;
      const foreign = choose.pick([
        arn.replace(/^arn:aws:/, 'arn:aws-cn:'),
        arn.replace(/^arn:aws:/, 'arn:aws-us-gov:'),
        arn.replace(`:${FUZZ_REGION}:`, ':eu-west-1:'),
        arn.replace(`:${FUZZ_ACCOUNT}:`, ':210987654321:'),
      ]);
      return request(replaceAt(input, site.path, foreign), false, `${where(site)} = ${foreign}`);
    }
  }
}

/** One fuzz case: an operation, a valid input for it, and the defect (or none) to apply. */
export function fuzzCase(fixtures: FuzzFixtures): fc.Arbitrary<FuzzRequest> {
  const perOperation = ECS_OPERATIONS.map((operation) =>
    fc
      .tuple(
        validValue(operationModel(operation)!.input!, fixtures),
        fc.oneof({ weight: 2, arbitrary: fc.constant<'none'>('none') }, { weight: 3, arbitrary: fc.constantFrom(...DEFECTS.flatMap((d) => Array<Exclude<Defect, 'none'>>(d.weight).fill(d.defect))) }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 8, maxLength: 8 }),
      )
      .map(([input, defect, randoms]): FuzzRequest => {
        if (defect === 'none') return { operation, defect, mustFail: false, method: 'POST', target: `${TARGET_PREFIX}.${operation}`, body: JSON.stringify(input), note: '' };
        let next = 0;
        const random = () => randoms[next++ % randoms.length];
        const choose: Choice = {
          pick: (items) => items[Math.floor(random() * items.length)],
          int: (min, max) => min + Math.floor(random() * (max - min + 1)),
        };
        // A defect with no place in this input falls back to a wrong type, which always has one.
        return applyDefect(operation, input, defect, choose) ?? applyDefect(operation, input, 'wrong-type', choose)!;
      }),
  );
  return fc.oneof(...perOperation);
}

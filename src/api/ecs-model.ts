/**
 * The ECS API model (documentation stripped by `scripts/compact-model.mjs ecs`) and a validator that
 * checks a request against an operation's input shape the way the ECS service does: wrong JSON types
 * are a SerializationException (the body cannot be read as the shape), broken constraints (required
 * members, enum values, lengths, ranges, patterns) an InvalidParameterException. Unknown members are
 * ignored, as AWS JSON services ignore them, so newer clients keep working; declaredOnly() drops them
 * before a use case sees the input. Every lookup by a client-given name is an own-property check.
 */
import model from './model/ecs-model.json';
import { InvalidParameterException, SerializationException } from '../domain/errors';

interface MemberRef {
  readonly shape: string;
}
export interface Shape {
  readonly type: string;
  readonly required?: readonly string[];
  readonly members?: Readonly<Record<string, MemberRef>>;
  readonly member?: MemberRef;
  readonly key?: MemberRef;
  readonly value?: MemberRef;
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
}
interface OperationModel {
  readonly input?: string;
  readonly output?: string;
  readonly errors: readonly string[];
}

const shapes = model.shapes as unknown as Readonly<Record<string, Shape>>;
const operations = model.operations as unknown as Readonly<Record<string, OperationModel>>;

export const TARGET_PREFIX = model.metadata.targetPrefix;

export function operationModel(name: string): OperationModel | undefined {
  return Object.hasOwn(operations, name) ? operations[name] : undefined;
}

export function shapeNamed(name: string): Shape {
  // Own properties only: a name like `constructor` must never find Object.prototype's.
  if (!Object.hasOwn(shapes, name)) throw new Error(`ECS model has no shape ${name}`);
  return shapes[name];
}

/** The member a structure declares under `name` (never one inherited from Object.prototype). */
export function memberOf(shape: Shape, name: string): MemberRef | undefined {
  return shape.members && Object.hasOwn(shape.members, name) ? shape.members[name] : undefined;
}

export interface ValidationOptions {
  /** Reject members the shape does not declare (used by tests to check Berth's responses). */
  readonly rejectUnknownMembers?: boolean;
}

const patternCache = new Map<string, RegExp>();
// Smithy patterns are unanchored; the service checks the whole value, so anchor them here.
const fullMatch = (pattern: string) => {
  let regex = patternCache.get(pattern);
  if (!regex) {
    regex = new RegExp(`^(?:${pattern})$`, 'u');
    patternCache.set(pattern, regex);
  }
  return regex;
};

const serialization = (path: string, expected: string) =>
  new SerializationException(`Could not read ${path}: expected ${expected}.`);
const constraint = (path: string, value: unknown, rule: string) =>
  new InvalidParameterException(
    `1 validation error detected: Value ${JSON.stringify(value)} at '${path}' failed to satisfy constraint: ${rule}`,
  );

/** Throws the ECS error a client would get for the first problem found in `value`. */
export function validateShape(shapeName: string, value: unknown, path = '', options: ValidationOptions = {}): void {
  const shape = shapeNamed(shapeName);
  const at = path || 'request';
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serialization(at, 'an object');
      const record = value as Record<string, unknown>;
      for (const required of shape.required ?? []) {
        if (!Object.hasOwn(record, required) || record[required] === undefined || record[required] === null) {
          throw constraint(join(path, required), null, 'Member must not be null');
        }
      }
      for (const [name, memberValue] of Object.entries(record)) {
        const member = memberOf(shape, name);
        if (!member) {
          if (options.rejectUnknownMembers) throw serialization(join(path, name), 'no such member');
          continue;
        }
        // JSON null means "not set" to AWS JSON services.
        if (memberValue !== null && memberValue !== undefined) {
          validateShape(member.shape, memberValue, join(path, name), options);
        }
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) throw serialization(at, 'a list');
      checkLength(shape, value.length, at, value, 'length');
      value.forEach((item, index) => {
        if (item === null) throw constraint(`${at}.${index + 1}`, null, 'Member must not be null');
        validateShape(shape.member!.shape, item, `${at}.${index + 1}`, options);
      });
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serialization(at, 'a map');
      const entries = Object.entries(value as Record<string, unknown>);
      checkLength(shape, entries.length, at, value, 'size');
      for (const [key, entry] of entries) {
        validateShape(shape.key!.shape, key, `${at}.${key}`, options);
        // The DynamoDB marshaller assigns map keys as properties, where `__proto__` would replace the
        // prototype instead of storing an entry: Berth cannot store that key, so it says so.
        if (key === '__proto__') throw constraint(`${at}.${key}`, key, 'Berth cannot store a map key named __proto__');
        if (entry !== null) validateShape(shape.value!.shape, entry, `${at}.${key}`, options);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') throw serialization(at, 'a string');
      if (shape.enum && !shape.enum.includes(value)) {
        throw constraint(at, value, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      }
      checkLength(shape, [...value].length, at, value, 'length');
      if (shape.pattern && !fullMatch(shape.pattern).test(value)) {
        throw constraint(at, value, `Member must satisfy regular expression pattern: ${shape.pattern}`);
      }
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(at, 'an integer');
      // Outside the Java type the service reads the member into: integer is 32-bit, long 64-bit. (JSON
      // numbers arrive as doubles, so 2^63 - 1 written out in full reads as 2^63 and is refused too.)
      const bits = shape.type === 'integer' ? 31 : 63;
      if (value >= 2 ** bits || value < -(2 ** bits)) throw serialization(at, shape.type === 'integer' ? 'an integer' : 'a long');
      // A long Berth could not give back exactly (beyond 2^53) is refused rather than silently rounded.
      if (!Number.isSafeInteger(value)) {
        throw constraint(at, value, `Member must be between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER} in Berth`);
      }
      checkRange(shape, value, at);
      return;
    }
    case 'double':
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw serialization(at, 'a number');
      checkRange(shape, value, at);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw serialization(at, 'a boolean');
      return;
    case 'timestamp':
      // The JSON protocol sends epoch seconds; SDKs also accept ISO strings on input.
      if (typeof value !== 'number' && !(typeof value === 'string' && !Number.isNaN(Date.parse(value)))) {
        throw serialization(at, 'a timestamp');
      }
      return;
    case 'blob':
      if (typeof value !== 'string') throw serialization(at, 'base64 data');
      return;
    default:
      throw new Error(`unsupported shape type ${shape.type}`);
  }
}

function checkLength(shape: Shape, length: number, at: string, value: unknown, noun: string) {
  if (shape.min !== undefined && length < shape.min) {
    throw constraint(at, value, `Member must have ${noun} greater than or equal to ${shape.min}`);
  }
  if (shape.max !== undefined && length > shape.max) {
    throw constraint(at, value, `Member must have ${noun} less than or equal to ${shape.max}`);
  }
}

function checkRange(shape: Shape, value: number, at: string) {
  if (shape.min !== undefined && value < shape.min) {
    throw constraint(at, value, `Member must have value greater than or equal to ${shape.min}`);
  }
  if (shape.max !== undefined && value > shape.max) {
    throw constraint(at, value, `Member must have value less than or equal to ${shape.max}`);
  }
}

const join = (path: string, member: string) => (path ? `${path}.${member}` : member);

/**
 * A copy of a validated `value` holding only what the shape declares: unknown members (which the
 * service ignores) and JSON nulls ("not set") are dropped, so no use case ever sees a member the model
 * does not name, whatever it is called (`constructor`, `__proto__`, ...) or however deep it nests.
 */
export function declaredOnly(shapeName: string, value: unknown): unknown {
  const shape = shapeNamed(shapeName);
  switch (shape.type) {
    case 'structure': {
      const copy: Record<string, unknown> = {};
      for (const [name, memberValue] of Object.entries(value as Record<string, unknown>)) {
        const member = memberOf(shape, name);
        if (member && memberValue !== null && memberValue !== undefined) {
          copy[name] = declaredOnly(member.shape, memberValue);
        }
      }
      return copy;
    }
    case 'list':
      return (value as unknown[]).map((item) => declaredOnly(shape.member!.shape, item));
    case 'map':
      // fromEntries defines own properties, so even a key named `__proto__` stays a plain entry.
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, entry]) => entry !== null)
          .map(([key, entry]) => [key, declaredOnly(shape.value!.shape, entry)]),
      );
    default:
      return value;
  }
}

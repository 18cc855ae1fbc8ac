/**
 * The EventBridge Scheduler API model (documentation stripped by `scripts/compact-model.mjs scheduler`):
 * its routes (rest-json binds each operation to a method and a path), a request validator that answers
 * the way Scheduler does (every broken constraint a ValidationException, HTTP 400), and the output
 * writer (timestamps as epoch seconds, the rest-json default).
 */
import model from './model/scheduler-model.json';
import { ValidationException } from '../domain/errors';

interface MemberRef {
  readonly shape: string;
  readonly location?: 'uri' | 'querystring' | 'header';
  readonly locationName?: string;
}
interface Shape {
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
  readonly error?: { readonly httpStatusCode: number };
}
export interface SchedulerOperationModel {
  readonly name: string;
  readonly http: { readonly method: string; readonly requestUri: string; readonly responseCode?: number };
  readonly input?: string;
  readonly output?: string;
  readonly errors: readonly string[];
}

const shapes = model.shapes as unknown as Readonly<Record<string, Shape>>;
export const SCHEDULER_OPERATIONS: readonly SchedulerOperationModel[] = Object.entries(
  model.operations as unknown as Record<string, Omit<SchedulerOperationModel, 'name'>>,
).map(([name, operation]) => ({ name, ...operation }));

export function shape(name: string): Shape {
  // Own properties only: a client-given name such as `constructor` must never find Object's members.
  if (!Object.hasOwn(shapes, name)) throw new Error(`Scheduler model has no shape ${name}`);
  return shapes[name];
}

/** HTTP status of a modeled error (ConflictException 409, ResourceNotFoundException 404, ...). */
export function errorStatus(errorName: string): number | undefined {
  return Object.hasOwn(shapes, errorName) ? shapes[errorName].error?.httpStatusCode : undefined;
}

const patterns = new Map<string, RegExp>();
const regex = (pattern: string) => {
  let compiled = patterns.get(pattern);
  if (!compiled) {
    compiled = new RegExp(`^(?:${pattern})$`, 'u');
    patterns.set(pattern, compiled);
  }
  return compiled;
};

const violation = (path: string, value: unknown, rule: string) =>
  new ValidationException(`1 validation error detected: Value ${JSON.stringify(value)} at '${path}' failed to satisfy constraint: ${rule}`);
const wrongType = (path: string, expected: string) => new ValidationException(`Invalid value at '${path}': expected ${expected}.`);

/** Throws Scheduler's ValidationException for the first problem found in `value`. */
export function validateSchedulerShape(shapeName: string, value: unknown, path = ''): void {
  const definition = shape(shapeName);
  const at = path || 'request';
  const join = (member: string) => (path ? `${path}.${member}` : member);
  switch (definition.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(at, 'an object');
      const record = value as Record<string, unknown>;
      for (const required of definition.required ?? []) {
        if (!Object.hasOwn(record, required) || record[required] === undefined || record[required] === null) {
          throw violation(join(required), null, 'Member must not be null');
        }
      }
      for (const [name, member] of Object.entries(record)) {
        const ref = definition.members && Object.hasOwn(definition.members, name) ? definition.members[name] : undefined;
        if (ref && member !== null && member !== undefined) validateSchedulerShape(ref.shape, member, join(name));
      }
      return;
    }
    case 'list':
      if (!Array.isArray(value)) throw wrongType(at, 'a list');
      length(definition, value.length, at, value);
      value.forEach((item, index) => validateSchedulerShape(definition.member!.shape, item, `${at}.${index + 1}`));
      return;
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(at, 'a map');
      const entries = Object.entries(value as Record<string, unknown>);
      length(definition, entries.length, at, value);
      for (const [key, entry] of entries) {
        validateSchedulerShape(definition.key!.shape, key, `${at}.${key}`);
        validateSchedulerShape(definition.value!.shape, entry, `${at}.${key}`);
      }
      return;
    }
    case 'string':
      if (typeof value !== 'string') throw wrongType(at, 'a string');
      if (definition.enum && !definition.enum.includes(value)) {
        throw violation(at, value, `Member must satisfy enum value set: [${definition.enum.join(', ')}]`);
      }
      length(definition, [...value].length, at, value);
      if (definition.pattern && !regex(definition.pattern).test(value)) {
        throw violation(at, value, `Member must satisfy regular expression pattern: ${definition.pattern}`);
      }
      return;
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(at, 'an integer');
      range(definition, value, at);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType(at, 'a boolean');
      return;
    case 'timestamp':
      if (typeof value !== 'number' && !(typeof value === 'string' && !Number.isNaN(Date.parse(value)))) {
        throw wrongType(at, 'a timestamp');
      }
      return;
    default:
      return;
  }
}

function length(definition: Shape, size: number, at: string, value: unknown) {
  if (definition.min !== undefined && size < definition.min) {
    throw violation(at, value, `Member must have length greater than or equal to ${definition.min}`);
  }
  if (definition.max !== undefined && size > definition.max) {
    throw violation(at, value, `Member must have length less than or equal to ${definition.max}`);
  }
}

function range(definition: Shape, value: number, at: string) {
  if (definition.min !== undefined && value < definition.min) {
    throw violation(at, value, `Member must have value greater than or equal to ${definition.min}`);
  }
  if (definition.max !== undefined && value > definition.max) {
    throw violation(at, value, `Member must have value less than or equal to ${definition.max}`);
  }
}

/** A wire timestamp (epoch seconds, or ISO text) as epoch ms. */
export const timestampMs = (value: number | string) => (typeof value === 'number' ? Math.round(value * 1000) : Date.parse(value));

/** Writes an output value for the wire: only modeled members, timestamps (epoch ms inside) as epoch seconds. */
export function toSchedulerWire(shapeName: string, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  const definition = shape(shapeName);
  switch (definition.type) {
    case 'structure':
      return Object.fromEntries(
        Object.entries(definition.members ?? {})
          .map(([name, ref]) => [name, toSchedulerWire(ref.shape, (value as Record<string, unknown>)[name])])
          .filter(([, member]) => member !== undefined),
      );
    case 'list':
      return (value as unknown[]).map((item) => toSchedulerWire(definition.member!.shape, item));
    case 'map':
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([key, entry]) => [key, toSchedulerWire(definition.value!.shape, entry)]),
      );
    case 'timestamp':
      return (value as number) / 1000;
    default:
      return value;
  }
}

/**
 * EventBridge event-pattern matching, so local mode delivers Berth's events to the same targets the
 * real rules would.
 *
 * Semantics follow the EventBridge user guide ("Event patterns", "Arrays in event patterns", "Matching
 * null values and empty strings", "Content filtering" / "Comparison operators"). Where the guide is
 * silent, they follow aws/event-ruler, the open-source matcher EventBridge is built on: its
 * JsonRuleCompiler decides which patterns are rejected, and its flattening model decides how arrays and
 * missing fields behave. Known gaps: the dotted-key quirk ({"a.b": [...]} also matching {"a": {"b": ...}})
 * and EventBridge's "pattern too complex" limit on many wildcards are not reproduced.
 */

export type EventPattern = Record<string, unknown>;

/** What EventBridge's TestEventPattern / PutRule answer as InvalidEventPatternException. */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
  constructor(reason: string) {
    super(`Event pattern is not valid. Reason: ${reason}`);
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: unknown };

const OR = '$or';
const OPERATORS = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr'];
// Inside $or, event-ruler rejects operator names used as field names: they are almost always a matcher
// written one level too high (e.g. {"$or": [{"numeric": ...}]}), which would otherwise silently never match.
const RESERVED_IN_OR = new Set([
  ...OPERATORS,
  'exactly', '=', '<', '<=', '>', '>=', 'regex', 'not-wildcard', 'not-equals-ignore-case',
  'date-after', 'date-on-or-after', 'date-before', 'date-on-or-before', 'in-date-range',
  'ip-address-in-range', 'ip-address-not-in-range',
]);
// Numbers are compared as fixed-point values in this range; outside it event-ruler cannot compare them.
const NUMERIC_LIMIT = 5e9;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

// ---------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------

export function validateEventPattern(pattern: unknown): asserts pattern is EventPattern {
  if (!isObject(pattern)) throw new InvalidEventPatternError('Filter is not an object');
  validateObject(pattern, false);
}

function validateObject(obj: JsonObject, insideOr: boolean): void {
  const keys = Object.keys(obj);
  if (keys.length === 0) throw new InvalidEventPatternError('Empty objects are not allowed');
  for (const key of keys) {
    const value = obj[key];
    if (key === OR) {
      validateOr(value);
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      throw new InvalidEventPatternError(`${key} is Ruler reserved fieldName which cannot be used inside $or.`);
    }
    if (isObject(value)) validateObject(value, insideOr);
    else if (Array.isArray(value)) validateMatchers(value);
    else throw new InvalidEventPatternError(`"${key}" must be an object or an array`);
  }
}

function validateOr(value: unknown): void {
  if (!Array.isArray(value)) throw new InvalidEventPatternError('It must be an Array followed with $or.');
  for (const branch of value) {
    if (!isObject(branch)) throw new InvalidEventPatternError('Only JSON object is allowed in array of $or relationship.');
    validateObject(branch, true);
  }
  if (value.length < 2) throw new InvalidEventPatternError('There must have at least 2 Objects in $or relationship.');
}

function validateMatchers(values: unknown[]): void {
  if (values.length === 0) throw new InvalidEventPatternError('Empty arrays are not allowed');
  for (const v of values) {
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || isNumber(v)) continue;
    if (!isObject(v)) throw new InvalidEventPatternError('Match value must be String, number, true, false, or null');
    validateOperator(v);
  }
}

/** Returns the single `{ op: arg }` entry of a matcher object (event-ruler allows exactly one). */
function singleEntry(obj: JsonObject, what: string): [string, unknown] {
  const entries = Object.entries(obj);
  if (entries.length === 0) throw new InvalidEventPatternError(`${what} expression name not found`);
  if (entries.length > 1) throw new InvalidEventPatternError('Only one key allowed in match expression');
  return entries[0];
}

function requireString(v: unknown, message: string): asserts v is string {
  if (typeof v !== 'string') throw new InvalidEventPatternError(message);
}

function validateOperator(matcher: JsonObject): void {
  const [op, arg] = singleEntry(matcher, 'Match');
  switch (op) {
    case 'prefix':
    case 'suffix':
      // Both take a string, or { "equals-ignore-case": string } for the case-insensitive form.
      if (isObject(arg)) {
        const [inner, s] = singleEntry(arg, op === 'prefix' ? 'Prefix' : 'Suffix');
        if (inner !== 'equals-ignore-case') throw new InvalidEventPatternError(`Unsupported ${op} pattern: ${inner}`);
        requireString(s, 'equals-ignore-case match pattern must be a string');
      } else requireString(arg, `${op} match pattern must be a string`);
      return;
    case 'equals-ignore-case':
      return requireString(arg, 'equals-ignore-case match pattern must be a string');
    case 'wildcard':
      requireString(arg, 'wildcard match pattern must be a string');
      parseWildcard(arg);
      return;
    case 'anything-but':
      return validateAnythingBut(arg);
    case 'numeric':
      parseNumeric(arg);
      return;
    case 'exists':
      if (typeof arg !== 'boolean') throw new InvalidEventPatternError('exists match pattern must be either true or false.');
      return;
    case 'cidr':
      requireString(arg, 'cidr match pattern must be a string');
      parseCidr(arg);
      return;
    default:
      throw new InvalidEventPatternError(`Unrecognized match type ${op}`);
  }
}

function validateAnythingBut(arg: unknown): void {
  if (isObject(arg)) {
    const [op, value] = singleEntry(arg, 'Anything-But');
    if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(op)) {
      throw new InvalidEventPatternError(`Unsupported anything-but pattern: ${op}`);
    }
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) throw new InvalidEventPatternError(`Value of anything-but ${op} must not be empty`);
    for (const s of list) {
      requireString(s, `anything-but ${op} match pattern must be a string`);
      if ((op === 'prefix' || op === 'suffix') && s === '') {
        throw new InvalidEventPatternError('Null prefix/suffix not allowed');
      }
      if (op === 'wildcard') parseWildcard(s);
    }
    return;
  }
  const list = Array.isArray(arg) ? arg : [arg];
  const allStrings = list.every((v) => typeof v === 'string');
  const allNumbers = list.every(isNumber);
  // A list must be all strings or all numbers; null and booleans cannot be excluded at all.
  if (list.length === 0 || !(allStrings || allNumbers)) {
    throw new InvalidEventPatternError(
      Array.isArray(arg)
        ? 'Inside anything but list, either all values are number or string, mixed type is not supported'
        : 'Value of anything-but must be an array or single string/number value.',
    );
  }
  if (allNumbers) list.forEach((n) => checkNumericRange(n as number));
}

function checkNumericRange(n: number): void {
  if (Math.abs(n) > NUMERIC_LIMIT) {
    throw new InvalidEventPatternError(`Value must be between -${NUMERIC_LIMIT} and ${NUMERIC_LIMIT}, inclusive`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Operator parsing (shared by validation and matching, so both agree on the grammar)
// ---------------------------------------------------------------------------------------------------

type Bound = { value: number; inclusive: boolean };
type NumericRange = { equals?: number; lower?: Bound; upper?: Bound };

function invalid(reason: string): never {
  throw new InvalidEventPatternError(reason);
}

/** Grammar: ["=", n] | [op, n] | [">" or ">=", n, "<" or "<=", m] with n < m. */
function parseNumeric(arg: unknown): NumericRange {
  if (!Array.isArray(arg)) invalid('Value of numeric must be an array.');
  const [op1, n1, op2, n2] = arg;
  if (typeof op1 !== 'string') invalid(`Invalid member in numeric match: ${String(op1)}`);
  if (!isNumber(n1)) invalid(`Value of ${op1} must be numeric`);
  checkNumericRange(n1);
  const first: Bound = { value: n1, inclusive: op1 === '>=' || op1 === '<=' };
  if (op1 === '=' || op1 === '<' || op1 === '<=') {
    if (arg.length !== 2) invalid('Too many elements in numeric expression');
    return op1 === '=' ? { equals: n1 } : { upper: first };
  }
  if (op1 !== '>' && op1 !== '>=') invalid(`Unrecognized numeric range operator: ${op1}`);
  if (arg.length === 2) return { lower: first };
  if (arg.length !== 4) invalid('Too many terms in numeric range expression');
  if (op2 !== '<' && op2 !== '<=') invalid(`Bad numeric range operator: ${String(op2)}`);
  if (!isNumber(n2)) invalid(`Value of ${op2} must be numeric`);
  checkNumericRange(n2);
  if (n1 >= n2) invalid('Bottom must be less than top');
  return { lower: first, upper: { value: n2, inclusive: op2 === '<=' } };
}

/** Splits a wildcard into the literal pieces between unescaped `*`s. Only `\*` and `\\` are escapes. */
function parseWildcard(pattern: string): string[] {
  const pieces: string[] = [''];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') throw new InvalidEventPatternError(`Consecutive wildcard characters at pos ${i}`);
      pieces.push('');
    } else if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw new InvalidEventPatternError(`Invalid escape character at pos ${i}`);
      pieces[pieces.length - 1] += next;
      i++;
    } else {
      pieces[pieces.length - 1] += c;
    }
  }
  return pieces;
}

type Ip = { v6: boolean; value: bigint };

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIPv6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): string[] | undefined => {
    if (part === '') return [];
    const gs = part.split(':');
    // A trailing dotted quad (e.g. ::ffff:10.0.0.1) stands for the last two groups.
    const v4 = parseIPv4(gs[gs.length - 1]);
    if (v4 !== undefined) gs.splice(-1, 1, (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
    return gs.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g)) ? gs : undefined;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function parseIp(s: string): Ip | undefined {
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { v6: false, value: v4 };
  const v6 = s.includes(':') ? parseIPv6(s) : undefined;
  if (v6 === undefined) return undefined;
  // Java's InetAddress, which event-ruler uses, turns IPv4-mapped addresses (::ffff:a.b.c.d) into IPv4.
  if (v6 >> 32n === 0xffffn) return { v6: false, value: v6 & 0xffffffffn };
  return { v6: true, value: v6 };
}

type Cidr = { v6: boolean; bottom: bigint; top: bigint };

/**
 * Like event-ruler's CIDR.cidr: exactly one "/", mask at most 31 (IPv4) or 127 (IPv6), and the range
 * runs from the address as written (host bits are not cleared) to that address with all host bits set.
 */
function parseCidr(s: string): Cidr {
  const [address, bits, ...rest] = s.split('/');
  const ip = parseIp(address);
  const maxBits = ip?.v6 ? 127 : 31;
  if (!ip || rest.length > 0 || !/^\d{1,3}$/.test(bits ?? '') || Number(bits) > maxBits) {
    throw new InvalidEventPatternError(`Malformed CIDR: ${s}`);
  }
  const hostMask = (1n << BigInt(maxBits + 1 - Number(bits))) - 1n;
  return { v6: ip.v6, bottom: ip.value, top: ip.value | hostMask };
}

// ---------------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------------

/**
 * Whether `event` (any parsed JSON) matches `pattern`. The pattern is validated first, as TestEventPattern
 * does, so a malformed one throws InvalidEventPatternError instead of quietly matching nothing.
 */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  validateEventPattern(pattern);
  return matchObject(pattern, event);
}

/** Every field of the pattern must match (AND); `$or` branches are alternatives at the same level. */
function matchObject(pattern: JsonObject, event: unknown): boolean {
  const fields = isObject(event) ? event : {};
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === OR) return (sub as JsonObject[]).some((branch) => matchObject(branch, event));
    const value = Object.hasOwn(fields, key) ? (fields[key] as Json) : undefined;
    if (Array.isArray(sub)) return matchField(sub, value);
    // A nested pattern over an array of objects matches if one element matches all of it, so fields of
    // different elements are never combined ("array-consistent", as event-ruler's rulesForJSONEvent does).
    const candidates = flatten(value).filter(isObject);
    return candidates.length === 0
      ? matchObject(sub as JsonObject, undefined)
      : candidates.some((element) => matchObject(sub as JsonObject, element));
  });
}

/** Arrays in an event are flattened; objects are not leaves, so they count as absent for leaf matchers. */
function flatten(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.flatMap(flatten) : [value];
}

/** The pattern array is an OR list; against an event array it matches if any element matches. */
function matchField(matchers: unknown[], value: Json | undefined): boolean {
  const leaves = flatten(value).filter((v) => !isObject(v));
  return matchers.some((m) => {
    if (isObject(m) && 'exists' in m) return (leaves.length > 0) === m.exists;
    return leaves.some((leaf) => matchLeaf(m, leaf));
  });
}

function matchLeaf(matcher: unknown, leaf: Json): boolean {
  // Plain values compare as JSON values: "5" is not 5, and numbers compare by value, as EventBridge
  // does in practice (300 matches 300.0), although an older guide page says they compare as text.
  if (!isObject(matcher)) return matcher === leaf;
  const [op, arg] = Object.entries(matcher)[0];
  switch (op) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard':
      return matchString(op, arg, leaf);
    case 'numeric':
      return typeof leaf === 'number' && inRange(parseNumeric(arg), leaf);
    case 'cidr':
      return typeof leaf === 'string' && inCidr(parseCidr(arg as string), leaf);
    case 'anything-but':
      return !excluded(arg, leaf);
    default:
      return false;
  }
}

/** String operators never match numbers, booleans or null. `arg` may be the `{equals-ignore-case}` form. */
function matchString(op: string, arg: unknown, leaf: Json): boolean {
  if (typeof leaf !== 'string') return false;
  if (op === 'wildcard') return matchWildcard(parseWildcard(arg as string), leaf);
  const ignoreCase = op === 'equals-ignore-case' || isObject(arg);
  const wanted = isObject(arg) ? (arg['equals-ignore-case'] as string) : (arg as string);
  const [s, w] = ignoreCase ? [leaf.toLowerCase(), wanted.toLowerCase()] : [leaf, wanted];
  if (op === 'prefix') return s.startsWith(w);
  if (op === 'suffix') return s.endsWith(w);
  return s === w;
}

/** anything-but matches a present value (null included) that is not one of the excluded values. */
function excluded(arg: unknown, leaf: Json): boolean {
  if (isObject(arg)) {
    const [op, value] = Object.entries(arg)[0];
    const list = Array.isArray(value) ? value : [value];
    return list.some((s) => matchString(op, s, leaf));
  }
  return (Array.isArray(arg) ? arg : [arg]).some((v) => v === leaf);
}

/** Greedy left-to-right search is exact for `*`-only globs and stays linear (no regex backtracking). */
function matchWildcard(pieces: string[], s: string): boolean {
  if (pieces.length === 1) return s === pieces[0];
  const first = pieces[0];
  const last = pieces[pieces.length - 1];
  if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  let pos = first.length;
  const end = s.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    const at = s.indexOf(piece, pos);
    if (at < 0 || at + piece.length > end) return false;
    pos = at + piece.length;
  }
  return true;
}

function inRange(range: NumericRange, n: number): boolean {
  if (Math.abs(n) > NUMERIC_LIMIT) return false;
  if (range.equals !== undefined) return n === range.equals;
  const { lower, upper } = range;
  if (lower && !(lower.inclusive ? n >= lower.value : n > lower.value)) return false;
  if (upper && !(upper.inclusive ? n <= upper.value : n < upper.value)) return false;
  return true;
}

function inCidr(cidr: Cidr, s: string): boolean {
  const ip = parseIp(s);
  return ip !== undefined && ip.v6 === cidr.v6 && ip.value >= cidr.bottom && ip.value <= cidr.top;
}

/**
 * ECS's cluster query language: the expressions of memberOf placement constraints and of
 * ListContainerInstances `filter`. Pure: `parseClusterQuery` turns text into a tree (or throws
 * InvalidParameterException naming the part Berth does not support), `matchesQuery` evaluates a tree
 * against one container instance. The grammar Berth supports is documented in docs/placement.md:
 *
 *   query    := or
 *   or       := and (('or' | '||') and)*
 *   and      := unary (('and' | '&&') unary)*          and binds tighter than or
 *   unary    := ('not' | '!') unary | '(' query ')' | test
 *   test     := subject operator [argument]
 *   argument := value | '[' value (',' value)* ']'     a value is a bare word or a quoted string
 *
 * Every negative operator (!=, !in, !exists, !~) is exactly `not` of its positive one, so
 * `attribute:x != a` holds on an instance without attribute x, and `not(task:group == db)` (or
 * `task:group != db`) is anti-affinity: no task of group db on the instance.
 */
import { InvalidParameterException } from './errors';

/** ECS's limit on a constraint expression and on a ListContainerInstances filter. */
export const MAX_EXPRESSION_LENGTH = 2000;

export type Subject =
  | { readonly kind: 'attribute'; readonly name: string }
  | { readonly kind: 'agentConnected' | 'agentVersion' | 'ec2InstanceId' | 'registeredAt' | 'runningTasksCount' | 'task:group' };

export type Operator = '==' | '!=' | '>' | '>=' | '<' | '<=' | 'exists' | '!exists' | 'in' | '!in' | '=~' | '!~';

export type ClusterQuery =
  | { readonly kind: 'and' | 'or'; readonly left: ClusterQuery; readonly right: ClusterQuery }
  | { readonly kind: 'not'; readonly operand: ClusterQuery }
  | { readonly kind: 'test'; readonly subject: Subject; readonly operator: Operator; readonly values: readonly string[] };

/** What a query can ask about a container instance. */
export interface QueryTarget {
  readonly attributes: readonly { readonly name: string; readonly value?: string }[];
  readonly agentConnected: boolean;
  readonly agentVersion?: string;
  readonly ec2InstanceId?: string;
  /** Epoch ms. */
  readonly registeredAt: number;
  readonly runningTasksCount: number;
  /** Groups of the tasks (not STOPPED) on the instance, with how many of each. */
  readonly taskGroups: Readonly<Record<string, number>>;
}

/** Operators by their symbol and their word (ECS accepts both). */
const OPERATOR_WORDS: Readonly<Record<string, Operator>> = {
  '==': '==', equals: '==',
  '!=': '!=', not_equals: '!=',
  '>': '>', greater_than: '>',
  '>=': '>=', greater_than_equal: '>=',
  '<': '<', less_than: '<',
  '<=': '<=', less_than_equal: '<=',
  exists: 'exists', '!exists': '!exists', not_exists: '!exists',
  in: 'in', '!in': '!in', not_in: '!in',
  '=~': '=~', matches: '=~',
  '!~': '!~', not_matches: '!~',
};

const EQUALITY: readonly Operator[] = ['==', '!=', 'in', '!in', '=~', '!~'];
const ORDERING: readonly Operator[] = ['==', '!=', '>', '>=', '<', '<='];
/** Which operators each subject takes (ECS's table; attributes take them all). */
const VALID_OPERATORS: Readonly<Record<Subject['kind'], readonly Operator[]>> = {
  attribute: Object.values(OPERATOR_WORDS),
  agentConnected: EQUALITY,
  agentVersion: ORDERING,
  ec2InstanceId: EQUALITY,
  registeredAt: ORDERING,
  runningTasksCount: ORDERING,
  'task:group': EQUALITY,
};

/** ECS's rule for attribute names (the Attribute shape's documentation). */
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z0-9_\-/\\.]{1,128}$/;

type Token =
  | { readonly kind: 'word' | 'quoted'; readonly text: string; readonly at: number }
  | { readonly kind: 'symbol'; readonly text: string; readonly at: number };

const invalid = (expression: string, why: string) =>
  new InvalidParameterException(`Invalid cluster query expression '${expression}': ${why}.`);

/** Characters that end a bare word. */
const BREAKS = new Set([' ', '\t', '\n', '\r', '(', ')', '[', ']', ',', "'", '"', '=', '!', '<', '>', '&', '|']);

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = expression.slice(i, i + 2);
    if (['==', '!=', '>=', '<=', '=~', '!~', '&&', '||'].includes(two)) {
      tokens.push({ kind: 'symbol', text: two, at: i });
      i += 2;
    } else if ('()[],!<>'.includes(c)) {
      tokens.push({ kind: 'symbol', text: c, at: i });
      i++;
    } else if (c === '=' || c === '&' || c === '|') {
      throw invalid(expression, `unsupported operator '${c}' at position ${i} (use ==, && or ||)`);
    } else if (c === "'" || c === '"') {
      const end = expression.indexOf(c, i + 1);
      if (end < 0) throw invalid(expression, `unterminated quoted value at position ${i}`);
      tokens.push({ kind: 'quoted', text: expression.slice(i + 1, end), at: i });
      i = end + 1;
    } else {
      let j = i;
      while (j < expression.length && !BREAKS.has(expression[j]) && !/\s/.test(expression[j])) j++;
      tokens.push({ kind: 'word', text: expression.slice(i, j), at: i });
      i = j;
    }
  }
  return tokens;
}

/** Parses an expression, or throws InvalidParameterException naming what is not supported. */
export function parseClusterQuery(expression: string): ClusterQuery {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new InvalidParameterException(`A cluster query expression can have at most ${MAX_EXPRESSION_LENGTH} characters.`);
  }
  if (!expression.trim()) throw new InvalidParameterException('A cluster query expression must not be empty.');
  const tokens = tokenize(expression);
  let position = 0;
  const peek = () => tokens[position];
  const describe = (t: Token | undefined) => (t ? `'${t.text}' at position ${t.at}` : 'the end of the expression');
  const isWord = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.text.toLowerCase());
  const isSymbol = (t: Token | undefined, ...symbols: string[]) => t?.kind === 'symbol' && symbols.includes(t.text);

  const parseOr = (): ClusterQuery => {
    let left = parseAnd();
    while (isWord(peek(), 'or') || isSymbol(peek(), '||')) {
      position++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): ClusterQuery => {
    let left = parseUnary();
    while (isWord(peek(), 'and') || isSymbol(peek(), '&&')) {
      position++;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): ClusterQuery => {
    const token = peek();
    if (isWord(token, 'not') || isSymbol(token, '!')) {
      position++;
      return { kind: 'not', operand: parseUnary() };
    }
    if (isSymbol(token, '(')) {
      position++;
      const inner = parseOr();
      if (!isSymbol(peek(), ')')) throw invalid(expression, `expected ')' but found ${describe(peek())}`);
      position++;
      return inner;
    }
    return parseTest();
  };
  const parseTest = (): ClusterQuery => {
    const token = peek();
    if (token?.kind !== 'word') throw invalid(expression, `expected a subject but found ${describe(token)}`);
    position++;
    const subject = subjectOf(expression, token.text);
    const operator = parseOperator();
    if (!VALID_OPERATORS[subject.kind].includes(operator)) {
      throw invalid(expression, `the operator '${operator}' is not supported for ${token.text}`);
    }
    if (operator === 'exists' || operator === '!exists') return { kind: 'test', subject, operator, values: [] };
    const values = operator === 'in' || operator === '!in' ? parseList() : [parseValue()];
    for (const value of values) checkValue(expression, subject, operator, value);
    return { kind: 'test', subject, operator, values };
  };
  const parseOperator = (): Operator => {
    const token = peek();
    if (isSymbol(token, '!') && isWord(tokens[position + 1], 'in', 'exists')) {
      position += 2;
      return OPERATOR_WORDS[`!${tokens[position - 1].text.toLowerCase()}`];
    }
    const operator = token && token.kind !== 'quoted' ? OPERATOR_WORDS[token.kind === 'word' ? token.text.toLowerCase() : token.text] : undefined;
    if (!operator) throw invalid(expression, `expected an operator but found ${describe(token)}`);
    position++;
    return operator;
  };
  const parseValue = (): string => {
    const token = peek();
    if (token?.kind === 'quoted' || (token?.kind === 'word' && !isWord(token, 'and', 'or', 'not'))) {
      position++;
      return token.text;
    }
    throw invalid(expression, `expected a value but found ${describe(token)}`);
  };
  const parseList = (): string[] => {
    if (!isSymbol(peek(), '[')) throw invalid(expression, `expected '[' to start a list of values but found ${describe(peek())}`);
    position++;
    const values = [parseValue()];
    while (isSymbol(peek(), ',')) {
      position++;
      values.push(parseValue());
    }
    if (!isSymbol(peek(), ']')) throw invalid(expression, `expected ',' or ']' but found ${describe(peek())}`);
    position++;
    return values;
  };

  const query = parseOr();
  if (position < tokens.length) throw invalid(expression, `unexpected ${describe(peek())}`);
  return query;
}

function subjectOf(expression: string, word: string): Subject {
  if (word.startsWith('attribute:')) {
    const name = word.slice('attribute:'.length);
    if (!ATTRIBUTE_NAME_PATTERN.test(name)) throw invalid(expression, `'${name}' is not a valid attribute name`);
    return { kind: 'attribute', name };
  }
  const builtIns = ['agentConnected', 'agentVersion', 'ec2InstanceId', 'registeredAt', 'runningTasksCount', 'task:group'] as const;
  const found = builtIns.find((b) => b === word);
  if (!found) {
    throw invalid(expression, `the subject '${word}' is not supported (supported: attribute:<name>, ${builtIns.join(', ')})`);
  }
  return { kind: found };
}

/** Values that could never compare are refused at once rather than silently matching nothing. */
function checkValue(expression: string, subject: Subject, operator: Operator, value: string) {
  if (operator === '=~' || operator === '!~') {
    compilePattern(expression, value);
    return;
  }
  if (subject.kind === 'registeredAt' && parseDate(value) === undefined) {
    throw invalid(expression, `'${value}' is not a date (use 2018-06-18T22:28:28Z, 2018-06-18T22:28:28+00:00, 2018-06-18T22:28:28 or 2018-06-18)`);
  }
  if (subject.kind === 'runningTasksCount' && !/^\d+$/.test(value)) throw invalid(expression, `'${value}' is not a task count`);
  if (subject.kind === 'agentConnected' && value !== 'true' && value !== 'false') {
    throw invalid(expression, `agentConnected is true or false, not '${value}'`);
  }
  if (subject.kind === 'agentVersion' && !/^\d+(\.\d+)*$/.test(value)) throw invalid(expression, `'${value}' is not a version`);
}

/** ECS's date formats for registeredAt; a date without an offset is UTC. */
export function parseDate(value: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?)?$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', zone = 'Z'] = match;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * `=~` patterns: the part of Java's regular expressions that needs no backtracking — literal
 * characters, `.` (any one character), `*` (any number of the previous item) and `\` escaping the
 * next character — matched against the whole value (Java's String.matches), so `t2.*` is "starts
 * with t2.". Anything else (classes, groups, alternation, other quantifiers, anchors) is refused:
 * a pattern Berth would read differently than ECS must not silently match something else.
 */
type PatternItem = { readonly char?: string; readonly repeat: boolean };

function compilePattern(expression: string, pattern: string): PatternItem[] {
  const items: PatternItem[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      const last = items[items.length - 1];
      if (!last || last.repeat) throw invalid(expression, `'*' at position ${i} of the pattern '${pattern}' repeats nothing`);
      items[items.length - 1] = { ...last, repeat: true };
    } else if (c === '\\') {
      if (i + 1 >= pattern.length) throw invalid(expression, `the pattern '${pattern}' ends with '\\'`);
      items.push({ char: pattern[++i], repeat: false });
    } else if ('[]{}()+?|^$'.includes(c)) {
      throw invalid(expression, `'${c}' in the pattern '${pattern}' is not supported (patterns support literal characters, '.', '*' and '\\')`);
    } else {
      items.push({ char: c === '.' ? undefined : c, repeat: false });
    }
  }
  return items;
}

/** Compiled patterns by text (validated when parsed), so placing over thousands of hosts compiles once. */
const PATTERNS = new Map<string, PatternItem[]>();
function compiledPattern(pattern: string): PatternItem[] {
  let items = PATTERNS.get(pattern);
  if (!items) {
    if (PATTERNS.size >= 1000) PATTERNS.clear(); // a bound, not an LRU: patterns are few and small
    items = compilePattern('', pattern);
    PATTERNS.set(pattern, items);
  }
  return items;
}

/** Whole-value match in O(value x pattern): no backtracking, whatever the pattern. */
function matchesPattern(items: readonly PatternItem[], value: string): boolean {
  // reachable[j]: the first j items can match the value read so far.
  let reachable = new Array<boolean>(items.length + 1).fill(false);
  reachable[0] = true;
  const close = (states: boolean[]) => {
    for (let j = 0; j < items.length; j++) if (states[j] && items[j].repeat) states[j + 1] = true;
    return states;
  };
  close(reachable);
  for (const c of value) {
    const next = new Array<boolean>(items.length + 1).fill(false);
    for (let j = 0; j < items.length; j++) {
      if (!reachable[j]) continue;
      const item = items[j];
      if (item.char !== undefined && item.char !== c) continue;
      if (item.repeat) next[j] = true;
      else next[j + 1] = true;
    }
    reachable = close(next);
  }
  return reachable[items.length];
}

/** True when the instance satisfies the query. */
export function matchesQuery(query: ClusterQuery, target: QueryTarget): boolean {
  switch (query.kind) {
    case 'and':
      return matchesQuery(query.left, target) && matchesQuery(query.right, target);
    case 'or':
      return matchesQuery(query.left, target) || matchesQuery(query.right, target);
    case 'not':
      return !matchesQuery(query.operand, target);
    case 'test':
      return holds(query.subject, query.operator, query.values, target);
  }
}

function holds(subject: Subject, operator: Operator, values: readonly string[], target: QueryTarget): boolean {
  switch (operator) {
    case '!=':
      return !holds(subject, '==', values, target);
    case '!in':
      return !holds(subject, 'in', values, target);
    case '!exists':
      return !holds(subject, 'exists', values, target);
    case '!~':
      return !holds(subject, '=~', values, target);
    default:
      break;
  }
  // task:group asks whether some task on the instance has a matching group (affinity).
  const candidates = valuesOf(subject, target);
  if (operator === 'exists') return candidates.length > 0;
  return candidates.some((actual) => {
    switch (operator) {
      case '==':
      case 'in':
        return values.some((v) => compare(subject, actual, v) === 0);
      case '=~':
        return matchesPattern(compiledPattern(values[0]), actual);
      case '>':
        return compare(subject, actual, values[0]) > 0;
      case '>=':
        return compare(subject, actual, values[0]) >= 0;
      case '<':
        return compare(subject, actual, values[0]) < 0;
      case '<=':
        return compare(subject, actual, values[0]) <= 0;
      default:
        return false;
    }
  });
}

/** The subject's value(s) on the instance; none when it has no such attribute. */
function valuesOf(subject: Subject, target: QueryTarget): string[] {
  switch (subject.kind) {
    case 'attribute': {
      const found = target.attributes.find((a) => a.name === subject.name);
      return found ? [found.value ?? ''] : [];
    }
    case 'agentConnected':
      return [String(target.agentConnected)];
    case 'agentVersion':
      return target.agentVersion ? [target.agentVersion] : [];
    case 'ec2InstanceId':
      return target.ec2InstanceId ? [target.ec2InstanceId] : [];
    case 'registeredAt':
      return [String(target.registeredAt)];
    case 'runningTasksCount':
      return [String(target.runningTasksCount)];
    case 'task:group':
      return Object.entries(target.taskGroups).filter(([, n]) => n > 0).map(([group]) => group);
  }
}

/** Numbers compare as numbers, dates as instants, versions part by part; anything else as text. */
function compare(subject: Subject, actual: string, wanted: string): number {
  if (subject.kind === 'registeredAt') return Number(actual) - (parseDate(wanted) ?? NaN);
  if (subject.kind === 'agentVersion') return compareVersions(actual, wanted);
  const [a, b] = [Number(actual), Number(wanted)];
  if (actual.trim() !== '' && wanted.trim() !== '' && Number.isFinite(a) && Number.isFinite(b)) return a - b;
  return actual < wanted ? -1 : actual > wanted ? 1 : 0;
}

function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return 0;
}

/** True when the query asks about the tasks on an instance (the caller then has to know them). */
export function mentionsTaskGroup(query: ClusterQuery): boolean {
  switch (query.kind) {
    case 'and':
    case 'or':
      return mentionsTaskGroup(query.left) || mentionsTaskGroup(query.right);
    case 'not':
      return mentionsTaskGroup(query.operand);
    case 'test':
      return query.subject.kind === 'task:group';
  }
}

/**
 * The cluster query language (src/domain/cluster-query.ts): what parses, what it means on an
 * instance, and what is refused with InvalidParameterException naming the unsupported part.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { matchesQuery, parseClusterQuery, parseDate, type QueryTarget } from '../../src/domain/cluster-query';

const REGISTERED = Date.parse('2018-06-18T22:28:28Z');

function instance(overrides: Partial<QueryTarget> = {}): QueryTarget {
  return {
    attributes: [
      { name: 'ecs.availability-zone', value: 'us-east-1a' },
      { name: 'ecs.instance-type', value: 't2.small' },
      { name: 'ecs.os-type', value: 'linux' },
      { name: 'stack', value: 'prod' },
      { name: 'ecs.capability.secrets.ssm.environment-variables' },
    ],
    agentConnected: true,
    agentVersion: '1.20.3',
    ec2InstanceId: 'i-abcd1234',
    registeredAt: REGISTERED,
    runningTasksCount: 2,
    taskGroups: { 'service:production': 1, 'family:batch': 0 },
    ...overrides,
  };
}

const holds = (expression: string, target = instance()) => matchesQuery(parseClusterQuery(expression), target);

describe('cluster query language: meaning on an instance', () => {
  it.each<{ expression: string; expected: boolean }>([
    // attributes: the examples
    { expression: 'attribute:ecs.instance-type == t2.small', expected: true },
    { expression: 'attribute:ecs.instance-type == t2.medium', expected: false },
    { expression: 'attribute:ecs.instance-type equals t2.small', expected: true },
    { expression: 'attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', expected: true },
    { expression: 'attribute:ecs.availability-zone in [us-east-1c, us-east-1d]', expected: false },
    { expression: 'attribute:ecs.availability-zone !in [us-east-1c]', expected: true },
    { expression: 'attribute:ecs.availability-zone not_in [us-east-1a]', expected: false },
    { expression: 'not(attribute:ecs.instance-type == t2.small)', expected: false },
    { expression: '!(attribute:ecs.instance-type == t2.medium)', expected: true },
    { expression: 'attribute:ecs.instance-type =~ t2.*', expected: true },
    { expression: 'attribute:ecs.instance-type matches g2.*', expected: false },
    { expression: 'attribute:ecs.instance-type !~ g2.*', expected: true },
    { expression: 'attribute:ecs.instance-type =~ t2', expected: false },
    { expression: 'attribute:ecs.instance-type =~ t2\\.small', expected: true },
    { expression: 'attribute:stack exists', expected: true },
    { expression: 'attribute:color exists', expected: false },
    { expression: 'attribute:color !exists', expected: true },
    { expression: 'attribute:color not_exists', expected: true },
    { expression: 'attribute:ecs.capability.secrets.ssm.environment-variables exists', expected: true },
    { expression: 'attribute:color != red', expected: true },
    { expression: "attribute:stack == 'prod'", expected: true },
    { expression: 'attribute:stack == "prod"', expected: true },
    // and/or, precedence, parentheses
    { expression: 'attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d', expected: true },
    { expression: 'attribute:ecs.instance-type =~ t2.* && attribute:ecs.availability-zone == us-east-1d', expected: false },
    { expression: 'attribute:stack == dev or attribute:stack == prod', expected: true },
    { expression: 'attribute:stack == dev || attribute:stack == qa', expected: false },
    { expression: 'attribute:stack == prod or attribute:stack == dev and attribute:color exists', expected: true },
    { expression: '(attribute:stack == prod or attribute:stack == dev) and attribute:color exists', expected: false },
    { expression: 'not attribute:color exists and attribute:stack == prod', expected: true },
    // built-ins
    { expression: 'ec2InstanceId == i-abcd1234', expected: true },
    { expression: "ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", expected: true },
    { expression: 'ec2InstanceId =~ i-wx.*', expected: false },
    { expression: 'agentConnected == true', expected: true },
    { expression: 'agentConnected == false', expected: false },
    { expression: 'agentVersion >= 1.20.0', expected: true },
    { expression: 'agentVersion < 1.3', expected: false },
    { expression: 'registeredAt < 2018-06-19', expected: true },
    { expression: 'registeredAt >= 2018-06-18T22:28:28Z', expected: true },
    { expression: 'registeredAt > 2018-06-18T22:28:28+00:00', expected: false },
    { expression: 'registeredAt == 2018-06-18T22:28:28', expected: true },
    { expression: 'registeredAt < 2018-06-18T23:28:28+02:00', expected: false },
    { expression: 'runningTasksCount == 2', expected: true },
    { expression: 'runningTasksCount < 2', expected: false },
    { expression: 'runningTasksCount >= 2', expected: true },
    // task:group: affinity and anti-affinity
    { expression: 'task:group == service:production', expected: true },
    { expression: 'task:group == family:batch', expected: false },
    { expression: 'not(task:group == service:production)', expected: false },
    { expression: 'task:group != service:database', expected: true },
    { expression: 'task:group =~ service:.*', expected: true },
  ])('$expression -> $expected', ({ expression, expected }) => {
    expect(holds(expression)).toBe(expected);
  });

  it('an instance without the ec2InstanceId answers no test but the negative ones', () => {
    const bare = instance({ ec2InstanceId: undefined });
    expect(holds('ec2InstanceId == i-abcd1234', bare)).toBe(false);
    expect(holds('ec2InstanceId != i-abcd1234', bare)).toBe(true);
  });

  it('numbers compare as numbers on attributes, text as text', () => {
    const target = instance({ attributes: [{ name: 'gpus', value: '10' }, { name: 'tier', value: 'b' }] });
    expect(holds('attribute:gpus > 9', target)).toBe(true);
    expect(holds('attribute:gpus <= 9', target)).toBe(false);
    expect(holds('attribute:tier > a', target)).toBe(true);
  });
});

describe('cluster query language: refused with InvalidParameterException naming the part', () => {
  it.each<{ name: string; expression: string; names: string }>([
    { name: 'a lone = is no operator', expression: 'attribute:stack = prod', names: "'='" },
    { name: 'an unknown subject', expression: 'instanceType == t2.small', names: "'instanceType'" },
    { name: 'an operator the subject does not take', expression: 'runningTasksCount =~ 1.*', names: "'=~'" },
    { name: 'ordering on ec2InstanceId', expression: 'ec2InstanceId > i-0', names: "'>'" },
    { name: 'a regex class', expression: 'attribute:ecs.instance-type =~ t[23].*', names: "'['" },
    { name: 'a regex group inside quotes', expression: "attribute:ecs.instance-type =~ '(t2|t3).*'", names: "'('" },
    { name: 'a regex quantifier +', expression: 'attribute:ecs.instance-type =~ t2.+', names: "'+'" },
    { name: 'a * with nothing to repeat', expression: 'attribute:ecs.instance-type =~ *small', names: "'*'" },
    { name: 'a date in another format', expression: 'registeredAt < 06/18/2018', names: "'06/18/2018'" },
    { name: 'a count that is not a number', expression: 'runningTasksCount == many', names: "'many'" },
    { name: 'agentConnected neither true nor false', expression: 'agentConnected == yes', names: "'yes'" },
    { name: 'in without a list', expression: 'attribute:stack in prod', names: "'['" },
    { name: 'an unclosed list', expression: 'attribute:stack in [prod, dev', names: "']'" },
    { name: 'an unclosed parenthesis', expression: '(attribute:stack == prod', names: "')'" },
    { name: 'a missing value', expression: 'attribute:stack ==', names: 'the end of the expression' },
    { name: 'a missing operator', expression: 'attribute:stack', names: 'operator' },
    { name: 'trailing words', expression: 'attribute:stack == prod dev', names: "'dev'" },
    { name: 'an unterminated quote', expression: "attribute:stack == 'prod", names: 'unterminated' },
    { name: 'a single &', expression: 'attribute:stack == prod & attribute:x exists', names: "'&'" },
    { name: 'an invalid attribute name', expression: 'attribute:st@ck == prod', names: "'st@ck'" },
    { name: 'an empty expression', expression: '   ', names: 'empty' },
    { name: 'over 2000 characters', expression: `attribute:stack == ${'a'.repeat(2000)}`, names: '2000' },
  ])('$name', ({ expression, names }) => {
    let thrown: unknown;
    try {
      parseClusterQuery(expression);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'InvalidParameterException' });
    expect((thrown as Error).message).toContain(names);
  });
});

describe('cluster query language: properties', () => {
  const values = fc.constantFrom('a', 'b', 'prod', 't2.small', 'us-east-1a');
  const target = fc.record({ stack: fc.option(values, { nil: undefined }) }).map(({ stack }) =>
    instance({ attributes: stack === undefined ? [] : [{ name: 'stack', value: stack }] }),
  );

  it('every negative operator is exactly not of its positive one', () => {
    fc.assert(
      fc.property(target, values, (t, v) => {
        expect(holds(`attribute:stack != ${v}`, t)).toBe(!holds(`attribute:stack == ${v}`, t));
        expect(holds(`attribute:stack !in [${v}, x]`, t)).toBe(!holds(`attribute:stack in [${v}, x]`, t));
        expect(holds('attribute:stack !exists', t)).toBe(!holds('attribute:stack exists', t));
        expect(holds(`attribute:stack !~ ${v}.*`, t)).toBe(!holds(`attribute:stack =~ ${v}.*`, t));
      }),
    );
  });

  it('a pattern of literal characters matches exactly the equal value; `.*` after it, the values starting with it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.stringMatching(/^[a-z0-9-]{0,12}$/), (value, prefix) => {
        const t = instance({ attributes: [{ name: 'x', value }] });
        expect(holds(`attribute:x =~ '${prefix}'`, t)).toBe(value === prefix);
        expect(holds(`attribute:x =~ '${prefix}.*'`, t)).toBe(value.startsWith(prefix));
      }),
    );
  });

  it('no pattern backtracks: many stars against a long value answer at once', () => {
    const t = instance({ attributes: [{ name: 'x', value: 'a'.repeat(128) }] });
    expect(holds(`attribute:x =~ ${'a*'.repeat(300)}b`, t)).toBe(false);
    expect(holds(`attribute:x =~ ${'a*'.repeat(300)}`, t)).toBe(true);
  });

  it('parses every date format ECS lists, and nothing else', () => {
    expect(parseDate('2018-06-18T22:28:28+00:00')).toBe(REGISTERED);
    expect(parseDate('2018-06-18T22:28:28Z')).toBe(REGISTERED);
    expect(parseDate('2018-06-18T22:28:28')).toBe(REGISTERED);
    expect(parseDate('2018-06-18')).toBe(Date.parse('2018-06-18T00:00:00Z'));
    expect(parseDate('2018-13-18')).toBeUndefined();
    expect(parseDate('yesterday')).toBeUndefined();
  });
});

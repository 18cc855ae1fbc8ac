import { describe, expect, it } from 'vitest';
import {
  InvalidEventPatternError,
  matchesEventPattern,
  validateEventPattern,
  type EventPattern,
} from '../../src/domain/event-pattern';

// Row titles name their source:
//   [EB patterns]  EventBridge guide, "Amazon EventBridge event patterns" (and its "Value matching" / Macie example)
//   [EB arrays]    "Arrays in Amazon EventBridge event patterns"
//   [EB null]      "Matching null values and empty strings in Amazon EventBridge event patterns"
//   [EB filtering] "Content filtering in Amazon EventBridge event patterns" / "Comparison operators"
//   [Ruler]        aws/event-ruler README (the matcher EventBridge is built on)
//   [LS name]      LocalStack's AWS-validated test-event-pattern template `name` (recorded against real AWS)

/** "Amazon EventBridge event patterns": the EC2 instance-termination event. */
const EC2_TERMINATED = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

/** event-ruler README "Ruler by Example" event, the one all its content-filter examples match. */
const RULER_EVENT = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

/** "Matching null values and empty strings": the Auto Scaling launch event. */
const AUTOSCALING_LAUNCH = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

/** "Value matching": the (truncated) Macie alert. */
const MACIE_ALERT = {
  'detail-type': 'Macie Alert',
  source: 'aws.macie',
  detail: { 'notification-type': 'ALERT_CREATED', tags: ['Custom_Alert', 'Insider'], 'risk-score': 80, trigger: { risk: 8 } },
};

/** A Berth "ECS Task State Change" event, shaped like ECS's own. */
const ecsTaskEvent = (detail: Record<string, unknown>) => ({
  version: '0',
  id: '3317b2af-7005-947d-b652-f55e762e571a',
  'detail-type': 'ECS Task State Change',
  source: 'berth.ecs',
  account: '123456789012',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:ecs:us-east-1:123456789012:task/default/0f2c6e3a8b1d4e5f9a7b6c5d4e3f2a1b'],
  detail: {
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/default',
    taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/default/0f2c6e3a8b1d4e5f9a7b6c5d4e3f2a1b',
    desiredStatus: 'RUNNING',
    lastStatus: 'RUNNING',
    containers: [
      { name: 'app', lastStatus: 'RUNNING' },
      { name: 'sidecar', lastStatus: 'RUNNING' },
    ],
    ...detail,
  },
});
const ECS_STOPPED = ecsTaskEvent({
  desiredStatus: 'STOPPED',
  lastStatus: 'STOPPED',
  stopCode: 'EssentialContainerExited',
  containers: [
    { name: 'app', lastStatus: 'STOPPED', exitCode: 1 },
    { name: 'sidecar', lastStatus: 'STOPPED', exitCode: 0 },
  ],
});
const ECS_RUNNING = ecsTaskEvent({});

/** Shorthand for a one-field `detail` event and pattern. */
const detail = (fields: Record<string, unknown>) => ({ detail: fields });

type Row = { name: string; pattern: EventPattern; event: unknown; expected: boolean };

function check({ pattern, event, expected }: Row): void {
  validateEventPattern(pattern); // every pattern in these tables is one EventBridge accepts
  expect(matchesEventPattern(pattern, event)).toBe(expected);
}

describe('exact values, arrays, nesting, null and empty strings', () => {
  const EC2_TERMINATION_PATTERN = {
    source: ['aws.ec2'],
    'detail-type': ['EC2 Instance State-change Notification'],
    detail: { state: ['terminated'] },
  };
  it.each<Row>([
    { name: '[EB patterns] instance-termination pattern matches the EC2 event', pattern: EC2_TERMINATION_PATTERN, event: EC2_TERMINATED, expected: true },
    { name: '[EB patterns] instance-termination pattern does not match a running instance', pattern: EC2_TERMINATION_PATTERN, event: RULER_EVENT, expected: false },
    { name: '[EB patterns] match values: source is aws.ec2 OR aws.fargate', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: EC2_TERMINATED, expected: true },
    { name: '[EB patterns] match values: aws.s3 is in neither', pattern: { source: ['aws.ec2', 'aws.fargate'] }, event: { ...EC2_TERMINATED, source: 'aws.s3' }, expected: false },
    { name: '[EB patterns] strings match exactly, without case folding', pattern: { detail: { state: ['Terminated'] } }, event: EC2_TERMINATED, expected: false },
    { name: '[EB patterns] every pattern field must be present (AND)', pattern: { source: ['aws.ec2'], detail: { reason: ['x'] } }, event: EC2_TERMINATED, expected: false },
    { name: '[EB patterns] fields must appear with the same nesting', pattern: { state: ['terminated'] }, event: EC2_TERMINATED, expected: false },
    { name: '[EB patterns] value matching: Macie risk-score 80 and trigger.risk 8', pattern: { source: ['aws.macie'], 'detail-type': ['Macie Alert'], detail: { 'risk-score': [80], trigger: { risk: [8] } } }, event: MACIE_ALERT, expected: true },
    { name: '[EB patterns] value matching: a different risk score does not match', pattern: { detail: { 'risk-score': [90] } }, event: MACIE_ALERT, expected: false },
    { name: '[EB patterns] a number pattern does not match the string "80"', pattern: { detail: { 'risk-score': ['80'] } }, event: MACIE_ALERT, expected: false },
    { name: '[LS number_comparison_float] numbers compare by value: [300] matches 300.0', pattern: { number: [300] }, event: JSON.parse('{"number": 300.0}'), expected: true },
    { name: 'true matches the JSON literal true', pattern: { detail: { enabled: [true] } }, event: detail({ enabled: true }), expected: true },
    { name: '[LS boolean_NEG] [false] does not match true', pattern: { boolean: [false] }, event: { boolean: true }, expected: false },
    { name: 'true does not match the string "true"', pattern: { detail: { enabled: [true] } }, event: detail({ enabled: 'true' }), expected: false },
    { name: '[EB arrays] event array matches when the intersection is non-empty', pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] }, event: { resources: ['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate', 'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] }, expected: true },
    { name: '[LS arrays_NEG] no element in common', pattern: { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] }, event: { resources: ['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate'] }, expected: false },
    { name: '[EB patterns] Macie tags array contains Insider', pattern: { detail: { tags: ['Insider'] } }, event: MACIE_ALERT, expected: true },
    { name: '[EB null] responseElements [null] matches a null value', pattern: { source: ['aws.autoscaling'], detail: { responseElements: [null] } }, event: AUTOSCALING_LAUNCH, expected: true },
    { name: '[EB null] eventVersion [""] matches an empty string', pattern: { detail: { eventVersion: [''] } }, event: AUTOSCALING_LAUNCH, expected: true },
    { name: '[EB null] null and empty string are not interchangeable ([""] vs null)', pattern: { detail: { responseElements: [''] } }, event: AUTOSCALING_LAUNCH, expected: false },
    { name: '[EB null] null and empty string are not interchangeable ([null] vs "")', pattern: { detail: { eventVersion: [null] } }, event: AUTOSCALING_LAUNCH, expected: false },
    { name: '[LS arrays_empty_null_NEG] [null] does not match an empty array', pattern: { resources: [null] }, event: AUTOSCALING_LAUNCH, expected: false },
    { name: '[EB patterns] [null] does not match a missing field', pattern: { detail: { missing: [null] } }, event: AUTOSCALING_LAUNCH, expected: false },
    { name: '[Ruler] JSON array matching: objects in an array are matched element-wise', pattern: { employees: { firstName: ['Anna'] } }, event: { employees: [{ firstName: 'John', lastName: 'Doe' }, { firstName: 'Anna', lastName: 'Smith' }] }, expected: true },
    { name: '[Ruler] JSON array matching: fields from different elements never combine', pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event: { employees: [{ firstName: 'Anna', lastName: 'Smith' }, { firstName: 'Peter', lastName: 'Jones' }] }, expected: false },
    { name: '[Ruler] JSON array matching: multi-level arrays are flattened', pattern: { employees: { firstName: ['Peter'] } }, event: { employees: [[{ firstName: 'John' }], [{ firstName: 'Peter' }]] }, expected: true },
    { name: 'a leaf matcher does not match an object-valued field', pattern: { detail: ['x'] }, event: { detail: { state: 'x' } }, expected: false },
    { name: 'a non-object event matches nothing that needs a value', pattern: { source: ['aws.ec2'] }, event: 'aws.ec2', expected: false },
  ])('$name', check);
});

describe('prefix, suffix, equals-ignore-case', () => {
  it.each<Row>([
    { name: '[EB filtering] prefix: time starts with 2017-10-02', pattern: { time: [{ prefix: '2017-10-02' }] }, event: RULER_EVENT, expected: true },
    { name: '[EB filtering] prefix: 2017-12-22 does not start with 2017-10-02', pattern: { time: [{ prefix: '2017-10-02' }] }, event: EC2_TERMINATED, expected: false },
    { name: '[EB filtering] prefix is case-sensitive', pattern: { time: [{ prefix: '2017-10-02t' }] }, event: RULER_EVENT, expected: false },
    { name: '[Ruler] prefix only works on strings (number 5 vs prefix "5")', pattern: { detail: { 'c-count': [{ prefix: '5' }] } }, event: RULER_EVENT, expected: false },
    { name: '[EB filtering] prefix equals-ignore-case: EventB matches eventbridge', pattern: detail({ service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }), event: detail({ service: 'eventbridge' }), expected: true },
    { name: '[EB filtering] prefix equals-ignore-case: EventB matches EVENTBUS', pattern: detail({ service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }), event: detail({ service: 'EVENTBUS' }), expected: true },
    { name: '[EB filtering] prefix equals-ignore-case: S3 does not start with EventB', pattern: detail({ service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }), event: detail({ service: 'S3' }), expected: false },
    { name: '[EB filtering] suffix: FileName ends with .png', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'dir/image.png' }, expected: true },
    { name: '[EB filtering] suffix is case-sensitive (.PNG)', pattern: { FileName: [{ suffix: '.png' }] }, event: { FileName: 'dir/image.PNG' }, expected: false },
    { name: '[Ruler] suffix: source ends with ec2', pattern: { source: [{ suffix: 'ec2' }] }, event: RULER_EVENT, expected: true },
    { name: '[EB filtering] suffix equals-ignore-case: .png matches .PNG', pattern: detail({ FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }), event: detail({ FileName: 'IMAGE.PNG' }), expected: true },
    { name: '[EB filtering] suffix equals-ignore-case: .jpg does not end with .png', pattern: detail({ FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }), event: detail({ FileName: 'image.jpg' }), expected: false },
    { name: '[EB filtering] equals-ignore-case: Name alice matches ALICE', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'ALICE' }, expected: true },
    { name: '[EB filtering] equals-ignore-case is whole-value: alice vs Alicia', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'Alicia' }, expected: false },
    { name: '[Ruler] equals-ignore-case only works on strings', pattern: { n: [{ 'equals-ignore-case': '5' }] }, event: { n: 5 }, expected: false },
    { name: '[LS content_ignorecase_empty] equals-ignore-case "" matches ""', pattern: detail({ value: [{ 'equals-ignore-case': '' }] }), event: detail({ value: '' }), expected: true },
  ])('$name', check);
});

describe('wildcard', () => {
  it.each<Row>([
    { name: '[Ruler] Simple*Service matches SimpleQueueService', pattern: { source: [{ wildcard: 'Simple*Service' }] }, event: { source: 'SimpleQueueService' }, expected: true },
    { name: '[Ruler] * matches zero characters (SimpleService)', pattern: { source: [{ wildcard: 'Simple*Service' }] }, event: { source: 'SimpleService' }, expected: true },
    { name: '[Ruler] wildcard is case-sensitive', pattern: { source: [{ wildcard: 'Simple*Service' }] }, event: { source: 'simpleQueueService' }, expected: false },
    { name: '[EB filtering] dir/*.png matches dir/init.png', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'dir/init.png' }, expected: true },
    { name: '[EB filtering] * also spans slashes (dir/sub/init.png)', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'dir/sub/init.png' }, expected: true },
    { name: '[EB filtering] dir/*.png does not match dir/init.jpg', pattern: { FileName: [{ wildcard: 'dir/*.png' }] }, event: { FileName: 'dir/init.jpg' }, expected: false },
    { name: '[LS content_wildcard_repeating] /Users/*/dir/dir/dir/dir/dir/doc.txt', pattern: { FileName: [{ wildcard: '/Users/*/dir/dir/dir/dir/dir/doc.txt' }] }, event: { FileName: '/Users/ls_user/dir/dir/dir/dir/dir/doc.txt' }, expected: true },
    { name: '[EB filtering] wildcard: event bus ARN in any account', pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }, event: { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus' }, expected: true },
    { name: 'wildcard: pieces may not overlap (*ab*ab vs ab)', pattern: { v: [{ wildcard: '*ab*ab' }] }, event: { v: 'ab' }, expected: false },
    { name: 'wildcard: pieces may sit back to back (*ab*ab vs abab)', pattern: { v: [{ wildcard: '*ab*ab' }] }, event: { v: 'abab' }, expected: true },
    { name: '[Ruler] escaped \\* matches a literal asterisk', pattern: { v: [{ wildcard: 'a\\*b' }] }, event: { v: 'a*b' }, expected: true },
    { name: '[Ruler] escaped \\* is not a wildcard', pattern: { v: [{ wildcard: 'a\\*b' }] }, event: { v: 'axb' }, expected: false },
    { name: '[Ruler] escaped \\\\ is a literal backslash before a real wildcard', pattern: { path: [{ wildcard: 'C:\\\\*' }] }, event: { path: 'C:\\Windows' }, expected: true },
    { name: '[Ruler] wildcard only works on strings', pattern: { n: [{ wildcard: '1*' }] }, event: { n: 123 }, expected: false },
  ])('$name', check);
});

describe('anything-but', () => {
  it.each<Row>([
    { name: '[EB filtering] anything-but "initializing" matches running', pattern: detail({ state: [{ 'anything-but': 'initializing' }] }), event: RULER_EVENT, expected: true },
    { name: '[EB filtering] anything-but "initializing" excludes initializing', pattern: detail({ state: [{ 'anything-but': 'initializing' }] }), event: detail({ state: 'initializing' }), expected: false },
    { name: '[EB filtering] anything-but 123 matches x-limit 301.8', pattern: detail({ 'x-limit': [{ 'anything-but': 123 }] }), event: RULER_EVENT, expected: true },
    { name: '[EB filtering] anything-but 123 excludes 123', pattern: detail({ 'x-limit': [{ 'anything-but': 123 }] }), event: detail({ 'x-limit': 123 }), expected: false },
    { name: '[EB filtering] anything-but ["stopped","overloaded"] matches running', pattern: detail({ state: [{ 'anything-but': ['stopped', 'overloaded'] }] }), event: RULER_EVENT, expected: true },
    { name: '[EB filtering] anything-but ["stopped","overloaded"] excludes overloaded', pattern: detail({ state: [{ 'anything-but': ['stopped', 'overloaded'] }] }), event: detail({ state: 'overloaded' }), expected: false },
    { name: '[EB filtering] anything-but [100,200,300] matches 301.8', pattern: detail({ 'x-limit': [{ 'anything-but': [100, 200, 300] }] }), event: RULER_EVENT, expected: true },
    { name: '[EB filtering] anything-but [100,200,300] excludes 300.0 (numeric compare)', pattern: detail({ 'x-limit': [{ 'anything-but': [100, 200, 300] }] }), event: JSON.parse('{"detail": {"x-limit": 300.0}}'), expected: false },
    { name: '[LS content_anything_but_number_zero] anything-but 0 matches 789', pattern: detail({ 'x-limit': [{ 'anything-but': 0 }] }), event: detail({ 'x-limit': 789 }), expected: true },
    { name: '[EB filtering] anything-but prefix "init" matches running', pattern: detail({ state: [{ 'anything-but': { prefix: 'init' } }] }), event: RULER_EVENT, expected: true },
    { name: '[EB filtering] anything-but prefix "init" excludes initializing', pattern: detail({ state: [{ 'anything-but': { prefix: 'init' } }] }), event: detail({ state: 'initializing' }), expected: false },
    { name: '[EB filtering] anything-but prefix "us-": Region eu-west-1 is not in the US', pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] }, event: { Region: 'eu-west-1' }, expected: true },
    { name: '[LS content_anything_prefix_list] anything-but prefix ["init","test"] matches post-init', pattern: detail({ state: [{ 'anything-but': { prefix: ['init', 'test'] } }] }), event: detail({ state: 'post-init' }), expected: true },
    { name: 'anything-but prefix list excludes any listed prefix', pattern: { Region: [{ 'anything-but': { prefix: ['us-', 'eu-'] } }] }, event: { Region: 'eu-west-1' }, expected: false },
    { name: '[EB filtering] anything-but suffix ".png" matches a .txt file', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'notes.txt' }, expected: true },
    { name: '[EB filtering] anything-but suffix ".png" excludes a .png file', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'image.png' }, expected: false },
    { name: '[EB filtering] anything-but equals-ignore-case excludes INITIALIZING', pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, event: { state: 'INITIALIZING' }, expected: false },
    { name: '[EB filtering] anything-but equals-ignore-case matches running', pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, event: { state: 'running' }, expected: true },
    { name: '[EB filtering] anything-but wildcard "*/lib/*" excludes /usr/lib/libc.so', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/lib/libc.so' }, expected: false },
    { name: '[EB filtering] anything-but wildcard "*/lib/*" matches /usr/bin/env', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/bin/env' }, expected: true },
    { name: '[LS content_anything_but_string_missing_NEG] anything-but never matches a missing field', pattern: detail({ state: [{ 'anything-but': 'initializing' }] }), event: { detail: {} }, expected: false },
    { name: 'anything-but prefix never matches a missing field', pattern: detail({ state: [{ 'anything-but': { prefix: 'init' } }] }), event: { detail: {} }, expected: false },
    { name: '[LS content_anything_but_string_null] anything-but matches a null value', pattern: detail({ state: [{ 'anything-but': 'initializing' }] }), event: detail({ state: null }), expected: true },
    { name: '[LS content_anything_wildcard_list_null] anything-but wildcard list matches null', pattern: detail({ state: [{ 'anything-but': { wildcard: ['*/init/*', '*/dir/*'] } }] }), event: detail({ state: null }), expected: true },
    { name: '[LS content_anything_prefix_int_value] anything-but prefix matches a number', pattern: detail({ state: [{ 'anything-but': { prefix: 'init' } }] }), event: detail({ state: 12 }), expected: true },
    { name: '[LS content_anything_wildcard_int] anything-but wildcard matches a number', pattern: detail({ FilePath: [{ 'anything-but': { wildcard: '*/dir/*' } }] }), event: detail({ FilePath: 123 }), expected: true },
    { name: '[Ruler] array field: anything-but excludes a one-element array of the value', pattern: detail({ category: [{ 'anything-but': ['blocked'] }] }), event: detail({ category: ['blocked'] }), expected: false },
    { name: '[Ruler] array field: elements are tested one by one, so another element matches', pattern: detail({ category: [{ 'anything-but': ['blocked'] }] }), event: detail({ category: ['blocked', 'ok'] }), expected: true },
  ])('$name', check);
});

describe('numeric', () => {
  const README_NUMERIC = {
    detail: {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    },
  };
  const cCount = (n: unknown) => detail({ 'c-count': n });
  const range = { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } };
  it.each<Row>([
    { name: '[EB filtering] c-count (0,5], d-count <10, x-limit = 3.018e2 all hold', pattern: README_NUMERIC, event: RULER_EVENT, expected: true },
    { name: '[EB filtering] all fields must hold: d-count 10 is not < 10', pattern: README_NUMERIC, event: { detail: { ...RULER_EVENT.detail, 'd-count': 10 } }, expected: false },
    { name: '[EB filtering] upper bound <= 5 is inclusive', pattern: range, event: cCount(5), expected: true },
    { name: '[EB filtering] just above the upper bound', pattern: range, event: cCount(5.000001), expected: false },
    { name: '[EB filtering] lower bound > 0 is exclusive', pattern: range, event: cCount(0), expected: false },
    { name: '[EB filtering] fractional value inside the range', pattern: range, event: cCount(0.5), expected: true },
    { name: '>= is inclusive', pattern: detail({ 'c-count': [{ numeric: ['>=', 5] }] }), event: cCount(5), expected: true },
    { name: 'negative numbers compare numerically', pattern: detail({ 'c-count': [{ numeric: ['<', -1] }] }), event: cCount(-2.5), expected: true },
    { name: '[EB filtering] numeric only works on JSON numbers ("3" is a string)', pattern: range, event: cCount('3'), expected: false },
    { name: '[Ruler] numbers beyond ±5e9 are not comparable', pattern: detail({ 'c-count': [{ numeric: ['>', 0] }] }), event: cCount(6e9), expected: false },
    { name: 'numeric against an array field: any element in range', pattern: range, event: cCount([9, 3]), expected: true },
    { name: 'numeric on a missing field never matches', pattern: range, event: detail({}), expected: false },
  ])('$name', check);
});

describe('exists', () => {
  const hasState = { detail: { state: [{ exists: true }] } };
  const noCCount = { detail: { 'c-count': [{ exists: false }] } };
  it.each<Row>([
    { name: '[EB filtering] exists true matches an event with detail.state', pattern: hasState, event: { ...EC2_TERMINATED, detail: { 'instance-id': 'i-abcd1111', state: 'pending' } }, expected: true },
    { name: '[EB filtering][LS content_exists_NEG] exists true: no detail.state field', pattern: hasState, event: { 'detail-type': 'EC2 Instance State-change Notification', detail: { 'c-count': { c1: 100 } } }, expected: false },
    { name: '[Ruler] exists false matches when detail.c-count is absent', pattern: noCCount, event: { detail: { state: ['initializing', 'running'] } }, expected: true },
    { name: '[Ruler] exists false also matches because c-count is not a leaf', pattern: noCCount, event: { detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } } }, expected: true },
    { name: '[Ruler] exists false does not match a present leaf', pattern: noCCount, event: RULER_EVENT, expected: false },
    { name: '[LS content_exists_false_NEG] exists false on a deep present leaf', pattern: { detail: { level1: { level2: { level3: { level4: [{ exists: false }] } } } } }, event: { detail: { level1: { level2: { level3: { level4: 'l4 value' } } } } }, expected: false },
    { name: 'exists false matches when the whole parent is missing', pattern: noCCount, event: { source: 'x' }, expected: true },
    { name: 'exists true counts a null value as present (value not considered)', pattern: hasState, event: detail({ state: null }), expected: true },
    { name: 'exists true: an empty array has no leaf', pattern: { resources: [{ exists: true }] }, event: AUTOSCALING_LAUNCH, expected: false },
    { name: 'exists false: an empty array has no leaf', pattern: { resources: [{ exists: false }] }, event: AUTOSCALING_LAUNCH, expected: true },
  ])('$name', check);
});

describe('cidr', () => {
  const subnet = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
  const ip = (a: unknown) => detail({ sourceIPAddress: a });
  it.each<Row>([
    { name: '[EB filtering] 10.0.0.0/24 contains 10.0.0.255', pattern: subnet, event: ip('10.0.0.255'), expected: true },
    { name: '[EB filtering] 10.0.0.0/24 contains 10.0.0.0', pattern: subnet, event: ip('10.0.0.0'), expected: true },
    { name: '10.0.0.0/24 does not contain 10.0.1.1', pattern: subnet, event: ip('10.0.1.1'), expected: false },
    { name: '[Ruler] complex example: source-ip 10.0.0.33 in 10.0.0.0/8', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } }, event: RULER_EVENT, expected: true },
    { name: '[LS content_ip_address_v6] 2001:db8:1234:1a00::/64 contains the expanded address', pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8:1234:1a00::/64' }] } }, event: ip('2001:0db8:1234:1a00:0000:0000:0000:0000'), expected: true },
    { name: 'IPv6 outside the /64', pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8:1234:1a00::/64' }] } }, event: ip('2001:db8:1234:1a01::1'), expected: false },
    { name: '[LS content_ip_address_bad_type_NEG] cidr does not match a number', pattern: subnet, event: ip(123), expected: false },
    { name: 'cidr does not match a non-IP string', pattern: subnet, event: ip('ten.zero.zero.one'), expected: false },
    { name: 'an IPv4 block does not contain an IPv6 address', pattern: subnet, event: ip('::1'), expected: false },
    { name: '0.0.0.0/0 contains any IPv4 address', pattern: { detail: { sourceIPAddress: [{ cidr: '0.0.0.0/0' }] } }, event: ip('192.168.1.1'), expected: true },
    { name: '[Ruler CIDR.cidr] host bits are not cleared: 10.0.0.5/24 starts at 10.0.0.5', pattern: { a: [{ cidr: '10.0.0.5/24' }] }, event: { a: '10.0.0.4' }, expected: false },
    { name: 'IPv4-mapped IPv6 address counts as IPv4 (as Java InetAddress does)', pattern: subnet, event: ip('::ffff:10.0.0.7'), expected: true },
  ])('$name', check);
});

describe('$or', () => {
  const normalOr = {
    source: ['aws.cloudwatch'],
    $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
  };
  const nestedOr = {
    source: ['aws.cloudwatch'],
    $or: [
      { metricName: ['CPUUtilization', 'ReadLatency'] },
      { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
      { scope: ['Service'] },
    ],
  };
  const parallelOr = {
    $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
  };
  const dynamodbOr = {
    dynamodb: { NewImage: { homemade: { S: [{ 'anything-but': ['roses'] }, { exists: false }] } } },
  };
  it.each<Row>([
    { name: '[Ruler] normal $or: source AND (metricName OR namespace) via namespace', pattern: normalOr, event: { source: 'aws.cloudwatch', namespace: 'AWS/EC2' }, expected: true },
    { name: '[Ruler] normal $or: neither branch holds', pattern: normalOr, event: { source: 'aws.cloudwatch', namespace: 'AWS/S3' }, expected: false },
    { name: '[Ruler] normal $or: a branch holds but source does not', pattern: normalOr, event: { source: 'aws.ec2', metricName: 'CPUUtilization' }, expected: false },
    { name: '[Ruler] nested $or inside an AND branch', pattern: nestedOr, event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1000 }, expected: true },
    { name: '[Ruler] nested $or: the AND branch misses its inner $or', pattern: nestedOr, event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1 }, expected: false },
    { name: '[Ruler] parallel $or at the top level and inside detail', pattern: parallelOr, event: { metricName: 'ReadLatency', detail: { 'detail-type': 'CloudWatch Alarm State Change' } }, expected: true },
    { name: '[Ruler] parallel $or: detail $or fails', pattern: parallelOr, event: { metricName: 'ReadLatency', detail: { source: 'aws.ec2' } }, expected: false },
    { name: '[LS or-exists] OR list of anything-but and exists false: S is absent', pattern: dynamodbOr, event: { dynamodb: { NewImage: { homemade: { N: '789' } } } }, expected: true },
    { name: '[LS or-exists-parent] same pattern when the parent "homemade" is absent', pattern: dynamodbOr, event: { dynamodb: { NewImage: { purchased: { N: '789' } } } }, expected: true },
    { name: '[LS or-anything-but] same pattern when S is ABCD (not roses)', pattern: dynamodbOr, event: { dynamodb: { NewImage: { homemade: { S: 'ABCD', N: '1234' } } } }, expected: true },
    { name: 'same pattern when S is roses: neither branch holds', pattern: dynamodbOr, event: { dynamodb: { NewImage: { homemade: { S: 'roses' } } } }, expected: false },
  ])('$name', check);
});

describe('composite examples and Berth ECS events', () => {
  const COMPLEX = {
    time: [{ prefix: '2017-10-02' }],
    detail: {
      state: [{ 'anything-but': 'initializing' }],
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ 'anything-but': [100, 200, 300] }],
      'source-ip': [{ cidr: '10.0.0.0/8' }],
    },
  };
  const STOPPED_IN_DEFAULT = {
    source: ['berth.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: { lastStatus: ['STOPPED'], clusterArn: ['arn:aws:ecs:us-east-1:123456789012:cluster/default'] },
  };
  it.each<Row>([
    { name: '[EB filtering][Ruler] complex example: prefix, anything-but, numeric and cidr together', pattern: COMPLEX, event: RULER_EVENT, expected: true },
    { name: '[EB filtering] complex example fails when x-limit is excluded', pattern: COMPLEX, event: { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, 'x-limit': 200 } }, expected: false },
    { name: 'ECS: STOPPED task in the default cluster', pattern: STOPPED_IN_DEFAULT, event: ECS_STOPPED, expected: true },
    { name: 'ECS: a RUNNING task is not STOPPED', pattern: STOPPED_IN_DEFAULT, event: ECS_RUNNING, expected: false },
    { name: 'ECS: another cluster does not match the clusterArn', pattern: STOPPED_IN_DEFAULT, event: { ...ECS_STOPPED, detail: { ...ECS_STOPPED.detail, clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod' } }, expected: false },
    { name: 'ECS: aws.ecs rules do not see berth.ecs events', pattern: { ...STOPPED_IN_DEFAULT, source: ['aws.ecs'] }, event: ECS_STOPPED, expected: false },
    { name: 'ECS: clusterArn wildcard over any account and region', pattern: { 'detail-type': ['ECS Task State Change'], detail: { clusterArn: [{ wildcard: 'arn:aws:ecs:*:*:cluster/default' }] } }, event: ECS_RUNNING, expected: true },
    { name: 'ECS: lastStatus anything-but RUNNING/PENDING', pattern: { detail: { lastStatus: [{ 'anything-but': ['RUNNING', 'PENDING'] }] } }, event: ECS_STOPPED, expected: true },
    { name: 'ECS: $or lastStatus STOPPED or stopCode exists (neither on a running task)', pattern: { detail: { $or: [{ lastStatus: ['STOPPED'] }, { stopCode: [{ exists: true }] }] } }, event: ECS_RUNNING, expected: false },
    { name: 'ECS: a container exited non-zero (array of objects, numeric)', pattern: { detail: { containers: { exitCode: [{ numeric: ['>', 0] }] } } }, event: ECS_STOPPED, expected: true },
    { name: 'ECS: container name and exit code must come from the same container', pattern: { detail: { containers: { name: ['sidecar'], exitCode: [{ numeric: ['>', 0] }] } } }, event: ECS_STOPPED, expected: false },
    { name: 'ECS: stopCode absent on a running task (exists false)', pattern: { detail: { stopCode: [{ exists: false }] } }, event: ECS_RUNNING, expected: true },
  ])('$name', check);
});

describe('validateEventPattern rejects malformed patterns', () => {
  it.each<{ name: string; pattern: unknown; reason: RegExp }>([
    { name: 'null', pattern: null, reason: /Filter is not an object/ },
    { name: 'an array', pattern: [{ source: ['a'] }], reason: /Filter is not an object/ },
    { name: 'a string', pattern: '{"source":["a"]}', reason: /Filter is not an object/ },
    { name: 'an empty object', pattern: {}, reason: /Empty objects are not allowed/ },
    { name: 'an empty nested object', pattern: { detail: {} }, reason: /Empty objects are not allowed/ },
    { name: 'a bare value instead of an array', pattern: { source: 'aws.ec2' }, reason: /"source" must be an object or an array/ },
    { name: '[LS arrays_empty_EXC] an empty array', pattern: { resources: [] }, reason: /Empty arrays are not allowed/ },
    { name: 'a nested array as a match value', pattern: { source: [['aws.ec2']] }, reason: /Match value must be String, number, true, false, or null/ },
    { name: 'an unknown operator', pattern: { source: [{ contains: 'ec2' }] }, reason: /Unrecognized match type contains/ },
    { name: 'an empty match object', pattern: { source: [{}] }, reason: /expression name not found/ },
    { name: 'two operators in one match object', pattern: { source: [{ prefix: 'a', suffix: 'b' }] }, reason: /Only one key allowed/ },
    { name: 'prefix with a number', pattern: { source: [{ prefix: 5 }] }, reason: /prefix match pattern must be a string/ },
    { name: 'prefix with an unknown nested operator', pattern: { source: [{ prefix: { wildcard: 'a*' } }] }, reason: /Unsupported prefix pattern: wildcard/ },
    { name: 'suffix equals-ignore-case with a number', pattern: { source: [{ suffix: { 'equals-ignore-case': 1 } }] }, reason: /equals-ignore-case match pattern must be a string/ },
    { name: 'equals-ignore-case with a list', pattern: { source: [{ 'equals-ignore-case': ['a'] }] }, reason: /equals-ignore-case match pattern must be a string/ },
    { name: '[Ruler] wildcard with consecutive *', pattern: { source: [{ wildcard: 'a**b' }] }, reason: /Consecutive wildcard characters/ },
    { name: '[Ruler] wildcard escaping a character other than * or \\', pattern: { source: [{ wildcard: 'a\\b' }] }, reason: /Invalid escape character/ },
    { name: '[Ruler] wildcard with a trailing backslash', pattern: { source: [{ wildcard: 'a\\' }] }, reason: /Invalid escape character/ },
    { name: 'anything-but null', pattern: { state: [{ 'anything-but': null }] }, reason: /must be an array or single string\/number value/ },
    { name: 'anything-but boolean', pattern: { state: [{ 'anything-but': true }] }, reason: /must be an array or single string\/number value/ },
    { name: '[LS content_anything_but_string_list_null_type_EXC] anything-but ["stopped", null]', pattern: { state: [{ 'anything-but': ['stopped', null] }] }, reason: /mixed type is not supported/ },
    { name: '[Ruler] anything-but list mixing strings and numbers', pattern: { state: [{ 'anything-but': ['a', 1] }] }, reason: /mixed type is not supported/ },
    { name: 'anything-but empty list', pattern: { state: [{ 'anything-but': [] }] }, reason: /anything but list/ },
    { name: '[LS content_anything_prefix_empty_EXC] anything-but prefix ""', pattern: { state: [{ 'anything-but': { prefix: '' } }] }, reason: /Null prefix\/suffix not allowed/ },
    { name: '[LS content_anything_prefix_int_EXC] anything-but prefix 5', pattern: { state: [{ 'anything-but': { prefix: 5 } }] }, reason: /must be a string/ },
    { name: 'anything-but exists is not supported', pattern: { state: [{ 'anything-but': { exists: true } }] }, reason: /Unsupported anything-but pattern: exists/ },
    { name: 'anything-but wildcard with consecutive *', pattern: { state: [{ 'anything-but': { wildcard: '**' } }] }, reason: /Consecutive wildcard characters/ },
    { name: 'numeric not an array', pattern: { n: [{ numeric: '>5' }] }, reason: /Value of numeric must be an array/ },
    { name: '[LS content_numeric_EXC] numeric [">", 0, ">", 0]', pattern: { n: [{ numeric: ['>', 0, '>', 0] }] }, reason: /Bad numeric range operator: >/ },
    { name: 'numeric upper bound first (["<", 10, ">", 0])', pattern: { n: [{ numeric: ['<', 10, '>', 0] }] }, reason: /Too many elements/ },
    { name: 'numeric "=" with a string', pattern: { n: [{ numeric: ['=', '5'] }] }, reason: /must be numeric/ },
    { name: 'numeric unknown operator "!="', pattern: { n: [{ numeric: ['!=', 5] }] }, reason: /Unrecognized numeric range operator/ },
    { name: 'numeric empty range [">", 5, "<", 5]', pattern: { n: [{ numeric: ['>', 5, '<', 5] }] }, reason: /Bottom must be less than top/ },
    { name: 'numeric range missing its upper value', pattern: { n: [{ numeric: ['>', 0, '<'] }] }, reason: /Too many terms/ },
    { name: '[Ruler] numeric value beyond 5e9', pattern: { n: [{ numeric: ['>', 6e9] }] }, reason: /Value must be between/ },
    { name: 'exists with a string', pattern: { n: [{ exists: 'true' }] }, reason: /exists match pattern must be either true or false/ },
    { name: '[LS content_ip_address_bad_mask_EXC] cidr "bad-/64filter"', pattern: { ip: [{ cidr: 'bad-/64filter' }] }, reason: /Malformed CIDR/ },
    { name: '[Ruler] cidr without a mask', pattern: { ip: [{ cidr: '10.0.0.1' }] }, reason: /Malformed CIDR/ },
    { name: '[Ruler] cidr IPv4 mask over 31', pattern: { ip: [{ cidr: '10.0.0.1/32' }] }, reason: /Malformed CIDR/ },
    { name: '[LS content_ip_address_v6_bad_ip_EXC] cidr with a bad IPv6 address', pattern: { ip: [{ cidr: 'xxxx:db8:1234:1a00::/64' }] }, reason: /Malformed CIDR/ },
    { name: 'cidr with a number', pattern: { ip: [{ cidr: 10 }] }, reason: /cidr match pattern must be a string/ },
    { name: '[Ruler] $or not followed by an array', pattern: { $or: { a: ['x'] } }, reason: /It must be an Array followed with \$or/ },
    { name: '[Ruler] $or with a single branch', pattern: { $or: [{ a: ['x'] }] }, reason: /at least 2 Objects/ },
    { name: '[Ruler] $or with a non-object branch', pattern: { $or: [{ a: ['x'] }, ['b']] }, reason: /Only JSON object is allowed/ },
    { name: '[Ruler] $or branch using a reserved operator name as a field', pattern: { $or: [{ numeric: [123] }, { prefix: ['abc'] }] }, reason: /reserved fieldName/ },
    { name: '[Ruler] $or with an empty branch', pattern: { $or: [{ a: ['x'] }, {}] }, reason: /Empty objects are not allowed/ },
  ])('$name', ({ pattern, reason }) => {
    let thrown: unknown;
    try {
      validateEventPattern(pattern);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InvalidEventPatternError);
    expect((thrown as Error).name).toBe('InvalidEventPatternError');
    expect((thrown as Error).message).toMatch(reason);
  });

  it('matchesEventPattern validates too, so a malformed pattern throws rather than matching nothing', () => {
    expect(() => matchesEventPattern({ source: [{ contains: 'ec2' }] }, EC2_TERMINATED)).toThrow(InvalidEventPatternError);
  });

  it('accepts the operator forms the guide documents, including lists inside anything-but', () => {
    expect(() =>
      validateEventPattern({
        a: [{ 'anything-but': { prefix: ['us-', 'eu-'] } }],
        b: [{ 'anything-but': { 'equals-ignore-case': ['x', 'y'] } }],
        c: [{ numeric: ['>=', -5e9, '<', 5e9] }],
        d: [{ cidr: '2001:db8::/127' }],
        e: [123456789012, true, false, null, ''],
        $or: [{ f: [{ exists: true }] }, { g: { h: [{ wildcard: 'a\\*\\\\*' }] } }],
      }),
    ).not.toThrow();
  });
});

/**
 * Local EventBridge rules: a JSON file mapping event patterns to local targets, so local mode can
 * deliver Berth's events where the real rules would (a webhook, a script).
 *
 *   { "rules": [ { "name": "stopped-tasks",
 *                  "eventPattern": { "detail-type": ["ECS Task State Change"] },
 *                  "targets": [ { "type": "http", "url": "http://localhost:9000/hook", "headers": { ... } },
 *                               { "type": "command", "command": ["sh", "-c", "cat >> /tmp/events"] },
 *                               { "type": "sqs", "arn": "arn:aws:sqs:eu-west-1:123456789012:stopped" } ] } ] }
 *
 * A rule is a consumer as the BerthControlPlane construct takes it (src/domain/event-consumers.ts):
 * `target` (one) or `targets`; AWS targets (sqs, lambda, eventBus, stateMachine, apiDestination by
 * ARN) are validated and kept, for the deployed rule, but only http and command run locally.
 */
import { readFile } from 'node:fs/promises';
import {
  AWS_TARGET_ARNS,
  AWS_TARGET_TYPES,
  type AwsConsumerTarget,
  type AwsTargetType,
} from '../domain/event-consumers';
import {
  InvalidEventPatternError,
  matchesEventPattern,
  validateEventPattern,
  type EventPattern,
} from '../domain/event-pattern';

export interface HttpTarget {
  type: 'http';
  /** http: or https: URL; the event JSON is POSTed to it. */
  url: string;
  headers?: Record<string, string>;
}

export interface CommandTarget {
  type: 'command';
  /** argv; run without a shell (use ["sh", "-c", "..."] for one). The event JSON arrives on stdin. */
  command: string[];
}

export type RuleTarget = HttpTarget | CommandTarget | AwsConsumerTarget;

/** The targets `npm start` can deliver to (the rest are EventBridge's). */
export const isLocalRuleTarget = (target: RuleTarget): target is HttpTarget | CommandTarget =>
  target.type === 'http' || target.type === 'command';

export interface EventRule {
  name: string;
  description?: string;
  eventPattern: EventPattern;
  targets: RuleTarget[];
}

/** The rules file is malformed; the message names the file and, where it applies, the rule and field. */
export class InvalidRulesFileError extends Error {
  override readonly name = 'InvalidRulesFileError';
}

/** Reads and validates a rules file. A missing file means no rules; anything malformed throws. */
export async function loadRules(path: string): Promise<EventRule[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return parseRules(text, path);
}

/** Validates a rules document; `source` (a path) only appears in error messages. */
export function parseRules(text: string, source = 'rules file'): EventRule[] {
  const fail = (message: string): never => {
    throw new InvalidRulesFileError(`Invalid event rules in ${source}: ${message}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(doc)) return fail('expected a JSON object with a "rules" array');
  checkKeys(doc, ['rules'], 'the top level', fail);
  if (!Array.isArray(doc.rules)) return fail('"rules" must be an array');

  const names = new Set<string>();
  return doc.rules.map((raw, index): EventRule => {
    const label =
      isObject(raw) && typeof raw.name === 'string' && raw.name !== '' ? `rule "${raw.name}"` : `rules[${index}]`;
    const ruleFail = (message: string): never => fail(`${label}: ${message}`);
    if (!isObject(raw)) return ruleFail('must be an object');
    checkKeys(raw, ['name', 'description', 'eventPattern', 'target', 'targets'], label, fail);
    if (typeof raw.name !== 'string' || raw.name === '') return ruleFail('"name" must be a non-empty string');
    if (names.has(raw.name)) return ruleFail('duplicate rule name');
    names.add(raw.name);
    if (raw.description !== undefined && typeof raw.description !== 'string') {
      return ruleFail('"description" must be a string');
    }
    if (raw.eventPattern === undefined) return ruleFail('"eventPattern" is required');
    try {
      validateEventPattern(raw.eventPattern);
    } catch (error) {
      if (error instanceof InvalidEventPatternError) return ruleFail(`"eventPattern": ${error.message}`);
      throw error;
    }
    if (raw.target !== undefined && raw.targets !== undefined) return ruleFail('give "target" or "targets", not both');
    const rawTargets = raw.target !== undefined ? [raw.target] : raw.targets;
    if (!Array.isArray(rawTargets)) return ruleFail('"targets" must be an array');
    const targets = rawTargets.map((target, t) => parseTarget(target, `${label} targets[${t}]`, fail));
    return {
      name: raw.name,
      ...(raw.description !== undefined ? { description: raw.description as string } : {}),
      eventPattern: raw.eventPattern,
      targets,
    };
  });
}

/** The rules whose pattern matches `event`, in file order. */
export function rulesMatching(rules: readonly EventRule[], event: unknown): EventRule[] {
  return rules.filter((rule) => matchesEventPattern(rule.eventPattern, event));
}

function parseTarget(raw: unknown, label: string, fail: (message: string) => never): RuleTarget {
  const targetFail = (message: string): never => fail(`${label}: ${message}`);
  if (!isObject(raw)) return targetFail('must be an object');
  if (raw.type === 'http') {
    checkKeys(raw, ['type', 'url', 'headers'], label, fail);
    if (typeof raw.url !== 'string') return targetFail('"url" must be a string');
    let url: URL;
    try {
      url = new URL(raw.url);
    } catch {
      return targetFail(`"url" is not a valid URL: ${JSON.stringify(raw.url)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return targetFail(`"url" must be an http: or https: URL, got ${JSON.stringify(raw.url)}`);
    }
    if (raw.headers === undefined) return { type: 'http', url: raw.url };
    if (!isObject(raw.headers) || !Object.values(raw.headers).every((v) => typeof v === 'string')) {
      return targetFail('"headers" must be an object of string values');
    }
    return { type: 'http', url: raw.url, headers: { ...(raw.headers as Record<string, string>) } };
  }
  if (raw.type === 'command') {
    checkKeys(raw, ['type', 'command'], label, fail);
    const { command } = raw;
    if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string')) {
      return targetFail('"command" must be a non-empty array of strings (argv), e.g. ["sh", "-c", "cat >> /tmp/x"]');
    }
    if (command[0] === '') return targetFail('"command"[0] (the program) must not be empty');
    return { type: 'command', command: [...(command as string[])] };
  }
  if ((AWS_TARGET_TYPES as unknown[]).includes(raw.type)) {
    const type = raw.type as AwsTargetType;
    checkKeys(raw, ['type', 'arn'], label, fail);
    if (typeof raw.arn !== 'string' || !AWS_TARGET_ARNS[type].test(raw.arn)) {
      return targetFail(`"arn" must be the ARN of a ${type} target, got ${JSON.stringify(raw.arn)}`);
    }
    return { type, arn: raw.arn };
  }
  return targetFail(
    `"type" must be one of ${['http', 'command', ...AWS_TARGET_TYPES].map((t) => `"${t}"`).join(', ')}, got ${JSON.stringify(raw.type)}`,
  );
}

/** Unknown keys are almost always typos ("eventpattern", "target"); rejecting them beats silently ignoring. */
function checkKeys(obj: Record<string, unknown>, allowed: string[], label: string, fail: (m: string) => never): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      fail(`${label}: unknown field ${JSON.stringify(key)} (allowed: ${allowed.join(', ')})`);
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Local mode's EventPublisher: what PutEvents plus EventBridge rules are in AWS.
 *
 * publish() appends each event as one JSON line to an events file and fsyncs it before resolving, so an
 * event publish() acknowledged survives a crash. Then, in the background, each event goes to the targets
 * of the rules (see event-rules.ts) it matches: best effort, with retries for webhooks, failures logged
 * and never thrown, like EventBridge's at-least-once delivery to targets. drain() waits for those
 * deliveries (tests, shutdown).
 *
 * The rules file is re-read on every publish and re-parsed when its contents changed; a reload that fails
 * validation is logged and the previous rules stay in force.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { BerthEvent, EventPublisher } from '../app/event-publisher';
import { isLocalRuleTarget, parseRules, rulesMatching, type CommandTarget, type EventRule, type HttpTarget } from './event-rules';

/** `console` fits. */
export interface EventSinkLogger {
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

export interface LocalEventSinkOptions {
  /** The JSON-lines event log. Default `.berth/events.jsonl`; its directory is created if missing. */
  eventsFile?: string;
  /** Rules file (see event-rules.ts); missing file, or none given, means no deliveries. */
  rulesFile?: string;
  logger?: EventSinkLogger;
  /** Webhook attempts in all, including the first. Default 4. */
  httpAttempts?: number;
  /** Delay before the first webhook retry, doubled each retry. Default 200 ms. */
  httpRetryBaseDelayMs?: number;
  /** Per webhook request. Default 10 s. */
  httpTimeoutMs?: number;
  /** A command target still running after this is killed (SIGKILL). Default 60 s. */
  commandTimeoutMs?: number;
}

export const DEFAULT_EVENTS_FILE = '.berth/events.jsonl';

export class LocalEventSink implements EventPublisher {
  readonly eventsFile: string;
  readonly rulesFile: string | undefined;
  private readonly logger: EventSinkLogger;
  private readonly httpAttempts: number;
  private readonly httpRetryBaseDelayMs: number;
  private readonly httpTimeoutMs: number;
  private readonly commandTimeoutMs: number;

  /** Appends and rule reloads run one at a time, in publish order. */
  private chain: Promise<void> = Promise.resolve();
  private directoryReady = false;
  private rules: EventRule[] = [];
  /** Contents of the rules file last loaded (null: missing); undefined = never loaded. */
  private rulesText: string | null | undefined;
  /** Per-target queues, so one target sees events in publish order; targets run independently. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<void>>();

  /** Prefer `LocalEventSink.open`, which fails fast on an invalid rules file. */
  constructor(options: LocalEventSinkOptions = {}) {
    this.eventsFile = resolve(options.eventsFile ?? DEFAULT_EVENTS_FILE);
    this.rulesFile = options.rulesFile === undefined ? undefined : resolve(options.rulesFile);
    this.logger = options.logger ?? console;
    this.httpAttempts = Math.max(1, options.httpAttempts ?? 4);
    this.httpRetryBaseDelayMs = options.httpRetryBaseDelayMs ?? 200;
    this.httpTimeoutMs = options.httpTimeoutMs ?? 10_000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 60_000;
  }

  /** Creates a sink and loads its rules now, throwing InvalidRulesFileError if the file is malformed. */
  static async open(options: LocalEventSinkOptions = {}): Promise<LocalEventSink> {
    const sink = new LocalEventSink(options);
    await sink.reloadRulesIfChanged(true);
    return sink;
  }

  /** The rules currently in force (as of the last publish or open). */
  currentRules(): readonly EventRule[] {
    return this.rules;
  }

  async publish(events: readonly BerthEvent[]): Promise<void> {
    if (events.length === 0) return;
    const batch = [...events];
    const lines = batch.map((event) => `${JSON.stringify(event)}\n`).join('');
    const step = this.chain.then(async () => {
      await this.append(lines);
      // The events are durable from here on: nothing below may make publish throw.
      try {
        await this.reloadRulesIfChanged(false);
        this.dispatch(batch);
      } catch (error) {
        this.logger.error(`berth events: could not deliver events to rule targets: ${describe(error)}`);
      }
    });
    this.chain = step.catch(() => undefined);
    await step;
  }

  /** Resolves once every publish so far has been appended and every delivery it started has finished. */
  async drain(): Promise<void> {
    await this.chain;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  // ------------------------------------------------------------------------------------------------
  // Durable append
  // ------------------------------------------------------------------------------------------------

  private async append(lines: string): Promise<void> {
    if (!this.directoryReady) await mkdir(dirname(this.eventsFile), { recursive: true });
    const file = await open(this.eventsFile, 'a');
    try {
      await file.appendFile(lines, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    if (!this.directoryReady) {
      // The file may have just been created: make its directory entry durable too (once per sink).
      await syncDirectory(dirname(this.eventsFile));
      this.directoryReady = true;
    }
  }

  // ------------------------------------------------------------------------------------------------
  // Rules
  // ------------------------------------------------------------------------------------------------

  private async reloadRulesIfChanged(throwOnInvalid: boolean): Promise<void> {
    if (this.rulesFile === undefined) return;
    // Comparing contents, not mtime: an edit within the filesystem's timestamp granularity that keeps the
    // size would otherwise go unnoticed, and a rules file is small enough to read on every publish.
    let text: string | null;
    try {
      text = await readFile(this.rulesFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      text = null;
    }
    if (this.rulesText !== undefined && text === this.rulesText) return;
    try {
      this.rules = text === null ? [] : parseRules(text, this.rulesFile);
    } catch (error) {
      if (throwOnInvalid) throw error;
      this.logger.error(`berth events: keeping the previous rules, the rules file could not be loaded: ${describe(error)}`);
    }
    // Recorded even on failure, so a broken file is reported once, not on every publish.
    this.rulesText = text;
  }

  // ------------------------------------------------------------------------------------------------
  // Delivery
  // ------------------------------------------------------------------------------------------------

  private dispatch(events: BerthEvent[]): void {
    for (const event of events) {
      for (const rule of rulesMatching(this.rules, event)) {
        rule.targets.forEach((target, index) => {
          // AWS targets (by ARN) are the deployed rule's; locally only http and command run.
          if (!isLocalRuleTarget(target)) return;
          this.enqueue(`${rule.name}#${index}:${JSON.stringify(target)}`, () => this.deliver(rule, target, event));
        });
      }
    }
  }

  private enqueue(key: string, job: () => Promise<void>): void {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(job).catch((error: unknown) => {
      this.logger.error(`berth events: delivery failed unexpectedly: ${describe(error)}`);
    });
    this.queues.set(key, run);
    this.inFlight.add(run);
    void run.finally(() => {
      this.inFlight.delete(run);
      if (this.queues.get(key) === run) this.queues.delete(key);
    });
  }

  private deliver(rule: EventRule, target: HttpTarget | CommandTarget, event: BerthEvent): Promise<void> {
    return target.type === 'http' ? this.deliverHttp(rule, target, event) : this.deliverCommand(rule, target, event);
  }

  private async deliverHttp(rule: EventRule, target: HttpTarget, event: BerthEvent): Promise<void> {
    const body = JSON.stringify(event);
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.httpAttempts; attempt++) {
      if (attempt > 1) await sleep(this.httpRetryBaseDelayMs * 2 ** (attempt - 2));
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...target.headers },
          body,
          signal: AbortSignal.timeout(this.httpTimeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined); // free the connection
        if (response.ok) return;
        lastProblem = `HTTP ${response.status}`;
        // Like EventBridge API destinations: 429 and 5xx are retried, other 4xx are not.
        if (response.status !== 429 && response.status < 500) break;
      } catch (error) {
        lastProblem = describe(error);
      }
    }
    this.logger.warn(
      `berth events: rule "${rule.name}" could not deliver event ${event.id} to ${target.url}: ${lastProblem}`,
    );
  }

  private deliverCommand(rule: EventRule, target: CommandTarget, event: BerthEvent): Promise<void> {
    const [program, ...args] = target.command;
    const what = `rule "${rule.name}" command ${JSON.stringify(target.command)} for event ${event.id}`;
    return new Promise<void>((done) => {
      let stderr = '';
      let settled = false;
      const finish = (problem?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (problem !== undefined) this.logger.warn(`berth events: ${what} ${problem}`);
        done();
      };
      const child = spawn(program, args, { stdio: ['pipe', 'ignore', 'pipe'], shell: false });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(`was killed after ${this.commandTimeoutMs} ms`);
      }, this.commandTimeoutMs);
      child.on('error', (error) => finish(`could not be run: ${describe(error)}`));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-2000);
      });
      child.on('close', (code, signal) => {
        if (code === 0) return finish();
        const tail = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
        finish(signal ? `was killed by ${signal}${tail}` : `exited with code ${code}${tail}`);
      });
      // A command that exits without reading stdin causes EPIPE; its exit status tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(`${JSON.stringify(event)}\n`);
    });
  }
}

async function syncDirectory(path: string): Promise<void> {
  try {
    const dir = await open(path, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the file itself is synced.
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}

/**
 * The service loop in local mode: runs scheduler passes (src/app/service-scheduler.ts) for each
 * ACTIVE or DRAINING service when woken (the stream saw one of its tasks change, or an API change) or
 * when its last plan asked to look again, never two passes of one service at once in this process
 * (and the pass's claim on the service's version guards against any other process).
 *
 *   wake ─▶ due in DEBOUNCE ─▶ pass ─▶ woken meanwhile? ─yes─▶ due in DEBOUNCE
 *                                        └─no─▶ due at plan's next wake (none once INACTIVE)
 *   a failed pass is due again after RETRY.
 *
 * The AWS-faithful form (a Step Functions execution per service, the synthesized ASL run locally
 * under aws-local-stepfunctions) is not built yet; this runner is the same loop in-process.
 */
import type { Scope } from '../domain/arns';
import type { BerthContext } from '../app/context';
import type { ServiceLoop } from '../app/service-loop';
import { runServicePass } from '../app/service-scheduler';

export interface ServiceLoopRunnerOptions {
  readonly context: BerthContext;
  readonly logger?: Pick<Console, 'error'>;
  /** Wake-ups within this window share one pass (a task's status steps come in bursts). */
  readonly debounceMs?: number;
  /** How soon a failed pass is tried again. */
  readonly retryMs?: number;
  /** A seam for measurement: told when a pass starts and ends. */
  readonly observe?: (serviceArn: string, phase: 'start' | 'end') => void;
}

interface Entry {
  timer?: NodeJS.Timeout;
  dueAt?: number;
  running?: Promise<void>;
  /** Woken while a pass ran: run another right after. */
  again: boolean;
}

export class ServiceLoopRunner implements ServiceLoop {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;

  constructor(private readonly options: ServiceLoopRunnerOptions) {}

  /** Resumes the loops of every service that still needs one (after a restart). */
  async resume(scope: Scope): Promise<void> {
    let nextToken: string | undefined;
    do {
      const page = await this.options.context.clusters.list(scope, { maxResults: 100, nextToken });
      for (const clusterArn of page.items) {
        for (const serviceArn of await this.options.context.services.needingScheduler(clusterArn)) this.wake(serviceArn);
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }

  wake(serviceArn: string): void {
    this.schedule(serviceArn, this.options.debounceMs ?? 50);
  }

  /** Stops scheduling and waits for the passes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    await Promise.all([...this.entries.values()].map((entry) => entry.running));
  }

  private schedule(serviceArn: string, delayMs: number) {
    if (this.stopped) return;
    let entry = this.entries.get(serviceArn);
    if (!entry) this.entries.set(serviceArn, (entry = { again: false }));
    if (entry.running) {
      entry.again = true;
      return;
    }
    const dueAt = Date.now() + delayMs;
    if (entry.timer && entry.dueAt! <= dueAt) return; // already due sooner
    clearTimeout(entry.timer);
    entry.dueAt = dueAt;
    entry.timer = setTimeout(() => this.run(serviceArn, entry), delayMs);
    entry.timer.unref();
  }

  private run(serviceArn: string, entry: Entry) {
    entry.timer = undefined;
    entry.dueAt = undefined;
    entry.running = (async () => {
      let next: number | undefined;
      let failed = false;
      this.options.observe?.(serviceArn, 'start');
      try {
        const result = await runServicePass(this.options.context, serviceArn);
        next = result.nextWakeAt;
      } catch (error) {
        failed = true;
        this.options.logger?.error(`service loop ${serviceArn}: pass failed; will retry`, error);
      }
      this.options.observe?.(serviceArn, 'end');
      entry.running = undefined;
      if (failed) this.schedule(serviceArn, this.options.retryMs ?? 1_000);
      else if (entry.again) {
        entry.again = false;
        this.schedule(serviceArn, this.options.debounceMs ?? 50);
      } else if (next !== undefined) this.schedule(serviceArn, Math.max(0, next - this.options.context.clock()));
      else this.entries.delete(serviceArn);
    })();
  }
}

/**
 * Fires EventBridge Scheduler schedules in local mode: every `intervalMs` it runs the due firings
 * (src/app/schedule-firing.ts). Time comes from the clock passed in, so tests can move it; the
 * checkpoints live in the table, so a restart picks up where the last run stopped.
 */
import type { BerthContext } from '../app/context';
import { fireDueSchedules, type FiringLogger } from '../app/schedule-firing';

export interface ScheduleRunnerOptions {
  readonly context: BerthContext;
  /** Now, in epoch ms. Default: the context's clock. */
  readonly clock?: () => number;
  /** How often due schedules are looked for. Default one second (Scheduler's precision is a minute). */
  readonly intervalMs?: number;
  readonly logger: FiringLogger & { error(message: string, error?: unknown): void };
}

export class ScheduleRunner {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private pass: Promise<void> = Promise.resolve();
  private readonly context: BerthContext;

  constructor(private readonly options: ScheduleRunnerOptions) {
    this.context = options.clock ? { ...options.context, clock: options.clock } : options.context;
  }

  start(): void {
    this.running = true;
    this.next(0);
  }

  /** One pass over the due firings (what each tick runs). */
  runOnce(): Promise<number> {
    return fireDueSchedules(this.context, this.options.logger);
  }

  /** Stops ticking and waits for the pass in flight, so nothing writes after stop returns. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.pass;
  }

  private next(delayMs: number) {
    this.timer = setTimeout(() => {
      this.pass = this.runOnce()
        .then(() => undefined)
        .catch((error) => this.options.logger.error('schedule runner:', error))
        .finally(() => this.running && this.next(this.options.intervalMs ?? 1_000));
    }, delayMs);
  }
}

/** A whole local Berth (what `npm start` runs) in this process, plus helpers to watch tasks and events. */
import { readFileSync, existsSync } from 'node:fs';
import { DescribeTasksCommand, ECSClient, type Task } from '@aws-sdk/client-ecs';
import { startBerthLocal, type BerthLocal, type BerthLocalOptions } from '../../src/local/berth-local';
import type { BerthEvent } from '../../src/app/event-publisher';

export interface LocalBerth {
  readonly berth: BerthLocal;
  readonly ecs: ECSClient;
  waitForTask(cluster: string, taskArn: string, until: (task: Task) => boolean, timeoutMs?: number): Promise<Task>;
  events(): BerthEvent[];
  /** The distinct task events of one task, in version order. */
  taskEvents(taskArn: string): Record<string, any>[];
  waitForEvent(predicate: (event: BerthEvent) => boolean, timeoutMs?: number): Promise<BerthEvent>;
  close(): Promise<void>;
}

export async function startLocalBerth(options: BerthLocalOptions = {}): Promise<LocalBerth> {
  const berth = await startBerthLocal({ inMemory: true, port: 0, logger: { info() {}, warn() {}, error: console.error }, ...options });
  const ecs = new ECSClient({
    endpoint: berth.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const events = (): BerthEvent[] =>
    existsSync(berth.events.eventsFile)
      ? readFileSync(berth.events.eventsFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as BerthEvent)
      : [];
  const poll = async <T>(read: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return {
    berth,
    ecs,
    events,
    taskEvents(taskArn) {
      const byId = new Map<string, BerthEvent>();
      for (const event of events()) {
        if (event['detail-type'] === 'ECS Task State Change' && event.resources[0] === taskArn) byId.set(event.id, event);
      }
      return [...byId.values()].map((e) => e.detail).sort((a, b) => (a.version as number) - (b.version as number));
    },
    waitForTask(cluster, taskArn, until, timeoutMs = 30_000) {
      return poll(
        async () => {
          const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
          return tasks?.[0] && until(tasks[0]) ? tasks[0] : undefined;
        },
        timeoutMs,
        `task ${taskArn}`,
      );
    },
    waitForEvent(predicate, timeoutMs = 30_000) {
      return poll(() => events().find(predicate), timeoutMs, 'event');
    },
    async close() {
      ecs.destroy();
      await berth.stop();
    },
  };
}

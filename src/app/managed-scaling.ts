/**
 * The capacity sweep's managed scaling step: for every Auto Scaling group capacity provider a cluster
 * lists, compute CapacityProviderReservation (src/domain/managed-scaling.ts) from the provider's
 * instances in the cluster and its tasks waiting there, record it on the provider (DescribeCapacityProviders
 * shows it as the extension member `managedScalingMetrics`), log it, and hand the embedded metric format
 * record to the metric sink (stdout in Lambda, where CloudWatch Logs turns it into the metric).
 */
import type { Scope } from '../domain/arns';
import { capacityProviderOf } from '../domain/capacity-provider';
import { capacityProviderReservation, reservationEmfRecord, type ProviderInstance } from '../domain/managed-scaling';
import type { ResourceAmounts } from '../domain/container-instance';
import type { ProviderMetric } from '../adapters/dynamodb/capacity-provider-repository';
import type { BerthContext } from './context';
import { requirementsOf } from './task-engine';

export interface ManagedScalingOptions {
  readonly logger?: Pick<Console, 'info'>;
  /** Receives one embedded metric format record (a JSON line) per cluster and provider. */
  readonly metricSink?: (line: string) => void;
}

export interface PublishedReservation {
  readonly clusterArn: string;
  readonly capacityProvider: string;
  readonly value: number;
}

export async function publishManagedScaling(
  ctx: BerthContext,
  scope: Scope,
  options: ManagedScalingOptions = {},
): Promise<PublishedReservation[]> {
  const providers = (await ctx.capacityProviders.all(scope)).filter((p) => p.record.status === 'ACTIVE');
  if (!providers.length) return [];
  const names = new Set(providers.map((p) => p.record.name));
  const waitingPointers = await ctx.tasks.unplaced(scope);
  const now = ctx.clock();
  const published: PublishedReservation[] = [];
  const metrics = new Map<string, ProviderMetric[]>();

  let nextToken: string | undefined;
  do {
    const page = await ctx.clusters.list(scope, { maxResults: 100, nextToken });
    nextToken = page.nextToken;
    for (const clusterArn of page.items) {
      const cluster = await ctx.clusters.get(clusterArn);
      if (cluster?.record.status !== 'ACTIVE') continue;
      const listed = cluster.record.capacityProviders.filter((name) => names.has(name));
      if (!listed.length) continue;
      const instances = (await ctx.containerInstances.all(clusterArn)).filter((i) => i.record.status === 'ACTIVE' || i.record.status === 'DRAINING');
      for (const provider of listed) {
        const own: ProviderInstance[] = instances
          .filter((i) => capacityProviderOf(i.record.attributes) === provider)
          .map((i) => ({ registered: i.record.registeredResources, tasks: i.runningTasksCount + i.pendingTasksCount }));
        const waiting: ResourceAmounts[] = [];
        for (const pointer of waitingPointers) {
          if (pointer.clusterArn !== clusterArn || pointer.capacity !== provider) continue;
          const task = await ctx.tasks.get(pointer.clusterArn, pointer.taskId);
          if (task && !task.record.reservation && task.record.desiredStatus !== 'STOPPED') waiting.push(requirementsOf(task.record));
        }
        const value = capacityProviderReservation({ instances: own, waiting });
        published.push({ clusterArn, capacityProvider: provider, value });
        metrics.set(provider, [...(metrics.get(provider) ?? []), { clusterArn, capacityProviderReservation: value, computedAt: now }]);
        options.logger?.info(
          `Capacity provider ${provider} in cluster ${cluster.record.clusterName}: CapacityProviderReservation ${round(value)} ` +
            `(${own.length} instance(s), ${own.filter((i) => i.tasks > 0).length} with tasks, ${waiting.length} task(s) waiting)`,
        );
        options.metricSink?.(JSON.stringify(reservationEmfRecord(now, cluster.record.clusterName, provider, value)));
      }
    }
  } while (nextToken);

  for (const provider of providers) {
    // A provider no cluster lists any more has no metric: its old values go.
    await ctx.capacityProviders.recordMetrics(scope, provider.record.name, metrics.get(provider.record.name) ?? []);
  }
  return published;
}

const round = (value: number) => Math.round(value * 100) / 100;

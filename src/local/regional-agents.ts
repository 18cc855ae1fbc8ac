/**
 * One embedded agent per region in use. Container instances belong to an account and region (their
 * ARN says so, and the Fargate pool is a per-region partition, as Fargate's capacity is), so a client
 * configured for eu-west-1 needs Fargate capacity registered in eu-west-1. The smallest change that
 * keeps that model: the embedded agent registers lazily in each region a cluster is created in (and,
 * at start, in every region it served before), rather than a region-agnostic host, which would need
 * every agent report signed for another region and the pool read across partitions.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BerthAgent } from '../agent/agent';
import { startEmbeddedAgent } from './embedded-agent';

export interface RegionalAgentsOptions {
  readonly endpoint: string;
  /** The default region's agent keeps its state in `dataDirectory` itself; others in `regions/<region>`. */
  readonly defaultRegion: string;
  readonly dataDirectory: string;
  readonly persistent: boolean;
  readonly fargatePool?: { cpu: number; memory: number };
  readonly logger: Pick<Console, 'info' | 'error'>;
}

const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export class RegionalAgents {
  private readonly agents = new Map<string, Promise<BerthAgent | undefined>>();
  private stopped = false;

  constructor(private readonly options: RegionalAgentsOptions) {}

  /** Starts the default region's agent and those of regions served before (their state directories). */
  async start(): Promise<BerthAgent> {
    const agent = await this.serve(this.options.defaultRegion);
    if (!agent) throw new Error(`the embedded agent could not register in ${this.options.defaultRegion}`);
    const previous = join(this.options.dataDirectory, 'regions');
    if (this.options.persistent && existsSync(previous)) {
      await Promise.all(readdirSync(previous).filter((r) => REGION_NAME.test(r)).map((region) => this.serve(region)));
    }
    return agent;
  }

  /** The agent of a region, started on first use; concurrent calls share one start. */
  serve(region: string): Promise<BerthAgent | undefined> {
    if (this.stopped || !REGION_NAME.test(region)) return Promise.resolve(undefined);
    let agent = this.agents.get(region);
    if (!agent) {
      const { defaultRegion, dataDirectory } = this.options;
      agent = startEmbeddedAgent({
        endpoint: this.options.endpoint,
        region,
        dataDirectory: region === defaultRegion ? dataDirectory : join(dataDirectory, 'regions', region),
        persistent: this.options.persistent,
        fargatePool: this.options.fargatePool,
        logger: this.options.logger,
      }).then(
        (started) => {
          if (region !== defaultRegion) this.options.logger.info(`Embedded agent: FARGATE capacity in ${region} too.`);
          return started;
        },
        (error) => {
          this.options.logger.error(`Embedded agent: could not register in ${region}:`, error);
          this.agents.delete(region);
          return undefined;
        },
      );
      this.agents.set(region, agent);
    }
    return agent;
  }

  /** The regions served (or being joined). */
  regions(): string[] {
    return [...this.agents.keys()];
  }

  /**
   * Every agent stops its task processes and joins again as a new host: for a table that started over
   * empty (an in-memory DynamoDB Local restarted), where their hosts and tasks no longer exist.
   */
  async rejoin(): Promise<void> {
    const regions = [...this.agents.keys()];
    const agents = await Promise.all(this.agents.values());
    this.agents.clear();
    await Promise.all(agents.map((agent) => agent?.stop({ stopContainers: true, timeoutSeconds: 0 })));
    await Promise.all(regions.map((region) => this.serve(region)));
  }

  /** Stops every agent and the tasks' processes they started (SIGTERM, then SIGKILL). */
  async stop(): Promise<void> {
    this.stopped = true;
    const agents = await Promise.all(this.agents.values());
    await Promise.all(agents.map((agent) => agent?.stop({ stopContainers: true })));
  }
}

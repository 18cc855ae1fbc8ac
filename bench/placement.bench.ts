/**
 * Placements per second of the pure placement function over 5,000 container instances (and 500, to
 * show how the cost grows): the default zone spread, binpack memory, spread instanceId + random, and
 * two memberOf constraints (an attribute list and task:group anti-affinity) with distinctInstance.
 * Each run places one task (what the engine does per waiting task); a RunTask of 10 is ten of these.
 *
 * Measured and printed, never asserted. Run: `npx tsx bench/placement.bench.ts`.
 */
import { percentile } from './stats';
import { placeTasks, type PlacementCandidate, type PlacementOptions } from '../src/domain/placement';
import { parsePlacementConstraints } from '../src/domain/placement-constraints';
import { parsePlacementStrategies } from '../src/domain/placement-strategies';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const TYPES = ['t2.small', 'm5.large', 'c5.xlarge'];

function hosts(n: number): PlacementCandidate[] {
  return Array.from({ length: n }, (_, i) => ({
    containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/bench/${i.toString(16).padStart(32, '0')}`,
    availabilityZone: ZONES[i % 3],
    status: 'ACTIVE',
    remaining: { cpu: 1024 + ((i * 37) % 3072), memory: 2048 + ((i * 53) % 6144) },
    serves: ['EC2'],
    attributes: [
      { name: 'ecs.availability-zone', value: ZONES[i % 3] },
      { name: 'ecs.instance-type', value: TYPES[i % 3] },
      { name: 'stack', value: i % 5 === 0 ? 'blue' : 'green' },
    ],
    runningTasksCount: i % 4,
    taskGroups: { 'service:web': i % 2, ...(i % 7 === 0 ? { 'service:db': 1 } : {}) },
  }));
}

let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const cases: Record<string, PlacementOptions> = {
  'default (zone spread)': { group: 'service:web' },
  'binpack memory': { group: 'service:web', strategies: parsePlacementStrategies([{ type: 'binpack', field: 'memory' }]) },
  'spread instanceId, random': {
    group: 'service:web',
    strategies: parsePlacementStrategies([{ type: 'spread', field: 'instanceId' }, { type: 'random' }]),
    random,
  },
  'constraints (memberOf x2, distinctInstance)': {
    group: 'service:web',
    strategies: parsePlacementStrategies([{ type: 'spread', field: 'attribute:ecs.availability-zone' }]),
    constraints: parsePlacementConstraints([
      { type: 'memberOf', expression: 'attribute:ecs.instance-type in [t2.small, m5.large] and attribute:stack =~ gr.*' },
      { type: 'memberOf', expression: 'not(task:group == service:db)' },
      { type: 'distinctInstance' },
    ]),
  },
};

const RUNS = 40;
for (const n of [500, 5000]) {
  const candidates = hosts(n);
  for (const [name, options] of Object.entries(cases)) {
    const request = [{ needs: { cpu: 256, memory: 512 }, kind: 'EC2' }];
    for (let i = 0; i < 5; i++) placeTasks(request, candidates, {}, options); // warm up the JIT
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint();
      placeTasks(request, candidates, {}, options);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);
    console.log(
      `${name.padEnd(44)} ${String(n).padStart(5)} instances  min ${samples[0]!.toFixed(2)} ms  p50 ${percentile(samples, 50).toFixed(2)} ms  ` +
        `placements/s (p50) ${(1000 / percentile(samples, 50)).toFixed(0)}`,
    );
  }
}

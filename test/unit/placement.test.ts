/**
 * Where a task goes (src/domain/placement.ts): filter (ACTIVE, the right capacity kind, enough cpu and
 * memory), then fewest group tasks in the AZ, then most memory left, then most cpu, then ARN.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  capacityKindOf,
  placeTask,
  placeTasks,
  taskRequirements,
  whyUnplaced,
  type PlacementCandidate,
  type PlacementRequest,
} from '../../src/domain/placement';
import type { ResourceAmounts } from '../../src/domain/container-instance';
import type { LaunchType } from '../../src/domain/records';

const arn = (id: string) => `arn:aws:ecs:us-east-1:123456789012:container-instance/default/${id}`;

function host(id: string, overrides: Partial<PlacementCandidate> = {}): PlacementCandidate {
  return {
    containerInstanceArn: arn(id),
    availabilityZone: 'us-east-1a',
    status: 'ACTIVE',
    remaining: { cpu: 1024, memory: 2048 },
    serves: ['EC2'],
    ...overrides,
  };
}

const NEEDS: ResourceAmounts = { cpu: 256, memory: 512 };

describe('placeTask', () => {
  it.each<{
    name: string;
    needs?: ResourceAmounts;
    kind?: string;
    candidates: PlacementCandidate[];
    groups?: Record<string, number>;
    expected: string | undefined;
  }>([
    { name: 'no candidates: nowhere', candidates: [], expected: undefined },
    { name: 'one host with room', candidates: [host('a')], expected: 'a' },
    { name: 'fits exactly (remaining == needs)', candidates: [host('a', { remaining: { cpu: 256, memory: 512 } })], expected: 'a' },
    { name: 'one cpu unit short: does not fit', candidates: [host('a', { remaining: { cpu: 255, memory: 4096 } })], expected: undefined },
    { name: 'one MiB of memory short: does not fit', candidates: [host('a', { remaining: { cpu: 4096, memory: 511 } })], expected: undefined },
    {
      name: 'skips the host without cpu for the one with cpu, even with less memory',
      candidates: [host('a', { remaining: { cpu: 128, memory: 8192 } }), host('b', { remaining: { cpu: 512, memory: 1024 } })],
      expected: 'b',
    },
    {
      name: 'DRAINING host skipped even with the most room',
      candidates: [host('a', { status: 'DRAINING', remaining: { cpu: 8192, memory: 16384 } }), host('b')],
      expected: 'b',
    },
    { name: 'only DRAINING hosts: nowhere', candidates: [host('a', { status: 'DRAINING' })], expected: undefined },
    {
      name: 'INACTIVE, REGISTERING and DEREGISTERING hosts skipped',
      candidates: [host('a', { status: 'INACTIVE' }), host('b', { status: 'REGISTERING' }), host('c', { status: 'DEREGISTERING' })],
      expected: undefined,
    },
    {
      name: 'FARGATE task: FARGATE host, never an EC2 instance',
      kind: 'FARGATE',
      candidates: [host('a', { remaining: { cpu: 8192, memory: 16384 } }), host('b', { serves: ['FARGATE'] })],
      expected: 'b',
    },
    {
      name: 'FARGATE task: a FARGATE_SPOT-only host does not serve it',
      kind: 'FARGATE',
      candidates: [host('a', { serves: ['FARGATE_SPOT'] })],
      expected: undefined,
    },
    {
      name: 'FARGATE_SPOT task: a FARGATE-only host does not serve it',
      kind: 'FARGATE_SPOT',
      candidates: [host('a', { serves: ['FARGATE'], remaining: { cpu: 8192, memory: 16384 } }), host('b', { serves: ['FARGATE_SPOT'] })],
      expected: 'b',
    },
    {
      name: 'FARGATE_SPOT task on a host serving both',
      kind: 'FARGATE_SPOT',
      candidates: [host('a', { serves: ['FARGATE', 'FARGATE_SPOT'] })],
      expected: 'a',
    },
    {
      name: 'EC2 task: Fargate pool hosts do not serve it',
      kind: 'EC2',
      candidates: [host('a', { serves: ['FARGATE', 'FARGATE_SPOT'], remaining: { cpu: 8192, memory: 16384 } }), host('b')],
      expected: 'b',
    },
    {
      name: 'AZ spread: the zone with fewer tasks of the group wins over more memory',
      candidates: [
        host('a', { availabilityZone: 'us-east-1a', remaining: { cpu: 4096, memory: 8192 } }),
        host('b', { availabilityZone: 'us-east-1b', remaining: { cpu: 512, memory: 1024 } }),
      ],
      groups: { 'us-east-1a': 2, 'us-east-1b': 1 },
      expected: 'b',
    },
    {
      name: 'AZ spread: a zone missing from the counts has none of the group',
      candidates: [
        host('a', { availabilityZone: 'us-east-1a', remaining: { cpu: 4096, memory: 8192 } }),
        host('c', { availabilityZone: 'us-east-1c' }),
      ],
      groups: { 'us-east-1a': 1 },
      expected: 'c',
    },
    {
      name: 'AZ spread only among hosts that fit: the emptier zone is full',
      candidates: [
        host('a', { availabilityZone: 'us-east-1a' }),
        host('b', { availabilityZone: 'us-east-1b', remaining: { cpu: 128, memory: 256 } }),
      ],
      groups: { 'us-east-1a': 5 },
      expected: 'a',
    },
    {
      name: 'same zone count: the most memory left wins',
      candidates: [
        host('a', { remaining: { cpu: 4096, memory: 1024 } }),
        host('b', { remaining: { cpu: 512, memory: 4096 } }),
        host('c', { remaining: { cpu: 1024, memory: 2048 } }),
      ],
      expected: 'b',
    },
    {
      name: 'same zone count and memory: the most cpu left wins',
      candidates: [host('a', { remaining: { cpu: 512, memory: 2048 } }), host('b', { remaining: { cpu: 1024, memory: 2048 } })],
      expected: 'b',
    },
    {
      name: 'all equal: the smallest ARN wins',
      candidates: [host('c'), host('a'), host('b')],
      expected: 'a',
    },
    {
      name: 'a zero-size task goes to any ACTIVE host of its kind',
      needs: { cpu: 0, memory: 0 },
      candidates: [host('a', { remaining: { cpu: 0, memory: 0 } })],
      expected: 'a',
    },
  ])('$name', ({ needs = NEEDS, kind = 'EC2', candidates, groups, expected }) => {
    const snapshot = structuredClone(candidates);
    const decision = placeTask(needs, kind, candidates, groups);
    expect(decision?.containerInstanceArn).toBe(expected === undefined ? undefined : arn(expected));
    if (decision) {
      const chosen = candidates.find((c) => c.containerInstanceArn === decision.containerInstanceArn)!;
      expect(decision).toEqual({ containerInstanceArn: chosen.containerInstanceArn, availabilityZone: chosen.availabilityZone });
    }
    expect(candidates).toEqual(snapshot);
  });

  it('is deterministic whatever the order of the candidates', () => {
    const candidates = [host('d'), host('b'), host('c'), host('a')];
    const first = placeTask(NEEDS, 'EC2', candidates);
    for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]]) {
      expect(placeTask(NEEDS, 'EC2', order.map((i) => candidates[i]))).toEqual(first);
    }
    expect(first?.containerInstanceArn).toBe(arn('a'));
  });

  it('repeated placements on shrinking hosts alternate between them (most memory left first)', () => {
    const hosts = [host('a', { remaining: { cpu: 2048, memory: 2048 } }), host('b', { remaining: { cpu: 2048, memory: 2048 } })];
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const decision = placeTask(NEEDS, 'EC2', hosts)!;
      order.push(decision.containerInstanceArn.slice(-1));
      const index = hosts.findIndex((h) => h.containerInstanceArn === decision.containerInstanceArn);
      hosts[index] = { ...hosts[index], remaining: { cpu: hosts[index].remaining.cpu - NEEDS.cpu, memory: hosts[index].remaining.memory - NEEDS.memory } };
    }
    expect(order).toEqual(['a', 'b', 'a', 'b']);
    expect(placeTask({ cpu: 256, memory: 1024 }, 'EC2', hosts)).toBeDefined();
    expect(placeTask({ cpu: 256, memory: 1025 }, 'EC2', hosts)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

const KINDS = ['EC2', 'FARGATE', 'FARGATE_SPOT'] as const;
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

const arbitraryCandidate = fc.record({
  containerInstanceArn: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 4 }).map((id) => arn(id)),
  availabilityZone: fc.constantFrom(...ZONES),
  status: fc.constantFrom('ACTIVE', 'ACTIVE', 'DRAINING', 'INACTIVE'),
  remaining: fc.record({ cpu: fc.integer({ min: 0, max: 4096 }), memory: fc.integer({ min: 0, max: 8192 }) }),
  serves: fc.subarray([...KINDS], { minLength: 1 }),
});
const arbitraryCandidates = fc.uniqueArray(arbitraryCandidate, { selector: (c) => c.containerInstanceArn, maxLength: 12 });
const arbitraryNeeds = fc.record({ cpu: fc.integer({ min: 0, max: 4096 }), memory: fc.integer({ min: 0, max: 8192 }) });
const arbitraryGroups = fc.dictionary(fc.constantFrom(...ZONES), fc.nat(5));

const fits = (c: PlacementCandidate, needs: ResourceAmounts, kind: string) =>
  c.status === 'ACTIVE' && c.serves.includes(kind) && c.remaining.cpu >= needs.cpu && c.remaining.memory >= needs.memory;

describe('placeTask, properties', () => {
  it('the chosen host is a candidate, ACTIVE, serves the kind and fits; undefined only when none fits', () => {
    fc.assert(
      fc.property(arbitraryNeeds, fc.constantFrom(...KINDS), arbitraryCandidates, arbitraryGroups, (needs, kind, candidates, groups) => {
        const decision = placeTask(needs, kind, candidates, groups);
        if (decision === undefined) {
          expect(candidates.some((c) => fits(c, needs, kind))).toBe(false);
          return;
        }
        const chosen = candidates.find((c) => c.containerInstanceArn === decision.containerInstanceArn);
        expect(chosen).toBeDefined();
        expect(fits(chosen!, needs, kind)).toBe(true);
        expect(decision.availabilityZone).toBe(chosen!.availabilityZone);
      }),
      { numRuns: 1_000 },
    );
  });

  it('the chosen host is first by (group tasks in its zone, -memory, -cpu, ARN) among those that fit', () => {
    fc.assert(
      fc.property(arbitraryNeeds, fc.constantFrom(...KINDS), arbitraryCandidates, arbitraryGroups, (needs, kind, candidates, groups) => {
        const decision = placeTask(needs, kind, candidates, groups);
        if (!decision) return;
        const chosen = candidates.find((c) => c.containerInstanceArn === decision.containerInstanceArn)!;
        const key = (c: PlacementCandidate) => [groups[c.availabilityZone] ?? 0, -c.remaining.memory, -c.remaining.cpu] as const;
        for (const other of candidates.filter((c) => fits(c, needs, kind) && c !== chosen)) {
          const [a, b] = [key(chosen), key(other)];
          const cmp = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
          expect(cmp < 0 || (cmp === 0 && chosen.containerInstanceArn < other.containerInstanceArn)).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('does not depend on the order of the candidates', () => {
    fc.assert(
      fc.property(
        arbitraryNeeds,
        fc.constantFrom(...KINDS),
        arbitraryCandidates.chain((c) => fc.tuple(fc.constant(c), fc.shuffledSubarray(c, { minLength: c.length, maxLength: c.length }))),
        arbitraryGroups,
        (needs, kind, [candidates, shuffled], groups) => {
          expect(placeTask(needs, kind, shuffled, groups)).toEqual(placeTask(needs, kind, candidates, groups));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('adding a host that does not fit never changes the choice', () => {
    fc.assert(
      fc.property(arbitraryNeeds, fc.constantFrom(...KINDS), arbitraryCandidates, arbitraryCandidate, (needs, kind, candidates, extra) => {
        fc.pre(!fits(extra, needs, kind));
        fc.pre(!candidates.some((c) => c.containerInstanceArn === extra.containerInstanceArn));
        expect(placeTask(needs, kind, [...candidates, extra])).toEqual(placeTask(needs, kind, candidates));
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

const ec2 = (count: number, needs: ResourceAmounts = NEEDS): PlacementRequest[] => Array.from({ length: count }, () => ({ needs, kind: 'EC2' }));
/** 'a' for a placement on host a, 'RESOURCE:CPU@a' for a failure about host a, 'MISSING' without a host. */
const summary = (outcome: ReturnType<typeof placeTasks>['outcomes'][number]) =>
  'placed' in outcome
    ? outcome.placed.containerInstanceArn.slice(-1)
    : `${outcome.failed.reason}${outcome.failed.arn ? `@${outcome.failed.arn.slice(-1)}` : ''}`;

describe('placeTasks (a batch: RunTask count, or one waiting task)', () => {
  it.each<{ name: string; requests: PlacementRequest[]; candidates: PlacementCandidate[]; expected: string[] }>([
    { name: 'no container instance at all: MISSING, no arn', requests: ec2(1), candidates: [], expected: ['MISSING'] },
    {
      name: 'only DRAINING instances: MISSING',
      requests: ec2(1),
      candidates: [host('a', { status: 'DRAINING' })],
      expected: ['MISSING'],
    },
    {
      name: "an Auto Scaling group provider's task goes only to that provider's instance, though another has more room",
      requests: [{ needs: NEEDS, kind: 'workers' }],
      candidates: [
        host('big', { remaining: { cpu: 8192, memory: 16384 } }),
        host('other-asg', { serves: ['EC2', 'batch'], remaining: { cpu: 8192, memory: 16384 } }),
        host('w', { serves: ['EC2', 'workers'] }),
      ],
      expected: ['w'],
    },
    {
      name: "an Auto Scaling group provider's task with no instance of the provider: MISSING",
      requests: [{ needs: NEEDS, kind: 'workers' }],
      candidates: [host('big', { remaining: { cpu: 8192, memory: 16384 } })],
      expected: ['MISSING'],
    },
    {
      name: "an EC2 launch type task may use a provider's instance, as on ECS",
      requests: ec2(1),
      candidates: [host('w', { serves: ['EC2', 'workers'] })],
      expected: ['w'],
    },
    {
      name: 'only Fargate pool hosts for an EC2 task: MISSING',
      requests: ec2(1),
      candidates: [host('a', { serves: ['FARGATE', 'FARGATE_SPOT'] })],
      expected: ['MISSING'],
    },
    {
      name: 'the only host has too little cpu: RESOURCE:CPU naming it',
      requests: ec2(1),
      candidates: [host('a', { remaining: { cpu: 128, memory: 8192 } })],
      expected: ['RESOURCE:CPU@a'],
    },
    {
      name: 'the only host has too little memory: RESOURCE:MEMORY naming it',
      requests: ec2(1),
      candidates: [host('a', { remaining: { cpu: 4096, memory: 256 } })],
      expected: ['RESOURCE:MEMORY@a'],
    },
    {
      name: 'short of both: cpu is named first, as ECS checks it first',
      requests: ec2(1),
      candidates: [host('a', { remaining: { cpu: 1, memory: 1 } })],
      expected: ['RESOURCE:CPU@a'],
    },
    {
      name: 'several hosts short: the roomiest (most memory) is named',
      requests: ec2(1, { cpu: 256, memory: 4096 }),
      candidates: [host('a', { remaining: { cpu: 4096, memory: 1024 } }), host('b', { remaining: { cpu: 4096, memory: 2048 } })],
      expected: ['RESOURCE:MEMORY@b'],
    },
    {
      name: 'only a disconnected agent: AGENT naming it',
      requests: ec2(1),
      candidates: [host('a', { agentConnected: false })],
      expected: ['AGENT@a'],
    },
    {
      name: 'a disconnected host with room is passed over for a connected one',
      requests: ec2(1),
      candidates: [host('a', { agentConnected: false, remaining: { cpu: 8192, memory: 16384 } }), host('b')],
      expected: ['b'],
    },
    {
      name: 'count 5 where 3 fit: 3 placements, then 2 failures',
      requests: ec2(5),
      candidates: [host('a', { remaining: { cpu: 768, memory: 4096 } })],
      expected: ['a', 'a', 'a', 'RESOURCE:CPU@a', 'RESOURCE:CPU@a'],
    },
    {
      name: 'a batch spreads over hosts as they fill (most memory left first)',
      requests: ec2(4),
      candidates: [host('a', { remaining: { cpu: 2048, memory: 2048 } }), host('b', { remaining: { cpu: 2048, memory: 2048 } })],
      expected: ['a', 'b', 'a', 'b'],
    },
    {
      name: 'a batch spreads over zones, counting its own placements',
      requests: ec2(3),
      candidates: [
        host('a', { availabilityZone: 'us-east-1a', remaining: { cpu: 8192, memory: 16384 } }),
        host('b', { availabilityZone: 'us-east-1b' }),
      ],
      expected: ['a', 'b', 'a'],
    },
    {
      name: 'a FARGATE task on the virtual pool: the largest Fargate size fits a 64 vCPU / 480 GiB pool four times',
      requests: Array.from({ length: 5 }, () => ({ needs: { cpu: 16384, memory: 122880 }, kind: 'FARGATE' })),
      candidates: [host('p', { serves: ['FARGATE', 'FARGATE_SPOT'], remaining: { cpu: 65536, memory: 491520 } })],
      expected: ['p', 'p', 'p', 'p', 'RESOURCE:CPU@p'],
    },
  ])('$name', ({ requests, candidates, expected }) => {
    const snapshot = structuredClone(candidates);
    expect(placeTasks(requests, candidates).outcomes.map(summary)).toEqual(expected);
    expect(candidates).toEqual(snapshot);
  });

  it('every failure carries a detail naming what was short', () => {
    const failure = whyUnplaced({ needs: { cpu: 99999, memory: 512 }, kind: 'EC2' }, [host('a')]);
    expect(failure).toEqual({ reason: 'RESOURCE:CPU', arn: arn('a'), detail: expect.stringContaining('99999 CPU units') });
    expect(whyUnplaced({ needs: NEEDS, kind: 'FARGATE' }, []).detail).toContain('FARGATE');
  });
});

describe('placeTasks, properties', () => {
  const arbitraryRequests = fc.array(fc.record({ needs: arbitraryNeeds, kind: fc.constantFrom(...KINDS) }), { maxLength: 10 });
  const connected = arbitraryCandidates.chain((hosts) =>
    fc.tuple(...hosts.map(() => fc.boolean())).map((flags) => hosts.map((h, i) => ({ ...h, agentConnected: flags[i] }))),
  );

  it('SAFETY: never overcommits a host, and places only on ACTIVE connected hosts of the right kind', () => {
    fc.assert(
      fc.property(arbitraryRequests, connected, arbitraryGroups, (requests, candidates, groups) => {
        const { outcomes } = placeTasks(requests, candidates, groups);
        for (const host of candidates) {
          const mine = outcomes.flatMap((o, i) => ('placed' in o && o.placed.containerInstanceArn === host.containerInstanceArn ? [requests[i]] : []));
          if (!mine.length) continue;
          expect(host.status).toBe('ACTIVE');
          expect(host.agentConnected).not.toBe(false);
          expect(mine.every((r) => host.serves.includes(r.kind))).toBe(true);
          expect(mine.reduce((sum, r) => sum + r.needs.cpu, 0)).toBeLessThanOrEqual(host.remaining.cpu);
          expect(mine.reduce((sum, r) => sum + r.needs.memory, 0)).toBeLessThanOrEqual(host.remaining.memory);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('placements + failures == requested, in request order; a failure names a candidate or none', () => {
    fc.assert(
      fc.property(arbitraryRequests, connected, (requests, candidates) => {
        const { outcomes } = placeTasks(requests, candidates);
        expect(outcomes).toHaveLength(requests.length);
        const arns = new Set(candidates.map((c) => c.containerInstanceArn));
        for (const outcome of outcomes) {
          if ('failed' in outcome) {
            if (outcome.failed.arn !== undefined) expect(arns.has(outcome.failed.arn)).toBe(true);
            else expect(outcome.failed.reason).toBe('MISSING');
          } else expect(arns.has(outcome.placed.containerInstanceArn)).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('a batch of one decides as placeTask does among connected hosts', () => {
    fc.assert(
      fc.property(arbitraryNeeds, fc.constantFrom(...KINDS), connected, arbitraryGroups, (needs, kind, candidates, groups) => {
        const [outcome] = placeTasks([{ needs, kind }], candidates, groups).outcomes;
        const single = placeTask(needs, kind, candidates.filter((c) => c.agentConnected !== false), groups);
        expect('placed' in outcome ? outcome.placed : undefined).toEqual(single);
      }),
      { numRuns: 500 },
    );
  });
});

describe('capacityKindOf', () => {
  it.each<{ launchType: LaunchType; capacityProviderName?: string; kind: string }>([
    { launchType: 'FARGATE', kind: 'FARGATE' },
    { launchType: 'FARGATE', capacityProviderName: 'FARGATE', kind: 'FARGATE' },
    { launchType: 'FARGATE', capacityProviderName: 'FARGATE_SPOT', kind: 'FARGATE_SPOT' },
    { launchType: 'EC2', kind: 'EC2' },
    // An Auto Scaling group provider's task needs that provider's instances, not any EC2 capacity.
    { launchType: 'EC2', capacityProviderName: 'my-asg-provider', kind: 'my-asg-provider' },
    { launchType: 'EXTERNAL', kind: 'EC2' },
  ])('$launchType / $capacityProviderName -> $kind', ({ launchType, capacityProviderName, kind }) => {
    expect(capacityKindOf({ launchType, capacityProviderName })).toBe(kind);
  });
});

describe('taskRequirements', () => {
  it.each<{
    name: string;
    task: { cpu?: string; memory?: string };
    containers: { cpu?: number; memory?: number; memoryReservation?: number }[];
    expected: ResourceAmounts;
  }>([
    { name: 'task-level cpu/memory (Fargate always)', task: { cpu: '256', memory: '512' }, containers: [{ cpu: 10, memory: 64 }], expected: { cpu: 256, memory: 512 } },
    { name: 'task-level in vCPU and GB', task: { cpu: '1 vCPU', memory: '2 GB' }, containers: [], expected: { cpu: 1024, memory: 2048 } },
    { name: 'task-level fractional units', task: { cpu: '0.25 vcpu', memory: '0.5gb' }, containers: [], expected: { cpu: 256, memory: 512 } },
    {
      name: 'no task-level size: the containers\' sum (memory, else memoryReservation)',
      task: {},
      containers: [{ cpu: 128, memory: 256 }, { cpu: 64, memoryReservation: 128 }, {}],
      expected: { cpu: 192, memory: 384 },
    },
    { name: 'hard memory limit wins over the reservation', task: {}, containers: [{ memory: 512, memoryReservation: 128 }], expected: { cpu: 0, memory: 512 } },
    { name: 'task cpu only: memory from the containers', task: { cpu: '512' }, containers: [{ cpu: 10, memory: 300 }], expected: { cpu: 512, memory: 300 } },
    { name: 'task memory only: cpu from the containers', task: { memory: '1024' }, containers: [{ cpu: 10, memory: 300 }, { cpu: 20 }], expected: { cpu: 30, memory: 1024 } },
    { name: 'no containers, no size: nothing', task: {}, containers: [], expected: { cpu: 0, memory: 0 } },
  ])('$name', ({ task, containers, expected }) => {
    expect(taskRequirements(task, containers)).toEqual(expected);
  });
});

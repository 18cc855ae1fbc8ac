import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { splitIntoLanes } from '../../src/local/stream-poller';
import { placementOrdered } from '../../src/local/stream-lanes';

/** A stream record of item (pk, sk) with sequence number `seq`. */
const record = (pk: string, sk: string, seq: number): _Record => ({
  eventName: 'MODIFY',
  dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } }, SequenceNumber: String(seq).padStart(21, '0') },
});

const CLUSTER = 'arn:aws:ecs:us-east-1:000000000000:cluster/c';
const cluster = (i: number) => `${CLUSTER}${i % 10}`;
/** 40 tasks' records in 10 clusters, interleaved as a busy stream holds them: task i's changes at i, i+40, i+80. */
const BATCH = [0, 1, 2].flatMap((round) => Array.from({ length: 40 }, (_, i) => record(cluster(i), `TASK#${i}`, round * 40 + i)));
/** What must stay in one lane: the partition (one cluster's items, so its placements are serial). */
const itemOf = (r: _Record) => r.dynamodb!.Keys!.pk.S!;
const seqOf = (r: _Record) => r.dynamodb!.SequenceNumber!;

describe('splitIntoLanes (the local poller hands a batch over in lanes, like Lambda\'s ParallelizationFactor)', () => {
  it.each([1, 2, 4, 8])('with %i lanes: every record once, each item in one lane, in commit order', (lanes) => {
    const split = splitIntoLanes(BATCH, lanes);
    expect(split.length).toBeLessThanOrEqual(lanes);
    expect(split.flat().map(seqOf).sort()).toEqual(BATCH.map(seqOf).sort());
    const laneOf = new Map<string, number>();
    split.forEach((lane, index) => {
      for (const r of lane) {
        expect(laneOf.get(itemOf(r)) ?? index).toBe(index);
        laneOf.set(itemOf(r), index);
      }
      const sequence = lane.map(seqOf);
      expect(sequence).toEqual([...sequence].sort());
    });
  });

  it("keeps one cluster's records in one lane: its placements are decided one after another", () => {
    const one = Array.from({ length: 20 }, (_, i) => record(CLUSTER, `TASK#${i}`, i));
    expect(splitIntoLanes(one, 4)).toHaveLength(1);
  });

  it('spreads 10 clusters over the lanes (no lane left empty) and drops empty lanes of a small batch', () => {
    expect(splitIntoLanes(BATCH, 4)).toHaveLength(4);
    expect(splitIntoLanes([record(CLUSTER, 'TASK#a', 1), record(CLUSTER, 'TASK#a', 2)], 4)).toHaveLength(1);
    expect(splitIntoLanes([], 4)).toEqual([]);
  });
});

describe('splitIntoLanes with partitionOrdered (a busy cluster\'s bookkeeping beside its placements)', () => {
  /** Task i's records: PROVISIONING-like (ordered) only for the tasks in `placing`. */
  const ordered = (placing: Set<string>) => (r: _Record) => placing.has(r.dynamodb!.Keys!.sk.S!);
  const oneCluster = [0, 1, 2].flatMap((round) => Array.from({ length: 20 }, (_, i) => record(CLUSTER, `TASK#${i}`, round * 20 + i)));
  const laneOfEach = (split: _Record[][]) => {
    const lanes = new Map<string, Set<number>>();
    split.forEach((lane, index) => {
      for (const r of lane) lanes.set(r.dynamodb!.Keys!.sk.S!, (lanes.get(r.dynamodb!.Keys!.sk.S!) ?? new Set()).add(index));
      const sequence = lane.map(seqOf);
      expect(sequence).toEqual([...sequence].sort());
    });
    return lanes;
  };

  it('spreads one cluster\'s unordered tasks over the lanes, each task\'s records in one lane in commit order', () => {
    const split = splitIntoLanes(oneCluster, 4, ordered(new Set()));
    expect(split).toHaveLength(4);
    expect(split.flat().map(seqOf).sort()).toEqual(oneCluster.map(seqOf).sort());
    for (const lanes of laneOfEach(split).values()) expect(lanes.size).toBe(1);
  });

  it('keeps every task with an ordered record in the cluster\'s one lane, with all of that task\'s records', () => {
    const placing = new Set(['TASK#3', 'TASK#7', 'TASK#11']);
    // Only one of each placing task's records is ordered: the task's others go with it all the same.
    const split = splitIntoLanes(oneCluster, 4, (r) => placing.has(r.dynamodb!.Keys!.sk.S!) && Number(seqOf(r)) < 20);
    const lanes = laneOfEach(split);
    const placingLanes = new Set([...placing].flatMap((task) => [...lanes.get(task)!]));
    expect(placingLanes.size).toBe(1);
    for (const task of placing) expect(split.flat().filter((r) => r.dynamodb!.Keys!.sk.S === task)).toHaveLength(3);
  });

  it('without partitionOrdered, partitions as before', () => {
    expect(splitIntoLanes(oneCluster, 4)).toHaveLength(1);
  });
});

describe('placementOrdered (which task changes keep their cluster\'s order in the local poller)', () => {
  const HOST = 'arn:aws:ecs:us-east-1:000000000000:container-instance/pool/abc';
  const task = (lastStatus: string, desiredStatus: string, reserved: boolean) => ({
    kind: 'task',
    doc: { lastStatus, desiredStatus, ...(reserved ? { reservation: { containerInstanceArn: HOST, cpu: 256, memory: 512 } } : {}) },
  });
  const change = (before: Record<string, unknown> | undefined, after: Record<string, unknown>): _Record => ({
    eventName: before ? 'MODIFY' : 'INSERT',
    dynamodb: {
      Keys: marshall({ pk: CLUSTER, sk: 'TASK#t' }),
      NewImage: marshall(after, { removeUndefinedValues: true }),
      ...(before ? { OldImage: marshall(before, { removeUndefinedValues: true }) } : {}),
    },
  });
  it.each([
    ['PROVISIONING (its step places it)', undefined, task('PROVISIONING', 'RUNNING', false), true],
    ['PENDING without a host (waits; placement finds it)', task('PROVISIONING', 'RUNNING', false), task('PENDING', 'RUNNING', false), true],
    ['PENDING placed', task('PROVISIONING', 'RUNNING', false), task('PENDING', 'RUNNING', true), false],
    ['ACTIVATING', task('PENDING', 'RUNNING', true), task('ACTIVATING', 'RUNNING', true), false],
    ['RUNNING', task('ACTIVATING', 'RUNNING', true), task('RUNNING', 'RUNNING', true), false],
    ['STOPPING', task('DEACTIVATING', 'STOPPED', true), task('STOPPING', 'STOPPED', true), false],
    ['STOPPED, host given back (its step places waiting tasks)', task('DEPROVISIONING', 'STOPPED', true), task('STOPPED', 'STOPPED', false), true],
    ['STOPPED before it had a host', task('PENDING', 'STOPPED', false), task('STOPPED', 'STOPPED', false), false],
    ['a container instance', undefined, { kind: 'container-instance', doc: {} }, true],
    ['a service', undefined, { kind: 'service', doc: {} }, true],
  ] as const)('%s -> %s', (_name, before, after, expected) => {
    expect(placementOrdered(change(before as Record<string, unknown> | undefined, after as Record<string, unknown>))).toBe(expected);
  });
});

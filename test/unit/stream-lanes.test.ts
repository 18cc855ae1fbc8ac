import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { splitIntoLanes } from '../../src/local/stream-poller';

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

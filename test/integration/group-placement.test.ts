/**
 * Group placement at creation (src/app/group-placement.ts) against DynamoDB Local, with no engine
 * running: what one scheduler pass and one RunTask write is where their tasks are, so the balance
 * seen here is the balance of the pass's own placements (no later engine step moved anything).
 */
import { CreateClusterCommand, CreateServiceCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceGroup } from '../../src/domain/service';
import { runServicePass } from '../../src/app/service-scheduler';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';

const CLUSTER = 'grouped';
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`;
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
let berth: Harness;
/** Two hosts per zone, each with room for 8 tasks of 128 cpu / 128 MiB. */
const hosts: { arn: string; zone: string }[] = [];

beforeAll(async () => {
  berth = await startHarness();
  const ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'small',
      // versionConsistency disabled: no agent runs these tasks to establish an image digest (seed 002),
      // so a pass may start all of a deployment's tasks at once, which is what this file looks at.
      containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 128, memory: 128, command: ['sleep', '60'], versionConsistency: 'disabled' }],
    }),
  );
  for (const zone of ZONES) {
    for (let i = 0; i < 2; i++) hosts.push({ arn: await registerHost(ecs, CLUSTER, { cpu: 1024, memory: 1024 }, zone), zone });
  }
}, 60_000);
afterAll(async () => {
  await berth?.close();
});

const count = <T>(values: readonly T[]) => {
  const out = new Map<T, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
};
const spreadOf = (counts: Map<unknown, number>, keys: readonly unknown[]) => {
  const all = keys.map((k) => counts.get(k) ?? 0);
  return Math.max(...all) - Math.min(...all);
};

describe('group placement at creation', () => {
  it("one REPLICA pass places its 12 starts at once, spread 4/4/4 over zones and 2 per host, each host's share reserved", async () => {
    const { service } = await berth.ecs().send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'spread',
        taskDefinition: 'small',
        desiredCount: 12,
        launchType: 'EC2',
        placementStrategy: [
          { type: 'spread', field: 'attribute:ecs.availability-zone' },
          { type: 'spread', field: 'instanceId' },
        ],
      }),
    );
    const pass = await runServicePass(berth.context, service!.serviceArn!);
    expect(pass.started).toHaveLength(12);
    const tasks = (await berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup('spread'))).map((t) => t.record);
    expect(tasks).toHaveLength(12);
    for (const task of tasks) expect(task.reservation).toMatchObject({ cpu: 128, memory: 128 });
    expect([...count(tasks.map((t) => t.availabilityZone)).values()]).toEqual([4, 4, 4]);
    expect([...count(tasks.map((t) => t.containerInstanceArn)).values()]).toEqual([2, 2, 2, 2, 2, 2]);
    // The shares were taken from the hosts in the creating transaction: 2 x 128 off each.
    for (const { arn } of hosts) {
      const stored = (await berth.context.containerInstances.all(CLUSTER_ARN)).find((h) => h.record.containerInstanceArn === arn)!;
      expect(stored.remaining).toEqual({ cpu: 1024 - 256, memory: 1024 - 256 });
    }
  });

  it('RunTask count 10 with spread instanceId lands within one task of each other per host (counting the service above)', async () => {
    const { tasks, failures } = await berth.ecs().send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'small', count: 10, group: 'service:spread', placementStrategy: [{ type: 'spread', field: 'instanceId' }] }),
    );
    expect(failures).toEqual([]);
    expect(tasks).toHaveLength(10);
    const all = (await berth.context.tasks.inGroup(CLUSTER_ARN, 'service:spread')).map((t) => t.record.containerInstanceArn);
    // 12 + 10 = 22 tasks of the group on 6 hosts: 4 or 3 on each.
    expect(spreadOf(count(all), hosts.map((h) => h.arn))).toBeLessThanOrEqual(1);
  });

  it('a binpack pass with more starts than room places what fits, filling every host, and creates the rest unplaced, to wait', async () => {
    // Left per host after the tests above: 3 or 4 slots of 128; the service asks for more than that.
    const left = (await berth.context.containerInstances.all(CLUSTER_ARN)).reduce((sum, h) => sum + Math.floor(h.remaining.memory / 128), 0);
    const { service } = await berth.ecs().send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: 'packed',
        taskDefinition: 'small',
        desiredCount: left + 2,
        launchType: 'EC2',
        placementStrategy: [{ type: 'binpack', field: 'memory' }],
      }),
    );
    await runServicePass(berth.context, service!.serviceArn!);
    const tasks = (await berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup('packed'))).map((t) => t.record);
    expect(tasks).toHaveLength(left + 2);
    expect(tasks.filter((t) => t.reservation)).toHaveLength(left);
    expect(tasks.filter((t) => !t.reservation).map((t) => t.lastStatus)).toEqual(['PROVISIONING', 'PROVISIONING']);
    for (const h of await berth.context.containerInstances.all(CLUSTER_ARN)) expect(h.remaining.memory).toBeLessThan(128);
  });
});

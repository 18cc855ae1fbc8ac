/**
 * AZ rebalancing through the scheduler pass on DynamoDB Local, with no loop and no engine running:
 * the test moves tasks along (RUNNING in a zone, STOPPED) by conditional writes, as the engine and
 * agents would, and runs one pass at a time. Two container instances registered through the API, in
 * us-east-1a and us-east-1b: the pass reads the zones with room from them, starts the rebalancing
 * task pinned to its zone, stops one in the busiest zone once it runs, and says so in the service's
 * events. Also the member on the wire: CreateService's default, UpdateService, a binpack service.
 */
import {
  CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServicePass } from '../../src/app/service-scheduler';
import type { TaskRecord } from '../../src/domain/records';
import { serviceGroup } from '../../src/domain/service';
import { ACCOUNT, REGION, startHarness, type Harness } from '../support/berth-harness';
import { registerHost } from '../support/hosts';

const CLUSTER = 'rebalance';
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`;
const [A, B] = ['us-east-1a', 'us-east-1b'];
let berth: Harness;

beforeAll(async () => {
  berth = await startHarness();
  const ecs = berth.ecs();
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await registerHost(ecs, CLUSTER, undefined, A);
  await registerHost(ecs, CLUSTER, undefined, B);
  await ecs.send(new RegisterTaskDefinitionCommand({
    // versionConsistency disabled: the tasks written RUNNING here report no image digest (seed 002).
    family: 'web', containerDefinitions: [{ name: 'main', image: 'busybox', cpu: 128, memory: 128, command: ['sleep', '60'], versionConsistency: 'disabled' }],
  }));
}, 60_000);
afterAll(async () => {
  await berth?.close();
});

const tasksOf = async (name: string) => (await berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup(name))).filter((t) => t.record.lastStatus !== 'STOPPED');
/** What the engine and an agent would write: the task RUNNING in `zone`, or STOPPED. */
async function move(name: string, taskArn: string, change: Partial<TaskRecord>) {
  const stored = (await berth.context.tasks.inGroup(CLUSTER_ARN, serviceGroup(name))).find((t) => t.record.taskArn === taskArn)!;
  const now = berth.context.clock();
  await berth.context.tasks.applyChange({ task: { ...stored.record, ...change, updatedAt: now, version: stored.version + 1 }, expectedVersion: stored.version });
}
const running = (zone: string): Partial<TaskRecord> => ({ lastStatus: 'RUNNING', availabilityZone: zone, startedAt: berth.context.clock() });
const describe1 = async (name: string) =>
  (await berth.ecs().send(new DescribeServicesCommand({ cluster: CLUSTER, services: [name] }))).services![0]!;

describe('availabilityZoneRebalancing on the wire', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['CreateService without it: ENABLED', {}, 'ENABLED'],
    ['CreateService with DISABLED', { availabilityZoneRebalancing: 'DISABLED' }, 'DISABLED'],
    ['CreateService with binpack and without it: DISABLED', { placementStrategy: [{ type: 'binpack', field: 'memory' }] }, 'DISABLED'],
  ])('%s', async (name, extra, expected) => {
    const serviceName = `wire-${expected}-${Object.keys(extra).length}-${String(extra.placementStrategy ? 'bp' : 'x')}`;
    const { service } = await berth.ecs().send(new CreateServiceCommand({ cluster: CLUSTER, serviceName, taskDefinition: 'web', desiredCount: 0, ...extra }));
    expect(service!.availabilityZoneRebalancing, name).toBe(expected);
    expect((await describe1(serviceName)).availabilityZoneRebalancing).toBe(expected);
  });

  it('UpdateService changes it without a new deployment; absent keeps it; a bad value is InvalidParameterException', async () => {
    await berth.ecs().send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: 'wire-update', taskDefinition: 'web', desiredCount: 0 }));
    const { service } = await berth.ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'wire-update', availabilityZoneRebalancing: 'DISABLED' }));
    expect(service!.availabilityZoneRebalancing).toBe('DISABLED');
    expect(service!.deployments).toHaveLength(1);
    const kept = await berth.ecs().send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'wire-update', desiredCount: 0 }));
    expect(kept.service!.availabilityZoneRebalancing).toBe('DISABLED');
    const bad = await berth.raw('UpdateService', JSON.stringify({ cluster: CLUSTER, service: 'wire-update', availabilityZoneRebalancing: 'SOMETIMES' }));
    expect(bad.status).toBe(400);
    expect(bad.json.__type).toContain('InvalidParameterException');
    expect((await describe1('wire-update')).availabilityZoneRebalancing).toBe('DISABLED');
  });
});

describe('a service piled into one zone, rebalanced pass by pass', () => {
  it('starts in the empty zone, stops in the full one once it runs, and says so', async () => {
    const ecs = berth.ecs();
    // Kept in us-east-1a by a constraint first, so the zones are uneven once it is lifted.
    const { service } = await ecs.send(new CreateServiceCommand({
      cluster: CLUSTER, serviceName: 'piled', taskDefinition: 'web', desiredCount: 2,
      placementConstraints: [{ type: 'memberOf', expression: `attribute:ecs.availability-zone == ${A}` }],
    }));
    const arn = service!.serviceArn!;
    await runServicePass(berth.context, arn);
    for (const t of await tasksOf('piled')) await move('piled', t.record.taskArn, running(A));
    await runServicePass(berth.context, arn); // COMPLETED, steady: us-east-1b has room but the constraint bars it
    expect((await describe1('piled')).deployments![0]!.rolloutState).toBe('COMPLETED');
    expect((await tasksOf('piled'))).toHaveLength(2);

    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'piled', placementConstraints: [] }));
    const start = await runServicePass(berth.context, arn);
    expect(start.started).toHaveLength(1);
    const extra = (await tasksOf('piled')).find((t) => t.record.taskArn === start.started![0])!.record;
    expect(extra.placementConstraints).toContainEqual({ type: 'memberOf', expression: `attribute:ecs.availability-zone == ${B}` });
    const messages = async () => (await describe1('piled')).events!.map((e) => e.message);
    expect(await messages()).toContain(`service (piled) is not AZ balanced with 2 tasks in ${A} and 0 in ${B}. AZ Rebalancing in progress.`);

    const waiting = await runServicePass(berth.context, arn); // the extra task is not running yet
    expect(waiting.plan!.stop).toEqual([]);
    await move('piled', extra.taskArn, running(B));
    const stop = await runServicePass(berth.context, arn);
    expect(stop.plan!.stop).toHaveLength(1);
    expect(stop.plan!.stop[0]).toMatchObject({ rule: 'az-rebalance' });
    const stopped = (await tasksOf('piled')).find((t) => t.record.taskArn === stop.plan!.stop[0]!.taskArn)!.record;
    expect(stopped).toMatchObject({ availabilityZone: A, desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });

    await move('piled', stopped.taskArn, { lastStatus: 'STOPPED', stoppedAt: berth.context.clock() });
    await runServicePass(berth.context, arn);
    expect(await messages()).toContain(`service (piled) is AZ balanced with 1 tasks in ${A} and 1 tasks in ${B}.`);
    const zones = (await tasksOf('piled')).map((t) => t.record.availabilityZone).sort();
    expect(zones).toEqual([A, B]);
    const stored = await berth.context.services.get(CLUSTER_ARN, 'piled');
    expect(stored!.deployments.find((d) => d.status === 'PRIMARY')!.rebalancingZones).toBeUndefined();
    // Balanced: a further pass starts and stops nothing.
    const after = await runServicePass(berth.context, arn);
    expect([after.plan!.start, after.plan!.stop]).toEqual([[], []]);
  });
});

/**
 * Account settings through the real ECS SDK on DynamoDB Local: per principal and account default,
 * effective settings, deletion, what they change in Berth (containerInsights for new clusters; the
 * long ARN formats cannot be turned off), and bad inputs with the exact ECS error, HTTP 400 and no
 * write. Each suite has its own table, so this account starts with no settings.
 */
import {
  CreateClusterCommand,
  DeleteAccountSettingCommand,
  ListAccountSettingsCommand,
  PutAccountSettingCommand,
  PutAccountSettingDefaultCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, startHarness, type Harness } from '../support/berth-harness';
import { snapshotTable } from '../support/table-snapshot';

let berth: Harness;
let ecs: ECSClient;
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deployer`;
const USER = `arn:aws:iam::${ACCOUNT}:user/alice`;

beforeAll(async () => {
  berth = await startHarness();
  ecs = berth.ecs();
});
afterAll(() => berth?.close());

const effective = async (principalArn?: string, name?: string) =>
  (await ecs.send(new ListAccountSettingsCommand({ effectiveSettings: true, principalArn, name: name as never }))).settings;

describe('account settings', () => {
  it('before anything is set: nothing of the caller, and the effective settings are ECS defaults', async () => {
    expect((await ecs.send(new ListAccountSettingsCommand({}))).settings).toEqual([]);
    const all = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(new ListAccountSettingsCommand({ effectiveSettings: true, maxResults: 4, nextToken }));
      expect(page.settings!.length).toBeLessThanOrEqual(4);
      all.push(...page.settings!);
      nextToken = page.nextToken;
    } while (nextToken);
    // Every name of the model's SettingName enum, once, in its order.
    expect(all.map((s) => s.name)).toEqual([
      'serviceLongArnFormat',
      'taskLongArnFormat',
      'containerInstanceLongArnFormat',
      'awsvpcTrunking',
      'containerInsights',
      'fargateFIPSMode',
      'tagResourceAuthorization',
      'fargateTaskRetirementWaitPeriod',
      'guardDutyActivate',
      'defaultLogDriverMode',
      'fargateEventWindows',
    ]);
    expect(all.find((s) => s.name === 'containerInsights')).toEqual({ name: 'containerInsights', value: 'disabled', principalArn: ROOT, type: 'aws_managed' });
    expect(all.find((s) => s.name === 'taskLongArnFormat')?.value).toBe('enabled');
  });

  it('a principal setting overrides the account default, for that principal only', async () => {
    const byDefault = await ecs.send(new PutAccountSettingDefaultCommand({ name: 'awsvpcTrunking', value: 'enabled' }));
    expect(byDefault.setting).toEqual({ name: 'awsvpcTrunking', value: 'enabled', principalArn: ROOT, type: 'user' });
    const forRole = await ecs.send(new PutAccountSettingCommand({ name: 'awsvpcTrunking', value: 'disabled', principalArn: ROLE }));
    expect(forRole.setting).toEqual({ name: 'awsvpcTrunking', value: 'disabled', principalArn: ROLE, type: 'user' });

    expect(await effective(ROLE, 'awsvpcTrunking')).toEqual([forRole.setting]);
    expect(await effective(USER, 'awsvpcTrunking')).toEqual([byDefault.setting]);
    expect(await effective(undefined, 'awsvpcTrunking')).toEqual([byDefault.setting]);
    // Without effectiveSettings: only what is set for the principal.
    expect((await ecs.send(new ListAccountSettingsCommand({ principalArn: ROLE }))).settings).toEqual([forRole.setting]);
    expect((await ecs.send(new ListAccountSettingsCommand({ principalArn: USER }))).settings).toEqual([]);
    expect((await ecs.send(new ListAccountSettingsCommand({ name: 'awsvpcTrunking', value: 'enabled' }))).settings).toEqual([byDefault.setting]);
    expect((await ecs.send(new ListAccountSettingsCommand({ name: 'awsvpcTrunking', value: 'disabled' }))).settings).toEqual([]);
  });

  it('PutAccountSetting without principalArn sets the caller\'s (the root user\'s, locally): the account default', async () => {
    const { setting } = await ecs.send(new PutAccountSettingCommand({ name: 'tagResourceAuthorization', value: 'off' }));
    expect(setting).toEqual({ name: 'tagResourceAuthorization', value: 'off', principalArn: ROOT, type: 'user' });
    expect(await effective(USER, 'tagResourceAuthorization')).toEqual([setting]);
  });

  it('DeleteAccountSetting removes the principal\'s setting, and the account default applies again', async () => {
    const { setting } = await ecs.send(new DeleteAccountSettingCommand({ name: 'awsvpcTrunking', principalArn: ROLE }));
    expect(setting).toEqual({ name: 'awsvpcTrunking', value: 'disabled', principalArn: ROLE, type: 'user' });
    expect(await effective(ROLE, 'awsvpcTrunking')).toEqual([{ name: 'awsvpcTrunking', value: 'enabled', principalArn: ROOT, type: 'user' }]);
    await ecs.send(new DeleteAccountSettingCommand({ name: 'awsvpcTrunking' }));
    expect(await effective(ROLE, 'awsvpcTrunking')).toEqual([{ name: 'awsvpcTrunking', value: 'disabled', principalArn: ROOT, type: 'aws_managed' }]);
  });

  it('containerInsights: the account default is what a new cluster gets unless CreateCluster sets it', async () => {
    await ecs.send(new PutAccountSettingDefaultCommand({ name: 'containerInsights', value: 'enhanced' }));
    const inherited = await ecs.send(new CreateClusterCommand({ clusterName: 'insights-default' }));
    expect(inherited.cluster?.settings).toEqual([{ name: 'containerInsights', value: 'enhanced' }]);
    const own = await ecs.send(new CreateClusterCommand({ clusterName: 'insights-own', settings: [{ name: 'containerInsights', value: 'disabled' }] }));
    expect(own.cluster?.settings).toEqual([{ name: 'containerInsights', value: 'disabled' }]);
    await ecs.send(new DeleteAccountSettingCommand({ name: 'containerInsights' }));
    const back = await ecs.send(new CreateClusterCommand({ clusterName: 'insights-back' }));
    expect(back.cluster?.settings).toEqual([{ name: 'containerInsights', value: 'disabled' }]);
  });

  it('the long ARN formats can be set enabled (Berth\'s only format)', async () => {
    const { setting } = await ecs.send(new PutAccountSettingDefaultCommand({ name: 'taskLongArnFormat', value: 'enabled' }));
    expect(setting?.value).toBe('enabled');
  });
});

describe('bad inputs: the ECS error, HTTP 400, nothing written', () => {
  const rows: { name: string; send: () => Promise<unknown>; error: string }[] = [
    { name: 'PutAccountSetting: name outside the enum', send: () => ecs.send(new PutAccountSettingCommand({ name: 'turbo' as never, value: 'on' })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: value missing', send: () => ecs.send(new PutAccountSettingCommand({ name: 'awsvpcTrunking' } as never)), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: value the setting does not take', send: () => ecs.send(new PutAccountSettingCommand({ name: 'awsvpcTrunking', value: 'on' })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: containerInsights maybe', send: () => ecs.send(new PutAccountSettingCommand({ name: 'containerInsights', value: 'maybe' })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: fargateTaskRetirementWaitPeriod 3', send: () => ecs.send(new PutAccountSettingDefaultCommand({ name: 'fargateTaskRetirementWaitPeriod', value: '3' })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: disabling a long ARN format', send: () => ecs.send(new PutAccountSettingCommand({ name: 'serviceLongArnFormat', value: 'disabled' })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: principal of another account', send: () => ecs.send(new PutAccountSettingCommand({ name: 'awsvpcTrunking', value: 'enabled', principalArn: 'arn:aws:iam::999999999999:role/x' })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: principal that is no IAM ARN', send: () => ecs.send(new PutAccountSettingCommand({ name: 'awsvpcTrunking', value: 'enabled', principalArn: 'alice' })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: an account-only setting for a role', send: () => ecs.send(new PutAccountSettingCommand({ name: 'fargateFIPSMode', value: 'enabled', principalArn: ROLE })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: value is a number', send: () => berth.raw('PutAccountSetting', '{"name": "awsvpcTrunking", "value": 1}').then(rawAsError), error: 'SerializationException' },
    { name: 'PutAccountSettingDefault: name missing', send: () => ecs.send(new PutAccountSettingDefaultCommand({ value: 'enabled' } as never)), error: 'InvalidParameterException' },
    { name: 'PutAccountSettingDefault: value the setting does not take', send: () => ecs.send(new PutAccountSettingDefaultCommand({ name: 'fargateTaskRetirementWaitPeriod', value: '3' })), error: 'InvalidParameterException' },
    // Read-only in ECS (GuardDuty sets it): no one puts or deletes it.
    { name: 'PutAccountSettingDefault: guardDutyActivate', send: () => ecs.send(new PutAccountSettingDefaultCommand({ name: 'guardDutyActivate', value: 'on' })), error: 'InvalidParameterException' },
    { name: 'PutAccountSetting: guardDutyActivate for the root user', send: () => ecs.send(new PutAccountSettingCommand({ name: 'guardDutyActivate', value: 'off' })), error: 'InvalidParameterException' },
    { name: 'DeleteAccountSetting: guardDutyActivate', send: () => ecs.send(new DeleteAccountSettingCommand({ name: 'guardDutyActivate' })), error: 'InvalidParameterException' },
    { name: 'DeleteAccountSetting: name outside the enum', send: () => ecs.send(new DeleteAccountSettingCommand({ name: 'turbo' as never })), error: 'InvalidParameterException' },
    { name: 'DeleteAccountSetting: principal of another account', send: () => ecs.send(new DeleteAccountSettingCommand({ name: 'awsvpcTrunking', principalArn: 'arn:aws:iam::999999999999:root' })), error: 'InvalidParameterException' },
    { name: 'ListAccountSettings: value without name', send: () => ecs.send(new ListAccountSettingsCommand({ value: 'enabled' })), error: 'InvalidParameterException' },
    { name: 'ListAccountSettings: maxResults 11', send: () => ecs.send(new ListAccountSettingsCommand({ maxResults: 11 })), error: 'InvalidParameterException' },
    { name: 'ListAccountSettings: maxResults 0', send: () => ecs.send(new ListAccountSettingsCommand({ maxResults: 0 })), error: 'InvalidParameterException' },
    { name: 'ListAccountSettings: garbage nextToken', send: () => ecs.send(new ListAccountSettingsCommand({ effectiveSettings: true, nextToken: 'garbage' })), error: 'InvalidParameterException' },
  ];

  it.each(rows)('$name -> $error', async ({ send, error }) => {
    const before = await snapshotTable(berth.tableName);
    await expect(send()).rejects.toMatchObject({ name: error, $metadata: { httpStatusCode: 400 } });
    expect(await snapshotTable(berth.tableName)).toEqual(before);
  });
});

/** A raw response as the error an SDK would throw (name, status), for rows the SDK cannot send. */
function rawAsError(response: { status: number; json: { __type?: string } }) {
  if (response.status === 200) return response;
  throw Object.assign(new Error(String(response.json.__type)), { name: response.json.__type, $metadata: { httpStatusCode: response.status } });
}

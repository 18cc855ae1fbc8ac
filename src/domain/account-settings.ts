/**
 * ECS account settings: which names exist (the model's SettingName enum), the values each takes and
 * its default (from the ECS API reference for PutAccountSetting / PutAccountSettingDefault), who may
 * hold them, and which one applies to a principal. Pure; the use cases store and read.
 *
 * A setting of the account's root user is the account default (ECS: "If you specify the root user,
 * it modifies the account setting for all users, roles and the root user of the account unless a
 * user or role explicitly overrides these settings"). What applies to a principal is its own
 * setting, else the account default, else ECS's default.
 */
import { InvalidParameterException } from './errors';

export type SettingName =
  | 'serviceLongArnFormat'
  | 'taskLongArnFormat'
  | 'containerInstanceLongArnFormat'
  | 'awsvpcTrunking'
  | 'containerInsights'
  | 'fargateFIPSMode'
  | 'tagResourceAuthorization'
  | 'fargateTaskRetirementWaitPeriod'
  | 'guardDutyActivate'
  | 'defaultLogDriverMode'
  | 'fargateEventWindows';

export interface AccountSetting {
  readonly name: SettingName;
  readonly value: string;
  readonly principalArn: string;
  /** `user` when someone set it; `aws_managed` for ECS's own default (ListAccountSettings effectiveSettings). */
  readonly type: 'user' | 'aws_managed';
}

interface SettingRule {
  readonly values: readonly string[];
  readonly defaultValue: string;
  /** Settable for the whole account only (the root user / PutAccountSettingDefault), as ECS documents. */
  readonly accountOnly?: boolean;
  /** Read-only in ECS: another service sets it (the model's PutAccountSetting documentation). */
  readonly readOnly?: string;
}

const ENABLED_DISABLED = ['enabled', 'disabled'] as const;

/** In the order of the model's enum, which is the order ListAccountSettings answers in. */
export const SETTING_RULES: Readonly<Record<SettingName, SettingRule>> = {
  serviceLongArnFormat: { values: ENABLED_DISABLED, defaultValue: 'enabled' },
  taskLongArnFormat: { values: ENABLED_DISABLED, defaultValue: 'enabled' },
  containerInstanceLongArnFormat: { values: ENABLED_DISABLED, defaultValue: 'enabled' },
  awsvpcTrunking: { values: ENABLED_DISABLED, defaultValue: 'disabled' },
  containerInsights: { values: ['enabled', 'disabled', 'enhanced'], defaultValue: 'disabled' },
  fargateFIPSMode: { values: ENABLED_DISABLED, defaultValue: 'disabled', accountOnly: true },
  tagResourceAuthorization: { values: ['on', 'off'], defaultValue: 'on' },
  fargateTaskRetirementWaitPeriod: { values: ['0', '7', '14'], defaultValue: '7', accountOnly: true },
  // "The guardDutyActivate parameter is read-only in Amazon ECS ... Amazon GuardDuty controls this
  // account setting on your behalf" (the model's PutAccountSetting documentation).
  guardDutyActivate: {
    values: ['on', 'off'],
    defaultValue: 'off',
    accountOnly: true,
    readOnly: 'Amazon GuardDuty controls it when your security administrator turns on ECS Runtime Monitoring',
  },
  defaultLogDriverMode: { values: ['blocking', 'non-blocking'], defaultValue: 'non-blocking' },
  fargateEventWindows: { values: ENABLED_DISABLED, defaultValue: 'disabled' },
};

export const SETTING_NAMES = Object.keys(SETTING_RULES) as SettingName[];

/** Berth names resources in the long ARN format only (task/<cluster>/<id>, ...): it cannot be turned off. */
const LONG_ARN_FORMATS: readonly SettingName[] = ['serviceLongArnFormat', 'taskLongArnFormat', 'containerInstanceLongArnFormat'];

export const rootPrincipal = (account: string) => `arn:aws:iam::${account}:root`;

const PRINCIPAL = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):(root|user\/[\w+=,.@/-]{1,512}|role\/[\w+=,.@/-]{1,512})$/;

/** A principal of this account (its root user, an IAM user or role), or InvalidParameterException. */
export function checkPrincipal(principalArn: string, account: string): string {
  const match = PRINCIPAL.exec(principalArn);
  if (!match || match[1] !== account) {
    throw new InvalidParameterException(
      `principalArn ${principalArn} is not valid: specify the ARN of an IAM user, an IAM role or the root user of account ${account}.`,
    );
  }
  return principalArn;
}

export const isRoot = (principalArn: string) => principalArn.endsWith(':root');

/** A setting ECS lets no one put or delete (guardDutyActivate): InvalidParameterException naming who sets it. */
export function checkWritable(name: SettingName): void {
  const owner = SETTING_RULES[name].readOnly;
  if (owner) throw new InvalidParameterException(`${name} is read-only: ${owner}.`);
}

/** The checks of PutAccountSetting(Default): a value the setting takes, by a principal that may hold it. */
export function checkSetting(name: SettingName, value: string, principalArn: string): void {
  const rule = SETTING_RULES[name];
  checkWritable(name);
  if (!rule.values.includes(value)) {
    throw new InvalidParameterException(`The value '${value}' is not valid for ${name}. Valid values: ${rule.values.join(' | ')}.`);
  }
  if (LONG_ARN_FORMATS.includes(name) && value !== 'enabled') {
    throw new InvalidParameterException(`${name} cannot be disabled: the long ARN format is the only format Berth uses.`);
  }
  if (rule.accountOnly && !isRoot(principalArn)) {
    throw new InvalidParameterException(`${name} can only be set for the account: use PutAccountSettingDefault or the root user.`);
  }
}

/**
 * The setting of `name` that applies to `principalArn`, given the stored settings of its account
 * (its own, else the root user's, else ECS's default).
 */
export function effectiveSetting(name: SettingName, principalArn: string, stored: readonly AccountSetting[], account: string): AccountSetting {
  const own = stored.find((s) => s.name === name && s.principalArn === principalArn);
  const accountDefault = stored.find((s) => s.name === name && s.principalArn === rootPrincipal(account));
  return own ?? accountDefault ?? { name, value: SETTING_RULES[name].defaultValue, principalArn: rootPrincipal(account), type: 'aws_managed' };
}

/**
 * PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting, ListAccountSettings. Berth does
 * not know the caller's IAM identity (locally nothing is authenticated), so a request without
 * principalArn acts for the account's root user, whose settings are the account defaults.
 *
 * What the settings change in Berth: containerInsights is the value new clusters get when
 * CreateCluster does not set it; the three long ARN formats can only be enabled (Berth's only
 * format). The rest are stored and answered (docs/compatibility.md).
 */
import {
  checkPrincipal,
  checkSetting,
  checkWritable,
  effectiveSetting,
  rootPrincipal,
  SETTING_NAMES,
  type AccountSetting,
  type SettingName,
} from '../domain/account-settings';
import { InvalidParameterException } from '../domain/errors';
import type { RequestContext } from './context';

const principalOf = (ctx: RequestContext, principalArn: string | undefined) =>
  principalArn === undefined ? rootPrincipal(ctx.scope.account) : checkPrincipal(principalArn, ctx.scope.account);

export async function putAccountSetting(ctx: RequestContext, input: { name: SettingName; value: string; principalArn?: string }) {
  const principalArn = principalOf(ctx, input.principalArn);
  checkSetting(input.name, input.value, principalArn);
  const setting: AccountSetting = { name: input.name, value: input.value, principalArn, type: 'user' };
  await ctx.accountSettings.put(ctx.scope, setting);
  return { setting };
}

export async function putAccountSettingDefault(ctx: RequestContext, input: { name: SettingName; value: string }) {
  return putAccountSetting(ctx, { name: input.name, value: input.value, principalArn: rootPrincipal(ctx.scope.account) });
}

/** Answers the setting removed, or (nothing was set) the one that applies to the principal. */
export async function deleteAccountSetting(ctx: RequestContext, input: { name: SettingName; principalArn?: string }) {
  checkWritable(input.name);
  const principalArn = principalOf(ctx, input.principalArn);
  const removed = await ctx.accountSettings.delete(ctx.scope, principalArn, input.name);
  if (removed) return { setting: removed };
  const stored = await ctx.accountSettings.all(ctx.scope);
  return { setting: effectiveSetting(input.name, principalArn, stored, ctx.scope.account) };
}

/** ECS's page size bounds for ListAccountSettings. */
const MAX_PAGE = 10;

export async function listAccountSettings(
  ctx: RequestContext,
  input: { name?: SettingName; value?: string; principalArn?: string; effectiveSettings?: boolean; maxResults?: number; nextToken?: string },
) {
  if (input.value !== undefined && input.name === undefined) {
    throw new InvalidParameterException('value can only be used to filter together with name.');
  }
  if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > MAX_PAGE)) {
    throw new InvalidParameterException(`maxResults must be between 1 and ${MAX_PAGE}.`);
  }
  const principalArn = principalOf(ctx, input.principalArn);
  const stored = await ctx.accountSettings.all(ctx.scope);
  const names = input.name ? [input.name] : SETTING_NAMES;
  const settings = (
    input.effectiveSettings
      ? names.map((name) => effectiveSetting(name, principalArn, stored, ctx.scope.account))
      : names.flatMap((name) => stored.filter((s) => s.name === name && s.principalArn === principalArn))
  ).filter((s) => input.value === undefined || s.value === input.value);
  const start = input.nextToken === undefined ? 0 : offsetOf(input.nextToken, settings.length);
  const size = input.maxResults ?? MAX_PAGE;
  const next = start + size < settings.length ? Buffer.from(`settings:${start + size}`).toString('base64url') : undefined;
  return { settings: settings.slice(start, start + size), nextToken: next };
}

function offsetOf(token: string, length: number): number {
  const match = /^settings:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset > 0 && offset < length)) throw new InvalidParameterException('Invalid nextToken.');
  return offset;
}

/** The containerInsights value a new cluster of the caller gets when CreateCluster does not set one. */
export async function containerInsightsDefault(ctx: RequestContext): Promise<string> {
  const stored = await ctx.accountSettings.all(ctx.scope);
  return effectiveSetting('containerInsights', rootPrincipal(ctx.scope.account), stored, ctx.scope.account).value;
}

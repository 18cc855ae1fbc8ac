/**
 * Capacity provider strategies (seed 003, ECS API `CapacityProviderStrategyItem`): validation with
 * ECS's error class and wording, and the deterministic split of new tasks across providers.
 * Pure: no SDK, no clock, no randomness.
 */
import { InvalidParameterException } from './errors';

export interface CapacityProviderStrategyItem {
  capacityProvider: string;
  weight?: number;
  base?: number;
}

export type CapacityProviderKind = 'FARGATE' | 'AUTO_SCALING_GROUP';

/** The two built-in providers every account has; they only need associating with a cluster. */
export const FARGATE_PROVIDERS: readonly string[] = Object.freeze(['FARGATE', 'FARGATE_SPOT']);

export function capacityProviderKind(name: string): CapacityProviderKind {
  return FARGATE_PROVIDERS.includes(name) ? 'FARGATE' : 'AUTO_SCALING_GROUP';
}

// Limits from the API model (CapacityProviderStrategyItemWeight/Base) and the ECS docs (20 items).
export const MAX_STRATEGY_ITEMS = 20;
export const MAX_WEIGHT = 1000;
export const MAX_BASE = 100_000;

/**
 * Where the strategy is being checked. ECS enforces "some weight > 0" only when the strategy is used:
 * CreateCluster/PutClusterCapacityProviders store an all-zero default (e.g. `capacityProvider=FARGATE_SPOT`
 * with no weight, aws/containers-roadmap#631) and RunTask/CreateService then fail on it.
 * - 'placement'        RunTask/CreateService/UpdateService/CreateTaskSet with their own strategy
 * - 'defaultPlacement' the same calls falling back to the cluster default (ECS names the default in the message)
 * - 'storeDefault'     storing a cluster default strategy: everything but the weight rule
 */
export type StrategyUse = 'placement' | 'defaultPlacement' | 'storeDefault';

// Messages: the ones marked (ECS) are ECS's own wording as seen in user reports and in aws-cdk (which
// copies ECS's text); the others are written in the same style because no real string was found.
const MSG = {
  tooMany: `The capacity provider strategy can contain a maximum of ${MAX_STRATEGY_ITEMS} capacity providers. Remove capacity providers from the strategy and try again.`,
  name: 'The capacity provider strategy contains an item without a capacity provider name. Specify a capacity provider and try again.',
  weight: (cp: string) =>
    `The weight value for capacity provider ${cp} must be an integer between 0 and ${MAX_WEIGHT}.`,
  base: (cp: string) =>
    `The base value for capacity provider ${cp} must be an integer between 0 and ${MAX_BASE}.`,
  duplicate: (cp: string) =>
    `The specified capacity provider strategy cannot contain duplicate capacity providers. Remove the duplicate ${cp} capacity provider and try again.`,
  // (ECS)
  notAssociated:
    'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
  // (ECS, via aws-cdk cluster.ts)
  mixed:
    'A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling groups and Fargate providers. Specify one or the other and try again.',
  twoBases:
    'Only one capacity provider in a capacity provider strategy can have a base value greater than zero. Update the capacity provider strategy and try again.',
  // (ECS) terraform-aws-modules/terraform-aws-ecs#27, CreateService falling back to the default strategy
  noWeightDefault:
    "There are no capacity providers with a weight value greater than zero defined in the default capacity provider strategy. At least one capacity provider must have a weight value greater than zero specified. Update the cluster's default capacity provider strategy or specify a valid capacity provider strategy and try again.",
  // Same message adapted to a strategy given on the request itself.
  noWeight:
    'There are no capacity providers with a weight value greater than zero defined in the capacity provider strategy. At least one capacity provider must have a weight value greater than zero specified. Specify a valid capacity provider strategy and try again.',
} as const;
export const CAPACITY_STRATEGY_MESSAGES = MSG;

const isIntIn = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;

/**
 * Throws InvalidParameterException (the class ECS uses for every strategy fault seen in the wild; it
 * never answers these with ClientException) on the first rule broken.
 *
 * Decision on all-zero weights: the seed says only "several providers, all weight 0 -> fails", but ECS
 * rejects a single provider with weight 0 too (the #27 report above is a one-item default strategy, and
 * an AWS engineer in containers-roadmap#631: "make sure you set a non-zero weight if you're only
 * specifying one capacity provider"). The error text ("no capacity providers with a weight value greater
 * than zero") ignores base, so base-only strategies ({FARGATE, base: 2, weight: 0}) are rejected as well.
 * An empty strategy has no weight either: callers resolve "no strategy" to the cluster default first.
 */
export function validateCapacityProviderStrategy(
  strategy: readonly CapacityProviderStrategyItem[],
  associatedProviders: readonly string[],
  use: StrategyUse = 'placement',
): void {
  const fail = (message: string): never => {
    throw new InvalidParameterException(message);
  };
  if (strategy.length > MAX_STRATEGY_ITEMS) fail(MSG.tooMany);

  const seen = new Set<string>();
  for (const { capacityProvider: cp, weight = 0, base = 0 } of strategy) {
    if (typeof cp !== 'string' || cp === '') fail(MSG.name);
    if (!isIntIn(weight, MAX_WEIGHT)) fail(MSG.weight(cp));
    if (!isIntIn(base, MAX_BASE)) fail(MSG.base(cp));
    if (seen.has(cp)) fail(MSG.duplicate(cp));
    seen.add(cp);
  }
  if (strategy.some((i) => !associatedProviders.includes(i.capacityProvider))) fail(MSG.notAssociated);
  if (new Set(strategy.map((i) => capacityProviderKind(i.capacityProvider))).size > 1) fail(MSG.mixed);
  // base: 0 written out on several items is fine (Terraform always sends base = 0); only real bases count.
  if (strategy.filter((i) => (i.base ?? 0) > 0).length > 1) fail(MSG.twoBases);
  if (use !== 'storeDefault' && !strategy.some((i) => (i.weight ?? 0) > 0)) {
    fail(use === 'defaultPlacement' ? MSG.noWeightDefault : MSG.noWeight);
  }
}

/**
 * The provider for each of `count` new tasks, in placement order. Expects a validated strategy.
 *
 * 1. Base first: the (single) provider with base > 0 takes tasks until it holds `base`, counting
 *    `existing`.
 * 2. Every further task goes to a weight > 0 provider by the Balinski–Young quota method: among the
 *    providers still below their upper quota (p_i < w_i * (h+1) / W, h = tasks already beyond base),
 *    pick the lowest (p_i + 1) / w_i, ties to the earlier strategy item. Plain D'Hondt (no quota filter)
 *    drifts more than 1 task from the weight-proportional target with skewed weights (e.g. 1000 vs
 *    nineteen 1s); the quota filter keeps every provider within 1 task of it at every size.
 *
 * Each step reads only the current counts, so placing N tasks in one call or one per call (feeding the
 * result back as `existing`) gives the same split. Tasks in `existing` on providers outside the strategy,
 * or on weight-0 providers beyond their base, do not take part in the weighted split.
 */
export function distributeTasks(
  strategy: readonly CapacityProviderStrategyItem[],
  count: number,
  existing: Readonly<Record<string, number>> = {},
): string[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const items = strategy.map((i) => ({
    name: i.capacityProvider,
    weight: i.weight ?? 0,
    base: i.base ?? 0,
    held: Math.max(0, existing[i.capacityProvider] ?? 0),
  }));
  const weighted = items.filter((i) => i.weight > 0);
  const totalWeight = weighted.reduce((s, i) => s + i.weight, 0);
  // Tasks a provider holds beyond its base are the ones the weights govern.
  const beyond = (i: (typeof items)[number]) => Math.max(0, i.held - i.base);

  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    let pick = items.find((i) => i.held < i.base);
    if (!pick) {
      const h = weighted.reduce((s, i) => s + beyond(i), 0);
      // Integer cross-multiplication avoids float ties going the wrong way. The eligible set is never
      // empty: sum of p_i is h < h+1 = sum of quotas, so some provider is below its quota.
      for (const i of weighted) {
        if (beyond(i) * totalWeight >= i.weight * (h + 1)) continue;
        if (!pick || (beyond(i) + 1) * pick.weight < (beyond(pick) + 1) * i.weight) pick = i;
      }
    }
    if (!pick) throw new InvalidParameterException(MSG.noWeight);
    pick.held++;
    out.push(pick.name);
  }
  return out;
}

/**
 * Task placement strategies, applied in order, each breaking the ties of the ones before it:
 *
 *   binpack cpu|memory       the host with the least of that resource left (after the task) first
 *   spread instanceId|host   the host with the fewest tasks of the task's group first
 *   spread attribute:<name>  the host whose attribute value has the fewest tasks of the group first
 *                            (hosts without the attribute count as one more value)
 *   random                   a random order, from the injected random source
 *
 * Hosts still tied after every strategy go to the one with the most memory left, then the most cpu,
 * then the smallest ARN, so a placement is a function of its inputs and its random draws.
 */
import { ATTRIBUTE_NAME_PATTERN } from './cluster-query';
import { InvalidParameterException } from './errors';

/** ECS's limit per task and per service. */
export const MAX_PLACEMENT_STRATEGIES = 5;

/** The wire shape (PlacementStrategy), as stored on records. */
export interface PlacementStrategyInput {
  readonly type?: string;
  readonly field?: string;
}

export type PlacementStrategy =
  | { readonly type: 'binpack'; readonly field: 'cpu' | 'memory' }
  | { readonly type: 'spread'; readonly field: SpreadField }
  | { readonly type: 'random' };

/** `instanceId` (ECS's `host` is the same) or an attribute's name. */
export type SpreadField = { readonly instanceId: true } | { readonly attribute: string };

export const AZ_SPREAD: PlacementStrategy = { type: 'spread', field: { attribute: 'ecs.availability-zone' } };

/** Validates strategies as ECS does. */
export function parsePlacementStrategies(input: readonly PlacementStrategyInput[] | undefined, owner = 'A task'): PlacementStrategy[] {
  const strategies = input ?? [];
  if (strategies.length > MAX_PLACEMENT_STRATEGIES) {
    throw new InvalidParameterException(`${owner} can have at most ${MAX_PLACEMENT_STRATEGIES} placement strategies.`);
  }
  return strategies.map((s) => {
    const field = s.field ?? '';
    switch (s.type) {
      case 'random':
        return { type: 'random' };
      case 'binpack': {
        const resource = field.toLowerCase();
        if (resource !== 'cpu' && resource !== 'memory') {
          throw new InvalidParameterException(`The binpack placement strategy field must be cpu or memory, not '${field}'.`);
        }
        return { type: 'binpack', field: resource };
      }
      case 'spread': {
        if (field === 'instanceId' || field === 'host') return { type: 'spread', field: { instanceId: true } };
        const name = field.startsWith('attribute:') ? field.slice('attribute:'.length) : undefined;
        if (name === undefined || !ATTRIBUTE_NAME_PATTERN.test(name)) {
          throw new InvalidParameterException(
            `The spread placement strategy field must be instanceId, host or attribute:<name>, not '${field}'.`,
          );
        }
        return { type: 'spread', field: { attribute: name } };
      }
      default:
        throw new InvalidParameterException(`The placement strategy type '${String(s.type)}' is not supported: use binpack, spread or random.`);
    }
  });
}

/** What ranking needs to know about a host. */
export interface RankedHost {
  readonly containerInstanceArn: string;
  readonly availabilityZone: string;
  readonly attributes?: readonly { readonly name: string; readonly value?: string }[];
  readonly remaining: { readonly cpu: number; readonly memory: number };
}

/** The value a spread field takes on a host; undefined when the host lacks the attribute. */
export function spreadValue(field: SpreadField, host: RankedHost): string | undefined {
  if ('instanceId' in field) return host.containerInstanceArn;
  if (field.attribute === 'ecs.availability-zone') return host.availabilityZone;
  const found = host.attributes?.find((a) => a.name === field.attribute);
  return found ? (found.value ?? '') : undefined;
}

export interface RankingContext {
  /** Tasks of the task's group counted under a host's value of the field (its spread bucket). */
  readonly spreadCount: (field: SpreadField, host: RankedHost) => number;
  /** The host's random draw, for the random strategy. */
  readonly randomKey: (host: RankedHost) => number;
}

/** A comparator ordering hosts best first by the strategies, then the final tie-breaks. */
export function compareByStrategies(strategies: readonly PlacementStrategy[], context: RankingContext) {
  return (a: RankedHost, b: RankedHost): number => {
    for (const strategy of strategies) {
      const order = compareBy(strategy, context, a, b);
      if (order !== 0) return order;
    }
    return (
      b.remaining.memory - a.remaining.memory ||
      b.remaining.cpu - a.remaining.cpu ||
      (a.containerInstanceArn < b.containerInstanceArn ? -1 : a.containerInstanceArn > b.containerInstanceArn ? 1 : 0)
    );
  };
}

function compareBy(strategy: PlacementStrategy, context: RankingContext, a: RankedHost, b: RankedHost): number {
  switch (strategy.type) {
    case 'binpack':
      return a.remaining[strategy.field] - b.remaining[strategy.field];
    case 'spread':
      return context.spreadCount(strategy.field, a) - context.spreadCount(strategy.field, b);
    case 'random':
      return context.randomKey(a) - context.randomKey(b);
  }
}

/** The stored (wire) form of a parsed strategy. */
export function strategyInput(strategy: PlacementStrategy): PlacementStrategyInput {
  if (strategy.type === 'random') return { type: 'random' };
  if (strategy.type === 'binpack') return { type: 'binpack', field: strategy.field };
  return { type: 'spread', field: 'instanceId' in strategy.field ? 'instanceId' : `attribute:${strategy.field.attribute}` };
}

/**
 * Task placement constraints (RunTask, CreateService/UpdateService, and a task definition's memberOf
 * constraints): validated once at the edge into parsed constraints, then checked per candidate host.
 *
 *   distinctInstance   no two tasks of the task's group (its service, or RunTask's group) on one host
 *   memberOf           the host satisfies a cluster query expression (src/domain/cluster-query.ts)
 *
 * A host fails a constraint with the name ECS gives it in placement failures: DistinctInstance,
 * MemberOf.
 */
import { matchesQuery, parseClusterQuery, type ClusterQuery, type QueryTarget } from './cluster-query';
import { InvalidParameterException } from './errors';

/** ECS's limit per task, per service and per task definition. */
export const MAX_PLACEMENT_CONSTRAINTS = 10;

/** The wire shape (PlacementConstraint, TaskDefinitionPlacementConstraint), as stored on records. */
export interface PlacementConstraintInput {
  readonly type?: string;
  readonly expression?: string;
}

export type PlacementConstraint =
  | { readonly type: 'distinctInstance' }
  | { readonly type: 'memberOf'; readonly expression: string; readonly query: ClusterQuery };

export type ConstraintName = 'DistinctInstance' | 'MemberOf';

/**
 * Validates constraints as ECS does and parses their expressions. `taskDefinition` ones may only be
 * memberOf (TaskDefinitionPlacementConstraintType has no other value).
 */
export function parsePlacementConstraints(
  input: readonly PlacementConstraintInput[] | undefined,
  source: 'task' | 'service' | 'taskDefinition' = 'task',
): PlacementConstraint[] {
  const constraints = input ?? [];
  if (constraints.length > MAX_PLACEMENT_CONSTRAINTS) {
    const owner = source === 'taskDefinition' ? 'A task definition' : source === 'service' ? 'A service' : 'A task';
    throw new InvalidParameterException(`${owner} can have at most ${MAX_PLACEMENT_CONSTRAINTS} placement constraints.`);
  }
  return constraints.map((c) => parsePlacementConstraint(c, source));
}

/** One constraint, validated and parsed (no count limit: a task's stored list joins two sources). */
export function parsePlacementConstraint(
  c: PlacementConstraintInput,
  source: 'task' | 'service' | 'taskDefinition' = 'task',
): PlacementConstraint {
  if (c.type === 'distinctInstance' && source !== 'taskDefinition') {
    if (c.expression !== undefined && c.expression !== '') {
      throw new InvalidParameterException('An expression cannot be specified for the distinctInstance placement constraint.');
    }
    return { type: 'distinctInstance' };
  }
  if (c.type === 'memberOf') {
    if (c.expression === undefined || c.expression.trim() === '') {
      throw new InvalidParameterException('An expression must be specified for the memberOf placement constraint.');
    }
    return { type: 'memberOf', expression: c.expression, query: parseClusterQuery(c.expression) };
  }
  const allowed = source === 'taskDefinition' ? 'memberOf' : 'distinctInstance or memberOf';
  throw new InvalidParameterException(`The placement constraint type '${String(c.type)}' is not supported: use ${allowed}.`);
}

/** The stored (wire) form of parsed constraints. */
export const constraintInputs = (constraints: readonly PlacementConstraint[]): PlacementConstraintInput[] =>
  constraints.map((c) => (c.type === 'memberOf' ? { type: c.type, expression: c.expression } : { type: c.type }));

/** The first constraint the host fails for a task of `group`, by ECS's name; undefined when it passes all. */
export function failedConstraint(
  constraints: readonly PlacementConstraint[],
  host: QueryTarget,
  group: string | undefined,
): ConstraintName | undefined {
  for (const constraint of constraints) {
    if (constraint.type === 'distinctInstance') {
      if (group !== undefined && (host.taskGroups[group] ?? 0) > 0) return 'DistinctInstance';
    } else if (!matchesQuery(constraint.query, host)) return 'MemberOf';
  }
  return undefined;
}

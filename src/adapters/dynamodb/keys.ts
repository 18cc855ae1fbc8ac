/** Item keys of the single table; docs/data-model.md lists them with their access patterns. */
import type { Scope } from '../../domain/arns';

export const scopeTag = (scope: Scope) => `${scope.account}#${scope.region}`;

export const clusterKey = (clusterArn: string) => ({ pk: clusterArn, sk: 'CLUSTER' });
export const clusterListPartition = (scope: Scope) => `CLUSTERS#${scopeTag(scope)}`;

export const taskKey = (clusterArn: string, taskId: string) => ({ pk: clusterArn, sk: `TASK#${taskId}` });
export const TASK_SK_PREFIX = 'TASK#';
export const runTaskTokenKey = (clusterArn: string, clientToken: string) => ({
  pk: clusterArn,
  sk: `RUNTASK#${clientToken}`,
});

export const familyPartition = (scope: Scope, family: string) => `TDFAMILY#${scopeTag(scope)}#${family}`;
export const familyKey = (scope: Scope, family: string) => ({ pk: familyPartition(scope, family), sk: 'FAMILY' });
export const familyListPartition = (scope: Scope) => `TDFAMILIES#${scopeTag(scope)}`;
export const revisionSortKey = (revision: number) => `REV#${String(revision).padStart(10, '0')}`;
export const revisionKey = (scope: Scope, family: string, revision: number) => ({
  pk: familyPartition(scope, family),
  sk: revisionSortKey(revision),
});
export const revisionListPartition = (scope: Scope) => `TDREVISIONS#${scopeTag(scope)}`;
// '#' sorts below every character a family name may hold, so this orders by family, then revision.
export const revisionListSortKey = (family: string, revision: number) =>
  `${family}#${String(revision).padStart(10, '0')}`;

/** Container instances: in their cluster's partition, or in the region's Fargate pool. */
export const fargatePoolPartition = (scope: Scope) => `FARGATEPOOL#${scopeTag(scope)}`;
export const INSTANCE_SK_PREFIX = 'INSTANCE#';
export const instanceKey = (partition: string, instanceId: string) => ({ pk: partition, sk: `${INSTANCE_SK_PREFIX}${instanceId}` });
/** Which tasks an agent must run or stop: one item per task placed on the instance. */
export const assignmentPartition = (containerInstanceArn: string) => `ASSIGN#${containerInstanceArn}`;
/**
 * Connected agents of an account+region in `gsi1`, ordered by when they last polled (epoch ms,
 * zero-padded), so the sweep reads exactly the silent ones. Only connected instances are in it.
 */
export const connectedAgentsPartition = (scope: Scope) => `AGENTS#${scopeTag(scope)}`;
export const lastPolledSortKey = (epochMs: number) => String(Math.max(0, Math.floor(epochMs))).padStart(15, '0');
/** Tasks waiting for capacity, so new capacity can find them. */
export const unplacedPartition = (scope: Scope) => `UNPLACED#${scopeTag(scope)}`;

/** Services live in their cluster's partition (with their deployments and events in the one item). */
export const SERVICE_SK_PREFIX = 'SERVICE#';
export const serviceKey = (clusterArn: string, serviceName: string) => ({ pk: clusterArn, sk: `${SERVICE_SK_PREFIX}${serviceName}` });
/**
 * A service's history, beside it in its cluster's partition: one item per service deployment (ids
 * sort by creation, so a descending range lists newest first) and one per service revision.
 */
export const serviceDeploymentPrefix = (serviceName: string) => `SVCDEPLOY#${serviceName}#`;
export const serviceDeploymentKey = (clusterArn: string, serviceName: string, id: string) => ({
  pk: clusterArn,
  sk: `${serviceDeploymentPrefix(serviceName)}${id}`,
});
export const serviceRevisionKey = (clusterArn: string, serviceName: string, revisionId: string) => ({
  pk: clusterArn,
  sk: `SVCREV#${serviceName}#${revisionId}`,
});
/** Account settings of an account+region (ECS's are regional): one item per principal and setting name. */
export const accountSettingsPartition = (scope: Scope) => `ACCOUNTSETTINGS#${scopeTag(scope)}`;
export const accountSettingKey = (scope: Scope, principalArn: string, name: string) => ({
  pk: accountSettingsPartition(scope),
  sk: `${principalArn}#${name}`,
});
/** Auto Scaling group capacity providers of an account+region: one item each, by name. */
export const capacityProvidersPartition = (scope: Scope) => `CAPACITYPROVIDERS#${scopeTag(scope)}`;
export const capacityProviderKey = (scope: Scope, name: string) => ({ pk: capacityProvidersPartition(scope), sk: name });
/** The claim of an Auto Scaling group by one provider (ECS lets one group back one provider). */
export const autoScalingGroupClaimKey = (scope: Scope, autoScalingGroupArn: string) => ({
  pk: `ASGCLAIMS#${scopeTag(scope)}`,
  sk: autoScalingGroupArn,
});

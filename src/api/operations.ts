/** The ECS operations Berth serves: operation name -> use case. Validation happens before the call. */
import * as clusters from '../app/clusters';
import type { RequestContext } from '../app/context';
import * as tagging from '../app/tagging';
import * as taskDefinitions from '../app/task-definitions';
import * as tasks from '../app/tasks';

// Inputs have been checked against the operation's input shape, so each use case may take its typed view.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type UseCase = (ctx: RequestContext, input: any) => Promise<unknown> | unknown;

export const OPERATIONS: Readonly<Record<string, UseCase>> = {
  CreateCluster: clusters.createCluster,
  DescribeClusters: clusters.describeClusters,
  ListClusters: clusters.listClusters,
  DeleteCluster: clusters.deleteCluster,
  PutClusterCapacityProviders: clusters.putClusterCapacityProviders,
  DescribeCapacityProviders: clusters.describeCapacityProviders,
  RegisterTaskDefinition: taskDefinitions.registerTaskDefinition,
  DescribeTaskDefinition: taskDefinitions.describeTaskDefinition,
  DeregisterTaskDefinition: taskDefinitions.deregisterTaskDefinition,
  ListTaskDefinitions: taskDefinitions.listTaskDefinitions,
  ListTaskDefinitionFamilies: taskDefinitions.listTaskDefinitionFamilies,
  RunTask: tasks.runTask,
  StopTask: tasks.stopTask,
  DescribeTasks: tasks.describeTasks,
  ListTasks: tasks.listTasks,
  TagResource: tagging.tagResource,
  UntagResource: tagging.untagResource,
  ListTagsForResource: tagging.listTagsForResource,
};

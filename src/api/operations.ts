/** The ECS operations Berth serves: operation name -> use case. Validation happens before the call. */
import * as agentAssignments from '../app/agent-assignments';
import * as attributes from '../app/attributes';
import * as agentReports from '../app/agent-reports';
import * as clusters from '../app/clusters';
import * as containerInstances from '../app/container-instances';
import type { RequestContext } from '../app/context';
import * as services from '../app/services';
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
  CreateService: services.createService,
  UpdateService: services.updateService,
  DeleteService: services.deleteService,
  DescribeServices: services.describeServices,
  ListServices: services.listServices,
  TagResource: tagging.tagResource,
  UntagResource: tagging.untagResource,
  ListTagsForResource: tagging.listTagsForResource,
  RegisterContainerInstance: containerInstances.registerContainerInstance,
  DeregisterContainerInstance: containerInstances.deregisterContainerInstance,
  DescribeContainerInstances: containerInstances.describeContainerInstances,
  ListContainerInstances: containerInstances.listContainerInstances,
  UpdateContainerInstancesState: containerInstances.updateContainerInstancesState,
  DiscoverPollEndpoint: containerInstances.discoverPollEndpoint,
  PutAttributes: attributes.putAttributes,
  DeleteAttributes: attributes.deleteAttributes,
  ListAttributes: attributes.listAttributes,
  SubmitTaskStateChange: agentReports.submitTaskStateChange,
  SubmitContainerStateChange: agentReports.submitContainerStateChange,
};

/**
 * Berth's own operations (no ECS equivalent), under their own X-Amz-Target prefix so they can never
 * collide with an ECS operation: how agents get their work, and the Spot capacity reclaim.
 * docs/agent.md documents them.
 */
export const EXTENSION_TARGET_PREFIX = 'BerthAgentV1';
export const EXTENSION_OPERATIONS: Readonly<Record<string, UseCase>> = {
  PollAssignments: agentAssignments.pollAssignments,
  InterruptSpotCapacity: agentReports.interruptSpotCapacity,
};

/** The ECS operations Berth serves: operation name -> use case. Validation happens before the call. */
import * as agentAssignments from '../app/agent-assignments';
import * as accountSettings from '../app/account-settings';
import * as agentReports from '../app/agent-reports';
import * as attachmentReports from '../app/attachment-reports';
import * as attributes from '../app/attributes';
import * as capacityProviders from '../app/capacity-providers';
import * as clusters from '../app/clusters';
import * as containerInstances from '../app/container-instances';
import type { RequestContext } from '../app/context';
import * as serviceDeployments from '../app/service-deployments';
import * as services from '../app/services';
import * as startTask from '../app/start-task';
import * as tagging from '../app/tagging';
import * as taskDefinitions from '../app/task-definitions';
import * as taskProtection from '../app/task-protection';
import * as taskSets from '../app/task-sets';
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
  UpdateCluster: clusters.updateCluster,
  UpdateClusterSettings: clusters.updateClusterSettings,
  DescribeCapacityProviders: capacityProviders.describeCapacityProviders,
  CreateCapacityProvider: capacityProviders.createCapacityProvider,
  UpdateCapacityProvider: capacityProviders.updateCapacityProvider,
  DeleteCapacityProvider: capacityProviders.deleteCapacityProvider,
  RegisterTaskDefinition: taskDefinitions.registerTaskDefinition,
  DescribeTaskDefinition: taskDefinitions.describeTaskDefinition,
  DeregisterTaskDefinition: taskDefinitions.deregisterTaskDefinition,
  DeleteTaskDefinitions: taskDefinitions.deleteTaskDefinitions,
  ListTaskDefinitions: taskDefinitions.listTaskDefinitions,
  ListTaskDefinitionFamilies: taskDefinitions.listTaskDefinitionFamilies,
  RunTask: tasks.runTask,
  StartTask: startTask.startTask,
  StopTask: tasks.stopTask,
  DescribeTasks: tasks.describeTasks,
  ListTasks: tasks.listTasks,
  UpdateTaskProtection: taskProtection.updateTaskProtection,
  GetTaskProtection: taskProtection.getTaskProtection,
  CreateService: services.createService,
  UpdateService: services.updateService,
  DeleteService: services.deleteService,
  DescribeServices: services.describeServices,
  ListServices: services.listServices,
  ListServiceDeployments: serviceDeployments.listServiceDeployments,
  DescribeServiceDeployments: serviceDeployments.describeServiceDeployments,
  DescribeServiceRevisions: serviceDeployments.describeServiceRevisions,
  StopServiceDeployment: serviceDeployments.stopServiceDeployment,
  CreateTaskSet: taskSets.createTaskSet,
  DescribeTaskSets: taskSets.describeTaskSets,
  UpdateTaskSet: taskSets.updateTaskSet,
  DeleteTaskSet: taskSets.deleteTaskSet,
  UpdateServicePrimaryTaskSet: taskSets.updateServicePrimaryTaskSet,
  TagResource: tagging.tagResource,
  UntagResource: tagging.untagResource,
  ListTagsForResource: tagging.listTagsForResource,
  PutAccountSetting: accountSettings.putAccountSetting,
  PutAccountSettingDefault: accountSettings.putAccountSettingDefault,
  DeleteAccountSetting: accountSettings.deleteAccountSetting,
  ListAccountSettings: accountSettings.listAccountSettings,
  RegisterContainerInstance: containerInstances.registerContainerInstance,
  DeregisterContainerInstance: containerInstances.deregisterContainerInstance,
  DescribeContainerInstances: containerInstances.describeContainerInstances,
  ListContainerInstances: containerInstances.listContainerInstances,
  UpdateContainerInstancesState: containerInstances.updateContainerInstancesState,
  DiscoverPollEndpoint: containerInstances.discoverPollEndpoint,
  UpdateContainerAgent: containerInstances.updateContainerAgent,
  PutAttributes: attributes.putAttributes,
  DeleteAttributes: attributes.deleteAttributes,
  ListAttributes: attributes.listAttributes,
  SubmitTaskStateChange: agentReports.submitTaskStateChange,
  SubmitContainerStateChange: agentReports.submitContainerStateChange,
  SubmitAttachmentStateChanges: attachmentReports.submitAttachmentStateChanges,
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

/**
 * Operations of the ECS model that Berth does not serve, and what it answers for them: never
 * UnknownOperationException (which says the operation does not exist), but UnsupportedFeatureException,
 * ECS's own error for "this feature is not available here", with HTTP 400 and a message naming why.
 * SDKs map it by its `__type` (the JavaScript SDK's error `name`, boto3's `Error.Code`), so a client
 * can tell it apart from a bad request. The request is still validated against the model first, so
 * a malformed request gets the same error it would get from ECS. docs/compatibility.md lists them.
 */
import { UnsupportedFeatureException } from '../domain/errors';

/** Operations that need an AWS service Berth does not reproduce, with that service. */
export const NEEDS_AWS_SERVICE: Readonly<Record<string, string>> = {
  ExecuteCommand: 'AWS Systems Manager Session Manager (the interactive session into a container)',
  ListServicesByNamespace: 'AWS Cloud Map (Service Connect namespaces)',
  ContinueServiceDeployment: 'deployment lifecycle hooks (AWS Lambda functions called by ECS during a deployment)',
  CreateExpressGatewayService: 'the Express gateway service infrastructure (Application Load Balancers, certificates, managed scaling)',
  UpdateExpressGatewayService: 'the Express gateway service infrastructure (Application Load Balancers, certificates, managed scaling)',
  DeleteExpressGatewayService: 'the Express gateway service infrastructure (Application Load Balancers, certificates, managed scaling)',
  DescribeExpressGatewayService: 'the Express gateway service infrastructure (Application Load Balancers, certificates, managed scaling)',
  CreateDaemon: 'ECS Managed Instances (daemons run on instances ECS manages)',
  UpdateDaemon: 'ECS Managed Instances (daemons run on instances ECS manages)',
  DeleteDaemon: 'ECS Managed Instances (daemons run on instances ECS manages)',
  DescribeDaemon: 'ECS Managed Instances (daemons run on instances ECS manages)',
  ListDaemons: 'ECS Managed Instances (daemons run on instances ECS manages)',
  DescribeDaemonDeployments: 'ECS Managed Instances (daemons run on instances ECS manages)',
  ListDaemonDeployments: 'ECS Managed Instances (daemons run on instances ECS manages)',
  DescribeDaemonRevisions: 'ECS Managed Instances (daemons run on instances ECS manages)',
  RegisterDaemonTaskDefinition: 'ECS Managed Instances (daemons run on instances ECS manages)',
  DescribeDaemonTaskDefinition: 'ECS Managed Instances (daemons run on instances ECS manages)',
  ListDaemonTaskDefinitions: 'ECS Managed Instances (daemons run on instances ECS manages)',
  DeleteDaemonTaskDefinition: 'ECS Managed Instances (daemons run on instances ECS manages)',
};

/** The error for an operation of the model that Berth does not serve (see the module comment). */
export function unsupportedOperation(operation: string): UnsupportedFeatureException {
  const service = Object.hasOwn(NEEDS_AWS_SERVICE, operation) ? NEEDS_AWS_SERVICE[operation] : undefined;
  return new UnsupportedFeatureException(
    service
      ? `Berth does not support ${operation}: it needs ${service}, which Berth does not reproduce. See docs/compatibility.md.`
      : `Berth does not implement ${operation} yet. See docs/compatibility.md for what Berth supports.`,
  );
}

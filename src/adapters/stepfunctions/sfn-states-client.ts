/**
 * StatesApi in AWS: the two Step Functions calls the service loop makes, through the SDK. The SDK
 * already names errors by the service's `__type` (ExecutionAlreadyExists, TaskTimedOut, ...), which
 * is what the loop adapter matches; nothing else to translate.
 */
import { SFNClient, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { StatesApi } from './states-api';

export class SfnStatesClient implements StatesApi {
  constructor(private readonly client: SFNClient = new SFNClient({})) {}

  async startExecution(request: { stateMachineArn: string; name: string; input: string }): Promise<void> {
    await this.client.send(new StartExecutionCommand(request));
  }

  async sendTaskSuccess(request: { taskToken: string; output: string }): Promise<void> {
    await this.client.send(new SendTaskSuccessCommand(request));
  }
}

/**
 * The two Step Functions calls the service loop makes, with the service's own error names
 * (`error.name`: ExecutionAlreadyExists, TaskTimedOut, TaskDoesNotExist, InvalidToken), so the AWS
 * client (sfn-states-client.ts) and the local runtime (src/local/state-machine-runner.ts) are
 * interchangeable behind it.
 */
export interface StatesApi {
  /**
   * Starts an execution. As Step Functions does for Standard workflows: the same name and input as a
   * RUNNING execution succeeds without starting another (so it also tells that one is alive); a name
   * used by an execution that ended, or with another input, throws ExecutionAlreadyExists.
   */
  startExecution(request: { stateMachineArn: string; name: string; input: string }): Promise<void>;
  sendTaskSuccess(request: { taskToken: string; output: string }): Promise<void>;
}

export class StatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export const isStatesError = (error: unknown, ...names: string[]) => error instanceof Error && names.includes(error.name);

/**
 * Step Functions, locally: runs a state machine's ASL (the definition CDK synthesizes, its tokens
 * resolved by `resolveDefinition`) under aws-local-stepfunctions, with its Task states bound to local
 * handlers by state name, and answers the StatesApi calls (StartExecution, SendTaskSuccess) the way
 * the service does:
 *   - execution names are unique: the same name and input as a RUNNING execution succeeds and starts
 *     nothing; any other reuse throws ExecutionAlreadyExists (names are never freed in a run);
 *   - `$$.Task.Token` is a fresh token each time a state reads it; a handler waits for it with
 *     `waitForToken` (an execution waits on one token at a time: a new wait drops the old one);
 *     SendTaskSuccess for a token nobody waits on throws TaskTimedOut;
 *   - `stop()` aborts every execution and waits for the handler calls in flight, so nothing touches
 *     the table after it returns.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { StatesError, type StatesApi } from '../adapters/stepfunctions/states-api';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22); Node 20 lacks it.
if (!(Promise as { withResolvers?: unknown }).withResolvers) {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    },
  });
}

/** A CloudFormation value as synthesized: strings, Fn::Join, Ref and Fn::GetAtt. */
export type CfnValue = string | { 'Fn::Join': [string, CfnValue[]] } | { Ref: string } | { 'Fn::GetAtt': [string, string] };

export interface ResolveScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/**
 * The ASL of a synthesized DefinitionString: pseudo parameters become the local scope, a resource's
 * `Arn` becomes a Lambda function ARN named by its logical id (the local handlers are bound by state
 * name, so these ARNs are never called; they only have to be well-formed ARNs).
 */
export function resolveDefinition(definitionString: CfnValue, scope: ResolveScope): Record<string, unknown> {
  const resolve = (value: CfnValue): string => {
    if (typeof value === 'string') return value;
    if ('Fn::Join' in value) return value['Fn::Join'][1].map(resolve).join(value['Fn::Join'][0]);
    if ('Ref' in value) {
      const pseudo: Record<string, string> = { 'AWS::Partition': scope.partition, 'AWS::Region': scope.region, 'AWS::AccountId': scope.account };
      if (pseudo[value.Ref]) return pseudo[value.Ref];
      throw new Error(`resolveDefinition: cannot resolve Ref ${value.Ref}`);
    }
    const [logicalId, attribute] = value['Fn::GetAtt'];
    if (attribute !== 'Arn') throw new Error(`resolveDefinition: cannot resolve ${logicalId}.${attribute}`);
    return `arn:${scope.partition}:lambda:${scope.region}:${scope.account}:function:${logicalId}`;
  };
  return JSON.parse(resolve(definitionString)) as Record<string, unknown>;
}

export interface ExecutionInfo {
  readonly name: string;
  readonly executionArn: string;
}

/** A Task state's local handler: gets the state's effective input (after Parameters), returns its result. */
export type TaskHandler = (input: any, execution: ExecutionInfo) => Promise<unknown>;

export interface LocalStateMachineOptions {
  readonly definition: Record<string, unknown>;
  readonly stateMachineArn: string;
  readonly handlers: Record<string, TaskHandler>;
  readonly logger?: Pick<Console, 'error'>;
  /** A seam for measurement and tests: every state entered, per execution. */
  readonly onStateEntered?: (execution: string, state: string, input: unknown) => void;
}

interface Execution {
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  abort?: () => void;
  done?: Promise<void>;
  tokens: number;
  waiting?: { token: string; resolve: (output: unknown) => void; reject: (error: Error) => void };
}

export class LocalStateMachine implements StatesApi {
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, Execution>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: LocalStateMachineOptions) {
    // Validated once, as CreateStateMachine would (and by the same validator the library ships).
    this.machine = new StateMachine(options.definition as never);
  }

  /** Names of the executions RUNNING now. */
  running(): string[] {
    return [...this.executions].filter(([, e]) => e.status === 'RUNNING').map(([name]) => name);
  }

  statusOf(name: string): Execution['status'] | undefined {
    return this.executions.get(name)?.status;
  }

  async startExecution(request: { stateMachineArn: string; name: string; input: string }): Promise<void> {
    if (request.stateMachineArn !== this.options.stateMachineArn) {
      throw new StatesError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${request.stateMachineArn}'`);
    }
    const existing = this.executions.get(request.name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === request.input) return;
      throw new StatesError('ExecutionAlreadyExists', `Execution Already Exists: '${this.executionArn(request.name)}'`);
    }
    if (this.stopped) throw new StatesError('ServiceUnavailable', 'the local state machine runtime is stopping');
    const execution: Execution = { input: request.input, status: 'RUNNING', tokens: 0 };
    this.executions.set(request.name, execution);
    const info = { name: request.name, executionArn: this.executionArn(request.name) };
    const overrides = Object.fromEntries(
      Object.entries(this.options.handlers).map(([state, handler]) => [state, (input: unknown) => this.track(handler(input, info))]),
    );
    const task = {
      // A fresh token each time the definition reads $$.Task.Token (the library has none of its own).
      get Token() {
        return `${request.name}#${++execution.tokens}`;
      },
    };
    const run = this.machine.run(JSON.parse(request.input), {
      noThrowOnAbort: true,
      overrides: { taskResourceLocalHandlers: overrides as never },
      context: {
        Execution: { Id: info.executionArn, Name: request.name },
        StateMachine: { Id: this.options.stateMachineArn },
        Task: task,
      } as never,
    });
    execution.abort = run.abort;
    // Always read the event log: the library queues every event until it is read.
    watchStates(run.eventLogs, (state, input) => this.options.onStateEntered?.(request.name, state, input));
    execution.done = run.result
      .then(
        (result) => {
          if (execution.status === 'RUNNING') execution.status = result === null ? 'ABORTED' : 'SUCCEEDED';
        },
        (error) => {
          execution.status = 'FAILED';
          this.options.logger?.error(`execution ${request.name} failed`, error);
        },
      )
      // A wait its state gave up on (timed out) before the execution ended: end the handler's call too.
      .finally(() => {
        execution.waiting?.reject(new StatesError('TaskTimedOut', 'the execution ended'));
        execution.waiting = undefined;
      });
  }

  async sendTaskSuccess(request: { taskToken: string; output: string }): Promise<void> {
    const name = request.taskToken.slice(0, request.taskToken.lastIndexOf('#'));
    const execution = this.executions.get(name);
    const waiting = execution?.status === 'RUNNING' ? execution.waiting : undefined;
    if (!waiting || waiting.token !== request.taskToken) throw new StatesError('TaskTimedOut', 'Task Timed Out: the token is not awaited');
    execution!.waiting = undefined;
    waiting.resolve(JSON.parse(request.output));
  }

  /**
   * For a handler of a `.waitForTaskToken` state: resolves with the output SendTaskSuccess sends.
   * A wait the state already gave up on (its timeout) ends when the execution waits again, or stops.
   */
  waitForToken(token: string): Promise<unknown> {
    const execution = this.executions.get(token.slice(0, token.lastIndexOf('#')));
    if (!execution || execution.status !== 'RUNNING') return Promise.reject(new Error(`no running execution for task token ${token}`));
    execution.waiting?.reject(new StatesError('TaskTimedOut', 'the state waits for a newer token'));
    return new Promise((resolve, reject) => (execution.waiting = { token, resolve, reject }));
  }

  /** Aborts every execution and waits for the handler calls in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const execution of this.executions.values()) {
      if (execution.status !== 'RUNNING') continue;
      execution.status = 'ABORTED';
      execution.waiting?.reject(new StatesError('ExecutionAborted', 'the local runtime stopped'));
      execution.waiting = undefined;
      execution.abort?.();
    }
    await Promise.all([...this.executions.values()].map((e) => e.done));
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(call: Promise<T>): Promise<T> {
    this.inFlight.add(call);
    const forget = () => this.inFlight.delete(call);
    call.then(forget, forget);
    return call;
  }

  private executionArn(name: string): string {
    return `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}

/** Calls `onState` for each StateEntered event of a run (the library's event log is an async iterator). */
function watchStates(
  eventLogs: AsyncGenerator<{ type: string; state?: { name: string; input?: unknown } }>,
  onState: (state: string, input: unknown) => void,
) {
  void (async () => {
    for await (const event of eventLogs) if (event.type === 'StateEntered' && event.state) onState(event.state.name, event.state.input);
  })().catch(() => undefined);
}

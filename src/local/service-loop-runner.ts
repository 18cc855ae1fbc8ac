/**
 * The service loop in local mode, as AWS runs it: one execution per service of the state machine
 * the control-plane stack deploys (lib/constructs/service-scheduler.ts; its synthesized definition,
 * checked in as service-loop-definition.json), run under aws-local-stepfunctions
 * (state-machine-runner.ts) with its Task states bound to the same code the Lambda functions run:
 *
 *   Reconcile -> reconcileStep (adopt the loop for the generation, one scheduler pass)
 *   Park      -> parkStep (store the task token, or refuse: woken / superseded), then wait for
 *                SendTaskSuccess (a wake-up) or the state's timeout (the plan's next look)
 *   HandOver  -> StartExecution of the same state machine, next generation
 *
 * Wake-ups, starts and restarts go through the AWS adapter (StepFunctionsServiceLoop) with this
 * runtime as its StatesApi, so the loop item, the single-actor rules and the wake protocol are the
 * ones AWS runs. Locally a completed wait lingers `debounceMs` before the pass: wake-ups in a burst
 * (a task's status steps) land in it and share that one pass.
 */
import { ServiceLoopStore } from '../adapters/dynamodb/service-loop-store';
import { StepFunctionsServiceLoop } from '../adapters/stepfunctions/service-loop';
import type { BerthContext } from '../app/context';
import type { ServiceLoop } from '../app/service-loop';
import { parkStep, reconcileStep, SERVICE_LOOP_STATES, type LoopState, type ParkRequest } from '../app/service-loop-steps';
import { LocalStateMachine, resolveDefinition, type CfnValue } from './state-machine-runner';
import definitionString from './service-loop-definition.json' with { type: 'json' };

export interface ServiceLoopRunnerOptions {
  readonly context: BerthContext;
  /** The loop item's store (on the same table as the context's repositories). */
  readonly store: ServiceLoopStore;
  readonly logger?: Pick<Console, 'error' | 'warn'>;
  /** A completed wait lingers this long, so wake-ups in a burst share one pass. Default 50 ms. */
  readonly debounceMs?: number;
  /** Caps every wait (tests and benchmarks scale time with it). Default: the plan's own. */
  readonly maxWaitSeconds?: number;
  /** The synthesized DefinitionString to run. Default: the checked-in copy of the stack's. */
  readonly definition?: CfnValue;
  /** A seam for measurement: told when a pass starts and ends. */
  readonly observe?: (serviceArn: string, phase: 'start' | 'end') => void;
  /** A seam for measurement: every state an execution enters (Step Functions bills these). */
  readonly onStateEntered?: (execution: string, state: string, input: unknown) => void;
}

export class ServiceLoopRunner implements ServiceLoop {
  readonly stateMachineArn: string;
  readonly runtime: LocalStateMachine;
  private readonly loop: StepFunctionsServiceLoop;

  constructor(private readonly options: ServiceLoopRunnerOptions) {
    const { account, defaultRegion: region } = options.context;
    this.stateMachineArn = `arn:aws:states:${region}:${account}:stateMachine:berth-service-loop`;
    const S = SERVICE_LOOP_STATES;
    const deps = { context: options.context, loops: options.store };
    this.runtime = new LocalStateMachine({
      definition: resolveDefinition((options.definition ?? definitionString) as CfnValue, { partition: 'aws', region, account }),
      stateMachineArn: this.stateMachineArn,
      logger: options.logger,
      onStateEntered: options.onStateEntered,
      handlers: {
        [S.reconcile]: async (state: LoopState) => {
          options.observe?.(state.serviceArn, 'start');
          try {
            const next = await reconcileStep(deps, state);
            const cap = options.maxWaitSeconds;
            return cap ? { ...next, Payload: { ...next.Payload, waitSeconds: Math.min(next.Payload.waitSeconds, cap) } } : next;
          } catch (error) {
            options.logger?.error(`service loop ${state.serviceArn}: pass failed; will retry`, error);
            throw error;
          } finally {
            options.observe?.(state.serviceArn, 'end');
          }
        },
        // lambda:invoke.waitForTaskToken: the function stores the token and returns; the state waits.
        [S.park]: async ({ Payload }: { Payload: ParkRequest }) => {
          await parkStep(options.store, Payload);
          const output = await this.runtime.waitForToken(Payload.token);
          await new Promise((resolve) => setTimeout(resolve, options.debounceMs ?? 50));
          return output;
        },
        [S.handOver]: async (request: { StateMachineArn: string; Name: string; Input: unknown }) => {
          try {
            await this.runtime.startExecution({ stateMachineArn: request.StateMachineArn, name: request.Name, input: JSON.stringify(request.Input) });
            return {};
          } catch (error) {
            // Step Functions' service integration names its errors so (the definition catches this one).
            if ((error as Error).name === 'ExecutionAlreadyExists') (error as Error).name = 'StepFunctions.ExecutionAlreadyExistsException';
            throw error;
          }
        },
      },
    });
    this.loop = new StepFunctionsServiceLoop({ states: this.runtime, store: options.store, stateMachineArn: this.stateMachineArn, logger: options.logger });
  }

  /** Resumes the loop of every ACTIVE or DRAINING service, in every region (after a restart). */
  async resume(): Promise<void> {
    for (const serviceArn of await this.options.store.servicesNeedingLoop()) await this.ensureRunning(serviceArn);
  }

  /** Starts the service's loop if it has none running (the next generation if its execution ended). */
  ensureRunning(serviceArn: string): Promise<void> {
    return this.loop.ensureRunning(serviceArn);
  }

  wake(serviceArn: string): Promise<void> {
    return this.loop.wake(serviceArn);
  }

  /** Aborts every execution and waits for the steps in flight. */
  stop(): Promise<void> {
    return this.runtime.stop();
  }
}

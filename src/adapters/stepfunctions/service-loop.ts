/**
 * The ServiceLoop port over Step Functions: one execution per service (lib/constructs/service-scheduler.ts).
 *
 *   wake(service): mark the loop woken and take its waiting token in one write (service-loop-store.ts);
 *     - a token taken: SendTaskSuccess completes the execution's wait; it reconciles now. A token
 *       that expired meanwhile (the wait timed out, so a pass runs anyway) answers TaskTimedOut or
 *       TaskDoesNotExist: harmless, ignored;
 *     - no token (a pass is running): `woken` makes its next wait end at once (Park refuses to wait);
 *     - no loop at all (CreateService's write, or a service older than its loop): start generation 1;
 *     - no token and an earlier wake-up still unread (a second wake-up finding nobody waiting): make
 *       sure the execution is alive (ensureRunning).
 *   ensureRunning(service): StartExecution of the current generation with its first input: Step
 *     Functions answers a RUNNING execution of that name and input with success and starts nothing;
 *     ExecutionAlreadyExists means it ended (or is a hand-over's, with other input): the loop moves
 *     to the next generation (conditionally) and starts it.
 *
 * Never two acting executions: execution names are `<loopName>-g<generation>` (Step Functions
 * refuses a second execution of one name), a generation moves on only by a conditional write from the
 * one before (or by a hand-over), every pass adopts its generation conditionally (an older one ends
 * at its next pass or wait), and every pass claims the service by its version (service-scheduler.ts).
 */
import type { ServiceLoopStore } from '../dynamodb/service-loop-store';
import type { ServiceLoop } from '../../app/service-loop';
import { executionName, firstState } from '../../app/service-loop-steps';
import { serviceAddress } from '../../app/service-scheduler';
import { isStatesError, type StatesApi } from './states-api';

export interface StepFunctionsServiceLoopOptions {
  readonly states: StatesApi;
  readonly store: ServiceLoopStore;
  readonly stateMachineArn: string;
  readonly logger?: Pick<Console, 'warn'>;
}

export class StepFunctionsServiceLoop implements ServiceLoop {
  constructor(private readonly options: StepFunctionsServiceLoopOptions) {}

  async wake(serviceArn: string): Promise<void> {
    const found = await this.options.store.wake(serviceAddress(serviceArn));
    if (!found.loop) return this.start(serviceArn);
    if (found.token) return this.complete(found.token);
    if (found.alreadyWoken) await this.ensureRunning(serviceArn);
  }

  /** Starts the service's loop if it has none, or the next generation if its execution ended. */
  async ensureRunning(serviceArn: string): Promise<void> {
    const address = serviceAddress(serviceArn);
    const loop = await this.options.store.get(address);
    if (!loop) return this.start(serviceArn);
    if (await this.startGeneration(serviceArn, loop.generation)) return;
    if (await this.options.store.advance(address, loop.generation)) await this.startGeneration(serviceArn, loop.generation + 1);
  }

  private async start(serviceArn: string): Promise<void> {
    if (await this.options.store.create(serviceAddress(serviceArn), serviceArn)) await this.startGeneration(serviceArn, 1);
    else await this.wake(serviceArn); // a racing wake-up created it first: it is starting
  }

  /** True: that generation runs now (started, or found RUNNING); false: its name is spent. */
  private async startGeneration(serviceArn: string, generation: number): Promise<boolean> {
    const state = firstState(serviceArn, generation);
    try {
      await this.options.states.startExecution({
        stateMachineArn: this.options.stateMachineArn,
        name: executionName(state.loopName, generation),
        input: JSON.stringify(state),
      });
      return true;
    } catch (error) {
      if (isStatesError(error, 'ExecutionAlreadyExists')) return false;
      throw error;
    }
  }

  private async complete(taskToken: string): Promise<void> {
    try {
      await this.options.states.sendTaskSuccess({ taskToken, output: JSON.stringify({ woken: true }) });
    } catch (error) {
      if (!isStatesError(error, 'TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken')) throw error;
      this.options.logger?.warn(`service loop: a wait had already ended (${(error as Error).name}); its pass runs anyway`);
    }
  }
}

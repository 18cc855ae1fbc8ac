/**
 * The two steps of a service's Step Functions execution (lib/constructs/service-scheduler.ts), shared
 * by the Lambda functions (lambdas/service-reconcile.ts, lambdas/service-loop-park.ts) and the local
 * runtime (src/local/service-loop-runner.ts), and the execution names:
 *
 *   Reconcile: adopt the loop for this generation (ends a superseded one), then one scheduler pass;
 *   Park:      store the waiting state's task token, unless woken meanwhile or superseded.
 */
import { createHash } from 'node:crypto';
import type { ServiceLoopStore } from '../adapters/dynamodb/service-loop-store';
import type { BerthContext } from './context';
import { runServicePass, serviceAddress } from './service-scheduler';

/** The state names (lib/constructs/service-scheduler.ts); the local runtime binds its handlers to them. */
export const SERVICE_LOOP_STATES = {
  reconcile: 'Reconcile',
  next: 'Continue?',
  park: 'Park',
  handOver: 'HandOver',
  retryLater: 'RetryLater',
  done: 'Done',
} as const;

/** What an execution carries from state to state (its input, and Reconcile's output). */
export interface LoopState {
  readonly serviceArn: string;
  /** Execution names are `<loopName>-g<generation>`. */
  readonly loopName: string;
  readonly generation: number;
  /** Passes this execution has made (it hands over to the next generation at a bound). */
  readonly loops: number;
}

export interface ReconciledState extends LoopState {
  /** gone: no such service, or INACTIVE; superseded: a newer generation acts. Both end the execution. */
  readonly status: 'reconciled' | 'gone' | 'superseded';
  /**
   * What the Park state sends its function, and its timeout (`$.Payload.waitSeconds`). Named so the
   * path means the same in the state's input and in its effective input after Parameters (which
   * aws-local-stepfunctions reads TimeoutSecondsPath from).
   */
  readonly Payload: { readonly serviceArn: string; readonly generation: number; readonly waitSeconds: number };
}

/** A steady service is looked at this often when its plan names no time. */
export const DEFAULT_WAIT_SECONDS = 3600;

export interface LoopDeps {
  readonly context: BerthContext;
  readonly loops: ServiceLoopStore;
}

export async function reconcileStep(deps: LoopDeps, state: LoopState): Promise<ReconciledState> {
  const address = serviceAddress(state.serviceArn);
  const after = { serviceArn: state.serviceArn, loopName: state.loopName, generation: state.generation, loops: state.loops + 1 };
  const payload = (waitSeconds: number) => ({ serviceArn: state.serviceArn, generation: state.generation, waitSeconds });
  if (!(await deps.loops.adopt(address, state.serviceArn, state.generation))) return { ...after, status: 'superseded', Payload: payload(1) };
  const pass = await runServicePass(deps.context, state.serviceArn);
  const next = pass.plan?.nextWakeSeconds;
  const waitSeconds = next === undefined ? DEFAULT_WAIT_SECONDS : Math.max(1, Math.ceil(next));
  return { ...after, status: pass.outcome === 'gone' ? 'gone' : 'reconciled', Payload: payload(waitSeconds) };
}

export interface ParkRequest {
  readonly serviceArn: string;
  readonly generation: number;
  readonly token: string;
  /** The wait's timeout (the state machine enforces it; logged only). */
  readonly waitSeconds?: number;
}

/** Thrown by Park so the state machine's Catch sends the execution back to Reconcile at once. */
export class LoopNotParked extends Error {
  constructor(reason: 'woken' | 'superseded') {
    super(`not waiting: ${reason}`);
    this.name = reason === 'woken' ? 'ServiceLoopWoken' : 'ServiceLoopSuperseded';
  }
}

export async function parkStep(loops: ServiceLoopStore, request: ParkRequest): Promise<{ parked: true }> {
  const outcome = await loops.park(serviceAddress(request.serviceArn), request.generation, request.token);
  if (outcome !== 'parked') throw new LoopNotParked(outcome);
  return { parked: true };
}

/**
 * The stem of a service's execution names: readable (the service name) and unique per service ARN
 * (a hash of it); with `-g<generation>` at most 80 characters of [A-Za-z0-9_-], as Step Functions allows.
 */
export function loopName(serviceArn: string): string {
  const { serviceName } = serviceAddress(serviceArn);
  const hash = createHash('sha256').update(serviceArn).digest('hex').slice(0, 16);
  return `svc-${serviceName.slice(0, 40)}-${hash}`;
}

export const executionName = (stem: string, generation: number) => `${stem}-g${generation}`;

export function firstState(serviceArn: string, generation: number): LoopState {
  return { serviceArn, loopName: loopName(serviceArn), generation, loops: 0 };
}

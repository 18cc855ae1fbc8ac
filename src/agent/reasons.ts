/**
 * What a restarted agent tells the control plane about a task it finds again, and why. Pure: it
 * decides from the task as the control plane knows it and what the runtime found of each container.
 *
 * The rule is to report only what happened. A container that exited by itself while no agent
 * watched is an essential container exit (with its recorded exit code). A task whose processes are
 * simply gone, or that the agent itself stopped, is not: no exit code is invented for it, and the
 * stop says the agent stopped it and why (docs/agent.md, "When the agent restarts").
 */
import type { ContainerDefinition, TaskRecord } from '../domain/records';
import type { Adoption } from './container-runtime';

/** A stop the agent decided itself, with ECS's stopCode for it. */
export interface AgentStop {
  readonly stopCode: 'TaskFailedToStart' | 'TerminationNotice' | 'InfrastructureHealth';
  readonly reason: string;
}

export const AGENT_SHUT_DOWN = 'Task stopped by the agent: the agent shut down';
export const PROCESSES_LOST = 'Task stopped by the agent: its processes were lost when the agent restarted';
export const HOST_RESTARTED = 'Task stopped by the agent: its processes were lost when the host restarted';
export const START_INTERRUPTED = 'Task stopped by the agent: the agent restarted while starting its containers';

export type AdoptionOutcome =
  /** Every essential container still runs: watch them. */
  | { readonly kind: 'adopt' }
  /** An essential container exited by itself (its exit recorded): ECS's EssentialContainerExited. */
  | { readonly kind: 'essential-exit' }
  | { readonly kind: 'agent-stop'; readonly stop: AgentStop };

export function adoptionOutcome(
  task: Pick<TaskRecord, 'lastStatus'>,
  definitions: readonly Pick<ContainerDefinition, 'name' | 'essential'>[],
  found: ReadonlyMap<string, Adoption>,
): AdoptionOutcome {
  const essential = definitions.filter((d) => d.essential !== false).map((d) => found.get(d.name));
  if (essential.every((a) => a?.state === 'running')) return { kind: 'adopt' };
  if (task.lastStatus === 'ACTIVATING') {
    return { kind: 'agent-stop', stop: { stopCode: 'TaskFailedToStart', reason: START_INTERRUPTED } };
  }
  const exited = essential.flatMap((a) => (a?.state === 'exited' ? [a.exit] : []));
  if (exited.some((exit) => !exit.stoppedByRuntime)) return { kind: 'essential-exit' };
  if (exited.length > 0) return { kind: 'agent-stop', stop: { stopCode: 'TerminationNotice', reason: AGENT_SHUT_DOWN } };
  const hostRestarted = essential.some((a) => a?.state === 'lost' && a.hostRestarted);
  return { kind: 'agent-stop', stop: { stopCode: 'InfrastructureHealth', reason: hostRestarted ? HOST_RESTARTED : PROCESSES_LOST } };
}

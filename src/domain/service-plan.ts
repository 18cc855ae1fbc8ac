/**
 * What one reconcile decides, as data (Nomad's reconcileResults): tasks to start, tasks to stop (each
 * with its stopCode, stoppedReason and the rule that chose it), deployment records to write, a change
 * to the service itself, service event messages, the decisions not to move, and when to look again.
 * The caller applies it with conditional writes; nothing here performs I/O.
 *
 * Example: service web, desiredCount 4, 100% / 200%, 4 old tasks and 4 new tasks RUNNING:
 *   start:  []
 *   stop:   4 x { stopCode: 'ServiceSchedulerInitiated', rule: 'replace-old',
 *                 reason: 'Scaling activity initiated by (deployment ecs-svc/2...)',
 *                 why: 'rolling update: 4 available task(s) above the minimumHealthyPercent floor of 4' }
 *   deployments: [old: ACTIVE, desiredCount 0, runningCount 4;  new: PRIMARY, runningCount 4]
 *   events: ['(service web) has stopped 4 running tasks: (task ...) (task ...) (task ...) (task ...).']
 *   holds:  []                    nextWakeSeconds: 15
 * The next pass, with the old tasks STOPPED, completes the new deployment and reports steady state.
 */
import type { LaunchType } from './records';
import type { DeploymentRecord, LaunchConfiguration, ServiceStatus } from './service';
import type { TaskSetRecord } from './task-set';
import type { ThrottleState } from './throttle';

/** Why a task is stopped; one name per rule of the reconciler (docs/services.md lists them). */
export type StopRule =
  | 'scale-in' // more tasks of the primary deployment than desiredCount
  | 'replace-old' // a task of an older deployment, replaced by the rolling update
  | 'unhealthy' // failed its container health check after the grace period
  | 'draining' // the service is being deleted
  | 'az-rebalance' // a zone with the most tasks gives one up, once a task started in the zone with the fewest
  // DAEMON only (src/domain/daemon-reconciler.ts):
  | 'instance-left' // its container instance is DRAINING, deregistered or gone
  | 'constraint-violated' // its container instance no longer meets the service's placement constraints
  | 'duplicate'; // a second task of the service on one container instance

export interface TaskStart {
  readonly deploymentId: string;
  readonly taskDefinition: string;
  readonly launchType?: LaunchType;
  /** Set when the deployment uses a capacity provider strategy (split by base, then weight). */
  readonly capacityProvider?: string;
  readonly count: number;
  /** DAEMON: the container instance the task is placed on at creation (count is then 1). */
  readonly containerInstanceArn?: string;
  /** AZ rebalancing: the Availability Zone the tasks must be placed in (az-rebalancing.ts). */
  readonly availabilityZone?: string;
  /** The task's group and startedBy, as ECS sets them for service tasks. */
  readonly group: string;
  readonly startedBy: string;
  readonly why: string;
  /** containerName -> the image digest the new tasks run (seed 002); absent: by the image as named. */
  readonly imageDigests?: Readonly<Record<string, string>>;
}

export interface TaskStop {
  readonly taskArn: string;
  readonly deploymentId: string;
  readonly stopCode: 'ServiceSchedulerInitiated';
  /** The task's stoppedReason (ECS's text). */
  readonly reason: string;
  readonly rule: StopRule;
  readonly why: string;
}

/** On a rollback the service takes the target's launch configuration (task definition, ...) again. */
export interface ServiceChange extends Partial<LaunchConfiguration> {
  readonly status?: ServiceStatus;
  /** DAEMON: the desired count the scheduler computes (one per eligible container instance). */
  readonly desiredCount?: number;
  /** The throttle state after this pass (written only when it changed). */
  readonly throttle?: ThrottleState;
}

export interface Plan {
  readonly start: TaskStart[];
  readonly stop: TaskStop[];
  /** Whole records, only those that changed; the caller writes each conditionally. */
  readonly deployments: DeploymentRecord[];
  readonly service?: ServiceChange;
  /** EXTERNAL services: the task sets after this pass, whole (deleted ones gone); absent: unchanged. */
  readonly taskSets?: TaskSetRecord[];
  /** Service event messages, oldest first (see appendServiceEvents). */
  readonly events: string[];
  /** Decisions not to move, with their reason ("at the maximumPercent ceiling", ...). */
  readonly holds: string[];
  /** Seconds until the reconciler should look again if nothing wakes it; absent: never (INACTIVE). */
  readonly nextWakeSeconds?: number;
}

/** How long to wait, without a wake-up, before looking again. */
export const WAKE = {
  /** A rollout moving or tasks on their way: the stream wakes the loop sooner on every task change. */
  progressing: 15,
  /** Steady, or stalled on a FAILED deployment without rollback: only a change can move it. */
  steady: 3600,
} as const;

export const startedCount = (plan: Plan) => plan.start.reduce((n, s) => n + s.count, 0);

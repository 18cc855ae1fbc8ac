/**
 * The capacity sweep, one region at a time: first mark instances whose agent fell silent
 * `agentConnected: false` (so nothing is placed on them), then place the tasks still waiting for
 * capacity and stop those that waited past the bound, then publish each Auto Scaling group capacity
 * provider's CapacityProviderReservation (src/app/managed-scaling.ts). The stream triggers placement
 * as capacity frees up; this is the safety net under it, run by a timer locally and by a schedule in AWS.
 */
import type { Scope } from '../domain/arns';
import { disconnectSilentAgents } from './agent-liveness';
import type { BerthContext } from './context';
import { publishManagedScaling, type ManagedScalingOptions } from './managed-scaling';
import { placeWaitingTasks, type SweepOptions } from './task-engine';

export async function sweepCapacity(ctx: BerthContext, scope: Scope, options: SweepOptions & ManagedScalingOptions = {}) {
  const disconnected = await disconnectSilentAgents(ctx, scope);
  const placed = await placeWaitingTasks(ctx, scope, options);
  const reservations = await publishManagedScaling(ctx, scope, options);
  return { disconnected, placed, reservations };
}

/**
 * SubmitAttachmentStateChanges: what ECS's agent sends about the network attachments (ENIs) of its
 * tasks. In Berth the engine moves a task's attachment itself (PRECREATED, ATTACHED, DELETED with the
 * task's lifecycle, src/domain/task-engine.ts) and its own agents create no ENIs, so they never send
 * this. A report from another client is checked as ECS checks it (the cluster, each attachment ARN of
 * this account and region naming an attachment of a task in the cluster, a known status) and
 * acknowledged; the task's attachment stays the engine's. A bad report is refused whole: nothing moves.
 */
import { ClientException, InvalidParameterException } from '../domain/errors';
import type { RequestContext } from './context';
import { activeCluster } from './resolve';

// arn:<partition>:ecs:<region>:<account>:attachment/<uuid>, ECS's attachment ARN.
const ATTACHMENT_ARN = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):attachment\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
/** The statuses an attachment goes through (the Attachment shape's documentation). */
const ATTACHMENT_STATUSES = ['PRECREATED', 'CREATED', 'ATTACHING', 'ATTACHED', 'DETACHING', 'DETACHED', 'DELETED', 'FAILED'];

export async function submitAttachmentStateChanges(
  ctx: RequestContext,
  input: { cluster?: string; attachments: { attachmentArn: string; status: string }[] },
) {
  if (!input.attachments.length) throw new InvalidParameterException('attachments must contain at least one attachment state change.');
  const ids = input.attachments.map(({ attachmentArn, status }) => {
    const match = ATTACHMENT_ARN.exec(attachmentArn);
    if (!match || match[1] !== ctx.scope.region || match[2] !== ctx.scope.account) {
      throw new InvalidParameterException(`Invalid attachment ARN: ${attachmentArn}.`);
    }
    if (!ATTACHMENT_STATUSES.includes(status)) {
      throw new InvalidParameterException(`Invalid attachment status: ${status}. Valid: ${ATTACHMENT_STATUSES.join(', ')}.`);
    }
    return { attachmentArn, id: match[3] };
  });
  const cluster = await activeCluster(ctx, input.cluster);
  for (const { attachmentArn, id } of ids) {
    const known = await ctx.tasks.any(cluster.record.clusterArn, (task) =>
      (task.attachments as { id?: string }[]).some((attachment) => attachment.id === id),
    );
    if (!known) throw new ClientException(`The attachment ${attachmentArn} does not belong to a task in cluster ${cluster.record.clusterName}.`);
  }
  return { acknowledgment: 'ACK' };
}

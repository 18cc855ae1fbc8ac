/**
 * A read started before it is needed, beside others, and awaited later or never (an earlier read's
 * failure ends the request first, a failed publish retries the batch): its rejection is marked
 * handled here, so it is no unhandled rejection, and still rejects where it is awaited.
 */
export function startedEarly<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

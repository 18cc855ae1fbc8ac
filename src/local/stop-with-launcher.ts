/**
 * Under `npm start` or `npx`, npm (and the `sh -c` it runs a bin through) sits between the user and
 * this process. npm forwards SIGINT/SIGTERM to its child, but that child may be `sh`, which dies
 * without passing the signal on, and a SIGKILLed npm forwards nothing: this process would live on as
 * an orphan holding its port. So, when npm launched us, watch for the parent to change (we were
 * re-parented: the launcher is gone) and stop as if signalled.
 *
 * The parent is read when this module loads, which bin entries do first: a launcher that dies while
 * the rest of the program is still loading (seconds on a busy machine) is still noticed.
 */
const launcherAtStart = process.ppid;

export function stopWhenLauncherExits(stop: (why: string) => void, env: NodeJS.ProcessEnv = process.env): void {
  if (!env.npm_lifecycle_event && !env.npm_command) return; // started directly: signals reach us
  const check = () => {
    if (process.ppid !== launcherAtStart || launcherAtStart === 1) stop('its launcher (npm) exited');
  };
  setInterval(check, 1_000).unref();
  check();
}

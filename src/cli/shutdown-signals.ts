/**
 * What SIGINT and SIGTERM mean to a running server. One stop request reaches the server several
 * times: from the terminal or the supervisor to the whole process group, and again forwarded by
 * npm and by the launcher. So the first signal starts the drain, and any signal within
 * `repeatWindowMs` of it is the same request. SIGTERM never forces (supervisors repeat it and kill
 * on their own timeout); a SIGINT after the window is a deliberate second Ctrl-C and stops at once.
 */
export const REPEAT_WINDOW_MS = 1000;

export interface ShutdownActions {
  drain(signal: NodeJS.Signals): void;
  force(signal: NodeJS.Signals): void;
}

/** Listens until the returned function is called. */
export function onShutdownSignals(actions: ShutdownActions, repeatWindowMs = REPEAT_WINDOW_MS): () => void {
  let firstAt: number | undefined;
  const listener = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstAt === undefined) {
      firstAt = now;
      actions.drain(signal);
    } else if (signal === 'SIGINT' && now - firstAt > repeatWindowMs) {
      actions.force(signal);
    }
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}

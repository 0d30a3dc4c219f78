/** A shared-state operation that did not answer within its budget (state.timeoutMs). */
export class BudgetExceededError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = 'BudgetExceededError';
  }
}

/**
 * `promise`, or a BudgetExceededError after `ms`: a slow Redis never holds a turn longer than
 * that. The operation itself is not cancelled (Redis may still apply it); its late outcome is
 * ignored, never unhandled.
 */
export function withinBudget<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new BudgetExceededError(ms)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

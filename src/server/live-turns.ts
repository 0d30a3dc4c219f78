import type { AdmissionControl } from '../calls/admission.ts';

const CANCELLED_TURNS_GRACE_MS = 1000;

/**
 * The turns in flight and whether the gateway still takes new ones. Shutdown drains: new turns
 * are refused, running ones get a grace period, then the rest are cancelled (their streams still
 * end well-formed).
 */
export class LiveTurns {
  private readonly turns = new Set<AbortController>();
  private accepting = true;
  readonly admission: AdmissionControl;

  constructor(admission: AdmissionControl) {
    this.admission = admission;
  }

  get acceptingTurns(): boolean {
    return this.accepting;
  }

  add(controller: AbortController): void {
    this.turns.add(controller);
  }

  delete(controller: AbortController): void {
    this.turns.delete(controller);
  }

  get size(): number {
    return this.turns.size;
  }

  /**
   * Stops taking turns, waits up to `graceMs` for running ones, then cancels the rest and gives
   * their streams a moment to write their well-formed endings.
   */
  async drain(graceMs: number, reason: () => unknown): Promise<void> {
    this.accepting = false;
    if (await this.admission.waitForIdle(graceMs)) return;
    for (const controller of this.turns) controller.abort(reason());
    await this.admission.waitForIdle(CANCELLED_TURNS_GRACE_MS);
  }
}

import type { AdmissionControl, AdmissionTicket } from './admission.ts';
import type { CallRegistry, CallTurn, TurnStart } from './call-registry.ts';
import type { CallState } from './call-state.ts';

/** Call state in this process only (state.store memory, the default): one replica needs nothing else. */
export class LocalCallState implements CallState {
  readonly registry: CallRegistry;
  readonly admission: AdmissionControl;
  readonly sharedState = undefined;

  constructor(registry: CallRegistry, admission: AdmissionControl) {
    this.registry = registry;
    this.admission = admission;
  }

  admit(keyId: string): AdmissionTicket {
    return this.admission.admit(keyId);
  }

  beginTurn(start: TurnStart): CallTurn | undefined {
    return this.registry.beginTurn(start);
  }

  endCall(id: string): void {
    this.registry.endCall(id);
  }

  holds(id: string): boolean {
    return this.registry.get(id) !== undefined;
  }

  async close(reason: unknown): Promise<void> {
    this.registry.close(reason);
  }
}

/** Why a turn was cancelled. */
export type CancellationKind = 'client_closed' | 'superseded' | 'shutdown';

const MESSAGES: Readonly<Record<CancellationKind, string>> = {
  client_closed: 'The client closed the connection.',
  /** A newer turn of the same call began: the caller spoke again (barge-in). */
  superseded: 'A newer turn of the same call superseded this one (the caller spoke again).',
  shutdown: 'The gateway is shutting down.',
};

/**
 * The reason a cancelled turn's AbortSignal carries. Not an error for the wire: it has no HTTP
 * status. A cancelled turn that must still answer (a superseded `stream: false` request) takes
 * its answer from the error catalog, under the same code, where the answer is written.
 */
export class TurnCancelled extends Error {
  readonly kind: CancellationKind;

  constructor(kind: CancellationKind) {
    super(MESSAGES[kind]);
    this.name = 'TurnCancelled';
    this.kind = kind;
  }
}

/** The abort reason for a turn cancelled for `kind`. */
export function cancellation(kind: CancellationKind): TurnCancelled {
  return new TurnCancelled(kind);
}

export function cancellationKind(reason: unknown): CancellationKind | undefined {
  return reason instanceof TurnCancelled ? reason.kind : undefined;
}

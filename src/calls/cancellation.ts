import { GatewayError } from '../protocol/gateway-error.ts';

/** Why a turn was cancelled; the reason its AbortSignal carries. */
export type CancellationKind = 'client_closed' | 'superseded' | 'shutdown';

function cancellation(kind: CancellationKind, status: number, message: string): GatewayError {
  return new GatewayError(message, { status, type: 'invalid_request_error', code: kind });
}

export const clientClosedError = (): GatewayError => cancellation('client_closed', 499, 'The client closed the connection.');

/** A newer turn of the same call began: the caller spoke again (barge-in). */
export const supersededError = (): GatewayError =>
  cancellation('superseded', 409, 'A newer turn of the same call superseded this one (the caller spoke again).');

export const shutdownError = (): GatewayError => cancellation('shutdown', 503, 'The gateway is shutting down.');

export function cancellationKind(reason: unknown): CancellationKind | undefined {
  if (!(reason instanceof GatewayError)) return undefined;
  const code = reason.code;
  return code === 'client_closed' || code === 'superseded' || code === 'shutdown' ? code : undefined;
}

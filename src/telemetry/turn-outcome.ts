import { cancellationKind, type CancellationKind } from '../calls/cancellation.ts';
import { errorStatus } from '../core/error-catalog.ts';
import type { GatewayError, ProviderFailure } from '../core/gateway-error.ts';

/** How a turn ended, as records, metrics labels, log lines and trace attributes name it. */
export type TurnStatus = 'ok' | 'apologized' | 'error' | 'client_closed' | 'superseded' | 'shutdown' | 'upstream_broken';

/** Why a turn was cut short: cancelled (its signal), or an upstream that timed out. */
export type TurnCancellation = CancellationKind | 'timeout';

/** A turn's outcome: decided once, by `classifyTurn`, when the turn ends. */
export interface TurnOutcome {
  readonly status: TurnStatus;
  /** The HTTP status the client was given (200 for any answer that streamed, even one cut short). */
  readonly httpStatus: number;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;
  readonly cancellation: TurnCancellation | undefined;
  /** Each provider's failure, when the turn failed (or apologised) because every provider failed. */
  readonly failures?: readonly ProviderFailure[];
}

/**
 * What ended a turn, as its transport saw it. Errors are the `GatewayError` the client sees
 * (`toClientError`); abort reasons are the turn signal's.
 */
export type TurnEnding =
  /** The answer was sent to its end. */
  | { readonly how: 'finished' }
  /** Nothing was sent: the client is given this error instead of an answer. */
  | { readonly how: 'failed'; readonly error: GatewayError }
  /** The upstream broke after text was sent: the answer ends there, well-formed. */
  | { readonly how: 'broken'; readonly error: GatewayError }
  /** The client went away while the turn ran (no cancellation of the turn's own). */
  | { readonly how: 'client_gone' }
  /** The turn's signal aborted while it streamed: the stream still ends well-formed (200) if anyone listens. */
  | { readonly how: 'stream_cut'; readonly reason: unknown }
  /** The turn's signal aborted: its response is the abort reason (or nothing, when the client left). */
  | { readonly how: 'cancelled'; readonly reason: unknown };

export const FINISHED: TurnEnding = { how: 'finished' };
export const CLIENT_GONE: TurnEnding = { how: 'client_gone' };

/**
 * The one place a turn's outcome is decided. `apology` is the failure the caller heard an apology
 * for instead of an answer: it names the outcome of a turn that otherwise ended well (or whose
 * client left), never of one that failed or was cancelled after it.
 */
export function classifyTurn(ending: TurnEnding, apology?: GatewayError): TurnOutcome {
  switch (ending.how) {
    case 'finished':
      return apology === undefined ? OK : withFailures(outcome('apologized', 200, apology.code, apology.message), apology);
    case 'failed':
      return withFailures(outcome('error', ending.error.status, ending.error.code, ending.error.message), ending.error);
    case 'broken':
      return outcome('upstream_broken', 200, ending.error.code, ending.error.message);
    case 'client_gone':
      return apology === undefined ? CLIENT_CLOSED : classifyTurn(FINISHED, apology);
    case 'stream_cut': {
      const kind = cancellationKind(ending.reason);
      if (kind === undefined || kind === 'client_closed') return classifyTurn(CLIENT_GONE, apology);
      return outcome(kind, 200, kind, (ending.reason as Error).message);
    }
    case 'cancelled': {
      // A cancellation has no status of its own: the catalog says what its answer would have been.
      const cancelled = cancellationKind(ending.reason);
      const status = cancelled === undefined ? 200 : errorStatus(cancelled);
      return outcome(cancelled ?? 'client_closed', status, cancelled ?? 'client_closed', 'the turn was cancelled');
    }
  }
}

function outcome(status: TurnStatus, httpStatus: number, errorCode: string | undefined, errorMessage: string | undefined): TurnOutcome {
  return { status, httpStatus, errorCode, errorMessage, cancellation: cancellationOf(status, errorCode) };
}

/** The outcome, with the providers' failures the error carries (only when it carries them). */
function withFailures(decided: TurnOutcome, error: GatewayError): TurnOutcome {
  return error.failures === undefined ? decided : { ...decided, failures: error.failures };
}

function cancellationOf(status: TurnStatus, errorCode: string | undefined): TurnCancellation | undefined {
  if (status === 'client_closed' || status === 'superseded' || status === 'shutdown') return status;
  return errorCode?.endsWith('_timeout') ? 'timeout' : undefined;
}

const OK = Object.freeze(outcome('ok', 200, undefined, undefined));
const CLIENT_CLOSED = Object.freeze(outcome('client_closed', 200, 'client_closed', 'the client closed the stream'));

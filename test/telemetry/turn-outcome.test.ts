import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cancellation } from '../../src/calls/cancellation.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { CLIENT_GONE, classifyTurn, FINISHED, type TurnEnding, type TurnOutcome } from '../../src/telemetry/turn-outcome.ts';

const upstreamDown = new GatewayError('upstream answered 503 "busy"', { status: 502, type: 'upstream_error', code: 'upstream_error' });
const timedOut = new GatewayError('no first token in time', { status: 504, type: 'timeout_error', code: 'upstream_timeout' });
const badRequest = new GatewayError('messages is empty', { status: 400, type: 'invalid_request_error', code: 'invalid_messages' });

const ok: TurnOutcome = { status: 'ok', httpStatus: 200, errorCode: undefined, errorMessage: undefined, cancellation: undefined };
const clientClosed: TurnOutcome = {
  status: 'client_closed',
  httpStatus: 200,
  errorCode: 'client_closed',
  errorMessage: 'the client closed the stream',
  cancellation: 'client_closed',
};
const apologized = (error: GatewayError): TurnOutcome => ({
  status: 'apologized',
  httpStatus: 200,
  errorCode: error.code,
  errorMessage: error.message,
  cancellation: error.code.endsWith('_timeout') ? 'timeout' : undefined,
});

interface Case {
  name: string;
  ending: TurnEnding;
  apology?: GatewayError;
  outcome: TurnOutcome;
}

/** Every way a turn ends, on every transport, and the outcome its record, metrics, log line and trace carry. */
const CASES: Case[] = [
  { name: 'the answer finished', ending: FINISHED, outcome: ok },
  {
    name: 'the caller heard an apology, then the answer finished',
    ending: FINISHED,
    apology: upstreamDown,
    outcome: apologized(upstreamDown),
  },
  { name: 'an apology for an upstream timeout counts as a timeout', ending: FINISHED, apology: timedOut, outcome: apologized(timedOut) },
  {
    name: 'failed before the first byte: the client got the error',
    ending: { how: 'failed', error: upstreamDown },
    outcome: { status: 'error', httpStatus: 502, errorCode: 'upstream_error', errorMessage: upstreamDown.message, cancellation: undefined },
  },
  {
    name: 'failed on the client’s request (4xx)',
    ending: { how: 'failed', error: badRequest },
    outcome: {
      status: 'error',
      httpStatus: 400,
      errorCode: 'invalid_messages',
      errorMessage: 'messages is empty',
      cancellation: undefined,
    },
  },
  {
    name: 'failed with an upstream timeout',
    ending: { how: 'failed', error: timedOut },
    outcome: { status: 'error', httpStatus: 504, errorCode: 'upstream_timeout', errorMessage: timedOut.message, cancellation: 'timeout' },
  },
  {
    name: 'a failure after an apology is still the failure',
    ending: { how: 'failed', error: badRequest },
    apology: upstreamDown,
    outcome: {
      status: 'error',
      httpStatus: 400,
      errorCode: 'invalid_messages',
      errorMessage: 'messages is empty',
      cancellation: undefined,
    },
  },
  {
    name: 'the upstream broke after text was sent: the stream ended well-formed',
    ending: { how: 'broken', error: upstreamDown },
    outcome: {
      status: 'upstream_broken',
      httpStatus: 200,
      errorCode: 'upstream_error',
      errorMessage: upstreamDown.message,
      cancellation: undefined,
    },
  },
  { name: 'the client went away', ending: CLIENT_GONE, outcome: clientClosed },
  { name: 'the client went away after an apology', ending: CLIENT_GONE, apology: upstreamDown, outcome: apologized(upstreamDown) },
  {
    name: 'streaming, superseded by the caller’s next words: a clean stream end',
    ending: { how: 'stream_cut', reason: cancellation('superseded') },
    apology: upstreamDown,
    outcome: {
      status: 'superseded',
      httpStatus: 200,
      errorCode: 'superseded',
      errorMessage: cancellation('superseded').message,
      cancellation: 'superseded',
    },
  },
  {
    name: 'streaming, cut by shutdown: a clean stream end',
    ending: { how: 'stream_cut', reason: cancellation('shutdown') },
    outcome: {
      status: 'shutdown',
      httpStatus: 200,
      errorCode: 'shutdown',
      errorMessage: cancellation('shutdown').message,
      cancellation: 'shutdown',
    },
  },
  { name: 'streaming, the client hung up', ending: { how: 'stream_cut', reason: cancellation('client_closed') }, outcome: clientClosed },
  { name: 'streaming, aborted for no known reason', ending: { how: 'stream_cut', reason: new Error('aborted') }, outcome: clientClosed },
  {
    name: 'streaming, the client hung up after an apology',
    ending: { how: 'stream_cut', reason: cancellation('client_closed') },
    apology: upstreamDown,
    outcome: apologized(upstreamDown),
  },
  {
    name: 'cancelled, superseded: the response is the 409',
    ending: { how: 'cancelled', reason: cancellation('superseded') },
    outcome: {
      status: 'superseded',
      httpStatus: 409,
      errorCode: 'superseded',
      errorMessage: 'the turn was cancelled',
      cancellation: 'superseded',
    },
  },
  {
    name: 'cancelled by shutdown: the response is the 503',
    ending: { how: 'cancelled', reason: cancellation('shutdown') },
    apology: upstreamDown,
    outcome: {
      status: 'shutdown',
      httpStatus: 503,
      errorCode: 'shutdown',
      errorMessage: 'the turn was cancelled',
      cancellation: 'shutdown',
    },
  },
  {
    name: 'cancelled, the client hung up (499, nobody to send it to)',
    ending: { how: 'cancelled', reason: cancellation('client_closed') },
    outcome: {
      status: 'client_closed',
      httpStatus: 499,
      errorCode: 'client_closed',
      errorMessage: 'the turn was cancelled',
      cancellation: 'client_closed',
    },
  },
  {
    name: 'cancelled for no known reason counts as the client leaving',
    ending: { how: 'cancelled', reason: 'gone' },
    outcome: {
      status: 'client_closed',
      httpStatus: 200,
      errorCode: 'client_closed',
      errorMessage: 'the turn was cancelled',
      cancellation: 'client_closed',
    },
  },
];

describe('classifyTurn', () => {
  for (const { name, ending, apology, outcome } of CASES) {
    it(name, () => assert.deepEqual(classifyTurn(ending, apology), outcome));
  }

  it('covers every way a turn ends', () => {
    const covered = new Set(CASES.map((c) => c.ending.how));
    assert.deepEqual([...covered].sort(), ['broken', 'cancelled', 'client_gone', 'failed', 'finished', 'stream_cut']);
  });
});

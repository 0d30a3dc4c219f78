/**
 * What the Retell and Twilio suites of `check --platform` share: the options, a socket per case
 * (each case is its own call), and the rule every case is held to: the server never closes the
 * socket on its own (for Retell a close with 1000 is a hang-up).
 */

import type { JsonSocket } from '../client/json-socket-client.ts';
import { looksLikeApology } from './apology-text.ts';
import type { StreamViolation } from './stream-rules.ts';
import { finding, type Judged } from './run-cases.ts';
import type { CheckFinding } from './suite.ts';

export interface SocketCheckOptions {
  /** The URL the platform is given (Retell: the LLM WebSocket URL, to which /{call_id} is appended; Twilio: the <ConversationRelay url>). */
  url: URL;
  /** Twilio's Auth Token: the handshake is signed with it. */
  authToken?: string;
  /** The URL Twilio signs; default `url` with wss. */
  signedUrl?: string;
  timeoutMs: number;
}

/** One case's socket and the call id it was opened for. */
export interface CaseSocket {
  socket: JsonSocket;
  callId: string;
}

let calls = 0;

/** A call id no other case of this run uses. */
export function newCheckCallId(prefix: string): string {
  return `${prefix}check${Date.now().toString(36)}${(++calls).toString(36)}`;
}

/** The findings for the rules an answer broke, each quoting its message. */
export function violationFindings(violations: readonly StreamViolation[]): CheckFinding[] {
  return violations.map((v) => finding(v.rule, v.message, v.quote));
}

/** Closes the case's socket; a close the server made on its own is a finding (1000 a fail: a hang-up to Retell). */
export async function closeCase(socket: JsonSocket, findings: CheckFinding[]): Promise<void> {
  const closed = socket.closed;
  if (closed !== undefined && !closed.byUs) {
    if (closed.code === 1000) {
      findings.push(
        finding(
          'socket-close-1000',
          `the server closed the socket with 1000${closed.reason ? ` (${closed.reason})` : ''} in the middle of the call`,
        ),
      );
    } else {
      findings.push({
        ...finding(
          'socket-closed',
          `the server closed the socket with ${closed.code}${closed.reason ? ` (${closed.reason})` : ''} in the middle of the call`,
        ),
        status: 'warn',
      });
    }
  }
  await socket.close();
}

/**
 * Runs a case on a call just opened, then closes its socket: the close rule's findings join the
 * case's own.
 */
export async function onCall<Call extends { socket: JsonSocket }>(
  opening: Promise<Call>,
  body: (call: Call) => Promise<Judged>,
): Promise<Judged> {
  const call = await opening;
  const closing: CheckFinding[] = [];
  let judged: Judged;
  try {
    judged = await body(call);
  } finally {
    await closeCase(call.socket, closing);
  }
  return { ...judged, findings: [...judged.findings, ...closing] };
}

/** Findings about what an answer said: nothing at all, or the gateway's apology (its upstream failed). */
export function wordFindings(text: string, complete: boolean): CheckFinding[] {
  if (!complete) return [];
  if (text.trim() === '') return [finding('empty-answer', 'the answer carried no words: the line stays silent')];
  if (looksLikeApology(text)) return [finding('apology-text', `the answer is an apology: ${JSON.stringify(text.slice(0, 120))}`)];
  return [];
}

/** Resolves after `ms` (the socket suites wait on the server, not on a clock under test). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { toClientError } from './client-errors.ts';

/** An error as the HTTP response that says it: status, headers, OpenAI-shaped JSON body. */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The one way an error becomes an HTTP response, whichever route or layer answers: anything
 * thrown (see toClientError) gets its status, `Retry-After` when it has one, the JSON content
 * type and the OpenAI body. A 401 closes the connection: a client without a valid key holds no
 * kept-alive socket to retry keys on.
 */
export function errorResponse(error: unknown): ErrorResponse {
  const clientError = toClientError(error);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (clientError.retryAfterSeconds !== undefined) headers['retry-after'] = String(clientError.retryAfterSeconds);
  if (clientError.status === 401) headers.connection = 'close';
  return { status: clientError.status, headers, body: JSON.stringify(clientError.toBody()) };
}

/** Answers a Fastify request with the error. */
export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const response = errorResponse(error);
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/** Answers on a raw response (a hijacked reply) with the error, unless an answer has begun. */
export function writeError(res: ServerResponse, error: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const response = errorResponse(error);
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/** The whole HTTP/1.1 message, for a socket no request was parsed from; the connection closes after it. */
export function rawErrorResponse(error: unknown): string {
  const { status, headers, body } = errorResponse(error);
  const head = Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${head}\r\n${body}`;
}

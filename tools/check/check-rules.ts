/**
 * The rules the conformance suite (`voice-llm-gateway check`) reports: which case each belongs
 * to, how serious a breach is, and how to fix it (one sentence, shown with every finding).
 */

/** `skip`: the case could not be exercised (never reported as a pass). */
import { PLATFORM_RULES } from './platform-rules.ts';
import { SOCKET_RULES } from './socket-rules.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface RuleInfo {
  /** The case whose row reports it. */
  caseId: string;
  severity: 'warn' | 'fail';
  fix: string;
}

const FIELDS_FIX = 'Put "id", "object": "chat.completion.chunk", "created" (Unix seconds), "model" and "choices" on every chunk.';

export const RULES: Readonly<Record<string, RuleInfo>> = {
  // Requests the server must answer (or refuse) the right way.
  'request-failed': {
    caseId: '',
    severity: 'fail',
    fix: 'Make the server reachable at the base URL and keep the connection open until the answer is complete.',
  },
  timeout: {
    caseId: '',
    severity: 'fail',
    fix: 'Finish every answer (first token in well under a second, [DONE] at the end) within the request timeout; voice platforms give up after 3 to 20 s.',
  },
  'http-status': { caseId: '', severity: 'fail', fix: 'Answer every well-formed request the workflow sends with 200 and an event stream.' },
  apology: {
    caseId: '',
    severity: 'fail',
    fix: "The server answered with the gateway's apology because every upstream model failed: check that the upstream is up, its apiKey and the model name (voice-llm-gateway doctor, and the gateway's log).",
  },
  'apology-text': {
    caseId: '',
    severity: 'warn',
    fix: "The answer reads like the gateway's default apology (said when every upstream model fails): check the upstream with voice-llm-gateway doctor and the gateway's log.",
  },
  'empty-answer': {
    caseId: '',
    severity: 'warn',
    fix: 'Always stream some content (or a tool call): silence is the worst failure on a call.',
  },
  'image-refused': {
    caseId: 'multimodal',
    severity: 'warn',
    fix: 'Accept content arrays with text and image_url parts (pass them to a vision model, or drop the images and answer the text).',
  },
  'auth-required': {
    caseId: '',
    severity: 'fail',
    fix: 'Check "Authorization: Bearer <key>" on every request and refuse a missing or wrong key with 401.',
  },
  'auth-status': { caseId: '', severity: 'warn', fix: 'Refuse a missing or wrong key with 401 (or 403), not another status.' },
  'error-shape': {
    caseId: '',
    severity: 'warn',
    fix: 'Send errors as JSON {"error":{"message":"...","type":"...","param":null,"code":"..."}} with Content-Type application/json.',
  },
  'path-missing': {
    caseId: 'path-alternate',
    severity: 'warn',
    fix: 'Serve both /chat/completions and /v1/chat/completions: users paste the base URL with or without /v1.',
  },
  'path-broken': { caseId: 'path-alternate', severity: 'warn', fix: 'Make /chat/completions and /v1/chat/completions the same endpoint.' },
  'bad-json-accepted': {
    caseId: 'malformed-json',
    severity: 'fail',
    fix: 'Reject a body that is not valid JSON with 400 and an OpenAI-shaped error.',
  },
  'bad-json-5xx': {
    caseId: 'malformed-json',
    severity: 'fail',
    fix: 'Catch the JSON parse error and answer 400 with an OpenAI-shaped error instead of crashing with a 5xx.',
  },
  'bad-json-status': { caseId: 'malformed-json', severity: 'warn', fix: 'Answer a body that is not valid JSON with 400.' },
  'barge-in-next-turn': {
    caseId: 'barge-in',
    severity: 'fail',
    fix: 'When the client closes a stream, stop that answer and serve the next request for the same instanceId at once.',
  },
  'usage-ignored': {
    caseId: 'usage',
    severity: 'warn',
    fix: 'When stream_options.include_usage is true, send one more chunk with "choices": [] and "usage" {prompt_tokens, completion_tokens, total_tokens} before [DONE].',
  },
  'usage-refused': {
    caseId: 'usage',
    severity: 'warn',
    fix: 'Accept stream_options (at least ignore it) instead of refusing the request.',
  },
  'usage-position': {
    caseId: 'usage',
    severity: 'warn',
    fix: 'Send the usage chunk after the finish chunk, as the last chunk before [DONE].',
  },
  // The stream itself (checked over every stream the suite read).
  'content-type': { caseId: 'content-type', severity: 'fail', fix: 'Answer streaming requests with "Content-Type: text/event-stream".' },
  'json-object': {
    caseId: 'event-json',
    severity: 'fail',
    fix: 'Write each event as "data: " plus one JSON object on one line, then a blank line.',
  },
  object: { caseId: 'event-json', severity: 'fail', fix: FIELDS_FIX },
  id: { caseId: 'event-json', severity: 'fail', fix: FIELDS_FIX },
  created: { caseId: 'event-json', severity: 'fail', fix: FIELDS_FIX },
  model: { caseId: 'event-json', severity: 'fail', fix: FIELDS_FIX },
  choices: { caseId: 'event-json', severity: 'fail', fix: FIELDS_FIX },
  delta: { caseId: 'event-json', severity: 'fail', fix: 'Give every choice a "delta" object (an empty {} on the finish chunk).' },
  'choice-index': { caseId: 'event-json', severity: 'fail', fix: 'Set choices[0].index to 0 on every chunk.' },
  'empty-choices': {
    caseId: 'event-json',
    severity: 'fail',
    fix: 'Send "choices": [] only in the final usage chunk, and put "usage" in it.',
  },
  'non-empty': { caseId: 'event-json', severity: 'fail', fix: 'Stream a role chunk, the content and a finish chunk, then data: [DONE].' },
  'stable-id': { caseId: 'stable-id', severity: 'fail', fix: 'Generate the completion id once per response and repeat it on every chunk.' },
  'stable-created': {
    caseId: 'stable-id',
    severity: 'fail',
    fix: 'Read the clock once when the response starts and repeat that "created" on every chunk.',
  },
  'role-first': {
    caseId: 'role-first',
    severity: 'fail',
    fix: 'Make the first chunk carry "delta": {"role": "assistant"} (with "content": "" if you like).',
  },
  'finish-reason': {
    caseId: 'finish-reason',
    severity: 'fail',
    fix: 'Use only "stop", "length", "tool_calls" or "content_filter" as finish_reason.',
  },
  finish: {
    caseId: 'finish-reason',
    severity: 'fail',
    fix: 'End the choices with one chunk whose finish_reason is "stop" (or "tool_calls", "length").',
  },
  'after-finish': { caseId: 'finish-reason', severity: 'fail', fix: 'Keep finish_reason null on every chunk but the last choice chunk.' },
  'tool-calls': {
    caseId: 'tool-calls',
    severity: 'fail',
    fix: 'Send delta.tool_calls as an array of {index, id, type, function: {name, arguments}}.',
  },
  'tool-call-index': {
    caseId: 'tool-calls',
    severity: 'fail',
    fix: 'Give every tool_calls entry an integer "index" (0 for the first call) and repeat it on every delta of that call.',
  },
  'tool-call-first-delta': {
    caseId: 'tool-calls',
    severity: 'fail',
    fix: 'Put "id", "type": "function" and function.name on the first delta of each call.',
  },
  'tool-call-stable': { caseId: 'tool-calls', severity: 'fail', fix: 'Keep one id per tool call (send it on the first delta only).' },
  'tool-call-arguments': { caseId: 'tool-calls', severity: 'fail', fix: 'Send function.arguments as a string, e.g. "{}".' },
  'tool-call-repeated': {
    caseId: 'tool-calls',
    severity: 'fail',
    fix: 'Start a tool call once (id, type and name on its first delta), then send only its index and argument pieces.',
  },
  'tool-call-arguments-json': {
    caseId: 'tool-calls',
    severity: 'fail',
    fix: 'Make function.arguments a JSON text such as "{}" (in Python json.dumps({}), never "\\{\\}").',
  },
  'tool-call-arguments-empty': { caseId: 'tool-calls', severity: 'warn', fix: 'Send "{}" as the arguments of a function that takes none.' },
  'tool-call-finish-reason': {
    caseId: 'tool-calls',
    severity: 'warn',
    fix: 'Finish a stream that made a tool call with finish_reason "tool_calls".',
  },
  'tool-call-before-content': {
    caseId: 'tool-calls',
    severity: 'warn',
    fix: 'Stream the spoken text first and the tool call (hangup) last, right before the finish chunk.',
  },
  'usage-chunk': {
    caseId: 'usage',
    severity: 'fail',
    fix: 'Send usage only in one extra chunk with "choices": [] after the finish chunk.',
  },
  done: { caseId: 'done', severity: 'fail', fix: 'End every stream with "data: [DONE]" and a blank line, then close the response.' },
  'after-done': { caseId: 'done', severity: 'fail', fix: 'Send nothing after data: [DONE].' },
  // Retell's and Twilio's WebSockets (check --platform retell|twilio, and simulate).
  ...SOCKET_RULES,
  // The HTTP platforms' own cases (check --platform NAME).
  ...PLATFORM_RULES,
};

export function ruleInfo(rule: string): RuleInfo {
  return RULES[rule] ?? { caseId: '', severity: 'fail', fix: 'See docs/check.md.' };
}

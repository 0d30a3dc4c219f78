/** The rules of the HTTP platforms' own cases in `check --platform NAME` (tools/check/platform-suite.ts). */

import type { RuleInfo } from './check-rules.ts';

export const PLATFORM_RULES: Readonly<Record<string, RuleInfo>> = {
  'stream-by-body': {
    caseId: 'vapi-stream-by-body',
    severity: 'fail',
    fix: 'Stream whenever the body says "stream": true, whatever the Accept header says.',
  },
  'doubled-path': {
    caseId: 'vapi-doubled-path',
    severity: 'fail',
    fix: 'Serve .../chat/completions/chat/completions as .../chat/completions (Vapi appends the path to a URL that has it).',
  },
  'distinct-ids': {
    caseId: 'volcengine-distinct-ids',
    severity: 'fail',
    fix: 'Give each response its own completion id (Volcengine requires the id to differ across requests), the same on every chunk of it.',
  },
  'max-tokens': {
    caseId: 'volcengine-max-tokens',
    severity: 'fail',
    fix: 'Read Volcengine\'s camelCase "maxTokens" as max_tokens and pass it to the model (end the answer with finish_reason "length" at the limit).',
  },
  'prefill-round': {
    caseId: 'volcengine-prefill',
    severity: 'fail',
    fix: 'With Prefill, a second request for the same round_id (the final text after the partial) must be answered at once and in full: let it replace the first.',
  },
  'late-round': {
    caseId: 'volcengine-late-round',
    severity: 'fail',
    fix: "A late request for an older round_id must never cut the answer to a newer round: compare round_id before cancelling a call's answer.",
  },
  'agora-message-fields': {
    caseId: 'agora-history-fields',
    severity: 'fail',
    fix: 'Accept turn_id, timestamp and metadata (metadata.interrupted) on messages, and do not pass them to a model that refuses unknown fields.',
  },
  'agora-headers': {
    caseId: 'agora-headers',
    severity: 'fail',
    fix: 'Take the call from the X-Agora-Customllm-* headers (Channel, Uid, Appid); the body need not carry a context.',
  },
  'retry-twice': {
    caseId: 'livekit-retry-once',
    severity: 'fail',
    fix: 'Treat an identical request of a call that arrives while (or just after) its first is answering as a retry: give it that answer from the start instead of running the model again.',
  },
  'plain-body': {
    caseId: 'pipecat-plain-body',
    severity: 'fail',
    fix: 'Answer a plain OpenAI body with no call id at all (a Pipecat pipeline without headers): treat it as a call of one turn.',
  },
  'call-id-user': {
    caseId: 'pipecat-user-call-id',
    severity: 'fail',
    fix: 'Accept the OpenAI "user" field (Pipecat passes the call id there when it cannot send headers).',
  },
};

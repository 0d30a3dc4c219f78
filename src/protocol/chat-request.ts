import { z } from 'zod';
import type { ChatMessage } from '../core/chat-types.ts';
import { gatewayError } from '../core/error-catalog.ts';
import type { GatewayError } from '../core/gateway-error.ts';
import { formatIssuePath } from '../validation/issue-path.ts';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../validation/json-depth.ts';
import { extendDataSchema, SENTENCE_ID_RULE, toCallMetadata, type CallMetadata } from './extend-data.ts';

/** The incoming chat-completion request: validated strictly where it matters, loose elsewhere. */

const contentPartSchema = z.looseObject({ type: z.string().min(1) }).superRefine((part, ctx) => {
  if (part.type === 'text' && typeof part.text !== 'string') {
    ctx.addIssue({ code: 'custom', path: ['text'], message: 'must be a string' });
  } else if (part.type === 'image_url') {
    const image = part.image_url;
    if (image === null || typeof image !== 'object' || Array.isArray(image)) {
      ctx.addIssue({ code: 'custom', path: ['image_url'], message: 'must be an object {url: "..."}' });
    } else if (typeof (image as { url?: unknown }).url !== 'string' || (image as { url: string }).url === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['image_url', 'url'],
        message: 'must be a URL string (https://... or data:image/jpeg;base64,...)',
      });
    }
  }
});

const toolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPartSchema), z.null()]).optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  tool_call_id: z.string().optional(),
});

/** Agent ids are short; the model name is echoed in every chunk, so a long one multiplies the stream. */
export const MAX_MODEL_CHARS = 256;

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1, 'must name a model').max(MAX_MODEL_CHARS, `must be at most ${MAX_MODEL_CHARS} characters`),
  messages: z.array(messageSchema).min(1, 'must hold at least one message'),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  extendData: extendDataSchema.nullable().optional(),
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string())])
    .nullable()
    .optional(),
  tools: z
    .array(
      z.looseObject({
        type: z.string(),
        function: z.looseObject({ name: z.string().min(1) }).optional(),
      }),
    )
    .nullable()
    .optional(),
  tool_choice: z
    .union([z.string(), z.looseObject({})])
    .nullable()
    .optional(),
  n: z.number().int().nullable().optional(),
});

/** Standard OpenAI body parameters relayed to the upstream; anything else stays here. */
const RELAYED_PARAMS = [
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'user',
  'reasoning_effort',
  'modalities',
  'audio',
  'prediction',
  'service_tier',
  'metadata',
] as const;

export interface ChatTurnRequest {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  includeUsage: boolean;
  call: CallMetadata;
  /** The URL query string (the workflow's OpenAIExtraQuery, e.g. task_id, room_id). */
  query: Record<string, string>;
  /** Standard parameters to relay upstream (null values dropped). */
  params: Record<string, unknown>;
}

/** Validates a parsed JSON body; throws a 400 GatewayError naming the first bad field. */
export function parseChatRequest(body: unknown, query: Record<string, string> = {}): ChatTurnRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw gatewayError('invalid_body');
  }
  // Refused before anything walks it recursively (serialising it upstream would overflow the stack).
  if (exceedsJsonDepth(body)) {
    throw gatewayError('too_deeply_nested', { maxDepth: MAX_JSON_DEPTH });
  }
  const result = chatRequestSchema.safeParse(body);
  if (!result.success) throw validationError(result.error);
  const data = result.data;
  if (data.n !== undefined && data.n !== null && data.n !== 1) {
    throw gatewayError('unsupported_value');
  }
  const source = body as Record<string, unknown>;
  const params: Record<string, unknown> = {};
  for (const key of RELAYED_PARAMS) {
    const value = source[key];
    if (value !== undefined && value !== null) params[key] = value;
  }
  return {
    model: data.model,
    messages: data.messages as ChatMessage[],
    stream: data.stream === true,
    includeUsage: data.stream_options?.include_usage === true,
    call: toCallMetadata(data.extendData ?? undefined),
    query,
    params,
  };
}

function validationError(error: z.ZodError): GatewayError {
  const issue = error.issues[0]!;
  const param = formatIssuePath(issue.path);
  const detail = issue.code === 'invalid_union' ? describeUnion(issue, param) : issue.message;
  return gatewayError('invalid_request', { detail, param });
}

function describeUnion(issue: z.core.$ZodIssue, param: string): string {
  if (param.endsWith('.content') || param === 'content') {
    return 'must be a string, an array of content parts ({type:"text",text} or {type:"image_url",image_url:{url}}) or null';
  }
  if (param.endsWith('sentenceId')) return SENTENCE_ID_RULE;
  return issue.message;
}

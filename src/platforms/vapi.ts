import { chatRequestSchema } from '../protocol/chat-request.ts';
import { idField, isRecord, withCallData } from './call-data.ts';
import { offeredToolSignals } from './offered-tool-signals.ts';
import type { PlatformAdapter, PlatformRequest } from './platform-adapter.ts';

/** Vapi's own fields next to the OpenAI ones; in `destructured` mode the rest is the assistant's metadata. */
const VAPI_FIELDS = ['call', 'customer', 'phoneNumber', 'metadata', 'assistant', 'metadataSendMode'];
const OPENAI_FIELDS = new Set([
  ...Object.keys(chatRequestSchema.shape),
  ...VAPI_FIELDS,
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'user',
  'parallel_tool_calls',
  'response_format',
]);

/**
 * Vapi's custom LLM (`model.provider: custom-llm`): `call.id` is the call, `customer.number` and
 * `phoneNumber.number` the two ends (which calls which by `call.type`), the assistant's
 * `metadata` the call's userData (sent as `metadata`, or spread over the body in `destructured`
 * mode). The call ends and transfers through Vapi's own `endCall` and `transferCall` tools, and
 * presses keys through its `dtmf` tool when the request offers it.
 */
export const vapiPlatform: PlatformAdapter = {
  name: 'vapi',
  prefix: '/vapi',
  acceptsDoubledPath: true,
  detect: ({ body }) =>
    isRecord(body.call) && typeof body.call.id === 'string' && (isRecord(body.customer) || typeof body.call.orgId === 'string'),
  toChatBody: ({ body }: PlatformRequest) => {
    const customer = idField(body.customer, 'number');
    const line = idField(body.phoneNumber, 'number');
    const outbound = isRecord(body.call) && body.call.type === 'outboundPhoneCall';
    return withCallData(
      body,
      {
        instanceId: idField(body.call, 'id'),
        callerNumber: outbound ? line : customer,
        calleeNumber: outbound ? customer : line,
        userData: userData(body),
      },
      VAPI_FIELDS,
    );
  },
  signalForm: (context) =>
    offeredToolSignals(
      {
        end: { name: 'endCall', args: () => ({}) },
        transfer: { name: 'transferCall', args: (destination) => ({ destination: destination.callee }) },
        keypad: { name: 'dtmf', pauses: false, args: (digits, offered) => ({ [keysArgument(offered)]: digits }) },
      },
      context,
    ),
};

function userData(body: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  if (isRecord(body.metadata)) return body.metadata;
  const spread = Object.entries(body).filter(([key]) => !OPENAI_FIELDS.has(key));
  return spread.length > 0 ? Object.fromEntries(spread) : undefined;
}

/**
 * The argument of Vapi's offered `dtmf` function that takes the keys: `digits` when it has one,
 * else its one string property; `digits` when the definition names none.
 */
function keysArgument(offered: unknown): string {
  const fn = isRecord(offered) && isRecord(offered.function) ? offered.function : undefined;
  const properties = fn && isRecord(fn.parameters) && isRecord(fn.parameters.properties) ? fn.parameters.properties : {};
  if ('digits' in properties) return 'digits';
  const strings = Object.entries(properties).filter(([, schema]) => isRecord(schema) && schema.type === 'string');
  return strings.length === 1 ? strings[0]![0] : 'digits';
}

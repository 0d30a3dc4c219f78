/**
 * The rules strict voice-platform clients enforce on a chat-completion stream
 * (Volcengine, ElevenLabs, the openai SDK, ...). Returns every violation found, with the event.
 */

export interface StreamViolation {
  rule: string;
  message: string;
  /** Index of the offending event in the stream, when there is one. */
  eventIndex?: number;
  /** The offending message, as JSON (socket platforms), when there is one. */
  quote?: string;
}

const FINISH_REASONS = new Set(['stop', 'length', 'tool_calls', 'content_filter']);

type Json = Record<string, unknown>;

export function checkStreamRules(events: readonly unknown[], sawDone: boolean): StreamViolation[] {
  const violations: StreamViolation[] = [];
  const add = (rule: string, message: string, eventIndex?: number) =>
    violations.push(eventIndex === undefined ? { rule, message } : { rule, message, eventIndex });
  if (events.length === 0) add('non-empty', 'the stream carried no chunk');
  let id: unknown;
  let created: unknown;
  let finishedAt: number | undefined;
  const toolIds = new Map<number, string>();

  events.forEach((raw, index) => {
    if (raw === null || typeof raw !== 'object') return add('json-object', 'event is not a JSON object', index);
    const chunk = raw as Json;
    if (chunk.object !== 'chat.completion.chunk')
      add('object', `object is ${JSON.stringify(chunk.object)}, expected "chat.completion.chunk"`, index);
    if (typeof chunk.id !== 'string' || chunk.id === '') add('id', 'id missing', index);
    if (typeof chunk.created !== 'number') add('created', 'created missing or not a number', index);
    if (typeof chunk.model !== 'string') add('model', 'model missing', index);
    if (index === 0) {
      id = chunk.id;
      created = chunk.created;
    } else {
      if (chunk.id !== id) add('stable-id', `id changed from ${String(id)} to ${String(chunk.id)}`, index);
      if (chunk.created !== created) add('stable-created', `created changed from ${String(created)} to ${String(chunk.created)}`, index);
    }
    const choices = chunk.choices;
    if (!Array.isArray(choices)) return add('choices', 'choices is not an array', index);
    if (choices.length === 0) {
      if (chunk.usage === undefined) add('empty-choices', 'choices is empty but the chunk carries no usage', index);
      return;
    }
    if (chunk.usage !== undefined && chunk.usage !== null) add('usage-chunk', 'usage sent in a chunk with non-empty choices', index);
    const choice = choices[0] as Json;
    if (choice.index !== 0) add('choice-index', `choices[0].index is ${JSON.stringify(choice.index)}, expected 0`, index);
    const delta = (choice.delta ?? {}) as Json;
    if (index === 0 && delta.role !== 'assistant') add('role-first', 'the first chunk does not carry delta.role "assistant"', index);
    if (finishedAt !== undefined) add('after-finish', `a choice chunk follows the finish chunk (event ${finishedAt})`, index);
    const reason = choice.finish_reason;
    if (reason !== null && reason !== undefined) {
      if (!FINISH_REASONS.has(String(reason)))
        add('finish-reason', `finish_reason ${JSON.stringify(reason)} is not one of stop, length, tool_calls, content_filter`, index);
      finishedAt = index;
    }
    if (delta.tool_calls !== undefined) checkToolCalls(delta.tool_calls, toolIds, index, add);
  });
  if (events.length > 0 && finishedAt === undefined) add('finish', 'no chunk carries a finish_reason');
  if (!sawDone) add('done', 'the stream did not end with data: [DONE]');
  return violations;
}

function checkToolCalls(
  value: unknown,
  toolIds: Map<number, string>,
  index: number,
  add: (rule: string, message: string, eventIndex?: number) => void,
): void {
  if (!Array.isArray(value)) return add('tool-calls', 'delta.tool_calls is not an array', index);
  for (const item of value as Json[]) {
    if (typeof item.index !== 'number') {
      add('tool-call-index', 'a tool_calls entry has no numeric index', index);
      continue;
    }
    const fn = (item.function ?? {}) as Json;
    if (!toolIds.has(item.index)) {
      if (typeof item.id !== 'string' || item.type !== 'function' || typeof fn.name !== 'string') {
        add('tool-call-first-delta', 'the first delta of a tool call must carry id, type "function" and function.name', index);
      }
      toolIds.set(item.index, typeof item.id === 'string' ? item.id : '');
    } else if (typeof item.id === 'string' && item.id !== toolIds.get(item.index)) {
      add('tool-call-stable', `tool call index ${item.index} changed its id`, index);
    }
    if (fn.arguments !== undefined && typeof fn.arguments !== 'string') {
      add('tool-call-arguments', 'function.arguments must be a string', index);
    }
  }
}

/**
 * What a client makes of the tool calls in a stream, beyond the per-delta shape `checkStreamRules`
 * checks: the arguments of each call (its pieces concatenated) must parse as JSON, a call is started
 * once (its name only on its first delta), a stream that called a tool finishes with `tool_calls`,
 * and spoken content does not follow a call. An entry without an index counts as index 0, the way
 * clients read it. Rules: `tool-call-arguments-json`, `tool-call-arguments-empty` (advisory),
 * `tool-call-repeated`, `tool-call-finish-reason` (advisory), `tool-call-before-content` (advisory).
 */
export function checkToolCallSemantics(events: readonly unknown[]): StreamViolation[] {
  const violations: StreamViolation[] = [];
  const add = (rule: string, message: string, eventIndex?: number) =>
    violations.push(eventIndex === undefined ? { rule, message } : { rule, message, eventIndex });
  interface CallSeen {
    firstEvent: number;
    name: string;
    arguments: string;
    firstArgumentsEvent?: number;
    repeats: number;
    firstRepeat?: number;
  }
  const calls = new Map<number, CallSeen>();
  let firstCallEvent: number | undefined;
  let lastContentEvent: number | undefined;
  let finishReason: unknown;
  let finishEvent: number | undefined;
  events.forEach((raw, index) => {
    if (raw === null || typeof raw !== 'object') return;
    const choice = (raw as { choices?: unknown }).choices;
    if (!Array.isArray(choice) || choice.length === 0) return;
    const first = (choice[0] ?? {}) as Json;
    if (first.finish_reason !== null && first.finish_reason !== undefined) {
      finishReason = first.finish_reason;
      finishEvent = index;
    }
    const delta = (first.delta ?? {}) as Json;
    if (typeof delta.content === 'string' && delta.content !== '') lastContentEvent = index;
    if (!Array.isArray(delta.tool_calls)) return;
    for (const entry of delta.tool_calls as unknown[]) {
      if (entry === null || typeof entry !== 'object') continue;
      const item = entry as Json;
      const callIndex = typeof item.index === 'number' ? item.index : 0;
      const fn = (item.function ?? {}) as Json;
      firstCallEvent ??= index;
      let call = calls.get(callIndex);
      if (!call) {
        call = { firstEvent: index, name: typeof fn.name === 'string' ? fn.name : '', arguments: '', repeats: 0 };
        calls.set(callIndex, call);
      } else if (typeof fn.name === 'string' && fn.name !== '') {
        call.repeats++;
        call.firstRepeat ??= index;
      }
      if (typeof fn.arguments === 'string') {
        if (fn.arguments !== '') call.firstArgumentsEvent ??= index;
        call.arguments += fn.arguments;
      }
    }
  });
  for (const [callIndex, call] of calls) {
    const label = `tool call index ${callIndex}${call.name ? ` ("${call.name}")` : ''}`;
    if (call.repeats > 0) {
      add(
        'tool-call-repeated',
        `${label} names its function again in ${call.repeats} later delta${call.repeats === 1 ? '' : 's'} (first at event ${call.firstRepeat}); ` +
          `the name belongs only on the first delta of a call: clients that concatenate the pieces read "${call.name.repeat(2)}…", and a platform that acts on the name acts at the first one`,
        call.firstRepeat,
      );
    }
    if (call.arguments === '') {
      add('tool-call-arguments-empty', `${label} has empty arguments; clients that JSON.parse them fail (send "{}")`, call.firstEvent);
      continue;
    }
    try {
      JSON.parse(call.arguments);
    } catch (error) {
      const shown = call.arguments.length > 60 ? `${call.arguments.slice(0, 60)}…` : call.arguments;
      const backslashed = /\\[{}[\]]/.test(call.arguments)
        ? ` The pieces hold backslash-escaped braces (\\{\\}, written "\\\\{\\\\}" in the JSON event, e.g. Python's "\\{\\}"): that is not "{}", and no JSON parser accepts it.`
        : '';
      add(
        'tool-call-arguments-json',
        `${label}: its function.arguments, concatenated over all its deltas, are ${shown} (${call.arguments.length} characters), which is not valid JSON (${(error as Error).message}).${backslashed}`,
        call.firstArgumentsEvent ?? call.firstEvent,
      );
    }
  }
  if (calls.size > 0 && finishReason !== undefined && finishReason !== 'tool_calls') {
    add(
      'tool-call-finish-reason',
      `the stream carried a tool call but finished with finish_reason ${JSON.stringify(finishReason)}, not "tool_calls"`,
      finishEvent,
    );
  }
  if (firstCallEvent !== undefined && lastContentEvent !== undefined && lastContentEvent > firstCallEvent) {
    add(
      'tool-call-before-content',
      `spoken content continues after the first tool call (call at event ${firstCallEvent}, content until event ${lastContentEvent}); a platform that acts on the call at once (hangup) cuts the answer short`,
      firstCallEvent,
    );
  }
  return violations;
}

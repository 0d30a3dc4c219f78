import type { ReasoningMode } from '../config/schema.ts';
import type { ChatTurnRequest } from '../protocol/chat-request.ts';
import type { ChatMessage } from '../core/chat-types.ts';
import { pipe, stage, stageList } from '../core/pipe.ts';
import type { FinishPart, PartStream, TokenUsage } from '../core/stream-part.ts';
import type { Logger } from 'pino';
import { streamWithFallbacks, type AttemptEvent, type AttemptObserver } from '../resilience/provider-chain.ts';
import type { Agent } from './agent-registry.ts';
import type { KeyPressDropEvent } from './call-control/press-digits.ts';
import type { Keypad } from './call-control/signal-form.ts';
import type { CallerLanguage } from './language/caller-language.ts';
import type { ToolRouter } from './tool-router.ts';
import { runHttpTool, toolCallContext, type ToolResult } from './tools/http-tool.ts';
import { checkToolArguments } from './tools/tool-arguments.ts';
import { PhraseJoiner } from '../text/phrase-joiner.ts';
import { routeTools, type ServerToolCall } from './transforms/route-tool-calls.ts';
import { stripReasoning } from './transforms/strip-think-blocks.ts';

/** A finished server-side tool call, for the turn's record. */
export interface ToolRun {
  call: ServerToolCall;
  result: ToolResult;
}

export interface ConverseOptions {
  agent: Agent;
  router: ToolRouter;
  request: ChatTurnRequest;
  messages: ChatMessage[];
  signal: AbortSignal;
  logger: Logger;
  /** The turn's language: the gateway's functions are described in it. */
  language: CallerLanguage;
  /** The platform's keypad: the agent's keypad function is offered only with one. */
  keypad?: Keypad | undefined;
  onToolRun?: (run: ToolRun) => void;
  onAttempt?: AttemptObserver;
  onUpstreamWait?: (ms: number) => void;
  /** A call of the keypad function whose keys are not keys (or too many): nothing is pressed. */
  onKeyPressDropped?: (event: KeyPressDropEvent) => void;
}

/**
 * The model's side of a turn, in rounds: stream an answer (the round's list below: provider chain
 * ▸ reasoning strip ▸ tool routing, when the agent has functions of its own); if the model called
 * the agent's HTTP tools, run them (already started while it was still streaming), give it the
 * results and stream again, all in the same client stream. At most `maxToolRounds` tool rounds; the last round may not
 * call tools. Usage is summed over the rounds; one `finish` ends it all.
 */
export async function* converse(options: ConverseOptions): PartStream {
  const { agent, router, request, signal } = options;
  const context = toolCallContext(request.call);
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  let sawUsage = false;
  let messages = options.messages;
  const joiner = new PhraseJoiner();

  for (let round = 0; ; round++) {
    const lastRound = round >= agent.config.maxToolRounds;
    const params: Record<string, unknown> = { ...agent.config.params, ...request.params };
    const tools = router.offeredTools(params.tools, options.language, options.keypad);
    if (tools) params.tools = tools;
    if (lastRound && router.hasServerTools) params.tool_choice = 'none';

    const pending: Array<{ call: ServerToolCall; result: Promise<ToolResult> }> = [];
    const onServerCall = (call: ServerToolCall) => {
      if (lastRound) {
        options.logger.warn({ agent: agent.id, tool: call.tool.name }, 'tool call past maxToolRounds ignored');
        return;
      }
      const invalid = checkToolArguments(call.tool, call.argumentsJson);
      pending.push({ call, result: invalid ? Promise.resolve(invalid) : runHttpTool(call.tool, call.argumentsJson, context, signal) });
    };
    let reasoning: ReasoningMode = 'auto';
    const onAttempt = (event: AttemptEvent): void => {
      if (event.outcome === 'committed') reasoning = reasoningModeOf(agent, event);
      options.onAttempt?.(event);
    };
    // The round, in order: the provider chain (the source) ▸ reasoning strip ▸ tool routing.
    const answer = pipe(
      streamWithFallbacks(agent.targets, { messages, params }, signal, onAttempt, options.onUpstreamWait),
      stageList(
        stage(
          'reasoning strip',
          stripReasoning({
            mode: () => reasoning,
            onStrayClose: () =>
              options.logger.warn(
                { agent: agent.id },
                'the model closed a reasoning block it never opened: its text before the tag was spoken (see reasoning: unopened)',
              ),
          }),
        ),
        !router.isEmpty &&
          stage(
            'tool routing',
            routeTools({
              router,
              transfer: agent.config.transfer,
              onServerCall,
              joiner,
              onKeyPressDropped: options.onKeyPressDropped,
            }),
          ),
      ),
    );
    let said = '';
    let finish: FinishPart = { type: 'finish', reason: 'stop' };
    for await (const part of answer) {
      if (part.type === 'finish') finish = part;
      else if (part.type === 'usage') {
        sawUsage = true;
        usage.promptTokens += part.usage.promptTokens;
        usage.completionTokens += part.usage.completionTokens;
        usage.totalTokens += part.usage.totalTokens;
      } else {
        // Only a tool round repeats what was said; kept only when tools may run.
        if (part.type === 'text' && !router.isEmpty) said += part.text;
        yield part;
      }
    }

    if (pending.length === 0) {
      if (sawUsage) yield { type: 'usage', usage };
      yield finish;
      return;
    }
    const results = await Promise.all(pending.map((entry) => entry.result));
    if (signal.aborted) throw signal.reason;
    pending.forEach((entry, index) => options.onToolRun?.({ call: entry.call, result: results[index]! }));
    messages = [
      ...messages,
      {
        role: 'assistant',
        content: said === '' ? null : said,
        tool_calls: pending.map(({ call }) => ({
          id: call.callId,
          type: 'function',
          function: { name: call.tool.name, arguments: call.argumentsJson || '{}' },
        })),
      },
      ...pending.map(({ call }, index) => ({ role: 'tool' as const, tool_call_id: call.callId, content: results[index]!.content })),
    ];
  }
}

/** How the target the chain committed to marks its reasoning: the agent's model (also when unmatched), or a fallback's. */
function reasoningModeOf(agent: Agent, event: AttemptEvent): ReasoningMode {
  const index = agent.targets.findIndex((target) => target.provider.name === event.provider && target.model === event.model);
  return index <= 0 ? agent.config.reasoning : (agent.config.fallbacks[index - 1]?.reasoning ?? 'auto');
}

import type { AgentConfig, HttpToolConfig, PressDigitsConfig } from '../config/schema.ts';
import type { FunctionToolDefinition } from '../core/chat-types.ts';
import { endCallFunction, transferFunction } from './call-control/call-functions.ts';
import { pressDigitsFunction } from './call-control/press-digits.ts';
import type { Keypad } from './call-control/signal-form.ts';
import type { CallerLanguage } from './language/caller-language.ts';
import { PHRASES, type Phrases } from './language/phrases.ts';
import { toolDefinition } from './tools/http-tool.ts';

const LANGUAGES = Object.keys(PHRASES) as CallerLanguage[];

/** Who handles a function the model calls. */
export type ToolRoute =
  | { kind: 'end-call' }
  | { kind: 'transfer' }
  | { kind: 'digits'; config: PressDigitsConfig }
  | { kind: 'server'; tool: HttpToolConfig };

/**
 * The functions the gateway itself offers the model (end call, transfer, the agent's HTTP tools)
 * and how each call is handled. Anything else the model calls belongs to the client (a
 * caller-supplied `tools` list) and is relayed untouched.
 */
export class ToolRouter {
  private readonly routes = new Map<string, ToolRoute>();
  /** The gateway's functions as the model sees them, worded in each language. */
  private readonly definitions: Record<CallerLanguage, FunctionToolDefinition[]> = { en: [], zh: [] };
  private serverTools = 0;
  private readonly pressDigits: PressDigitsConfig | undefined;

  constructor(agent: AgentConfig) {
    const { endCall, transfer } = agent;
    if (endCall?.enabled) this.add(endCall.functionName, (phrases) => endCallFunction(endCall, phrases), { kind: 'end-call' });
    if (transfer) this.add(transfer.functionName, (phrases) => transferFunction(transfer, phrases), { kind: 'transfer' });
    // Offered per turn, only where the platform has a keypad; routed always, so a call of it never reaches the platform.
    this.pressDigits = agent.pressDigits;
    if (agent.pressDigits) this.routes.set(agent.pressDigits.functionName, { kind: 'digits', config: agent.pressDigits });
    for (const tool of agent.tools) this.add(tool.name, () => toolDefinition(tool), { kind: 'server', tool });
    this.serverTools = agent.tools.length;
  }

  route(name: string): ToolRoute | undefined {
    return this.routes.get(name);
  }

  /** The agent declares HTTP tools (tool rounds are possible). */
  get hasServerTools(): boolean {
    return this.serverTools > 0;
  }

  /** Nothing to route: every tool call belongs to the client. */
  get isEmpty(): boolean {
    return this.routes.size === 0;
  }

  /**
   * The `tools` parameter for the upstream: the client's tools plus the gateway's (the gateway's
   * win a name clash), the gateway's described in the turn's language. The keypad function only
   * with the platform's `keypad`, shaped by it.
   */
  offeredTools(clientTools: unknown, language: CallerLanguage, keypad?: Keypad): unknown[] | undefined {
    const fromClient = Array.isArray(clientTools) ? clientTools.filter((tool) => !this.routes.has(functionNameOf(tool))) : [];
    const all = [...fromClient, ...this.definitions[language]];
    if (keypad && this.pressDigits) all.push(pressDigitsFunction(this.pressDigits, PHRASES[language], keypad));
    return all.length > 0 ? all : undefined;
  }

  private add(name: string, define: (phrases: Phrases) => FunctionToolDefinition, route: ToolRoute): void {
    this.routes.set(name, route);
    for (const language of LANGUAGES) this.definitions[language].push(define(PHRASES[language]));
  }
}

/** The function names in a client's `tools` list. */
export function clientFunctionNames(tools: unknown): ReadonlySet<string> {
  // Most turns offer no functions: they share one empty set instead of each holding its own.
  return Array.isArray(tools) && tools.length > 0 ? new Set(tools.map(functionNameOf).filter((name) => name !== '')) : NO_FUNCTIONS;
}

const NO_FUNCTIONS: ReadonlySet<string> = new Set();

/** The function name of a `tools` entry ('' when it has none). */
export function functionNameOf(tool: unknown): string {
  const fn = (tool as { function?: { name?: unknown } } | null)?.function;
  return typeof fn?.name === 'string' ? fn.name : '';
}

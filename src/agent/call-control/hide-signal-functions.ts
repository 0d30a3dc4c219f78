import type { AgentConfig } from '../../config/schema.ts';
import { functionNameOf } from '../tool-router.ts';
import type { ChatTurnRequest } from '../../protocol/chat-request.ts';
import type { CallSignalForm } from './signal-form.ts';

/**
 * The request as the model should see it: without the platform's end-call function when the
 * agent ends calls itself (`endCall.enabled`), without its transfer function when the agent has
 * `transfer`, without its keypad function when the agent has `pressDigits`. The model then has
 * one way to do each, the agent's, which the signal stage turns back into the platform's function. A platform function the agent does not replace stays, and
 * the model's call of it goes to the platform untouched.
 */
export function hideSignalFunctions(request: ChatTurnRequest, form: CallSignalForm, agent: AgentConfig): ChatTurnRequest {
  const hidden = new Set<string>();
  if (agent.endCall?.enabled && form.functions.end) hidden.add(form.functions.end);
  if (agent.transfer && form.functions.transfer) hidden.add(form.functions.transfer);
  if (agent.pressDigits && form.functions.digits) hidden.add(form.functions.digits);
  const tools = request.params.tools;
  if (hidden.size === 0 || !Array.isArray(tools)) return request;
  const kept = tools.filter((tool: unknown) => !hidden.has(functionNameOf(tool)));
  if (kept.length === tools.length) return request;
  const params = { ...request.params };
  if (kept.length > 0) params.tools = kept;
  else {
    delete params.tools;
    delete params.tool_choice;
  }
  return { ...request, params };
}

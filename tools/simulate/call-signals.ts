/**
 * What the IMS workflow acts on in an answer:
 * - a streamed tool call whose function name is the FunctionMap's MatchFunction for hangup
 *   (configurable, default `hangup`): the call ends;
 * - `<imsagent_hangup endword="..."/>` in the content: endword is spoken, then the call ends;
 * - `<imsagent_transfer_call caller="..." callee="..." msg="..." err_msg="..."/>`: msg is spoken
 *   and the call is transferred (it leaves the agent).
 * Any other tool call is ignored by the workflow; it is reported so a developer sees it.
 *
 * Commands are matched leniently (any letter case, spaces, `/>` or `>`), and their attribute
 * values are XML-unescaped (`&quot;`, `&amp;`, `&lt;`, `&gt;`, `&apos;`, numeric references).
 */

export const DEFAULT_HANGUP_FUNCTION = 'hangup';

export interface TextCommand {
  command: 'hangup' | 'transfer';
  attributes: Record<string, string>;
  /** The command as it appeared in the text. */
  raw: string;
  /** Where it starts in the text. */
  index: number;
}

export interface StreamedToolCall {
  name: string;
  arguments: string;
  id?: string;
}

export type CallSignal =
  | { type: 'hangup'; via: 'tool-call'; functionName: string; arguments: string }
  | { type: 'hangup'; via: 'text-command'; endword: string }
  /** A socket platform's own message: Retell `end_call`, Twilio `end`. */
  | { type: 'hangup'; via: 'message'; message: string }
  | { type: 'transfer'; caller?: string; callee?: string; msg?: string; errMsg?: string }
  | { type: 'ignored-tool-call'; functionName: string; arguments: string }
  /** The agent presses keys: Retell `digit_to_press`, Twilio `sendDigits` (the call goes on). */
  | { type: 'digits'; digits: string; message: string }
  /** The agent switches the session's language: Twilio `language` (the call goes on). */
  | { type: 'language'; ttsLanguage: string; transcriptionLanguage: string };

/** How the call goes on after an answer. */
export type CallOutcome =
  | { type: 'continues' }
  | { type: 'hangup'; via: 'tool-call' | 'text-command' | 'message'; endword?: string }
  | { type: 'transfer'; caller?: string; callee?: string; msg?: string; errMsg?: string };

const COMMAND = /<\s*imsagent_(hangup|transfer_call)\b((?:[^>"']|"[^"]*"|'[^']*')*?)\s*\/?\s*>/gi;
const ATTRIBUTE = /([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const ENTITY = /&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot|apos));/gi;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The value of an XML attribute as written, unescaped. Unknown or malformed references stay as they are. */
export function unescapeAttribute(value: string): string {
  return value.replace(ENTITY, (whole, decimal: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
    const code = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex!, 16);
    return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** Every IMS text command in `text`, in order. */
export function parseTextCommands(text: string): TextCommand[] {
  const commands: TextCommand[] = [];
  if (!text.toLowerCase().includes('imsagent_')) return commands;
  for (const match of text.matchAll(COMMAND)) {
    const attributes: Record<string, string> = {};
    for (const attribute of match[2]!.matchAll(ATTRIBUTE)) {
      attributes[attribute[1]!.toLowerCase()] = unescapeAttribute(attribute[2] ?? attribute[3] ?? '');
    }
    commands.push({
      command: match[1]!.toLowerCase() === 'hangup' ? 'hangup' : 'transfer',
      attributes,
      raw: match[0],
      index: match.index,
    });
  }
  return commands;
}

/** The signals in one answer: text commands in order, then tool calls in order. */
export function detectCallSignals(
  text: string,
  toolCalls: readonly StreamedToolCall[],
  hangupFunction: string = DEFAULT_HANGUP_FUNCTION,
  /** A platform's transfer function (Vapi transferCall, ElevenLabs transfer_to_number); IMS has none. */
  transferFunction?: string,
): CallSignal[] {
  const signals: CallSignal[] = [];
  for (const command of parseTextCommands(text)) {
    if (command.command === 'hangup') {
      signals.push({ type: 'hangup', via: 'text-command', endword: command.attributes.endword ?? '' });
    } else {
      const { caller, callee, msg, err_msg: errMsg } = command.attributes;
      signals.push({
        type: 'transfer',
        ...(caller !== undefined && { caller }),
        ...(callee !== undefined && { callee }),
        ...(msg !== undefined && { msg }),
        ...(errMsg !== undefined && { errMsg }),
      });
    }
  }
  for (const call of toolCalls) {
    if (transferFunction !== undefined && call.name === transferFunction) {
      const callee = transferCallee(call.arguments);
      signals.push({ type: 'transfer', ...(callee !== undefined && { callee }) });
      continue;
    }
    signals.push(
      call.name === hangupFunction
        ? { type: 'hangup', via: 'tool-call', functionName: call.name, arguments: call.arguments }
        : { type: 'ignored-tool-call', functionName: call.name, arguments: call.arguments },
    );
  }
  return signals;
}

/** Where a platform's transfer tool call sends the call: Vapi `destination`, ElevenLabs `transfer_number`, the app form `callee`. */
function transferCallee(args: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  const callee = fields.destination ?? fields.transfer_number ?? fields.callee;
  return typeof callee === 'string' ? callee : undefined;
}

/**
 * What the call does after the answer. A transfer command wins over a hangup (the workflow starts
 * the transfer as soon as it reads the command, and the call then leaves the agent); otherwise the
 * first hangup, text command or tool call, ends it.
 */
export function callOutcome(signals: readonly CallSignal[]): CallOutcome {
  const transfer = signals.find((s) => s.type === 'transfer');
  if (transfer) {
    const { type: _type, ...rest } = transfer;
    return { type: 'transfer', ...rest };
  }
  const hangup = signals.find((s) => s.type === 'hangup');
  if (!hangup) return { type: 'continues' };
  if (hangup.via === 'text-command') return { type: 'hangup', via: 'text-command', endword: hangup.endword };
  return { type: 'hangup', via: hangup.via };
}

/**
 * What the caller hears of `text`: each hangup command replaced by its endword, each transfer
 * command by its msg, surrounding whitespace tidied.
 */
export function spokenText(text: string): string {
  const commands = parseTextCommands(text);
  if (commands.length === 0) return text;
  let out = '';
  let at = 0;
  for (const command of commands) {
    out += text.slice(at, command.index);
    const said = command.command === 'hangup' ? command.attributes.endword : command.attributes.msg;
    if (said) out += (out === '' || /\s$/.test(out) ? '' : ' ') + said;
    at = command.index + command.raw.length;
  }
  out += text.slice(at);
  return out.trim();
}

/** A short human description of a signal, for reports. */
export function describeSignal(signal: CallSignal): string {
  switch (signal.type) {
    case 'hangup':
      if (signal.via === 'message') return `hangup (${signal.message})`;
      return signal.via === 'tool-call'
        ? `hangup (tool call ${signal.functionName}${signal.arguments ? ` ${signal.arguments}` : ''})`
        : `hangup (text command, endword ${JSON.stringify(signal.endword)})`;
    case 'transfer': {
      const parts = [
        signal.callee !== undefined && `callee ${signal.callee}`,
        signal.caller !== undefined && `caller ${signal.caller}`,
        signal.msg !== undefined && `msg ${JSON.stringify(signal.msg)}`,
        signal.errMsg !== undefined && `err_msg ${JSON.stringify(signal.errMsg)}`,
      ].filter(Boolean);
      return `transfer (${parts.join(', ') || 'no attributes'})`;
    }
    case 'ignored-tool-call':
      return `tool call ${signal.functionName} ignored by the workflow (not the hangup function)`;
    case 'digits':
      return `keys pressed ${JSON.stringify(signal.digits)} (${signal.message})`;
    case 'language':
      return `language switched (speech ${signal.ttsLanguage}, transcription ${signal.transcriptionLanguage})`;
  }
}

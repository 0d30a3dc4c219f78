// @ts-check
/** One playground turn: streams the gateway's answer and reads what the workflow would act on. */

const HANGUP = /<imsagent_hangup\b[^>]*?endword\s*=\s*"([^"]*)"[^>]*>/i;
const TRANSFER = /<imsagent_transfer_call\b([^>]*)>/i;
const ENTITIES = /** @type {Record<string, string>} */ ({ '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" });
const decodeEntities = (/** @type {string} */ value) => value.replace(/&(amp|lt|gt|quot|apos);/g, (m) => ENTITIES[m] ?? m);

/**
 * @typedef {{ text: string, ends: boolean }} Command
 * @typedef {{ spoken: string, cut: boolean, error?: string, commands: Command[] }} TurnResult
 * @param {Record<string, unknown>} body
 * @param {string} hangupFunction the agent's hangup function (the workflow's FunctionMap)
 * @param {AbortSignal} signal
 * @param {(spoken: string) => void} onText
 * @returns {Promise<TurnResult>}
 */
export async function readTurn(body, hangupFunction, signal, onText) {
  let raw = '';
  /** @type {Map<number, string>} */
  const toolNames = new Map();
  const result = /** @type {TurnResult} */ ({ spoken: '', cut: false, commands: [] });
  try {
    const response = await fetch('/console/api/playground', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-vlg-console': '1' },
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok || !response.body) {
      const failure = await response.json().catch(() => ({}));
      return { ...result, error: failure?.error?.message ?? `HTTP ${response.status}` };
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') continue;
          const chunk = JSON.parse(data);
          if (chunk.error) result.error = chunk.error.message;
          const delta = chunk.choices?.[0]?.delta ?? {};
          if (typeof delta.content === 'string') raw += delta.content;
          for (const call of delta.tool_calls ?? []) {
            if (call.function?.name) toolNames.set(call.index ?? 0, call.function.name);
          }
          result.spoken = speakable(raw);
          onText(result.spoken);
        }
      }
    }
  } catch (error) {
    if (signal.aborted) result.cut = true;
    else result.error = String(/** @type {Error} */ (error).message);
  }
  result.commands = commands(raw, [...toolNames.values()], hangupFunction);
  return result;
}

/** The text the caller hears: commands out, a hangup's endword in. @param {string} raw */
function speakable(raw) {
  return raw
    .replace(HANGUP, (_m, endword) => decodeEntities(endword))
    .replace(TRANSFER, (m) => decodeEntities(attribute(m, 'msg') ?? ''))
    .replace(/<imsagent_[^>]*$/i, '')
    .trim();
}

/** @param {string} tag @param {string} name */
function attribute(tag, name) {
  return new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`, 'i').exec(tag)?.[1];
}

/** @param {string} raw @param {string[]} tools @param {string} hangupFunction @returns {Command[]} */
function commands(raw, tools, hangupFunction) {
  /** @type {Command[]} */
  const found = [];
  if (HANGUP.test(raw) || tools.includes(hangupFunction)) found.push({ text: 'The workflow hangs up.', ends: true });
  const transfer = TRANSFER.exec(raw);
  if (transfer)
    found.push({
      text: `The workflow transfers the call to ${decodeEntities(attribute(transfer[0], 'callee') ?? 'a person')}.`,
      ends: true,
    });
  for (const name of tools)
    if (name !== hangupFunction)
      found.push({ text: `The workflow gets a call to function ${name} (it acts only on those in its FunctionMap).`, ends: false });
  return found;
}

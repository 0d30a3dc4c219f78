// @ts-check
/**
 * Hold a call with any agent as the IMS workflow would: the whole history each turn, extendData
 * (call data and userData) editable, barge-in (the answer is cut as the platform cuts it), and what
 * the workflow would do with the answer's commands ("hangs up", "transfers to …"). The gateway
 * sends the turns with its own chat key, marked synthetic "console". Speech where the browser has it.
 */
import { h } from './dom.js';
import { readTurn } from './turn-stream.js';

/** @param {HTMLElement} view @param {import('./app.js').Me} me */
export function playgroundPage(view, me) {
  /** @type {{ role: string, content: string }[]} */
  let messages = [];
  let sentenceId = 0;
  /** @type {AbortController | undefined} */
  let running;
  let ended = false;
  const newId = () => `console-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`;

  const agent = /** @type {HTMLSelectElement} */ (
    h('select', { id: 'pg-agent' }, ...me.agents.map((id) => h('option', { value: id, selected: id === me.defaultAgent }, id)))
  );
  const instanceId = /** @type {HTMLInputElement} */ (h('input', { id: 'pg-instance', value: newId(), size: 32 }));
  const caller = /** @type {HTMLInputElement} */ (h('input', { id: 'pg-caller', value: '13800000001', size: 14 }));
  const callee = /** @type {HTMLInputElement} */ (h('input', { id: 'pg-callee', value: '4000000000', size: 14 }));
  const userData = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'pg-userdata', rows: 2, cols: 40 }, '{"name": "Test caller"}'));
  const speak = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'pg-speak' }));
  const transcript = h('div', { id: 'pg-transcript', 'aria-live': 'polite' });
  const input = /** @type {HTMLInputElement} */ (
    h('input', { id: 'pg-input', placeholder: 'What the caller says', size: 50, autocomplete: 'off' })
  );
  const send = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit' }, 'Say'));
  const barge = /** @type {HTMLButtonElement} */ (
    h('button.secondary', { type: 'button', id: 'pg-barge', disabled: true, onclick: () => bargeIn() }, 'Barge in')
  );
  const status = h('p.muted', { id: 'pg-status' }, 'Say something to start the call.');
  const Recognition = /** @type {any} */ (window).SpeechRecognition ?? /** @type {any} */ (window).webkitSpeechRecognition;
  const mic = Recognition ? h('button.secondary', { type: 'button', onclick: () => listen() }, 'Speak (microphone)') : null;

  const system = (/** @type {string} */ text) => transcript.append(h('p.bubble.system', {}, text));

  const bargeIn = () => {
    if (!running) return;
    running.abort();
    running = undefined;
    speechSynthesis?.cancel();
  };

  const turn = async (/** @type {string} */ words) => {
    bargeIn();
    if (ended) return;
    const controller = new AbortController();
    running = controller;
    sentenceId += 1;
    messages.push({ role: 'user', content: words });
    transcript.append(h('div.bubble.caller', {}, words));
    const answer = h('div.bubble.agent', { 'data-sentence': sentenceId });
    const text = h('span.live-text');
    answer.append(text);
    transcript.append(answer);
    barge.disabled = false;
    status.textContent = 'The agent is answering…';
    const userDataValue = userData.value.trim();
    const result = await readTurn(
      {
        model: agent.value,
        messages: [...messages],
        extendData: {
          instanceId: instanceId.value,
          channelId: instanceId.value,
          sentenceId,
          callerNumber: caller.value,
          calleeNumber: callee.value,
          ...(userDataValue ? { userData: userDataValue } : {}),
        },
      },
      me.hangupFunctions[agent.value] ?? 'hangup',
      controller.signal,
      (spoken) => (text.textContent = spoken),
    );
    text.className = '';
    if (running === controller) running = undefined;
    barge.disabled = true;
    if (result.error) system(`The turn failed: ${result.error}`);
    if (result.cut) answer.append(h('span.cutmark', {}, ' ✂ the caller cut in'));
    if (result.cut) answer.classList.add('cut');
    // The workflow keeps in the history what the caller actually heard.
    if (result.spoken) messages.push({ role: 'assistant', content: result.spoken });
    if (speak.checked && result.spoken && !result.cut) speechSynthesis.speak(new SpeechSynthesisUtterance(result.spoken));
    for (const command of result.commands) system(command.text);
    if (result.commands.some((c) => c.ends)) {
      ended = true;
      status.replaceChildren(
        'The call is over. ',
        h('a', { href: `#/call/${encodeURIComponent(instanceId.value)}` }, 'See it on the record'),
        '.',
      );
      input.disabled = true;
      send.disabled = true;
    } else status.textContent = 'Your turn.';
  };

  const listen = () => {
    const recognition = new Recognition();
    recognition.lang = navigator.language;
    recognition.onresult = (/** @type {any} */ event) => void turn(event.results[0][0].transcript);
    recognition.start();
  };

  const restart = () => {
    bargeIn();
    messages = [];
    sentenceId = 0;
    ended = false;
    instanceId.value = newId();
    transcript.replaceChildren();
    input.disabled = false;
    send.disabled = false;
    status.textContent = 'Say something to start the call.';
  };

  view.append(
    h('h1', {}, 'Playground'),
    h('p.muted', {}, 'Talk to an agent as the voice workflow would. These turns are recorded as synthetic "console" traffic.'),
    h(
      'div.card.row',
      {},
      h('label', { for: 'pg-agent' }, 'Agent', agent),
      h('label', { for: 'pg-instance' }, 'instanceId', instanceId),
      h('label', { for: 'pg-caller' }, 'callerNumber', caller),
      h('label', { for: 'pg-callee' }, 'calleeNumber', callee),
      h('label', { for: 'pg-userdata' }, 'userData (JSON)', userData),
      h('label', { for: 'pg-speak' }, 'Speak answers', speak),
      h('button.secondary', { type: 'button', onclick: restart }, 'New call'),
    ),
    h(
      'section.card',
      { 'aria-label': 'Conversation' },
      transcript,
      status,
      h(
        'form.row',
        {
          onsubmit: (/** @type {SubmitEvent} */ event) => {
            event.preventDefault();
            const words = input.value.trim();
            if (!words) return;
            input.value = '';
            void turn(words);
          },
        },
        input,
        send,
        barge,
        mic,
      ),
    ),
  );
  input.focus();
  return () => bargeIn();
}

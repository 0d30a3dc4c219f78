/**
 * Tags the voice workflow reads and the caller never hears: IMS commands (`<imsagent_hangup
 * .../>`), `<No Interrupting>` (the answer cannot be interrupted), Vapi's `<flush />`, and
 * `{{emotion=happy}}` for emotion-capable TTS. They pass byte for byte, never shaped.
 */

import { NEED_MORE, startsWithAt } from './scan.ts';

const IMS_PREFIX = '<imsagent_';
/** An `<imsagent_` with no `>` this far on is not a command after all: released as text. */
const IMS_LIMIT = 512;
const FIXED_TAGS = ['<No Interrupting>', '<flush />', '<flush/>'];
const DIRECTIVE_LIMIT = 64;
const DIRECTIVE = /^\{\{[A-Za-z_][\w-]*=[^{}\n]*\}\}$/;

/** At a `<`: the end of a workflow tag, 0 when it is not one. */
export function controlTagEnd(buf: string, pos: number, final: boolean): number {
  let pending = false;
  for (const tag of FIXED_TAGS) {
    const match = startsWithAt(buf, pos, tag, final);
    if (match === true) return pos + tag.length;
    if (match === NEED_MORE) pending = true;
  }
  const ims = startsWithAt(buf, pos, IMS_PREFIX, final);
  if (ims === true) {
    const close = buf.slice(pos, pos + IMS_LIMIT).indexOf('>');
    if (close >= 0) return pos + close + 1;
    return buf.length - pos < IMS_LIMIT && !final ? NEED_MORE : 0;
  }
  return pending || ims === NEED_MORE ? NEED_MORE : 0;
}

/** At a `{`: the end of a `{{name=value}}` directive, 0 when it is not one. */
export function directiveEnd(buf: string, pos: number, final: boolean): number {
  const close = buf.slice(pos, pos + DIRECTIVE_LIMIT).indexOf('}}');
  if (close < 0) {
    const open = buf.slice(pos, pos + DIRECTIVE_LIMIT);
    const partial = /^\{(?:\{(?:[A-Za-z_][\w-]*(?:=[^{}\n]*)?)?)?\}?$/.test(open);
    return partial && open.length < DIRECTIVE_LIMIT && !final ? NEED_MORE : 0;
  }
  return DIRECTIVE.test(buf.slice(pos, pos + close + 2)) ? pos + close + 2 : 0;
}

import type { CallMetadata } from '../../protocol/extend-data.ts';
import type { CallerLanguage } from '../language/caller-language.ts';

/** What a system prompt template can name: the call's data, the URL query, the time. */
export interface TemplateView {
  callerNumber: string;
  calleeNumber: string;
  instanceId: string;
  channelId: string;
  sentenceId: string;
  /** The parsed userData object ({} when absent or not a JSON object). */
  userData: Record<string, unknown>;
  /** userData exactly as the workflow sent it. */
  userDataRaw: string;
  query: Record<string, string>;
  now: string;
  [name: string]: unknown;
}

/** The variables every call's view has (declared `variables` add more). */
export const TEMPLATE_VARIABLES = [
  'callerNumber',
  'calleeNumber',
  'instanceId',
  'channelId',
  'sentenceId',
  'userData',
  'userDataRaw',
  'query',
  'now',
] as const satisfies ReadonlyArray<keyof TemplateView>;

/**
 * The variables for one turn. Declared defaults (`variables`, dotted keys allowed, e.g.
 * `userData.name: "there"`) fill in what the call does not provide; a variable with neither
 * renders empty.
 */
export function buildTemplateView(
  call: CallMetadata,
  query: Record<string, string>,
  defaults: Readonly<Record<string, string>>,
  timezone: string,
  language: CallerLanguage,
  at: Date = new Date(),
): TemplateView {
  const view: TemplateView = {
    callerNumber: call.callerNumber ?? '',
    calleeNumber: call.calleeNumber ?? '',
    instanceId: call.instanceId ?? '',
    channelId: call.channelId ?? '',
    sentenceId: call.sentenceId === undefined ? '' : String(call.sentenceId),
    userData: isPlainObject(call.userData) ? call.userData : {},
    userDataRaw: call.userDataRaw ?? '',
    query,
    now: formatNow(at, timezone, language),
  };
  const copies = new Set<object>();
  for (const [path, value] of Object.entries(defaults)) applyDefault(view, path.split('.'), value, copies);
  return view;
}

/** Sets a default at `path`; `copies` are the objects already copied for this view (each is copied once, not per default). */
function applyDefault(target: Record<string, unknown>, path: string[], value: string, copies: Set<object>): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const current = target[head];
  if (rest.length === 0) {
    if (current === undefined || current === null || current === '') target[head] = value;
    return;
  }
  if (!isPlainObject(current)) {
    if (current !== undefined && current !== '' && current !== null) return; // a scalar the call set wins
    target[head] = ownObject({}, copies);
  } else if (!copies.has(current)) {
    target[head] = ownObject({ ...current }, copies); // never mutate the call's parsed userData
  }
  applyDefault(target[head] as Record<string, unknown>, rest, value, copies);
}

function ownObject(object: Record<string, unknown>, copies: Set<object>): Record<string, unknown> {
  copies.add(object);
  return object;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The time in the agent's zone, 24-hour clock, unambiguous for a model: English
 * "2026-11-25 21:05, Wednesday (Asia/Shanghai)", Chinese "2026年11月25日 星期三 21:05（Asia/Shanghai）".
 */
export function formatNow(at: Date, timezone: string, language: CallerLanguage = 'en'): string {
  const zh = language === 'zh';
  const parts = new Intl.DateTimeFormat(zh ? 'zh-CN' : 'en-US', {
    timeZone: timezone,
    year: 'numeric',
    month: zh ? 'numeric' : '2-digit',
    day: zh ? 'numeric' : '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    weekday: 'long',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const time = `${get('hour')}:${get('minute')}`;
  return zh
    ? `${get('year')}年${get('month')}月${get('day')}日 ${get('weekday')} ${time}（${timezone}）`
    : `${get('year')}-${get('month')}-${get('day')} ${time}, ${get('weekday')} (${timezone})`;
}

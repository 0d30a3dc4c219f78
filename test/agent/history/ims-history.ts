/** Realistic IMS-shaped histories for the history-hygiene tests. */

import type { ChatMessage, ContentPart, ImageContentPart } from '../../../src/core/chat-types.ts';

/** The most records the IMS workflow keeps in `messages`. */
export const IMS_WINDOW = 20;

/** A broadband-repair call, question and answer pairs, oldest first. */
export const CALL_SCRIPT: ReadonlyArray<readonly [user: string, assistant: string]> = [
  ['喂，你好，我家的宽带从昨天晚上开始就上不了网了。', '您好，很抱歉给您带来不便。请问您的宽带账号或者安装地址是多少？'],
  ['账号是零二一八八六五四三二一。', '好的，我查到了，您的地址是浦东新区张江路一百号三楼，对吗？'],
  ['对的。', '我看到您所在的小区昨天晚上有线路检修，可能影响到了您的网络。'],
  ['那什么时候能修好？', '检修计划在今天下午五点前完成，完成后网络会自动恢复。'],
  ['可是我今天在家办公，很着急。', '理解您的心情。我可以先为您申请一个临时的手机流量包，您看可以吗？'],
  ['流量包要钱吗？', '不收费，这是给受影响用户的补偿，有二十个G，七天内有效。'],
  ['好的，那帮我开通吧。', '已经为您开通了，稍后您会收到一条确认短信。'],
  ['收到了，谢谢。', '不客气。另外，光猫上的灯现在是什么状态？'],
  ['有一个红灯在闪。', '红灯闪烁说明光信号中断，和线路检修的情况一致，请不要重置光猫。'],
  ['明白了，那我等着吧。', '好的，如果五点以后还没有恢复，您可以再打这个电话，我们会安排师傅上门。'],
  ['师傅上门要另外收费吗？', '因为是线路原因造成的故障，上门维修是免费的。'],
  ['好的。我还想问一下套餐的事。', '可以的，请问您想了解哪方面呢？'],
  ['我现在是三百兆的，能升到一千兆吗？', '可以的，您的小区已经支持千兆宽带，升级后每月多付三十元。'],
  ['要换光猫吗？', '需要更换一台支持千兆的光猫，设备免费，师傅上门时一起换。'],
  ['那等网络修好以后再说吧。', '好的，我给您做个备注，下次来电时同事可以直接为您办理。'],
  ['行，就这样。', '好的，感谢您的耐心，祝您生活愉快，再见。'],
];

/** The call as alternating user/assistant messages (the gateway's transcript shape). */
export function scriptMessages(pairs: ReadonlyArray<readonly [string, string]> = CALL_SCRIPT): ChatMessage[] {
  return pairs.flatMap(([user, assistant]): ChatMessage[] => [
    { role: 'user', content: user },
    { role: 'assistant', content: assistant },
  ]);
}

/** What the workflow sends: the newest `IMS_WINDOW` records of the history plus the new utterance. */
export function imsWindow(history: readonly ChatMessage[], newest: ChatMessage): ChatMessage[] {
  return [...history, newest].slice(-IMS_WINDOW);
}

/** One camera frame as the MLLM node sends it: a JPEG data URL (distinct per index). */
export function frame(index: number): ImageContentPart {
  const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from(`JFIF frame ${index} `.repeat(8))]);
  return { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${bytes.toString('base64')}` } };
}

/** A multimodal user turn: the question as text, then `count` frames, oldest first. */
export function multimodalTurn(text: string, count = 15, firstFrame = 0): ChatMessage {
  const parts: ContentPart[] = [{ type: 'text', text }];
  for (let i = 0; i < count; i++) parts.push(frame(firstFrame + i));
  return { role: 'user', content: parts };
}

/** The image URLs of a message, in order. */
export function imageUrls(message: ChatMessage): string[] {
  if (!Array.isArray(message.content)) return [];
  return message.content.flatMap((part) => (part.type === 'image_url' ? [(part as ImageContentPart).image_url.url] : []));
}

/** Freezes `value` and everything it holds, so a function that mutates its input throws. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

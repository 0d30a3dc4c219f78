/** An IMS command tag read back: what it asks for and its attributes (entities decoded). */
export interface ParsedCommand {
  kind: 'hangup' | 'transfer' | 'other';
  attributes: Readonly<Record<string, string>>;
}

const TAG_NAME = /^<\s*(\/?)\s*([^\s/>]*)/;
const ATTRIBUTE = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>/]+))/g;
const ENTITY = /&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-f]{1,6});/gi;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Reads a command as CommandScanner found it (from its `<`). Closing tags and unknown names are `other`. */
export function parseCommand(raw: string): ParsedCommand {
  const tag = TAG_NAME.exec(raw);
  const name = tag?.[1] === '' ? tag[2]!.toLowerCase() : '';
  const kind = name === 'imsagent_hangup' ? 'hangup' : name === 'imsagent_transfer_call' ? 'transfer' : 'other';
  const attributes: Record<string, string> = {};
  for (const match of raw.slice(tag?.[0].length ?? 0).matchAll(ATTRIBUTE)) {
    const key = match[1]!.toLowerCase();
    if (!(key in attributes)) attributes[key] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return { kind, attributes };
}

function decodeEntities(value: string): string {
  return value.replace(ENTITY, (whole, entity: string) => {
    const lower = entity.toLowerCase();
    if (!lower.startsWith('#')) return NAMED[lower] ?? whole;
    const code = lower.startsWith('#x') ? Number.parseInt(lower.slice(2), 16) : Number.parseInt(lower.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

import type { TransferDestination } from '../../config/schema.ts';

/**
 * The IMS workflow's text commands, embedded in the streamed content. They work with any model
 * and need no FunctionMap. Attribute values are XML-escaped so a quote in a message cannot break
 * the command.
 */

export function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}

const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Speaks `endword`, then hangs up. */
export function hangupCommand(endword: string): string {
  return `<imsagent_hangup endword="${escapeAttribute(endword)}"/>`;
}

/** Transfers the call to a human: `msg` is spoken when the transfer starts, `err_msg` if it fails. */
export function transferCommand(destination: TransferDestination): string {
  const attributes = [
    ['caller', destination.caller],
    ['callee', destination.callee],
    ['msg', destination.msg],
    ['err_msg', destination.errMsg],
  ]
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}="${escapeAttribute(value)}"`)
    .join(' ');
  return `<imsagent_transfer_call ${attributes}/>`;
}

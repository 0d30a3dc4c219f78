import type { CallMetadata } from '../protocol/extend-data.ts';

/**
 * Which call a turn belongs to: the API key it came with and its `instanceId` (else `channelId`).
 * The key is part of the identity so that one tenant, naming another's instanceId, reaches a call
 * of its own and never the other's live turn, sentence order or memory. `keyId` is the id of the
 * configured key (`key-1`, ...), never the key. Undefined for a request that names no call.
 *
 * The parts are joined with a line break, which the edge refuses in ids (and `keyId` never holds):
 * no two different (key, kind, id) triples give the same identity.
 */
export function callIdentity(keyId: string, call: Pick<CallMetadata, 'instanceId' | 'channelId'>): string | undefined {
  if (call.instanceId !== undefined && call.instanceId !== '') return `${keyId}\ninstance\n${call.instanceId}`;
  if (call.channelId !== undefined && call.channelId !== '') return `${keyId}\nchannel\n${call.channelId}`;
  return undefined;
}

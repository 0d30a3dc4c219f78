import type { AdmitKeys } from './admission-scripts.ts';
import type { CallKeys } from './call-scripts.ts';

/**
 * The names of the shared state in Redis, all under `state.keyPrefix`. A call's keys hold its
 * identity (callIdentity: the configured key's id, `key-1`..., never the key, then instanceId or
 * channelId) with its line breaks as colons; the id is last and the parts before it hold no
 * colon, so two calls never share a name. The call's two keys share a hash tag ({…}), so a Redis
 * Cluster keeps them on one node, as the scripts need.
 */
export class StateKeys {
  readonly #prefix: string;
  readonly cancelChannel: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
    this.cancelChannel = `${prefix}cancel`;
  }

  call(callId: string): CallKeys {
    const tag = `{${callId.replaceAll('\n', ':')}}`;
    return { call: `${this.#prefix}call:${tag}`, memory: `${this.#prefix}memory:${tag}` };
  }

  admission(keyId: string): AdmitKeys {
    return { rate: `${this.#prefix}rpm:{${keyId}}`, streams: `${this.#prefix}streams:{${keyId}}` };
  }
}

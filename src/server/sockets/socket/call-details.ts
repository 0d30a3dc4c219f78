import { extendDataSchema, type ExtendDataInput } from '../../../protocol/extend-data.ts';
import type { SocketCall } from './socket-turn.ts';

/**
 * The call with the details the platform sent (numbers, its data), when they are valid as
 * `extendData`; else the call as it was: a detail no turn could be run with is not taken.
 */
export function withCallDetails(call: SocketCall, data: ExtendDataInput): SocketCall {
  return extendDataSchema.safeParse(data).success ? { ...call, data } : call;
}

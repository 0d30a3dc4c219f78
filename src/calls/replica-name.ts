import { hostname } from 'node:os';

/** Which replica answered: on every chat response, so that a turn behind a balancer can be traced to a process. */
export const REPLICA_HEADER = 'x-vlg-replica';

/** `<host>:<pid>`: the same name starts this replica's owner id in Redis (docs/shared-state.md). */
export const REPLICA_NAME = `${hostname()}:${process.pid}`;

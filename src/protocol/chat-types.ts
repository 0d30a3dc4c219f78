// Temporary: the chat types moved to src/core/chat-types.ts. This re-export serves the files being
// reworked on other branches (src/calls/); remove it once they import src/core/ directly.
export * from '../core/chat-types.ts';

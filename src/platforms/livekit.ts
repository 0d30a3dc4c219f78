import { createHash } from 'node:crypto';
import { appFramework } from './app-framework.ts';

/**
 * LiveKit Agents (`openai.LLM(base_url=…)`). Its plugin retries a failed or slow request up to
 * three times with the identical body: identical requests of one call are one turn, answered once.
 */
export const liveKitPlatform = appFramework('livekit', ({ headers, body }) =>
  createHash('sha256')
    .update(String(headers['x-call-id'] ?? ''))
    .update('\n')
    .update(JSON.stringify(body))
    .digest('base64url'),
);

import type { IncomingHttpHeaders } from 'node:http';
import { isRecord } from './call-data.ts';
import { imsPlatform } from './ims.ts';
import type { PlatformAdapter, PlatformRequest } from './platform-adapter.ts';
import { vapiPlatform } from './vapi.ts';
import { elevenLabsPlatform } from './elevenlabs.ts';
import { trtcPlatform } from './trtc.ts';
import { volcenginePlatform } from './volcengine.ts';
import { agoraPlatform } from './agora.ts';
import { liveKitPlatform } from './livekit.ts';
import { pipecatPlatform } from './pipecat.ts';

/** Every HTTP platform; IMS, the default, first. */
export const PLATFORMS: readonly PlatformAdapter[] = [
  imsPlatform,
  vapiPlatform,
  elevenLabsPlatform,
  trtcPlatform,
  volcenginePlatform,
  agoraPlatform,
  liveKitPlatform,
  pipecatPlatform,
];

/**
 * The platform of a request on the shared routes: the one whose detect() recognises it (only
 * where a request is unmistakable: a Vapi body, TRTC's or Agora's own headers), else IMS.
 */
export function detectPlatform(request: PlatformRequest): PlatformAdapter {
  return PLATFORMS.find((platform) => platform.detect?.(request)) ?? imsPlatform;
}

/** The URLs a platform's own routes serve (under its prefix). */
export function platformPaths(platform: PlatformAdapter): string[] {
  if (platform.prefix === undefined) return [];
  const paths = [`${platform.prefix}/chat/completions`, `${platform.prefix}/v1/chat/completions`];
  return platform.acceptsDoubledPath ? [...paths, ...paths.map((path) => `${path}/chat/completions`)] : paths;
}

/** Paths that hold /chat/completions twice: served only for a platform that accepts them. */
export const DOUBLED_PATHS = ['/chat/completions/chat/completions', '/v1/chat/completions/chat/completions'];

/** What an adapter reads of a request (a body that is not an object is left to the parser to refuse). */
export function platformRequest(request: { headers: IncomingHttpHeaders; body: unknown }): PlatformRequest {
  return { headers: request.headers, body: isRecord(request.body) ? request.body : {} };
}

/** The request body in the gateway's form; a body that is not a JSON object goes on as it is, to be refused. */
export function platformBody(platform: PlatformAdapter, request: { headers: IncomingHttpHeaders; body: unknown }): unknown {
  return isRecord(request.body) ? platform.toChatBody({ headers: request.headers, body: request.body }) : request.body;
}

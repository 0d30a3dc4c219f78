import type { GatewayConfig } from './schema.ts';

/** Shorter than this, a key can be guessed: worth a warning (not an error: test rigs use short ones). */
export const MIN_KEY_LENGTH = 16;

/**
 * What is legal but probably a mistake in a valid config: a key short enough to guess, a platform
 * socket anyone may open. Each line names the place and the fix, never the key.
 */
export function configWarnings(config: GatewayConfig): string[] {
  const warnings: string[] = [];
  const check = (path: string, key: string | undefined) => {
    if (key === undefined || key.trim() === '' || key.trim().length >= MIN_KEY_LENGTH) return;
    warnings.push(
      `${path}: a key of ${key.trim().length} characters can be guessed; use at least ${MIN_KEY_LENGTH} random characters (e.g. the output of \`openssl rand -hex 24\`)`,
    );
  };
  config.server.apiKeys.forEach((key, i) => check(`server.apiKeys[${i}]`, key));
  config.admin.apiKeys.forEach((key, i) => check(`admin.apiKeys[${i}]`, key));
  check('metrics.apiKey', config.metrics.apiKey);
  check('privacy.lookupKey', config.privacy.lookupKey);
  check('platforms.retell.secret', config.platforms.retell?.secret);
  if (config.platforms.twilio && config.platforms.twilio.authToken === undefined) {
    warnings.push(
      "platforms.twilio: no authToken, so anyone who finds the address can open a call; set it to the account's Auth Token to check X-Twilio-Signature",
    );
  }
  return warnings;
}

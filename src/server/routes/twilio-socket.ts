import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TwilioPlatformConfig } from '../../config/schema.ts';
import { header } from '../../platforms/call-data.ts';
import { SYNTHETIC_HEADER, syntheticMarker } from '../../protocol/synthetic-traffic.ts';
import { jsonSender, onTextFrames } from '../sockets/socket/json-socket.ts';
import type { TwilioReply } from '../sockets/twilio/twilio-messages.ts';
import { TwilioSession } from '../sockets/twilio/twilio-session.ts';
import { validTwilioSignature } from '../sockets/twilio/twilio-signature.ts';
import type { SocketRouteDeps } from './retell-socket.ts';
import { socketRefusal } from './socket-refusal.ts';

/** The identity Twilio's calls are scoped by (in place of an API key id). */
const TWILIO_KEY_ID = 'twilio';

/**
 * `GET /twilio` upgraded to Twilio ConversationRelay's WebSocket (the `url` of <ConversationRelay>).
 * With `authToken` set, the handshake's X-Twilio-Signature must sign the URL Twilio requested
 * (`publicUrl` and the query string, else built from the Host header): a mismatch gets a 401 and
 * no socket.
 */
export function registerTwilioSocket(
  app: FastifyInstance,
  deps: SocketRouteDeps & { maxHistoryBytes: number },
  config: TwilioPlatformConfig,
): void {
  const { authToken } = config;
  app.get(
    '/twilio',
    {
      websocket: true,
      preValidation: async (request) => {
        if (
          authToken === undefined ||
          validTwilioSignature(authToken, signedUrl(request, config.publicUrl), header(request.headers, 'x-twilio-signature'))
        )
          return;
        throw socketRefusal(
          deps.refusals,
          { reason: 'bad_signature', platform: 'twilio' },
          {
            address: request.ip,
            hint: "a Twilio socket whose X-Twilio-Signature does not match: platforms.twilio.authToken must be the account's Auth Token, and platforms.twilio.publicUrl the url of <ConversationRelay>",
          },
        );
      },
    },
    (socket, request) => {
      const session = new TwilioSession(deps.services, {
        call: {
          platform: 'twilio',
          keyId: TWILIO_KEY_ID,
          agentId: deps.agentId,
          data: {},
          synthetic: syntheticMarker(request.headers[SYNTHETIC_HEADER]),
        },
        maxHistoryBytes: deps.maxHistoryBytes,
        send: jsonSender<TwilioReply>(socket),
        languages: config.languageSwitch ? config.languages : undefined,
        onError: (description) =>
          deps.services.logger.warn(
            { platform: 'twilio', error: description.slice(0, 500) },
            'Twilio reported an error in a message the gateway sent',
          ),
      });
      onTextFrames(
        socket,
        (frame) => session.receive(frame),
        () => session.close(),
      );
    },
  );
}

/** The URL Twilio signed: the configured public URL with the request's query string, else wss:// + Host + path. */
function signedUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const query = request.url.indexOf('?');
  if (publicUrl !== undefined) return query < 0 ? publicUrl : publicUrl + request.url.slice(query);
  return `wss://${request.headers.host ?? ''}${request.url}`;
}

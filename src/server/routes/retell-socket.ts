import type { FastifyInstance } from 'fastify';
import { callIdentity } from '../../calls/call-identity.ts';
import type { RetellPlatformConfig } from '../../config/schema.ts';
import { gatewayError } from '../../core/error-catalog.ts';
import { extendDataSchema } from '../../protocol/extend-data.ts';
import { SYNTHETIC_HEADER, syntheticMarker } from '../../protocol/synthetic-traffic.ts';
import type { RetellReply } from '../sockets/retell/retell-messages.ts';
import { RetellSession } from '../sockets/retell/retell-session.ts';
import { jsonSender, onTextFrames } from '../sockets/socket/json-socket.ts';
import { addressAllowlist } from '../address-allowlist.ts';
import type { TurnServices } from '../platform-turn.ts';
import type { RefusalLog } from '../refusal-log.ts';
import { SecretSet } from '../bearer-auth.ts';
import { socketRefusal } from './socket-refusal.ts';

/** The identity Retell's calls are scoped by (in place of an API key id). */
const RETELL_KEY_ID = 'retell';

export interface SocketRouteDeps {
  services: TurnServices;
  refusals: RefusalLog | undefined;
  /** The agent that answers the platform's calls. */
  agentId: string;
}

/**
 * `GET /retell/{secret}/{call_id}` upgraded to Retell's custom LLM WebSocket: Retell dials the
 * configured URL (`wss://host/retell/{secret}`) with the call id appended. Retell sends no
 * credential, so the secret in the path (compared in constant time) and the optional source
 * address allowlist are checked before the upgrade: a wrong one gets a 401 or 403 and no socket.
 */
export function registerRetellSocket(app: FastifyInstance, deps: SocketRouteDeps, config: RetellPlatformConfig): void {
  const allowed = addressAllowlist(config.allowFrom);
  const secret = new SecretSet([config.secret]);
  app.get<{ Params: { secret: string; callId: string } }>(
    '/retell/:secret/:callId',
    {
      websocket: true,
      preValidation: async (request) => {
        const address = request.ip;
        if (!allowed(address)) {
          throw socketRefusal(
            deps.refusals,
            { reason: 'address_not_allowed', platform: 'retell' },
            {
              address,
              hint: "a Retell socket from an address not in platforms.retell.allowFrom: add Retell's addresses, or empty the list",
            },
          );
        }
        if (secret.indexOf(request.params.secret) < 0) {
          throw socketRefusal(
            deps.refusals,
            { reason: 'wrong_platform_secret', platform: 'retell' },
            {
              address,
              hint: "a Retell socket with the wrong secret in its path: Retell's LLM WebSocket URL must be wss://<host>/retell/<platforms.retell.secret>",
            },
          );
        }
        const callId = extendDataSchema.shape.instanceId.safeParse(request.params.callId);
        if (!callId.success) {
          throw gatewayError('invalid_call_id');
        }
      },
    },
    (socket, request) => {
      const { callId } = request.params;
      const session = new RetellSession(deps.services, {
        call: {
          platform: 'retell',
          keyId: RETELL_KEY_ID,
          agentId: deps.agentId,
          data: { instanceId: callId },
          synthetic: syntheticMarker(request.headers[SYNTHETIC_HEADER]),
        },
        greeting: config.greeting,
        send: jsonSender<RetellReply>(socket),
      });
      onTextFrames(
        socket,
        (frame) => session.receive(frame),
        () => session.close(),
      );
      // A call the gateway already holds is Retell reconnecting: its greeting was said.
      const known = callIdentity(RETELL_KEY_ID, { instanceId: callId });
      session.open(known === undefined || !deps.services.calls.holds(known));
    },
  );
}

import type { HttpToolConfig, TransferConfig } from '../../config/schema.ts';
import type { PartStream, PartTransform, StreamPart } from '../../core/stream-part.ts';
import { chooseDestination, parseArguments } from '../call-control/call-functions.ts';
import { keyPressDrop, requestedDigits, writtenKeys, type KeyPressDropEvent } from '../call-control/press-digits.ts';
import { PhraseJoiner } from '../../text/phrase-joiner.ts';
import type { ToolRoute, ToolRouter } from '../tool-router.ts';

/** A call of one of the agent's HTTP tools, complete with its arguments. */
export interface ServerToolCall {
  callId: string;
  tool: HttpToolConfig;
  argumentsJson: string;
}

interface HeldCall {
  route: ToolRoute;
  argumentsJson: string;
}

export interface ToolRoutingOptions {
  router: ToolRouter;
  transfer: TransferConfig | undefined;
  onServerCall: (call: ServerToolCall) => void;
  /** Shared across a turn's rounds: a `say` phrase and the next round's answer are joined. */
  joiner?: PhraseJoiner | undefined;
  /** A call of the keypad function whose keys are not keys (or too many): nothing is pressed. */
  onKeyPressDropped?: ((event: KeyPressDropEvent) => void) | undefined;
}

/** The tool routing of a round. */
export function routeTools(options: ToolRoutingOptions): PartTransform {
  return (parts) =>
    routeToolCalls(parts, options.router, options.transfer, options.onServerCall, options.joiner, options.onKeyPressDropped);
}

/**
 * Takes the gateway's own functions out of the model's stream: end-call and transfer become
 * `end-call` / `transfer` parts, a keypad call with valid keys a `digits` part; HTTP tool calls
 * go to `onServerCall` the moment their arguments are complete (their `say` phrase is spoken at
 * once, when the call starts). The client's own tool calls pass through untouched, so only they
 * and the call signals ever reach the workflow. A `say` phrase is joined to the text around it by `joiner`, which a turn shares across its
 * rounds (the answer after the phrase comes in the next round). A keypad call with invalid keys is
 * told to `onKeyPressDropped`.
 */
export async function* routeToolCalls(
  parts: PartStream,
  router: ToolRouter,
  transfer: TransferConfig | undefined,
  onServerCall: (call: ServerToolCall) => void,
  joiner: PhraseJoiner = new PhraseJoiner(),
  onKeyPressDropped?: (event: KeyPressDropEvent) => void,
): PartStream {
  const held = new Map<string, HeldCall>();
  let relayedCalls = 0;
  for await (const part of parts) {
    switch (part.type) {
      case 'tool-call-start': {
        const route = router.route(part.name);
        if (!route) {
          relayedCalls++;
          yield part;
          break;
        }
        held.set(part.callId, { route, argumentsJson: '' });
        if (route.kind === 'server' && route.tool.say) yield { type: 'text', text: joiner.phrase(route.tool.say) };
        break;
      }
      case 'text':
        yield joiner.part(part);
        break;
      case 'tool-call-delta': {
        const call = held.get(part.callId);
        if (call) call.argumentsJson += part.argumentsDelta;
        else yield part;
        break;
      }
      case 'tool-call-end': {
        const call = held.get(part.callId);
        if (!call) {
          yield part;
          break;
        }
        held.delete(part.callId);
        yield* finishHeldCall(part.callId, call, transfer, onServerCall, onKeyPressDropped);
        break;
      }
      case 'finish':
        // The model "stopped to call tools", but only the gateway's: for the client it is a plain stop.
        yield part.reason === 'tool_calls' && relayedCalls === 0 ? { type: 'finish', reason: 'stop' } : part;
        break;
      default:
        yield part;
    }
  }
}

function* finishHeldCall(
  callId: string,
  call: HeldCall,
  transfer: TransferConfig | undefined,
  onServerCall: (call: ServerToolCall) => void,
  onKeyPressDropped: ((event: KeyPressDropEvent) => void) | undefined,
): Generator<StreamPart> {
  const { route, argumentsJson } = call;
  if (route.kind === 'end-call') {
    const farewell = parseArguments(argumentsJson).farewell;
    yield typeof farewell === 'string' && farewell.trim() !== '' ? { type: 'end-call', farewell: farewell.trim() } : { type: 'end-call' };
  } else if (route.kind === 'transfer' && transfer) {
    yield { type: 'transfer', destination: chooseDestination(transfer, argumentsJson) };
  } else if (route.kind === 'digits') {
    const digits = requestedDigits(argumentsJson, route.config);
    if (digits !== undefined) yield { type: 'digits', digits };
    else onKeyPressDropped?.(keyPressDrop('invalid_keys', writtenKeys(argumentsJson)));
  } else if (route.kind === 'server') {
    onServerCall({ callId, tool: route.tool, argumentsJson });
  }
}

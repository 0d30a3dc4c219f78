import { cancellation } from '../../../calls/cancellation.ts';
import type { AgentConfig } from '../../../config/schema.ts';
import type { ChatMessage } from '../../../core/chat-types.ts';
import { toClientError } from '../../client-errors.ts';
import type { TurnServices } from '../../platform-turn.ts';
import { runSocketTurn, socketApology, type SocketCall, type SocketTurnResult } from './socket-turn.ts';

/** How a socket platform is sent one answer. */
export interface AnswerSink {
  /** A piece of the answer. */
  text(text: string): void;
  /** The answer is complete (with the call's end or transfer, if the agent decided one). */
  done(result: SocketTurnResult): void;
  /** The turn failed before a word: the whole answer is this apology. */
  apologize(text: string): void;
}

/**
 * The socket's call and its one turn at a time: a new turn supersedes the one still answering
 * (its upstream is aborted at once, and nothing more of it is sent), the socket closing stops it.
 */
export class SocketCallTurns {
  private current: AbortController | undefined;
  private readonly services: TurnServices;
  /** Replaced when the platform sends the call's details. */
  call: SocketCall;

  constructor(services: TurnServices, call: SocketCall) {
    this.services = services;
    this.call = call;
  }

  /** Answers the conversation; resolves once the answer was sent (or superseded). Never throws. */
  async answer(messages: ChatMessage[], sink: AnswerSink, sentenceId?: number): Promise<SocketTurnResult | undefined> {
    this.current?.abort(cancellation('superseded'));
    const controller = new AbortController();
    this.current = controller;
    const live = () => this.current === controller && !controller.signal.aborted;
    try {
      const result = await runSocketTurn(this.services, this.call, {
        messages,
        sentenceId,
        controller,
        onText: (text) => {
          if (live()) sink.text(text);
        },
      });
      if (live()) sink.done(result);
      return result;
    } catch (error) {
      if (!live()) return undefined;
      const failure = toClientError(error);
      this.services.logger.warn(
        { platform: this.call.platform, instanceId: this.call.data.instanceId, errorCode: failure.code, error: failure.message },
        'a socket turn failed before a word; the caller heard an apology',
      );
      sink.apologize(socketApology(this.agentConfig(), messages));
      return undefined;
    } finally {
      if (this.current === controller) this.current = undefined;
    }
  }

  /** Stops the turn still answering (the caller spoke over it, or the socket closed). */
  stop(reason: unknown): void {
    this.current?.abort(reason);
    this.current = undefined;
  }

  /** Whether a turn is still answering. */
  get answering(): boolean {
    return this.current !== undefined;
  }

  agentConfig(): AgentConfig | undefined {
    try {
      return this.services.agents.resolve(this.call.agentId).config;
    } catch {
      return undefined;
    }
  }
}

/**
 * One Codex WebSocket connection carries many model turns (a `response.create` from the client, the
 * Responses stream events back). Each turn becomes an exchange of its own for capture and the end hooks
 * (so sessions, turns, tokens and cost are per turn, as over HTTP), while the connection itself stays
 * one exchange holding the full transcript. Warm-up requests (`generate: false`) are not model turns.
 * @module
 */
import type { ExchangeTap } from "../capture/sink.ts";
import type { Exchange, WsMessage } from "../core/exchange.ts";
import { newId } from "../core/ids.ts";
import { endExchange } from "./end_exchange.ts";
import type { CaptureSink } from "../capture/sink.ts";
import type { PolicyChain } from "../policies/chain.ts";
import type { ResponsesWsSession, WsTurn } from "../providers/mod.ts";

interface OpenTurn {
  exchange: Exchange;
  tap: ExchangeTap;
}

/** Splits a relayed connection's messages into per-turn exchanges. */
export function createWsTurnRecorder(
  connection: Exchange,
  options: {
    session: ResponsesWsSession;
    sink: CaptureSink;
    chain: PolicyChain;
    /** Told the deployment (the request's `model`) and the model each finished turn's response named. */
    learnModel?: (deployment: string | null, model: string) => void;
  },
) {
  let open: OpenTurn | null = null;

  const start = (at: number): OpenTurn => {
    const exchange: Exchange = {
      ...connection,
      id: newId(at),
      request: { ...connection.request, headers: { ...connection.request.headers } },
      timing: {
        start: at,
        upstreamConnected: connection.timing.upstreamConnected,
        firstByte: null,
        end: null,
      },
      decisions: [],
      wsMessages: [],
      errors: [],
      outcome: null,
    };
    open = { exchange, tap: options.sink.begin(exchange) };
    return open;
  };

  /** Records the turn; resolves once capture has it (durably, in strict mode). Never rejects. */
  const end = (turn: OpenTurn, done: WsTurn, outcome: Exchange["outcome"]): Promise<void> => {
    turn.exchange.outcome = outcome;
    turn.exchange.timing.end = Date.now();
    const isTurn = done.request?.prewarm !== true;
    const parsed = isTurn ? done.response : null;
    const capture = isTurn ? { request: done.request, response: done.response } : null;
    if (parsed?.model) options.learnModel?.(done.request?.model ?? null, parsed.model);
    open = null;
    return endExchange(turn.exchange, { chain: options.chain, tap: turn.tap, parsed, capture });
  };

  return {
    /** A client message as it was sent upstream (after policies). */
    client(message: WsMessage): void {
      if (typeof message.data !== "string") return;
      const request = options.session.client(message.data);
      const turn = open ?? (request ? start(message.at) : null);
      turn?.tap.wsMessage(message);
    },
    /**
     * A server message on its way to the client. When it ends a turn (`response.completed` and the other
     * final events), returns the promise that the turn's record is taken: strict durability relays the
     * message only once it resolves. Otherwise null.
     */
    server(message: WsMessage): Promise<void> | null {
      const turn = open ?? start(message.at);
      turn.exchange.timing.firstByte ??= message.at;
      turn.tap.wsMessage(message);
      const { completed } = options.session.server(message.data);
      if (!completed) return null;
      return end(turn, completed, completed.response.errors.length > 0 ? "upstream-error" : "complete");
    },
    /** The connection ended: a turn still open is recorded as cut short. */
    close(outcome: Exchange["outcome"]): void {
      const pending = options.session.close();
      if (open && pending) void end(open, pending, outcome === "complete" ? "upstream-error" : outcome);
    },
  };
}

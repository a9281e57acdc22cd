/**
 * One Codex WebSocket connection to the Responses API carries many turns: the client sends a
 * `response.create` message per turn (a warm-up with `generate: false` first), the server answers each with
 * the Responses stream events, ending in `response.completed` (or `.incomplete`, `.failed`, `error`). This
 * session splits the messages into turns, each with its parsed request and response, so that every turn is
 * recorded and priced on its own.
 * @module
 */
import { parseWsClientMessage } from "./request_parser.ts";
import { createResponseParser, type ResponseParserOptions } from "./response_parser.ts";
import type { ParsedRequest, ParsedResponse, ResponseParser, StreamEvent } from "./types.ts";

/** One finished turn of a WebSocket session. */
export interface WsTurn {
  /** The `response.create` that asked for it; null when the server answered without one being seen. */
  request: ParsedRequest | null;
  response: ParsedResponse;
}

/** Splits a Responses WebSocket connection into turns. */
export interface ResponsesWsSession {
  /** A client message; returns its parsed request when it is a `response.create`, else null. */
  client(message: string): ParsedRequest | null;
  /** A server message; returns its events and, when it ended a turn, that turn. */
  server(message: string | Uint8Array): { events: StreamEvent[]; completed: WsTurn | null };
  /** The connection closed; returns the turn in progress (partial), if any. */
  close(): WsTurn | null;
}

/**
 * Starts a session for a connection whose upgrade request had `headers` (they carry Codex's session ids).
 * @example
 * const session = createResponsesWsSession(upgradeHeaders);
 * session.client(frameFromCodex);
 * const { events, completed } = session.server(frameFromOpenAI); // completed: { request, response } or null
 */
export function createResponsesWsSession(
  headers: Record<string, string>,
  options: ResponseParserOptions = {},
): ResponsesWsSession {
  const waiting: { request: ParsedRequest; chars: number }[] = [];
  let parser: ResponseParser | null = null;
  let current: ParsedRequest | null = null;

  function startTurn(): ResponseParser {
    const next = waiting.shift();
    current = next?.request ?? null;
    parser = createResponseParser("openai.responses_ws", null, {
      ...options,
      requestChars: next?.chars ?? 0,
    });
    return parser;
  }

  function endTurn(): WsTurn | null {
    if (!parser) return null;
    const turn = { request: current, response: parser.finish() };
    parser = null;
    current = null;
    return turn;
  }

  return {
    client(message) {
      const request = parseWsClientMessage(message, headers);
      if (request) waiting.push({ request, chars: message.length });
      return request;
    },
    server(message) {
      const active = parser ?? startTurn();
      const events =
        active.pushMessage?.(typeof message === "string" ? message : new TextDecoder().decode(message)) ??
          [];
      const ended = events.some((event) => event.type === "stop" || event.type === "error");
      return { events, completed: ended ? endTurn() : null };
    },
    close() {
      return endTurn();
    },
  };
}

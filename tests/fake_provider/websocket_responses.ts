/**
 * The Responses API's WebSocket mode (`GET /v1/responses` upgrade), as Codex uses it: the client sends
 * `{"type":"response.create",…}` text frames (a prewarm with `generate:false`, then turns, possibly with
 * `previous_response_id`); each is answered, in order, with the stream events as text frames.
 * @module
 */
import type { FakeBehavior } from "./behavior.ts";
import {
  type ResponsesIds,
  type ResponsesRequest,
  responsesStreamEvents,
  responsesWsError,
} from "./openai_responses.ts";
import { pause } from "./sse.ts";

/** Callbacks the socket handler needs from the fake. */
export interface WsContext {
  behavior: () => FakeBehavior;
  ids: () => ResponsesIds;
  /** Called with every client frame as text (binary frames are decoded as UTF-8). */
  onMessage: (text: string) => void;
  /** Called with the server side of the socket, so the fake can close it on shutdown. */
  onSocket: (socket: WebSocket) => void;
}

/** Upgrades `req` and serves `response.create` frames until the client closes. */
export function serveResponsesWebSocket(req: Request, ctx: WsContext): Response {
  const { socket, response } = Deno.upgradeWebSocket(req);
  ctx.onSocket(socket);
  let queue: Promise<void> = Promise.resolve();
  const closed = new AbortController();
  socket.onclose = () => closed.abort();
  socket.onerror = () => closed.abort();
  socket.onmessage = (message) => {
    const text = typeof message.data === "string"
      ? message.data
      : new TextDecoder().decode(message.data as ArrayBuffer);
    ctx.onMessage(text);
    // Answer frames strictly in arrival order, as the real server does on one socket.
    queue = queue.then(() => answerFrame(socket, text, ctx, closed.signal));
  };
  return response;
}

async function answerFrame(
  socket: WebSocket,
  text: string,
  ctx: WsContext,
  signal: AbortSignal,
): Promise<void> {
  let frame: ResponsesRequest & { type?: string };
  try {
    frame = JSON.parse(text);
  } catch {
    send(socket, responsesWsError(400, `fake provider could not parse frame: ${text.slice(0, 80)}`));
    return;
  }
  if (frame.type !== "response.create") {
    send(
      socket,
      responsesWsError(400, `fake provider does not handle frame type ${JSON.stringify(frame.type)}`),
    );
    return;
  }
  const behavior = ctx.behavior();
  if (behavior.failStatus !== undefined) {
    send(socket, responsesWsError(behavior.failStatus, `fake provider fails with ${behavior.failStatus}`));
    return;
  }
  const events = responsesStreamEvents(frame, behavior, ctx.ids());
  for (let i = 0; i < events.length; i++) {
    if (behavior.closeAfterEvents !== undefined && i >= behavior.closeAfterEvents) {
      if (socket.readyState === WebSocket.OPEN) socket.close(1011, "fake provider cut the stream");
      return;
    }
    if (i > 0 && !(await pause(behavior.eventDelayMs, signal))) return;
    if (!send(socket, events[i].data)) return;
  }
}

function send(socket: WebSocket, payload: unknown): boolean {
  if (socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(payload));
  return true;
}

/**
 * WebSocket relay (Codex talks Responses over `wss://api.openai.com/v1/responses`). The upstream socket is
 * opened first with the client's handshake headers, so a refused upstream becomes a plain HTTP error the
 * client can fall back from (Codex retries over SSE on a non-101); then the client is upgraded with the
 * subprotocol the upstream chose. Every message is relayed as it comes and handed to capture. In strict
 * durability the server message that ends a model turn (`response.completed`, `.incomplete`, `.failed`,
 * `error`) reaches the client only once that turn's record is durable; messages after it wait behind it.
 * @module
 */
import type { Exchange, WsMessage } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import { detectApi } from "../providers/detect.ts";
import { providerErrorBody, providerErrorResponse } from "../providers/errors.ts";
import { jsonOf } from "./request_body.ts";
import { createWsTurnRecorder } from "./ws_turns.ts";
import { newExchange } from "./new_exchange.ts";
import { endExchange } from "./end_exchange.ts";
import type { ExchangeDeps, ExchangeTarget } from "./exchange_handler.ts";
import { learnAliasModel, modelAliasResolver } from "./model_alias_view.ts";
import { headerRecord } from "./headers.ts";
import { countDecisions, recordExchange } from "./exchange_metrics.ts";

/** Handshake headers that the WebSocket client sets itself and must not be copied. */
const HANDSHAKE_HEADERS = new Set([
  "host",
  "connection",
  "upgrade",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "proxy-authorization",
  "content-length",
]);

/** Options of {@link relayWebSocket}. */
export interface RelayWebSocketOptions {
  /** Called once when an upgraded session has ended (both sides closed), for drain's in-flight count. */
  onSessionEnd?: () => void;
}

/** Relays one WebSocket upgrade; answers with an HTTP error when the upstream refuses it. */
export async function relayWebSocket(
  req: Request,
  target: ExchangeTarget,
  deps: ExchangeDeps,
  options: RelayWebSocketOptions = {},
): Promise<Response> {
  // A request that only says `upgrade: websocket` cannot be upgraded: check it before opening the
  // upstream, or the client gets a 502 (upstream refused) or a 500 (Deno.upgradeWebSocket throws).
  const notUpgradable = upgradeProblem(req);
  if (notUpgradable) return new Response(`${notUpgradable}\n`, { status: 400 });
  const url = new URL(req.url);
  const path = url.pathname + url.search;
  // Read everything from the request before upgrading: afterwards its headers throw "Request closed".
  const requestHeaders = headerRecord(req.headers);
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim()).filter(
    Boolean,
  );
  const forward: Record<string, string> = {};
  for (const [name, value] of Object.entries(requestHeaders)) {
    if (!HANDSHAKE_HEADERS.has(name)) forward[name] = value;
  }
  forward["host"] = target.port === 443 ? target.host : `${target.host}:${target.port}`;

  const match = detectApi(target.host, req.method, path, true);
  const exchange = newExchange(target, {
    kind: "websocket",
    method: req.method,
    path,
    headers: requestHeaders,
  }, {
    deps,
    match,
    defaultOrigin: `https://${target.host}:${target.port}`,
  });
  const origin = exchange.target.upstreamOrigin;

  const chain = deps.chain();
  const resolveModel = modelAliasResolver(exchange, deps.modelAliases);
  const view = resolveModel({
    method: req.method,
    path,
    headers: requestHeaders,
    body: null,
    json: undefined,
  });
  const verdict = await chain.runRequest(exchange, view, () => view, req.signal);
  countDecisions(exchange, deps.metrics);
  if (verdict.kind === "block") {
    exchange.outcome = "blocked";
    exchange.timing.end = Date.now();
    const refusal = providerErrorResponse(
      exchange.provider,
      verdict.block.status,
      verdict.block.errorKind ?? "blocked",
      verdict.block.reason,
    );
    exchange.response = { status: refusal.status, headers: headerRecord(refusal.headers) };
    recordExchange(exchange, deps.metrics);
    return refusal;
  }

  const wsUrl = origin.replace(/^http/, "ws") + path;
  let upstream: WebSocket;
  try {
    upstream = await openUpstream(wsUrl, protocols, forward, deps.client.denoClient);
  } catch (error) {
    exchange.errors.push(`upstream websocket failed: ${(error as Error).message}`);
    exchange.outcome = "upstream-error";
    exchange.timing.end = Date.now();
    void deps.sink.begin(exchange).end(exchange, null);
    return providerErrorResponse(
      exchange.provider,
      502,
      "upstream_unavailable",
      `Recondo could not open a WebSocket to ${target.host}`,
    );
  }
  exchange.timing.upstreamConnected = Date.now();
  const { socket: client, response } = Deno.upgradeWebSocket(
    req,
    upstream.protocol ? { protocol: upstream.protocol } : {},
  );
  exchange.response = { status: 101, headers: headerRecord(response.headers) };
  const tap = deps.sink.begin(exchange);
  const session = match?.isModelTurn ? deps.parsers?.createWsSession?.(requestHeaders) ?? null : null;
  const turns = session
    ? createWsTurnRecorder(exchange, {
      session,
      sink: deps.sink,
      chain,
      learnModel: (deployment, model) =>
        learnAliasModel(exchange, {
          aliases: deps.modelAliases,
          requestJson: deployment ? { model: deployment } : undefined,
          model,
        }),
    })
    : null;
  client.binaryType = "arraybuffer";
  upstream.binaryType = "arraybuffer";

  const strict = deps.limits().strict;
  const pending: (string | ArrayBuffer)[] = [];
  /** Returns, for a server message that ended a turn, the promise that its record is taken. */
  const note = (from: WsMessage["from"], data: string | ArrayBuffer): Promise<void> | null => {
    const message: WsMessage = {
      from,
      at: Date.now(),
      data: typeof data === "string" ? data : new Uint8Array(data),
    };
    exchange.timing.firstByte ??= from === "server" ? message.at : null;
    tap.wsMessage(message);
    if (from === "server") return turns?.server(message) ?? null;
    turns?.client(message);
    return null;
  };
  client.onopen = () => {
    for (const data of pending.splice(0)) client.send(data);
  };
  const toClient = (data: string | ArrayBuffer) => {
    if (client.readyState === WebSocket.OPEN) client.send(data);
    else if (client.readyState === WebSocket.CONNECTING) pending.push(data);
  };
  /** Settles once every held server message went out; null while nothing is held. */
  let held: Promise<void> | null = null;
  upstream.onmessage = (event) => {
    const durable = note("server", event.data);
    if (!strict || (!durable && !held)) return toClient(event.data);
    // A turn's final message waits for its record; later messages keep their order behind it.
    const after = (held ?? Promise.resolve()).then(() => durable).then(() => toClient(event.data));
    held = after;
    void after.then(() => {
      if (held === after) held = null;
    });
  };
  /** Runs `close` once the held server messages went out. */
  const afterHeld = (close: () => void) => held ? void held.then(close) : close();
  // Client messages pass the chain's message hooks in order before they go upstream; capture records
  // what was actually sent (after redaction).
  let queue = Promise.resolve();
  const sendUpstream = (data: string | ArrayBuffer) => {
    note("client", data);
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data);
  };
  client.onmessage = (event) => {
    const data = event.data as string | ArrayBuffer;
    if (!chain.watchesClientMessages || typeof data !== "string") {
      queue = queue.then(() => sendUpstream(data));
      return;
    }
    queue = queue.then(async () => {
      const bytes = new TextEncoder().encode(data);
      const message = resolveModel({
        method: "WS",
        path,
        headers: requestHeaders,
        body: bytes,
        json: jsonOf(bytes, "application/json"),
      });
      const result = await chain.runClientMessage(exchange, message);
      countDecisions(exchange, deps.metrics);
      if (result.kind === "forward") {
        sendUpstream(result.message.body === bytes ? data : new TextDecoder().decode(result.message.body!));
        return;
      }
      const error = providerErrorBody(
        exchange.provider,
        result.block.status,
        result.block.errorKind ?? "blocked",
        result.block.reason,
      );
      if (client.readyState === WebSocket.OPEN) {
        client.send(JSON.stringify({ type: "error", status: result.block.status, ...error }));
        client.close(1008, truncateReason(result.block.reason));
      }
      upstream.close(1000, "blocked by policy");
      finish("blocked");
    }).catch((error) => {
      log.error("proxy.ws_message_failed", { exchangeId: exchange.id, error });
      client.close(1011, "Recondo could not check this message");
    });
  };
  let finished = false;
  const finish = (outcome: Exchange["outcome"]) => {
    if (finished) return;
    finished = true;
    options.onSessionEnd?.();
    exchange.outcome = outcome;
    exchange.timing.end = Date.now();
    turns?.close(outcome);
    deps.metrics.exchanges.inc({ provider: exchange.provider, status: "101", outcome: outcome ?? "unknown" });
    // The connection is recorded with its whole transcript; its model turns were recorded one by one.
    void endExchange(exchange, { chain, tap, parsed: null, capture: null }).then(() =>
      countDecisions(exchange, deps.metrics)
    );
  };
  upstream.onclose = (event) => {
    afterHeld(() => {
      if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) {
        client.close(closeCode(event.code), event.reason);
      }
      finish("complete");
    });
  };
  client.onclose = (event) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.close(closeCode(event.code), event.reason);
    finish(upstream.readyState === WebSocket.CLOSED ? "complete" : "client-aborted");
  };
  upstream.onerror = () => exchange.errors.push("upstream websocket error");
  client.onerror = () => exchange.errors.push("client websocket error");
  return response;
}

function openUpstream(
  url: string,
  protocols: string[],
  headers: Record<string, string>,
  client: Deno.HttpClient,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // Deno's WebSocket accepts handshake headers and an HTTP client (for extra CAs and proxy chaining).
    const options = { protocols, headers, client } as unknown as string[];
    const socket = new WebSocket(url, options);
    socket.onopen = () => {
      socket.onerror = null;
      resolve(socket);
    };
    socket.onerror = (event) => reject(new Error((event as ErrorEvent).message ?? "handshake failed"));
  });
}

/** Close reasons are limited to 123 bytes of UTF-8. */
function truncateReason(reason: string): string {
  let out = reason;
  while (new TextEncoder().encode(out).byteLength > 123) out = out.slice(0, -1);
  return out;
}

/** Codes 1005/1006/1015 are reserved for reporting and cannot be sent; map them to a normal close. */
function closeCode(code: number): number {
  return code === 1005 || code === 1006 || code === 1015 || code < 1000 ? 1000 : code;
}

/** Why `req` is not a WebSocket handshake Deno can upgrade (RFC 6455 §4.2.1), or null when it is one. */
export function upgradeProblem(req: Request): string | null {
  const tokens = (name: string) =>
    (req.headers.get(name) ?? "").toLowerCase().split(",").map((t) => t.trim());
  if (req.method !== "GET") {
    return `Recondo: a WebSocket handshake must be a GET, not ${req.method.slice(0, 20)}`;
  }
  if (!tokens("connection").includes("upgrade")) {
    return "Recondo: a WebSocket handshake needs Connection: upgrade";
  }
  if (!req.headers.get("sec-websocket-key")) return "Recondo: a WebSocket handshake needs Sec-WebSocket-Key";
  if (req.headers.get("sec-websocket-version") !== "13") {
    return "Recondo: a WebSocket handshake needs Sec-WebSocket-Version: 13";
  }
  return null;
}

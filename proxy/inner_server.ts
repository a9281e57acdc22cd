/**
 * The plain loopback HTTP server that every client connection is piped into after the front door (and
 * TLS termination) has dealt with it. It serves HTTP/1.1 and h2 (prior knowledge, after ALPN `h2`) and
 * routes each request by the connection it came on: intercepted exchanges, plain proxy requests, or
 * Recondo's own endpoints.
 * @module
 */
import type { ClientIdentity } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import { providerErrorResponse } from "../providers/errors.ts";
import { providerOfHost } from "../providers/detect.ts";
import type { ConnectionContext, ConnectionRegistry } from "./connection_registry.ts";
import { type ExchangeDeps, type ExchangeTarget, handleExchange } from "./exchange_handler.ts";
import type { FrontDoorSettings } from "./front_door.ts";
import { clientResponseHeaders, headerRecord, upstreamRequestRecord } from "./headers.ts";
import { authenticate } from "./proxy_auth.ts";
import { relayWebSocket } from "./websocket_relay.ts";
import type { InFlight } from "./inflight.ts";

export interface InnerServerOptions {
  registry: ConnectionRegistry;
  deps: ExchangeDeps;
  settings: () => FrontDoorSettings;
  /** Recondo's own endpoints (`/healthz`, `/metrics`, the UI) for origin-form requests, with the client. */
  local(req: Request, client: ClientIdentity): Response | Promise<Response>;
  /** Counts each request (and WebSocket session) until it is answered, for drain. */
  inFlight?: InFlight;
}

export function startInnerServer(options: InnerServerOptions): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    onError(error) {
      log.error("proxy.inner_error", { error });
      return new Response("Recondo internal error\n", { status: 500 });
    },
  }, (req, info) => {
    // Deno.serve hands on what the client sent as the URL without checking it (`http://[::1` as an
    // absolute-form target or as the Host header, h2's :authority): refuse it before any handler parses it.
    if (!URL.canParse(req.url)) return badRequest(req.url);
    // A Host that is no host (`a/b?c`) would otherwise move into the URL's path and query.
    const host = req.headers.get("host");
    if (host !== null && !HOST_HEADER.test(host)) {
      return new Response(`Recondo cannot parse the Host header "${host.slice(0, 200)}"\n`, { status: 400 });
    }
    const context = options.registry.get(info.remoteAddr.port);
    if (!context) return new Response("Not a proxied connection\n", { status: 421 });
    if (!options.inFlight) return route(req, context, options);
    return tracked(req, context, { info, inFlight: options.inFlight, options });
  });
}

/**
 * Routes one request while counting it in flight: until its response is delivered, or for a WebSocket
 * until the session ends. While draining, h1 responses say `connection: close` (the pipe is ended once
 * idle; Deno.serve itself neither adds the header nor closes on it).
 */
async function tracked(
  req: Request,
  context: ConnectionContext,
  parts: { info: Deno.ServeHandlerInfo<Deno.NetAddr>; inFlight: InFlight; options: InnerServerOptions },
): Promise<Response> {
  const { info, inFlight } = parts;
  const webSocket = context.kind === "intercept" && isWebSocket(req);
  const kind = context.kind === "local" ? "local" : webSocket ? "websocket" : "exchange";
  const release = inFlight.hold(kind, info.remoteAddr.port);
  let response: Response;
  try {
    response = webSocket
      ? await relayWebSocket(req, routeTarget(context), parts.options.deps, { onSessionEnd: release })
      : await route(req, context, parts.options);
  } catch (error) {
    release();
    throw error;
  }
  if (response.status !== 101) info.completed.then(release, release);
  if (inFlight.draining && context.alpn !== "h2" && response.status !== 101) {
    inFlight.announceClose(info.remoteAddr.port);
    return withConnectionClose(response);
  }
  return response;
}

function withConnectionClose(response: Response): Response {
  try {
    response.headers.set("connection", "close");
    return response;
  } catch {
    // immutable headers (a fetch Response passed through): copy them
    const headers = new Headers(response.headers);
    headers.set("connection", "close");
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}

function route(
  req: Request,
  context: ConnectionContext,
  options: InnerServerOptions,
): Response | Promise<Response> {
  if (context.kind === "local") return options.local(req, context.client);
  // Methods the upstream clients refuse to send (fetch: "Method is forbidden"): the client's error, not
  // an upstream failure, so 405 here rather than a 502 from the attempt.
  if (FORBIDDEN_METHODS.has(req.method.toUpperCase())) {
    return new Response(`Recondo does not forward ${req.method} requests\n`, {
      status: 405,
      headers: { allow: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" },
    });
  }
  // A GET or HEAD with a body (any case: fetch normalises `get` to GET) cannot be sent on: a malformed
  // request, 400, not a 502 from the attempt.
  if (BODYLESS_METHODS.has(req.method.toUpperCase()) && hasBody(req)) {
    return new Response(`Recondo does not forward a ${req.method} request with a body\n`, { status: 400 });
  }
  if (context.kind === "intercept") {
    const target = routeTarget(context);
    return isWebSocket(req)
      ? relayWebSocket(req, target, options.deps)
      : handleExchange(req, target, options.deps);
  }
  return forwardPlain(req, context, options);
}

/** Methods whose requests the Fetch standard forbids a body. */
const BODYLESS_METHODS = new Set(["GET", "HEAD"]);

function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  return req.headers.has("transfer-encoding") || (length !== null && length.trim() !== "0");
}

/** Methods neither upstream engine sends (Fetch standard's forbidden methods). */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

function routeTarget(context: ConnectionContext): ExchangeTarget {
  return {
    connectionId: context.id,
    client: context.client,
    host: context.host!,
    port: context.port!,
    scheme: "https",
  };
}

/** Absolute-form `http://` proxy requests: authenticated per request, intercepted hosts become exchanges. */
function forwardPlain(
  req: Request,
  context: ConnectionContext,
  options: InnerServerOptions,
): Response | Promise<Response> {
  const settings = options.settings();
  const url = new URL(req.url);
  const auth = authenticate(req.headers.get("proxy-authorization") ?? undefined, context.client.address, {
    developers: settings.developers,
    required: settings.requireProxyAuth,
    hmacKey: settings.hmacKey,
  });
  if (!auth.ok) {
    return new Response(`${auth.reason}\n`, {
      status: 407,
      headers: { "proxy-authenticate": 'Basic realm="recondo"' },
    });
  }
  const host = url.hostname.toLowerCase();
  const port = Number(url.port || 80);
  if (settings.isIntercepted(host)) {
    const target: ExchangeTarget = {
      connectionId: context.id,
      client: auth.identity,
      host,
      port,
      scheme: "http",
    };
    return handleExchange(req, target, options.deps);
  }
  if (settings.otherHosts === "refuse") {
    return new Response(`Recondo does not forward to ${host}\n`, { status: 403 });
  }
  return passThrough(req, url, options.deps);
}

async function passThrough(req: Request, url: URL, deps: ExchangeDeps): Promise<Response> {
  try {
    const upstream = await deps.client.fetch(url.href, {
      method: req.method,
      headers: upstreamRequestRecord(headerRecord(req.headers), url.host),
      body: req.body,
      signal: req.signal,
    });
    return new Response(upstream.body, {
      status: upstream.status,
      headers: clientResponseHeaders(upstream.headers),
    });
  } catch (error) {
    const provider = providerOfHost(url.hostname);
    return providerErrorResponse(
      provider,
      502,
      "upstream_unavailable",
      `Recondo could not reach ${url.host}: ${(error as Error).message}`,
    );
  }
}

/** A host name or address with an optional port, as a Host header may carry (RFC 9110 7.2). */
const HOST_HEADER = /^(?:[A-Za-z0-9._~!$&'()*+,;=%-]+|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;

function badRequest(url: string): Response {
  return new Response(`Recondo cannot parse the request URL "${url.slice(0, 200)}"\n`, { status: 400 });
}

function isWebSocket(req: Request): boolean {
  return (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

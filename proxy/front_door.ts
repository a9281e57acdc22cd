/**
 * The listening socket clients configure as `HTTPS_PROXY`. It reads the first request head and then:
 * - `CONNECT` to an intercepted host: answers 200, terminates TLS with a leaf minted for the SNI, and pipes
 *   the decrypted bytes into the inner HTTP server;
 * - `CONNECT` elsewhere: a blind TCP tunnel, or 403 when config refuses other hosts;
 * - anything else (absolute-form proxy requests, `/healthz`, `/metrics`, the UI): piped to the inner server.
 * Malformed, oversized or slow heads get a clean error and close; no client can disturb another.
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { newId } from "../core/ids.ts";
import { log } from "../core/log.ts";
import type { ConnectionContext, ConnectionRegistry } from "./connection_registry.ts";
import type { Metrics } from "./metrics.ts";
import { authenticate, type Developer } from "./proxy_auth.ts";
import { blindTunnel } from "./blind_tunnel.ts";
import type { InFlight, PipeHandle } from "./inflight.ts";
import { relayH2 } from "./h2_relay.ts";
import { parseAuthority, readRequestHead } from "./request_head.ts";

/** Settings the front door reads on every connection (so a config reload applies to new connections). */
export interface FrontDoorSettings {
  isIntercepted(host: string): boolean;
  otherHosts: "tunnel" | "refuse";
  developers: readonly Developer[];
  /** The fleet's HMAC key, to check tokens kept as keyed hashes. */
  hmacKey?: Uint8Array;
  requireProxyAuth: boolean;
  maxHeaderBytes: number;
  headerTimeoutMs: number;
}

export interface FrontDoorOptions {
  settings: () => FrontDoorSettings;
  registry: ConnectionRegistry;
  innerPort: number;
  metrics: Metrics;
  /** TLS server options for intercepted connections: SNI callback and a default context for `host`. */
  tlsFor(host: string): Pick<tls.TlsOptions, "SNICallback">;
  /** Drain's view of client connections and tunnels (see `proxy/inflight.ts`). */
  inFlight?: InFlight;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
};

export interface FrontDoor {
  port: number;
  /** Stops listening (new connections are refused) and leaves open ones alone: the start of drain. */
  stopAccepting(): void;
  /** Stops listening and cuts every open client connection. */
  close(): Promise<void>;
}

/** Starts listening; resolves once bound. */
export function startFrontDoor(
  hostname: string,
  port: number,
  options: FrontDoorOptions,
): Promise<FrontDoor> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    handleClient(socket, options).catch((error) => {
      log.warn("proxy.connection_failed", { error });
      socket.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : port,
        stopAccepting: () => {
          if (server.listening) server.close();
        },
        close: () =>
          new Promise<void>((done) => {
            if (server.listening) server.close(() => done());
            else done();
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}

async function handleClient(socket: net.Socket, options: FrontDoorOptions): Promise<void> {
  const { metrics } = options;
  const settings = options.settings();
  metrics.openConnections.inc();
  socket.once("close", () => metrics.openConnections.dec());
  socket.on("error", () => socket.destroy());
  const address = `${socket.remoteAddress}:${socket.remotePort}`;

  const result = await readRequestHead(socket, settings);
  if (!result.ok) {
    metrics.connections.inc({ kind: "bad-request" });
    if (result.status !== 0) respondAndClose(socket, result.status, result.reason);
    else socket.destroy();
    return;
  }
  const { head, rest } = result;

  if (head.method !== "CONNECT") {
    const kind = /^https?:\/\//i.test(head.target) ? "forward" : "local";
    metrics.connections.inc({ kind });
    const client = { developer: null, team: null, address, via: "address" as const };
    return pipeToInner(socket, [head.raw, rest], {
      id: newId(),
      kind,
      host: null,
      port: null,
      client,
      alpn: null,
    }, options);
  }

  const target = parseAuthority(head.target, 443);
  if (!target) {
    metrics.connections.inc({ kind: "bad-request" });
    return respondAndClose(socket, 400, `malformed CONNECT target "${head.target.slice(0, 200)}"`);
  }
  const auth = authenticate(head.headers["proxy-authorization"], address, {
    developers: settings.developers,
    required: settings.requireProxyAuth,
    hmacKey: settings.hmacKey,
  });
  if (!auth.ok) {
    metrics.connections.inc({ kind: "auth-failed" });
    return respondAndClose(socket, 407, auth.reason, { "Proxy-Authenticate": 'Basic realm="recondo"' });
  }

  if (!settings.isIntercepted(target.host)) {
    if (settings.otherHosts === "refuse") {
      metrics.connections.inc({ kind: "refused" });
      return respondAndClose(socket, 403, `Recondo does not tunnel to ${target.host}`);
    }
    metrics.connections.inc({ kind: "tunnel" });
    return blindTunnel(socket, target, rest, {
      inFlight: options.inFlight,
      refuse: (reason) => respondAndClose(socket, 502, reason),
    });
  }

  metrics.connections.inc({ kind: "intercept" });
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  // Clients wait for the 200 before their ClientHello; bytes pipelined before it cannot be handed to
  // Deno's TLSSocket (it reads the socket's handle directly), so such a client ends at the handshake timeout.
  if (rest.length > 0) log.debug("proxy.pipelined_after_connect", { host: target.host, bytes: rest.length });
  const secure = new tls.TLSSocket(socket, {
    isServer: true,
    ALPNProtocols: ["h2", "http/1.1"],
    ...options.tlsFor(target.host),
  });
  secure.on("error", (error) => {
    log.debug("proxy.tls_failed", { host: target.host, error });
    secure.destroy();
    socket.destroy();
  });
  // A client that opens the tunnel and never completes the handshake must not hold the slot.
  const handshakeTimer = setTimeout(() => {
    log.debug("proxy.tls_handshake_timeout", { host: target.host });
    secure.destroy();
    socket.destroy();
  }, settings.headerTimeoutMs);
  secure.once("close", () => clearTimeout(handshakeTimer));
  secure.once("secure", () => {
    clearTimeout(handshakeTimer);
    const alpn = typeof secure.alpnProtocol === "string" ? secure.alpnProtocol : null;
    const context: ConnectionContext = {
      id: newId(),
      kind: "intercept",
      host: target.host,
      port: target.port,
      client: auth.identity,
      alpn,
    };
    pipeToInner(secure, [], context, options);
  });
  socket.resume();
}

/** Connects to the inner server, registers the pipe's port, and relays both ways. */
function pipeToInner(
  client: net.Socket,
  prefix: Buffer[],
  context: ConnectionContext,
  options: FrontDoorOptions,
): void {
  const h2 = context.alpn === "h2";
  // HTTP/1.1 answers are read from the pipe into one small buffer per connection and copied out: Deno's
  // default read hands each chunk over in a fresh 64 KiB buffer, which for a ~300-byte SSE event meant
  // 64 KiB allocated per event per stream. The h2 relay parses frames from `data` events, so it keeps those.
  const inner = net.connect({
    port: options.innerPort,
    host: "127.0.0.1",
    noDelay: true,
    ...(h2 ? {} : { onread: { buffer: Buffer.allocUnsafe(PIPE_READ_BYTES), callback: toClient } }),
  });
  function toClient(length: number, buffer: Uint8Array): boolean {
    if (client.destroyed) return false;
    if (client.write(Buffer.from(buffer.subarray(0, length)))) return true;
    // Returning false stops reading the pipe until the client has taken what is queued.
    client.once("drain", () => inner.resume());
    return false;
  }
  let pipePort: number | null = null;
  const cleanup = () => {
    if (pipePort !== null) {
      options.registry.delete(pipePort);
      options.inFlight?.closePipe(pipePort);
    }
    pipePort = null;
    inner.destroy();
    client.destroy();
  };
  inner.once("connect", () => {
    pipePort = inner.localPort ?? null;
    if (pipePort !== null) options.registry.set(pipePort, context);
    for (const chunk of prefix) if (chunk.length > 0) inner.write(chunk);
    // Ending our side towards the inner server lets it finish what it is writing, then close; the
    // "end" relay below then ends the client after the last byte.
    const end = () => inner.end();
    let handle: PipeHandle;
    if (h2) handle = { h2: true, end, ...relayH2(client, inner) };
    else {
      handle = { h2: false, end };
      client.pipe(inner);
    }
    if (pipePort !== null) options.inFlight?.openPipe(pipePort, handle);
    client.resume();
  });
  client.once("close", cleanup);
  // When the inner server closed cleanly, the client was ended after the last relayed byte: let those
  // bytes go out first (destroying it now would drop what is still buffered for a slow client).
  inner.once("close", () => {
    if (!client.writableEnded || client.writableFinished) return cleanup();
    client.once("finish", cleanup);
    setTimeout(cleanup, CLIENT_FLUSH_MS).unref();
  });
  for (const socket of [client, inner]) {
    socket.once("end", () => socket === client ? inner.end() : client.end());
    socket.on("error", cleanup);
  }
}

/** The pipe's read buffer per HTTP/1.1 connection (a 4 KiB buffer was measured to work in Deno 2.9). */
const PIPE_READ_BYTES = 16 * 1024;

/** How long a client ended after the inner server closed may take to take its last bytes. */
const CLIENT_FLUSH_MS = 10_000;

function respondAndClose(
  socket: net.Socket,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  const body = `${reason}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${new TextEncoder().encode(body).length}`,
    "Connection: close",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
  // The head was read with the socket paused: read on (discarding) so that the client's FIN is seen and
  // the socket closes. Left paused, it stayed open for good, one per refused client. A client that never
  // closes its side is cut after LINGER_MS.
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once("close", () => clearTimeout(linger));
}

/** How long a client answered with an error may keep its side open before it is cut. */
const LINGER_MS = 5_000;

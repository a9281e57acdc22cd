/**
 * The one client all upstream HTTP requests share, on two engines:
 * - Deno's `fetch` for requests without a body or with one handed over whole up to `FETCH_BODY_LIMIT`:
 *   it costs a fraction of the main-thread CPU of the Node client in JS (measured 0.2 vs 0.6 ms per
 *   2 KB exchange), which is what bounds the gateway's req/s.
 * - `node:https` for streamed bodies and larger ones: Deno's fetch leaves Nagle's algorithm on (no
 *   TCP_NODELAY; denoland/deno#35581), so a *streamed* 70 KB body waited ~45 ms for the upstream's
 *   delayed ACK in half of the requests, and a whole 500 KB–1 MB one in 2–5% of them. Whole bodies
 *   up to 200 KB never stalled in 200 tries each (see BENCHMARKS.md). Node's agents set no-delay.
 *
 * Deno's fetch adds `accept: *\/*`, `accept-language: *` and `user-agent: Deno/…` when the client sent
 * none of them; Node's client adds nothing. Agents send `accept` and `user-agent` themselves.
 *
 * It also loads extra CA certificates for corporate SSL inspection (`RECONDO_EXTRA_CA_CERTS` or
 * `<data dir>/ca/extra_roots.pem`), can chain through an upstream proxy (CONNECT via `https-proxy-agent`),
 * and decodes gzip/br bodies so parsers and capture see plain bytes. TLS names the provider host from
 * the `Host` header, so under `RECONDO_UPSTREAM_OVERRIDE` the SNI and certificate checks are those of the
 * real host.
 * @module
 */
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { Buffer } from "node:buffer";
import { HttpsProxyAgent } from "https-proxy-agent";
import { log } from "../core/log.ts";
import { headerRecord } from "./headers.ts";

export interface UpstreamClientOptions {
  extraCaFiles: string[];
  proxyUrl?: string;
  /**
   * Idle keep-alive connections kept per host by each engine (`upstream.maxIdleConnectionsPerHost`); so
   * at most twice this many per host once traffic stops. Default `DEFAULT_MAX_IDLE_PER_HOST`.
   */
  maxIdlePerHost?: number;
}

/** Idle upstream connections kept per host and engine unless configured. */
export const DEFAULT_MAX_IDLE_PER_HOST = 32;

export interface UpstreamRequestInit {
  method: string;
  /** A record (lower-case names) is cheaper for fetch to take than a `Headers`, which it iterates. */
  headers: Headers | Record<string, string>;
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  signal: AbortSignal;
}

/** Sends requests upstream and answers with web `Response`s whose bodies stream. */
export interface UpstreamClient {
  fetch(url: string, init: UpstreamRequestInit): Promise<Response>;
  /** Options for a Deno `WebSocket` upstream (extra CAs, proxy): WebSocket relays still use Deno's client. */
  denoClient: Deno.HttpClient;
  close(): void;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** Largest request body sent through Deno's fetch (whole); larger or streamed bodies use `node:https`. */
export const FETCH_BODY_LIMIT = 256 * 1024;

/** Creates the shared client; reads every CA file that exists and says which it loaded. */
export async function createUpstreamClient(options: UpstreamClientOptions): Promise<UpstreamClient> {
  const extra: string[] = [];
  for (const file of options.extraCaFiles) {
    try {
      extra.push(await Deno.readTextFile(file));
      log.info("upstream.extra_ca_loaded", {
        file,
        message: "Loaded extra CA certificates for upstream TLS",
      });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot read extra CA certificates ${file}`, { cause: error });
      }
    }
  }
  // One secure context built once: passing `ca` strings made the agent's pool key (all roots, ~225 KB)
  // be rebuilt several times per request (measured: 12% of busy time in `getName`).
  const secureContext = extra.length > 0
    ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] })
    : undefined;
  const maxIdle = options.maxIdlePerHost ?? DEFAULT_MAX_IDLE_PER_HOST;
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: 30_000,
    // Node's default keeps 256 free sockets per host: the bound is ours, and explicit.
    maxFreeSockets: maxIdle,
    scheduling: "lifo" as const,
    secureContext,
  };
  const httpsAgent: http.Agent = options.proxyUrl
    ? new HttpsProxyAgent(options.proxyUrl, agentOptions)
    : new https.Agent(agentOptions);
  const httpAgent = new http.Agent({
    keepAlive: true,
    keepAliveMsecs: 30_000,
    maxFreeSockets: maxIdle,
    scheduling: "lifo",
  });
  const denoClient = Deno.createHttpClient({
    caCerts: extra.length > 0 ? extra : undefined,
    proxy: options.proxyUrl ? { url: options.proxyUrl } : undefined,
    allowHost: true,
    // hyper keeps every idle connection for 90 s by default, however many a burst opened.
    poolMaxIdlePerHost: maxIdle,
  });
  return {
    fetch(url, init) {
      if (
        init.body === null || (init.body instanceof Uint8Array && init.body.byteLength <= FETCH_BODY_LIMIT)
      ) {
        return fetch(url, {
          method: init.method,
          headers: init.headers,
          // Request bodies are never backed by a SharedArrayBuffer.
          body: init.body as Uint8Array<ArrayBuffer> | null,
          signal: init.signal,
          client: denoClient,
          redirect: "manual",
        }).catch(withCause);
      }
      return send(url, init, url.startsWith("https:") ? httpsAgent : httpAgent, secureContext);
    },
    denoClient,
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
      denoClient.close();
    },
  };
}

function send(
  url: string,
  init: UpstreamRequestInit,
  agent: http.Agent,
  secureContext: tls.SecureContext | undefined,
): Promise<Response> {
  const target = new URL(url);
  const module = target.protocol === "https:" ? https : http;
  const headers = init.headers instanceof Headers ? headerRecord(init.headers) : init.headers;
  const hostHeader = headers["host"] ?? target.host;
  return new Promise<Response>((resolve, reject) => {
    const request = module.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port || undefined,
      path: target.pathname + target.search,
      method: init.method,
      headers,
      agent,
      // Per request too: through a proxy agent, TLS to the target takes its options from the request.
      secureContext,
      servername: hostHeader.replace(/:\d+$/, ""),
    } as https.RequestOptions);
    const onAbort = () => request.destroy(toError(init.signal.reason, "request aborted"));
    if (init.signal.aborted) return reject(toError(init.signal.reason, "request aborted"));
    init.signal.addEventListener("abort", onAbort, { once: true });
    // `on`, not `once`: Deno's ClientRequest can emit the same socket error twice (seen when a client
    // left mid-upload), and a second "error" without a listener is an uncaught error that ends the process.
    request.on("error", (error) => {
      init.signal.removeEventListener("abort", onAbort);
      reject(error);
    });
    request.once("response", (response) => {
      resolve(toWebResponse(response, init.signal, () => init.signal.removeEventListener("abort", onAbort)));
    });
    writeBody(request, init.body).catch((error) => request.destroy(toError(error, "request body failed")));
  });
}

async function writeBody(
  request: http.ClientRequest,
  body: Uint8Array | ReadableStream<Uint8Array> | null,
): Promise<void> {
  if (body === null) return void request.end();
  if (body instanceof Uint8Array) {
    return void request.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }
  const reader = body.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!request.write(value)) await new Promise((resolve) => request.once("drain", resolve));
    }
    request.end();
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
}

function toWebResponse(response: http.IncomingMessage, signal: AbortSignal, done: () => void): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const status = response.statusCode ?? 502;
  response.once("close", done);
  if (NULL_BODY_STATUS.has(status)) {
    response.resume();
    return new Response(null, { status, statusText: response.statusMessage, headers });
  }
  const encoding = (response.headers["content-encoding"] ?? "").toLowerCase().trim();
  const decoded: Readable = encoding === "gzip" || encoding === "x-gzip"
    ? response.pipe(zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH }))
    : encoding === "br"
    ? response.pipe(zlib.createBrotliDecompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH }))
    : response;
  if (decoded !== response) {
    response.once("error", (error) => decoded.destroy(error));
    decoded.once("close", () => response.destroy());
  }
  // An abort must error the body (not end it cleanly), so the relay does not mistake it for completion.
  const onAbort = () => decoded.destroy(toError(signal.reason, "request aborted"));
  signal.addEventListener("abort", onAbort, { once: true });
  decoded.once("close", () => signal.removeEventListener("abort", onAbort));
  const body = Readable.toWeb(decoded) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: response.statusMessage, headers });
}

/** Deno's fetch says only "fetch failed"; what failed (connect, TLS, reset) is in its cause. */
function withCause(error: unknown): never {
  if (error instanceof TypeError && error.cause instanceof Error) {
    throw new TypeError(`${error.message}: ${error.cause.message}`, { cause: error.cause });
  }
  throw error;
}

function toError(reason: unknown, fallback: string): Error {
  if (reason instanceof Error) return reason;
  return new Error(reason === undefined ? fallback : String(reason));
}

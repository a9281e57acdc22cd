/**
 * The project's fake LLM provider: one loopback server that speaks the Anthropic Messages, OpenAI
 * Responses (SSE and WebSocket) and Chat Completions, and Gemini generateContent wire formats, so every
 * end-to-end test and benchmark can run real clients through the gateway without the internet.
 * Point the gateway at it with `RECONDO_UPSTREAM_OVERRIDE="api.anthropic.com=<fake.url>,…"`.
 *
 * @example
 * ```ts
 * const fake = await startFakeProvider({ behavior: { answer: ["Hel", "lo"], eventDelayMs: 50 } });
 * const res = await fetch(`${fake.url}/v1/messages`, { method: "POST", body: '{"stream":true}' });
 * // … fake.requests[0].path === "/v1/messages"
 * await fake.close();
 * ```
 * @module
 */
import { type FakeBehavior, idMaker, resolveBehavior } from "./behavior.ts";
import { route } from "./routes.ts";
import { startTlsFront } from "./tls_front.ts";

export type { FakeBehavior, FakeUsage } from "./behavior.ts";
export { answerText, DEFAULT_ANSWER, DEFAULT_USAGE } from "./behavior.ts";

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/messages?beta=true`. */
  path: string;
  /** The `Host` header, or over HTTP/2 the `:authority` (Deno.serve does not expose it as a header). */
  host: string;
  headers: Headers;
  /** The whole request body (empty for GET and WebSocket upgrades). */
  body: Uint8Array;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
  /** For a WebSocket upgrade: every client frame, as text, in arrival order. */
  wsMessages?: string[];
  /**
   * With `recordResponses`: what the fake answered. `body` is filled in as the answer is sent (complete
   * once the response has ended); null for a WebSocket upgrade.
   */
  response?: {
    status: number;
    headers: Record<string, string>;
    body: string | null;
    /** `base64` for a binary body (Bedrock's event stream), which text would mangle. */
    bodyEncoding?: "base64";
  };
}

/** Options of {@link startFakeProvider}. */
export interface FakeProviderOptions {
  /** PEM certificate chain and key: serve HTTPS instead of HTTP. */
  tls?: { cert: string; key: string };
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Keep every request in `requests` (default true); benchmarks turn it off to keep memory flat. */
  record?: boolean;
  /** Also keep each answer's status, headers and body in `requests[i].response` (default false). */
  recordResponses?: boolean;
  /** Initial behavior; see {@link FakeBehavior}. Usage fields merge with the defaults. */
  behavior?: Partial<Omit<FakeBehavior, "usage">> & { usage?: Partial<FakeBehavior["usage"]> };
}

/** A running fake provider. */
export interface FakeProvider {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** Every request so far, oldest first (tests may clear it with `requests.length = 0`). */
  requests: RecordedRequest[];
  /** The live behavior: changing a field affects the next request. */
  behavior: FakeBehavior;
  /** Replaces the behavior (fields not given take their defaults again). */
  setBehavior(partial: FakeProviderOptions["behavior"]): void;
  /** Stops listening and ends open connections and WebSockets. */
  close(): Promise<void>;
}

/** Keeps what `response` answers in `recorded.response`, passing the same bytes on. */
function recordResponse(recorded: RecordedRequest, response: Response, isUpgrade: boolean): Response {
  const headers = Object.fromEntries(response.headers);
  const entry: NonNullable<RecordedRequest["response"]> = { status: response.status, headers, body: null };
  recorded.response = entry;
  if (isUpgrade || response.body === null) return response;
  const decoder = new TextDecoder();
  const binary = (headers["content-type"] ?? "").includes("vnd.amazon.eventstream");
  const chunks: Uint8Array[] = [];
  entry.body = "";
  const copy = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (binary) chunks.push(chunk.slice());
      else entry.body += decoder.decode(chunk, { stream: true });
      controller.enqueue(chunk);
    },
    flush() {
      if (!binary) entry.body += decoder.decode();
      else {
        entry.body = btoa(chunks.map((c) => String.fromCharCode(...c)).join(""));
        entry.bodyEncoding = "base64";
      }
    },
  });
  return new Response(response.body.pipeThrough(copy), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** Starts the fake on 127.0.0.1 and resolves once it listens. */
export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const nextId = idMaker();
  const sockets = new Set<WebSocket>();
  const fake = {
    requests,
    behavior: resolveBehavior(options.behavior),
    setBehavior(partial: FakeProviderOptions["behavior"]) {
      fake.behavior = resolveBehavior(partial);
    },
  };
  const abort = new AbortController();
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const serveOptions = {
    hostname: "127.0.0.1",
    port: options.tls ? 0 : options.port ?? 0,
    signal: abort.signal,
    onListen: (addr: Deno.NetAddr) => resolve(addr),
  };
  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const isUpgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    const recorded: RecordedRequest = {
      method: req.method,
      path: url.pathname + url.search,
      host: req.headers.get("host") ?? url.host,
      headers: new Headers(req.headers),
      body: isUpgrade || req.body === null ? new Uint8Array() : new Uint8Array(await req.arrayBuffer()),
      receivedAt: Date.now(),
    };
    if (options.record !== false) requests.push(recorded);
    const response = await route(req, recorded, {
      behavior: () => fake.behavior,
      nextId,
      onSocket: (socket) => {
        sockets.add(socket);
        socket.addEventListener("close", () => sockets.delete(socket));
      },
    });
    return options.recordResponses ? recordResponse(recorded, response, isUpgrade) : response;
  };
  const server = Deno.serve(serveOptions, handler);
  const addr = await listening;
  // HTTPS goes through a no-delay TLS front (see tls_front.ts for why not Deno.serve's own TLS).
  const front = options.tls
    ? await startTlsFront(addr.port, { ...options.tls, port: options.port })
    : undefined;
  const port = front?.port ?? addr.port;
  return Object.assign(fake, {
    url: `${front ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    async close() {
      for (const socket of sockets) {
        if (socket.readyState === WebSocket.OPEN) socket.close(1001, "fake provider closing");
      }
      await front?.close();
      abort.abort();
      await server.finished;
    },
  });
}

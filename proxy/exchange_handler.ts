/**
 * One intercepted HTTP exchange, start to end (steps 4–9 of the lifecycle in ARCHITECTURE.md):
 * build the `Exchange`, run the request hooks, forward upstream, run the response hooks, stream the
 * response back through parser, event hooks and capture tap, then run the end hooks.
 * @module
 */
import type { ClientIdentity, Exchange } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import type { CaptureSink } from "../capture/sink.ts";
import type { PolicyChain } from "../policies/chain.ts";
import type { Block, RequestPatch, RequestView } from "../policies/types.ts";
import { fetchWithFallback } from "../policies/fallback.ts";
import { detectApi } from "../providers/detect.ts";
import { providerErrorResponse } from "../providers/errors.ts";
import type { ApiName, ParsedRequest, ResponseParser } from "../providers/types.ts";
import type { ResponsesWsSession } from "../providers/mod.ts";
import { learnAliasModel, modelAliasResolver, type ProviderAliases } from "./model_alias_view.ts";
import { clientResponseHead, headerRecord, upstreamRequestRecord } from "./headers.ts";
import { countDecisions, recordExchange } from "./exchange_metrics.ts";
import type { Metrics } from "./metrics.ts";
import { newExchange } from "./new_exchange.ts";
import { endExchange } from "./end_exchange.ts";
import { FETCH_BODY_LIMIT, type UpstreamClient } from "./upstream_client.ts";
import { declaredLengthWithin, jsonOf, readBounded, tapStream } from "./request_body.ts";
import { relayBody, type RelayEnd } from "./response_relay.ts";

/** Provider parsing, injected so the proxy works (unparsed) before or without the provider adapters. */
export interface Parsers {
  /**
   * `requestBytes` lets a parser estimate input tokens when a stream ends before reporting usage;
   * `pathModel` is the model the URL names (Bedrock bills the invoked id, which only the path holds).
   */
  createResponseParser(
    api: ApiName,
    contentType: string | null,
    requestBytes?: number,
    pathModel?: string | null,
  ): ResponseParser | null;
  parseRequest(api: ApiName, body: Uint8Array, headers: Record<string, string>): ParsedRequest | null;
  /** Splits a Responses WebSocket connection into turns (Codex). */
  createWsSession?(headers: Record<string, string>): ResponsesWsSession;
}

/** Everything an exchange needs from the gateway; getters so a reload applies to the next exchange. */
export interface ExchangeDeps {
  chain(): PolicyChain;
  sink: CaptureSink;
  metrics: Metrics;
  client: UpstreamClient;
  overrides: ReadonlyMap<string, string>;
  parsers: Parsers | null;
  limits(): {
    maxBufferedBodyBytes: number;
    idleTimeoutMs: number;
    headersTimeoutMs: number;
    strict: boolean;
  };
  /** Attributes connections without proxy authentication by their provider API key. */
  identify(connection: ClientIdentity, headers: Record<string, string>): ClientIdentity;
  /** The models behind Azure deployments and Bedrock application profiles, so policies see models. */
  modelAliases?: ProviderAliases;
}

export interface ExchangeTarget {
  connectionId: string;
  client: ClientIdentity;
  host: string;
  port: number;
  scheme: "https" | "http";
}

/** Handles one request for an intercepted host and returns the response for the client. */
export async function handleExchange(
  req: Request,
  target: ExchangeTarget,
  deps: ExchangeDeps,
): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname + url.search;
  const match = detectApi(target.host, req.method, path);
  const defaultOrigin = `${target.scheme}://${target.host}${isDefaultPort(target) ? "" : `:${target.port}`}`;
  const requestHeaders = headerRecord(req.headers);
  const exchange = newExchange(target, { kind: "http", method: req.method, path, headers: requestHeaders }, {
    deps,
    match,
    defaultOrigin,
  });

  const chain = deps.chain();
  const limits = deps.limits();
  const tap = deps.sink.begin(exchange);
  let parsedRequest: ParsedRequest | null = null;

  const finishEarly = (response: Response, outcome: RelayEnd): Response => {
    exchange.outcome = outcome;
    exchange.timing.end = Date.now();
    exchange.response = { status: response.status, headers: headerRecord(response.headers) };
    recordExchange(exchange, deps.metrics);
    const capture = parsedRequest ? { request: parsedRequest, response: null } : null;
    void endExchange(exchange, { chain, tap, parsed: null, capture }).then(() =>
      countDecisions(exchange, deps.metrics)
    );
    return response;
  };

  // Steps 4–5: the request body (whole only when a policy asked), then the request hooks.
  let body: Uint8Array | ReadableStream<Uint8Array> | null = req.body;
  let view: RequestView = {
    method: req.method,
    path,
    headers: exchange.request.headers,
    body: null,
    json: undefined,
  };
  if (chain.needsRequestBody && req.body) {
    const read = await readBounded(req.body, limits.maxBufferedBodyBytes);
    if (!read.ok) {
      const message = `Request body larger than the ${read.limit} bytes Recondo's policies can inspect`;
      return finishEarly(providerErrorResponse(exchange.provider, 413, "too_large", message), "blocked");
    }
    body = read.bytes;
    exchange.requestBody = read.bytes;
    view = { ...view, body: read.bytes, json: jsonOf(read.bytes, req.headers.get("content-type")) };
    if (match?.isModelTurn && deps.parsers) {
      parsedRequest = deps.parsers.parseRequest(match.api, read.bytes, exchange.request.headers);
      // Gemini and Vertex AI name the model in the URL, not the body.
      if (parsedRequest) parsedRequest.model ??= match.pathModel;
    }
  }
  let headers = upstreamRequestRecord(requestHeaders, hostHeader(target));
  const resolveModel = modelAliasResolver(exchange, deps.modelAliases);
  view = resolveModel(view);
  const outcome = await chain.runRequest(exchange, view, (patch) => {
    ({ view, headers } = applyPatch(exchange, view, headers, patch));
    view = resolveModel(view);
    return view;
  }, req.signal);
  countDecisions(exchange, deps.metrics);
  if (outcome.kind === "block") return finishEarly(blockResponse(exchange, outcome.block), "blocked");
  if (view.body !== exchange.requestBody) {
    body = view.body;
    exchange.requestBody = view.body;
  }

  // Step 6: forward. A body of known length within FETCH_BODY_LIMIT is read whole first, so it goes out
  // through the cheaper upstream engine in one write; others are tapped as they stream.
  if (body instanceof ReadableStream && declaredLengthWithin(req.headers, FETCH_BODY_LIMIT)) {
    const read = await readBounded(body, FETCH_BODY_LIMIT).catch((error: Error) => error);
    if (!(read instanceof Error) && read.ok) body = read.bytes;
    else {
      const message = `Recondo could not read the request body: ${
        read instanceof Error
          ? read.message
          : `more than its content-length ${req.headers.get("content-length")}`
      }`;
      exchange.errors.push(message);
      return finishEarly(providerErrorResponse(exchange.provider, 400, "blocked", message), "client-aborted");
    }
  }
  if (body instanceof Uint8Array) {
    tap.requestChunk(body);
    deps.metrics.bytes.inc({ direction: "request" }, body.byteLength);
    headers["content-length"] = String(body.byteLength);
  } else if (body) {
    body = tapStream(body, (chunk) => {
      tap.requestChunk(chunk);
      deps.metrics.bytes.inc({ direction: "request" }, chunk.byteLength);
    });
  }
  const upstreamAbort = new AbortController();
  const onClientGone = () => upstreamAbort.abort(new Error("client went away"));
  req.signal.addEventListener("abort", onClientGone, { once: true });
  const headersTimer = setTimeout(
    () => upstreamAbort.abort(new DOMException("headers timeout", "TimeoutError")),
    limits.headersTimeoutMs,
  );
  // `route` may name fallback origins for 429/5xx; a streamed body cannot be sent twice, so they apply
  // only when the body was buffered (route asks for it when it has fallbacks).
  const fallbacks = outcome.patches.flatMap((patch) => patch.fallbackOrigins ?? []);
  const origins = [exchange.target.upstreamOrigin, ...(body instanceof ReadableStream ? [] : fallbacks)];
  let upstream: Response;
  try {
    const sent = await fetchWithFallback(origins, (origin) =>
      deps.client.fetch(origin + path, {
        method: req.method,
        headers,
        body: body as Uint8Array | ReadableStream<Uint8Array> | null,
        signal: upstreamAbort.signal,
      }));
    upstream = sent.response;
    if (sent.attempts.length > 0) {
      exchange.target.upstreamOrigin = sent.origin;
      exchange.decisions.push({
        policy: "route",
        hook: "request",
        kind: "modify",
        enforced: true,
        reason: `fell back to ${sent.origin} after ${
          sent.attempts.map((a) => `${a.origin} (${a.status ?? a.error})`).join(", ")
        }`,
        at: Date.now(),
      });
    }
  } catch (error) {
    const timedOut = upstreamAbort.signal.reason instanceof DOMException &&
      upstreamAbort.signal.reason.name === "TimeoutError";
    exchange.errors.push(`upstream request failed: ${(error as Error).message}`);
    log.warn("upstream.failed", { exchangeId: exchange.id, host: target.host, error });
    const message = timedOut
      ? `Recondo: ${target.host} did not answer within ${limits.headersTimeoutMs} ms`
      : `Recondo could not reach ${target.host}: ${(error as Error).message}`;
    const response = providerErrorResponse(
      exchange.provider,
      timedOut ? 504 : 502,
      timedOut ? "upstream_timeout" : "upstream_unavailable",
      message,
    );
    return finishEarly(response, req.signal.aborted ? "client-aborted" : "upstream-error");
  } finally {
    clearTimeout(headersTimer);
  }
  exchange.timing.upstreamConnected = Date.now();
  const responseHead = clientResponseHead(upstream.headers);
  exchange.response = { status: upstream.status, headers: responseHead.record };
  deps.metrics.upstreamLatency.observe(
    { provider: exchange.provider },
    (exchange.timing.upstreamConnected - exchange.timing.start) / 1000,
  );

  // Step 7: response hooks see the head before any byte reaches the client.
  const responseBlock = await chain.runResponse(exchange, req.signal);
  if (responseBlock) {
    upstreamAbort.abort(new Error("blocked by policy"));
    await upstream.body?.cancel().catch(() => {});
    return finishEarly(blockResponse(exchange, responseBlock), "blocked");
  }
  if (!upstream.body) {
    return finishEarly(
      new Response(null, { status: upstream.status, headers: responseHead.pairs }),
      "complete",
    );
  }

  // Steps 8–9: stream back; the end hooks and capture run when the stream ends, however it ends.
  const parser = match?.isModelTurn && deps.parsers
    ? deps.parsers.createResponseParser(
      match.api,
      upstream.headers.get("content-type"),
      requestBytes(exchange),
      match.pathModel,
    )
    : null;
  const answer = await relayBody({
    exchange,
    body: upstream.body,
    chain,
    parser,
    tap,
    idleTimeoutMs: limits.idleTimeoutMs,
    holdEndUntilDurable: limits.strict,
    onBytes: (count) => deps.metrics.bytes.inc({ direction: "response" }, count),
    abortUpstream: (reason) => upstreamAbort.abort(new Error(reason)),
    clientGone: () => req.signal.aborted,
    async onEnd(_outcome, parsed) {
      req.signal.removeEventListener("abort", onClientGone);
      recordExchange(exchange, deps.metrics);
      if (parsed?.model) {
        learnAliasModel(exchange, {
          aliases: deps.modelAliases,
          requestJson: view.json,
          model: parsed.model,
        });
      }
      const capture = match ? { request: parsedRequest, response: parsed } : null;
      await endExchange(exchange, { chain, tap, parsed, capture });
      countDecisions(exchange, deps.metrics);
    },
  }, wholeAnswer(upstream.headers));
  if (answer instanceof Response) return answer;
  return new Response(answer, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHead.pairs,
  });
}

/** Largest answer of declared length that is read whole before the client gets it (see `relayBody`). */
const WHOLE_RESPONSE_LIMIT = 1024 * 1024;

/**
 * Whether to read a non-streaming answer whole: `upTo` its declared length within WHOLE_RESPONSE_LIMIT
 * (0: stream it). `exact` when the body cannot outgrow that length (not decoded from gzip or br).
 */
function wholeAnswer(headers: Headers): { upTo: number; exact: boolean } {
  const declared = headers.get("content-length");
  if (declared === null || !/^\d+$/.test(declared)) return { upTo: 0, exact: false };
  if ((headers.get("content-type") ?? "").includes("event-stream")) return { upTo: 0, exact: false };
  const length = Number(declared);
  const encoding = (headers.get("content-encoding") ?? "").trim().toLowerCase();
  const exact = encoding !== "gzip" && encoding !== "x-gzip" && encoding !== "br";
  return { upTo: length <= WHOLE_RESPONSE_LIMIT ? length : 0, exact };
}

function applyPatch(
  exchange: Exchange,
  view: RequestView,
  headers: Record<string, string>,
  patch: RequestPatch,
) {
  const next = { ...view };
  if (patch.json !== undefined) {
    next.json = patch.json;
    next.body = new TextEncoder().encode(JSON.stringify(patch.json));
  }
  const nextHeaders = { ...headers };
  for (const [name, value] of Object.entries(patch.headers ?? {})) {
    if (value === null) delete nextHeaders[name.toLowerCase()];
    else nextHeaders[name.toLowerCase()] = value;
  }
  if (patch.upstreamOrigin) exchange.target.upstreamOrigin = new URL(patch.upstreamOrigin).origin;
  return { view: next, headers: nextHeaders };
}

function blockResponse(exchange: Exchange, block: Block): Response {
  return providerErrorResponse(
    exchange.provider,
    block.status,
    block.errorKind ?? "blocked",
    block.reason,
    block.headers,
  );
}

/** The request body's size: buffered length, else its declared content-length, else unknown (0). */
function requestBytes(exchange: Exchange): number {
  return exchange.requestBody?.byteLength ?? (Number(exchange.request.headers["content-length"]) || 0);
}

function isDefaultPort(target: ExchangeTarget): boolean {
  return (target.scheme === "https" && target.port === 443) ||
    (target.scheme === "http" && target.port === 80);
}

function hostHeader(target: ExchangeTarget): string {
  return isDefaultPort(target) ? target.host : `${target.host}:${target.port}`;
}

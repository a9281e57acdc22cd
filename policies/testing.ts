/**
 * Test helpers for policy authors (like mitmproxy's `tflow`): build an exchange and a request view
 * without a proxy, then call a policy's hooks directly or through a `PolicyChain`.
 *
 * @example
 * const { exchange, request } = makeExchange({ json: { model: "claude-opus-4-1" }, team: "contractors" });
 * const verdict = await policy.onRequest!(exchange, request, makeHookContext());
 * @module
 */
import type { Exchange, ProviderName } from "../core/exchange.ts";
import type { HookContext, RequestView } from "./types.ts";

export interface MakeExchangeOptions {
  host?: string;
  provider?: ProviderName;
  api?: string | null;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** A JSON body; serialised into `request.body` too. */
  json?: unknown;
  developer?: string | null;
  team?: string | null;
  now?: number;
}

const HOST_PROVIDER: Record<string, ProviderName> = {
  "api.anthropic.com": "anthropic",
  "api.openai.com": "openai",
  "generativelanguage.googleapis.com": "google",
};

/** An exchange as the proxy builds it at the start of the request phase, and its request view. */
export function makeExchange(
  options: MakeExchangeOptions = {},
): { exchange: Exchange; request: RequestView } {
  const host = options.host ?? "api.anthropic.com";
  const path = options.path ?? "/v1/messages";
  const headers = { "content-type": "application/json", ...options.headers };
  const body = options.json === undefined ? null : new TextEncoder().encode(JSON.stringify(options.json));
  const start = options.now ?? Date.now();
  const exchange: Exchange = {
    id: `test-${crypto.randomUUID()}`,
    connectionId: "test-connection",
    kind: "http",
    client: {
      developer: options.developer ?? null,
      team: options.team ?? null,
      address: "127.0.0.1:40000",
      via: options.developer ? "proxy-auth" : "address",
    },
    target: { host, port: 443, upstreamOrigin: `https://${host}` },
    provider: options.provider ?? HOST_PROVIDER[host] ?? "unknown",
    api: options.api ?? null,
    request: { method: options.method ?? "POST", path, headers },
    requestBody: body,
    response: null,
    timing: { start, upstreamConnected: null, firstByte: null, end: null },
    decisions: [],
    wsMessages: [],
    errors: [],
    outcome: null,
  };
  return { exchange, request: { method: exchange.request.method, path, headers, body, json: options.json } };
}

/** A hook context with a live signal and the given clock. */
export function makeHookContext(now: () => number = Date.now): HookContext {
  return { signal: new AbortController().signal, now };
}

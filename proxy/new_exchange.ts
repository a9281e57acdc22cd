/**
 * Builds the `Exchange` for a request on an intercepted connection: identity (proxy auth or API key),
 * target with its upstream origin, provider and API, and an empty record of what is to come.
 * @module
 */
import type { Exchange } from "../core/exchange.ts";
import { newId } from "../core/ids.ts";
import type { ApiMatch } from "../providers/types.ts";
import { providerOfHost } from "../providers/detect.ts";
import type { ExchangeDeps, ExchangeTarget } from "./exchange_handler.ts";

export function newExchange(
  target: ExchangeTarget,
  request: { kind: Exchange["kind"]; method: string; path: string; headers: Record<string, string> },
  options: { deps: ExchangeDeps; match: ApiMatch | null; defaultOrigin: string },
): Exchange {
  return {
    id: newId(),
    connectionId: target.connectionId,
    kind: request.kind,
    client: options.deps.identify(target.client, request.headers),
    target: {
      host: target.host,
      port: target.port,
      upstreamOrigin: options.deps.overrides.get(target.host) ?? options.defaultOrigin,
    },
    provider: options.match?.provider ?? providerOfHost(target.host),
    api: options.match?.api ?? null,
    request: { method: request.method, path: request.path, headers: request.headers },
    requestBody: null,
    response: null,
    timing: { start: Date.now(), upstreamConnected: null, firstByte: null, end: null },
    decisions: [],
    wsMessages: [],
    errors: [],
    outcome: null,
  };
}

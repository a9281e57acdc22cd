/**
 * Connects the gateway to the layers below it for a real run: provider parsers and the capture
 * pipeline. Kept apart from `serve` so tests can start the same wiring.
 * @module
 */
import type { CaptureSink } from "../capture/sink.ts";
import type { Parsers } from "../proxy/exchange_handler.ts";
import { createResponseParser, parseRequest } from "../providers/mod.ts";

export interface Wiring {
  sink?: CaptureSink;
  parsers?: Parsers | null;
  shutdown(): Promise<void>;
}

/** The provider parsers as the proxy consumes them. */
export const providerParsers: Parsers = {
  createResponseParser: (api, contentType) => createResponseParser(api, contentType),
  parseRequest: (api, body, headers) => parseRequest(api, body, headers),
};

export function wireGateway(_dataDir: string): Promise<Wiring> {
  return Promise.resolve({ parsers: providerParsers, shutdown: () => Promise.resolve() });
}

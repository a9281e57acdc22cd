/**
 * Connects the gateway to the layers below it for a real run: provider parsers and the capture
 * pipeline. Kept apart from `serve` so tests can start the same wiring.
 * @module
 */
import type { CaptureSink } from "../capture/sink.ts";
import type { Parsers } from "../proxy/exchange_handler.ts";

export interface Wiring {
  sink?: CaptureSink;
  parsers?: Parsers | null;
  shutdown(): Promise<void>;
}

export function wireGateway(_dataDir: string): Promise<Wiring> {
  return Promise.resolve({ shutdown: () => Promise.resolve() });
}

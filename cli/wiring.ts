/**
 * Connects the gateway to the layers below it for a real run: provider parsers, the capture pipeline
 * (with pricing), and its backlog on `/metrics`. Kept apart from `serve` so tests start the same wiring.
 * @module
 */
import { hostname } from "node:os";
import { type AlertNotifier, startAlertNotifier } from "../alerts/mod.ts";
import { type Capture, createCapture, hashApiKey, loadOrCreateHmacKey } from "../capture/mod.ts";
import type { PolicyServices } from "../policies/types.ts";
import { createPolicyServices } from "../storage/ledger/mod.ts";
import type { CaptureSink } from "../capture/sink.ts";
import type { DataPaths } from "../config/paths.ts";
import type { Config } from "../config/schema.ts";
import type { Parsers } from "../proxy/exchange_handler.ts";
import { createResponseParser, createResponsesWsSession, parseRequest } from "../providers/mod.ts";

export interface Wiring {
  sink?: CaptureSink;
  parsers?: Parsers | null;
  capture?: Capture;
  services?: PolicyServices;
  /** Budget and throttle alerts (raising nothing while the config has no `alerts` block). */
  alerts: AlertNotifier;
  /** The fleet's HMAC key (API-key and proxy-token hashes). */
  hmacKey: Uint8Array;
  shutdown(): Promise<void>;
}

/** The provider parsers as the proxy consumes them. */
export const providerParsers: Parsers = {
  createResponseParser: (api, contentType, requestBytes, pathModel) =>
    createResponseParser(api, contentType, { requestChars: requestBytes, pathModel }),
  parseRequest: (api, body, headers) => parseRequest(api, body, headers),
  createWsSession: (headers) => createResponsesWsSession(headers),
};

/** Opens capture (stores named by the environment) and returns what `startGateway` needs. */
export async function wireGateway(
  paths: DataPaths,
  config: Config,
  env: { get(name: string): string | undefined } = Deno.env,
): Promise<Wiring> {
  const capture = await createCapture({
    paths,
    config,
    env,
  });
  // Policies share the capture database: spend ledger and token buckets are exact across replicas that
  // share it. Placeholders for redacted secrets are keyed with the same data-dir key as API-key hashes.
  const hmacKey = await loadOrCreateHmacKey(paths.secretKey);
  // Alerts use the same database: it decides which replica raises each one and which sends each delivery.
  // Started without an `alerts` block too (raising nothing), so a reload that adds one takes effect.
  const alerts = await startAlertNotifier(capture.db, config.alerts ?? null, {
    gatewayId: env.get("RECONDO_GATEWAY_ID") || hostname(),
  });
  const services: PolicyServices = {
    ...createPolicyServices(capture.db),
    secretHasher: (value) => hashApiKey(hmacKey, value),
    alerts: alerts.sink,
  };
  return {
    parsers: providerParsers,
    sink: capture.sink,
    capture,
    services,
    alerts,
    hmacKey,
    shutdown: async () => {
      await alerts.close();
      await capture.close();
    },
  };
}

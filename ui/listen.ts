/**
 * The UI on a port of its own (`ui.listen` or `--ui-listen host:port`), for deployments that keep the
 * proxy port for agents only. With a certificate and key (`ui.tls`) it is HTTPS, on any address; without
 * them it is plain HTTP, and then only on a loopback address: a team reaching it over the network would
 * send passwords and session cookies in clear, so a non-loopback address without TLS stops the start.
 * @example const listener = startUiListener(ui, "0.0.0.0:8444", { tls: { cert, key } });
 * @module
 */
import { isLoopbackHost } from "../config/ui_schema.ts";
import { log } from "../core/log.ts";
import type { Ui } from "./app.ts";

/** A running UI listener. */
export interface UiListener {
  hostname: string;
  port: number;
  /** `https://host:port` or `http://host:port`. */
  url: string;
  close(): Promise<void>;
}

/**
 * The host and port of `address` (`host:port`) for a UI listener with or without TLS; throws naming a
 * malformed address, or a non-loopback one without TLS. `serve` calls it before starting anything.
 */
export function uiAddress(address: string, options: { tls: boolean }): { hostname: string; port: number } {
  const match = /^([^\s:]*|\[[0-9a-f:]+\]):(\d{1,5})$/i.exec(address);
  if (!match) throw new Error(`--ui-listen must be host:port, e.g. 127.0.0.1:8444, got "${address}"`);
  const hostname = match[1].replace(/^\[|\]$/g, "") || "127.0.0.1";
  if (!options.tls && !isLoopbackHost(hostname)) {
    throw new Error(
      `Refusing to serve the web UI over plain HTTP on ${address}: passwords and session cookies would cross ` +
        `the network in clear. Give it a certificate and key (ui.tls.certFile and ui.tls.keyFile, or ` +
        `RECONDO_UI_TLS_CERT_FILE and RECONDO_UI_TLS_KEY_FILE), or listen on loopback (127.0.0.1:${
          match[2]
        })`,
    );
  }
  return { hostname, port: Number(match[2]) };
}

/** Serves `ui` on `address` (`host:port`, port 0 for any), over HTTPS when `tls` is given (see `uiAddress`). */
export function startUiListener(
  ui: Ui,
  address: string,
  options: { tls?: { cert: string; key: string } | null } = {},
): UiListener {
  const tls = options.tls ?? null;
  const { hostname, port } = uiAddress(address, { tls: tls !== null });
  const handler = async (req: Request) =>
    (await ui.handle(req)) ?? new Response("Not found\n", { status: 404 });
  const server = tls
    ? Deno.serve({ hostname, port, cert: tls.cert, key: tls.key, onListen() {} }, handler)
    : Deno.serve({ hostname, port, onListen() {} }, handler);
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `${tls ? "https" : "http"}://${host}:${server.addr.port}`;
  log.info("ui.listening", { url });
  return { hostname, port: server.addr.port, url, close: () => server.shutdown() };
}

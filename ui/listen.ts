/**
 * The UI on a port of its own (`--ui-listen host:port`), for deployments that keep the proxy port for
 * agents only. Loopback unless told otherwise; the same handler as on the proxy port.
 * @example const listener = startUiListener(ui, "127.0.0.1:8444");
 * @module
 */
import { log } from "../core/log.ts";
import type { Ui } from "./app.ts";

/** A running UI listener. */
export interface UiListener {
  hostname: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `ui` on `address` (`host:port`, port 0 for any); throws naming a malformed address. */
export function startUiListener(ui: Ui, address: string): UiListener {
  const match = /^([^\s:]*|\[[0-9a-f:]+\]):(\d{1,5})$/i.exec(address);
  if (!match) throw new Error(`--ui-listen must be host:port, e.g. 127.0.0.1:8444, got "${address}"`);
  const hostname = match[1].replace(/^\[|\]$/g, "") || "127.0.0.1";
  const server = Deno.serve(
    { hostname, port: Number(match[2]), onListen() {} },
    async (req) => (await ui.handle(req)) ?? new Response("Not found\n", { status: 404 }),
  );
  log.info("ui.listening", { url: `http://${hostname}:${server.addr.port}` });
  return { hostname, port: server.addr.port, close: () => server.shutdown() };
}

/**
 * A blind TCP tunnel for a CONNECT to a host Recondo does not intercept: bytes both ways, nothing read.
 * Each tunnel counts as in flight until either side closes, so drain lets it finish within the grace
 * (Recondo cannot see request boundaries inside it, so it cannot end it early the way it ends an idle
 * intercepted connection).
 * @module
 */
import net from "node:net";
import type { Buffer } from "node:buffer";
import type { InFlight } from "./inflight.ts";

/** Options of {@link blindTunnel}. */
export interface BlindTunnelOptions {
  inFlight?: InFlight;
  /** Answers the client when the target cannot be reached (before any byte was relayed). */
  refuse(reason: string): void;
}

/** Connects to `target`, answers the client's CONNECT with 200 and relays until either side closes. */
export function blindTunnel(
  client: net.Socket,
  target: { host: string; port: number },
  rest: Buffer,
  options: BlindTunnelOptions,
): void {
  const upstream = net.connect({ port: target.port, host: target.host, noDelay: true });
  const release = options.inFlight?.hold("tunnel") ?? (() => {});
  let connected = false;
  upstream.once("connect", () => {
    connected = true;
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (rest.length > 0) upstream.write(rest);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on("error", (error) => {
    if (!connected) return options.refuse(`cannot reach ${target.host}:${target.port}: ${error.message}`);
    client.destroy();
    upstream.destroy();
  });
  client.on("error", () => upstream.destroy());
  client.once("close", () => {
    release();
    upstream.destroy();
  });
  upstream.once("close", () => {
    release();
    client.destroy();
  });
}

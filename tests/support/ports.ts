/**
 * Free loopback ports for servers the tests start as child processes (PostgreSQL, gateways, haproxy, S3).
 *
 * Binding port 0 and closing the listener hands out a port from the kernel's ephemeral range, the same
 * range every outgoing connection draws its local port from: between our close and the child's bind,
 * a connection to PostgreSQL or to the fake provider can take it, and the child dies with EADDRINUSE (seen
 * in CI). So ports come from below the ephemeral range, where the kernel never assigns one on its own,
 * are checked by binding them, and are never handed out twice by this process.
 * @module
 */

const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const [low] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/);
    const value = Number(low);
    return Number.isInteger(value) && value > 2048 ? value : 32768;
  } catch {
    return 32768;
  }
}

function bindable(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on and the kernel will not pick for an outgoing connection. */
export function freePort(): number {
  const high = ephemeralLow() - 1;
  const low = Math.max(1025, high - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port) || !bindable(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`No free port between ${low} and ${high} after 200 tries`);
}

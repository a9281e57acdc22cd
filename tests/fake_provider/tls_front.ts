/**
 * HTTPS for the fake provider without Nagle stalls. `Deno.serve({ cert, key })` sockets have no
 * TCP_NODELAY, so over HTTP/1.1 a response written in two pieces waits ~40 ms for a delayed ACK (measured:
 * p50 44 ms for a small JSON answer). Benchmarks go through this fake, so it terminates TLS with `node:tls`
 * (no-delay sockets, ALPN h2 and http/1.1 like the real providers) and pipes the bytes to the plain
 * loopback `Deno.serve`, which detects HTTP/1.1 and h2 by itself.
 * @module
 */
import net from "node:net";
import tls from "node:tls";

/** A running TLS front. */
export interface TlsFront {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any) and forwards each decrypted connection to 127.0.0.1:`targetPort`. */
export function startTlsFront(
  targetPort: number,
  options: { cert: string; key: string; port?: number },
): Promise<TlsFront> {
  const open = new Set<net.Socket>();
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    ALPNProtocols: ["h2", "http/1.1"],
    noDelay: true,
  }, (client) => {
    client.setNoDelay(true);
    const inner = net.connect({ host: "127.0.0.1", port: targetPort, noDelay: true });
    open.add(client);
    open.add(inner);
    client.pipe(inner);
    inner.pipe(client);
    // Either side ending abruptly (e.g. the fake cutting a stream) must end the other one abruptly too,
    // so the client sees a truncated response, not a clean close.
    const teardown = () => {
      open.delete(client);
      open.delete(inner);
      client.destroy();
      inner.destroy();
    };
    inner.on("error", teardown);
    inner.on("close", teardown);
    client.on("error", teardown);
    client.on("close", teardown);
  });
  // A client that fails the handshake (e.g. does not trust the CA) is its own problem, not the fake's.
  server.on("tlsClientError", () => {});
  const { promise, resolve, reject } = Promise.withResolvers<TlsFront>();
  server.once(
    "error",
    (err: Error) => reject(new Error(`Cannot start TLS front on port ${options.port ?? 0}`, { cause: err })),
  );
  server.listen(options.port ?? 0, "127.0.0.1", () => {
    const address = server.address() as net.AddressInfo;
    resolve({
      port: address.port,
      close: () =>
        new Promise<void>((done) => {
          for (const socket of open) socket.destroy();
          server.close(() => done());
        }),
    });
  });
  return promise;
}

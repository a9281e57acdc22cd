/**
 * Raw client connections through the gateway for drain tests: a CONNECT, then TLS (ALPN of choice) on
 * the tunnel, so a test sees exactly when the gateway closes the connection and what bytes came first.
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";

/** Opens `CONNECT host:443` on the proxy port and resolves with the raw socket once answered 200. */
export function connectTunnel(port: number, host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("error", reject);
    socket.once("connect", () => socket.write(`CONNECT ${host} HTTP/1.1\r\nhost: ${host}\r\n\r\n`));
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.off("error", reject);
      if (/^HTTP\/1\.1 200/.test(head)) resolve(socket);
      else reject(new Error(`CONNECT answered ${head.split("\r\n")[0]}`));
    };
    socket.on("data", onData);
  });
}

/** A TLS connection to `host` through the gateway, trusting its CA. */
export async function proxiedTls(
  port: number,
  host: string,
  options: { ca: string; alpn: "http/1.1" | "h2" },
): Promise<tls.TLSSocket> {
  const raw = await connectTunnel(port, host);
  return await new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket: raw,
      servername: host,
      ca: options.ca,
      ALPNProtocols: [options.alpn],
    });
    secure.once("secureConnect", () => resolve(secure));
    secure.once("error", reject);
  });
}

/** Collects what a socket receives, and resolves `closed` with it when the peer ends the connection. */
export function collect(socket: net.Socket): { text(): string; closed: Promise<string> } {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const text = () => Buffer.concat(chunks).toString("utf8");
  const closed = new Promise<string>((resolve) => {
    socket.once("end", () => resolve(text()));
    socket.once("close", () => resolve(text()));
  });
  return { text, closed };
}

/** Resolves once `predicate` holds for what `collect` has received so far. */
export function received(
  socket: net.Socket,
  seen: { text(): string },
  predicate: (text: string) => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate(seen.text())) return;
      socket.off("data", check);
      socket.off("close", onClose);
      resolve(seen.text());
    };
    const onClose = () => reject(new Error(`connection closed before the expected bytes: ${seen.text()}`));
    socket.on("data", check);
    socket.once("close", onClose);
    queueMicrotask(check);
  });
}

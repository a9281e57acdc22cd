/**
 * The soak's floor: an entry for `bench/soak.ts --entry "bench/soak_floor.ts serve"` built from the same
 * platform layers as `serve` with none of Recondo's logic, so a soak through it says what the platform
 * itself costs per stream. A `node:net` front door answers CONNECT, wraps the socket in a `node:tls`
 * `TLSSocket` (server side, the leaf minted under Recondo's CA by the same code, ALPN `http/1.1`) and pipes
 * the decrypted bytes into a loopback `Deno.serve`, reading the pipe into one 16 KiB buffer per connection
 * as `proxy/front_door.ts` does; its handler `fetch`es the upstream through `Deno.createHttpClient` with
 * the gateway's options and returns the upstream's body stream. No policies, parser, capture, metrics.
 *
 * With `SOAK_FLOOR_JS_RELAY=1` the handler returns a pull-based stream (high-water mark 0) that reads the
 * upstream body chunk by chunk instead, as any gateway that looks at the chunks must (Recondo's
 * `proxy/response_relay.ts`): returned as it is, Deno can hand the `fetch` body to `Deno.serve` without
 * the chunks passing through JavaScript at all.
 *
 * It reads what `serve` reads from the soak runner: `--listen HOST:PORT`, `RECONDO_DATA_DIR` (the CA is
 * written to `ca/ca.crt` there), `RECONDO_EXTRA_CA_CERTS`, `RECONDO_UPSTREAM_OVERRIDE`; origin-form
 * requests (the runner's `/healthz`) are piped to the inner server in the clear.
 * @module
 */
import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { dataPaths } from "../config/paths.ts";
import { parseUpstreamOverride } from "../config/upstream_override.ts";
import { loadOrCreateCa } from "../proxy/tls/ca.ts";
import { createLeafCache } from "../proxy/tls/leaf_cache.ts";
import { DEFAULT_MAX_IDLE_PER_HOST } from "../proxy/upstream_client.ts";

const PIPE_READ_BYTES = 16 * 1024;
const DROPPED_HEADERS = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "host"];

const JS_RELAY = Deno.env.get("SOAK_FLOOR_JS_RELAY") === "1";

/** The body read chunk by chunk in JavaScript and passed on, nothing else. */
function relayed(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

function listenAddress(): { hostname: string; port: number } {
  const at = Deno.args.indexOf("--listen");
  const [hostname, port] = (at >= 0 ? Deno.args[at + 1] : "127.0.0.1:8080").split(":");
  return { hostname, port: Number(port) };
}

function startInner(origins: Map<string, string>, client: Deno.HttpClient): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return new Response("ok\n");
    const host = req.headers.get("host")?.replace(/:443$/, "") ?? "";
    const origin = origins.get(host) ?? `https://${host}`;
    const headers = new Headers(req.headers);
    for (const name of DROPPED_HEADERS) headers.delete(name);
    headers.set("host", host);
    const upstream = await fetch(`${origin}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.body ? await req.bytes() : null,
      client,
      redirect: "manual",
    });
    const answer = new Headers(upstream.headers);
    for (const name of DROPPED_HEADERS) answer.delete(name);
    return new Response(JS_RELAY && upstream.body ? relayed(upstream.body) : upstream.body, {
      status: upstream.status,
      headers: answer,
    });
  });
}

/** Reads up to the end of the first request head; resolves with the head and any bytes after it. */
function readHead(socket: net.Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.pause();
      resolve({ head: seen.subarray(0, end).toString("latin1"), rest: seen.subarray(end + 4) });
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

function pipeToInner(client: net.Socket, prefix: Buffer, innerPort: number): void {
  const inner = net.connect({
    port: innerPort,
    host: "127.0.0.1",
    noDelay: true,
    onread: { buffer: Buffer.allocUnsafe(PIPE_READ_BYTES), callback: toClient },
  });
  function toClient(length: number, buffer: Uint8Array): boolean {
    if (client.destroyed) return false;
    if (client.write(Buffer.from(buffer.subarray(0, length)))) return true;
    client.once("drain", () => inner.resume());
    return false;
  }
  const cleanup = () => {
    inner.destroy();
    client.destroy();
  };
  inner.once("connect", () => {
    if (prefix.length > 0) inner.write(prefix);
    client.pipe(inner);
    client.resume();
  });
  client.once("close", cleanup);
  inner.once("close", cleanup);
  for (const socket of [client, inner]) {
    socket.once("end", () => socket === client ? inner.end() : client.end());
    socket.on("error", cleanup);
  }
}

if (import.meta.main) {
  const dataDir = Deno.env.get("RECONDO_DATA_DIR");
  if (!dataDir) throw new Error("bench/soak_floor.ts needs RECONDO_DATA_DIR (the CA is kept there)");
  const origins = parseUpstreamOverride(Deno.env.get("RECONDO_UPSTREAM_OVERRIDE"));
  const ca = await loadOrCreateCa(dataPaths(dataDir), { domains: [...origins.keys()] });
  const leaves = createLeafCache(ca);
  const extraCa = Deno.env.get("RECONDO_EXTRA_CA_CERTS");
  const client = Deno.createHttpClient({
    caCerts: extraCa ? [await Deno.readTextFile(extraCa)] : undefined,
    allowHost: true,
    poolMaxIdlePerHost: DEFAULT_MAX_IDLE_PER_HOST,
  });
  const inner = startInner(origins, client);
  const { hostname, port } = listenAddress();
  const front = net.createServer({ noDelay: true }, async (socket) => {
    socket.on("error", () => socket.destroy());
    const { head, rest } = await readHead(socket).catch(() => ({ head: "", rest: Buffer.alloc(0) }));
    const [method, target] = head.split(" ");
    if (method !== "CONNECT") {
      return pipeToInner(socket, Buffer.concat([Buffer.from(`${head}\r\n\r\n`), rest]), inner.addr.port);
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      ALPNProtocols: ["http/1.1"],
      SNICallback: leaves.sniCallbackFor(target.split(":")[0]),
    });
    secure.on("error", () => {
      secure.destroy();
      socket.destroy();
    });
    secure.once("secure", () => pipeToInner(secure, Buffer.alloc(0), inner.addr.port));
    socket.resume();
  });
  front.listen(port, hostname);
}

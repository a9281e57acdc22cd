/**
 * Bench only: the least an HTTP/1.1 upstream leg can cost in Deno: `Deno.connectTls`, one
 * write per request, a hand-parsed response head, content-length and chunked bodies streamed from a 16 KiB
 * read buffer, keep-alive connections reused. No redirects, no decoding, no timeouts, no upstream proxy:
 * it measures what `fetch`'s JS layers cost on top of rustls, nothing more.
 * @module
 */

const CRLF2 = new Uint8Array([13, 10, 13, 10]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

import { isIP } from "node:net";
import * as tls from "node:tls";

/** A TLS connection as the client needs it: one buffer out, the next bytes in (null at the end). */
interface Transport {
  write(bytes: Uint8Array): Promise<void>;
  read(): Promise<Uint8Array | null>;
}

interface Conn {
  tls: Transport;
  /** Bytes read past the previous response. */
  rest: Uint8Array;
}

/** `Deno.connectTls`, read into a fresh 16 KiB buffer each time. */
async function denoTls(hostname: string, port: number, caCerts: string[]): Promise<Transport> {
  const conn = await Deno.connectTls({ hostname, port, caCerts });
  return {
    async write(bytes) {
      for (let written = 0; written < bytes.length;) written += await conn.write(bytes.subarray(written));
    },
    async read() {
      const buf = new Uint8Array(16384);
      const n = await conn.read(buf);
      return n === null ? null : buf.subarray(0, n);
    },
  };
}

/** `node:tls` `connect`, its `data` events queued for `read`. */
async function nodeTls(hostname: string, port: number, caCerts: string[]): Promise<Transport> {
  const servername = isIP(hostname) ? undefined : hostname; // SNI never names an address
  const socket = tls.connect({ host: hostname, port, ca: caCerts, servername });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  const chunks: (Uint8Array | null)[] = [];
  let waiter: ((chunk: Uint8Array | null) => void) | null = null;
  const deliver = (chunk: Uint8Array | null) => {
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(chunk);
    } else chunks.push(chunk);
  };
  socket.on("data", (chunk: Uint8Array) => deliver(chunk));
  socket.on("end", () => deliver(null));
  socket.setNoDelay(true);
  return {
    write: (bytes) => new Promise((resolve, reject) => socket.write(bytes, (e) => e ? reject(e) : resolve())),
    read: () => chunks.length ? Promise.resolve(chunks.shift()!) : new Promise((r) => waiter = r),
  };
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function rawH1Client(origin: string, caCerts: string[], engine: "deno" | "node" = "deno") {
  const url = new URL(origin);
  const port = Number(url.port || 443);
  const idle: Conn[] = [];

  async function connect(): Promise<Conn> {
    return {
      tls: await (engine === "deno" ? denoTls : nodeTls)(url.hostname, port, caCerts),
      rest: new Uint8Array(0),
    };
  }

  /** Writes `out` and reads up to the end of the answer's head; false if the connection was closed first. */
  async function exchangeHead(conn: Conn, out: Uint8Array): Promise<number | null> {
    try {
      await conn.tls.write(out);
      let end: number;
      while ((end = indexOf(conn.rest, CRLF2)) < 0) if (!await readMore(conn)) return null;
      return end;
    } catch {
      return null;
    }
  }

  async function readMore(conn: Conn): Promise<boolean> {
    const bytes = await conn.tls.read();
    if (bytes === null) return false;
    conn.rest = concat(conn.rest, bytes);
    return true;
  }

  return async function send(
    method: string,
    pathAndQuery: string,
    headers: Headers,
    body: Uint8Array | null,
  ): Promise<Response> {
    let head = `${method} ${pathAndQuery} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const [k, v] of headers) if (k !== "host" && k !== "content-length") head += `${k}: ${v}\r\n`;
    head += `content-length: ${body?.length ?? 0}\r\n\r\n`;
    const out = body ? concat(encoder.encode(head), body) : encoder.encode(head);
    // A kept-alive connection the server closed while idle (Node closes after 5 s) fails before any answer:
    // the request goes again on a new one, as every HTTP client does.
    let conn = idle.pop() ?? await connect();
    let end = await exchangeHead(conn, out);
    if (end === null) {
      conn = await connect();
      end = await exchangeHead(conn, out);
      if (end === null) throw new Error("the upstream closed the connection before answering");
    }
    const lines = decoder.decode(conn.rest.subarray(0, end)).split("\r\n");
    conn.rest = conn.rest.subarray(end + 4);
    const status = Number(lines[0].split(" ")[1]);
    const responseHeaders = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      responseHeaders.append(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    const length = responseHeaders.get("content-length");
    const chunked = /chunked/i.test(responseHeaders.get("transfer-encoding") ?? "");
    responseHeaders.delete("transfer-encoding");
    let remaining = length === null ? 0 : Number(length);
    let chunkLeft = 0;
    let done = false;
    const finish = () => {
      done = true;
      idle.push(conn);
    };
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (done) return controller.close();
        if (!chunked) {
          if (remaining === 0) return (finish(), controller.close());
          if (conn.rest.length === 0 && !await readMore(conn)) return controller.error(new Error("closed"));
          const take = conn.rest.subarray(0, Math.min(remaining, conn.rest.length));
          conn.rest = conn.rest.subarray(take.length);
          remaining -= take.length;
          controller.enqueue(take.slice());
          if (remaining === 0) finish();
          return;
        }
        for (;;) {
          if (chunkLeft > 0) {
            if (conn.rest.length === 0 && !await readMore(conn)) return controller.error(new Error("closed"));
            const take = conn.rest.subarray(0, Math.min(chunkLeft, conn.rest.length));
            conn.rest = conn.rest.subarray(take.length);
            chunkLeft -= take.length;
            if (chunkLeft === 0) chunkLeft = -2; // the CRLF after the chunk
            return controller.enqueue(take.slice());
          }
          let lineEnd: number;
          while ((lineEnd = indexOf(conn.rest, CRLF2.subarray(0, 2))) < 0) {
            if (!await readMore(conn)) return controller.error(new Error("closed"));
          }
          if (chunkLeft === -2) {
            conn.rest = conn.rest.subarray(lineEnd + 2);
            chunkLeft = 0;
            continue;
          }
          const size = parseInt(decoder.decode(conn.rest.subarray(0, lineEnd)), 16);
          conn.rest = conn.rest.subarray(lineEnd + 2);
          if (size === 0) {
            while (indexOf(conn.rest, CRLF2.subarray(0, 2)) < 0) await readMore(conn);
            conn.rest = conn.rest.subarray(indexOf(conn.rest, CRLF2.subarray(0, 2)) + 2);
            finish();
            return controller.close();
          }
          chunkLeft = size;
        }
      },
    });
    return new Response(stream, { status, headers: responseHeaders });
  };
}

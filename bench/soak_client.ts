/**
 * The soak's load generator, its own process: holds `streams` Anthropic SSE streams open at once through
 * the proxy, each on its own connection (one `Deno.HttpClient` each, HTTP/1.1), and measures every
 * event's delay from the `sent_at` the upstream wrote into it.
 *
 *   deno run -A bench/soak_client.ts '<SoakClientSpec as JSON>'
 *
 * Prints `{"open":N}` once every stream has its first byte (or failed), then one JSON line: the
 * `SoakClientResult`. Each request carries `x-soak-stream: <run>-<i>` so the runner can find every
 * exchange in the database.
 * @module
 */
import { percentile } from "./stats.ts";

export interface SoakClientSpec {
  url: string;
  proxy: string;
  caPem: string;
  streams: number;
  /** Tag of this run, first part of `x-soak-stream`. */
  run: string;
  /** Streams are opened over this many ms (TLS handshakes spread out rather than all in one tick). */
  rampMs: number;
}

export interface SoakClientResult {
  completed: number;
  failed: number;
  firstError: string | null;
  events: number;
  /** Events per stream, lowest and highest (every stream should see them all). */
  eventsMin: number;
  eventsMax: number;
  delayMs: { p50: number; p99: number; max: number };
  /** From starting a stream's request to its first byte (CONNECT, TLS, upstream), per stream. */
  firstByteMs: { p50: number; p99: number; max: number };
  /** Events that arrived 50 ms or more after they were sent. */
  lateEvents: number;
}

const REQUEST = JSON.stringify({
  stream: true,
  model: "claude-sonnet-4-5-20250929",
  max_tokens: 1024,
  messages: [{ role: "user", content: "Hold this stream open for the soak, please." }],
});

const now = () => performance.timeOrigin + performance.now();

/**
 * One stream over its own connection: CONNECT, TLS (rustls via `Deno.startTls`) and a hand-written
 * HTTP/1.1 request. Deno's `fetch` through a proxy opened only ~25 connections at once here and queued the
 * rest for seconds (measured: 300 streams took 30 s to all get a first byte, against 3 s this way), so the
 * soak would have measured the client instead of the gateway.
 */
async function oneStream(
  spec: SoakClientSpec,
  i: number,
  samples: { delays: number[]; firstBytes: number[] },
): Promise<number> {
  const start = now();
  const proxy = new URL(spec.proxy);
  const target = new URL(spec.url);
  const tcp = await Deno.connect({ hostname: proxy.hostname, port: Number(proxy.port) });
  let conn: Deno.Conn = tcp;
  try {
    const authority = `${target.hostname}:${target.port || 443}`;
    await writeAll(conn, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const reply = await readHead(conn);
    if (!/^HTTP\/1\.1 200/.test(reply.head)) {
      throw new Error(`CONNECT answered ${reply.head.split("\r\n")[0]}`);
    }
    const tls = await Deno.startTls(tcp, { hostname: target.hostname, caCerts: [spec.caPem] });
    conn = tls;
    await writeAll(
      tls,
      `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.hostname}\r\ncontent-type: application/json\r\n` +
        `anthropic-version: 2023-06-01\r\nx-api-key: sk-ant-soak-0000000000000000\r\n` +
        `x-soak-stream: ${spec.run}-${i}\r\ncontent-length: ${BODY.length}\r\n\r\n`,
      BODY,
    );
    const response = await readHead(tls);
    const status = response.head.split("\r\n")[0];
    if (!/^HTTP\/1\.1 200/.test(status)) throw new Error(`stream ${i} answered ${status}`);
    if (!/^transfer-encoding:\s*chunked/im.test(response.head)) throw new Error(`stream ${i} is not chunked`);
    samples.firstBytes.push(now() - start);
    opened();
    const decoder = new TextDecoder();
    let pending = "";
    let events = 0;
    for await (const { bytes, received } of dechunk(tls, response.rest)) {
      pending += decoder.decode(bytes, { stream: true });
      let end: number;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        const event = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const sent = /^: sent_at=([\d.]+)$/m.exec(event);
        if (sent) samples.delays.push(received - Number(sent[1]));
        events++;
      }
    }
    return events;
  } finally {
    conn.close();
  }
}

const encoder = new TextEncoder();
const BODY = encoder.encode(REQUEST);

async function writeAll(conn: Deno.Conn, head: string, body?: Uint8Array): Promise<void> {
  const headBytes = encoder.encode(head);
  const all = new Uint8Array(headBytes.length + (body?.length ?? 0));
  all.set(headBytes);
  if (body) all.set(body, headBytes.length);
  let written = 0;
  while (written < all.length) written += await conn.write(all.subarray(written));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Reads up to the end of a response head; returns it and the bytes read after it. */
async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array }> {
  let data: Uint8Array = new Uint8Array(0);
  const buffer = new Uint8Array(16 * 1024);
  while (true) {
    const text = new TextDecoder("latin1").decode(data);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) return { head: text.slice(0, end), rest: data.subarray(end + 4) };
    const n = await conn.read(buffer);
    if (n === null) throw new Error("connection closed before a response head");
    data = concat(data, buffer.subarray(0, n));
  }
}

/** The payload of a chunked body as it arrives, each piece with the time its bytes were read. */
async function* dechunk(
  conn: Deno.Conn,
  first: Uint8Array,
): AsyncGenerator<{ bytes: Uint8Array; received: number }> {
  let data: Uint8Array = first;
  let received = now();
  const buffer = new Uint8Array(64 * 1024);
  const more = async () => {
    // A stream silent for a minute is stuck: fail it rather than hang the soak.
    const timer = setTimeout(() => conn.close(), 60_000);
    const n = await conn.read(buffer).finally(() => clearTimeout(timer));
    if (n === null) throw new Error("connection closed inside a chunked body");
    data = concat(data, buffer.subarray(0, n));
    received = now();
  };
  while (true) {
    let line: number;
    while ((line = data.indexOf(10)) < 0) await more();
    const size = parseInt(new TextDecoder().decode(data.subarray(0, line)), 16);
    if (!Number.isFinite(size)) throw new Error("malformed chunk size");
    data = data.subarray(line + 1);
    if (size === 0) return;
    let remaining = size;
    while (remaining > 0) {
      if (data.length === 0) await more();
      const piece = data.subarray(0, Math.min(remaining, data.length));
      remaining -= piece.length;
      data = data.subarray(piece.length);
      yield { bytes: piece, received };
    }
    while (data.length < 2) await more();
    data = data.subarray(2); // the chunk's CRLF
  }
}

let openCount = 0;
let target = 0;
function opened(): void {
  if (++openCount === target) console.log(JSON.stringify({ open: openCount }));
}

export async function soak(spec: SoakClientSpec): Promise<SoakClientResult> {
  target = spec.streams;
  const delays: number[] = [];
  const firstBytes: number[] = [];
  const perStream: number[] = [];
  let failed = 0;
  let firstError: string | null = null;
  const gap = spec.rampMs / Math.max(1, spec.streams);
  const runs: Promise<void>[] = [];
  for (let i = 0; i < spec.streams; i++) {
    runs.push(
      oneStream(spec, i, { delays, firstBytes }).then(
        (events) => void perStream.push(events),
        (error: Error) => {
          failed++;
          firstError ??= error.message;
          opened();
        },
      ),
    );
    if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
  }
  await Promise.all(runs);
  delays.sort((a, b) => a - b);
  return {
    completed: perStream.length,
    failed,
    firstError,
    events: delays.length,
    eventsMin: perStream.length ? Math.min(...perStream) : 0,
    eventsMax: perStream.length ? Math.max(...perStream) : 0,
    delayMs: {
      p50: percentile(delays, 50),
      p99: percentile(delays, 99),
      max: delays.length ? delays[delays.length - 1] : Number.NaN,
    },
    firstByteMs: {
      p50: percentile(firstBytes, 50),
      p99: percentile(firstBytes, 99),
      max: firstBytes.length ? Math.max(...firstBytes) : Number.NaN,
    },
    lateEvents: delays.filter((d) => d >= 50).length,
  };
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "null") as SoakClientSpec | null;
  if (!spec) throw new Error("soak_client: pass the SoakClientSpec as one JSON argument");
  console.log(JSON.stringify(await soak(spec)));
}

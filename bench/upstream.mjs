// @ts-check
/**
 * The benchmark's HTTPS upstream, run with `node` (not Deno) so that it is neutral between the proxies
 * under test and its sockets have TCP_NODELAY (Node's default; `Deno.serve` TLS sockets do not, which
 * holds small SSE writes back behind delayed ACKs).
 *
 *   node bench/upstream.mjs CERT.pem KEY.pem
 *
 * Prints `{"port":N}` once listening. `POST /v1/messages` answers a ~2 KB Anthropic Messages JSON, or,
 * when the body contains `"stream":true`, an Anthropic SSE stream of EVENTS events one every INTERVAL ms.
 * Every SSE event starts with a comment line `: sent_at=<ms>` (performance.timeOrigin + now()) so the
 * client can compute each event's delay on the same clock. `GET /__count` answers how many requests it
 * served. Stops on SIGTERM/SIGINT.
 */
import https from "node:https";
import { readFileSync } from "node:fs";

const EVENTS = Number(process.env.BENCH_SSE_EVENTS ?? 20);
const INTERVAL_MS = Number(process.env.BENCH_SSE_INTERVAL_MS ?? 20);

const now = () => performance.timeOrigin + performance.now();

/** A valid Anthropic Messages response padded to about 2 KB of JSON. */
function jsonBody() {
  const message = {
    id: "msg_bench_0000000000000000000000",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [{ type: "text", text: "" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 1200, output_tokens: 420, cache_read_input_tokens: 0 },
  };
  const base = Buffer.byteLength(JSON.stringify(message));
  message.content[0].text = "lorem ipsum dolor sit amet ".repeat(80).slice(0, 2048 - base);
  return Buffer.from(JSON.stringify(message));
}

const JSON_BODY = jsonBody();

/** @param {string} type @param {unknown} data */
function event(type, data) {
  return `: sent_at=${now().toFixed(3)}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The i-th of EVENTS Anthropic stream events (start, deltas, stop). @param {number} i */
function streamEvent(i) {
  if (i === 0) {
    return event("message_start", {
      type: "message_start",
      message: {
        id: "msg_bench_stream",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5-20250929",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 1200, output_tokens: 1 },
      },
    });
  }
  if (i === 1) {
    return event("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    });
  }
  if (i === EVENTS - 3) return event("content_block_stop", { type: "content_block_stop", index: 0 });
  if (i === EVENTS - 2) {
    return event("message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: EVENTS * 4 },
    });
  }
  if (i === EVENTS - 1) return event("message_stop", { type: "message_stop" });
  return event("content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: `word ${i} of the streamed answer ` },
  });
}

/** @param {import("node:http").ServerResponse} res */
function stream(res) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    res.write(streamEvent(i++));
    if (i < EVENTS) setTimeout(next, INTERVAL_MS);
    else res.end();
  };
  next();
}

let answered = 0;

const server = https.createServer({
  cert: readFileSync(process.argv[2]),
  key: readFileSync(process.argv[3]),
  noDelay: true,
  keepAliveTimeout: 60_000,
}, (req, res) => {
  if (req.url === "/__count") {
    // For the capture benchmark: how many model requests reached the upstream (to check exactly-once).
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify({ requests: answered }));
  }
  answered++;
  /** @type {Buffer[]} */
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    if (Buffer.concat(chunks).includes('"stream":true')) return stream(res);
    res.writeHead(200, { "content-type": "application/json", "content-length": JSON_BODY.length });
    res.end(JSON_BODY);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 }));
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));

/**
 * The upstream client has two engines (proxy/upstream_client.ts): Deno's fetch for bodies of known
 * length up to FETCH_BODY_LIMIT, node:https for larger and streamed ones. Whichever carries a request,
 * the upstream must get the same bytes, and the client and capture the same decoded answer.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { FETCH_BODY_LIMIT } from "../proxy/upstream_client.ts";
import { startTestGateway, startUpstream } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

function bodyOf(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = 32 + (i * 7) % 90;
  return bytes;
}

/** A body of unknown length: the client sends it chunked, in 16 KB pieces. */
function streamOf(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array<ArrayBuffer>> {
  return new ReadableStream({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 16_384) controller.enqueue(bytes.slice(at, at + 16_384));
      controller.close();
    },
  });
}

async function sha(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16))
    .join("");
}

Deno.test({
  name: "small, large and chunked request bodies reach the upstream intact and their gzip answers decoded",
  ...SANITIZE,
  async fn() {
    const answer = JSON.stringify({ answer: "compressed ".repeat(300) });
    const seen: { length: string | null; chunked: boolean; sha: string; connection: string | null }[] = [];
    await using upstream = startUpstream(async (req) => {
      const bytes = new Uint8Array(await req.arrayBuffer());
      seen.push({
        length: req.headers.get("content-length"),
        chunked: (req.headers.get("transfer-encoding") ?? "").includes("chunked"),
        sha: await sha(bytes),
        connection: req.headers.get("connection"),
      });
      return new Response(new Uint8Array(gzipSync(answer)), {
        headers: { "content-encoding": "gzip", "content-type": "application/json" },
      });
    });
    const sink = new MemorySink();
    await using gw = await startTestGateway({ sink, overrides: { "api.openai.com": upstream.origin } });
    const small = bodyOf(10_000);
    const large = bodyOf(FETCH_BODY_LIMIT + 1);
    const streamed = bodyOf(70_000);
    const cases = [
      { name: "small", bytes: small, body: small as BodyInit },
      { name: "large", bytes: large, body: large as BodyInit },
      { name: "chunked", bytes: streamed, body: streamOf(streamed) as BodyInit },
    ];
    for (const c of cases) {
      const res = await fetch("https://api.openai.com/v1/echo", {
        method: "POST",
        client: gw.client,
        body: c.body,
        headers: { "content-type": "application/octet-stream", "user-agent": "test", accept: "*/*" },
      });
      assert.equal(res.status, 200, c.name);
      assert.equal(res.headers.get("content-encoding"), null, c.name);
      assert.equal(await res.text(), answer, c.name);
    }
    assert.equal(seen.length, 3);
    for (const [i, c] of cases.entries()) assert.equal(seen[i].sha, await sha(c.bytes), c.name);
    // The small body went out whole with its length; the chunked one was streamed on, still chunked.
    assert.equal(seen[0].length, String(small.length));
    assert.equal(seen[1].length, String(large.length));
    assert.equal(seen[2].chunked, true);
    // Node's client sends `connection: keep-alive`, Deno's fetch no connection header: this shows which
    // engine carried each request.
    assert.deepEqual(seen.map((s) => s.connection), [null, "keep-alive", "keep-alive"]);
    const captured = await sink.waitFor(3);
    for (const [i, c] of cases.entries()) {
      assert.equal(await sha(captured[i].request.slice()), await sha(c.bytes), `captured ${c.name}`);
      assert.equal(new TextDecoder().decode(captured[i].response), answer, `captured ${c.name}`);
    }
  },
});

Deno.test({
  name: "a client that leaves in the middle of a known-length upload ends the exchange as client-aborted",
  ...SANITIZE,
  async fn() {
    let upstreamCalls = 0;
    await using upstream = startUpstream(() => {
      upstreamCalls++;
      return new Response("{}");
    });
    const sink = new MemorySink();
    await using gw = await startTestGateway({ sink, overrides: { "api.openai.com": upstream.origin } });
    const url = new URL(gw.proxyUrl);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    await conn.write(
      new TextEncoder().encode("CONNECT api.openai.com:443 HTTP/1.1\r\nhost: api.openai.com\r\n\r\n"),
    );
    const reply = new Uint8Array(1024);
    await conn.read(reply);
    assert.match(new TextDecoder().decode(reply), /^HTTP\/1.1 200/);
    const secure = await Deno.startTls(conn, { hostname: "api.openai.com", caCerts: [gw.caPem] });
    await secure.write(
      new TextEncoder().encode(
        'POST /v1/chat/completions HTTP/1.1\r\nhost: api.openai.com\r\ncontent-length: 50000\r\n\r\n{"model":',
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    secure.close();
    const [done] = await sink.waitFor(1);
    assert.equal(done.exchange.outcome, "client-aborted");
    assert.equal(upstreamCalls, 0);
  },
});

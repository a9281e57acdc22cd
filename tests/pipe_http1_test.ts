/**
 * The front door reads HTTP/1.1 answers from the pipe into one small buffer per connection (not a fresh
 * 64 KiB buffer per read) and stops reading while the client is behind: a large answer to a client that
 * reads slowly arrives whole and in order, and a stream's events still arrive one by one.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "./support/gateway.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

/** Byte i of the large answer: a pattern that shows a lost, doubled or reordered piece. */
const patternAt = (i: number) => (i * 31 + (i >> 12)) & 0xff;

Deno.test({
  name: "a 12 MB answer to a slow HTTP/1.1 client arrives whole and in order through the pipe",
  ...SANITIZE,
  async fn() {
    const size = 12 * 1024 * 1024;
    await using upstream = startUpstream(() => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= size) return controller.close();
          const chunk = new Uint8Array(Math.min(64 * 1024, size - sent));
          for (let j = 0; j < chunk.length; j++) chunk[j] = patternAt(sent + j);
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      return new Response(body, { headers: { "content-type": "application/octet-stream" } });
    });
    await using gw = await startTestGateway({ overrides: { "api.anthropic.com": upstream.origin } });
    // HTTP/1.1 only: h2 connections go through the h2 relay instead of this path.
    using client = Deno.createHttpClient({
      caCerts: [gw.caPem],
      proxy: { url: gw.proxyUrl },
      http2: false,
      http1: true,
    });
    const res = await fetch("https://api.anthropic.com/v1/files/big", { client });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let received = 0;
    let pauses = 0;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let j = 0; j < value.length; j++) {
        if (value[j] !== patternAt(received + j)) assert.fail(`byte ${received + j} differs`);
      }
      received += value.length;
      // A slow reader: the gateway has to hold off reading the pipe meanwhile, several times.
      if (pauses < 5 && received > (pauses + 1) * 2 * 1024 * 1024) {
        pauses++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.equal(received, size);
    assert.equal(pauses, 5);
  },
});

/**
 * Fills a data dir with captured exchanges whose request bodies are unique and sized like real agent
 * requests, through the real capture (worker, journal, SQLite, local objects), for `verify` benchmarks.
 * @module
 */
import { createCapture } from "../capture/mod.ts";
import { fakeExchange, fakeParsed } from "../capture/test_exchange.ts";
import { dataPaths } from "../config/paths.ts";

/** Captures `exchanges` exchanges into `dir` with request bodies of `minBytes`–`maxBytes`. */
export async function seedCapturedStore(
  dir: string,
  options: { exchanges: number; minBytes: number; maxBytes: number },
): Promise<void> {
  const capture = await createCapture({
    paths: dataPaths(dir),
    config: { capture: { durability: "batched", flushIntervalMs: 50 } },
    env: new Map([["RECONDO_STORE", "sqlite"], ["RECONDO_OBJECTS", "local"]]),
    signIntervalMs: 3_600_000,
  });
  const encoder = new TextEncoder();
  try {
    for (let i = 0; i < options.exchanges; i++) {
      const size = options.minBytes + Math.floor(Math.random() * (options.maxBytes - options.minBytes));
      const filler = crypto.getRandomValues(new Uint8Array(size * 3 / 4)).reduce(
        (text, byte) => text + String.fromCharCode(97 + (byte % 26)),
        "",
      );
      const body = encoder.encode(JSON.stringify({
        model: "claude-sonnet-4-5",
        messages: [{ role: "user", content: `seed ${i} ${filler}` }],
      }));
      const ex = fakeExchange({ connectionId: `seed-${i % 16}` });
      const tap = capture.sink.begin(ex);
      tap.requestChunk(body);
      tap.responseChunk(encoder.encode(`{"id":"msg_${i}","content":[{"type":"text","text":"answer ${i}"}]}`));
      await tap.end(ex, fakeParsed({ sessionId: `seed-${i % 100}`, userText: `seed ${i}` }));
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 0));
    }
  } finally {
    await capture.close();
  }
}

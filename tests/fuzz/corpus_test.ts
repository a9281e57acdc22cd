/**
 * Replays the inputs that found bugs (tests/fuzz/corpus/regressions.json) against a fuzz gateway and checks
 * the statuses each must get now, and that no connection is left open afterwards.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { startFuzzGateway } from "./front_door_targets.ts";
import { fromBase64 } from "./engine.ts";
import { Rng } from "./rng.ts";
import { connect, exchange, h1Complete, h1Statuses, tunnel } from "./wire.ts";

interface Case {
  target: "http1" | "tls";
  found: string;
  input?: string;
  base64?: string;
  statuses: number[];
}

const corpus: { cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("./corpus/regressions.json", import.meta.url)),
);

Deno.test({
  name: "every input in the regression corpus gets the answer it should, and leaves nothing open",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const fz = await startFuzzGateway();
    try {
      const rng = new Rng(1);
      for (const c of corpus.cases) {
        const bytes = c.base64 ? Buffer.from(fromBase64(c.base64)) : Buffer.from(c.input!, "latin1");
        const socket = c.target === "tls"
          ? await tunnel(fz.gw.port, {
            host: "api.openai.com",
            ca: fz.gw.caPem,
            alpn: ["http/1.1"],
            deadlineMs: 2000,
          })
          : await connect(fz.gw.port);
        assert.ok(socket, c.found);
        const got = await exchange(socket, bytes, rng, { deadlineMs: 1500, complete: h1Complete });
        socket.destroy();
        assert.deepEqual(h1Statuses(got.bytes), c.statuses, `${c.found}\n${got.bytes.toString("latin1")}`);
      }
      assert.deepEqual(await fz.afterBatch(), []);
    } finally {
      await fz.close();
    }
  },
});

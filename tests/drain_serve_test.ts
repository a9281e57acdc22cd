/**
 * Drain in a real `recondo serve` process (SQLite capture, the UI on `--ui-listen`), driven by signals as
 * an orchestrator would: SIGTERM mid-stream, the grace running out, and a second SIGTERM.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { type GatewayProcess, startGatewayProcess } from "./agents/gateway_process.ts";
import { freePort } from "./support/ports.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { connectTunnel } from "./support/proxied_tls.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const CHUNKS = Array.from({ length: 10 }, (_, i) => `chunk-${i}-`);

async function startServe(config: Record<string, unknown> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "recondo-drain-" });
  const configFile = join(dir, "recondo.json");
  await Deno.writeTextFile(configFile, JSON.stringify(config));
  const fake = await startFakeProvider({ behavior: { answer: CHUNKS, eventDelayMs: 300 } });
  const uiPort = freePort();
  const gateway = await startGatewayProcess({
    overrides: { "api.anthropic.com": fake.url },
    configFile,
    keepLines: 1000,
    extraArgs: ["--ui-listen", `127.0.0.1:${uiPort}`],
    // The assertions read the drain's log lines, whatever level the test run itself uses.
    env: { RECONDO_LOG: "info" },
  });
  const ca = await Deno.readTextFile(gateway.caFile);
  const client = Deno.createHttpClient({ caCerts: [ca], proxy: { url: gateway.proxyUrl } });
  const cleanup = async () => {
    client.close();
    await gateway.stop().catch(() => {});
    await fake.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return { gateway, client, uiPort, cleanup };
}

/** Starts a streamed Anthropic request and resolves once its first bytes arrived. */
async function startStream(client: Deno.HttpClient) {
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client,
    headers: { "content-type": "application/json", "x-api-key": "sk-ant-api03-drain-test" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      stream: true,
      max_tokens: 64,
      messages: [{ role: "user", content: "stream slowly" }],
    }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = (await reader.read()).value ?? "";
  const rest = (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return { text, cut: false };
        text += value;
      }
    } catch {
      return { text, cut: true };
    }
  })();
  return { first: text, rest };
}

/** Polls `/readyz` on the UI listener until it answers `status`; returns how long that took. */
async function readyzBecomes(uiPort: number, status: number): Promise<{ ms: number; body: unknown }> {
  const started = Date.now();
  while (Date.now() - started < 5_000) {
    const res = await fetch(`http://127.0.0.1:${uiPort}/readyz`);
    const body = await res.json();
    if (res.status === status) return { ms: Date.now() - started, body };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`/readyz never answered ${status}`);
}

function logEvents(gateway: GatewayProcess): Record<string, unknown>[] {
  return gateway.logTail().flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

Deno.test({
  name:
    "serve drains on SIGTERM: readyz 503 at once, new CONNECTs refused, the stream ends whole and is captured",
  ...SANITIZE,
  async fn() {
    const { gateway, client, uiPort, cleanup } = await startServe();
    try {
      assert.deepEqual((await readyzBecomes(uiPort, 200)).body, { status: "ready" });
      const stream = await startStream(client);
      gateway.kill("SIGTERM");
      const notReady = await readyzBecomes(uiPort, 503);
      assert.deepEqual(notReady.body, { status: "not ready", reasons: ["draining"] });
      assert.ok(notReady.ms < 1_000, `readyz took ${notReady.ms} ms to turn 503`);
      await assert.rejects(connectTunnel(gateway.port, "api.anthropic.com"), /refused/i);
      const { text, cut } = await stream.rest;
      assert.equal(cut, false, `${text}\n${gateway.logTail().join("\n")}`);
      const answer = [...text.matchAll(/"text":"([^"]*)"/g)].map((m) => m[1]).join("");
      assert.equal(answer, CHUNKS.join(""));
      assert.match(text, /event: message_stop/);
      assert.equal((await gateway.status).code, 0);
      assert.ok(gateway.logTail().some((line) => line.startsWith("Recondo is draining (up to 300 s)")));
      assert.ok(!logEvents(gateway).some((e) => e.event === "drain.grace_expired"));
      const db = new DatabaseSync(join(gateway.dataDir, "recondo.db"), { readOnly: true });
      try {
        const turns = db.prepare("SELECT model, output_tokens FROM turns").all();
        assert.equal(turns.length, 1, "the drained exchange was not captured");
        assert.equal(turns[0].model, "claude-sonnet-4-5");
      } finally {
        db.close();
      }
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name:
    "serve with shutdownGraceSeconds 1 exits after about a second, cutting the longer stream and counting it",
  ...SANITIZE,
  async fn() {
    const { gateway, client, cleanup } = await startServe({ shutdownGraceSeconds: 1 });
    try {
      const stream = await startStream(client);
      const signalled = Date.now();
      gateway.kill("SIGTERM");
      const status = await gateway.status;
      const exitedAfter = Date.now() - signalled;
      assert.equal(status.code, 0);
      assert.ok(exitedAfter >= 1_000 && exitedAfter < 3_500, `exited ${exitedAfter} ms after SIGTERM`);
      const { text } = await stream.rest;
      assert.doesNotMatch(text, /message_stop/, "the stream was not cut");
      const expired = logEvents(gateway).find((e) => e.event === "drain.grace_expired");
      assert.equal(expired?.abandoned, 1);
    } finally {
      await cleanup();
    }
  },
});

Deno.test({
  name: "a second SIGTERM while draining exits at once with 143",
  ...SANITIZE,
  async fn() {
    const { gateway, client, uiPort, cleanup } = await startServe();
    try {
      const stream = await startStream(client);
      gateway.kill("SIGTERM");
      await readyzBecomes(uiPort, 503);
      const second = Date.now();
      gateway.kill("SIGTERM");
      const status = await gateway.status;
      assert.equal(status.code, 143);
      assert.ok(Date.now() - second < 1_000, `exit took ${Date.now() - second} ms after the second SIGTERM`);
      const { text } = await stream.rest;
      assert.doesNotMatch(text, /message_stop/, "the stream finished before the test could check anything");
      assert.ok(logEvents(gateway).some((e) => e.event === "gateway.forced_exit"));
    } finally {
      await cleanup();
    }
  },
});

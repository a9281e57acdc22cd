/**
 * WebSocket client messages pass the policy chain's message hooks before they go upstream: a modify
 * verdict rewrites the message, a block closes the socket with the reason and an error frame.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestGateway, startUpstream } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "message hooks rewrite and block WebSocket client messages before they go upstream",
  ...SANITIZE,
  async fn() {
    const seenUpstream: string[] = [];
    await using upstream = startUpstream((req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (event) => {
        seenUpstream.push(event.data);
        socket.send(JSON.stringify({ type: "response.completed" }));
      };
      return response;
    });
    const dir = await Deno.makeTempDir();
    const modulePath = join(dir, "ws_guard.ts");
    await Deno.writeTextFile(
      modulePath,
      `export default { name: "ws-guard", description: "rewrites and blocks", options: { safeParse: (v) => ({ success: true, data: v }) },
        create: () => ({ name: "ws-guard", onClientMessage(_ex, message) {
          const text = JSON.stringify(message.json);
          if (text.includes("BLOCKME")) return { kind: "block", status: 403, reason: "this message is not allowed" };
          if (text.includes("hunter2")) return { kind: "modify", reason: "masked", patch: { json: JSON.parse(text.replaceAll("hunter2", "[MASKED]")) } };
          return { kind: "allow" };
        } }) };`,
    );
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      config: { policies: [{ use: modulePath }] },
      overrides: { "api.openai.com": upstream.origin },
    });
    try {
      const ws = new WebSocket(
        "wss://api.openai.com/v1/responses",
        { client: gw.client } as unknown as string[],
      );
      const frames: string[] = [];
      const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
      ws.onmessage = (event) => frames.push(event.data);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
      });
      ws.send(JSON.stringify({ type: "response.create", input: "my password is hunter2" }));
      ws.send(JSON.stringify({ type: "response.create", input: "BLOCKME please" }));
      const close = await closed;
      assert.deepEqual(seenUpstream, [
        JSON.stringify({ type: "response.create", input: "my password is [MASKED]" }),
      ]);
      assert.equal(close.code, 1008);
      assert.equal(close.reason, "this message is not allowed");
      const error = JSON.parse(frames.at(-1)!);
      assert.deepEqual([error.type, error.status, error.error.message], [
        "error",
        403,
        "this message is not allowed",
      ]);
      const [captured] = await sink.waitFor(1);
      assert.equal(captured.exchange.outcome, "blocked");
      assert.ok(
        !captured.ws.some((m) => typeof m.data === "string" && m.data.includes("hunter2")),
        "capture saw the unmasked message",
      );
      assert.deepEqual(captured.exchange.decisions.map((d) => [d.hook, d.kind]), [["message", "modify"], [
        "message",
        "block",
      ]]);
      // The decisions on messages count in /metrics like an HTTP exchange's (the dashboard's block panels).
      const metrics = await (await fetch(`${gw.proxyUrl}/metrics`)).text();
      for (const kind of ["modify", "block"]) {
        assert.match(
          metrics,
          new RegExp(
            `^recondo_policy_decisions_total\\{policy="ws-guard",kind="${kind}",enforced="true"\\} 1$`,
            "m",
          ),
          metrics,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a WebSocket handshake refused by the chain answers in the provider's format and counts in /metrics",
  ...SANITIZE,
  async fn() {
    let upgrades = 0;
    await using upstream = startUpstream((req) => {
      upgrades++;
      return Deno.upgradeWebSocket(req).response;
    });
    await using gw = await startTestGateway({
      config: { policies: [{ use: "block-list", options: { providers: ["openai"], status: 400 } }] },
      overrides: { "api.openai.com": upstream.origin },
    });
    const res = await fetch("https://api.openai.com/v1/responses", {
      client: gw.client,
      headers: {
        connection: "upgrade",
        upgrade: "websocket",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /provider openai/);
    assert.equal(upgrades, 0, "nothing reached the upstream");
    const metrics = await (await fetch(`${gw.proxyUrl}/metrics`)).text();
    assert.match(
      metrics,
      /^recondo_policy_decisions_total\{policy="block-list",kind="block",enforced="true"\} 1$/m,
      metrics,
    );
    assert.match(
      metrics,
      /^recondo_exchanges_total\{provider="openai",status="400",outcome="blocked"\} 1$/m,
      metrics,
    );
  },
});

/**
 * `redact-secrets` through the real gateway (TLS interception, policy chain, capture): the upstream and
 * the capture sink receive the redacted body, the secret never reaches either in clear, block rules answer
 * in the provider's error format, and Codex-style WebSocket messages are redacted before they go upstream.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const AWS_ID = "AKIA" + "Q7RZ2XN4VB6M3KJP";
const STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dcQ2";
const GH = "ghp_" + "Zq8Rt2Lm5Nx7Pw3Ks9Vb4Hc6Jd1Fg0Ya2Eu7";
const SECRETS = [AWS_ID, STRIPE, GH];

function containsSecret(text: string): boolean {
  return SECRETS.some((s) => text.includes(s));
}

Deno.test({
  name: "the upstream and capture receive the redacted body; the secret never leaves the gateway in clear",
  ...SANITIZE,
  async fn() {
    const received: string[] = [];
    await using upstream = startUpstream(async (req) => {
      received.push(await req.text());
      return Response.json({ ok: true });
    });
    const sink = new MemorySink();
    await using gw = await startTestGateway({
      sink,
      config: { policies: [{ use: "redact-secrets" }] },
      overrides: { "api.anthropic.com": upstream.origin, "api.openai.com": upstream.origin },
    });
    const anthropic = {
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [
        { role: "user", content: "why does the deploy fail?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command: "cat .env" } }],
        },
        {
          role: "user",
          content: [{
            type: "tool_result",
            tool_use_id: "t1",
            content: `AWS_KEY=${AWS_ID}\nSTRIPE=${STRIPE}\n`,
          }],
        },
      ],
    };
    const a = await fetch("https://api.anthropic.com/v1/messages", {
      method: "POST",
      client: gw.client,
      headers: { "content-type": "application/json", "x-api-key": "sk-ant-api03-test" },
      body: JSON.stringify(anthropic),
    });
    assert.deepEqual(await a.json(), { ok: true });

    const openai = {
      model: "gpt-5",
      input: [
        {
          type: "function_call",
          name: "exec_command",
          call_id: "c1",
          arguments: JSON.stringify({ cmd: `gh auth login --with-token ${GH}` }),
        },
        { type: "function_call_output", call_id: "c1", output: "logged in" },
      ],
    };
    const o = await fetch("https://api.openai.com/v1/responses", {
      method: "POST",
      client: gw.client,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(openai),
    });
    assert.deepEqual(await o.json(), { ok: true });

    assert.equal(received.length, 2);
    for (const body of received) assert.ok(!containsSecret(body), `upstream saw a secret: ${body}`);
    const sentAnthropic = JSON.parse(received[0]);
    assert.match(
      sentAnthropic.messages[2].content[0].content,
      /^AWS_KEY=\[REDACTED:aws-access-key:[0-9a-f]{8}\]\n/,
    );
    assert.equal(sentAnthropic.messages[1].content[0].input.command, "cat .env");
    const sentOpenai = JSON.parse(received[1]);
    assert.match(
      JSON.parse(sentOpenai.input[0].arguments).cmd,
      /^gh auth login --with-token \[REDACTED:github-token:[0-9a-f]{8}\]$/,
    );

    const captured = await sink.waitFor(2);
    for (const c of captured) {
      const stored = new TextDecoder().decode(c.request);
      assert.ok(stored.length > 0 && !containsSecret(stored), "capture stores what was sent");
      const decision = c.exchange.decisions.find((d) => d.policy === "redact-secrets")!;
      assert.equal(decision.kind, "modify");
      assert.ok(!containsSecret(JSON.stringify(c.exchange.decisions)), "decisions hold no secret");
    }
  },
});

Deno.test({
  name:
    "a secret passed to a shell command is redacted in tool_use input and tool_result; recorded traffic passes as it was",
  ...SANITIZE,
  async fn() {
    const received: string[] = [];
    await using upstream = startUpstream(async (req) => {
      received.push(await req.text());
      return Response.json({ ok: true });
    });
    await using gw = await startTestGateway({
      config: { policies: [{ use: "redact-secrets" }] },
      overrides: { "api.anthropic.com": upstream.origin },
    });
    const token = "q8Zr2LmX5nP7wK3sV9bT";
    const command = `curl -sS -H 'X-Api-Key: ${token}' https://api.acme.dev/v1/jobs`;
    const withSecret = {
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [
        { role: "user", content: "why does the job list fail?" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command } }] },
        {
          role: "user",
          content: [{
            type: "tool_result",
            tool_use_id: "t1",
            content: `$ ${command}\n{"error":"forbidden"}`,
          }],
        },
      ],
    };
    // A Claude Code request as recorded: it must reach the upstream exactly as the client sent it.
    const recorded = JSON.stringify(
      JSON.parse(
        await Deno.readTextFile(
          new URL(
            "./fixtures/clients/claude-code/claude/004-api.anthropic.com_v1_messages.json",
            import.meta.url,
          ),
        ),
      ).body,
    );
    for (const body of [JSON.stringify(withSecret), recorded]) {
      const response = await fetch("https://api.anthropic.com/v1/messages", {
        method: "POST",
        client: gw.client,
        headers: { "content-type": "application/json", "x-api-key": "sk-ant-api03-test" },
        body,
      });
      assert.deepEqual(await response.json(), { ok: true });
    }
    assert.equal(received.length, 2);
    assert.ok(!received[0].includes(token), "the upstream never sees the token");
    const sent = JSON.parse(received[0]);
    const placeholder = /\[REDACTED:http-header-credential:[0-9a-f]{8}\]/;
    assert.match(sent.messages[1].content[0].input.command, placeholder);
    assert.match(sent.messages[2].content[0].content, placeholder);
    assert.deepEqual(JSON.parse(received[1]), JSON.parse(recorded));
  },
});

Deno.test({
  name: "a block rule stops the request with the provider's error and the upstream never sees it",
  ...SANITIZE,
  async fn() {
    let calls = 0;
    await using upstream = startUpstream(() => {
      calls++;
      return new Response("should not be reached");
    });
    await using gw = await startTestGateway({
      config: { policies: [{ use: "redact-secrets", options: { rules: { "stripe-key": "block" } } }] },
      overrides: { "api.openai.com": upstream.origin },
    });
    const response = await fetch("https://api.openai.com/v1/chat/completions", {
      method: "POST",
      client: gw.client,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-4o",
        messages: [{ role: "user", content: `charge with ${STRIPE}` }],
      }),
    });
    assert.equal(response.status, 400);
    const error = await response.json();
    assert.equal(error.error.type, "invalid_request_error");
    assert.match(error.error.message, /contains a secret \(stripe-key at messages\[0\]\.content\)/);
    assert.ok(!JSON.stringify(error).includes(STRIPE));
    assert.equal(calls, 0);
  },
});

Deno.test({
  name: "WebSocket response.create messages are redacted before they go upstream",
  ...SANITIZE,
  async fn() {
    const seenUpstream: string[] = [];
    await using upstream = startUpstream((req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (event) => {
        seenUpstream.push(event.data);
        socket.send(JSON.stringify({ type: "response.completed", response: { id: "r1" } }));
      };
      return response;
    });
    await using gw = await startTestGateway({
      config: { policies: [{ use: "redact-secrets" }] },
      overrides: { "api.openai.com": upstream.origin },
    });
    const ws = new WebSocket(
      "wss://api.openai.com/v1/responses",
      { client: gw.client } as unknown as string[],
    );
    const frames: string[] = [];
    const gotReply = new Promise<void>((resolve) => {
      ws.onmessage = (event) => {
        frames.push(event.data);
        resolve();
      };
    });
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    ws.send(JSON.stringify({
      type: "response.create",
      model: "gpt-5",
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: `use ${GH}` }] }],
    }));
    await gotReply;
    const closed = new Promise((resolve) => (ws.onclose = resolve));
    ws.close();
    await closed;
    assert.equal(seenUpstream.length, 1);
    assert.ok(!containsSecret(seenUpstream[0]));
    assert.match(
      JSON.parse(seenUpstream[0]).input[0].content[0].text,
      /^use \[REDACTED:github-token:[0-9a-f]{8}\]$/,
    );
  },
});

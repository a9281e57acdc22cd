import assert from "node:assert/strict";
import { redactJsonValue } from "./json_walker.ts";
import { hmacHasher } from "./placeholder.ts";
import { ScanCache } from "./scan_cache.ts";
import { compileRules } from "./scanner.ts";

const rules = compileRules();
const hasher = hmacHasher("walker-test");
const AWS_ID = "AKIA" + "Q7RZ2XN4VB6M3KJP";
const GH = "ghp_" + "Zq8Rt2Lm5Nx7Pw3Ks9Vb4Hc6Jd1Fg0Ya2Eu7";
const STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dcQ2";
const ph = (rule: string, secret: string) => `[REDACTED:${rule}:${hasher(secret).slice(0, 8)}]`;

/** The body as the upstream would receive it: serialised, parsed back (so it must be valid JSON). */
function sent(value: unknown): string {
  const text = JSON.stringify(value);
  JSON.parse(text);
  return text;
}

Deno.test("a secret in an Anthropic tool_result is replaced and the same secret gets the same placeholder", () => {
  const body = {
    model: "claude-sonnet-4-5",
    system: [{ type: "text", text: `Deploy with ${GH}` }],
    messages: [
      { role: "user", content: "deploy it" },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command: "cat .env" } }],
      },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "t1", content: `GITHUB=${GH}\nAWS=${AWS_ID}\n` }],
      },
    ],
  };
  const out = redactJsonValue(body, rules, { hasher });
  const text = sent(out.value);
  assert.ok(!text.includes(GH) && !text.includes(AWS_ID));
  assert.equal(text.split(ph("github-token", GH)).length - 1, 2);
  assert.deepEqual(out.findings.map((f) => f.path), [
    "system[0].text",
    "messages[2].content[0].content",
    "messages[2].content[0].content",
  ]);
  assert.ok(!JSON.stringify(out.findings).includes(GH));
  assert.equal(body.system[0].text, `Deploy with ${GH}`, "the input is not mutated");
});

Deno.test("a secret in OpenAI Responses function_call arguments (JSON in a string) keeps both levels valid", () => {
  const args = JSON.stringify({
    cmd: `curl -u admin:x https://api.stripe.com -H "key: ${STRIPE}"`,
    workdir: "/srv",
  });
  const body = {
    model: "gpt-5",
    input: [
      { type: "message", role: "user", content: [{ type: "input_text", text: "charge it" }] },
      { type: "function_call", name: "exec_command", arguments: args, call_id: "c1" },
      { type: "function_call_output", call_id: "c1", output: `{"ok":true,"key":"${STRIPE}"}` },
    ],
  };
  const out = redactJsonValue(body, rules, { hasher });
  const text = sent(out.value);
  assert.ok(!text.includes(STRIPE));
  const value = out.value as typeof body;
  const inner = JSON.parse(value.input[1].arguments!);
  assert.equal(inner.cmd, `curl -u admin:x https://api.stripe.com -H "key: ${ph("stripe-key", STRIPE)}"`);
  assert.equal(inner.workdir, "/srv");
  assert.equal(JSON.parse(value.input[2].output!).key, ph("stripe-key", STRIPE));
  assert.deepEqual(out.findings.map((f) => f.path), [
    "input[1].arguments<json>.cmd",
    "input[2].output<json>.key",
  ]);
});

Deno.test("OpenAI chat tool_calls arguments and a doubly nested JSON string are redacted at every level", () => {
  const deepest = JSON.stringify({ env: { AWS_ACCESS_KEY_ID: AWS_ID } });
  const args = JSON.stringify({ payload: deepest }, null, 2);
  const body = {
    model: "gpt-4o",
    messages: [{
      role: "assistant",
      tool_calls: [{ id: "call_1", type: "function", function: { name: "run", arguments: args } }],
    }],
  };
  const out = redactJsonValue(body, rules, { hasher });
  const value = out.value as typeof body;
  const rewritten = value.messages[0].tool_calls[0].function.arguments;
  assert.ok(rewritten.startsWith('{\n  "payload"'), "an indented nested JSON stays indented");
  const payload = JSON.parse(JSON.parse(rewritten).payload);
  assert.equal(payload.env.AWS_ACCESS_KEY_ID, ph("aws-access-key", AWS_ID));
  assert.equal(
    out.findings[0].path,
    "messages[0].tool_calls[0].function.arguments<json>.payload<json>.env.AWS_ACCESS_KEY_ID",
  );
});

Deno.test("Gemini parts text, functionCall args and the Code Assist wrapping are all walked", () => {
  const contents = [
    { role: "user", parts: [{ text: `my key is ${STRIPE}` }] },
    {
      role: "model",
      parts: [{
        functionCall: { name: "shell", args: { command: `export GH=${GH}` } },
        thoughtSignature: "sig",
      }],
    },
    { role: "user", parts: [{ functionResponse: { name: "shell", response: { output: `token ${GH}` } } }] },
  ];
  for (const body of [{ contents }, { model: "gemini-2.5-pro", project: "p", request: { contents } }]) {
    const out = redactJsonValue(body, rules, { hasher });
    const text = sent(out.value);
    assert.ok(!text.includes(STRIPE) && !text.includes(GH));
    assert.equal(out.findings.length, 3);
    assert.ok(text.includes(`"thoughtSignature":"sig"`));
  }
});

Deno.test("a Codex WebSocket response.create message is redacted like a request body", () => {
  const message = {
    type: "response.create",
    model: "gpt-5",
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text: `use ${AWS_ID}` }] }],
  };
  const out = redactJsonValue(message, rules, { hasher, path: "message" });
  assert.equal(out.findings[0].path, "message.input[0].content[0].text");
  assert.ok(sent(out.value).includes(ph("aws-access-key", AWS_ID)));
});

Deno.test("secret-named properties are secrets without a known prefix; opaque and binary fields are left alone", () => {
  const body = {
    config: {
      client_secret: "d4E7f1A9b2C8e5F3a6B0",
      next_page_token: "d4E7f1A9b2C8e5F3a6B0",
      api_key_id: "k-12",
    },
    reasoning: { encrypted_content: `gAAAA${GH}` },
    image: { type: "base64", media_type: "image/png", data: `iVBOR${GH}` },
  };
  const out = redactJsonValue(body, rules, { hasher });
  assert.deepEqual(out.findings.map((f) => [f.rule, f.path]), [[
    "secret-assignment",
    "config.client_secret",
  ]]);
  const value = out.value as typeof body;
  assert.equal(value.config.next_page_token, body.config.next_page_token);
  assert.equal(value.reasoning, body.reasoning);
  assert.equal(value.image, body.image);
});

Deno.test("nothing found returns the same value, and redacting a redacted body changes nothing", () => {
  const clean = {
    messages: [{
      role: "user",
      content: "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    }],
  };
  const out = redactJsonValue(clean, rules, { hasher });
  assert.equal(out.value, clean);
  assert.equal(out.changed, false);
  const once = redactJsonValue({ text: `${GH} ${STRIPE}` }, rules, { hasher });
  const twice = redactJsonValue(once.value, rules, { hasher });
  assert.equal(twice.changed, false);
  assert.equal(twice.findings.length, 0);
});

Deno.test("with a cache, a resent history is answered by hash yet every occurrence is still redacted", () => {
  const cache = new ScanCache(1_000_000);
  const long = "x".repeat(600);
  const history = [
    { role: "user", content: `${long} ${GH}` },
    { role: "assistant", content: `${long} noted` },
  ];
  const turn1 = redactJsonValue({ messages: history }, rules, { hasher, cache });
  const fresh = `${long} and ${STRIPE}`;
  const turn2 = redactJsonValue({ messages: [...history, { role: "user", content: fresh }] }, rules, {
    hasher,
    cache,
  });
  assert.equal(turn1.stats.cachedChars, 0);
  // Texts seen in turn 1 come from the cache ("assistant" too); only the new message meets the rules.
  assert.equal(
    turn2.stats.cachedChars,
    history[0].content.length + history[1].content.length + "assistant".length,
  );
  assert.equal(turn2.stats.scannedChars, fresh.length);
  const text = sent(turn2.value);
  assert.ok(!text.includes(GH) && !text.includes(STRIPE));
  assert.deepEqual(
    (turn2.value as { messages: unknown[] }).messages.slice(0, 2),
    (turn1.value as { messages: unknown[] }).messages,
  );
  assert.deepEqual(turn2.findings.map((f) => f.rule), ["github-token", "stripe-key"]);
});

Deno.test("the scan cache keeps clean texts within its character budget, oldest out first", () => {
  const cache = new ScanCache(25);
  const [a, b, c] = ["a".repeat(10), "b".repeat(10), "c".repeat(10)];
  cache.remember(a, []);
  cache.remember(b, []);
  cache.remember(c, []);
  assert.deepEqual([cache.lookup(a), cache.lookup(b), cache.lookup(c)], [undefined, [], []]);
  assert.equal(cache.chars, 20);
});

Deno.test("texts with findings are remembered by digest only, and a disabled cache remembers nothing", () => {
  const cache = new ScanCache(1000);
  const text = `token ${GH}`;
  const findings = redactJsonValue({ t: text }, rules, { hasher }).findings;
  assert.equal(findings.length, 1);
  const redaction = {
    rule: "github-token",
    action: "redact" as const,
    hash: findings[0].hash,
    start: 6,
    end: 46,
  };
  cache.remember(text, [redaction]);
  assert.deepEqual(cache.lookup(text), [redaction]);
  assert.equal(cache.chars, 0, "no clean text was stored, and the secret's text is not a key");
  const off = new ScanCache(0);
  off.remember("clean text here", []);
  assert.equal(off.lookup("clean text here"), undefined);
});

Deno.test("an Authorization property keeps its scheme, and a property name that is a secret is renamed", () => {
  const bearer = "d4E7f1A9b2C8e5F3a6B0c7D2e9F1a4B8";
  const body = { headers: { Authorization: `Bearer ${bearer}` }, env: { [GH]: "set" } };
  const out = redactJsonValue(body, rules, { hasher });
  const value = out.value as { headers: { Authorization: string }; env: Record<string, string> };
  assert.equal(value.headers.Authorization, `Bearer ${ph("authorization-header", bearer)}`);
  assert.deepEqual(value.env, { [ph("github-token", GH)]: "set" });
  assert.deepEqual(out.findings.map((f) => f.path), ["headers.Authorization", "env.<key>"]);
});

Deno.test("a known token under a secret-named property keeps its own rule and action", () => {
  const compiled = compileRules({ actions: { "stripe-key": "block" } });
  const body = { config: { api_key: STRIPE, client_secret: "d4E7f1A9b2C8e5F3a6B0" } };
  for (const cache of [undefined, new ScanCache(1_000_000)]) {
    for (let round = 0; round < 2; round++) {
      const out = redactJsonValue(body, compiled, { hasher, cache });
      assert.deepEqual(out.findings.map((f) => [f.rule, f.action]), [["stripe-key", "block"], [
        "secret-assignment",
        "redact",
      ]]);
    }
  }
});

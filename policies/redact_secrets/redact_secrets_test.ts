import assert from "node:assert/strict";
import { buildChain } from "../build_chain.ts";
import { makeExchange, makeHookContext } from "../testing.ts";
import type { Verdict } from "../types.ts";
import { hmacHasher } from "./placeholder.ts";
import { redactSecrets } from "./redact_secrets.ts";

const GH = "ghp_" + "Zq8Rt2Lm5Nx7Pw3Ks9Vb4Hc6Jd1Fg0Ya2Eu7";
const PEM = "-----BEGIN RSA PRIVATE KEY-----\n" +
  "MIIEowIBAAKCAQEA1c7Kx9QmZ3Lr8Tn5Wb7Yc1Hd4Jf6Gs0Pa3Ue9Io2Zk3Qm9Xv2\n".repeat(3) +
  "-----END RSA PRIVATE KEY-----";
const hasher = hmacHasher("policy-test");

function run(options: unknown, json: unknown, headers: Record<string, string> = {}): Promise<Verdict> {
  const policy = redactSecrets.create(redactSecrets.options.parse(options), { secretHasher: hasher });
  const { exchange, request } = makeExchange({ json, headers });
  return Promise.resolve(policy.onRequest!(exchange, request, makeHookContext()));
}

Deno.test("with no options a secret is redacted: modify with the patched JSON and a secret-free detail", async () => {
  const body = { model: "claude-sonnet-4-5", messages: [{ role: "user", content: `push with ${GH}` }] };
  const verdict = await run({}, body);
  assert.equal(verdict.kind, "modify");
  if (verdict.kind !== "modify") return;
  const placeholder = `[REDACTED:github-token:${hasher(GH).slice(0, 8)}]`;
  assert.deepEqual(verdict.patch.json, {
    model: "claude-sonnet-4-5",
    messages: [{ role: "user", content: `push with ${placeholder}` }],
  });
  assert.equal(verdict.reason, "redacted 1 secret (github-token)");
  assert.deepEqual((verdict.detail?.findings as unknown[])[0], {
    rule: "github-token",
    path: "messages[0].content",
    hash: hasher(GH).slice(0, 8),
    action: "redact",
  });
  assert.ok(!JSON.stringify(verdict).replace(JSON.stringify(verdict.patch), "").includes(GH));
});

Deno.test("a clean body is allowed untouched", async () => {
  assert.deepEqual(await run({}, { messages: [{ role: "user", content: "hello" }] }), { kind: "allow" });
});

Deno.test("a block rule refuses the request with a 400 naming the rule and place, never the secret", async () => {
  const verdict = await run({ rules: { "private-key": "block" } }, {
    messages: [{ role: "user", content: `deploy key:\n${PEM}` }],
  });
  assert.equal(verdict.kind, "block");
  if (verdict.kind !== "block") return;
  assert.equal(verdict.status, 400);
  assert.match(verdict.reason, /contains a secret \(private-key at messages\[0\]\.content\)/);
  assert.ok(!JSON.stringify(verdict).includes("MIIEowIBAAKCAQEA"));
});

Deno.test("an observe rule records the finding but sends the body as it was", async () => {
  const verdict = await run({ rules: { "github-token": "observe" } }, { input: `token ${GH}` });
  assert.equal(verdict.kind, "allow");
  if (verdict.kind !== "allow") return;
  assert.equal(verdict.reason, "observed 1 secret (github-token)");
  assert.equal((verdict.detail?.findings as { action: string }[])[0].action, "observe");
});

Deno.test("a compressed body cannot be inspected: blocked by default, allowed when configured", async () => {
  const body = { messages: [] };
  const blocked = await run({}, body, { "content-encoding": "gzip" });
  assert.equal(blocked.kind, "block");
  assert.match((blocked as { reason: string }).reason, /gzip-encoded/);
  assert.equal((await run({ uninspectable: "allow" }, body, { "content-encoding": "gzip" })).kind, "allow");
});

Deno.test("a non-JSON body holding a secret is blocked because it cannot be rewritten", async () => {
  const policy = redactSecrets.create(redactSecrets.options.parse({}), { secretHasher: hasher });
  const { exchange } = makeExchange();
  const request = {
    method: "POST",
    path: "/v1/files",
    headers: { "content-type": "text/plain" },
    body: new TextEncoder().encode(`token=${GH}`),
    json: undefined,
  };
  const verdict = await policy.onRequest!(exchange, request, makeHookContext());
  assert.equal(verdict.kind, "block");
});

Deno.test("JSON sent as text/plain is still redacted as JSON", async () => {
  const policy = redactSecrets.create(redactSecrets.options.parse({}), { secretHasher: hasher });
  const { exchange } = makeExchange();
  const body = new TextEncoder().encode(JSON.stringify({ messages: [{ role: "user", content: GH }] }));
  const request = {
    method: "POST",
    path: "/v1/messages",
    headers: { "content-type": "text/plain" },
    body,
    json: undefined,
  };
  const verdict = await policy.onRequest!(exchange, request, makeHookContext());
  assert.equal(verdict.kind, "modify");
});

Deno.test("WebSocket client messages go through the same redaction", async () => {
  const policy = redactSecrets.create(redactSecrets.options.parse({}), { secretHasher: hasher });
  const json = { type: "response.create", input: [{ type: "message", role: "user", content: GH }] };
  const { exchange, request } = makeExchange({ json, host: "api.openai.com", path: "/v1/responses" });
  const verdict = await policy.onClientMessage!(exchange, { ...request, method: "WS" }, makeHookContext());
  assert.equal(verdict.kind, "modify");
  assert.ok(!JSON.stringify((verdict as { patch: unknown }).patch).includes(GH));
});

Deno.test("`{ use: redact-secrets }` builds with defaults, and bad options name the field and value", async () => {
  const base = { mode: "enforce" as const, failMode: "closed" as const, enabled: true, timeoutMs: 1000 };
  const chain = await buildChain([{ use: "redact-secrets", ...base }], { baseDir: "." });
  assert.equal(chain.needsRequestBody, true);
  assert.equal(chain.watchesClientMessages, true);
  await assert.rejects(
    buildChain([{ use: "redact-secrets", options: { rules: { "no-such": "block" } }, ...base }], {
      baseDir: ".",
    }),
    /Cannot load policy policies\[0\] \("redact-secrets"\): options\.rules/,
  );
  await assert.rejects(
    buildChain([{ use: "redact-secrets", options: { allowlist: ["("] }, ...base }], { baseDir: "." }),
    /options\.allowlist\.0 must be a valid regular expression \(got "\("\)/,
  );
});

Deno.test("without an injected hasher placeholders are still stable within the process", async () => {
  const make = () => redactSecrets.create(redactSecrets.options.parse({}), {});
  const { exchange, request } = makeExchange({ json: { q: GH } });
  const a = await make().onRequest!(exchange, request, makeHookContext());
  const b = await make().onRequest!(exchange, request, makeHookContext());
  assert.deepEqual((a as { patch: unknown }).patch, (b as { patch: unknown }).patch);
  assert.match(JSON.stringify((a as { patch: unknown }).patch), /\[REDACTED:github-token:[0-9a-f]{8}\]/);
});

Deno.test("a secret passed as a command argument is redacted in the tool call, its result and the prompt alike", async () => {
  const token = "q8Zr2LmX5nP7wK3sV9bT";
  const dbPassword = "Tr0ub4dor-9xq";
  const command = `DEPLOY_TOKEN=${token} ./deploy.sh && mysql -u root -p${dbPassword} shop`;
  const body = {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: [
      { role: "user", content: `deploy with --token ${token} please` },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command, description: "Deploy" } }],
      },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "t1", content: `+ ${command}\nERROR 1045: denied` }],
      },
    ],
  };
  const verdict = await run({}, body);
  assert.equal(verdict.kind, "modify");
  if (verdict.kind !== "modify") return;
  const sent = JSON.stringify(verdict.patch.json);
  assert.ok(!sent.includes(token) && !sent.includes(dbPassword), sent);
  const t = `[REDACTED:env-secret-assignment:${hasher(token).slice(0, 8)}]`;
  const p = `[REDACTED:cli-password-flag:${hasher(dbPassword).slice(0, 8)}]`;
  const out = verdict.patch.json as typeof body;
  const redactedCommand = `DEPLOY_TOKEN=${t} ./deploy.sh && mysql -u root -p${p} shop`;
  assert.equal(
    out.messages[0].content,
    `deploy with --token [REDACTED:cli-secret-flag:${hasher(token).slice(0, 8)}] please`,
  );
  assert.deepEqual((out.messages[1].content as { input: unknown }[])[0].input, {
    command: redactedCommand,
    description: "Deploy",
  });
  assert.equal(
    (out.messages[2].content as { content: string }[])[0].content,
    `+ ${redactedCommand}\nERROR 1045: denied`,
  );
  assert.deepEqual(
    (verdict.detail?.findings as { path: string }[]).map((f) => f.path),
    [
      "messages[0].content",
      "messages[1].content[0].input.command",
      "messages[1].content[0].input.command",
      "messages[2].content[0].content",
      "messages[2].content[0].content",
    ],
  );
  assert.equal((await run({ arguments: false }, body)).kind, "allow");
});

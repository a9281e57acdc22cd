import assert from "node:assert/strict";
import { compileRules, scanText } from "./scanner.ts";
import { hmacHasher } from "./placeholder.ts";
import { redactText } from "./redact_text.ts";

const rules = compileRules();
const hasher = hmacHasher("test-key");
const AWS_ID = "AKIA" + "Q7RZ2XN4VB6M3KJP";
const GH = "ghp_" + "Zq8Rt2Lm5Nx7Pw3Ks9Vb4Hc6Jd1Fg0Ya2Eu7";

function ids(text: string, compiled = rules): string[] {
  return scanText(text, compiled).map((f) => f.rule);
}

Deno.test("scanText finds prefix-based tokens and reports the exact span", () => {
  const text = `key ${AWS_ID} and token ${GH}.`;
  const found = scanText(text, rules);
  assert.deepEqual(found.map((f) => [f.rule, text.slice(f.start, f.end)]), [
    ["aws-access-key", AWS_ID],
    ["github-token", GH],
  ]);
});

Deno.test("a database URL loses only its password and documentation placeholders stay", () => {
  const text = "postgres://app:Tr0ub4dor-3x@db.internal:5432/app and postgres://user:password@localhost/db";
  const found = scanText(text, rules);
  assert.equal(found.length, 1);
  assert.equal(text.slice(found[0].start, found[0].end), "Tr0ub4dor-3x");
});

Deno.test("secret-named assignments are found in .env lines and code literals but not in types or env reads", () => {
  assert.deepEqual(ids("DB_PASSWORD=p4ss-W0rd-91x\nPORT=3000\n"), ["secret-assignment"]);
  assert.deepEqual(ids(`const clientSecret = "c9f1e2d3b4a5968778695a4b3c2d1e0f";`), ["secret-assignment"]);
  assert.deepEqual(ids("interface A {\n  secretKey: Uint8Array;\n  password: string;\n}\n"), []);
  assert.deepEqual(ids(`SECRET_KEY = os.environ["SECRET_KEY"]\nTOKEN: \${{ secrets.TOKEN }}\n`), []);
  assert.deepEqual(ids(`csrf_token = "a8F3kL9qZ2xW7vB1nM4c"\nmax_tokens: 4096`), []);
});

Deno.test("a keyword that contains another still runs both rules (secret_key selects secret-assignment)", () => {
  assert.deepEqual(ids(`SECRET_KEY = "H6OhXaRyNeE3hnv8DrRbuevU13sCUvj95RLWzKmHx0In"`), ["secret-assignment"]);
});

Deno.test("placeholders and documentation example keys are not secrets", () => {
  assert.deepEqual(ids("API_KEY=[REDACTED:openai-api-key:0a1b2c3d]"), []);
  assert.deepEqual(ids("aws_access_key_id = AKIAIOSFODNN7EXAMPLE"), []);
  assert.deepEqual(ids("AKIAXXXXXXXXXXXXXXXX"), []);
});

Deno.test("JWTs must carry a JOSE header", () => {
  const head = btoa(JSON.stringify({ alg: "HS256", typ: "JWT" })).replace(/=+$/, "");
  const body = btoa(JSON.stringify({ sub: "1234567890", name: "x" })).replace(/=+$/, "");
  assert.deepEqual(ids(`${head}.${body}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`), ["jwt"]);
  const notJose = btoa(JSON.stringify({ hello: "world", list: [1, 2] })).replace(/=+$/, "");
  assert.deepEqual(ids(`${notJose}.${body}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`), []);
});

Deno.test("redactText replaces with a stable keyed placeholder and reports no secret", () => {
  const a = redactText(`first ${GH} then ${GH}`, rules, { hasher });
  const hash = hasher(GH).slice(0, 8);
  assert.equal(a.text, `first [REDACTED:github-token:${hash}] then [REDACTED:github-token:${hash}]`);
  assert.ok(!JSON.stringify(a.findings).includes(GH));
  const other = redactText(GH, rules, { hasher: hmacHasher("another-key") });
  assert.notEqual(other.text, `[REDACTED:github-token:${hash}]`);
});

Deno.test("observe and block actions leave the text unchanged but are reported", () => {
  const compiled = compileRules({ actions: { "github-token": "observe", "aws-access-key": "block" } });
  const r = redactText(`${GH} ${AWS_ID}`, compiled, { hasher });
  assert.equal(r.text, `${GH} ${AWS_ID}`);
  assert.deepEqual(r.findings.map((f) => [f.rule, f.action]), [["github-token", "observe"], [
    "aws-access-key",
    "block",
  ]]);
});

Deno.test("disable, allowlist and the opt-in entropy rule change what is found", () => {
  assert.deepEqual(ids(GH, compileRules({ disable: ["github-token"] })), []);
  assert.deepEqual(ids(GH, compileRules({ allowlist: ["^ghp_Zq8R"] })), []);
  const blob = "Zk3Qm9Xv2Lr8Tn5Wb7Yc1Hd4Jf6Gs0Pa3Ue9Io2";
  assert.deepEqual(ids(`value ${blob} end`), []);
  assert.deepEqual(ids(`value ${blob} end`, compileRules({ entropy: true })), ["high-entropy-string"]);
});

Deno.test("compileRules names an unknown rule id and a broken allowlist entry", () => {
  assert.throws(
    () => compileRules({ disable: ["no-such-rule"] }),
    /Unknown redact-secrets rule "no-such-rule"/,
  );
  assert.throws(
    () => compileRules({ allowlist: ["(unclosed"] }),
    /allowlist\[0\] is not a valid regular expression/,
  );
});

Deno.test("adversarial inputs stay linear: long identifier runs, repeated keywords, unterminated PEM headers", () => {
  const inputs = [
    "secret".repeat(200_000),
    `TOKEN_${"a".repeat(1_000_000)}`,
    "-----BEGIN RSA PRIVATE KEY-----\n#".repeat(20_000),
    `sk-${"a".repeat(500_000)}`,
    `password = "${"x".repeat(500_000)}`,
  ];
  for (const input of inputs) {
    const start = performance.now();
    scanText(input, rules);
    const ms = performance.now() - start;
    assert.ok(ms < 2000, `${input.slice(0, 20)}… took ${ms.toFixed(0)} ms`);
  }
});

Deno.test("a private key longer than the END search bound is still replaced whole, END line included", () => {
  const body = Array.from(
    { length: 120 },
    (_, i) => `MIIJKAIBAAKCAgEA${String(i).padStart(4, "0")}`.padEnd(64, "x"),
  ).join("\n");
  const pem = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`;
  const text = `key:\n${pem}\nthanks`;
  const found = scanText(text, rules);
  assert.equal(found.length, 1);
  assert.equal(text.slice(found[0].start, found[0].end), pem);
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig, parseConfig } from "./load.ts";
import { parseUpstreamOverride } from "./upstream_override.ts";

Deno.test("an empty config gets every default", () => {
  const config = parseConfig({});
  assert.equal(config.listen, "127.0.0.1:8443");
  assert.equal(config.otherHosts, "tunnel");
  assert.equal(config.capture.durability, "batched");
  assert.equal(config.upstream.idleTimeoutMs, 300_000);
  assert.deepEqual(config.policies, []);
});

Deno.test("errors name the field and the value", () => {
  assert.throws(
    () => parseConfig({ listen: "8443" }),
    /listen must be host:port, e\.g\. 127\.0\.0\.1:8443 \(got "8443"\)/,
  );
  assert.throws(
    () => parseConfig({ developers: [{ name: "alice", token: "short" }] }),
    /developers\[0\]\.token must be at least 8 characters \(got "short"\)/,
  );
  assert.throws(
    () => parseConfig({ policies: [{ use: "block-list", mode: "watch" }] }),
    /policies\[0\]\.mode .*\(got "watch"\)/,
  );
  assert.throws(
    () => parseConfig({ capture: { durability: "maybe" } }),
    /capture\.durability .*\(got "maybe"\)/,
  );
});

Deno.test("a missing file means defaults, RECONDO_LISTEN overrides listen, and bad JSON is named", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "recondo.json");
  const env = { get: (name: string) => (name === "RECONDO_LISTEN" ? "0.0.0.0:9000" : undefined) };
  assert.equal((await loadConfig(file, env)).listen, "0.0.0.0:9000");
  await Deno.writeTextFile(file, "{ not json");
  await assert.rejects(
    () => loadConfig(file, { get: () => undefined }),
    new RegExp(`Invalid ${file}: not JSON`),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("upstream overrides parse host=origin pairs and reject anything else", () => {
  assert.deepEqual(
    [...parseUpstreamOverride(
      "api.anthropic.com=https://127.0.0.1:19443, api.openai.com=http://127.0.0.1:19080/",
    )],
    [["api.anthropic.com", "https://127.0.0.1:19443"], ["api.openai.com", "http://127.0.0.1:19080"]],
  );
  assert.throws(() => parseUpstreamOverride("api.openai.com"), /"api\.openai\.com" must be host=origin/);
  assert.throws(() => parseUpstreamOverride("api.openai.com=ftp://x"), /with an http\(s\) origin/);
});

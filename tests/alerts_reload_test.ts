/**
 * The `alerts` block follows a config reload in a running `recondo serve`: a gateway started without one
 * raises nothing; once the file gains a webhook whose URL comes from a 0600 file, the next throttle refusal
 * reaches it, signed; a reload naming a URL file that group or others can read is rejected whole, and the
 * running alerts keep working.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startGatewayProcess } from "./agents/gateway_process.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { eventually, messagesStatus, processClient } from "./support/e2e.ts";
import { startWebhookReceiver } from "./support/webhook_receiver.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const SECRET = "whsec-reload-5d1e";
/** One request a minute for everyone: the second request of a minute is refused. */
const POLICIES = [{ use: "throttle", options: { limits: [{ scope: "global", requestsPerMinute: 1 }] } }];

Deno.test({
  name: "a reloaded alerts block applies to the next alert, and a reload with an unsafe URL file is rejected",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider();
    const receiver = startWebhookReceiver({ secret: SECRET });
    const dir = await Deno.makeTempDir({ prefix: "recondo-alerts-reload-" });
    const configFile = join(dir, "recondo.json");
    const urlFile = join(dir, "hook.url");
    const secretFile = join(dir, "hook.secret");
    await Deno.writeTextFile(urlFile, `${receiver.origin}/from-file\n`, { mode: 0o600 });
    await Deno.writeTextFile(secretFile, SECRET, { mode: 0o600 });
    await Deno.writeTextFile(configFile, JSON.stringify({ policies: POLICIES }));
    const gateway = await startGatewayProcess({ overrides: { "api.anthropic.com": fake.url }, configFile });
    const client = await processClient(gateway);
    const reloads = async (result: string) => {
      const text = await (await fetch(`http://127.0.0.1:${gateway.port}/metrics`)).text();
      return Number(
        new RegExp(`^recondo_config_reloads_total\\{result="${result}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0,
      );
    };
    try {
      assert.equal(await messagesStatus(client, { maxTokens: 10 }), 200);
      assert.equal(await messagesStatus(client, { maxTokens: 10 }), 429);

      const alerts = { webhooks: [{ urlFile, secretFile }], pollSeconds: 1 };
      await Deno.writeTextFile(configFile, JSON.stringify({ policies: POLICIES, alerts }));
      await eventually("the reload to apply", async () => await reloads("applied") >= 1, 15_000);
      assert.equal(receiver.posts.length, 0, "nothing was raised while no alerts block was configured");

      assert.equal(await messagesStatus(client, { maxTokens: 10 }), 429);
      await receiver.waitFor((posts) => posts.length >= 1, 15_000);
      const [post] = receiver.posts;
      assert.deepEqual([post.path, post.json.kind, post.json.scope, post.signatureValid], [
        "/from-file",
        "throttle.refusing",
        "global",
        true,
      ]);

      await Deno.chmod(urlFile, 0o644);
      await Deno.writeTextFile(
        configFile,
        JSON.stringify({ policies: POLICIES, alerts: { ...alerts, pollSeconds: 2 } }),
      );
      const unsafe = (line: string) =>
        line.includes("config.reload_rejected") && line.includes("urlFile") &&
        line.includes("readable by group or others");
      await eventually(
        "the reload to be rejected, naming the URL file",
        async () => await reloads("rejected") >= 1 && gateway.logTail().some(unsafe),
        15_000,
      );
      assert.ok(
        !gateway.logTail().some((line) => line.includes(receiver.origin)),
        "the URL never reaches the log",
      );
      assert.equal(await messagesStatus(client, { maxTokens: 10 }), 429, "the running chain stays");
    } finally {
      client.close();
      await gateway.stop();
      await receiver.close();
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

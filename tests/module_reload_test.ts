/**
 * On a single node the config file is the control plane, and a custom module is part of it: editing the
 * module file (or a file it imports) reloads the chain like a config edit, validated first, and a module
 * that no longer builds leaves the running chain in place.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileControlSource } from "../control/file_source.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway } from "./support/gateway.ts";
import { eventually, messagesStatus } from "./support/e2e.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

const moduleSource = (verdict: string) =>
  `import { z } from "zod";
import type { PolicyModule } from "recondo/policy";
import { reason } from "./lib/reason.ts";
export default {
  name: "edited", description: "test", options: z.object({}),
  create: () => ({ name: "edited", onRequest: () => (${verdict}) }),
} satisfies PolicyModule<Record<string, never>>;
`;

function status(client: Deno.HttpClient): Promise<number> {
  return messagesStatus(client, { maxTokens: 8 });
}

Deno.test({
  name: "editing a module file the running chain uses reloads the chain; a broken edit keeps it",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({ behavior: { answer: ["ok"] } });
    await using gateway = await startTestGateway({
      overrides: { "api.anthropic.com": fake.url },
      watch: true,
      control: (configFile) =>
        fileControlSource(configFile, { get: () => undefined }, {
          cacheDir: join(configFile, "..", "modules"),
        }),
    }).catch(async (error) => {
      await fake.close();
      throw error;
    });
    const dir = join(gateway.dataDir, "policies");
    await Deno.mkdir(join(dir, "lib"), { recursive: true });
    await Deno.writeTextFile(join(dir, "lib", "reason.ts"), `export const reason = "first";\n`);
    await Deno.writeTextFile(join(dir, "edited.ts"), moduleSource(`{ kind: "block", status: 403, reason }`));
    try {
      await gateway.writeConfig({ listen: "127.0.0.1:0", policies: [{ use: "./policies/edited.ts" }] });
      assert.deepEqual(await gateway.reload(), { ok: true });
      assert.equal(await status(gateway.client), 403);

      await Deno.writeTextFile(join(dir, "edited.ts"), moduleSource(`{ kind: "allow" }`));
      await eventually("the edited module allows", async () => (await status(gateway.client)) === 200);

      await Deno.writeTextFile(
        join(dir, "edited.ts"),
        moduleSource(`{ kind: "block", status: 403, reason }`),
      );
      await eventually("blocks again", async () => (await status(gateway.client)) === 403);

      // An edit of the imported file is an edit of the chain too (a new import URL is loaded afresh).
      await Deno.writeTextFile(join(dir, "lib", "reason.ts"), `export const reason = "second";\n`);
      await eventually("the import's edit is seen", async () => {
        const res = await fetch("https://api.anthropic.com/v1/messages", {
          method: "POST",
          client: gateway.client,
          headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify({ model: "m", max_tokens: 8, messages: [] }),
        });
        return (await res.text()).includes("second");
      });

      const reloadsBefore = gateway.control().error;
      assert.equal(reloadsBefore, null);
      await Deno.writeTextFile(join(dir, "edited.ts"), "export default {}; // not a PolicyModule\n");
      await eventually(
        "the broken edit is rejected",
        () => Promise.resolve(gateway.control().error !== null),
      );
      assert.match(gateway.control().error!, /must export default a PolicyModule/);
      assert.equal(await status(gateway.client), 403, "the running chain stays");
    } finally {
      await fake.close();
    }
  },
});

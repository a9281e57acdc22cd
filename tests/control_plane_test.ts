/**
 * The database as the fleet's control plane, with real `recondo serve` replicas on one PostgreSQL and the
 * real CLI: a chain published once (with a custom module and its local import, whose files are deleted
 * right after publishing) is enforced by every replica within a second through LISTEN/NOTIFY (polling is
 * set to a minute, so only the notification can explain it); a developer added with the CLI authenticates
 * at every replica and is stored only as a keyed hash; a version one replica cannot build leaves it on the
 * previous chain and says so in fleet status; rollback travels the same way; a killed replica shows as lost.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { sharedPostgres } from "./support/postgres.ts";
import { type Replica, startReplica, writeFleetKey } from "./support/serve_replica.ts";
import { openPostgres } from "../storage/db/postgres.ts";
import { loginOverHttp } from "./ui/http_session.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const MAIN = new URL("../main.ts", import.meta.url).pathname;

const MODULE = `import { z } from "zod";
import type { PolicyModule } from "recondo/policy";
import { refusal } from "./lib/refusal.ts";

const options = z.object({ model: z.string(), unbuildableOn: z.string().optional() });

export default {
  name: "deny-model",
  description: "Refuses one model (a test module published with the chain)",
  options,
  create(opts) {
    if (opts.unbuildableOn && Deno.env.get("RECONDO_GATEWAY_ID") === opts.unbuildableOn) {
      throw new Error("this module cannot be built on " + opts.unbuildableOn);
    }
    return {
      name: "deny-model",
      needsRequestBody: true,
      onRequest(_exchange, request) {
        const model = (request.json as { model?: string } | undefined)?.model;
        return model === opts.model ? { kind: "block", status: 403, reason: refusal(model) } : { kind: "allow" };
      },
    };
  },
} satisfies PolicyModule<z.infer<typeof options>>;
`;
const LIB =
  `export const refusal = (model: string) => "model " + model + " is refused by the published module";\n`;

function body(model: string): string {
  return JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
}

async function send(
  client: Deno.HttpClient,
  model = "claude-sonnet-4-5",
): Promise<{ status: number; text: string }> {
  const res = await fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client,
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: body(model),
  });
  return { status: res.status, text: await res.text() };
}

/** Runs the real CLI against the shared database; returns stdout (throws with stderr on failure). */
async function recondo(env: Record<string, string>, ...args: string[]): Promise<string> {
  return await recondoWithInput(env, null, ...args);
}

async function recondoWithInput(env: Record<string, string>, input: string | null, ...args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-no-legacy-abort", MAIN, ...args],
    env: { RECONDO_LOG: "warn", ...env },
    stdin: input === null ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== null) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`recondo ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/** Polls `check` every 20 ms until it holds; returns the milliseconds it took. */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - start;
}

async function chainVersion(replica: Replica): Promise<number> {
  const text = await (await replica.get("/metrics")).text();
  return Number(/^recondo_policy_chain_version (\S+)$/m.exec(text)?.[1]);
}

Deno.test({
  name: "one control plane in PostgreSQL: publish once, every gateway enforces it within a second",
  ...SANITIZE,
  async fn(t) {
    const pg = await sharedPostgres();
    const url = await pg.createDatabase();
    const fake = await startFakeProvider({ behavior: { answer: ["ok"] } });
    const dir = await Deno.makeTempDir({ prefix: "recondo-control-" });
    const hmacKeyFile = await writeFleetKey(join(dir, "hmac.key"));
    const configFile = join(dir, "recondo.json");
    // The file seeds an empty control plane once: alice and no policies. Polling is slow on purpose.
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        requireProxyAuth: true,
        developers: [{ name: "alice", team: "alpha", token: "alice-secret-token" }],
        fleet: { pollSeconds: 60, heartbeatSeconds: 1, lostAfterSeconds: 3 },
      }),
    );
    const common = { configFile, dbUrl: url, hmacKeyFile, overrides: { "api.anthropic.com": fake.url } };
    const replicas = [
      await startReplica({ ...common, env: { RECONDO_GATEWAY_ID: "gw-a" } }),
      await startReplica({ ...common, env: { RECONDO_GATEWAY_ID: "gw-b" } }),
    ];
    const cli = {
      RECONDO_DATA_DIR: join(dir, "cli-data"),
      RECONDO_CONFIG: configFile,
      RECONDO_STORE: "postgres",
      RECONDO_DB_URL: url,
      RECONDO_HMAC_KEY_FILE: hmacKeyFile,
    };
    const alice = replicas.map((r) => r.client("alice:alice-secret-token"));
    const db = openPostgres(url, { max: 1 });
    let carolCredentials = "";
    try {
      await t.step("the file's developers were imported once and authenticate at both", async () => {
        for (const client of alice) assert.equal((await send(client)).status, 200);
        const [row] = await db.query<{ token_hash: string }>(
          "SELECT token_hash FROM developers WHERE name = 'alice'",
        );
        assert.match(row.token_hash, /^[0-9a-f]{64}$/);
        assert.equal((await db.query("SELECT 1 FROM policy_versions")).length, 0);
      });

      await t.step("a published chain with a custom module is enforced by both within 1 s", async () => {
        const publishDir = join(dir, "publish");
        await Deno.mkdir(join(publishDir, "lib"), { recursive: true });
        await Deno.writeTextFile(join(publishDir, "deny_model.ts"), MODULE);
        await Deno.writeTextFile(join(publishDir, "lib", "refusal.ts"), LIB);
        await Deno.writeTextFile(
          join(publishDir, "chain.json"),
          JSON.stringify({ policies: [{ use: "./deny_model.ts", options: { model: "claude-opus-4-1" } }] }),
        );
        const printed = await recondo(
          cli,
          "policies",
          "publish",
          join(publishDir, "chain.json"),
          "--note",
          "no opus",
        );
        assert.match(printed, /v1 .*with 2 module files/);
        // The gateways must run the published sources, not files on a disk they share with the CLI here.
        await Deno.remove(publishDir, { recursive: true });
        const took = await Promise.all(
          alice.map((client) =>
            within(
              1000,
              "the block applies",
              async () => (await send(client, "claude-opus-4-1")).status === 403,
            )
          ),
        );
        const refused = await send(alice[1], "claude-opus-4-1");
        assert.match(refused.text, /model claude-opus-4-1 is refused by the published module/);
        assert.equal((await send(alice[0])).status, 200, "other models pass");
        for (const r of replicas) assert.equal(await chainVersion(r), 1);
        const [stored] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM policy_modules");
        assert.equal(Number(stored.n), 2);
        console.log(`applied after ${took.map((ms) => ms.toFixed(0)).join(" / ")} ms`);
      });

      await t.step(
        "a developer added with the CLI authenticates at both; the token is stored hashed",
        async () => {
          const added = JSON.parse(
            await recondo(cli, "developers", "add", "bob", "--team", "beta", "--json"),
          );
          assert.equal(added.name, "bob");
          const token = String(added.token);
          const bob = replicas.map((r) => r.client(`bob:${token}`));
          for (const client of bob) {
            await within(
              1000,
              "bob authenticates",
              async () => (await send(client).catch(() => ({ status: 407 }))).status === 200,
            );
          }
          const wrong = replicas[0].client("bob:not-the-token");
          await assert.rejects(
            send(wrong),
            (error: Error) => /proxy authentication required/i.test(String(error.cause)),
          );
          const dump = JSON.stringify(await db.query("SELECT * FROM developers"));
          assert.ok(!dump.includes(token), "the token itself is nowhere in the developers table");
          const listed = JSON.parse(await recondo(cli, "developers", "list", "--json"));
          assert.deepEqual(
            listed.map((d: { name: string }) => d.name),
            ["alice", "bob"],
          );
        },
      );

      await t.step("a developer added in gw-a's UI authenticates at gw-b", async () => {
        await recondoWithInput(cli, "ui-admin-password\n", "user", "add", "ops", "--role", "admin");
        const admin = await loginOverHttp(`http://127.0.0.1:${replicas[0].port}`, "ops", "ui-admin-password");
        const added = await admin.post("/teams", { action: "add", name: "carol", team: "web" });
        await added.body?.cancel();
        const issued = await (await admin.post("/teams", { action: "issue", name: "carol" })).text();
        const line = issued.match(/export HTTPS_PROXY=http:\/\/carol:([^@]+)@/);
        assert.ok(line, "gw-a's Teams page shows the new token once");
        carolCredentials = `carol:${decodeURIComponent(line[1])}`;
        const carol = replicas[1].client(carolCredentials);
        await within(
          1000,
          "carol authenticates at gw-b",
          async () => (await send(carol).catch(() => ({ status: 407 }))).status === 200,
        );
        const [audit] = await db.query<{ actor: string; action: string }>(
          "SELECT actor, action FROM ui_audit WHERE action LIKE 'issue%'",
        );
        assert.deepEqual({ ...audit }, { actor: "ops", action: "issue proxy credentials for carol" });
      });

      await t.step("a version gw-b cannot build leaves it on v1, and fleet status says why", async () => {
        const v2Dir = join(dir, "v2");
        await Deno.mkdir(join(v2Dir, "lib"), { recursive: true });
        await Deno.writeTextFile(join(v2Dir, "deny_model.ts"), MODULE);
        await Deno.writeTextFile(join(v2Dir, "lib", "refusal.ts"), LIB);
        await Deno.writeTextFile(
          join(v2Dir, "chain.json"),
          JSON.stringify({
            policies: [{
              use: "./deny_model.ts",
              options: { model: "claude-sonnet-4-5", unbuildableOn: "gw-b" },
            }],
          }),
        );
        await recondo(cli, "policies", "publish", join(v2Dir, "chain.json"));
        await within(1000, "gw-a runs v2", async () => (await chainVersion(replicas[0])) === 2);
        assert.equal((await send(alice[0])).status, 403, "gw-a enforces v2");
        assert.equal(await chainVersion(replicas[1]), 1, "gw-b keeps v1");
        assert.equal((await send(alice[1])).status, 200, "gw-b still lets sonnet through under v1");
        assert.equal((await send(alice[1], "claude-opus-4-1")).status, 403, "gw-b still enforces v1");
        await within(3000, "fleet status shows gw-b's error", async () => {
          const fleet = JSON.parse(await recondo(cli, "fleet", "status", "--json"));
          const b = fleet.find((g: { id: string }) => g.id === "gw-b");
          return b?.chainVersion === 1 && /cannot be built on gw-b/.test(b.chainError ?? "");
        });
        assert.match(replicas[1].log(), /config.reload_rejected/);
      });

      await t.step("rollback to v1 travels the same way", async () => {
        await recondo(cli, "policies", "rollback", "1");
        for (const r of replicas) await within(1000, "v3 applied", async () => (await chainVersion(r)) === 3);
        assert.equal((await send(alice[0])).status, 200);
        assert.equal((await send(alice[0], "claude-opus-4-1")).status, 403);
      });

      await t.step(
        "a cap edited in gw-a's Budgets page holds at gw-b; the module travels with the edit",
        async () => {
          const v4Dir = join(dir, "v4");
          await Deno.mkdir(join(v4Dir, "lib"), { recursive: true });
          await Deno.writeTextFile(join(v4Dir, "deny_model.ts"), MODULE);
          await Deno.writeTextFile(join(v4Dir, "lib", "refusal.ts"), LIB);
          await Deno.writeTextFile(
            join(v4Dir, "chain.json"),
            JSON.stringify({
              policies: [
                {
                  use: "spend-cap",
                  options: { budgets: [{ scope: "team:alpha", usd: 100, period: "day" }] },
                },
                { use: "./deny_model.ts", options: { model: "claude-opus-4-1" } },
              ],
            }),
          );
          await recondo(cli, "policies", "publish", join(v4Dir, "chain.json"));
          await Deno.remove(v4Dir, { recursive: true });
          for (const r of replicas) {
            await within(1000, "v4 applied", async () => (await chainVersion(r)) === 4);
          }
          assert.equal((await send(alice[1])).status, 200);
          const admin = await loginOverHttp(
            `http://127.0.0.1:${replicas[0].port}`,
            "ops",
            "ui-admin-password",
          );
          const saved = await admin.post("/budgets", {
            entry: "0",
            budget: "0",
            scope: "team:alpha",
            usd: "0.000001",
          });
          assert.equal(saved.status, 303, await saved.text());
          await within(1000, "gw-b refuses alpha", async () => (await send(alice[1])).status === 400);
          assert.equal(await chainVersion(replicas[1]), 5);
          const carol = replicas[1].client(carolCredentials); // team web: not under the cap
          assert.equal((await send(carol)).status, 200);
          const opus = await send(carol, "claude-opus-4-1");
          assert.equal(opus.status, 403, `the module is still in the chain: ${opus.text}`);
          const [v5] = await db.query<{ author: string; modules: string }>(
            "SELECT author, modules FROM policy_versions WHERE version = 5",
          );
          assert.equal(v5.author, "ops");
          assert.deepEqual(Object.keys(JSON.parse(v5.modules)).sort(), ["deny_model.ts", "lib/refusal.ts"]);
        },
      );

      await t.step("fleet status lists both, and a killed gateway as lost", async () => {
        type Row = { id: string; status: string; chainVersion: number; chainError: string | null };
        let fleet: Row[] = [];
        // Heartbeats are every second here: wait for the beat after v3 was applied.
        await within(3000, "both report v5", async () => {
          fleet = JSON.parse(await recondo(cli, "fleet", "status", "--json"));
          return fleet.every((g) => g.chainVersion === 5);
        });
        assert.deepEqual(fleet.map((g) => g.id).sort(), ["gw-a", "gw-b"]);
        for (const g of fleet) {
          assert.equal(g.status, "up");
          assert.equal(g.chainError, null);
        }
        await replicas[1].kill();
        await within(8000, "gw-b is lost", async () => {
          const now = JSON.parse(await recondo(cli, "fleet", "status", "--json"));
          return now.find((g: { id: string }) => g.id === "gw-b")?.status === "lost";
        });
      });
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
      await db.close();
      await fake.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

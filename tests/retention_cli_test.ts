/**
 * `recondo retention run` end to end, as a subprocess against a data dir on SQLite and on a throwaway
 * PostgreSQL: turns captured by the real writer, the period from the config file or `--days`, a dry run
 * that changes nothing, a progress line per batch, and `verify` afterwards reporting the deletions as
 * deleted by policy with everything else holding.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runRecondo } from "../cli/inspect/test_seed.ts";
import type { RetentionResult } from "../storage/retention_run.ts";
import { captureTestTurn } from "../storage/test_retention_turns.ts";
import { migrate } from "../storage/db/migrate.ts";
import { openPostgres } from "../storage/db/postgres.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import type { Db } from "../storage/db/db.ts";
import { openLocalObjectStore } from "../storage/objects/local.ts";
import { sharedPostgres } from "./support/postgres.ts";

const DAY = 86_400_000;

async function run(args: string[], env: Record<string, string>): Promise<RetentionResult> {
  const out = await runRecondo([...args, "--json"], env);
  assert.equal(out.code, 0, `recondo ${args.join(" ")} failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as RetentionResult;
}

for (const engine of ["sqlite", "postgres"] as const) {
  Deno.test({
    name: `retention run deletes by the configured period and verify still holds [${engine}]`,
    sanitizeResources: false,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      const env: Record<string, string> = {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: dir,
        RECONDO_DATA_DIR: dir,
        RECONDO_LOG: "warn",
      };
      let db: Db;
      if (engine === "postgres") {
        const url = await (await sharedPostgres()).createDatabase();
        Object.assign(env, { RECONDO_STORE: "postgres", RECONDO_DB_URL: url });
        db = openPostgres(url);
      } else {
        db = openSqlite(join(dir, "recondo.db"));
      }
      try {
        await migrate(db);
        const objects = await openLocalObjectStore(join(dir, "objects"));
        const now = Date.now();
        for (let i = 0; i < 4; i++) {
          await captureTestTurn(db, objects, {
            at: now - (50 - i * 10) * DAY,
            sessionId: "cli",
            prompt: "same conversation",
            extra: Array.from({ length: i }, (_, k) => `step ${k}`),
            response: `answer ${i}`,
          });
        }
        await Deno.writeTextFile(
          join(dir, "recondo.json"),
          JSON.stringify({ capture: { retention: { days: 35 } } }),
        );

        const dry = await run(["retention", "run", "--dry-run"], env);
        assert.equal(dry.dry_run, true);
        assert.equal(dry.turns, 2, "turns 50 and 40 days old");
        assert.equal(dry.turn_ids.length, 2);
        assert.equal((await db.query("SELECT id FROM turns")).length, 4, "a dry run deletes nothing");

        const byConfig = await runRecondo(["retention", "run"], env);
        assert.equal(byConfig.code, 0, byConfig.stderr);
        assert.match(
          byConfig.stderr,
          /retention: 2 turns deleted, 4 bodies removed, 0 kept under Object Lock/,
        );
        assert.match(byConfig.stdout, /Deleted 2 turns in 1 sessions \(retention: older than 35 days\)/);

        const byFlag = await run(["retention", "run", "--days", "25"], env);
        assert.equal(byFlag.turns, 1);
        assert.equal(byFlag.reason, "retention: older than 25 days");
        assert.equal(byFlag.objects_deleted, 2);
        const [session] = await db.query<{ turn_count: number }>("SELECT turn_count FROM sessions");
        assert.equal(Number(session.turn_count), 1);

        const bad = await runRecondo(["retention", "run", "--days", "0"], env);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /--days must be a positive whole number/);

        const verify = await runRecondo(["verify", "--all", "--json"], env);
        assert.equal(verify.code, 0, `verify failed after retention: ${verify.stdout}${verify.stderr}`);
        const report = JSON.parse(verify.stdout) as { ok: boolean; problems: { kind: string }[] };
        assert.equal(report.ok, true);
        assert.equal(report.problems.filter((p) => p.kind === "deleted_by_policy").length, 3);
      } finally {
        await db.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

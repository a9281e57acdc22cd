/**
 * The two-role PostgreSQL setup on a real throwaway cluster: the owner migrates, the gateway's application
 * role captures and deletes by policy but cannot disable or drop the append-only triggers — and, as the
 * control that shows the test can fail, the owner can.
 */
import assert from "node:assert/strict";
import { sharedPostgres } from "../../tests/support/postgres.ts";
import { openLocalObjectStore } from "../objects/local.ts";
import { deleteTurnByPolicy } from "../retention.ts";
import { captureTestTurn } from "../test_retention_turns.ts";
import { openDatabase } from "./mod.ts";
import { openPostgres } from "./postgres.ts";

const mustOwn = /must be owner/;

Deno.test({
  name: "with a migration role the gateway's role cannot disable the append-only triggers",
  sanitizeResources: false,
  fn: async () => {
    const pg = await sharedPostgres();
    const ownerUrl = await pg.createDatabase();
    const superuser = openPostgres(ownerUrl.replace("recondo:recondo@", "postgres@"), { max: 1 });
    const role = `recondo_app_${crypto.randomUUID().slice(0, 8)}`;
    await superuser.exec(`CREATE ROLE ${role} LOGIN PASSWORD 'app'`);
    await superuser.close();
    const appUrl = ownerUrl.replace("recondo:recondo@", `${role}:app@`);
    const dir = await Deno.makeTempDir();
    const env = new Map([
      ["RECONDO_STORE", "postgres"],
      ["RECONDO_DB_URL", appUrl],
      ["RECONDO_DB_MIGRATE_URL", ownerUrl],
    ]);
    const app = await openDatabase({ dir, database: `${dir}/unused.db` }, env);
    const owner = openPostgres(ownerUrl, { max: 1 });
    try {
      const [{ who }] = await app.query<{ who: string }>("SELECT current_user AS who");
      assert.equal(who, role);
      const [{ tableowner }] = await app.query<{ tableowner: string }>(
        "SELECT tableowner FROM pg_tables WHERE tablename = 'turns'",
      );
      assert.equal(tableowner, "recondo", "the owner role created the schema");

      const objects = await openLocalObjectStore(`${dir}/objects`);
      const t = (i: number) => ({
        at: Date.UTC(2026, 0, 1) + i,
        sessionId: "r",
        prompt: `p${i}`,
        response: `${i}`,
      });
      const first = await captureTestTurn(app, objects, t(1));
      const second = await captureTestTurn(app, objects, t(2));
      await deleteTurnByPolicy(app, first, "data-subject request");
      assert.equal((await app.query("SELECT id FROM turns")).length, 1, "the app role deletes by policy");

      await assert.rejects(() => app.exec("ALTER TABLE turns DISABLE TRIGGER turns_append_only"), mustOwn);
      await assert.rejects(() => app.exec("ALTER TABLE deletions DISABLE TRIGGER ALL"), mustOwn);
      await assert.rejects(() => app.exec("DROP TRIGGER turns_append_only ON turns"), mustOwn);
      await assert.rejects(() => app.exec("TRUNCATE deletions"), /permission denied/);
      await assert.rejects(() => app.run("DELETE FROM turns WHERE id = $1", [second]), /append-only/);
      await assert.rejects(() => app.run("DELETE FROM schema_migrations"), /permission denied/);

      // Control: the owner can switch the trigger off, which is exactly what the app role must not do.
      await owner.exec("ALTER TABLE turns DISABLE TRIGGER turns_append_only");
      await owner.exec("ALTER TABLE turns ENABLE ALWAYS TRIGGER turns_append_only");

      // A second start (another replica) migrates nothing and keeps the grants working.
      const again = await openDatabase({ dir, database: `${dir}/unused.db` }, env);
      assert.equal((await again.query("SELECT id FROM turns")).length, 1);
      await again.close();
      // Once migrated, the gateway may start without the owner's credentials in its environment at all.
      env.delete("RECONDO_DB_MIGRATE_URL");
      const appOnly = await openDatabase({ dir, database: `${dir}/unused.db` }, env);
      assert.equal((await appOnly.query("SELECT id FROM turns")).length, 1);
      await appOnly.close();
    } finally {
      await app.close();
      await owner.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

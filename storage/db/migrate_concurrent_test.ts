import assert from "node:assert/strict";
import { migrate } from "./migrate.ts";
import { openPostgres } from "./postgres.ts";
import { sharedPostgres } from "../../tests/support/postgres.ts";

Deno.test({
  name:
    "replicas migrating one fresh PostgreSQL database at the same moment each apply it once, without error",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pg = await sharedPostgres();
    for (let round = 0; round < 3; round++) {
      const url = await pg.createDatabase();
      const replicas = Array.from({ length: 4 }, () => openPostgres(url, { max: 1 }));
      try {
        const applied = await Promise.all(replicas.map((db) => migrate(db)));
        const total = applied.reduce((n, versions) => n + versions.length, 0);
        const [{ n }] = await replicas[0].query<{ n: number }>("SELECT COUNT(*) AS n FROM schema_migrations");
        assert.equal(total, Number(n), "every migration applied by exactly one replica");
      } finally {
        await Promise.all(replicas.map((db) => db.close()));
      }
    }
  },
});

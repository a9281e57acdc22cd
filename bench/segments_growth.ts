/**
 * Storage growth of one Claude Code-shaped session (capture/segments/test_shaped_session.ts) through the
 * real persist path (`persistRecord`: hashing, gzip, object writes, rows), with request bodies stored
 * whole (as before segments) and as segments. Reports bytes stored, object writes per exchange (each is
 * at most one S3 PUT) and capture CPU per turn early and late in the session.
 *
 *   deno run -A --unstable-no-legacy-abort bench/segments_growth.ts [turns=150]
 *
 * `measureSessionGrowth` is what a benchmark calls; pass your own `db`/`objects` (e.g. S3) to measure them.
 * @module
 */
import process from "node:process";
import { gzipSync } from "node:zlib";
import { persistRecord } from "../capture/persist.ts";
import { shapedSessionBodies } from "../capture/segments/test_shaped_session.ts";
import type { Db } from "../storage/db/db.ts";
import { migrate } from "../storage/db/migrate.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import { openLocalObjectStore } from "../storage/objects/local.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { TEST_PERSIST, testRecord } from "../storage/test_retention_turns.ts";

/** What one run measured. */
export interface GrowthResult {
  segmented: boolean;
  turns: number;
  lastRequestBytes: number;
  lastRequestGzipBytes: number;
  /** Bytes of the objects written (gzip, packs included). */
  objectBytes: number;
  /** Bytes the manifests and segment rows hold in the database (their content, without engine overhead). */
  manifestBytes: number;
  /** Most object writes (`put` calls, each at most one S3 PUT) one exchange made. */
  maxPutsPerExchange: number;
  /** Capture CPU (all threads: hashing, gzip, SQL) per turn, ms, averaged over turns 8–12 and the last five. */
  cpuMsEarly: number;
  cpuMsLate: number;
}

/** Counts `put` calls that write (each at most one S3 PUT) and the bytes they carry. */
function counting(inner: ObjectStore): ObjectStore & { puts: number; bytes: number } {
  const store = {
    kind: inner.kind,
    puts: 0,
    bytes: 0,
    async put(sha: string, gz: Uint8Array, meta: Parameters<ObjectStore["put"]>[2]) {
      if (await inner.has(sha)) return;
      store.puts++;
      store.bytes += gz.length;
      await inner.put(sha, gz, meta);
    },
    get: (sha: string) => inner.get(sha),
    getRange: (sha: string, start: number, end: number) => inner.getRange(sha, start, end),
    has: (sha: string) => inner.has(sha),
    delete: (sha: string) => inner.delete(sha),
    retainedUntil: (sha: string) => inner.retainedUntil(sha),
    legalHold: (sha: string) => inner.legalHold(sha),
    list: () => inner.list(),
    close: () => inner.close(),
  };
  return store;
}

/**
 * Persists `turns` shaped turns into `db`/`objects` (fresh temp SQLite and local folder by default) and
 * measures them; see the module doc.
 */
export async function measureSessionGrowth(
  options: { turns?: number; segmented: boolean; db?: Db; objects?: ObjectStore },
): Promise<GrowthResult> {
  const turns = options.turns ?? 150;
  const dir = options.db && options.objects ? null : await Deno.makeTempDir();
  const db = options.db ?? openSqlite(`${dir}/recondo.db`);
  if (!options.db) await migrate(db);
  const objects = counting(options.objects ?? await openLocalObjectStore(`${dir}/objects`));
  const bodies = shapedSessionBodies(turns);
  const cpu: number[] = [];
  let maxPuts = 0;
  try {
    for (const [i, body] of bodies.entries()) {
      const record = testRecord({
        at: Date.UTC(2026, 5, 1) + i * 30_000,
        sessionId: `growth-${options.segmented}`,
        prompt: "",
        requestBody: body,
        response: `event: message_stop\ndata: answer ${i}\n\n`,
      });
      const before = objects.puts;
      const start = process.cpuUsage();
      await persistRecord(db, objects, record, { ...TEST_PERSIST, segment: options.segmented });
      const used = process.cpuUsage(start);
      cpu.push((used.user + used.system) / 1000);
      maxPuts = Math.max(maxPuts, objects.puts - before);
    }
    const [m] = await db.query<{ bytes: number }>(
      `SELECT COALESCE(SUM(LENGTH(parts)), 0) + COUNT(*) * 80 AS bytes FROM body_manifests`,
    );
    const [s] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM manifest_segments");
    const [o] = await db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM stored_objects WHERE pack_sha256 IS NOT NULL",
    );
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const last = bodies[bodies.length - 1];
    return {
      segmented: options.segmented,
      turns,
      lastRequestBytes: last.length,
      lastRequestGzipBytes: gzipSync(last).length,
      objectBytes: objects.bytes,
      // Hashes as text: a manifest_segments row is two, a segment's location row one plus numbers.
      manifestBytes: Number(m.bytes) + Number(s.n) * 128 + Number(o.n) * 100,
      maxPutsPerExchange: maxPuts,
      cpuMsEarly: avg(cpu.slice(7, 12)),
      cpuMsLate: avg(cpu.slice(-5)),
    };
  } finally {
    if (dir) {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  }
}

if (import.meta.main) {
  const turns = Number(Deno.args[0] ?? 150);
  for (const segmented of [false, true]) {
    console.log(JSON.stringify(await measureSessionGrowth({ turns, segmented })));
  }
}

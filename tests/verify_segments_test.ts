/**
 * `recondo verify` on segmented bodies: captured through the real pipeline (Claude Code-shaped turns, so
 * each request is stored as segments in packs plus a delta manifest), then a segment is damaged, a pack
 * removed or a manifest row edited. Each must be named, with every turn whose body uses the damaged
 * part, on both engines and on S3.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { runJson, seedCapture, type Seeded, type SeedTurn, usage } from "../cli/inspect/test_seed.ts";
import type { VerifyReport } from "../cli/verify/report.ts";
import { shapedSessionBodies } from "../capture/segments/test_shaped_session.ts";
import { decodeParts, encodeParts, expandChain, type Part } from "../storage/bodies/manifest.ts";
import { readManifestChain } from "../storage/bodies/read.ts";
import { openPostgres } from "../storage/db/postgres.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import type { Db } from "../storage/db/db.ts";
import { requireS3, startS3 } from "./support/s3.ts";
import { seedCaptureInS3 } from "./support/s3_seed.ts";

const T0 = Date.UTC(2026, 4, 1, 9);
const BODIES = shapedSessionBodies(3, 5);
const TURNS: SeedTurn[] = BODIES.map((requestBody, i) => ({
  at: T0 + i * 10_000,
  clientSession: "segments",
  prompt: "Fix the build",
  userText: i ? `step ${i}` : undefined,
  usage: usage({ input: 100, output: 10 }),
  requestBody,
}));

function openDb(seeded: Seeded): Db {
  return seeded.engine === "postgres" ? openPostgres(seeded.database) : openSqlite(seeded.database);
}

async function query<T>(seeded: Seeded, sql: string, params: string[] = []): Promise<T[]> {
  const db = openDb(seeded);
  try {
    return await db.query(sql, params) as T[];
  } finally {
    await db.close();
  }
}

/** The pack holding the biggest segment (the tool definitions, which every turn sends) and where. */
async function toolsSegment(seeded: Seeded) {
  const [row] = await query<
    { sha256: string; pack_sha256: string; pack_offset: number; pack_length: number }
  >(
    seeded,
    "SELECT sha256, pack_sha256, pack_offset, pack_length FROM stored_objects WHERE pack_sha256 IS NOT NULL ORDER BY size DESC LIMIT 1",
  );
  return { sha: String(row.sha256), pack: String(row.pack_sha256), offset: Number(row.pack_offset) };
}

async function verify(seeded: Seeded): Promise<{ code: number; report: VerifyReport }> {
  const { code, json } = await runJson<VerifyReport>(["verify", "--all"], seeded.env);
  return { code, report: json };
}

function kinds(report: VerifyReport): [string, string | null][] {
  return report.problems.map((p) => [p.kind, p.turn_id] as [string, string | null]).sort();
}

function packPath(seeded: Seeded, sha: string): string {
  return join(seeded.dir, "objects", sha.slice(0, 2), sha.slice(2, 4), `${sha}.gz`);
}

/** Flips a byte inside a gzip member's compressed data (its CRC then fails). */
function damage(bytes: Uint8Array, offset: number): Uint8Array {
  const out = bytes.slice();
  out[offset + 40] ^= 0xff;
  return out;
}

for (const engine of ["sqlite", "postgres"] as const) {
  Deno.test({
    name:
      `verify names a damaged segment with every turn that uses it, a missing pack and an edited manifest [${engine}]`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      await using seeded = await seedCapture(engine, TURNS);
      const [t1, t2, t3] = seeded.turnIds;
      const clean = await verify(seeded);
      assert.equal(clean.code, 0, JSON.stringify(clean.report.problems));
      assert.ok(clean.report.checked_segments >= 7, `segments checked (${clean.report.checked_segments})`);

      const tools = await toolsSegment(seeded);
      const path = packPath(seeded, tools.pack);
      const original = await Deno.readFile(path);
      await Deno.writeFile(path, damage(original, tools.offset));
      const damaged = await verify(seeded);
      assert.equal(damaged.code, 1);
      assert.deepEqual(kinds(damaged.report), [
        ["object_modified", null], // the pack itself, found by listing the store
        ["object_modified", t1],
        ["object_modified", t2],
        ["object_modified", t3],
      ]);
      assert.ok(damaged.report.problems.some((p) => p.detail.includes(`segment ${tools.sha}`)));
      await Deno.writeFile(path, original);

      // Turn 3's own pack: the two messages new at turn 3 and the one whose breakpoint moved.
      const [newest] = await query<{ pack_sha256: string }>(
        seeded,
        `SELECT s.pack_sha256 FROM stored_objects s JOIN manifest_segments m ON m.segment_sha256 = s.sha256
         JOIN turns t ON t.request_sha256 = m.body_sha256
         WHERE t.id = $1 AND (SELECT COUNT(*) FROM manifest_segments o WHERE o.segment_sha256 = s.sha256) = 1
         LIMIT 1`,
        [t3],
      );
      await Deno.rename(packPath(seeded, newest.pack_sha256), `${seeded.dir}/moved.gz`);
      const missing = await verify(seeded);
      assert.equal(missing.code, 1);
      // Each segment of the pack is named, for turn 3 and for turn 2 if it uses one: turns captured in one
      // batch may each store a message new to both, and the row then points at one of their packs.
      const inPack = await query<{ sha256: string }>(
        seeded,
        "SELECT sha256 FROM stored_objects WHERE pack_sha256 = $1",
        [newest.pack_sha256],
      );
      assert.ok(missing.report.problems.every((p) => p.kind === "object_missing"));
      const turns = new Set(missing.report.problems.map((p) => p.turn_id));
      assert.ok(turns.has(t3) && [...turns].every((t) => t === t2 || t === t3), [...turns].join(", "));
      for (const { sha256 } of inPack) {
        assert.ok(missing.report.problems.some((p) => p.detail.startsWith(`segment ${sha256} is missing`)));
      }
      assert.match(
        missing.report.problems[0].detail,
        /^segment [0-9a-f]{64} is missing \(pack [0-9a-f]{64} is missing\)/,
      );
      await Deno.rename(`${seeded.dir}/moved.gz`, packPath(seeded, newest.pack_sha256));

      const db = openDb(seeded);
      try {
        const [m] = await db.query<{ sha256: string; parts: string }>(
          "SELECT b.sha256, b.parts FROM body_manifests b JOIN turns t ON t.request_sha256 = b.sha256 WHERE t.id = $1",
          [t2],
        );
        // One byte of a literal the manifest row itself holds changes (same length, so only the hash can tell).
        const chain = await readManifestChain(db, String(m.sha256));
        const base = chain.length > 1 ? expandChain(chain.slice(1)) : null;
        let changed = false;
        const own = decodeParts(String(m.parts), base).map((p): Part => {
          const text = p.kind === "literal" ? new TextDecoder().decode(p.bytes) : "";
          if (changed || p.kind === "segment" || !text.includes("e")) return p;
          changed = true;
          return { kind: "literal", bytes: new TextEncoder().encode(text.replace("e", "f")) };
        });
        assert(changed, "the manifest holds a literal to edit");
        const edited = encodeParts(own, base);
        await db.run("UPDATE body_manifests SET parts = $1 WHERE sha256 = $2", [edited, String(m.sha256)]);
      } finally {
        await db.close();
      }
      const manifest = await verify(seeded);
      assert.equal(manifest.code, 1);
      // Turn 3's manifest builds on turn 2's when turn 2 was committed before turn 3 was stored (not when
      // both were in one batch); then the edit changes both bodies.
      const [third] = await query<{ base_sha256: string | null }>(
        seeded,
        "SELECT b.base_sha256 FROM body_manifests b JOIN turns t ON t.request_sha256 = b.sha256 WHERE t.id = $1",
        [t3],
      );
      const [second] = await query<{ request_sha256: string }>(
        seeded,
        "SELECT request_sha256 FROM turns WHERE id = $1",
        [t2],
      );
      const affected = third.base_sha256 === second.request_sha256 ? [t2, t3] : [t2];
      assert.deepEqual(kinds(manifest.report), affected.map((t) => ["object_modified", t]).sort());
      assert.match(manifest.report.problems[0].detail, /reassembled from its manifest hashes to/);
    },
  });
}

Deno.test({
  name: "verify reassembles segmented bodies from packs in S3 and names a damaged segment",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    requireS3();
    const s3 = await startS3();
    try {
      const { seeded: store, bucket } = await seedCaptureInS3(s3, TURNS);
      await using seeded = store;
      const [t1, t2, t3] = seeded.turnIds;
      const clean = await verify(seeded);
      assert.equal(clean.code, 0, JSON.stringify(clean.report.problems));
      const tools = await toolsSegment(seeded);
      const key = `objects/${tools.pack.slice(0, 2)}/${tools.pack}.gz`;
      const got = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const original = await got.Body!.transformToByteArray();
      await s3.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: damage(original, tools.offset) }),
      );
      const { code, report } = await verify(seeded);
      assert.equal(code, 1);
      assert.deepEqual(kinds(report), [
        ["object_modified", null],
        ["object_modified", t1],
        ["object_modified", t2],
        ["object_modified", t3],
      ]);
    } finally {
      Deno.env.delete("AWS_ACCESS_KEY_ID");
      Deno.env.delete("AWS_SECRET_ACCESS_KEY");
      await s3.close();
    }
  },
});

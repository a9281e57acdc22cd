/**
 * `recondo verify` against an attacker with the database owner's rights and write access to the object
 * store. Data is captured through the real pipeline (`createCapture`), tampered with, and `verify` runs
 * as a subprocess; each tampering must be named with the right problem kind and turn, and nothing else.
 *
 * How the attacker gets past the append-only triggers: on SQLite, whoever can write the file can
 * `DROP TRIGGER` (and re-create it afterwards to hide that); on PostgreSQL, the table owner (the role the
 * gateway connects as) can `ALTER TABLE … DISABLE TRIGGER …` and `ENABLE ALWAYS` it again afterwards —
 * `session_replication_role` does not help them, but ownership does. The hash chain and the signed heads
 * are what catch them.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  runJson,
  runRecondo,
  seedCapture,
  type Seeded,
  type SeedTurn,
  usage,
} from "../cli/inspect/test_seed.ts";
import type { VerifyReport } from "../cli/verify/report.ts";
import { turnHash } from "../storage/chain.ts";
import { openPostgres } from "../storage/db/postgres.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import type { Row, SqlValue } from "../storage/db/db.ts";
import { deleteTurnByPolicy } from "../storage/retention.ts";
import { gunzipBytes, gzipBytes } from "../storage/objects/content.ts";
import { chainHeadPayload, keyIdOf } from "../storage/signing.ts";
import { newId } from "../core/ids.ts";
import { requireS3, startS3 } from "./support/s3.ts";
import { seedCaptureInS3 } from "./support/s3_seed.ts";

const T0 = Date.UTC(2026, 4, 1, 9);
const TURNS: SeedTurn[] = [
  {
    at: T0,
    clientSession: "tamper-a",
    prompt: "Find the flaky test",
    usage: usage({ input: 100, output: 10 }),
    text: "Looking.",
    toolCalls: [{ id: "toolu_1", name: "Grep", arguments: '{"pattern":"flaky"}', server: false }],
  },
  {
    at: T0 + 10_000,
    clientSession: "tamper-a",
    prompt: "Find the flaky test",
    userText: "and fix it",
    usage: usage({ input: 200, output: 20 }),
    text: "Found it in widget_test.ts.",
    toolResults: [{ callId: "toolu_1", content: "tests/widget_test.ts:12", isError: false }],
  },
  {
    at: T0 + 20_000,
    clientSession: "tamper-a",
    prompt: "Find the flaky test",
    userText: "run the tests",
    usage: usage({ input: 300, output: 30 }),
    text: "All green.",
  },
  { at: T0 + 30_000, clientSession: "tamper-b", prompt: "Other work", usage: usage({ input: 5, output: 1 }) },
];

type Problem = VerifyReport["problems"][number];

async function rows(seeded: Seeded, sql: string, params: SqlValue[] = []): Promise<Row[]> {
  const db = seeded.engine === "sqlite" ? openSqlite(seeded.database) : openPostgres(seeded.database);
  try {
    return await db.query(sql, params);
  } finally {
    await db.close();
  }
}

const GUARDED = ["turns", "tool_calls", "tool_results", "chain_heads", "deletions"];

/** Runs statements as the database owner with the append-only triggers switched off, then back on. */
async function asOwner(seeded: Seeded, statements: [string, SqlValue[]?][]): Promise<void> {
  if (seeded.engine === "sqlite") {
    const raw = new DatabaseSync(seeded.database);
    try {
      const triggers = raw.prepare(
        `SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (${
          GUARDED.map((t) => `'${t}'`).join(", ")
        })`,
      ).all() as { name: string; sql: string }[];
      raw.exec("BEGIN");
      for (const t of triggers) raw.exec(`DROP TRIGGER ${t.name}`);
      for (const [sql, params = []] of statements) {
        raw.prepare(sql.replace(/\$(\d+)/g, "?$1")).run(...(params as (string | number | null)[]));
      }
      for (const t of triggers) raw.exec(t.sql); // put them back, as an attacker covering tracks would
      raw.exec("COMMIT");
    } finally {
      raw.close();
    }
    return;
  }
  const db = openPostgres(seeded.database); // the gateway's role, which owns the tables
  try {
    await db.transaction(async (tx) => {
      const triggers = await tx.query<{ name: string; tbl: string }>(
        `SELECT tgname AS name, tgrelid::regclass::text AS tbl FROM pg_trigger
         WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY($1)`,
        [`{${GUARDED.join(",")}}`],
      );
      for (const t of triggers) await tx.exec(`ALTER TABLE ${t.tbl} DISABLE TRIGGER ${t.name}`);
      for (const [sql, params = []] of statements) await tx.run(sql, params);
      for (const t of triggers) await tx.exec(`ALTER TABLE ${t.tbl} ENABLE ALWAYS TRIGGER ${t.name}`);
    });
  } finally {
    await db.close();
  }
}

async function verify(
  seeded: Seeded,
  args: string[] = ["--all"],
): Promise<{ code: number; report: VerifyReport }> {
  const { code, json } = await runJson<VerifyReport>(["verify", ...args], seeded.env);
  return { code, report: json };
}

/** The problems as `[kind, turn_id]`, in a stable order, for exact comparison. */
function kinds(report: VerifyReport): [string, string | null][] {
  return report.problems.map((p: Problem) => [p.kind, p.turn_id] as [string, string | null]).sort();
}

function objectPath(seeded: Seeded, sha: string): string {
  return join(seeded.dir, "objects", sha.slice(0, 2), sha.slice(2, 4), `${sha}.gz`);
}

/** Where a small body lies: capture packs the small bodies of a write batch into one object. */
async function memberOf(
  seeded: Seeded,
  sha: unknown,
): Promise<{ pack: string; offset: number; length: number }> {
  const [row] = await rows(
    seeded,
    "SELECT pack_sha256, pack_offset, pack_length FROM stored_objects WHERE sha256 = $1",
    [
      String(sha),
    ],
  );
  assert.ok(row?.pack_sha256, `body ${sha} is a pack member`);
  return { pack: String(row.pack_sha256), offset: Number(row.pack_offset), length: Number(row.pack_length) };
}

/** How many pack objects the store holds (verify re-hashes each as an object of its own). */
async function packCount(seeded: Seeded): Promise<number> {
  const found = await rows(
    seeded,
    "SELECT DISTINCT pack_sha256 FROM stored_objects WHERE pack_sha256 IS NOT NULL",
  );
  return found.length;
}

/**
 * A valid gzip member of exactly `length` bytes holding `bytes`: the header's FEXTRA field pads it, so the
 * member can replace another in its pack without moving its neighbours (an edit that keeps gzip valid).
 */
async function gzipOfLength(bytes: Uint8Array, length: number): Promise<Uint8Array> {
  const gz = await gzipBytes(bytes);
  const pad = length - gz.length - 2;
  assert.ok(pad >= 0, "the replacement compresses small enough");
  const out = new Uint8Array(length);
  out.set(gz.subarray(0, 10));
  out[3] |= 0x04; // FEXTRA
  out[10] = pad & 0xff;
  out[11] = pad >> 8;
  out.set(gz.subarray(10), 12 + pad);
  return out;
}

async function turnRow(seeded: Seeded, id: string): Promise<Row> {
  const [row] = await rows(seeded, "SELECT * FROM turns WHERE id = $1", [id]);
  return row;
}

function tamperTest(name: string, fn: (seeded: Seeded) => Promise<void>): void {
  for (const engine of ["sqlite", "postgres"] as const) {
    Deno.test({
      name: `${name} [${engine}]`,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        await using seeded = await seedCapture(engine, TURNS);
        await fn(seeded);
      },
    });
  }
}

tamperTest("untouched captures verify clean, one session or all, with exit 0", async (seeded) => {
  const all = await verify(seeded);
  assert.equal(all.code, 0);
  assert.deepEqual(all.report, {
    ok: true,
    // 8 bodies, each read from its pack, and every pack re-hashed as an object.
    checked_objects: 8 + await packCount(seeded),
    checked_segments: 0,
    checked_turns: 4,
    checked_sessions: 2,
    checked_signatures: 2,
    unsigned_turns: 0,
    problems: [],
  });
  const [a1] = seeded.turnIds;
  const sessionId = String((await turnRow(seeded, a1)).session_id);
  const one = await verify(seeded, [sessionId]);
  assert.equal(one.code, 0);
  assert.equal(one.report.checked_turns, 3);
  assert.equal(one.report.checked_objects, 6);
  const human = await runRecondo(["verify", sessionId], seeded.env);
  assert.match(
    human.stdout,
    /^Checked 1 sessions, 3 turns, 6 objects, 1 signed heads\nOK: everything holds\n$/,
  );
});

tamperTest("a flipped byte in an object is object_modified, gzip or not", async (seeded) => {
  const [a1, a2] = seeded.turnIds;
  const response = await memberOf(seeded, (await turnRow(seeded, a2)).response_sha256);
  const responsePack = await Deno.readFile(objectPath(seeded, response.pack));
  const body = await gunzipBytes(responsePack.subarray(response.offset, response.offset + response.length));
  responsePack.set(await gzipOfLength(body.subarray(0, 8), response.length), response.offset);
  await Deno.writeFile(objectPath(seeded, response.pack), responsePack);
  const request = await memberOf(seeded, (await turnRow(seeded, a1)).request_sha256);
  const raw = await Deno.readFile(objectPath(seeded, request.pack));
  // Inside the member's gzip trailer (its CRC): no longer a valid gzip stream.
  raw[request.offset + request.length - 6] ^= 0xff;
  await Deno.writeFile(objectPath(seeded, request.pack), raw);
  const { code, report } = await verify(seeded);
  assert.equal(code, 1);
  assert.equal(report.ok, false);
  // Each edited pack is also an object whose bytes no longer hash to its name (named by no turn itself).
  const packs = new Set([request.pack, response.pack]).size;
  assert.deepEqual(
    kinds(report),
    [["object_modified", a1], ["object_modified", a2], ...Array(packs).fill(["object_modified", null])]
      .sort(),
  );
  assert.ok(report.problems.some((p) => /now hashes to/.test(p.detail)));
  assert.ok(report.problems.some((p) => /not valid gzip/.test(p.detail)));
});

tamperTest("a removed object is object_missing for the turn that names it", async (seeded) => {
  const [a1] = seeded.turnIds;
  const { pack } = await memberOf(seeded, (await turnRow(seeded, a1)).request_sha256);
  await Deno.remove(objectPath(seeded, pack));
  const { code, report } = await verify(seeded);
  assert.equal(code, 1);
  // Every body of that pack is gone with it: each turn naming one is reported, once per body.
  const named = await rows(
    seeded,
    `SELECT t.id FROM turns t JOIN stored_objects o ON o.sha256 IN (t.request_sha256, t.response_sha256)
     WHERE o.pack_sha256 = $1`,
    [pack],
  );
  assert.ok(named.some((r) => r.id === a1));
  assert.deepEqual(kinds(report), named.map((r) => ["object_missing", String(r.id)]).sort());
});

tamperTest("a turn row edited through SQL by the owner is row_modified", async (seeded) => {
  const [, a2] = seeded.turnIds;
  await asOwner(seeded, [["UPDATE turns SET output_tokens = 1 WHERE id = $1", [a2]]]);
  assert.equal(Number((await turnRow(seeded, a2)).output_tokens), 1, "the edit went through");
  const { code, report } = await verify(seeded);
  assert.equal(code, 1);
  assert.deepEqual(kinds(report), [["row_modified", a2]]);
  const [a1] = seeded.turnIds;
  await asOwner(seeded, [["UPDATE tool_calls SET arguments = '{}' WHERE turn_id = $1", [a1]]]);
  assert.deepEqual(kinds((await verify(seeded)).report), [["row_modified", a1], ["row_modified", a2]]);
});

tamperTest(
  "an edit whose hash was recomputed breaks the chain at the next turn, or at the signed head",
  async (seeded) => {
    const [, a2, a3] = seeded.turnIds;
    const forge = async (id: string) => {
      const row = { ...await turnRow(seeded, id), response_text: "Nothing to see." };
      const calls = await rows(seeded, "SELECT * FROM tool_calls WHERE turn_id = $1 ORDER BY idx", [id]);
      const results = await rows(
        seeded,
        "SELECT * FROM tool_results WHERE turn_id = $1 ORDER BY call_id, id",
        [id],
      );
      await asOwner(seeded, [[
        "UPDATE turns SET response_text = $2, hash = $3 WHERE id = $1",
        [id, "Nothing to see.", turnHash(row, calls, results)],
      ]]);
    };
    await forge(a2);
    assert.deepEqual(kinds((await verify(seeded)).report), [["chain_broken", a3]]);
  },
);

tamperTest("rewriting the newest turn and the session head is caught by the signed head", async (seeded) => {
  const [, , a3] = seeded.turnIds;
  const row: Row = { ...await turnRow(seeded, a3), output_tokens: 1 };
  const hash = turnHash(row, [], []);
  await asOwner(seeded, [
    ["UPDATE turns SET output_tokens = 1, hash = $2 WHERE id = $1", [a3, hash]],
    ["UPDATE sessions SET head_hash = $2 WHERE id = $1", [String(row.session_id), hash]],
  ]);
  const { code, report } = await verify(seeded);
  assert.equal(code, 1);
  assert.deepEqual(kinds(report), [["chain_broken", a3]]);
  assert.match(report.problems[0].detail, /rewritten after signing/);
});

tamperTest(
  "a deleted turn is turn_deleted, in the middle or at the end with its traces removed",
  async (seeded) => {
    const [, a2, a3] = seeded.turnIds;
    const del = (id: string) =>
      [
        ["DELETE FROM tool_results WHERE turn_id = $1", [id]],
        ["DELETE FROM tool_calls WHERE turn_id = $1", [id]],
        ["DELETE FROM turns WHERE id = $1", [id]],
      ] as [string, SqlValue[]][];
    await asOwner(seeded, del(a2));
    const middle = await verify(seeded);
    assert.equal(middle.code, 1);
    assert.deepEqual(kinds(middle.report), [["turn_deleted", a2]]);

    // The newest turn, its exchange row, and the session head moved back: only the signature remembers.
    const before = await turnRow(seeded, a3);
    await asOwner(seeded, [
      ...del(a3),
      ["DELETE FROM exchanges WHERE id = $1", [a3]],
      ["UPDATE sessions SET head_seq = 2, head_hash = NULL, head_turn_id = NULL WHERE id = $1", [
        String(before.session_id),
      ]],
    ]);
    const tail = await verify(seeded);
    assert.deepEqual(kinds(tail.report), [["turn_deleted", a2], ["turn_deleted", a3]]);
    assert.ok(tail.report.problems.some((p) => p.turn_id === a3 && /seq 3 .* missing/.test(p.detail)));
  },
);

tamperTest("a fabricated turn appended to a session is turn_inserted", async (seeded) => {
  const [, , a3] = seeded.turnIds;
  const last = await turnRow(seeded, a3);
  const forged: Row = {
    ...last,
    id: newId(T0 + 40_000),
    exchange_id: newId(T0 + 40_000),
    seq: 4,
    started_at: T0 + 40_000,
    prompt: "rm -rf /",
    prev_hash: last.hash,
  };
  forged.hash = turnHash(forged, [], []);
  const columns = Object.keys(forged);
  await asOwner(seeded, [
    [
      `INSERT INTO turns (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`,
      columns.map((c) => forged[c] as SqlValue),
    ],
    ["UPDATE sessions SET head_seq = 4, head_hash = $2, head_turn_id = $3 WHERE id = $1", [
      String(last.session_id),
      String(forged.hash),
      String(forged.id),
    ]],
  ]);
  const { code, report } = await verify(seeded);
  assert.equal(code, 1);
  assert.deepEqual(kinds(report), [["turn_inserted", String(forged.id)]]);
});

tamperTest("a deletion by policy is reported as such and is not a failure", async (seeded) => {
  const [, a2] = seeded.turnIds;
  const db = seeded.engine === "sqlite" ? openSqlite(seeded.database) : openPostgres(seeded.database);
  try {
    await deleteTurnByPolicy(db, a2, "data-subject request");
  } finally {
    await db.close();
  }
  const { code, report } = await verify(seeded);
  assert.equal(code, 0);
  assert.equal(report.ok, true);
  assert.deepEqual(kinds(report), [["deleted_by_policy", a2]]);
  assert.match(report.problems[0].detail, /data-subject request/);
});

tamperTest("an altered chain-head row no longer matches its signature", async (seeded) => {
  const [, , a3] = seeded.turnIds;
  await asOwner(seeded, [["UPDATE chain_heads SET signed_at = signed_at + 1 WHERE turn_id = $1", [a3]]]);
  const { code, report } = await verify(seeded);
  assert.equal(code, 1);
  assert.deepEqual(kinds(report), [["signature_invalid", a3]]);
});

Deno.test({
  name: "a head signed by a key registered behind the gateway's back fails only with --strict-keys",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using seeded = await seedCapture("sqlite", TURNS);
    const [, , a3] = seeded.turnIds;
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
    const last = await turnRow(seeded, a3);
    const head = {
      session_id: String(last.session_id),
      seq: 3,
      turn_id: a3,
      hash: String(last.hash),
      signed_at: T0,
    };
    const signature = new Uint8Array(
      await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, chainHeadPayload(head)),
    );
    await asOwner(seeded, [
      ["INSERT INTO signing_keys (key_id, public_jwk, created_at) VALUES ($1, $2, 0)", [
        keyIdOf(publicJwk),
        JSON.stringify(publicJwk),
      ]],
      [
        `INSERT INTO chain_heads (id, session_id, seq, turn_id, hash, signed_at, key_id, signature)
         VALUES ('rogue', $1, 3, $2, $3, $4, $5, $6)`,
        [head.session_id, a3, head.hash, T0, keyIdOf(publicJwk), btoa(String.fromCharCode(...signature))],
      ],
    ]);
    assert.equal((await verify(seeded)).code, 0, "another replica's registered key is trusted by default");
    const strict = await verify(seeded, ["--all", "--strict-keys"]);
    assert.equal(strict.code, 1);
    assert.deepEqual(kinds(strict.report), [["signature_invalid", a3]]);
    assert.match(strict.report.problems[0].detail, /only the local key file is trusted/);
  },
});

Deno.test({
  name: "verify re-hashes objects in S3 and names modified and missing ones",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    requireS3();
    const s3 = await startS3();
    try {
      const { seeded: store, bucket } = await seedCaptureInS3(s3, TURNS);
      await using seeded = store;
      const [a1, a2] = seeded.turnIds;
      assert.equal((await verify(seeded)).code, 0);
      const key = (sha: unknown) => `objects/${String(sha).slice(0, 2)}/${sha}.gz`;
      // Small bodies are members of their batch's pack: one edited in place, and another pack removed.
      const response = await memberOf(seeded, (await turnRow(seeded, a1)).response_sha256);
      const got = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key(response.pack) }));
      const pack = new Uint8Array(await got.Body!.transformToByteArray());
      pack.set(await gzipOfLength(new TextEncoder().encode("not it"), response.length), response.offset);
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key(response.pack), Body: pack }));
      const request = await memberOf(seeded, (await turnRow(seeded, a2)).request_sha256);
      const removed = request.pack === response.pack ? null : request.pack;
      if (removed) await s3.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(removed) }));
      const lost = removed
        ? await rows(
          seeded,
          `SELECT t.id FROM turns t JOIN stored_objects o ON o.sha256 IN (t.request_sha256, t.response_sha256)
           WHERE o.pack_sha256 = $1`,
          [removed],
        )
        : [];
      const { code, report } = await verify(seeded);
      assert.equal(code, 1);
      assert.deepEqual(
        kinds(report),
        [
          ["object_modified", a1],
          ["object_modified", null], // the edited pack, re-hashed as an object
          ...lost.map((r) => ["object_missing", String(r.id)]),
        ].sort(),
      );
    } finally {
      Deno.env.delete("AWS_ACCESS_KEY_ID");
      Deno.env.delete("AWS_SECRET_ACCESS_KEY");
      await s3.close();
    }
  },
});

for (const engine of ["sqlite", "postgres"] as const) {
  Deno.test({
    name: `recondo delete removes turns and unshared bodies by policy, and verify still passes [${engine}]`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      await using seeded = await seedCapture(engine, [
        ...TURNS,
        {
          at: T0 + 40_000,
          clientSession: "tamper-b",
          prompt: "Other work",
          userText: null,
          usage: usage(),
          text: "More.",
        },
      ]);
      const [a1, a2, a3, b1, b2] = seeded.turnIds;
      type Result = { turn_ids: string[]; objects_deleted: number; objects_shared: number; dry_run: boolean };
      const reason = ["--reason", "data-subject request #42"];

      const dry = await runJson<Result>([
        "delete",
        "--session",
        String((await turnRow(seeded, a1)).session_id),
        "--dry-run",
        ...reason,
      ], seeded.env);
      assert.deepEqual([dry.code, dry.json.dry_run, dry.json.turn_ids], [0, true, [a1, a2, a3]]);
      assert.equal((await verify(seeded)).report.problems.length, 0, "a dry run changes nothing");

      const a1Request = String((await turnRow(seeded, a1)).request_sha256);
      const one = await runJson<Result>(["delete", "--turn", a1, ...reason], seeded.env);
      assert.deepEqual([one.json.turn_ids, one.json.objects_deleted, one.json.objects_shared], [[a1], 2, 0]);
      assert.equal(
        (await rows(seeded, "SELECT 1 AS x FROM stored_objects WHERE sha256 = $1", [a1Request])).length,
        0,
        "the body is gone from its pack's index",
      );

      // b1 and b2 sent the same request body: deleting b1 keeps it for b2.
      const shared = await runJson<Result>(["delete", "--turn", b1, ...reason], seeded.env);
      assert.deepEqual([shared.json.objects_deleted, shared.json.objects_shared], [1, 1]);

      const after = await verify(seeded);
      assert.equal(after.code, 0);
      assert.equal(after.report.ok, true);
      assert.deepEqual(kinds(after.report), [["deleted_by_policy", a1], ["deleted_by_policy", b1]].sort());
      assert.equal(after.report.checked_turns, 3);

      const rest = await runJson<Result>(["delete", "--older-than", "1d", ...reason], seeded.env);
      assert.deepEqual(rest.json.turn_ids.sort(), [a2, a3, b2].sort());
      const empty = await verify(seeded);
      assert.equal(empty.code, 0);
      assert.equal(empty.report.checked_turns, 0);
      assert.equal(empty.report.checked_objects, 0, "every body went with its turns");
      assert.equal(empty.report.problems.length, 5);

      const bad = await runRecondo(["delete", "--older-than", "soon", ...reason], seeded.env);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^recondo: --older-than must be an age like 90d, 12h or 30m; got "soon"\n$/);
      const none = await runRecondo(["delete", ...reason], seeded.env);
      assert.match(none.stderr, /^recondo: Name what to delete/);
    },
  });
}

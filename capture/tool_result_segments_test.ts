import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyStores } from "../cli/verify/verify.ts";
import { sortToolResults, turnHash } from "../storage/chain.ts";
import { testBothEngines } from "../storage/db/test_engines.ts";
import { openLocalObjectStore } from "../storage/objects/local.ts";
import { sha256Hex } from "../storage/objects/content.ts";
import { getTurn } from "../storage/queries.ts";
import { sessionTrace } from "../storage/ui/trace.ts";
import { withToolResultText } from "../storage/packed_text.ts";
import { persistRecord } from "./persist.ts";
import { buildRecord } from "./record.ts";
import { splitBody } from "./segments/split.ts";
import { fakeExchange, fakeParsed, usage } from "./test_exchange.ts";
import { toolResultSegments } from "./tool_result_segments.ts";

const encoder = new TextEncoder();
const OUTPUT = Array.from({ length: 120 }, (_, i) => `${String(i + 1).padStart(6)}\tconst v${i} = "ä ${i}";`)
  .join("\n");

/** A Claude Code-shaped request (large enough to be segmented) answering tool call `toolu_1`. */
function requestWithToolResult(output: string): Uint8Array {
  return encoder.encode(JSON.stringify({
    model: "claude-sonnet-4-5",
    system: [{ type: "text", text: "You are a coding agent. ".repeat(900) }],
    messages: [
      { role: "user", content: [{ type: "text", text: "read the file" }] },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "toolu_1", name: "Read", input: { path: "a.ts" } }],
      },
      // Leading spaces and a trailing newline, as a file read has: the parser trims them.
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: `  ${output}\n` }] },
    ],
  }));
}

Deno.test("a tool result's trimmed text is found as a slice of the segment holding its JSON string", () => {
  const body = requestWithToolResult(OUTPUT);
  const spans = splitBody(body)!;
  const [found, short, absent] = toolResultSegments(body, spans, [OUTPUT.trim(), "tiny", "x".repeat(300)]);
  assert(found, "the result's segment is found");
  const segment = spans.find((s) => sha256Hex(body.subarray(s.start, s.end)) === found.sha256)!;
  const text = JSON.parse(new TextDecoder().decode(body.subarray(segment.start, segment.end)));
  assert.equal(text.slice(found.from, found.to), OUTPUT.trim());
  assert.equal(short, null, "short texts stay in their rows");
  assert.equal(absent, null, "a text no segment holds stays in its row");
});

testBothEngines(
  "a tool result kept as a request segment reads back exactly, is chained by name, and verify names it when damaged",
  async ({ db }) => {
    const dir = await Deno.makeTempDir();
    try {
      const objects = await openLocalObjectStore(dir);
      const body = requestWithToolResult(OUTPUT);
      const parsed = fakeParsed({
        sessionId: "cc-seg",
        userText: null,
        usage: usage({ input: 20, output: 5 }),
        toolResults: [{ callId: "toolu_1", content: OUTPUT.trim(), isError: false }],
      });
      const record = buildRecord(fakeExchange({ at: Date.UTC(2026, 0, 4) }), parsed, {
        request: body,
        response: encoder.encode("data: {}\n\n"),
      }, new Uint8Array(32).fill(7));
      const written = await persistRecord(db, objects, record, { idleGapMs: 60_000 });
      assert(written.status === "written");
      const [row] = await db.query("SELECT * FROM tool_results WHERE turn_id = $1", [written.turnId!]);
      assert.equal(row.content, "", "the text is not copied into the row");
      assert.equal(row.content_deflated, null);
      assert.match(String(row.content_sha256), /^[0-9a-f]{64}$/);

      const turn = await getTurn(db, written.turnId!, { objects });
      assert.equal(turn?.tool_results[0].content, OUTPUT.trim(), "the turn shows the text byte for byte");
      const trace = await sessionTrace(db, written.sessionId!, { objects });
      assert.equal(trace?.turns[0].toolResults[0].content, OUTPUT.trim(), "so does the session page");
      const offline = await getTurn(db, written.turnId!);
      assert.match(String(offline?.tool_results[0].content), /object store, which is not configured/);

      const [t] = await db.query("SELECT * FROM turns WHERE id = $1", [written.turnId!]);
      const results = sortToolResults(withToolResultText(await db.query("SELECT * FROM tool_results")));
      assert.equal(turnHash(t, [], results), t.hash, "the stored hash covers the segment's name and range");
      const keys = { keys: new Map(), refused: new Map(), localKeyId: null };
      assert.deepEqual((await verifyStores(db, objects, { all: true, keys })).problems, []);

      // Damage the segment's member inside its pack: the tool result is now a tampered segment.
      const [located] = await db.query("SELECT * FROM stored_objects WHERE sha256 = $1", [
        String(row.content_sha256),
      ]);
      const pack = String(located.pack_sha256);
      const path = join(dir, pack.slice(0, 2), pack.slice(2, 4), `${pack}.gz`);
      const bytes = await Deno.readFile(path);
      bytes[Number(located.pack_offset) + Math.floor(Number(located.pack_length) / 2)] ^= 0xff;
      await Deno.writeFile(path, bytes);
      const report = await verifyStores(db, objects, { all: true, keys });
      assert.equal(report.ok, false);
      const named = report.problems.filter((p) =>
        p.detail.startsWith(`tool result segment ${row.content_sha256}`)
      );
      assert.equal(named.length, 1, JSON.stringify(report.problems));
      assert.equal(named[0].kind, "object_modified");
      assert.equal(named[0].turn_id, written.turnId);
      const damaged = await getTurn(db, written.turnId!, { objects });
      assert.match(String(damaged?.tool_results[0].content), /^\[recondo: tool result segment [0-9a-f]{64} /);
      await objects.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

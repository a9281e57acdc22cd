import assert from "node:assert/strict";
import type { Row } from "../../storage/db/db.ts";
import { GENESIS_HASH, turnHash } from "../../storage/chain.ts";
import { checkSessionChain, type SessionRows } from "./chain_check.ts";
import type { TrustedKeys } from "./trusted_keys.ts";

const NO_KEYS: TrustedKeys = { keys: new Map(), refused: new Map(), localKeyId: null };

/** A chain of `n` well-formed turns (no tool calls), each with its exchange row. */
function chain(n: number): Row[] {
  const turns: Row[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const t: Row = {
      id: `t${seq}`,
      session_id: "s",
      seq,
      exchange_id: `t${seq}`,
      provider: "anthropic",
      started_at: seq * 1000,
      input_tokens: seq,
      output_tokens: 1,
      request_sha256: "a".repeat(64),
      response_sha256: "b".repeat(64),
      prev_hash: prev,
    };
    t.hash = turnHash(t, [], []);
    prev = String(t.hash);
    turns.push(t);
  }
  return turns;
}

function rowsOf(turns: Row[], extra: Partial<SessionRows> = {}): SessionRows {
  const last = turns.at(-1);
  return {
    sessionId: "s",
    session: {
      id: "s",
      head_seq: last ? last.seq : 0,
      head_hash: last?.hash ?? null,
      head_turn_id: last?.id ?? null,
    },
    turns,
    toolCalls: new Map(),
    toolResults: new Map(),
    heads: [],
    deletions: [],
    exchanges: turns.map((t) => ({
      id: t.id,
      turn_id: t.id,
      request_sha256: t.request_sha256,
      response_sha256: t.response_sha256,
      captured_at: t.started_at,
    })),
    ...extra,
  };
}

const kinds = (r: { problems: { kind: string; turn_id: string | null }[] }) =>
  r.problems.map((p) => [p.kind, p.turn_id]);

Deno.test("a well-formed chain has no problems and counts every turn as unsigned", async () => {
  const result = await checkSessionChain(rowsOf(chain(3)), NO_KEYS);
  assert.deepEqual(result, { problems: [], checkedTurns: 3, checkedSignatures: 0, unsignedTurns: 3 });
});

Deno.test("a turn slipped in before a genuine one is turn_inserted, not a broken chain", async () => {
  const turns = chain(3);
  // The attacker's turn takes seq 2 and links to seq 1; the genuine second turn (renumbered to 3, hash
  // recomputed) still links to seq 1.
  const forged: Row = { ...turns[1], id: "evil", exchange_id: "evil", input_tokens: 99 };
  forged.hash = turnHash(forged, [], []);
  const moved: Row = { ...turns[1], seq: 3 };
  moved.hash = turnHash(moved, [], []);
  const rows = rowsOf([turns[0], forged, moved]);
  rows.exchanges = rows.exchanges.filter((e) => e.id !== "evil");
  const result = await checkSessionChain(rows, NO_KEYS);
  assert.deepEqual(kinds(result), [["turn_inserted", "evil"]]);
});

Deno.test("a first turn that does not start from the genesis hash is chain_broken", async () => {
  const [first] = chain(1);
  const odd: Row = { ...first, prev_hash: "c".repeat(64) };
  odd.hash = turnHash(odd, [], []);
  const result = await checkSessionChain(rowsOf([odd]), NO_KEYS);
  assert.deepEqual(kinds(result), [["chain_broken", "t1"]]);
  assert.match(result.problems[0].detail, /genesis/);
});

Deno.test("a recorded deletion bridges the chain, and a turn reusing its seq is turn_inserted", async () => {
  const turns = chain(3);
  const deletion = {
    target: "turn",
    target_id: "t2",
    session_id: "s",
    seq: 2,
    hash: turns[1].hash,
    reason: "retention",
    deleted_at: 0,
  };
  const bridged = rowsOf([turns[0], turns[2]], { deletions: [deletion] });
  assert.deepEqual(kinds(await checkSessionChain(bridged, NO_KEYS)), [["deleted_by_policy", "t2"]]);
  const reused = rowsOf(turns, { deletions: [deletion] });
  assert.deepEqual(kinds(await checkSessionChain(reused, NO_KEYS)), [
    ["deleted_by_policy", "t2"],
    ["turn_inserted", "t2"],
  ]);
});

Deno.test("a head signed by an unknown key is signature_invalid", async () => {
  const turns = chain(2);
  const rows = rowsOf(turns, {
    heads: [{
      session_id: "s",
      seq: 2,
      turn_id: "t2",
      hash: turns[1].hash,
      signed_at: 1,
      key_id: "k",
      signature: "",
    }],
  });
  const result = await checkSessionChain(rows, NO_KEYS);
  assert.deepEqual(kinds(result), [["signature_invalid", "t2"]]);
  assert.equal(result.unsignedTurns, 2, "an unverified head covers nothing");
});

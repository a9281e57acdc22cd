/**
 * Checks one session's hash chain from the rows read back (either engine): recomputes every turn's hash
 * (`storage/chain.ts`), follows the `prev_hash` links in sequence order, bridges recorded deletions,
 * compares turns with their exchange rows and the session head, and checks the Ed25519 signatures of the
 * chain heads. Pure over its input apart from Web Crypto, so tests can feed it rows directly.
 * @module
 */
import type { Row } from "../../storage/db/db.ts";
import { GENESIS_HASH, sortToolResults, turnHash } from "../../storage/chain.ts";
import { type ChainHead, verifyChainHead } from "../../storage/signing.ts";
import { type Problem, type ProblemKind, short } from "./report.ts";
import type { TrustedKeys } from "./trusted_keys.ts";

/** Everything stored about one session that the chain covers, read in one snapshot. */
export interface SessionRows {
  sessionId: string;
  /** The `sessions` row, `null` if it is gone. */
  session: Row | null;
  /** In `seq` order. */
  turns: Row[];
  /** By turn id, each in `idx` order. */
  toolCalls: Map<string, Row[]>;
  /** By turn id. */
  toolResults: Map<string, Row[]>;
  /** `chain_heads` rows of the session. */
  heads: Row[];
  /** `deletions` rows of the session (target `turn`). */
  deletions: Row[];
  /** `exchanges` rows of the session. */
  exchanges: Row[];
}

/** What one session contributed. */
export interface ChainResult {
  problems: Problem[];
  checkedTurns: number;
  checkedSignatures: number;
  unsignedTurns: number;
}

const num = (v: unknown) => Number(v);
const str = (v: unknown) => v === null || v === undefined ? null : String(v);
const iso = (ms: unknown) => new Date(Number(ms)).toISOString();

/** Checks `rows`; see the module doc. */
export async function checkSessionChain(rows: SessionRows, keys: TrustedKeys): Promise<ChainResult> {
  const sessionId = rows.sessionId;
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const report = (kind: ProblemKind, turnId: string | null, detail: string) => {
    const key = `${kind}\u0000${turnId ?? detail}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ kind, turn_id: turnId, session_id: sessionId, detail });
  };

  const turnsBySeq = new Map<number, Row[]>();
  for (const t of rows.turns) {
    const list = turnsBySeq.get(num(t.seq));
    if (list) list.push(t);
    else turnsBySeq.set(num(t.seq), [t]);
  }
  const deletedBySeq = new Map<number, Row>();
  const deletedIds = new Set<string>();
  for (const d of rows.deletions) {
    if (d.target !== "turn") continue;
    deletedIds.add(String(d.target_id));
    if (d.seq !== null && d.seq !== undefined) deletedBySeq.set(num(d.seq), d);
  }
  const headSeq = rows.session ? num(rows.session.head_seq) : 0;
  const maxSeq = Math.max(
    0,
    headSeq,
    ...turnsBySeq.keys(),
    ...deletedBySeq.keys(),
    ...rows.heads.map((h) => num(h.seq)),
  );

  // 1. Walk the chain in sequence order.
  const missing: number[] = [];
  let prevHash = GENESIS_HASH;
  let prevPrevHash: string | null = null;
  let prevTurn: Row | null = null;
  let afterGap = false;
  let checkedTurns = 0;
  for (let seq = 1; seq <= maxSeq; seq++) {
    const here = turnsBySeq.get(seq) ?? [];
    const deletion = deletedBySeq.get(seq);
    if (deletion) {
      report(
        "deleted_by_policy",
        String(deletion.target_id),
        `seq ${seq} deleted by policy at ${iso(deletion.deleted_at)}: ${deletion.reason}`,
      );
      for (const t of here) {
        report("turn_inserted", String(t.id), `turn occupies seq ${seq}, which was deleted by policy`);
      }
      prevPrevHash = prevHash;
      prevHash = str(deletion.hash) ?? prevHash;
      prevTurn = null;
      afterGap = false;
      continue;
    }
    if (here.length === 0) {
      missing.push(seq);
      afterGap = true;
      continue;
    }
    for (const extra of here.slice(1)) {
      report("turn_inserted", String(extra.id), `a second turn claims seq ${seq} (turn ${here[0].id})`);
    }
    const turn = here[0];
    const id = String(turn.id);
    checkedTurns++;
    const computed = turnHash(
      turn,
      rows.toolCalls.get(id) ?? [],
      sortToolResults(rows.toolResults.get(id) ?? []),
    );
    if (computed !== turn.hash) {
      report(
        "row_modified",
        id,
        `turn seq ${seq}: recorded hash ${
          short(turn.hash)
        }, but its row, tool calls and tool results hash to ${short(computed)}`,
      );
    }
    if (!afterGap && turn.prev_hash !== prevHash) {
      if (prevTurn && prevPrevHash !== null && turn.prev_hash === prevPrevHash) {
        report(
          "turn_inserted",
          String(prevTurn.id),
          `turn seq ${seq - 1} is not in the chain: seq ${seq} links past it to the turn before`,
        );
      } else {
        report(
          "chain_broken",
          id,
          `turn seq ${seq} links to ${short(turn.prev_hash)}, but ${
            seq === 1
              ? "a first turn links to the genesis hash"
              : `seq ${seq - 1} hashes to ${short(prevHash)}`
          }`,
        );
      }
    }
    if (rows.session && seq > headSeq) {
      report("turn_inserted", id, `seq ${seq} is beyond the session's recorded head (seq ${headSeq})`);
    }
    afterGap = false;
    prevPrevHash = prevHash;
    prevHash = String(turn.hash);
    prevTurn = turn;
  }

  // 2. Each turn is recorded by its exchange, and agrees with it.
  const exchangeByTurn = new Map<string, Row>();
  for (const ex of rows.exchanges) if (ex.turn_id) exchangeByTurn.set(String(ex.turn_id), ex);
  const turnIds = new Set(rows.turns.map((t) => String(t.id)));
  for (const t of rows.turns) {
    const ex = exchangeByTurn.get(String(t.id));
    if (!ex) {
      report(
        "turn_inserted",
        String(t.id),
        `no exchange records turn seq ${t.seq} (or its exchange row was removed)`,
      );
      continue;
    }
    for (const field of ["request_sha256", "response_sha256"] as const) {
      if (ex[field] !== t[field]) {
        report(
          "row_modified",
          String(t.id),
          `turn seq ${t.seq} has ${field} ${short(t[field])}, its exchange ${ex.id} has ${short(ex[field])}`,
        );
      }
    }
  }

  // 3. Signed heads.
  const knownMissing = new Map<number, string>();
  if (rows.session?.head_turn_id && missing.includes(headSeq)) {
    knownMissing.set(headSeq, String(rows.session.head_turn_id));
  }
  let latestSigned = 0;
  for (const h of rows.heads) {
    const seq = num(h.seq);
    const key = keys.keys.get(String(h.key_id));
    if (!key) {
      const why = keys.refused.get(String(h.key_id)) ?? "it is neither the key file nor a registered key";
      report("signature_invalid", str(h.turn_id), `head seq ${seq} is signed by key ${h.key_id}: ${why}`);
      continue;
    }
    const head = { ...(h as unknown as ChainHead), signature: String(h.signature) };
    const valid = await verifyChainHead(key, head).catch(() => false);
    if (!valid) {
      report(
        "signature_invalid",
        str(h.turn_id),
        `the signature of head seq ${seq} (signed ${iso(h.signed_at)}) does not verify with key ${h.key_id}`,
      );
      continue;
    }
    latestSigned = Math.max(latestSigned, seq);
    const deletion = deletedBySeq.get(seq);
    const turn = (turnsBySeq.get(seq) ?? [])[0];
    if (deletion) {
      if (deletion.hash !== h.hash) {
        report(
          "chain_broken",
          str(h.turn_id),
          `signed head seq ${seq} names ${short(h.hash)}, the deletion record ${short(deletion.hash)}`,
        );
      }
    } else if (!turn) {
      knownMissing.set(seq, String(h.turn_id));
    } else if (turn.id !== h.turn_id || turn.hash !== h.hash) {
      report(
        "chain_broken",
        String(turn.id),
        `signed head seq ${seq} (signed ${iso(h.signed_at)}) names turn ${h.turn_id} with hash ${
          short(h.hash)
        }, the chain now has turn ${turn.id} with hash ${short(turn.hash)}: rewritten after signing`,
      );
    }
  }
  if (rows.session && headSeq > 0) {
    const turn = (turnsBySeq.get(headSeq) ?? [])[0];
    if (turn && rows.session.head_hash !== turn.hash) {
      report(
        "chain_broken",
        String(turn.id),
        `the session head records hash ${
          short(rows.session.head_hash)
        } for seq ${headSeq}, the turn there has ${short(turn.hash)}`,
      );
    }
  }

  // 4. Missing sequence numbers without a deletion record; name the turn where anything still does.
  const named = new Set(knownMissing.values());
  const orphans = rows.exchanges
    .filter((ex) => ex.turn_id && !turnIds.has(String(ex.turn_id)) && !deletedIds.has(String(ex.turn_id)))
    .filter((ex) => !named.has(String(ex.turn_id)))
    .sort((a, b) => num(a.captured_at) - num(b.captured_at));
  for (const seq of missing) {
    const turnId = knownMissing.get(seq) ?? (orphans.length ? String(orphans.shift()!.turn_id) : null);
    report(
      "turn_deleted",
      turnId,
      `seq ${seq} of session ${sessionId} is missing and no deletion was recorded`,
    );
  }
  for (const ex of orphans) {
    report("turn_deleted", String(ex.turn_id), `exchange ${ex.id} recorded this turn, which is gone`);
  }

  const unsignedTurns = rows.turns.filter((t) => num(t.seq) > latestSigned).length;
  return { problems, checkedTurns, checkedSignatures: rows.heads.length, unsignedTurns };
}

/**
 * Test helper for the retention tests: captures real turns through the capture writer (rows, chain,
 * session totals, bodies in the object store), so deletions are tested against what production writes.
 * @module
 */
import { persistRecord } from "../capture/persist.ts";
import { buildRecord, type CaptureRecord } from "../capture/record.ts";
import { fakeExchange, fakeParsed, messagesBody, usage } from "../capture/test_exchange.ts";
import type { Db } from "./db/db.ts";
import type { ObjectStore } from "./objects/store.ts";

/** One turn to capture. */
export interface TestTurn {
  /** Start time (epoch ms). */
  at: number;
  /** Client session id; turns with the same one share a session. */
  sessionId: string;
  /** The request's prompt: equal prompts and extras give equal (shared) request bodies. */
  prompt: string;
  extra?: string[];
  /** Response body bytes; equal ones are stored once. */
  response: string;
  input?: number;
  output?: number;
  cacheWrite5m?: number;
  reasoning?: number;
  developer?: string;
  /** The request body's exact bytes, instead of a small body built from `prompt` and `extra`. */
  requestBody?: Uint8Array;
}

/** The capture record of `turn`, as the proxy hands it to the capture worker. */
export function testRecord(turn: TestTurn): CaptureRecord {
  const ex = fakeExchange({ at: turn.at });
  if (turn.developer) ex.client = { ...ex.client, developer: turn.developer };
  const parsed = fakeParsed({
    sessionId: turn.sessionId,
    userText: turn.prompt,
    usage: usage({
      input: turn.input ?? 10,
      output: turn.output ?? 5,
      cacheWrite5m: turn.cacheWrite5m ?? 0,
      reasoning: turn.reasoning ?? 0,
    }),
    toolCalls: [{ id: `call-${ex.id}`, name: "Bash", arguments: "{}", server: false }],
  });
  const bodies = {
    request: turn.requestBody ?? messagesBody(turn.prompt, turn.extra),
    response: new TextEncoder().encode(turn.response),
  };
  return buildRecord(ex, parsed, bodies, new Uint8Array(32));
}

/** Persist options of the test turns. Price: $0.001 per input and $0.002 per output token. */
export const TEST_PERSIST = {
  idleGapMs: 24 * 3_600_000,
  price: (_p: unknown, _m: unknown, u: { input: number; output: number }) =>
    u.input * 0.001 + u.output * 0.002,
};

/** Captures `turn` and returns its turn id. */
export async function captureTestTurn(db: Db, objects: ObjectStore, turn: TestTurn): Promise<string> {
  const record = testRecord(turn);
  await persistRecord(db, objects, record, TEST_PERSIST);
  return record.exchange.id;
}

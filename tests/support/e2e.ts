/**
 * Setup shared by the end-to-end tests that drive real gateways with Anthropic traffic: one migrated
 * PostgreSQL database with a pool per gateway replica, a config file in a temp dir, a client through a
 * `recondo serve` process and what it stored, a Messages request through any proxy client, what an answer
 * costs, waiting for spend caps to settle, and polling until a condition holds.
 * @module
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { priceUsage } from "../../providers/mod.ts";
import { migrate } from "../../storage/db/migrate.ts";
import { openPostgres } from "../../storage/db/postgres.ts";
import { type BudgetRow, currentBudgets } from "../../storage/ledger/mod.ts";
import type { Db } from "../../storage/db/db.ts";
import { sharedPostgres } from "./postgres.ts";

/** Two pools on one database, as two gateway replicas on two hosts would hold. */
export interface ReplicaDatabases {
  url: string;
  dbA: Db;
  dbB: Db;
  close(): Promise<void>;
}

/** A fresh database on the shared PostgreSQL, migrated once, with a pool of `max` connections per replica. */
export async function replicaDatabases(max: number): Promise<ReplicaDatabases> {
  const pg = await sharedPostgres();
  const url = await pg.createDatabase();
  const dbA = openPostgres(url, { max });
  await migrate(dbA);
  const dbB = openPostgres(url, { max });
  return {
    url,
    dbA,
    dbB,
    async close() {
      await dbA.close();
      await dbB.close();
    },
  };
}

/** A config file (`recondo.json`) in a temp dir of its own; disposing it removes the dir. */
export interface TempConfig extends AsyncDisposable {
  dir: string;
  path: string;
}

export async function writeTempConfig(config: Record<string, unknown>): Promise<TempConfig> {
  const dir = await Deno.makeTempDir({ prefix: "recondo-config-" });
  const path = join(dir, "recondo.json");
  await Deno.writeTextFile(path, JSON.stringify(config));
  return { dir, path, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** A fetch client through a gateway process (tests/agents/gateway_process.ts), trusting its CA. */
export async function processClient(gateway: { caFile: string; proxyUrl: string }): Promise<Deno.HttpClient> {
  const caPem = await Deno.readTextFile(gateway.caFile);
  return Deno.createHttpClient({ caCerts: [caPem], proxy: { url: gateway.proxyUrl } });
}

/** Every row of each of `tables` in the SQLite store of a `recondo serve` data dir, read-only. */
export function storedRows(dataDir: string, tables: string[]): Record<string, Record<string, unknown>[]> {
  const db = new DatabaseSync(join(dataDir, "recondo.db"), { readOnly: true });
  try {
    return Object.fromEntries(
      tables.map((table) => [table, db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]]),
    );
  } finally {
    db.close();
  }
}

/** The parts of an Anthropic Messages request that the tests vary. */
export interface MessagesRequest {
  maxTokens: number;
  /** The user's message (default "hi"). */
  content?: string;
  stream?: boolean;
  /** Headers besides `content-type` (default: `anthropic-version`, as Claude Code sends it). */
  headers?: Record<string, string>;
}

/** POSTs a Messages request for claude-sonnet-4-5 to api.anthropic.com through `client` (a proxy client). */
export function postMessages(client: Deno.HttpClient, request: MessagesRequest): Promise<Response> {
  return fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client,
    headers: {
      "content-type": "application/json",
      ...(request.headers ?? { "anthropic-version": "2023-06-01" }),
    },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      stream: request.stream,
      max_tokens: request.maxTokens,
      messages: [{ role: "user", content: request.content ?? "hi" }],
    }),
  });
}

/** {@link postMessages} read to its end; returns the status. */
export async function messagesStatus(client: Deno.HttpClient, request: MessagesRequest): Promise<number> {
  const res = await postMessages(client, request);
  // Read to the end: a body cancelled after the head can cut the stream before its usage event, so the
  // exchange ends "client gone" and a spend cap settles it for less than it cost (a later request slips in).
  await res.arrayBuffer();
  return res.status;
}

/** What one claude-sonnet-4-5 answer with these fresh tokens costs in micro-USD, priced as capture prices it. */
export function sonnetCostMicros(usage: { input: number; output: number }): number {
  return Math.round(
    priceUsage("anthropic", "claude-sonnet-4-5", {
      input: usage.input,
      output: usage.output,
      cacheRead: 0,
      cacheWrite5m: 0,
      cacheWrite1h: 0,
      reasoning: 0,
      estimated: false,
    }, new Date()).usd! * 1e6,
  );
}

/**
 * Waits until no request holds a reservation on any current budget, and returns the first budget's spend.
 * A gateway settles a spend cap after the response's last byte has gone to the client, so a test that
 * sends requests one after another must wait for the settlement before the next one, or that one is
 * admitted against the earlier request's (smaller) reservation instead of its settled cost.
 */
export async function budgetsSettled(db: Db): Promise<{ spent: number; reserved: number }> {
  let rows: BudgetRow[] = [];
  await eventually("the spend reservations to settle", async () => {
    rows = await currentBudgets(db, Date.now());
    return rows.every((row) => row.reservedMicros === 0);
  });
  return { spent: rows[0]?.spentMicros ?? 0, reserved: 0 };
}

/** Polls `check` every 50 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

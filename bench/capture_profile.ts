/**
 * Where capture's writer spends its time per exchange (issue #12 §2): the benchmark's exchanges
 * (`capture_exchanges.ts`) through the real pipeline on this thread, with the database and the object
 * store wrapped to count what each exchange costs them: write batches (transactions) and records per
 * batch, every SQL statement by its text (calls and CPU per record), the commit, object writes (wall time).
 * CPU is the process's during each call, so on SQLite (synchronous) a statement's whole cost, on PostgreSQL
 * only the client's share.
 *   deno run -A --unstable-no-legacy-abort bench/capture_profile.ts [--exchanges 3000] [--rate 2000]
 *     [--bodies unique|same] [--store sqlite|postgres]
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { loadOrCreateHmacKey } from "../capture/credentials.ts";
import { openJournal } from "../capture/journal.ts";
import { createPipeline } from "../capture/pipeline.ts";
import { dataPaths } from "../config/paths.ts";
import { priceUsage } from "../providers/mod.ts";
import type { Db, Queryable, SqlValue } from "../storage/db/db.ts";
import { openDatabase } from "../storage/db/mod.ts";
import { openObjectStore } from "../storage/objects/mod.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { startPostgres } from "../tests/support/postgres.ts";
import { feedExchanges } from "./capture_exchanges.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    exchanges: { type: "string", default: "3000" },
    rate: { type: "string", default: "2000" },
    bodies: { type: "string", default: "unique" },
    store: { type: "string", default: "sqlite" },
  },
});

interface Tally {
  calls: number;
  ms: number;
}

const statements = new Map<string, Tally>();
const batchSizes = new Map<number, number>();
let transactions = 0;
let commitMs = 0;

function count(map: Map<string, Tally>, key: string, ms: number): void {
  const tally = map.get(key) ?? map.set(key, { calls: 0, ms: 0 }).get(key)!;
  tally.calls++;
  tally.ms += ms;
}

/** The statement's text, short: whitespace collapsed, IN lists as `(…)`. */
function label(sql: string): string {
  return sql.replace(/\s+/g, " ").replace(/\(\$\d+(, \$\d+)+\)/g, "(…)").slice(0, 90);
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Counts `run`'s CPU (this process, all threads) up to its return: on SQLite every statement runs
 * synchronously inside the call, so that is its cost; on PostgreSQL it is only the sending.
 */
function timed<T>(sql: string, run: () => Promise<T>): Promise<T> {
  const started = cpuMs();
  const result = run();
  count(statements, label(sql), cpuMs() - started);
  return result;
}

function counting(q: Queryable): Queryable {
  return {
    query: (sql, params?: readonly SqlValue[]) => timed(sql, () => q.query(sql, params)),
    run: (sql, params?: readonly SqlValue[]) => timed(sql, () => q.run(sql, params)),
    exec: (sql) => q.exec(sql),
  };
}

function exchangeInserts(): number {
  let n = 0;
  for (const [sql, t] of statements) if (sql.startsWith("INSERT INTO exchanges")) n += t.calls;
  return n;
}

/** `db` with every statement counted, each transaction's records (exchange inserts), and on SQLite its commit. */
function countingDb(db: Db): Db {
  const raw = (db as { raw?: { exec(sql: string): void } }).raw;
  if (raw) {
    const exec = raw.exec.bind(raw);
    raw.exec = (sql: string) => {
      const started = cpuMs();
      try {
        return exec(sql);
      } finally {
        if (sql === "COMMIT") commitMs += cpuMs() - started;
      }
    };
  }
  return {
    ...counting(db),
    engine: db.engine,
    close: () => db.close(),
    async transaction(fn) {
      transactions++;
      const before = exchangeInserts();
      const result = await db.transaction((tx) => fn(counting(tx)));
      const records = exchangeInserts() - before;
      batchSizes.set(records, (batchSizes.get(records) ?? 0) + 1);
      return result;
    },
  };
}

const puts: Tally = { calls: 0, ms: 0 };
function countingObjects(objects: ObjectStore): ObjectStore {
  return new Proxy(objects, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== "put" || typeof value !== "function") return value;
      return async (...putArgs: unknown[]) => {
        const started = performance.now();
        try {
          return await value.apply(target, putArgs);
        } finally {
          puts.calls++;
          puts.ms += performance.now() - started;
        }
      };
    },
  });
}

const work = await Deno.makeTempDir({ prefix: "recondo-capture-profile-" });
const postgres = args.store === "postgres" ? await startPostgres() : null;
try {
  const paths = dataPaths(work);
  const env = new Map([["RECONDO_OBJECTS", "local"], ["RECONDO_STORE", args.store]]);
  if (postgres) env.set("RECONDO_DB_URL", await postgres.createDatabase());
  const db = countingDb(await openDatabase(paths, env));
  const objects = countingObjects(await openObjectStore(paths, env, undefined));
  const journal = await openJournal({ dir: paths.journal, flushIntervalMs: 50 });
  const pipeline = createPipeline({
    journal,
    db,
    objects,
    hmacKey: await loadOrCreateHmacKey(paths.secretKey),
    durability: "batched",
    idleGapMs: 30 * 60_000,
    price: (provider, model, usage, at) => priceUsage(provider, model, usage, new Date(at)).usd,
  });
  const exchanges = Number(args.exchanges);
  const written = () => pipeline.stats().written + pipeline.stats().failed;
  await feedExchanges(pipeline.sink, { count: 500, rate: Number(args.rate), unique: true, written });
  statements.clear();
  batchSizes.clear();
  transactions = 0;
  commitMs = 0;
  puts.calls = puts.ms = 0;
  const target = written() + exchanges;
  await feedExchanges(pipeline.sink, {
    count: exchanges,
    rate: Number(args.rate),
    unique: args.bodies === "unique",
    written: () => written() - (target - exchanges),
  });
  await pipeline.close();
  await journal.close();
  await db.close();
  await objects.close();

  const per = (ms: number) => (ms * 1000 / exchanges).toFixed(1);
  console.log(`${exchanges} exchanges, ${transactions} transactions, ${args.store}, bodies ${args.bodies}`);
  console.log("records per transaction: count of transactions");
  for (const [size, n] of [...batchSizes.entries()].sort((a, b) => a[0] - b[0])) {
    console.log(`  ${size}: ${n}`);
  }
  let total = 0;
  let calls = 0;
  console.log("\n| statement | calls per record | µs per record |\n| --- | ---: | ---: |");
  for (const [sql, t] of [...statements.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    total += t.ms;
    calls += t.calls;
    console.log(`| ${sql} | ${(t.calls / exchanges).toFixed(2)} | ${per(t.ms)} |`);
  }
  console.log(`| all statements | ${(calls / exchanges).toFixed(2)} | ${per(total)} |`);
  console.log(`| commit (SQLite) | | ${per(commitMs)} |`);
  console.log(`| object writes (${(puts.calls / exchanges).toFixed(2)} per record) | | ${per(puts.ms)} |`);
} finally {
  await postgres?.close();
  await Deno.remove(work, { recursive: true });
}

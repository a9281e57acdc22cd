/**
 * A throwaway PostgreSQL 15 cluster for tests: `initdb` in a temp dir, `pg_ctl start` on a free loopback
 * port, run as the `postgres` OS user because PostgreSQL refuses to run as root. The cluster has a
 * superuser `postgres` and an ordinary role `recondo` that owns the database `recondo` — the gateway
 * connects as the latter, so tests see what an application connection can and cannot do.
 * @example
 * await using pg = await startPostgres();
 * const db = openPostgres(pg.url);
 */
import { join } from "node:path";
import { freePort } from "./ports.ts";

const BIN = "/usr/lib/postgresql/15/bin";

/** A running cluster; `close()` (or `await using`) stops it and removes its files. */
export interface TestPostgres extends AsyncDisposable {
  /** `postgres://recondo:recondo@127.0.0.1:PORT/recondo`: the owner of the database, not a superuser. */
  url: string;
  /** The same database as the cluster superuser. */
  superuserUrl: string;
  port: number;
  /** Creates an empty database owned by `recondo` and returns its URL (fresh state per test). */
  createDatabase(): Promise<string>;
  close(): Promise<void>;
  /** Stops the cluster synchronously (for `unload` handlers, which cannot await). */
  closeSync(): void;
}

/** Whether this machine has the PostgreSQL 15 server binaries (see scripts/install_test_services.sh). */
/** Fails loudly, with the install command, unless PostgreSQL 15's server binaries are there. */
export function requirePostgres(): void {
  if (!postgresAvailable()) {
    throw new Error(
      `${
        join(BIN, "initdb")
      } is missing: run bash scripts/install_test_services.sh (needs root; \`deno task test\` runs it before the tests)`,
    );
  }
}

export function postgresAvailable(): boolean {
  try {
    return Deno.statSync(join(BIN, "initdb")).isFile;
  } catch {
    return false;
  }
}

async function asPostgres(args: string[], what: string): Promise<string> {
  const out = await new Deno.Command("runuser", { args: ["-u", "postgres", "--", ...args], stdin: "null" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`Cannot ${what} (exit ${out.code}): ${text.slice(-2000)}`);
  return text;
}

let shared: Promise<TestPostgres> | null = null;

/**
 * One cluster per test process, started on first use and stopped when the process unloads; tests take a
 * fresh database from it with `createDatabase()`.
 */
export function sharedPostgres(): Promise<TestPostgres> {
  if (!shared) {
    shared = startPostgres();
    shared.then((pg) => globalThis.addEventListener("unload", () => pg.closeSync()), () => {});
  }
  return shared;
}

/** Starts a fresh cluster; takes about a second. `maxConnections` defaults to 60. */
export async function startPostgres(options: { maxConnections?: number } = {}): Promise<TestPostgres> {
  const root = await Deno.makeTempDir({ prefix: "recondo-pg-" });
  await Deno.chmod(root, 0o755);
  const data = join(root, "data");
  const port = freePort();
  await new Deno.Command("chown", { args: ["-R", "postgres:postgres", root] }).output();
  let started = false;
  const close = async () => {
    if (started) {
      started = false;
      await asPostgres([join(BIN, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"], "stop PostgreSQL")
        .catch(() => {});
    }
    await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  try {
    await asPostgres(
      [join(BIN, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
      "initdb",
    );
    const serverOptions = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off ` +
      `-c synchronous_commit=off -c full_page_writes=off -c max_connections=${options.maxConnections ?? 60}`;
    await asPostgres(
      [
        join(BIN, "pg_ctl"),
        "-D",
        data,
        "-l",
        join(root, "log"),
        "-o",
        serverOptions,
        "-w",
        "-t",
        "30",
        "start",
      ],
      "start PostgreSQL",
    );
    started = true;
    const psql = (sql: string, db = "postgres") =>
      asPostgres(
        [
          "/usr/bin/psql",
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          "postgres",
          "-d",
          db,
          "-v",
          "ON_ERROR_STOP=1",
          "-c",
          sql,
        ],
        `run "${sql}"`,
      );
    await psql("CREATE ROLE recondo LOGIN PASSWORD 'recondo'");
    await psql("CREATE DATABASE recondo OWNER recondo");
  } catch (error) {
    await close();
    throw error;
  }
  let databases = 0;
  const closeSync = () => {
    if (started) {
      started = false;
      new Deno.Command("runuser", {
        args: ["-u", "postgres", "--", join(BIN, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
        stdout: "null",
        stderr: "null",
      }).outputSync();
    }
    try {
      Deno.removeSync(root, { recursive: true });
    } catch {
      // already gone
    }
  };
  return {
    url: `postgres://recondo:recondo@127.0.0.1:${port}/recondo`,
    superuserUrl: `postgres://postgres@127.0.0.1:${port}/recondo`,
    port,
    async createDatabase() {
      const name = `t${++databases}_${crypto.randomUUID().slice(0, 8)}`;
      await asPostgres(
        [
          "/usr/bin/psql",
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          "postgres",
          "-d",
          "postgres",
          "-c",
          `CREATE DATABASE ${name} OWNER recondo`,
        ],
        `create database ${name}`,
      );
      return `postgres://recondo:recondo@127.0.0.1:${port}/${name}`;
    },
    close,
    closeSync,
    [Symbol.asyncDispose]: close,
  };
}

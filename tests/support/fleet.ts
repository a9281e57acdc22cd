/**
 * A whole gateway fleet on loopback for end-to-end tests: N real `main.ts serve` processes (each its own
 * data dir, port and journal) sharing one PostgreSQL database, one S3 bucket (Ceph RGW, Object Lock on),
 * one config file, one CA and one HMAC key, behind haproxy in TCP mode as the single proxy address, all
 * pointed at one fake provider over HTTPS. `close()` tears everything down, also after a failed step,
 * and an `unload` handler SIGKILLs whatever is still running if the test process exits without it.
 *
 * Replicas must share the CA (clients trust one certificate whichever replica answers) and the HMAC key
 * (the same API key must hash the same on every replica, or attribution and `apiKeyHashes` break).
 * `sharedSecrets: "files"` copies one CA pair and key into each data dir before its first start;
 * `"env"` points every replica at the same files with RECONDO_CA_CERT_FILE, RECONDO_CA_KEY_FILE and
 * RECONDO_HMAC_KEY_FILE instead. Either way `startFleet` checks, by a TLS handshake through each replica,
 * that every one presents a leaf under the shared CA.
 * @example
 * await using fleet = await startFleet({ gateways: 3, config: { capture: { durability: "strict" } } });
 * const res = await fleet.fetch("https://api.anthropic.com/v1/messages", { method: "POST", body });
 * await fleet.gateways[1].crash();
 * await fleet.gateways[1].restart();
 * @module
 */
import { join } from "node:path";
import { dataPaths } from "../../config/paths.ts";
import { DEFAULT_INTERCEPT_HOSTS } from "../../config/schema.ts";
import { loadOrCreateHmacKey } from "../../capture/credentials.ts";
import { rotateCa } from "../../proxy/tls/ca.ts";
import { openPostgres } from "../../storage/db/postgres.ts";
import type { Db, SqlValue } from "../../storage/db/db.ts";
import { type GatewayProcess, startGatewayProcess } from "../agents/gateway_process.ts";
import { type FakeProvider, type FakeProviderOptions, startFakeProvider } from "../fake_provider/mod.ts";
import { makeTestCertificate } from "../fake_provider/tls.ts";
import { type Haproxy, startHaproxy } from "./haproxy.ts";
import { startPostgres, type TestPostgres } from "./postgres.ts";
import { freePort } from "./ports.ts";
import { startS3, type TestS3 } from "./s3.ts";

/** Hosts the fake provider stands in for. */
export const FLEET_PROVIDER_HOSTS = [
  "api.anthropic.com",
  "api.openai.com",
  "generativelanguage.googleapis.com",
];

/** Options of {@link startFleet}. */
export interface FleetOptions {
  /** Number of `serve` replicas (default 3). */
  gateways?: number;
  /** A running cluster to take a fresh database from; default: a new one, stopped by `close()`. */
  postgres?: TestPostgres;
  /** A running Ceph RGW to take a fresh Object Lock bucket from; default: a new one, stopped by `close()`. */
  s3?: TestS3;
  /** The shared config file every replica reads (RECONDO_CONFIG); `writeConfig` replaces it later. */
  config?: Record<string, unknown>;
  /** The fake provider's initial behavior; `fleet.fake.setBehavior` changes it between steps. */
  behavior?: FakeProviderOptions["behavior"];
  /** How replicas share the CA and HMAC key (see the module doc); default `"env"` (RECONDO_*_FILE). */
  sharedSecrets?: "files" | "env";
  /**
   * haproxy's health-check path: `"auto"` (default) uses `/readyz` when a replica answers it with 200 and
   * `/healthz` otherwise (today's gateway has no `/readyz`: drain tests need it).
   */
  checkPath?: "auto" | "/readyz" | "/healthz";
  /** haproxy's check interval in ms (default 200: a dead or draining replica is out within ~0.5 s). */
  checkIntervalMs?: number;
  balance?: "roundrobin" | "leastconn";
  /** RECONDO_LOG of the replicas (default `warn`). */
  logLevel?: string;
  /** More environment for every replica. */
  env?: Record<string, string>;
}

/** One replica of the fleet, stable across restarts (same name, port and data dir). */
export interface FleetGateway {
  /** `gw0`, `gw1`, …: also its server name in haproxy. */
  name: string;
  port: number;
  dataDir: string;
  /** `http://127.0.0.1:PORT`: this replica alone, bypassing the balancer. */
  directUrl: string;
  /** Whether the process is running (false after `stop()`/`crash()` until `restart()`). */
  readonly running: boolean;
  /** SIGTERM (a drain) and wait for the exit, however long the drain takes; the exit code. Data dir stays. */
  stop(): Promise<number>;
  /** A fetch client through this replica alone (not the balancer), trusting the fleet's CA. */
  client(proxyAuth?: string): Deno.HttpClient;
  /** SIGKILL, as a crash: nothing is flushed; the data dir (journal) stays for `restart()`. */
  crash(): Promise<void>;
  /**
   * Starts `serve` again on the same data dir and port (its journal is replayed before it answers
   * `/healthz`), then waits until haproxy has it UP again.
   */
  restart(): Promise<void>;
  /** The replica's `/metrics` text. */
  metrics(): Promise<string>;
  /** Its last log lines (JSON on stderr), across restarts. */
  logTail(): string[];
}

/** What `fleet.recondo(…)` returns. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A running fleet. */
export interface Fleet extends AsyncDisposable {
  /** haproxy's address: the one HTTPS_PROXY every client uses. */
  proxyUrl: string;
  balancer: Haproxy;
  /** The path haproxy checks on each replica (`/readyz`, or `/healthz` where there is none yet). */
  checkPath: string;
  gateways: FleetGateway[];
  fake: FakeProvider;
  /** The shared CA certificate (PEM file and text) every client trusts. */
  caFile: string;
  caPem: string;
  /** The shared CA key and HMAC key files (mode 0600), the sources of `sharedSecrets`. */
  caKeyFile: string;
  hmacKeyFile: string;
  postgres: TestPostgres;
  /** The fleet's database, as the replicas' RECONDO_DB_URL. */
  dbUrl: string;
  s3: TestS3;
  bucket: string;
  /** A small pool on the fleet's database for the test's own queries. */
  db: Db;
  configFile: string;
  /** Replaces the shared config file (each replica's watcher picks it up). */
  writeConfig(config: Record<string, unknown>): Promise<void>;
  /** The environment naming the shared stores (RECONDO_STORE, RECONDO_DB_URL, RECONDO_OBJECTS, S3…). */
  storeEnv: Record<string, string>;
  /** A client through the balancer that trusts the shared CA; closed by `close()`. */
  client(options?: { proxyAuth?: string }): Deno.HttpClient;
  /** `fetch` through the balancer (a client per call, so each call is its own connection). */
  fetch(url: string, init?: RequestInit & { proxyAuth?: string }): Promise<Response>;
  /** Runs `deno task recondo <args>` against the shared stores (data dir: gw0's unless given). */
  recondo(args: string[], options?: { dataDir?: string }): Promise<CliResult>;
  /**
   * Polls `probe` until it returns something other than `undefined`/`false`, and returns that; throws
   * naming `what` (and the last value seen by `describe`) at the deadline (default 15 s).
   */
  waitFor<T>(
    what: string,
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    options?: { timeoutMs?: number; describe?: () => Promise<string> },
  ): Promise<T>;
  /**
   * Resolves once the shared database holds exactly-or-more `count` rows of `SELECT COUNT(*) FROM turns
   * WHERE <where>`, and returns the count. Capture is behind the traffic: poll the rows a test expects,
   * not `recondo_capture_queued`, which drops to 0 while a batch is still being written.
   */
  waitForTurns(count: number, where: string, params?: SqlValue[], timeoutMs?: number): Promise<number>;
  /** Milliseconds each start-up phase took. */
  timings: Record<string, number>;
  close(): Promise<void>;
}

const REPO = new URL("../../", import.meta.url).pathname;

/** Copies the shared secrets into a fresh data dir, where `serve` finds them (config/paths.ts). */
async function seedSecrets(dir: string, source: { caCert: string; caKey: string; hmacKey: string }) {
  const paths = dataPaths(dir);
  await Deno.mkdir(paths.caDir, { recursive: true, mode: 0o700 });
  await Deno.mkdir(join(dir, "keys"), { recursive: true, mode: 0o700 });
  await Deno.copyFile(source.caCert, paths.caCert);
  await Deno.copyFile(source.caKey, paths.caKey);
  await Deno.chmod(paths.caKey, 0o600);
  await Deno.copyFile(source.hmacKey, paths.secretKey);
  await Deno.chmod(paths.secretKey, 0o600);
}

/**
 * Proves a replica serves leaves under `caPem`: CONNECT to an intercepted host through it directly and
 * finish a TLS handshake that trusts only that CA. No request is sent, so nothing is captured.
 */
export async function assertPresentsCa(
  port: number,
  caPem: string,
  host = "api.anthropic.com",
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`));
    const buffer = new Uint8Array(1024);
    const n = await conn.read(buffer);
    const head = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
    if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`CONNECT through port ${port} answered: ${head}`);
    const tls = await Deno.startTls(conn, { hostname: host, caCerts: [caPem] });
    try {
      await tls.handshake();
    } catch (error) {
      throw new Error(`The replica on port ${port} does not present a leaf under the fleet's CA`, {
        cause: error,
      });
    } finally {
      tls.close();
    }
  } catch (error) {
    try {
      conn.close();
    } catch {
      // closed with the TLS connection
    }
    throw error;
  }
}

/** `/readyz` when the replica answers it with 200, else `/healthz`. */
async function detectCheckPath(port: number): Promise<"/readyz" | "/healthz"> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { redirect: "manual" });
  await res.body?.cancel();
  return res.status === 200 ? "/readyz" : "/healthz";
}

async function timed<T>(timings: Record<string, number>, name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[name] = Math.round(performance.now() - started);
  }
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; describe?: () => Promise<string> } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const last = options.describe ? `: ${await options.describe().catch((e) => String(e))}` : "";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the fleet; on any failure stops what it started and rethrows. */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const count = options.gateways ?? 3;
  const timings: Record<string, number> = {};
  const cleanups: (() => Promise<void>)[] = [];
  const processes = new Map<number, GatewayProcess>();
  const clients: Deno.HttpClient[] = [];
  const killSync = () => {
    for (const p of processes.values()) {
      try {
        Deno.kill(p.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  globalThis.addEventListener("unload", killSync);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const client of clients.splice(0)) client.close();
    const errors: unknown[] = [];
    // Balancer and replicas first (they hold connections to the stores), then the stores.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((e) => errors.push(e));
    globalThis.removeEventListener("unload", killSync);
    if (errors.length > 0) throw new AggregateError(errors, "Fleet teardown failed");
  };
  try {
    const work = await Deno.makeTempDir({ prefix: "recondo-fleet-" });
    cleanups.push(() => Deno.remove(work, { recursive: true }));

    // Stores and the fake start side by side: Ceph takes ~10 s, PostgreSQL ~2 s.
    const material = makeTestCertificate();
    const fakeCaFile = join(work, "fake-provider-ca.pem");
    await Deno.writeTextFile(fakeCaFile, material.caCert);
    const [postgres, s3, fake] = await Promise.all([
      options.postgres ?? timed(timings, "postgres", () => startPostgres({ maxConnections: 200 })),
      options.s3 ?? timed(timings, "s3", () => startS3()),
      startFakeProvider({ tls: { cert: material.cert, key: material.key }, behavior: options.behavior }),
    ]);
    // Registered in start order, torn down in reverse.
    if (!options.postgres) cleanups.push(() => postgres.close());
    if (!options.s3) cleanups.push(() => s3.close());
    cleanups.push(() => fake.close());
    const dbUrl = await postgres.createDatabase();
    const bucket = await s3.createBucket({ objectLock: true });

    // One CA and one HMAC key for the whole fleet.
    const secrets = dataPaths(join(work, "secrets"));
    await timed(timings, "secrets", async () => {
      await rotateCa(secrets, { domains: [...DEFAULT_INTERCEPT_HOSTS] });
      await loadOrCreateHmacKey(secrets.secretKey);
    });
    const caPem = await Deno.readTextFile(secrets.caCert);
    const source = { caCert: secrets.caCert, caKey: secrets.caKey, hmacKey: secrets.secretKey };

    const configFile = join(work, "recondo.json");
    const writeConfig = (config: Record<string, unknown>) =>
      Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));
    await writeConfig(options.config ?? {});

    const storeEnv: Record<string, string> = {
      RECONDO_STORE: "postgres",
      RECONDO_DB_URL: dbUrl,
      RECONDO_OBJECTS: "s3",
      RECONDO_S3_BUCKET: bucket,
      ...s3.sdkEnv,
    };
    const secretEnv: Record<string, string> = (options.sharedSecrets ?? "env") === "env"
      ? {
        RECONDO_CA_CERT_FILE: source.caCert,
        RECONDO_CA_KEY_FILE: source.caKey,
        RECONDO_HMAC_KEY_FILE: source.hmacKey,
      }
      : {};
    const gatewayEnv = {
      RECONDO_LOG: options.logLevel ?? "warn",
      ...storeEnv,
      ...secretEnv,
      ...options.env,
    };
    const overrides = Object.fromEntries(FLEET_PROVIDER_HOSTS.map((host) => [host, fake.url]));

    const tails: string[][] = Array.from({ length: count }, () => []);
    const launch = async (index: number, dataDir: string, port: number) => {
      const started = await startGatewayProcess({
        overrides,
        extraCaFile: fakeCaFile,
        configFile,
        dataDir,
        port,
        env: gatewayEnv,
        keepLines: 200,
      });
      processes.set(index, started);
      return started;
    };
    /** SIGTERM (drain, waiting as long as the drain takes) or SIGKILL; returns the exit code. */
    const stopProcess = async (index: number, how: "stop" | "crash"): Promise<number | null> => {
      const p = processes.get(index);
      if (!p) return null;
      processes.delete(index);
      let code: number;
      if (how === "stop") {
        p.kill("SIGTERM");
        code = (await p.status).code;
        await p.stop({ keepDataDir: true }); // already exited: collects the last output
      } else {
        await p.crash();
        code = (await p.status).code;
      }
      tails[index].push(...p.logTail(), `--- ${how}: exit ${code} ---`);
      return code;
    };

    const dataDirs = await Promise.all(
      Array.from({ length: count }, (_, i) => Deno.makeTempDir({ dir: work, prefix: `gw${i}-` })),
    );
    if ((options.sharedSecrets ?? "env") !== "env") {
      await Promise.all(dataDirs.map((dir) => seedSecrets(dir, source)));
    }
    const ports = dataDirs.map(() => freePort());
    cleanups.push(async () => {
      await Promise.all([...processes.keys()].map((i) => stopProcess(i, "stop")));
    });
    await timed(timings, "gateways", () => Promise.all(dataDirs.map((dir, i) => launch(i, dir, ports[i]))));
    await timed(
      timings,
      "sharedCaCheck",
      () => Promise.all(ports.map((port) => assertPresentsCa(port, caPem))),
    );

    const checkPath = options.checkPath && options.checkPath !== "auto"
      ? options.checkPath
      : await detectCheckPath(ports[0]);
    const balancer = await timed(timings, "haproxy", () =>
      startHaproxy({
        backends: ports.map((port, i) => ({ name: `gw${i}`, port })),
        checkPath,
        checkIntervalMs: options.checkIntervalMs ?? 200,
        balance: options.balance,
        unixSocket: true,
      }));
    cleanups.push(() => balancer.close());

    const db = openPostgres(dbUrl, { max: 4 });
    cleanups.push(() => db.close());

    const gateways: FleetGateway[] = ports.map((port, index) => ({
      name: `gw${index}`,
      port,
      dataDir: dataDirs[index],
      directUrl: `http://127.0.0.1:${port}`,
      get running() {
        return processes.has(index);
      },
      stop: async () => (await stopProcess(index, "stop")) ?? 0,
      crash: async () => {
        await stopProcess(index, "crash");
      },
      client: (proxyAuth?: string) => {
        const made = Deno.createHttpClient({
          caCerts: [caPem],
          proxy: { url: `http://${proxyAuth ? `${proxyAuth}@` : ""}127.0.0.1:${port}` },
        });
        clients.push(made);
        return made;
      },
      async restart() {
        if (processes.has(index)) throw new Error(`gw${index} is still running; stop or crash it first`);
        await launch(index, dataDirs[index], port);
        await balancer.waitForState({ [`gw${index}`]: "UP" });
      },
      async metrics() {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        if (!res.ok) throw new Error(`gw${index} /metrics answered ${res.status}`);
        return await res.text();
      },
      logTail: () => [...tails[index], ...(processes.get(index)?.logTail() ?? [])],
    }));

    const client = (clientOptions: { proxyAuth?: string } = {}) => {
      const auth = clientOptions.proxyAuth ? `${clientOptions.proxyAuth}@` : "";
      const made = Deno.createHttpClient({
        caCerts: [caPem],
        proxy: { url: `http://${auth}127.0.0.1:${balancer.port}` },
      });
      clients.push(made);
      return made;
    };

    const fleet: Fleet = {
      proxyUrl: balancer.url,
      balancer,
      checkPath,
      gateways,
      fake,
      caFile: secrets.caCert,
      caPem,
      caKeyFile: secrets.caKey,
      hmacKeyFile: secrets.secretKey,
      postgres,
      dbUrl,
      s3,
      bucket,
      db,
      configFile,
      writeConfig,
      storeEnv,
      client,
      async fetch(url, init = {}) {
        const { proxyAuth, ...rest } = init;
        const one = client({ proxyAuth });
        try {
          const res = await fetch(url, { ...rest, client: one });
          // The body is read by the caller; the client closes once it is consumed or on close().
          return res;
        } catch (error) {
          one.close();
          clients.splice(clients.indexOf(one), 1);
          throw error;
        }
      },
      async recondo(args, cliOptions = {}) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["task", "-q", "recondo", ...args],
          cwd: REPO,
          env: {
            ...storeEnv,
            RECONDO_DATA_DIR: cliOptions.dataDir ?? dataDirs[0],
            RECONDO_CONFIG: configFile,
            RECONDO_LOG: "warn",
          },
          stdin: "null",
        }).output();
        const decoder = new TextDecoder();
        return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
      },
      waitFor,
      async waitForTurns(count, where, params = [], timeoutMs) {
        const countTurns = async () => {
          const [row] = await db.query<{ n: number }>(
            `SELECT COUNT(*) AS n FROM turns WHERE ${where}`,
            params,
          );
          return Number(row.n);
        };
        return await waitFor(`${count} turns WHERE ${where}`, async () => {
          const n = await countTurns();
          return n >= count ? n : undefined;
        }, { timeoutMs, describe: async () => `found ${await countTurns()}` });
      },
      timings,
      close,
      [Symbol.asyncDispose]: close,
    };
    return fleet;
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

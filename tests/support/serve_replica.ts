/**
 * One `recondo serve` replica as a child process, attached to a shared PostgreSQL: its own data dir and
 * port, the fleet's HMAC key file (`RECONDO_HMAC_KEY_FILE`), upstream overrides to a test provider, and
 * any extra environment. For tests of several gateways on one control plane.
 * @module
 */
import { freePort } from "./ports.ts";

/** A running replica. */
export interface Replica {
  port: number;
  dataDir: string;
  caPem: string;
  /** A fetch client through this replica, trusting its CA, with `name:token` proxy credentials if given. */
  client(credentials?: string): Deno.HttpClient;
  /** GET on the replica's own port (`/metrics`, `/readyz`, …). */
  get(path: string): Promise<Response>;
  /** The stderr the replica has written so far (JSON log lines). */
  log(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number>;
  /** SIGKILL (a crash): the data dir stays. */
  kill(): Promise<void>;
}

/** Options of {@link startReplica}. */
export interface ReplicaOptions {
  configFile: string;
  dbUrl: string;
  hmacKeyFile: string;
  /** host → origin (RECONDO_UPSTREAM_OVERRIDE). */
  overrides: Record<string, string>;
  env?: Record<string, string>;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Writes a fleet HMAC key (32 bytes, mode 0600) to `path` and returns the path. */
export async function writeFleetKey(path: string): Promise<string> {
  await Deno.writeFile(path, crypto.getRandomValues(new Uint8Array(32)), { mode: 0o600 });
  return path;
}

/** Starts a replica and waits for `/healthz`. */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const dataDir = await Deno.makeTempDir({ prefix: "recondo-replica-" });
  // The port comes from below the kernel's ephemeral range (`ports.ts`), so no outgoing connection takes
  // it before the replica binds it: the fix for the "address in use" exits CI saw, rather than a retry here.
  const started = await spawnReplica(options, dataDir, freePort());
  if (!("child" in started)) throw new Error(`replica did not start: ${started.stderr.slice(-3000)}`);
  return await replicaHandle(started);
}

interface Spawned {
  child: Deno.ChildProcess;
  port: number;
  dataDir: string;
  stderr: () => string;
  reading: Promise<void>;
}

async function spawnReplica(
  options: ReplicaOptions,
  dataDir: string,
  port: number,
): Promise<Spawned | { stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-no-legacy-abort", MAIN, "serve"],
    env: {
      RECONDO_DATA_DIR: dataDir,
      RECONDO_CONFIG: options.configFile,
      RECONDO_LISTEN: `127.0.0.1:${port}`,
      RECONDO_STORE: "postgres",
      RECONDO_DB_URL: options.dbUrl,
      RECONDO_HMAC_KEY_FILE: options.hmacKeyFile,
      RECONDO_UPSTREAM_OVERRIDE: Object.entries(options.overrides).map(([h, o]) => `${h}=${o}`).join(","),
      RECONDO_LOG: "info",
      ...options.env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => (r.body?.cancel(), r.ok), () => false))
  ) {
    const exited = await Promise.race([child.status.then(() => true), Promise.resolve(false)]);
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await child.status;
      await reading.catch(() => {});
      return { stderr };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port, dataDir, stderr: () => stderr, reading };
}

async function replicaHandle(spawned: Spawned): Promise<Replica> {
  const { child, port, dataDir, reading } = spawned;
  const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
  const caPem = await Deno.readTextFile(`${dataDir}/ca/ca.crt`);
  const clients: Deno.HttpClient[] = [];
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    for (const c of clients) c.close();
    await reading.catch(() => {});
  };
  return {
    port,
    dataDir,
    caPem,
    client(credentials) {
      const auth = credentials ? `${credentials}@` : "";
      const client = Deno.createHttpClient({
        caCerts: [caPem],
        proxy: { url: `http://${auth}127.0.0.1:${port}` },
      });
      clients.push(client);
      return client;
    },
    get,
    log: spawned.stderr,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const status = await child.status;
      await end();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      return status.code;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
      await end();
    },
  };
}

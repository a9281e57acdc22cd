/**
 * Runs the gateway exactly as a user would (`deno run … main.ts serve`) as a child process, for the
 * real-agent harness: its own data dir, a listen port, upstream overrides to the fake provider, and the
 * fake's CA as an extra upstream root. Keeps the tail of its stderr (JSON log lines) for diagnosis.
 * @module
 */
import { join } from "node:path";
import { freePort } from "../support/ports.ts";

/** A running gateway child. */
export interface GatewayProcess {
  /** What HTTPS_PROXY is set to, credentials included when `proxyAuth` was given. */
  proxyUrl: string;
  port: number;
  /** The child's process id (for a synchronous SIGKILL from an `unload` handler). */
  pid: number;
  dataDir: string;
  /** `<data dir>/ca/ca.crt`, what the agents must trust. */
  caFile: string;
  /** The last lines the gateway wrote to stderr and stdout. */
  logTail(): string[];
  /** SIGTERM (a clean shutdown); removes the data dir unless `keepDataDir`. */
  stop(options?: { keepDataDir?: boolean }): Promise<void>;
  /** SIGKILL, as a crash: nothing is flushed and the data dir stays for a restart. */
  crash(): Promise<void>;
  /** Sends a signal without waiting (drain tests send SIGTERM mid-stream, and a second one). */
  kill(signal: Deno.Signal): void;
  /** Settles when the process exits. */
  status: Promise<Deno.CommandStatus>;
}

/** Options of {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  /** host → origin pairs for RECONDO_UPSTREAM_OVERRIDE. */
  overrides: Record<string, string>;
  /** PEM file of extra upstream roots (the fake's CA), as RECONDO_EXTRA_CA_CERTS. */
  extraCaFile?: string;
  /** A config file for the gateway (RECONDO_CONFIG); default: none, the gateway's defaults. */
  configFile?: string;
  /** `name:token`: put into `proxyUrl` as userinfo, so clients send Proxy-Authorization. */
  proxyAuth?: string;
  /** How long to wait for /healthz (default 60 s: the first start may compile and load npm modules). */
  readyTimeoutMs?: number;
  /** Lines of output to keep (default 60). */
  keepLines?: number;
  /** Reuse this data dir (a restart after `crash()`); default: a fresh temp dir. */
  dataDir?: string;
  /** More arguments after `serve --listen …`, e.g. `["--ui-listen", "127.0.0.1:0"]`. */
  extraArgs?: string[];
  /** Listen on this port (a restart behind a balancer keeps its address); default: a free one. */
  port?: number;
  /** More environment for the child (capture stores, shared secrets, log level); wins over the above. */
  env?: Record<string, string>;
}

const MAIN_TS = new URL("../../main.ts", import.meta.url).pathname;

async function keepTail(stream: ReadableStream<Uint8Array>, tail: string[], keep: number): Promise<void> {
  // Cast: with preact's DOM lib in the same program, TextDecoderStream's writable type widens to BufferSource.
  const lines = stream.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>);
  let partial = "";
  for await (const text of lines) {
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    tail.push(...parts.filter((line) => line.trim() !== ""));
    if (tail.length > keep) tail.splice(0, tail.length - keep);
  }
  if (partial.trim() !== "") tail.push(partial);
}

/** Starts `main.ts serve` and resolves once `/healthz` answers 200. */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "recondo-agents-gw-" });
  const port = options.port ?? freePort();
  const env: Record<string, string> = {
    RECONDO_DATA_DIR: dataDir,
    RECONDO_LISTEN: `127.0.0.1:${port}`,
    RECONDO_UPSTREAM_OVERRIDE: Object.entries(options.overrides).map(([host, origin]) => `${host}=${origin}`)
      .join(","),
  };
  if (options.extraCaFile) env.RECONDO_EXTRA_CA_CERTS = options.extraCaFile;
  if (options.configFile) env.RECONDO_CONFIG = options.configFile;
  Object.assign(env, options.env);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-no-legacy-abort",
      MAIN_TS,
      "serve",
      "--listen",
      `127.0.0.1:${port}`,
      ...options.extraArgs ?? [],
    ],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const keep = options.keepLines ?? 60;
  const drained = Promise.all([keepTail(child.stdout, tail, keep), keepTail(child.stderr, tail, keep)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  const stop = async (stopOptions: { keepDataDir?: boolean } = {}) => {
    if (!exited) child.kill("SIGTERM");
    const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 5000);
    await status;
    clearTimeout(timer);
    await drained;
    if (!stopOptions.keepDataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (true) {
    if (exited) {
      const s = await status;
      await drained;
      if (!options.dataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      throw new Error(`Gateway exited with code ${s.code} before answering /healthz:\n${tail.join("\n")}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop({ keepDataDir: options.dataDir !== undefined });
      throw new Error(
        `Gateway did not answer /healthz on port ${port} within ${options.readyTimeoutMs ?? 60_000} ms:\n${
          tail.join("\n")
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    proxyUrl: `http://${options.proxyAuth ? `${options.proxyAuth}@` : ""}127.0.0.1:${port}`,
    port,
    pid: child.pid,
    dataDir,
    caFile: join(dataDir, "ca", "ca.crt"),
    logTail: () => [...tail],
    stop,
    crash: async () => {
      if (!exited) child.kill("SIGKILL");
      await status;
      await drained;
    },
    kill: (signal) => {
      if (!exited) child.kill(signal);
    },
    status,
  };
}

/**
 * Starts what the benchmark measures: the Node HTTPS upstream, Recondo (`main.ts serve` on the real deno
 * binary), `mitmdump` and squid with ssl-bump, each as its own process in the run's `ProcessGroup`.
 * @module
 */
import { dirname, join } from "node:path";
import { makeTestCertificate } from "../tests/fake_provider/tls.ts";
import { freePort, type ProcessGroup, type Service, waitUntil } from "./processes.ts";
import { CERTGEN, renderSquidConf, renderSquidHosts, squidSslDb } from "./squid_conf.ts";

const SQUID = "/usr/sbin/squid";

const ROOT = new URL("../", import.meta.url).pathname;
export const HOST = "api.anthropic.com";

/** A proxy under test: where clients point `HTTPS_PROXY`, the CA they must trust, and its pid. */
export interface Proxy {
  name: string;
  url: string;
  caPem: string;
  service: Service;
  /** The `host:port` clients ask it to CONNECT to, when not `api.anthropic.com:443` (squid). */
  connectTo?: string;
}

/**
 * The deno executable itself. `Deno.execPath()` is it when deno was installed with its install script;
 * when `deno` on PATH is npm's Node wrapper, the binary lives in `@deno/linux-x64-glibc` under the global
 * npm root. Benchmarking through the wrapper would add a Node process to every measurement.
 */
export async function realDenoBinary(): Promise<string> {
  const candidates = [Deno.execPath()];
  try {
    const out = await new Deno.Command("npm", { args: ["root", "-g"], stderr: "null" }).output();
    const root = new TextDecoder().decode(out.stdout).trim();
    candidates.push(
      join(root, "deno", "node_modules", "@deno", "linux-x64-glibc", "deno"),
      join(root, "@deno", "linux-x64-glibc", "deno"),
    );
  } catch {
    // no npm: only execPath is a candidate
  }
  for (const path of candidates) {
    try {
      const file = await Deno.open(path);
      const magic = new Uint8Array(4);
      await file.read(magic);
      file.close();
      if (magic[0] === 0x7f && magic[1] === 0x45 && magic[2] === 0x4c && magic[3] === 0x46) return path;
    } catch {
      // not there
    }
  }
  throw new Error(`Cannot find the deno ELF binary; tried ${candidates.join(", ")}`);
}

/** The Node HTTPS upstream serving `cert`/`key` (valid for 127.0.0.1 and api.anthropic.com). */
/** The upstream's certificate (for 127.0.0.1 and the intercepted host) written under `dir` with `prefix`. */
export async function writeUpstreamCertificate(
  dir: string,
  prefix: string,
): Promise<{ caPem: string; files: { cert: string; key: string; ca: string } }> {
  const material = makeTestCertificate(["127.0.0.1", HOST]);
  const files = {
    cert: join(dir, `${prefix}.crt`),
    key: join(dir, `${prefix}.key`),
    ca: join(dir, `${prefix}-ca.crt`),
  };
  await Deno.writeTextFile(files.cert, material.cert);
  await Deno.writeTextFile(files.key, material.key);
  await Deno.writeTextFile(files.ca, material.caCert);
  return { caPem: material.caCert, files };
}

export async function startUpstream(
  group: ProcessGroup,
  files: { cert: string; key: string },
  env?: Record<string, string>,
): Promise<{ port: number; service: Service }> {
  const service = group.spawn("upstream", "node", {
    args: [join(ROOT, "bench", "upstream.mjs"), files.cert, files.key],
    env,
  });
  const line = await service.nextJson(10_000) as { port: number };
  service.drainStdout();
  return { port: line.port, service };
}

export interface RecondoOptions {
  deno: string;
  /** `serve`: `main.ts serve` (capture on); `proxy-only`: bench/gateway_only.ts (capture off). */
  variant: "serve" | "proxy-only";
  upstreamPort: number;
  upstreamCaFile: string;
  dataDir: string;
  /** Directory for a V8 CPU profile (written on exit), or null. */
  cpuProfileDir: string | null;
  /** More environment for the gateway (e.g. `RECONDO_STORE`, `RECONDO_DB_URL`). */
  env?: Record<string, string>;
  /** Another entry module instead of `main.ts serve` (a debug wrapper around it), relative to the repo. */
  entry?: string[];
}

/** `deno run main.ts serve` (or the proxy-only entry) with the upstream override; resolves once `/healthz` answers. */
export async function startRecondo(group: ProcessGroup, options: RecondoOptions): Promise<Proxy> {
  const port = freePort();
  const profile = options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const entry = options.entry ??
    (options.variant === "serve" ? ["main.ts", "serve"] : ["bench/gateway_only.ts"]);
  const name = options.variant === "serve" ? "Recondo" : "Recondo, capture off";
  const service = group.spawn(name, options.deno, {
    cwd: ROOT,
    args: [
      "run",
      "--allow-all",
      "--unstable-no-legacy-abort",
      ...profile,
      ...entry,
      "--listen",
      `127.0.0.1:${port}`,
    ],
    env: {
      RECONDO_DATA_DIR: options.dataDir,
      RECONDO_LOG: "warn",
      RECONDO_EXTRA_CA_CERTS: options.upstreamCaFile,
      RECONDO_UPSTREAM_OVERRIDE: `${HOST}=https://127.0.0.1:${options.upstreamPort}`,
      ...options.env,
    },
  });
  service.drainStdout();
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      if (service.exitCode() !== null) {
        throw new Error(`${name} exited with code ${service.exitCode()}: ${service.stderrTail()}`);
      }
      return await fetch(`${url}/healthz`).then((r) => r.text()).then(() => true).catch(() => false);
    },
    60_000,
    () => `${name} did not answer ${url}/healthz within 60 s; stderr: ${service.stderrTail()}`,
  );
  const caPem = await Deno.readTextFile(join(options.dataDir, "ca", "ca.crt"));
  return { name, url, caPem, service };
}

/**
 * Makes sure the peer proxies are installed: runs scripts/install_bench_peers.sh (idempotent; apt-get
 * only for what is missing) and reports, per peer, whether its binary is there afterwards.
 */
export async function ensureBenchPeers(): Promise<Record<"mitmdump" | "squid", PeerAvailability>> {
  const script = join(ROOT, "scripts", "install_bench_peers.sh");
  const install = await new Deno.Command("bash", { args: [script], stdout: "null", stderr: "piped" }).output()
    .catch((error: Error) => ({ success: false, stderr: new TextEncoder().encode(error.message) }));
  const failure = install.success
    ? ""
    : `: ${script} failed: ${
      new TextDecoder().decode(install.stderr).trim().split("\n").slice(-2).join(" ")
    }`;
  const runs = (command: string, args: string[]) =>
    new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output().then((o) => o.success)
      .catch(() => false);
  const check = (name: string, ok: boolean): PeerAvailability =>
    ok ? { ok: true } : { ok: false, reason: `${name} is not installed${failure}` };
  return {
    mitmdump: check("mitmdump", await runs("mitmdump", ["--version"])),
    squid: check("squid", await runs(SQUID, ["-v"]) && await exists(CERTGEN)),
  };
}

/** Whether a peer can be started, or why not. */
export type PeerAvailability = { ok: true } | { ok: false; reason: string };

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * `mitmdump` with a fresh confdir. Its addon `mitm_resolve.py` sends connections for api.anthropic.com
 * to the local upstream once per upstream connection, so the client's traffic (CONNECT api.anthropic.com,
 * SNI, Host) is the same as through Recondo.
 */
export async function startMitmdump(
  group: ProcessGroup,
  options: { upstreamPort: number; confDir: string },
): Promise<Proxy> {
  const port = freePort();
  const service = group.spawn("mitmdump", "mitmdump", {
    args: [
      "-p",
      String(port),
      "--listen-host",
      "127.0.0.1",
      "--set",
      `confdir=${options.confDir}`,
      "--set",
      "ssl_insecure=true",
      "-q",
      "-s",
      join(ROOT, "bench", "mitm_resolve.py"),
    ],
    env: { BENCH_HOST: HOST, BENCH_UPSTREAM: `127.0.0.1:${options.upstreamPort}` },
  });
  service.drainStdout();
  const caFile = join(options.confDir, "mitmproxy-ca-cert.pem");
  await waitUntil(
    async () => {
      if (service.exitCode() !== null) {
        throw new Error(`mitmdump exited with code ${service.exitCode()}: ${service.stderrTail()}`);
      }
      try {
        await Deno.stat(caFile);
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    () => `mitmdump did not listen on ${port} within 30 s; stderr: ${service.stderrTail()}`,
  );
  return {
    name: "mitmdump",
    url: `http://127.0.0.1:${port}`,
    caPem: await Deno.readTextFile(caFile),
    service,
  };
}

/**
 * squid (Debian `squid-openssl`) with ssl-bump, configured by bench/squid_conf.ts, as its own instance: a
 * state directory owned by `proxy`, a fresh certificate database, a CA of its own and a service name
 * unique to this run (`squid -N -n <name>`), so leftover shared memory from another run cannot stop it.
 * `squid -N` stays in the foreground as the spawned pid; its certificate helpers are its children (count
 * them with `procTreeStats`). Clients CONNECT to `api.anthropic.com:<upstream port>` (see `renderSquidConf`).
 */
export async function startSquid(
  group: ProcessGroup,
  options: { upstreamPort: number; upstreamCaFile: string; stateDir: string },
): Promise<Proxy> {
  const port = freePort();
  const stateDir = options.stateDir;
  await Deno.mkdir(stateDir, { recursive: true });
  // squid drops to `proxy` after reading its configuration; that user must reach the state directory.
  await Deno.chmod(dirname(stateDir), 0o711);
  const ca = makeTestCertificate(["recondo-bench-squid"]);
  const files = {
    caCert: join(stateDir, "ca.pem"),
    caKey: join(stateDir, "ca.key"),
    upstreamCa: join(stateDir, "upstream-ca.pem"),
    conf: join(stateDir, "squid.conf"),
    hosts: join(stateDir, "hosts"),
  };
  await Deno.writeTextFile(files.caCert, ca.caCert);
  await Deno.writeTextFile(files.caKey, ca.key, { mode: 0o600 });
  await Deno.copyFile(options.upstreamCaFile, files.upstreamCa);
  const conf = {
    port,
    stateDir,
    caCertFile: files.caCert,
    caKeyFile: files.caKey,
    upstream: { host: "127.0.0.1", port: options.upstreamPort, caFile: files.upstreamCa },
    interceptedHost: HOST,
  };
  await Deno.writeTextFile(files.conf, renderSquidConf(conf));
  await Deno.writeTextFile(files.hosts, renderSquidHosts(conf));
  await run(CERTGEN, ["-c", "-s", squidSslDb(stateDir), "-M", "16MB"]);
  await run("chown", ["-R", "proxy:proxy", stateDir]);
  const name = `recondobench${Deno.pid}p${port}`; // squid allows letters and digits only
  const service = group.spawn("squid", SQUID, { args: ["-N", "-n", name, "-f", files.conf] });
  service.drainStdout();
  await waitUntil(
    async () => {
      if (service.exitCode() !== null) {
        const log = await Deno.readTextFile(join(stateDir, "cache.log")).catch(() => "");
        throw new Error(
          `squid exited with code ${service.exitCode()}: ${service.stderrTail()} ${log.slice(-1500)}`,
        );
      }
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    () => `squid did not listen on ${port} within 30 s; stderr: ${service.stderrTail()}`,
  );
  return {
    name: "squid",
    url: `http://127.0.0.1:${port}`,
    caPem: ca.caCert,
    service,
    connectTo: `${HOST}:${options.upstreamPort}`,
  };
}

async function run(command: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) || new TextDecoder().decode(out.stdout);
    throw new Error(`${command} ${args.join(" ")} failed with code ${out.code}: ${text.trim()}`);
  }
}

/**
 * Starts what the benchmark measures: the Node HTTPS upstream, Recondo (`main.ts serve` on the real deno
 * binary) and `mitmdump`, each as its own process in the run's `ProcessGroup`.
 * @module
 */
import { join } from "node:path";
import { makeTestCertificate } from "../tests/fake_provider/tls.ts";
import { freePort, type ProcessGroup, type Service, waitUntil } from "./processes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
export const HOST = "api.anthropic.com";

/** A proxy under test: where clients point `HTTPS_PROXY`, the CA they must trust, and its pid. */
export interface Proxy {
  name: string;
  url: string;
  caPem: string;
  service: Service;
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

/** Whether `mitmdump` is on PATH; tries `apt-get install -y mitmproxy` once when it is not. */
export async function ensureMitmdump(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const has =
    async () => (await new Deno.Command("mitmdump", { args: ["--version"], stdout: "null", stderr: "null" })
      .output()
      .then((o) => o.success).catch(() => false));
  if (await has()) return { ok: true };
  const install = await new Deno.Command("apt-get", {
    args: ["install", "-y", "-q", "mitmproxy"],
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "null",
    stderr: "piped",
  }).output().catch((error: Error) => ({ success: false, stderr: new TextEncoder().encode(error.message) }));
  if (install.success && await has()) return { ok: true };
  const reason = new TextDecoder().decode(install.stderr).trim().split("\n").slice(-2).join(" ");
  return { ok: false, reason: `mitmdump is not installed and apt-get install mitmproxy failed: ${reason}` };
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

/**
 * Debian's `haproxy` (2.6) as the fleet's single proxy address in tests: TCP mode (CONNECT and the TLS
 * inside it pass through untouched, one client connection stays on one gateway), round-robin or
 * least-connections over N gateway backends, HTTP health checks on each backend's readiness path every
 * `checkIntervalMs` so a draining or dead replica leaves rotation within about a second, and a connect
 * that fails is re-dispatched to another backend (`retries` + `option redispatch`). Runs in the
 * foreground (`-db`) as a child of the test process and is killed on close — and on unload, so a failed
 * test does not leave it behind. Backend states come from the admin socket (`show stat`).
 * @example
 * await using lb = await startHaproxy({ backends: [{ name: "gw0", port: 8443 }, { name: "gw1", port: 8444 }] });
 * await lb.waitForState({ gw0: "UP", gw1: "UP" });
 * // HTTPS_PROXY=lb.url
 * @module
 */
import { join } from "node:path";
import { freePort } from "./ports.ts";

/** One backend server: a gateway's proxy port on loopback. */
export interface HaproxyBackend {
  /** Server name in haproxy's config and stats, e.g. `gw0`. */
  name: string;
  port: number;
  host?: string;
}

/** Options of {@link startHaproxy}. */
export interface HaproxyOptions {
  backends: HaproxyBackend[];
  /** Path of the HTTP health check (`GET <path>`, 200 = in rotation); default `/readyz`. */
  checkPath?: string;
  /** Milliseconds between checks, in every state (`inter`, `fastinter`, `downinter`); default 200. */
  checkIntervalMs?: number;
  /** Failed checks before a backend is DOWN (default 2) and passed ones before it is UP again (default 1). */
  fall?: number;
  rise?: number;
  /** default `roundrobin`. */
  balance?: "roundrobin" | "leastconn";
  /**
   * Also listen on a Unix socket in the work dir. A path-based Unix socket is visible from inside another
   * network namespace (`unshare -n`), where 127.0.0.1 is not ours: a client there reaches the balancer
   * through a small TCP→Unix bridge (see tests/agents/run_via_socket.ts).
   */
  unixSocket?: boolean;
  /** Backends' states to wait for before resolving (default: every backend UP). */
  ready?: "all-up" | "none";
  /** How long to wait for that (default 15 s). */
  readyTimeoutMs?: number;
}

/** A backend's state as haproxy reports it: `UP`, `DOWN`, `MAINT`, `UP 1/2` (going down), `DOWN 1/2`, `NOLB`. */
export type BackendState = string;

/** A running balancer. */
export interface Haproxy extends AsyncDisposable {
  /** The frontend's port on 127.0.0.1. */
  port: number;
  /** `http://127.0.0.1:PORT`: the value for HTTPS_PROXY (add `user:token@` for proxy authentication). */
  url: string;
  /** The frontend's Unix socket path, when `unixSocket` was asked for. */
  unixPath?: string;
  /** The generated haproxy.cfg, for diagnosis. */
  configText: string;
  /** Each backend's state, by name, from `show stat`. */
  states(): Promise<Record<string, BackendState>>;
  /** Resolves once every named backend is in the wanted state (`UP` / `DOWN` / `MAINT`); throws at the deadline. */
  waitForState(wanted: Record<string, "UP" | "DOWN" | "MAINT">, timeoutMs?: number): Promise<void>;
  /** Sessions (connections) each backend has served so far (`stot`). */
  servedConnections(): Promise<Record<string, number>>;
  /** One command on the admin socket (e.g. `disable server gateways/gw1`); returns its answer. */
  command(line: string): Promise<string>;
  /** The last lines haproxy wrote (alerts and warnings). */
  logTail(): string[];
  close(): Promise<void>;
}

const HAPROXY = "/usr/sbin/haproxy";

/** Fails loudly, with the install command, unless haproxy is installed (never a silent skip). */
export function requireHaproxy(): void {
  if (!haproxyAvailable()) {
    throw new Error(
      `${HAPROXY} is missing: run bash scripts/install_test_services.sh (needs root; \`deno task test\` runs it before the tests)`,
    );
  }
}

/** Whether Debian's haproxy is installed (scripts/install_test_services.sh). */
export function haproxyAvailable(): boolean {
  try {
    return Deno.statSync(HAPROXY).isFile;
  } catch {
    return false;
  }
}

/** The haproxy.cfg for `options`, with the admin socket and (optionally) the Unix frontend in `dir`. */
export function haproxyConfig(
  options: HaproxyOptions & { port: number; dir: string },
): string {
  const inter = options.checkIntervalMs ?? 200;
  const checkPath = options.checkPath ?? "/readyz";
  const servers = options.backends.map((b) => `  server ${b.name} ${b.host ?? "127.0.0.1"}:${b.port} check`);
  return [
    "global",
    `  stats socket ${join(options.dir, "admin.sock")} mode 600 level admin`,
    "  maxconn 4096",
    "  log stderr format raw local0 notice",
    "",
    "defaults",
    "  mode tcp",
    "  log global",
    "  timeout connect 2s",
    // A 60 s stream and an agent's idle keep-alive connection must both outlive these.
    "  timeout client 5m",
    "  timeout server 5m",
    "  timeout tunnel 1h",
    "  timeout check 1s",
    // A connect refused by a replica that died before its checks failed goes to another one.
    "  retries 3",
    "  option redispatch 1",
    "",
    "frontend fleet",
    `  bind 127.0.0.1:${options.port}`,
    ...(options.unixSocket ? [`  bind unix@${join(options.dir, "proxy.sock")} mode 666`] : []),
    "  default_backend gateways",
    "",
    "backend gateways",
    `  balance ${options.balance ?? "roundrobin"}`,
    "  option httpchk",
    `  http-check send meth GET uri ${checkPath} ver HTTP/1.1 hdr Host localhost`,
    "  http-check expect status 200",
    `  default-server inter ${inter}ms fastinter ${inter}ms downinter ${inter}ms fall ${
      options.fall ?? 2
    } rise ${options.rise ?? 1}`,
    ...servers,
    "",
  ].join("\n");
}

async function adminCommand(socketPath: string, line: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  try {
    await conn.write(new TextEncoder().encode(`${line}\n`));
    // Without `prompt` mode haproxy answers one command and closes the connection.
    return await new Response(conn.readable).text();
  } catch (error) {
    try {
      conn.close();
    } catch {
      // already closed by the readable's end
    }
    throw error;
  }
}

/** Parses `show stat` CSV into rows keyed by column name. */
function parseStat(csv: string): Record<string, string>[] {
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0 || !lines[0].startsWith("# ")) {
    throw new Error(`Unexpected answer to "show stat": ${csv.slice(0, 200)}`);
  }
  const header = lines[0].slice(2).split(",");
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    return Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ""]));
  });
}

async function keepTail(stream: ReadableStream<Uint8Array>, tail: string[]): Promise<void> {
  const lines = stream.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>);
  for await (const text of lines) {
    tail.push(...text.split("\n").filter((l) => l.trim() !== ""));
    if (tail.length > 200) tail.splice(0, tail.length - 200);
  }
}

/** Starts haproxy in front of `options.backends` and resolves once they are UP (see `ready`). */
export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  if (options.backends.length === 0) throw new RangeError("startHaproxy needs at least one backend");
  const dir = await Deno.makeTempDir({ prefix: "recondo-haproxy-" });
  const port = freePort();
  const configText = haproxyConfig({ ...options, port, dir });
  const configFile = join(dir, "haproxy.cfg");
  await Deno.writeTextFile(configFile, configText);
  const check = await new Deno.Command(HAPROXY, { args: ["-c", "-q", "-f", configFile] }).output();
  if (!check.success) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(
      `haproxy rejected its config: ${new TextDecoder().decode(check.stderr).slice(-1500)}\n${configText}`,
    );
  }
  const child = new Deno.Command(HAPROXY, {
    args: ["-db", "-f", configFile],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const drained = Promise.all([keepTail(child.stdout, tail), keepTail(child.stderr, tail)]);
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const killSync = () => {
    if (exited) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };
  // A test that throws before close() must not leave haproxy running behind the test process.
  globalThis.addEventListener("unload", killSync);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    globalThis.removeEventListener("unload", killSync);
    if (!exited) child.kill("SIGTERM");
    const timer = setTimeout(killSync, 3000);
    await status;
    clearTimeout(timer);
    await drained;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const adminPath = join(dir, "admin.sock");
  const command = (line: string) => adminCommand(adminPath, line);
  const servers = async () =>
    parseStat(await command("show stat")).filter((r) => r.pxname === "gateways" && r.svname !== "BACKEND");
  const states = async () => Object.fromEntries((await servers()).map((r) => [r.svname, r.status]));
  const waitForState = async (wanted: Record<string, "UP" | "DOWN" | "MAINT">, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, string> = {};
    for (;;) {
      if (exited) throw new Error(`haproxy exited:\n${tail.join("\n")}`);
      last = await states().catch(() => ({}));
      if (Object.entries(wanted).every(([name, state]) => last[name] === state)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `haproxy backends did not reach ${JSON.stringify(wanted)} within ${timeoutMs} ms: ${
            JSON.stringify(last)
          }\n${tail.slice(-20).join("\n")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const lb: Haproxy = {
    port,
    url: `http://127.0.0.1:${port}`,
    unixPath: options.unixSocket ? join(dir, "proxy.sock") : undefined,
    configText,
    states,
    waitForState,
    servedConnections: async () =>
      Object.fromEntries((await servers()).map((r) => [r.svname, Number(r.stot)])),
    command,
    logTail: () => [...tail],
    close,
    [Symbol.asyncDispose]: close,
  };
  try {
    // The admin socket exists once haproxy parsed its config and bound its listeners.
    const deadline = Date.now() + 10_000;
    while (!(await states().then(() => true, () => false))) {
      if (exited || Date.now() > deadline) throw new Error(`haproxy did not start:\n${tail.join("\n")}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    if ((options.ready ?? "all-up") === "all-up") {
      await waitForState(
        Object.fromEntries(options.backends.map((b) => [b.name, "UP" as const])),
        options.readyTimeoutMs,
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return lb;
}

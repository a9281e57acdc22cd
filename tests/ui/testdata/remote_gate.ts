/**
 * Runs inside `unshare -n` (tests/ui/ui_remote_gate_test.ts): brings up loopback and a veth interface with
 * a private address, starts `recondo serve` on 0.0.0.0, and reports what a client at that address and one on
 * loopback get from the proxy port. Prints one JSON line.
 */
import { join } from "node:path";
import { freePort } from "../../support/ports.ts";

const MAIN = new URL("../../../main.ts", import.meta.url).pathname;
const REMOTE = "10.77.0.1";

async function run(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

async function status(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { redirect: "manual" });
  return { status: response.status, body: (await response.text()).slice(0, 300) };
}

/** A CONNECT from `REMOTE` through the proxy to a local echo server (a blind tunnel): what comes back. */
async function tunnelEcho(proxyPort: number): Promise<string> {
  const echo = Deno.listen({ hostname: REMOTE, port: 0 });
  const echoPort = (echo.addr as Deno.NetAddr).port;
  (async () => {
    for await (const conn of echo) conn.readable.pipeTo(conn.writable).catch(() => {});
  })();
  const conn = await Deno.connect({ hostname: REMOTE, port: proxyPort });
  const enc = new TextEncoder(), dec = new TextDecoder();
  await conn.write(
    enc.encode(`CONNECT ${REMOTE}:${echoPort} HTTP/1.1\r\nHost: ${REMOTE}:${echoPort}\r\n\r\n`),
  );
  const buf = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    head += dec.decode(buf.subarray(0, n));
  }
  if (!head.startsWith("HTTP/1.1 200")) return `refused: ${head.split("\r\n")[0]}`;
  await conn.write(enc.encode("ping"));
  const n = await conn.read(buf);
  conn.close();
  echo.close();
  return n === null ? "" : dec.decode(buf.subarray(0, n));
}

await run("ip", "link", "set", "lo", "up");
// A veth pair made inside the namespace (no dummy driver on every kernel); nothing is attached beyond it.
await run("ip", "link", "add", "rg0", "type", "veth", "peer", "name", "rg1");
await run("ip", "addr", "add", `${REMOTE}/24`, "dev", "rg0");
await run("ip", "link", "set", "rg0", "up");
await run("ip", "link", "set", "rg1", "up");

const dataDir = await Deno.makeTempDir({ prefix: "recondo-remote-gate-" });
const port = freePort();
const serve = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-all", "--unstable-no-legacy-abort", MAIN, "serve"],
  env: { RECONDO_DATA_DIR: dataDir, RECONDO_LISTEN: `0.0.0.0:${port}`, RECONDO_LOG: "warn" },
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
let log = "";
const reading = (async () => {
  for await (const chunk of serve.stderr.pipeThrough(new TextDecoderStream())) log += chunk;
})();
try {
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => (r.body?.cancel(), r.ok), () => false))
  ) {
    if (Date.now() > deadline) throw new Error(`serve did not start: ${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const result = {
    loopbackLogin: await status(`http://127.0.0.1:${port}/login`),
    remoteLogin: await status(`http://${REMOTE}:${port}/login`),
    remotePost: await fetch(`http://${REMOTE}:${port}/login`, {
      method: "POST",
      body: new URLSearchParams({ user: "admin", password: "x" }),
      redirect: "manual",
    }).then(async (r) => ({ status: r.status, body: (await r.text()).slice(0, 100) })),
    remoteHealth: await status(`http://${REMOTE}:${port}/healthz`),
    remoteMetrics: (await status(`http://${REMOTE}:${port}/metrics`)).status,
    remoteTunnel: await tunnelEcho(port),
  };
  console.log(JSON.stringify(result));
} finally {
  serve.kill("SIGKILL");
  await serve.status;
  await reading.catch(() => {});
  await Deno.remove(join(dataDir), { recursive: true }).catch(() => {});
}

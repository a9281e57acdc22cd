/**
 * The image's HEALTHCHECK: `GET /healthz` on the gateway's own port (from `RECONDO_LISTEN`, a wildcard host
 * asked on loopback); exits 0 on 200, 1 otherwise. A Deno script because the runtime image has no curl.
 * @module
 */
const listen = Deno.env.get("RECONDO_LISTEN") ?? "127.0.0.1:8443";
const port = listen.slice(listen.lastIndexOf(":") + 1);
let host = listen.slice(0, listen.lastIndexOf(":"));
if (host === "" || host === "0.0.0.0" || host === "[::]") host = "127.0.0.1";
try {
  const res = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(4000) });
  await res.body?.cancel();
  Deno.exit(res.status === 200 ? 0 : 1);
} catch {
  Deno.exit(1);
}

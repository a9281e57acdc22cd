/**
 * Recondo's gateway exactly as `recondo serve` assembles it (front door, TLS interception, inner server,
 * provider parsers, policy chain, upstream client) but with capture off (the null sink). The benchmark
 * runs it next to the full `serve` so the table separates what the proxy path costs from what capture
 * (hashing, gzip, SQLite, object files) costs.
 *
 *   deno run -A --unstable-no-legacy-abort bench/gateway_only.ts --listen 127.0.0.1:PORT
 *
 * Reads `RECONDO_DATA_DIR`, `RECONDO_UPSTREAM_OVERRIDE` and `RECONDO_EXTRA_CA_CERTS` like `serve`.
 * @module
 */
import { join } from "node:path";
import { providerParsers } from "../cli/wiring.ts";
import { startGateway } from "../proxy/gateway.ts";

if (import.meta.main) {
  const at = Deno.args.indexOf("--listen");
  const listen = at >= 0 ? Deno.args[at + 1] : undefined;
  const dataDir = Deno.env.get("RECONDO_DATA_DIR");
  if (!listen || !dataDir) {
    console.error("gateway_only: needs --listen HOST:PORT and RECONDO_DATA_DIR");
    Deno.exit(2);
  }
  const gateway = await startGateway({
    dataDir,
    configPath: join(dataDir, "recondo.json"),
    listen,
    parsers: providerParsers,
    watch: false,
  });
  console.log(JSON.stringify({ proxy: gateway.proxyUrl }));
  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGINT", resolve);
    Deno.addSignalListener("SIGTERM", resolve);
  });
  await gateway.close();
  Deno.exit(0);
}
